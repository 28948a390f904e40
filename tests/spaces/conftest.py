"""Fixtures of the Space tests: the real app served on 127.0.0.1 in this process, and scripted
OpenAI-compatible stub models (tests/visplotbench/stub_openai.py) that fail once and then fix."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPACE = ROOT / "spaces" / "viscoder2"
for path in (SPACE, ROOT / "tests" / "visplotbench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from stub_openai import StubOpenAI  # noqa: E402
from visplotbench.tasks import load_bundled  # noqa: E402

SECRET = "sk-viscoder2-test-secret-5f1c9e"  # the operator's key in these tests: it must never leak
BROKEN = {
    "python": "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nundefined_name_here()\n",
    "vegalite": '{"mark": "bar",, "encoding": {}}',
    "svg": "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'><rect></svg>",
}


def fail_then_fix(language: str, delay_s: float = 0.0, always_fail: bool = False) -> Any:
    """A stub script: broken code in round 0, the task's reference solution from round 1 on.

    The task is found by its description in the first user turn; a visitor's own instruction gets the
    first bundled task's solution.
    """
    tasks = load_bundled(language)

    def script(body: dict[str, Any], call: int) -> str:
        if delay_s:
            time.sleep(delay_s)
        messages = body["messages"]
        first_user = next(m["content"] for m in messages if m["role"] == "user")
        task = next((t for t in tasks if t.task__plot_description in first_user), tasks[0])
        round_ = sum(m["role"] == "assistant" for m in messages)
        code = BROKEN[language] if round_ == 0 or always_fail else task.code
        return f"Here is the program.\n```{language}\n{code}\n```\n"

    return script


@pytest.fixture(scope="session")
def resources() -> Iterator[Any]:
    """One set of app resources (render pool, sandbox check) for every test of the session."""
    os.environ["VISCODER2_TEST_KEY"] = SECRET
    from viscoder2_space import Resources, SpaceConfig

    res = Resources(SpaceConfig(api_key_env="VISCODER2_TEST_KEY", runs_dir=str(_runs_dir())))
    assert res.sandbox.ok, f"the sandbox must work on the test machine: {res.sandbox.message}"
    yield res
    res.close()


def _runs_dir() -> Path:
    """The folder of replayable run folders, one per test session."""
    if not os.environ.get("VISCODER2_TEST_RUNS"):
        import tempfile

        os.environ["VISCODER2_TEST_RUNS"] = tempfile.mkdtemp(prefix="viscoder2-runs-")
    return Path(os.environ["VISCODER2_TEST_RUNS"])


@pytest.fixture(scope="session")
def runs_dir() -> Path:
    return _runs_dir()


class Served:
    """The app served by gradio on 127.0.0.1 in a background thread."""

    def __init__(self, demo: Any, url: str) -> None:
        self.demo, self.url = demo, url.rstrip("/") + "/"


@pytest.fixture(scope="session")
def served(resources: Any) -> Iterator[Served]:
    from viscoder2_space import build_app

    demo = build_app(resources)
    _, url, _ = demo.launch(
        server_name="127.0.0.1",
        prevent_thread_lock=True,
        allowed_paths=[str(demo.work_root)],
        quiet=True,
    )
    yield Served(demo, url)
    demo.close()


@pytest.fixture()
def stub_for() -> Iterator[Any]:
    """``stub_for(script)`` starts a stub model server; all are closed after the test."""
    started: list[StubOpenAI] = []

    def start(script: Any) -> StubOpenAI:
        stub = StubOpenAI(script).start()
        started.append(stub)
        return stub

    yield start
    for stub in started:
        stub.close()
