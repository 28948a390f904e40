"""SVG renderer: statuses, error excerpts, determinism, and what an SVG cannot reach."""

import time

from visplotbench.engine import RenderJob, RenderStatus


def test_syntax_error_names_problem_and_line(render_fixture, need):
    need("svg")
    result = render_fixture("svg", "syntax_error")
    assert result.status is RenderStatus.ERROR
    assert "mismatched tag" in result.error and "line 4" in result.error
    assert (
        "Traceback" not in result.error and "/job" not in result.error and "site-packages" not in result.error
    )


def test_undefined_size_is_an_error(render_fixture, need):
    need("svg")
    result = render_fixture("svg", "runtime_error")
    assert result.status is RenderStatus.ERROR
    assert "size is undefined" in result.error


def test_local_file_is_not_drawn(pool, need, secret):
    """An <image> pointing at a local PNG renders nothing (only data: URLs are fetched)."""
    need("svg")
    from PIL import Image

    png = secret.with_suffix(".png")
    Image.new("RGB", (50, 50), (255, 0, 0)).save(png)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="100">'
        f'<image xlink:href="file://{png}" width="100" height="100"/>'
        '<rect x="0" y="0" width="5" height="5" fill="black"/></svg>'
    )
    result = pool.render(RenderJob("svg", svg))
    assert result.status in (RenderStatus.OK, RenderStatus.BLANK) and result.images
    import io

    import numpy as np

    pixels = np.asarray(Image.open(io.BytesIO(result.images[0])).convert("RGB")).reshape(-1, 3)
    assert not ((pixels[:, 0] > 200) & (pixels[:, 1] < 50) & (pixels[:, 2] < 50)).any()


def test_network_is_not_reached(pool, need, listener):
    need("svg")
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
        f'<image href="http://127.0.0.1:{listener.port}/x.png" width="100" height="100"/>'
        '<rect width="50" height="50" fill="black"/></svg>'
    )
    result = pool.render(RenderJob("svg", svg))
    assert result.status is RenderStatus.OK, result.error
    assert listener.connections == 0


def test_external_entity_is_refused(pool, need, secret):
    need("svg")
    svg = (
        f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY s SYSTEM "file://{secret}">]>'
        '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="50"><text y="20">&s;</text></svg>'
    )
    result = pool.render(RenderJob("svg", svg))
    assert "TOP-SECRET" not in result.error + result.stderr + result.stdout
    assert result.status is RenderStatus.ERROR and "EntitiesForbidden" in result.error


def test_huge_canvas_stays_within_limits_and_next_job_renders(pool, need, render_fixture):
    need("svg")

    from visplotbench.engine import Limits

    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="200000" height="200000"><rect width="10" height="10"/></svg>'
    result = pool.render(RenderJob("svg", svg, limits=Limits(wall_s=5, memory_mb=512)))
    assert result.status in (RenderStatus.ERROR, RenderStatus.TIMEOUT)
    assert render_fixture("svg", "ok").status is RenderStatus.OK


def test_warm_worker_outlives_the_thread_that_started_it(need):
    """bwrap's --die-with-parent follows the starting *thread*: workers are spawned from a long-lived one."""
    import threading

    from visplotbench.engine import RenderPool

    with RenderPool() as fresh:
        renderer = fresh.renderer("svg")
        job = RenderJob(
            "svg",
            '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><rect width="5" height="5"/></svg>',
        )
        thread = threading.Thread(target=fresh.render, args=(job,))
        thread.start()
        thread.join()
        time.sleep(0.5)
        assert fresh.render(job).ok
        assert renderer.pool.starts <= renderer.max_concurrency


def test_the_host_does_not_import_cairosvg(need):
    """Only the workers draw SVG; importing CairoSVG in the host to check it cost ~0.4-1 CPU-s per run."""
    import subprocess
    import sys

    need("svg")
    code = (
        "import sys\n"
        "from visplotbench.engine import RenderJob, RenderPool\n"
        "with RenderPool() as pool:\n"
        '    svg = \'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><rect width="5" height="5"/></svg>\'\n'
        "    assert pool.render(RenderJob('svg', svg)).ok\n"
        "assert 'cairosvg' not in sys.modules and 'cairocffi' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
