"""Python renderer: every library's figures captured in order, statuses, error excerpts, determinism."""

import io

import numpy as np
import pytest
from PIL import Image
from visplotbench.engine import RenderJob, RenderStatus

FRUIT = "fruit,kg\napple,12\nbanana,7\ncherry,3\n"


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _has_colour(png: bytes, rgb: tuple[int, int, int], tol: int = 40) -> bool:
    return bool((np.abs(_pixels(png) - np.array(rgb)).sum(axis=2) < tol).any())


@pytest.fixture
def python(need):
    need("python")


def test_ok(render_fixture, python):
    result = render_fixture("python", "ok")
    assert result.status is RenderStatus.OK, result.error
    assert len(result.images) == 1 and result.images[0].startswith(b"\x89PNG")
    assert Image.open(io.BytesIO(result.images[0])).size[0] > 300
    assert result.tool_versions["matplotlib"]


def test_seaborn_figure_left_open_is_captured(render_fixture, python):
    result = render_fixture("python", "seaborn_box")
    assert result.status is RenderStatus.OK, result.error
    assert len(result.images) == 1


def test_two_figures_keep_their_order(render_fixture, python):
    result = render_fixture("python", "two_figures")
    assert result.status is RenderStatus.OK, result.error
    assert len(result.images) == 2
    (w1, h1), (w2, h2) = (Image.open(io.BytesIO(png)).size for png in result.images)
    assert w1 > h1 and h2 > w2
    assert _has_colour(result.images[0], (255, 0, 0)) and _has_colour(result.images[1], (0, 0, 255))


def test_ipython_display_of_a_pil_image(render_fixture, python):
    result = render_fixture("python", "pil_display")
    assert result.status is RenderStatus.OK, result.error
    assert len(result.images) == 1
    assert Image.open(io.BytesIO(result.images[0])).size == (200, 120)
    assert _has_colour(result.images[0], (30, 120, 200), tol=5)


def test_data_file_is_read_from_the_job_dir(render_fixture, python):
    result = render_fixture("python", "read_data", {"data.csv": FRUIT})
    assert result.status is RenderStatus.OK, result.error
    assert _has_colour(result.images[0], (0xDD, 0x84, 0x52), tol=5)


def test_missing_data_file_is_the_programs_error(render_fixture, python):
    result = render_fixture("python", "read_data")
    assert result.status is RenderStatus.ERROR
    assert "FileNotFoundError" in result.error and 'main.py", line 4' in result.error
    assert "/job" not in result.error and "/tmp" not in result.error


def test_syntax_error_shows_the_users_line(render_fixture, python):
    result = render_fixture("python", "syntax_error")
    assert result.status is RenderStatus.ERROR
    assert "SyntaxError" in result.error
    assert 'File "main.py", line 4' in result.error
    assert "plt.bar(range(3), values" in result.error and "^" in result.error


def test_runtime_error_has_only_the_users_frames(render_fixture, python):
    result = render_fixture("python", "runtime_error")
    assert result.status is RenderStatus.ERROR
    assert "KeyError: 'temperature'" in result.error
    assert 'File "main.py", line 11, in <module>' in result.error  # draw(df)
    assert 'File "main.py", line 8, in draw' in result.error  # the library call that raised
    for harness in ("python_job", "_worker", "site-packages", "pandas/core", "/job", "/tmp", "vpb-"):
        assert harness not in result.error, harness


def test_error_after_a_figure_is_still_an_error(pool, python):
    source = "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()\nraise ValueError('late')\n"
    result = pool.render(RenderJob("python", source))
    assert result.status is RenderStatus.ERROR
    assert 'main.py", line 4' in result.error and "ValueError: late" in result.error


def test_exit_zero_is_not_an_error(pool, python):
    source = "import sys\nimport matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nsys.exit(0)\n"
    assert pool.render(RenderJob("python", source)).status is RenderStatus.OK


def test_no_output(render_fixture, python):
    result = render_fixture("python", "no_output")
    assert result.status is RenderStatus.NO_OUTPUT
    assert "mean" in result.stdout  # the program's own output is kept


def test_runs_as_main_in_its_file(pool, python):
    source = (
        "import os, sys\nimport matplotlib.pyplot as plt\n"
        "assert __name__ == '__main__', __name__\n"
        "assert os.path.basename(__file__) == 'main.py' and os.path.isfile('main.py')\n"
        "assert sys.argv == ['main.py']\n"
        "if __name__ == '__main__':\n    plt.plot([1, 2, 3])\n"
    )
    result = pool.render(RenderJob("python", source))
    assert result.status is RenderStatus.OK, result.error


def test_state_does_not_leak_between_jobs(pool, python):
    first = (
        "import matplotlib.pyplot as plt\nplt.rcParams['lines.color'] = 'red'\nplt.plot([1, 2])\nLEAK = 1\n"
    )
    second = "import matplotlib.pyplot as plt\nassert plt.rcParams['lines.color'] != 'red'\nassert 'LEAK' not in globals()\nplt.plot([1, 2])\n"
    assert pool.render(RenderJob("python", first)).status is RenderStatus.OK
    result = pool.render(RenderJob("python", second))
    assert result.status is RenderStatus.OK, result.error


def test_matplotlib_is_deterministic(render_fixture, python):
    first, second = render_fixture("python", "seaborn_box"), render_fixture("python", "seaborn_box")
    assert first.images and first.images == second.images


