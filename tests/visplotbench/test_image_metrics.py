"""Offline image metrics on known pairs: identical, recoloured, moved to a bigger canvas, unrelated.

Charts are drawn with PIL (fast, deterministic); one test uses real Vega-Lite renders from vl-convert.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw
from visplotbench.judges import compare_images, edge_f1, prepare, ssim

BLUE, RED, YELLOW, GREEN = (31, 119, 180), (214, 39, 40), (255, 200, 0), (0, 160, 80)
VALUES = (30, 80, 55, 120, 95)


def png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def bar_chart(colors=(BLUE,), values=VALUES, size=(480, 320), background="white", mode="RGB") -> bytes:
    img = Image.new(mode, size, background)
    draw = ImageDraw.Draw(img)
    draw.line([(40, 20), (40, 280), (460, 280)], fill="black", width=2)
    for i, v in enumerate(values):
        x = 60 + i * 80
        draw.rectangle([x, 280 - 2 * v, x + 50, 280], fill=colors[i % len(colors)])
        draw.text((x + 15, 285), f"c{i}", fill="black")
    draw.text((200, 5), "Sales by category", fill="black")
    return png(img)


def line_chart() -> bytes:
    img = Image.new("RGB", (480, 320), "white")
    draw = ImageDraw.Draw(img)
    draw.line([(40, 20), (40, 280), (460, 280)], fill="black", width=2)
    points = [(60 + i * 40, 280 - int(100 + 80 * np.sin(i / 2))) for i in range(10)]
    draw.line(points, fill=BLUE, width=3)
    for x, y in points:
        draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=(255, 127, 14))
    draw.text((180, 5), "Temperature over time", fill="black")
    return png(img)


def pie_chart() -> bytes:
    img = Image.new("RGB", (400, 400), "white")
    draw = ImageDraw.Draw(img)
    start = 0.0
    for share, color in [(0.3, "tomato"), (0.45, "gold"), (0.25, "teal")]:
        draw.pieslice([50, 50, 350, 350], start, start + 360 * share, fill=color)
        start += 360 * share
    return png(img)


def test_identical_image_scores_one():
    ref = bar_chart()
    assert compare_images(ref, ref) == {"ssim": pytest.approx(1.0), "edge_f1": pytest.approx(1.0)}


@pytest.mark.parametrize("colors", [(RED,), (YELLOW, GREEN)], ids=["red", "yellow-green"])
def test_recoloured_chart_keeps_its_edges(colors):
    scores = compare_images(bar_chart(colors), bar_chart())
    assert scores["edge_f1"] >= 0.95  # the colour-robust metric does not see the recolouring
    assert scores["ssim"] >= 0.7


def test_recolouring_that_changes_brightness_costs_ssim_not_edges():
    """What each metric misses: SSIM reads grey levels, the edge score ignores colour entirely."""
    scores = compare_images(bar_chart((YELLOW, GREEN)), bar_chart())
    assert scores["ssim"] < 0.95 < scores["edge_f1"]


def test_channel_swapped_chart_has_identical_edges():
    arr = np.asarray(Image.open(io.BytesIO(bar_chart())).convert("RGB"))
    swapped = png(Image.fromarray(np.ascontiguousarray(arr[..., [2, 0, 1]])))
    assert compare_images(swapped, bar_chart())["edge_f1"] == pytest.approx(1.0)


@pytest.mark.parametrize("other", [line_chart, pie_chart], ids=["line", "pie"])
def test_unrelated_chart_scores_low(other):
    scores = compare_images(other(), bar_chart())
    assert scores["ssim"] < 0.3 and scores["edge_f1"] < 0.35


def test_same_chart_with_other_values_is_in_between():
    scores = compare_images(bar_chart(values=(100, 20, 90, 40, 60)), bar_chart())
    unrelated = compare_images(pie_chart(), bar_chart())
    assert unrelated["ssim"] < scores["ssim"] < 0.9 and unrelated["edge_f1"] < scores["edge_f1"] < 0.9


def test_margins_and_transparency_are_normalised():
    """A bigger canvas (content cropped) and a transparent background (flattened on white) change nothing."""
    ref = bar_chart()
    assert compare_images(bar_chart(size=(640, 420)), ref)["edge_f1"] == pytest.approx(1.0)
    transparent = bar_chart(background=(0, 0, 0, 0), mode="RGBA")
    assert compare_images(transparent, ref) == {"ssim": pytest.approx(1.0), "edge_f1": pytest.approx(1.0)}


def test_blank_images():
    blank = png(Image.new("RGB", (200, 100), "white"))
    a, b = prepare(blank), prepare(bar_chart())
    assert ssim(a, a) == 1.0 and edge_f1(a, a) == 1.0
    assert edge_f1(a, b) == 0.0 and ssim(a, b) < 0.3


def test_metrics_are_symmetric_and_deterministic():
    a, b = prepare(bar_chart()), prepare(line_chart())
    assert a.shape == (256, 256, 3) and a.min() >= 0.0 and a.max() <= 1.0
    assert ssim(a, b) == pytest.approx(ssim(b, a)) and edge_f1(a, b) == pytest.approx(edge_f1(b, a))
    assert compare_images(line_chart(), bar_chart()) == compare_images(line_chart(), bar_chart())


def test_real_vega_lite_renders():
    """The same bar chart recoloured is close on the edge score; a pie of other data is far on both."""
    vlc = pytest.importorskip("vl_convert")
    data = [{"a": k, "b": v} for k, v in zip("ABCDEFG", [28, 55, 43, 91, 81, 53, 19], strict=True)]

    def bar(color: str) -> bytes:
        spec = {
            "data": {"values": data},
            "width": 300,
            "height": 200,
            "mark": {"type": "bar", "color": color},
            "encoding": {"x": {"field": "a", "type": "nominal"}, "y": {"field": "b", "type": "quantitative"}},
        }
        return bytes(vlc.vegalite_to_png(json.dumps(spec), scale=1))

    pie_spec = {
        "data": {"values": [{"k": k, "v": v} for k, v in zip("xyz", [4, 6, 10], strict=True)]},
        "mark": "arc",
        "encoding": {
            "theta": {"field": "v", "type": "quantitative"},
            "color": {"field": "k", "type": "nominal"},
        },
    }
    ref = bar("#4c78a8")
    recoloured = compare_images(bar("#f2cf5b"), ref)
    unrelated = compare_images(bytes(vlc.vegalite_to_png(json.dumps(pie_spec), scale=1)), ref)
    assert compare_images(ref, ref) == {"ssim": pytest.approx(1.0), "edge_f1": pytest.approx(1.0)}
    assert recoloured["edge_f1"] >= 0.9 and recoloured["edge_f1"] > recoloured["ssim"]
    assert unrelated["ssim"] < 0.3 and unrelated["edge_f1"] < 0.3


def _ink_box_in_floats(png_bytes: bytes) -> tuple[int, int, int, int] | None:
    """The ink box as the metric defines it, computed the plain way: the whole image in floats."""
    from visplotbench.engine._images import to_rgb_on_white
    from visplotbench.judges._image_metrics import _BACKGROUND_DELTA

    with Image.open(io.BytesIO(png_bytes)) as opened:
        arr = np.asarray(to_rgb_on_white(opened), dtype=np.float64) / 255.0
    border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])
    ink = (np.abs(arr - np.median(border, axis=0)) > _BACKGROUND_DELTA).any(axis=2)
    if not ink.any():
        return None
    rows, cols = np.where(ink.any(axis=1))[0], np.where(ink.any(axis=0))[0]
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


@pytest.mark.parametrize(
    "image",
    [
        bar_chart(),
        bar_chart(background=(250, 250, 245), size=(900, 700)),
        bar_chart(mode="RGBA", background=(0, 0, 0, 0)),
        line_chart(),
        png(Image.new("RGB", (64, 48), "white")),  # no ink at all
        # a border of two colours: the median falls between levels (x.5), the exact case for the tables
        png(Image.fromarray(np.tile(np.array([[100], [113]], dtype=np.uint8), (20, 30))).convert("RGB")),
    ],
    ids=["bars", "big-off-white", "transparent", "lines", "blank", "half-level-median"],
)
def test_the_ink_box_is_exactly_the_float_definition(image):
    """``prepare`` finds the ink box with lookup tables (cheap); it must equal the float definition."""
    from visplotbench.engine._images import to_rgb_on_white
    from visplotbench.judges._image_metrics import _ink_box

    with Image.open(io.BytesIO(image)) as opened:
        assert _ink_box(to_rgb_on_white(opened)) == _ink_box_in_floats(image)


def test_the_ink_box_of_real_renders_is_exactly_the_float_definition():
    from visplotbench.engine._images import to_rgb_on_white
    from visplotbench.judges._image_metrics import _ink_box
    from visplotbench.tasks import load_tasks

    images = [
        t.image
        for lang in ("vegalite", "latex", "lilypond", "html")
        for t in load_tasks("bundled", [lang])[:4]
    ]
    for image in images:
        with Image.open(io.BytesIO(image)) as opened:
            assert _ink_box(to_rgb_on_white(opened)) == _ink_box_in_floats(image)


def _prepared_the_plain_way(png_bytes: bytes) -> np.ndarray:
    """``prepare`` as the metric defines it: a copy flattened on white, cropped to the float ink box."""
    from visplotbench.engine._images import to_rgb_on_white
    from visplotbench.judges._image_metrics import SIZE

    with Image.open(io.BytesIO(png_bytes)) as opened:
        img = to_rgb_on_white(opened)
    box = _ink_box_in_floats(png_bytes)
    if box is not None:
        img = img.crop(box)
    resized = img.resize((SIZE, SIZE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(resized, dtype=np.float64) / 255.0


def _translucent() -> bytes:
    rgba = np.asarray(Image.open(io.BytesIO(bar_chart())).convert("RGBA")).copy()
    rgba[..., 3] = (np.arange(rgba.shape[1]) % 256).astype(np.uint8)[None, :]  # alpha ramps across
    return png(Image.fromarray(rgba, "RGBA"))


def _palette_with_transparency() -> bytes:
    img = Image.open(io.BytesIO(bar_chart())).convert("P")
    img.info["transparency"] = 0
    return png(img)


@pytest.mark.parametrize(
    "image",
    [
        bar_chart(),
        bar_chart(mode="RGBA", background=(0, 0, 0, 0)),
        _translucent(),
        _palette_with_transparency(),
        png(Image.open(io.BytesIO(line_chart())).convert("L")),
        png(Image.open(io.BytesIO(line_chart())).convert("LA")),
        png(Image.open(io.BytesIO(line_chart())).convert("1")),
        png(Image.new("RGB", (64, 48), "white")),
        png(Image.new("RGB", (1, 1), "black")),
    ],
    ids=["rgb", "transparent", "translucent", "palette", "grey", "grey-alpha", "bilevel", "blank", "one-px"],
)
def test_prepare_is_exactly_the_plain_pipeline(image):
    """``prepare`` skips a defensive copy and reads only the border lines: the arrays must not change."""
    assert np.array_equal(prepare(image), _prepared_the_plain_way(image))


def test_prepare_of_real_renders_is_exactly_the_plain_pipeline():
    from visplotbench.tasks import load_tasks

    for language in ("python", "vegalite", "mermaid", "svg", "asymptote", "latex", "lilypond", "html"):
        for task in load_tasks("bundled", [language])[:3]:
            assert np.array_equal(prepare(task.image), _prepared_the_plain_way(task.image)), task.id
