"""Asymptote renderer: fixtures, error excerpts, 3-D through the shared Xvfb, determinism, sandbox properties.

Every test runs the real asy (and, for labels, LaTeX and Ghostscript) inside the real sandbox.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from visplotbench.engine import EnvironmentProblem, Limits, RenderJob, RenderPool, RenderStatus
from visplotbench.engine._images import is_blank
from visplotbench.engine._xvfb import Xvfb, shared_xvfb
from visplotbench.engine.renderers.asymptote import AsymptoteRenderer

LANG = "asymptote"


@pytest.fixture(autouse=True)
def _needs_asymptote(need):
    need(LANG)  # skip here / fail in CI when the tool is missing (conftest.require)


def fixture_source(name: str) -> str:
    (path,) = (Path(__file__).parent / "fixtures" / LANG).glob(f"{name}.*")
    return path.read_text(encoding="utf-8")


def render(pool, source: str, **kwargs):
    return pool.render(RenderJob(LANG, source, **kwargs))


def assert_still_renders(pool) -> None:
    result = render(pool, fixture_source("ok"))
    assert result.status is RenderStatus.OK, result.error


def assert_not_leaked(result, secret: str) -> None:
    assert secret not in result.error and secret not in result.stdout and secret not in result.stderr


def test_syntax_error_names_the_line_and_column(pool):
    result = render(pool, fixture_source("syntax_error"))
    assert result.status is RenderStatus.ERROR
    assert "main.asy: 2.18: syntax error" in result.error
    assert "draw((0,0)--(1,1);" in result.error  # asy's own source line and caret
    assert "could not load module" not in result.error


def test_runtime_error_names_the_variable_and_the_line(pool):
    result = render(pool, fixture_source("runtime_error"))
    assert result.status is RenderStatus.ERROR
    assert "main.asy: 3.14: no matching variable 'undefinedvar'" in result.error


def test_out_of_bounds_index_is_a_runtime_error(pool):
    result = render(pool, "size(100);\nreal[] a = {1};\nreal b = a[5];\ndraw((0,0)--(1,b));\n")
    assert result.status is RenderStatus.ERROR
    assert "main.asy: 3." in result.error and "out-of-bounds index 5" in result.error


def test_tex_error_in_a_label_is_an_error(pool):
    result = render(pool, 'size(100);\ndraw((0,0)--(1,1));\nlabel("$\\badmacro$", (0.5,0.5));\n')
    assert result.status is RenderStatus.ERROR
    assert "shipout failed" in result.error and "TeX failed on a label" in result.error


def test_label_that_makes_tex_wait_is_stopped_by_the_timeout(pool):
    source = 'size(100);\ndraw((0,0)--(1,1));\nlabel("\\input{nonexistentfile}", (0.5,0.5));\n'
    result = render(pool, source, limits=Limits(wall_s=3))
    assert result.status is RenderStatus.TIMEOUT
    assert_still_renders(pool)


def test_empty_picture_is_no_output(pool):
    assert render(pool, "size(100);\n").status is RenderStatus.NO_OUTPUT


def test_3d_renders_through_the_shared_xvfb(pool):
    result = render(pool, fixture_source("three_d"))
    assert result.status is RenderStatus.OK, result.error
    assert not is_blank(result.images[0])
    starts = shared_xvfb().starts
    again = render(pool, fixture_source("three_d"))
    assert again.images == result.images  # deterministic, and the same server was reused
    assert shared_xvfb().starts == starts


def test_xvfb_is_restarted_when_it_died(pool):
    xvfb = shared_xvfb()
    xvfb.ensure()
    xvfb.close()  # as if it had crashed
    assert not xvfb.alive()
    result = render(pool, fixture_source("three_d"))
    assert result.status is RenderStatus.OK, result.error
    assert xvfb.alive()


def test_no_display_for_3d_is_an_environment_failure(tmp_path, monkeypatch):
    """asy without a display exits 0 and writes nothing: that must never count against the program."""
    (tmp_path / "bwrap").symlink_to(shutil.which("bwrap"))  # the sandbox works, but there is no Xvfb
    monkeypatch.setenv("PATH", str(tmp_path))
    renderer = AsymptoteRenderer()
    renderer.xvfb = Xvfb()
    with pytest.raises(EnvironmentProblem, match="apt-get install xvfb"):
        renderer.xvfb.ensure()
    result = renderer.render(RenderJob(LANG, fixture_source("three_d")))
    assert result.status is RenderStatus.ENV_FAILURE
    assert "display" in result.error and "xvfb" in result.error.lower()
    flat = renderer.render(RenderJob(LANG, fixture_source("ok")))
    assert flat.status is RenderStatus.OK, flat.error  # 2-D needs no display


def test_missing_binary_is_an_environment_problem(monkeypatch, tmp_path):
    (tmp_path / "bwrap").symlink_to(shutil.which("bwrap"))  # only the tool itself is missing
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EnvironmentProblem, match="apt-get install asymptote"):
        AsymptoteRenderer().check()
    with RenderPool(max_workers=1) as fresh:
        result = fresh.render(RenderJob(LANG, fixture_source("ok")))
    assert result.status is RenderStatus.ENV_FAILURE and "apt-get install asymptote" in result.error


# --- sandbox: one property per test -------------------------------------------------------------


def test_reading_a_file_outside_the_job_fails(pool, tmp_path):
    token = f"SECRET-{uuid.uuid4().hex}"
    secret = tmp_path / "secret.txt"
    secret.write_text(token + "\n")
    result = render(pool, f'file f = input("{secret}");\nstring s = f;\nwrite(s);\ndraw((0,0)--(1,1));\n')
    assert result.status is RenderStatus.ERROR
    assert "main.asy: 1." in result.error
    assert_not_leaked(result, token)
    assert_still_renders(pool)


def test_writing_outside_the_job_fails(pool, tmp_path):
    target = tmp_path / "written.txt"
    result = render(pool, f'file f = output("{target}");\nwrite(f, "x");\ndraw((0,0)--(1,1));\n')
    assert result.status is RenderStatus.ERROR
    assert not target.exists()
    assert_still_renders(pool)


def test_system_call_does_not_run(pool, tmp_path):
    marker = tmp_path / "ran.txt"
    result = render(pool, f'system("touch {marker}");\ndraw((0,0)--(1,1));\n')
    assert result.status is RenderStatus.ERROR
    assert "system() call disabled" in result.error
    assert not marker.exists()
    assert_still_renders(pool)


def test_memory_bomb_is_stopped(pool):
    result = render(pool, 'string s = "x";\nwhile(true) s += s;\n', limits=Limits(wall_s=20, memory_mb=512))
    assert result.status in (RenderStatus.ERROR, RenderStatus.TIMEOUT)
    assert result.status is RenderStatus.TIMEOUT or "memory" in result.error.lower()
    assert_still_renders(pool)


def test_output_flood_is_stopped(pool):
    result = render(
        pool, 'while(true) write("' + "x" * 200 + '");\n', limits=Limits(wall_s=10, output_bytes=10_000)
    )
    assert result.status is RenderStatus.ERROR
    assert "OutputLimitExceeded" in result.error
    assert_still_renders(pool)


def test_xvfb_socket_dir_is_outside_tmp():
    """The sandbox mounts a private /tmp, so the socket must live where a read-only bind can reach it."""
    display = shared_xvfb().ensure()
    assert not display.socket_dir.startswith(("/tmp", "/dev", "/proc"))
    assert os.path.exists(f"{display.socket_dir}/X{display.number}")
