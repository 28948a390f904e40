"""Fixtures of the Space tests: the real app served on 127.0.0.1 in this process, and scripted
OpenAI-compatible stub models (tests/visplotbench/stub_openai.py). Constants and stub scripts live in
space_helpers.py: test modules import them from there, never from a conftest (whose module name every
test folder shares)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from space_helpers import SECRET
from stub_openai import StubOpenAI


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
