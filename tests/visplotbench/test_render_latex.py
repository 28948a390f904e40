"""LaTeX renderer: fixtures, error excerpts, the latex.csv data file, pages, determinism, sandbox properties.

Every test runs the real pdflatex and pdftoppm inside the real sandbox.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from visplotbench.engine import EnvironmentProblem, Limits, RenderJob, RenderPool, RenderStatus
from visplotbench.engine.renderers.latex import LatexRenderer

LANG = "latex"
SALES = "month,sales\n1,2\n2,7\n3,5\n4,9\n"


@pytest.fixture(autouse=True)
def _needs_latex(need):
    need(LANG)  # skip here / fail in CI when the tool is missing (conftest.require)


def fixture_source(name: str) -> str:
    (path,) = (Path(__file__).parent / "fixtures" / LANG).glob(f"{name}.*")
    return path.read_text(encoding="utf-8")


def render(pool, source: str, files: dict | None = None, **kwargs):
    return pool.render(RenderJob(LANG, source, files or {}, **kwargs))


def doc(body: str, preamble: str = "") -> str:
    return f"\\documentclass{{standalone}}\n{preamble}\\begin{{document}}\n{body}\n\\end{{document}}\n"


def assert_still_renders(pool) -> None:
    result = render(pool, fixture_source("ok"))
    assert result.status is RenderStatus.OK, result.error


def assert_not_leaked(result, secret: str) -> None:
    assert secret not in result.error and secret not in result.stdout and secret not in result.stderr


def test_syntax_error_names_the_problem_and_the_line(pool):
    result = render(pool, fixture_source("syntax_error"))
    assert result.status is RenderStatus.ERROR
    assert "Did you forget a semicolon?" in result.error
    assert "l.6 \\node" in result.error


def test_runtime_error_names_the_macro_and_the_line(pool):
    result = render(pool, fixture_source("runtime_error"))
    assert result.status is RenderStatus.ERROR
    assert "! Undefined control sequence." in result.error
    assert "l.6 " in result.error and r"\undefinedmacro" in result.error


def test_error_excerpt_is_free_of_harness_noise(pool):
    result = render(pool, fixture_source("runtime_error"))
    for noise in ("vpbcsv", "/job", "/tmp", "See the LaTeX manual", "Here is how much"):
        assert noise not in result.error
    assert len(result.error.splitlines()) <= 6


def test_missing_end_document_reads_like_plain_tex(pool):
    result = render(pool, "\\documentclass{standalone}\n\\begin{document}\nx\n")
    assert result.status is RenderStatus.ERROR
    assert "Emergency stop" in result.error and r"no legal \end found" in result.error
    assert "vpbhook" not in result.error


def test_missing_package_names_the_file_and_the_line(pool):
    result = render(
        pool,
        "\\documentclass{article}\n\\usepackage{nonexistentpkg}\n\\begin{document}\nx\n\\end{document}\n",
    )
    assert result.status is RenderStatus.ERROR
    assert "File `nonexistentpkg.sty' not found." in result.error and "l.3 " in result.error


def test_runaway_argument_shows_the_runaway_text(pool):
    result = render(pool, doc("\\textbf{abc\n\nmore"))
    assert result.status is RenderStatus.ERROR
    assert "Runaway argument?" in result.error and "{abc" in result.error


def test_plain_line_plot_is_not_blank(pool):
    """Guards the fixed DPI: a bare one-line axis must stay under the 98 % one-colour blank rule."""
    body = (
        "\\begin{tikzpicture}\\begin{axis}\n"
        "\\addplot coordinates {(0,0) (1,1) (2,4) (3,9) (4,16)};\n"
        "\\end{axis}\\end{tikzpicture}"
    )
    result = render(pool, doc(body, "\\usepackage{pgfplots}\n\\pgfplotsset{compat=1.18}\n"))
    assert result.status is RenderStatus.OK, result.error


def test_no_pages_is_no_output(pool):
    result = render(pool, "\\documentclass{article}\n\\begin{document}\n\\end{document}\n")
    assert result.status is RenderStatus.NO_OUTPUT


def test_bare_pgfplotstableread_reads_comma_separated_latex_csv(pool):
    """The prompt's bare \\pgfplotstableread{latex.csv} works; the inline table stays space separated."""
    result = render(pool, fixture_source("data"), {"latex.csv": SALES})
    assert result.status is RenderStatus.OK, result.error
    other = render(pool, fixture_source("data"), {"latex.csv": SALES.replace("2,7", "2,1")})
    assert other.status is RenderStatus.OK and other.images != result.images  # the plot comes from the file


def test_explicit_col_sep_and_addplot_table_read_latex_csv(pool):
    body = (
        "\\begin{tikzpicture}\\begin{axis}\n"
        "\\addplot table[x=month, y=sales] {latex.csv};\n"
        "\\addplot table[x=month, y=sales, col sep=comma] {latex.csv};\n"
        "\\end{axis}\\end{tikzpicture}"
    )
    preamble = (
        "\\usepackage{pgfplots}\n\\pgfplotsset{compat=1.18}\n"
        "\\pgfplotstableread[col sep=comma]{latex.csv}\\t\n"
    )
    result = render(pool, doc(body, preamble), {"latex.csv": SALES})
    assert result.status is RenderStatus.OK, result.error


def test_missing_column_in_latex_csv_is_reported(pool):
    result = render(pool, fixture_source("data"), {"latex.csv": "a,b\n1,2\n"})
    assert result.status is RenderStatus.ERROR
    assert "could not retrieve column 'month'" in result.error and "l.15 " in result.error


def test_first_page_by_default_and_every_page_on_request(pool):
    source = fixture_source("two_pages")
    assert len(render(pool, source).images) == 1
    both = render(pool, source, all_pages=True)
    assert both.status is RenderStatus.OK and len(both.images) == 2
    assert both.images[0] != both.images[1]


