"""Constants and stub scripts shared by the VisCoder2 Space tests (a module name no other test folder
uses, so ``from space_helpers import ...`` finds this file however pytest collects the suite)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SPACE = ROOT / "spaces" / "viscoder2"
for _path in (SPACE, ROOT / "tests" / "visplotbench"):
    if str(_path) not in sys.path:
        sys.path.append(str(_path))  # appended: a folder's conftest.py must never shadow another's

SECRET = "sk-viscoder2-test-secret-5f1c9e"  # the operator's key in these tests: it must never leak
# The values the /self_debug endpoint returns, in order: summary, message, then the 6 (round 0 and up to 5
# self-debug rounds) of each per-round component (the round boxes are layout: the client gets no value
# for them), then the final outputs.
N_ROUNDS = 5 + 1
SUMMARY, MESSAGE = 0, 1
HEADS, REPLIES, CODES, ERRORS, GALLERIES = (2 + N_ROUNDS * k for k in range(5))
FINAL, REFERENCE, METRICS, DOWNLOAD_JSON, DOWNLOAD_CODE = (2 + 5 * N_ROUNDS + i for i in range(5))
BROKEN = {
    "python": "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nundefined_name_here()\n",
    "vegalite": '{"mark": "bar",, "encoding": {}}',
    "svg": "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'><rect></svg>",
}


def fail_then_fix(language: str, delay_s: float = 0.0, always_fail: bool = False) -> Any:
    """A stub script: broken code in round 0, the task's reference solution from round 1 on.

    The task is found by its description in the first user turn; a visitor's own instruction gets the
    first bundled task's solution. ``delay_s`` makes every reply that slow; ``always_fail`` sends the
    broken program in every round.
    """
    from visplotbench.tasks import load_bundled

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


def api_value(output: Any) -> Any:
    """A component's value as gradio_client returns it (an update dict carries it under 'value')."""
    return output.get("value") if isinstance(output, dict) and "__type__" in output else output


def self_debug_args(
    language: str,
    task_id: str = "",
    rounds: int = 2,
    *,
    base_url: str = "",
    model: str = "stub-model",
    instruction: str = "",
    data: str = "",
    kind: str = "OpenAI-compatible endpoint",
    checkpoint: str | None = None,
) -> tuple[Any, ...]:
    """The inputs of the /self_debug endpoint, in the order the page declares them."""
    return (language, task_id, instruction, data, rounds, kind, base_url, model, checkpoint, None, None)


@contextmanager
def launched(resources: Any) -> Iterator[str]:
    """The app over ``resources`` served on 127.0.0.1 (a free port) in this process; yields its URL."""
    from viscoder2_space import build_app

    demo = build_app(resources)
    _, url, _ = demo.launch(
        server_name="127.0.0.1", prevent_thread_lock=True, allowed_paths=[str(demo.work_root)], quiet=True
    )
    try:
        yield url
    finally:
        demo.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch_page_of(proc: subprocess.Popen[bytes], port: int, wait_s: float = 300) -> str:
    """The page a server process (started in its own session) serves on ``port``; the process is
    stopped afterwards. Fails with the process's output when it exits first."""
    try:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    return str(response.read().decode("utf-8", "replace"))
            except OSError:
                time.sleep(1)
        output = proc.stdout.read().decode() if proc.poll() is not None and proc.stdout else "no page"
        raise AssertionError(f"no page on port {port}: {output}")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
