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
