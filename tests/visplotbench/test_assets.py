"""Pinned JS assets: the npm install is idempotent, and CDN URLs map to the matching major version."""

from __future__ import annotations

import pytest
from visplotbench.engine import _cdn
from visplotbench.engine.assets import ASSETS, assets_dir, install_assets, missing_assets


@pytest.fixture(scope="module")
def root():
    """The real assets folder, installed if needed (npm needs only the npm registry)."""
    path = install_assets(quiet=True)
    _cdn.clear_cache()
    return path


# URL -> (installed package folder, file inside it), from pages models actually write.
CASES = [
    ("https://cdn.jsdelivr.net/npm/chart.js", "chart.js-v4", "dist/chart.umd.min.js"),
    (
        "https://cdn.jsdelivr.net/npm/chart.js@4.4.0/dist/chart.umd.min.js",
        "chart.js-v4",
        "dist/chart.umd.min.js",
    ),
    ("https://cdn.jsdelivr.net/npm/chart.js@3.9.1/dist/chart.min.js", "chart.js-v3", "dist/chart.min.js"),
    ("https://cdn.jsdelivr.net/npm/chart.js@2.9.4/dist/Chart.min.js", "chart.js-v2", "dist/Chart.min.js"),
    (
        "https://cdnjs.cloudflare.com/ajax/libs/Chart.js/2.9.4/Chart.min.js",
        "chart.js-v2",
        "dist/Chart.min.js",
    ),
    (
        "https://cdnjs.cloudflare.com/ajax/libs/Chart.js/4.4.1/chart.umd.min.js",
        "chart.js-v4",
        "dist/chart.umd.min.js",
    ),
    ("https://unpkg.com/chart.js@3", "chart.js-v3", "dist/chart.min.js"),
    ("https://d3js.org/d3.v7.min.js", "d3-v7", "dist/d3.min.js"),
    ("https://d3js.org/d3.v6.min.js", "d3-v6", "dist/d3.min.js"),
    ("https://d3js.org/d3.v5.js", "d3-v5", "dist/d3.min.js"),
    ("https://d3js.org/d3.v4.min.js", "d3-v4", "build/d3.min.js"),
    ("https://d3js.org/d3.v3.min.js", "d3-v3", "d3.js"),
    ("https://cdn.jsdelivr.net/npm/d3@7", "d3-v7", "dist/d3.min.js"),
    ("https://unpkg.com/d3@7.8.5/dist/d3.min.js", "d3-v7", "dist/d3.min.js"),
    ("https://cdnjs.cloudflare.com/ajax/libs/d3/7.8.5/d3.min.js", "d3-v7", "dist/d3.min.js"),
    ("https://cdn.jsdelivr.net/npm/echarts@5.4.3/dist/echarts.min.js", "echarts-v5", "dist/echarts.min.js"),
    ("https://cdn.jsdelivr.net/npm/echarts@5", "echarts-v5", "dist/echarts.min.js"),
    (
        "https://cdnjs.cloudflare.com/ajax/libs/echarts/4.9.0/echarts.min.js",
        "echarts-v4",
        "dist/echarts.min.js",
    ),
    ("https://assets.pyecharts.org/assets/v5/echarts.min.js", "echarts-v5", "dist/echarts.min.js"),
    ("https://assets.pyecharts.org/assets/echarts.min.js", "echarts-v4", "dist/echarts.min.js"),
    ("https://assets.pyecharts.org/assets/v5/maps/china.js", "echarts-v4", "map/js/china.js"),
    ("https://cdn.plot.ly/plotly-2.27.0.min.js", "plotly.js-dist-min-v2", "plotly.min.js"),
    ("https://cdn.plot.ly/plotly-3.0.1.min.js", "plotly.js-dist-min-v3", "plotly.min.js"),
    ("https://cdn.plot.ly/plotly-latest.min.js", "plotly.js-dist-min-v1", "plotly.min.js"),
    ("https://cdn.plot.ly/plotly-basic-2.12.1.min.js", "plotly.js-dist-min-v2", "plotly.min.js"),
    (
        "https://cdn.jsdelivr.net/npm/plotly.js-dist@2.24.1/plotly.js",
        "plotly.js-dist-min-v2",
        "plotly.min.js",
    ),
    (
        "https://cdnjs.cloudflare.com/ajax/libs/plotly.js/2.27.0/plotly.min.js",
        "plotly.js-dist-min-v2",
        "plotly.min.js",
    ),
    ("https://cdn.jsdelivr.net/npm/vega@5", "vega-v5", "build/vega.min.js"),
    ("https://cdn.jsdelivr.net/npm/vega-lite@5.16.3", "vega-lite-v5", "build/vega-lite.min.js"),
    ("https://cdn.jsdelivr.net/npm/vega-embed@6", "vega-embed-v6", "build/vega-embed.min.js"),
    ("https://cdn.jsdelivr.net/npm/vega@6", "vega-v6", "build/vega.min.js"),
    ("https://cdn.jsdelivr.net/npm/vega-lite@6.1.0", "vega-lite-v6", "build/vega-lite.min.js"),
    ("https://cdn.jsdelivr.net/npm/vega-embed@7", "vega-embed-v7", "build/vega-embed.min.js"),
    ("https://cdn.jsdelivr.net/npm/mermaid@10/dist/mermaid.min.js", "mermaid-v10", "dist/mermaid.min.js"),
    ("https://cdn.jsdelivr.net/npm/mermaid/dist/mermaid.min.js", "mermaid-v12", "dist/mermaid.min.js"),
    ("https://cdn.jsdelivr.net/npm/mermaid@11/dist/mermaid.min.js", "mermaid-v11", "dist/mermaid.min.js"),
    ("https://cdn.jsdelivr.net/npm/mermaid@12/+esm", "mermaid-v12", "dist/mermaid.esm.min.mjs"),
    ("https://cdn.jsdelivr.net/npm/plotly.js-dist-min", "plotly.js-dist-min-v4", "plotly.min.js"),
    ("https://cdn.plot.ly/plotly-4.1.2.min.js", "plotly.js-dist-min-v4", "plotly.min.js"),
    (
        "https://cdn.jsdelivr.net/npm/mermaid@11/dist/mermaid.esm.min.mjs",
        "mermaid-v11",
        "dist/mermaid.esm.min.mjs",
    ),
    ("https://cdn.jsdelivr.net/npm/mermaid@11/+esm", "mermaid-v11", "dist/mermaid.esm.min.mjs"),
    ("https://unpkg.com/mermaid@10.9.0/dist/mermaid.min.js", "mermaid-v10", "dist/mermaid.min.js"),
    ("https://cdn.jsdelivr.net/npm/vega-datasets@2/data/cars.json", "vega-datasets-v2", "data/cars.json"),
    ("https://vega.github.io/vega-datasets/data/cars.json", "vega-datasets-v2", "data/cars.json"),
    (
        "https://cdn.jsdelivr.net/npm/world-atlas@2/countries-110m.json",
        "world-atlas-v2",
        "countries-110m.json",
    ),
    (
        "https://cdn.jsdelivr.net/npm/chartjs-plugin-datalabels@2",
        "chartjs-plugin-datalabels-v2",
        "dist/chartjs-plugin-datalabels.js",
    ),
]
BLOCKED = [
    "https://www.gstatic.com/charts/loader.js",  # Google Charts: no offline copy exists
    "https://cdn.jsdelivr.net/npm/chart.js@1",  # a major that is not installed
    "https://cdn.jsdelivr.net/npm/d3@7/+esm",  # generated by jsdelivr on the fly
    "https://cdn.jsdelivr.net/npm/chart.js@4/../../../../etc/passwd",
    "https://cdn.jsdelivr.net/npm/chart.js@4/%2e%2e/%2e%2e/package.json",
    "https://cdn.jsdelivr.net/npm/some-unknown-lib@1/dist/x.js",
    "https://example.com/chart.js",
    "file:///root/.cache/visplotbench/assets/current/node_modules/d3-v7/dist/d3.min.js",
    "https://fonts.googleapis.com/css?family=Roboto",
]