def test_unseeded_random_data_is_deterministic(pool, python):
    source = "import numpy as np\nimport matplotlib.pyplot as plt\nplt.scatter(np.random.rand(50), np.random.rand(50))\n"
    first, second = (pool.render(RenderJob("python", source)) for _ in range(2))
    assert first.images and first.images == second.images


def test_figure_shown_twice_unchanged_is_one_image(pool, python):
    source = (
        "import matplotlib.pyplot as plt\nfrom IPython.display import display\n"
        "fig, ax = plt.subplots()\nax.plot([1, 2])\ndisplay(fig)\nfig.show()\n"
    )
    result = pool.render(RenderJob("python", source))
    assert result.status is RenderStatus.OK and len(result.images) == 1


# ---------------------------------------------------------------- libraries drawn on the host


def _need_browser() -> None:
    try:
        from visplotbench.engine import _browser  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"the browser service (engine/_browser.py) is not available: {exc}")


def test_plotly(render_fixture, python):
    _need_browser()
    result = render_fixture("python", "plotly_fig")
    assert result.status is RenderStatus.OK, result.error
    assert len(result.images) == 1
    assert Image.open(io.BytesIO(result.images[0])).size == (700, 500)


def test_plotly_is_deterministic(render_fixture, python):
    _need_browser()
    first, second = render_fixture("python", "plotly_fig"), render_fixture("python", "plotly_fig")
    assert first.images and first.images == second.images


def test_plotly_write_image_needs_no_kaleido(pool, python):
    _need_browser()
    source = (
        "import plotly.graph_objects as go\n"
        "fig = go.Figure(go.Bar(x=['a', 'b'], y=[2, 3]))\n"
        "fig.update_layout(width=400, height=300)\n"
        "fig.write_image('chart.png')\n"
        "fig.show()\n"  # the same figure again: one image
    )
    result = pool.render(RenderJob("python", source))
    assert result.status is RenderStatus.OK, result.error
    assert [Image.open(io.BytesIO(p)).size for p in result.images] == [(400, 300)]


def test_altair(render_fixture, need, python):
    need("vegalite")
    result = render_fixture("python", "altair_chart")
    assert result.status is RenderStatus.OK, result.error
    assert len(result.images) == 1


def test_bokeh(render_fixture, python):
    _need_browser()
    result = render_fixture("python", "bokeh_plot")
    assert result.status is RenderStatus.OK, result.error
    assert len(result.images) == 1


def test_mixed_libraries_keep_program_order(pool, need, python):
    _need_browser()
    source = (
        "import matplotlib.pyplot as plt\nimport plotly.express as px\n"
        "px.bar(x=['a', 'b'], y=[1, 2]).show()\n"
        "plt.figure(figsize=(3, 6))\nplt.plot([1, 2], color='red')\nplt.show()\n"
        "px.scatter(x=[1, 2], y=[2, 1]).show()\n"
    )
    result = pool.render(RenderJob("python", source))
    assert result.status is RenderStatus.OK, result.error
    sizes = [Image.open(io.BytesIO(p)).size for p in result.images]
    assert len(sizes) == 3 and sizes[0] == sizes[2] == (700, 500) and sizes[1][1] > sizes[1][0]


def test_holoviews_save_with_the_bokeh_backend(render_fixture, python):
    _need_browser()
    result = render_fixture("python", "holoviews_save")
    assert result.status is RenderStatus.OK, result.error
    assert len(result.images) == 1


def test_pyecharts_render(render_fixture, python):
    _need_browser()
    result = render_fixture("python", "pyecharts_bar")
    assert result.status is RenderStatus.OK, result.error
    assert len(result.images) == 1


def test_display_of_images_svg_and_a_final_expression(render_fixture, python):
    result = render_fixture("python", "display_mix")
    assert result.status is RenderStatus.OK, result.error
    assert len(result.images) == 3
    assert Image.open(io.BytesIO(result.images[0])).size == (64, 32)
    assert _has_colour(result.images[1], (0, 128, 0), tol=5)  # the SVG, drawn with CairoSVG


def test_a_decompression_bomb_written_by_the_job_is_its_own_error(pool, python):
    source = (
        "import os, struct, zlib\n"
        "def chunk(kind, data):\n"
        "    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))\n"
        "w = h = 9000\n"
        "raw = zlib.compress(b'\\x00' * ((w * 3 + 1) * 64))  # only the first rows: enough to claim the size\n"
        "png = b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))\n"
        "png += chunk(b'IDAT', raw) + chunk(b'IEND', b'')\n"
        "os.makedirs('out', exist_ok=True)\n"
        "open('out/0.png', 'wb').write(png)\n"
    )
    result = pool.render(RenderJob("python", source))
    assert result.status is RenderStatus.ERROR, (result.status, result.error)
    assert "too large" in result.error


def test_unseeded_generators_are_deterministic(pool, need):
    """seaborn's bootstrap and other code call numpy's default_rng() without a seed."""
    need("python")
    from visplotbench.engine import RenderJob

    program = (
        "import numpy as np\nimport matplotlib.pyplot as plt\n"
        "values = np.random.default_rng().normal(size=200)\n"
        "plt.hist(values, bins=20)\nplt.show()\n"
    )
    first, second = pool.render(RenderJob("python", program)), pool.render(RenderJob("python", program))
    assert first.ok and first.images == second.images
