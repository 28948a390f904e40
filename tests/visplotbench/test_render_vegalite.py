"""Vega-Lite renderer: statuses, data inlined at every level, determinism, offline."""

import io

from PIL import Image
from visplotbench.engine import RenderJob, RenderStatus

DATA = "city,rain\nOslo,12\nBergen,31.5\nTromso,20\n"


def test_ok_with_data(render_fixture, need):
    need("vegalite")
    result = render_fixture("vegalite", "ok", {"data.csv": DATA})
    assert result.status is RenderStatus.OK, result.error
    assert Image.open(io.BytesIO(result.images[0])).size[0] > 200


def test_syntax_error_names_line(render_fixture, need):
    need("vegalite")
    result = render_fixture("vegalite", "syntax_error", {"data.csv": DATA})
    assert result.status is RenderStatus.ERROR
    assert "JSONDecodeError" in result.error and "line 7" in result.error


def test_unknown_mark_is_named(render_fixture, need):
    need("vegalite")
    result = render_fixture("vegalite", "runtime_error", {"data.csv": DATA})
    assert result.status is RenderStatus.ERROR
    assert "'bars'" in result.error and "bar" in result.error
    assert "cdn.jsdelivr" not in result.error  # no JS stack frames


def test_layered_and_concat_data_is_inlined(render_fixture, need):
    need("vegalite")
    for name in ("layered", "concat"):
        result = render_fixture("vegalite", name, {"data.csv": DATA})
        assert result.status is RenderStatus.OK, (name, result.error)


def test_data_reaches_the_chart(pool, need, source):
    """Different data gives a different picture: the rows really are inlined (not an empty chart)."""
    need("vegalite")
    spec = source("vegalite", "ok")
    a = pool.render(RenderJob("vegalite", spec, {"data.csv": DATA}))
    b = pool.render(RenderJob("vegalite", spec, {"data.csv": DATA.replace("31.5", "3")}))
    assert a.ok and b.ok and a.images != b.images


def test_numbers_stay_numbers(pool, need):
    need("vegalite")
    spec = (
        '{"data": {"url": "data.csv"}, "mark": "bar", "transform": [{"filter": "datum.rain > 15"}],'
        '"encoding": {"x": {"field": "city", "type": "nominal"}, "y": {"field": "rain", "type": "quantitative"}}}'
    )
    result = pool.render(RenderJob("vegalite", spec, {"data.csv": DATA}))
    assert result.ok, result.error
    width = Image.open(io.BytesIO(result.images[0])).size[0]
    full = pool.render(RenderJob("vegalite", spec.replace("datum.rain > 15", "true"), {"data.csv": DATA}))
    assert Image.open(io.BytesIO(full.images[0])).size[0] > width  # 2 bars vs 3 bars


def test_other_data_urls_are_refused(pool, need, listener, secret):
    need("vegalite")
    for url in (f"http://127.0.0.1:{listener.port}/data.json", f"file://{secret}"):
        spec = f'{{"data": {{"url": "{url}"}}, "mark": "point"}}'
        result = pool.render(RenderJob("vegalite", spec))
        assert result.status is RenderStatus.ERROR
        assert "not available" in result.error
    assert listener.connections == 0


def test_image_mark_cannot_reach_the_network(pool, need, listener):
    need("vegalite")
    spec = (
        f'{{"data": {{"values": [{{"u": "http://127.0.0.1:{listener.port}/a.png"}}]}}, '
        '"mark": {"type": "image", "width": 50, "height": 50}, "encoding": {"url": {"field": "u"}}}'
    )
    pool.render(RenderJob("vegalite", spec))
    assert listener.connections == 0
