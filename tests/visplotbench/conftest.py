"""Shared fixtures for the render-engine tests: one warm pool for the session, fixture programs."""

from __future__ import annotations

from pathlib import Path

import pytest
from visplotbench.engine import RenderJob, RenderPool, RenderResult

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def pool():
    with RenderPool() as p:
        yield p


def fixture_source(language: str, name: str) -> str:
    """The text of ``fixtures/<language>/<name>.*`` (exactly one file must match)."""
    matches = sorted((FIXTURES / language).glob(f"{name}.*"))
    assert len(matches) == 1, f"expected one fixture {language}/{name}.*, found {matches}"
    return matches[0].read_text(encoding="utf-8")


@pytest.fixture
def render_fixture(pool):
    def _render(language: str, name: str, files: dict | None = None, **kwargs) -> RenderResult:
        return pool.render(RenderJob(language, fixture_source(language, name), files or {}, **kwargs))

    return _render


def require(pool: RenderPool, language: str) -> None:
    """Skip (locally) or fail (in CI, which installs everything) when a renderer cannot run here."""
    import os

    from visplotbench.engine import EnvironmentProblem

    try:
        pool.renderer(language)
    except (EnvironmentProblem, ImportError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{language} renderer unavailable in CI: {exc}")
        pytest.skip(f"{language} renderer unavailable here: {exc}")


class Listener:
    """A TCP server on 127.0.0.1 that records every connection it accepts (attack target)."""

    def __init__(self) -> None:
        import socket
        import threading

        self.connections = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:

        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def secret(tmp_path):
    """A secret file outside any job directory, readable by root on the host."""
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-7f3a9c\n")
    path.chmod(0o644)
    return path


@pytest.fixture
def need(pool):
    """``need("latex")``: skip locally / fail in CI when the renderer cannot run (see ``require``)."""
    return lambda language: require(pool, language)


@pytest.fixture
def source():
    """``source("svg", "ok")``: the text of a fixture program."""
    return fixture_source
