"""Which JavaScript libraries a render gets: the current Mermaid by default (a diagram type only the
current release knows renders), an older major on request (to reproduce an old run), the versions
recorded in a run's config and in the render cache key. Real Chromium, real npm packages."""

from __future__ import annotations

import json

import pytest
from visplotbench.engine import RenderJob, RenderPool, RenderStatus
from visplotbench.engine.assets import ASSETS, MERMAID_MAJOR, install_assets, js_versions
from visplotbench.runfolder._cache import render_key

from visplotbench import RunConfig, run_benchmark

USECASE = (
    "usecase-beta\n  actor Customer\n  actor Clerk\n  systemBoundary Shop\n    Browse\n    Checkout\n  end\n"
    "  Customer --> Browse\n  Customer --> Checkout\n  Clerk --> Checkout\n"
)


@pytest.fixture(scope="module", autouse=True)
def _assets():
    install_assets(quiet=True)


def newest(name: str) -> str:
    return max((a for a in ASSETS if a.name == name), key=lambda a: a.major).version


def test_the_default_mermaid_is_the_newest_pinned_major():
    assert max(a.major for a in ASSETS if a.name == "mermaid") == MERMAID_MAJOR
    assert js_versions()["mermaid"] == newest("mermaid")


def test_current_diagram_types_render_by_default(pool, need):
    need("mermaid")
    result = pool.render(RenderJob("mermaid", USECASE))
    assert result.status is RenderStatus.OK, result.error
    assert result.tool_versions["mermaid"] == newest("mermaid")


def test_an_older_major_can_be_pinned(monkeypatch, need):
    need("mermaid")
    monkeypatch.setenv("VISPLOTBENCH_MERMAID_MAJOR", "11")
    with RenderPool() as pool:
        old = pool.render(RenderJob("mermaid", USECASE))
        plain = pool.render(RenderJob("mermaid", "flowchart LR\n  A --> B\n"))
    assert old.status is RenderStatus.ERROR and "UnknownDiagramError" in old.error, old.error
    assert old.tool_versions["mermaid"].startswith("11.")
    assert plain.status is RenderStatus.OK and plain.tool_versions["mermaid"].startswith("11.")
    current = render_key(RenderJob("mermaid", USECASE), {"mermaid": newest("mermaid")})
    assert render_key(RenderJob("mermaid", USECASE), old.tool_versions) != current


def test_an_unknown_major_is_a_clear_environment_problem(monkeypatch):
    monkeypatch.setenv("VISPLOTBENCH_MERMAID_MAJOR", "9")
    with RenderPool() as pool:
        result = pool.render(RenderJob("mermaid", USECASE))
    assert result.status is RenderStatus.ENV_FAILURE
    assert "VISPLOTBENCH_MERMAID_MAJOR='9'" in result.error and "10, 11, 12" in result.error


@pytest.mark.parametrize(
    "name", ["chart.js", "d3", "echarts", "plotly.js-dist-min", "vega", "vega-lite", "vega-embed", "mermaid"]
)
def test_a_url_without_a_version_gets_the_newest_pinned_major(name):
    from visplotbench.engine import _cdn

    _cdn.clear_cache()
    path = _cdn.resolve(f"https://cdn.jsdelivr.net/npm/{name}")
    assert path is not None
    major = max(a.major for a in ASSETS if a.name == name)
    assert f"{name}-v{major}" in path.parts


def test_a_run_records_the_javascript_versions(tmp_path, need):
    need("mermaid")
    run_benchmark(
        RunConfig(
            model="gold",
            out=str(tmp_path / "run"),
            languages=["mermaid"],
            limit=1,
            self_debug=0,
            cache_dir="",
            progress=False,
            offline_metrics=False,
        )
    )
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["javascript"]["mermaid"] == newest("mermaid")
    assert config["javascript"]["plotly.js-dist-min-v4"] == newest("plotly.js-dist-min")
    assert config["javascript"]["js-assets"]
