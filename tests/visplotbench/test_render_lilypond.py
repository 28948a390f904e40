"""LilyPond renderer: fixtures, error excerpts, pages, determinism, and the sandbox as the only protection.

LilyPond 2.24 has no safe mode: Scheme in a score can read files, write files, run commands, open
sockets and fork. Every attack below works when lilypond runs unsandboxed; here each must fail, end
within its limits, and leave the pool able to render the next job.
"""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
import uuid
from pathlib import Path

import pytest
from PIL import Image
from visplotbench.engine import EnvironmentProblem, Limits, RenderJob, RenderPool, RenderStatus
from visplotbench.engine._images import is_blank
from visplotbench.engine.renderers import lilypond
from visplotbench.engine.renderers.lilypond import LilyPondRenderer

LANG = "lilypond"
MUSIC = "\\relative c' { c4 d e f }\n"


@pytest.fixture(autouse=True)
def _needs_lilypond(need):
    need(LANG)  # skip here / fail in CI when the tool is missing (conftest.require)


def fixture_source(name: str) -> str:
    (path,) = (Path(__file__).parent / "fixtures" / LANG).glob(f"{name}.*")
    return path.read_text(encoding="utf-8")


def render(pool, source: str, **kwargs):
    return pool.render(RenderJob(LANG, source, **kwargs))


def score(scheme: str) -> str:
    return f'\\version "2.24.0"\n{scheme}\n{MUSIC}'


def assert_still_renders(pool) -> None:
    result = render(pool, fixture_source("ok"))
    assert result.status is RenderStatus.OK, result.error


def assert_not_leaked(result, secret: str) -> None:
    assert secret not in result.error and secret not in result.stdout and secret not in result.stderr


def test_syntax_error_names_the_line(pool):
    result = render(pool, fixture_source("syntax_error"))
    assert result.status is RenderStatus.ERROR
    assert "main.ly:4:10: error: syntax error, unexpected end of input" in result.error
    assert "Parsing..." not in result.error and "failed files" not in result.error


def test_unknown_music_function_names_it_and_the_line(pool):
    result = render(pool, fixture_source("runtime_error"))
    assert result.status is RenderStatus.ERROR
    assert "main.ly:3:8: error: unknown escaped string: `\\undefinedMusicFunction'" in result.error


def test_scheme_error_is_an_error_even_though_lilypond_exits_0(pool):
    result = render(pool, fixture_source("scheme_error"))
    assert result.status is RenderStatus.ERROR
    assert "main.ly:2:2: error: Guile signaled an error" in result.error
    assert "Wrong type" in result.error


def test_every_page_is_returned_in_order(pool):
    result = render(pool, fixture_source("multi_page"))
    assert result.status is RenderStatus.OK, result.error
    assert len(result.images) >= 2
    assert not any(is_blank(img) for img in result.images)
    assert len(set(result.images)) == len(result.images)


def test_a_one_page_score_rasterises_only_its_crop_and_gives_the_plain_commands_image(pool, tmp_path):
    result = render(pool, fixture_source("ok"))
    assert result.status is RenderStatus.OK, result.error
    assert result.stderr.count("Converting to PNG") == 1  # the crop only: no full page was rasterised
    # The same score through the plain command (our own fixture, so no sandbox needed) crops the same.
    (tmp_path / "main.ly").write_text(fixture_source("ok"), encoding="utf-8")
    env = {"GUILE_LOAD_COMPILED_PATH": lilypond._compiled_cache(), "PATH": "/usr/bin:/bin"}
    subprocess.run(lilypond._COMMAND, cwd=tmp_path, env=env, capture_output=True, check=True)
    assert (tmp_path / "main.png").is_file()  # the plain command rasterised the page as well
    plain = lilypond._images(tmp_path)
    assert len(result.images) == len(plain) == 1
    ours = Image.open(io.BytesIO(result.images[0]))
    assert (ours.size, ours.convert("RGB").tobytes()) == (plain[0].size, plain[0].convert("RGB").tobytes())


def test_book_parts_run_again_in_full_and_give_one_image_per_page(pool):
    parts = "\\bookpart { \\relative { g4 a b c } }\n\\bookpart { \\relative { e4 f g a } }\n"
    result = render(pool, f'\\version "2.24.0"\n{parts}')
    assert result.status is RenderStatus.OK, result.error
    assert len(result.images) == 2  # two one-page parts: the crop-only try would have merged them