@pytest.mark.parametrize(("url", "package", "file"), CASES, ids=[c[0] for c in CASES])
def test_cdn_url_maps_to_the_matching_major(root, url, package, file):
    path = _cdn.resolve(url)
    assert path is not None, url
    assert path.relative_to(root).parts[2] == package
    assert path.as_posix().endswith(f"/{package}/{file}")


@pytest.mark.parametrize("url", BLOCKED)
def test_other_urls_are_not_served(root, url):
    assert _cdn.resolve(url) is None


def test_reinstall_is_a_no_op_when_complete(root):
    files = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    assert install_assets(quiet=True) == root
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()} == files  # nothing rewritten
    assert missing_assets() == []


def test_assets_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("VISPLOTBENCH_ASSETS", str(tmp_path / "js"))
    assert assets_dir() == tmp_path / "js"
    assert missing_assets() == [a.label for a in ASSETS]
    monkeypatch.delenv("VISPLOTBENCH_ASSETS")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert assets_dir() == tmp_path / "cache" / "visplotbench" / "assets"


def test_every_pin_is_exact():
    for asset in ASSETS:
        assert asset.version.count(".") == 2 and asset.version.replace(".", "").isdigit(), asset


def test_the_asset_servers_copy_resolves_like_the_engine(root, tmp_path):
    """The server in the browser's sandbox runs a copy of _cdn.py with only the standard library."""
    import json
    import shutil
    import subprocess
    import sys

    from visplotbench.engine.assets import package_table

    shutil.copyfile(_cdn.__file__, tmp_path / "cdn.py")
    (tmp_path / "packages.json").write_text(json.dumps(package_table()), encoding="utf-8")
    urls = [url for url, _, _ in CASES] + BLOCKED
    script = (
        "import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); import cdn\n"
        "cdn.use_table(json.load(open(Path(sys.argv[1]) / 'packages.json')))\n"
        "for url in json.loads(sys.argv[3]):\n"
        "    found = cdn.resolve(url, Path(sys.argv[2]))\n"
        "    print(found if found is None else found.as_posix())\n"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script, str(tmp_path), str(root), json.dumps(urls)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    expected = [str(p.as_posix() if (p := _cdn.resolve(url)) else None) for url in urls]
    assert out.stdout.splitlines() == expected
    assert expected.count("None") == len(BLOCKED)