def test_preloaded_format_gives_the_same_pixels_as_the_plain_one():
    """The pgfplots fixture through the preloaded format and through the plain one: same PNG bytes."""
    with RenderPool() as fast, RenderPool() as plain:
        renderer = plain.renderer(LANG)
        renderer.formats.path = lambda package: None  # type: ignore[method-assign]  # plain format only
        first = fast.render(RenderJob(LANG, fixture_source("data"), {"latex.csv": SALES}))
        second = plain.render(RenderJob(LANG, fixture_source("data"), {"latex.csv": SALES}))
        assert fast.renderer(LANG).formats.path("pgfplots") is not None  # the fast path was there to take
    assert first.status is RenderStatus.OK and first.images == second.images


def test_class_option_for_a_preloaded_package_still_works(pool):
    """[dvipsnames] reaches xcolor only when xcolor loads after the class: the plain format is the fallback."""
    preamble = "\\usepackage{pgfplots}\n\\pgfplotsset{compat=1.18}\n"
    body = "\\begin{tikzpicture}\\begin{axis}\\addplot[ForestGreen] {x^2};\\end{axis}\\end{tikzpicture}"
    source = doc(body, preamble).replace("\\documentclass{", "\\documentclass[dvipsnames]{", 1)
    assert "[dvipsnames]" in source
    result = render(pool, source)
    assert result.status is RenderStatus.OK, result.error


def test_preloading_never_defines_what_the_document_did_not_load(pool):
    """A TikZ-only document that uses pgfplots' axis fails as it does with plain pdflatex."""
    body = "\\begin{tikzpicture}\\begin{axis}\\addplot {x};\\end{axis}\\end{tikzpicture}"
    result = render(pool, doc(body, "\\usepackage{tikz}\n"))
    assert result.status is RenderStatus.ERROR
    assert "Environment axis undefined" in result.error


def test_preloadable_package_is_read_from_the_preamble_only():
    from visplotbench.engine.renderers._texformat import wanted_package

    assert (
        wanted_package("\\documentclass{article}\\usepackage[x]{amsmath, pgfplots}\\begin{document}")
        == "pgfplots"
    )
    assert wanted_package("\\documentclass[tikz,border=2pt]{standalone}\\begin{document}") == "tikz"
    assert wanted_package("\\documentclass{article}\n% \\usepackage{tikz}\n\\begin{document}") is None
    assert wanted_package("\\documentclass{article}\\begin{document}\\usepackage{tikz}") is None


def test_missing_binary_is_an_environment_problem(monkeypatch, tmp_path):
    (tmp_path / "bwrap").symlink_to(shutil.which("bwrap"))  # only the tool itself is missing
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EnvironmentProblem, match="apt-get install texlive-latex-base"):
        LatexRenderer().check()
    with RenderPool(max_workers=1) as fresh:
        result = fresh.render(RenderJob(LANG, fixture_source("ok")))
    assert result.status is RenderStatus.ENV_FAILURE and "apt-get install texlive-latex-base" in result.error


# --- sandbox: one property per test -------------------------------------------------------------


@pytest.fixture
def secret_file(tmp_path):
    token = f"SECRET-{uuid.uuid4().hex}"
    path = tmp_path / "secret.tex"
    path.write_text(token + "\n")
    return path, token


def test_input_of_a_file_outside_the_job_fails(pool, secret_file):
    path, token = secret_file
    result = render(pool, doc(f"\\input{{{path}}}"))
    assert result.status is RenderStatus.ERROR
    assert_not_leaked(result, token)
    assert_still_renders(pool)


def test_openin_of_a_file_outside_the_job_reads_nothing(pool, secret_file):
    path, token = secret_file
    body = (
        f"\\newread\\r\\openin\\r={path} "
        "\\ifeof\\r\\typeout{NOFILE}\\else\\read\\r to\\x \\typeout{\\x}\\fi x"
    )
    result = render(pool, doc(body))
    assert result.status is RenderStatus.OK, result.error
    assert "NOFILE" in result.stdout  # \openin found nothing to open
    assert_not_leaked(result, token)
    assert_still_renders(pool)


def test_writing_outside_the_job_fails(pool, tmp_path):
    target = tmp_path / "written.txt"
    result = render(pool, doc(f"\\newwrite\\w\\immediate\\openout\\w={target}\\immediate\\write\\w{{x}}x"))
    assert result.status is RenderStatus.ERROR
    assert "can't write on file" in result.error
    assert not target.exists()
    assert_still_renders(pool)


@pytest.mark.parametrize("write18", [r"\write18", r"\immediate\write18"])
def test_shell_escape_does_not_run(pool, tmp_path, write18):
    marker = tmp_path / "ran.txt"
    result = render(pool, doc(f"{write18}{{touch {marker}}}x"))
    assert result.status is RenderStatus.OK, result.error  # shell escape is simply inert
    assert not marker.exists()


def test_memory_bomb_hits_tex_capacity(pool):
    result = render(pool, doc(r"\def\a{x\a}\edef\b{\a}"), limits=Limits(wall_s=15))
    assert result.status is RenderStatus.ERROR
    assert "TeX capacity exceeded" in result.error
    assert_still_renders(pool)


def test_output_flood_is_stopped(pool):
    flood = r"\def\f{\message{" + "x" * 200 + r"}\f}\f"
    result = render(pool, doc(flood), limits=Limits(wall_s=10, output_bytes=10_000))
    assert result.status is RenderStatus.ERROR
    assert "OutputLimitExceeded" in result.error
    assert len(result.stdout) <= 10_000
    assert_still_renders(pool)