def test_missing_binary_is_an_environment_problem(monkeypatch, tmp_path):
    (tmp_path / "bwrap").symlink_to(shutil.which("bwrap"))  # only lilypond itself is missing
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EnvironmentProblem, match="apt-get install lilypond"):
        LilyPondRenderer().check()
    with RenderPool(max_workers=1) as fresh:
        result = fresh.render(RenderJob(LANG, fixture_source("ok")))
    assert result.status is RenderStatus.ENV_FAILURE and "apt-get install lilypond" in result.error


# --- sandbox: one property per test -------------------------------------------------------------


@pytest.fixture
def secret_file(tmp_path):
    token = f"SECRET-{uuid.uuid4().hex}"
    path = tmp_path / "secret.txt"
    path.write_text(token + "\n")
    return path, token


def test_gulp_file_outside_the_job_fails(pool, secret_file):
    path, token = secret_file
    result = render(pool, score(f'#(display (ly:gulp-file "{path}"))'))
    assert result.status is RenderStatus.ERROR
    assert_not_leaked(result, token)
    assert_still_renders(pool)


def test_open_input_file_outside_the_job_fails(pool, secret_file):
    path, token = secret_file
    result = render(pool, score(f'#(display (read (open-input-file "{path}")))'))
    assert result.status is RenderStatus.ERROR
    assert "main.ly:2:2: error" in result.error and "No such file" in result.error
    assert_not_leaked(result, token)
    assert_still_renders(pool)


def test_writing_outside_the_job_fails(pool, tmp_path):
    target = tmp_path / "written.txt"
    result = render(pool, score(f'#(call-with-output-file "{target}" (lambda (port) (display "x" port)))'))
    assert result.status is RenderStatus.ERROR
    assert not target.exists()
    assert_still_renders(pool)


def test_system_does_not_reach_the_host(pool, tmp_path):
    marker = tmp_path / "ran.txt"
    render(pool, score(f'#(system "touch {marker}")'))
    assert not marker.exists()
    assert_still_renders(pool)


def test_tcp_to_a_host_port_fails(pool):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    try:
        connect = (
            f"#(let ((s (socket PF_INET SOCK_STREAM 0)))\n"
            f'   (connect s AF_INET (inet-pton AF_INET "127.0.0.1") {port}))'
        )
        result = render(pool, score(connect))
        assert result.status is RenderStatus.ERROR
        assert "In procedure connect" in result.error
        with pytest.raises(TimeoutError):
            server.accept()
    finally:
        server.close()
    assert_still_renders(pool)


def test_memory_bomb_is_stopped(pool):
    bomb = "#(let loop ((l '())) (loop (cons (make-string 10000000 #\\x) l)))"
    result = render(pool, score(bomb), limits=Limits(wall_s=20, memory_mb=512))
    assert result.status is RenderStatus.ERROR
    assert "memory" in result.error.lower()
    assert_still_renders(pool)


def test_fork_bomb_is_stopped(pool):
    result = render(
        pool, score("#(let loop () (primitive-fork) (loop))"), limits=Limits(wall_s=8, max_processes=16)
    )
    assert result.status in (RenderStatus.ERROR, RenderStatus.TIMEOUT)
    assert result.status is RenderStatus.TIMEOUT or "process" in result.error.lower()
    assert_still_renders(pool)


def test_output_flood_is_stopped(pool):
    flood = '#(let loop () (display "' + "x" * 200 + '") (loop))'
    result = render(pool, score(flood), limits=Limits(wall_s=10, output_bytes=10_000))
    assert result.status is RenderStatus.ERROR
    assert "OutputLimitExceeded" in result.error
    assert_still_renders(pool)


def test_a_planted_link_among_the_outputs_is_not_followed_on_the_host(pool, secret_file):
    path, token = secret_file
    result = render(pool, score(f'#(symlink "{path}" "main-7.png")'))
    assert result.status is RenderStatus.OK, result.error
    assert len(result.images) == 1
    assert_not_leaked(result, token)


def test_a_planted_fifo_among_the_outputs_does_not_block_the_host(pool):
    result = render(pool, score('#(mknod "main-7.png" \'fifo #o644 0)'))
    assert result.status is RenderStatus.OK, result.error


def test_a_fake_png_is_the_programs_error_not_the_environments(pool):
    write = '#(call-with-output-file "main-7.png" (lambda (port) (display "not a png" port)))'
    result = render(pool, score(write))
    assert result.status is RenderStatus.ERROR
    assert "main-7.png is not a valid image" in result.error
