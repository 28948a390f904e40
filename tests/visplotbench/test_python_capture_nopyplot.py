"""Python figures that never touch pyplot: a ``Figure`` drawn through ``FigureCanvasAgg`` (the
documented way without pyplot) and PIL's ``Image.show()`` are captured, in drawing order, in the
real sandboxed Python renderer. Both ended as ``no_output`` before."""

from __future__ import annotations

import io

from PIL import Image
from visplotbench.engine import RenderJob, RenderStatus


def images(pool, need, source):
    need("python")
    result = pool.render(RenderJob("python", source))
    assert result.status is RenderStatus.OK, result.error
    return [Image.open(io.BytesIO(png)).convert("RGB") for png in result.images]


def has_colour(image, rgb, tolerance=40):
    pixels = image.get_flattened_data() if hasattr(image, "get_flattened_data") else image.getdata()
    return any(all(abs(a - b) <= tolerance for a, b in zip(px, rgb, strict=True)) for px in pixels)


def test_figure_drawn_through_figurecanvasagg(pool, need):
    source = """
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

fig = Figure(figsize=(4, 3), dpi=50)
canvas = FigureCanvasAgg(fig)
ax = fig.add_subplot()
ax.plot([1, 2, 3], [3, 1, 2], color="red", linewidth=6)
canvas.draw()
# the program's own view of its canvas is untouched by the capture
assert np.asarray(canvas.buffer_rgba()).shape == (150, 200, 4)
"""
    (image,) = images(pool, need, source)
    assert has_colour(image, (255, 0, 0))


def test_figures_outside_pyplot_in_drawing_order_once_per_look(pool, need):
    source = """
from matplotlib.figure import Figure

wide = Figure(figsize=(6, 2))
wide.add_subplot().plot([1, 2], [3, 4], color="green", linewidth=6)
square = Figure(figsize=(2, 2))
square.add_subplot().bar([1, 2], [3, 4], color="blue")
wide.savefig("wide.png")
square.savefig("square.png")
square.savefig("again.png")       # unchanged: not a new image
square.axes[0].set_title("now with a title")
square.savefig("titled.png")      # changed: a new image
"""
    wide, square, titled = images(pool, need, source)
    assert wide.width > 2 * wide.height and has_colour(wide, (0, 128, 0))
    assert abs(square.width - square.height) < 20 and has_colour(square, (0, 0, 255))
    assert titled.height > square.height


def test_pil_image_show_in_order(pool, need):
    source = """
from PIL import Image, ImageDraw, ImageShow

first = Image.new("RGB", (200, 100), "white")
ImageDraw.Draw(first).rectangle([20, 20, 180, 80], fill=(128, 0, 128))
first.show()
ImageShow.show(Image.new("RGB", (50, 70), (255, 165, 0)))
"""
    first, second = images(pool, need, source)
    assert first.size == (200, 100) and has_colour(first, (128, 0, 128))
    assert second.size == (50, 70) and has_colour(second, (255, 165, 0))


def test_pyplot_pil_and_plain_figures_keep_the_program_order(pool, need):
    source = """
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from PIL import Image

plt.plot([1, 2, 3], color="red", linewidth=6)
plt.show()
Image.new("RGB", (60, 40), (0, 128, 128)).show()
fig = Figure()
fig.add_subplot().plot([3, 2, 1], color="blue", linewidth=6)
fig.savefig("x.png")
"""
    shown, pil, plain = images(pool, need, source)
    assert has_colour(shown, (255, 0, 0)) and not has_colour(shown, (0, 0, 255))
    assert pil.size == (60, 40)
    assert has_colour(plain, (0, 0, 255)) and not has_colour(plain, (255, 0, 0))


def test_a_library_drawing_its_own_figure_is_captured_once(pool, need):
    source = """
import pandas as pd
import seaborn.objects as so

so.Plot(pd.DataFrame({"x": [1, 2, 3], "y": [1, 4, 9]}), x="x", y="y").add(so.Line()).show()
"""
    assert len(images(pool, need, source)) == 1
