"""The renderer contract, checked once for every language in ``LANGUAGES``.

Adding a language is checkable: one renderer file, one registry line, the fixtures named below in
``fixtures/<language>/``, and this suite passes. Language test files keep only what is particular to
their language (error wording, tool quirks, security properties of that tool).
"""

from __future__ import annotations

import inspect

import pytest
from conftest import FIXTURES, fixture_source
from visplotbench.engine import LANGUAGES, Limits, RenderJob, RenderPool, RenderStatus
from visplotbench.engine.registry import renderer_class
from visplotbench.engine.renderers._base import Renderer
from visplotbench.runfolder._cache import render_key

ALL = list(LANGUAGES)
REQUIRED_FIXTURES = ("ok", "syntax_error", "runtime_error", "blank")
# Languages that are programs can loop forever; Mermaid and SVG are data (their long jobs are
# language-particular tests: a huge layout, a huge canvas).
WITH_TIMEOUT = [lang for lang in ALL if any((FIXTURES / lang).glob("timeout.*"))]
# A Vega-Lite spec that never finishes may also end in vl-convert's own error.
TIMEOUT_STATUSES = {"vegalite": (RenderStatus.TIMEOUT, RenderStatus.ERROR)}
# Data for the ok fixtures that read the task's data file (the VisPlotBench names).
OK_FILES = {"vegalite": {"data.csv": "city,rain\nOslo,12\nBergen,31.5\nTromso,20\n"}}
# Programs that draw the data file's content: two different files must give two different images.
DATA_PROGRAMS = {
    "python": ("read_data", "data.csv", "fruit,kg\napple,12\nbanana,7\ncherry,3\n"),
    "vegalite": ("ok", "data.csv", "city,rain\nOslo,12\nBergen,31.5\nTromso,20\n"),
    "latex": ("data", "latex.csv", "month,sales\n1,2\n2,7\n3,5\n4,9\n"),
}


def ok_job(language: str, **kwargs) -> RenderJob:
    return RenderJob(language, fixture_source(language, "ok"), dict(OK_FILES.get(language, {})), **kwargs)


@pytest.mark.parametrize("language", ALL)
def test_registered_renderer_has_one_method_to_implement_and_the_fixtures(language):
    cls = renderer_class(language)
    assert issubclass(cls, Renderer) and not inspect.isabstract(cls)
    assert Renderer.__abstractmethods__ == frozenset({"render"})
    assert cls.language == language and cls.source_name
    for name in REQUIRED_FIXTURES:
        assert list((FIXTURES / language).glob(f"{name}.*")), f"fixtures/{language}/{name}.* is missing"


@pytest.mark.parametrize("language", ALL)
def test_ok(pool, need, language):
    need(language)
    result = pool.render(ok_job(language))
    assert result.status is RenderStatus.OK, result.error
    assert result.images and all(png.startswith(b"\x89PNG") for png in result.images)
    assert result.error == ""
    assert result.tool_versions and result.tool_versions == pool.renderer(language).versions()
    assert result.timings["total"] >= result.timings.get("run", 0.0)


@pytest.mark.parametrize("language", ALL)
@pytest.mark.parametrize("kind", ["syntax_error", "runtime_error"])
def test_errors_are_the_programs_with_a_message(pool, need, language, kind):
    need(language)
    result = pool.render(RenderJob(language, fixture_source(language, kind)))
    assert result.status is RenderStatus.ERROR, (result.status, result.error)
    assert result.error.strip()


@pytest.mark.parametrize("language", ALL)
def test_blank(pool, need, language):
    need(language)
    result = pool.render(RenderJob(language, fixture_source(language, "blank")))
    assert result.status is RenderStatus.BLANK, result.error
    assert "blank" in result.error


@pytest.mark.parametrize("language", ALL)
def test_same_source_gives_identical_png_bytes(pool, need, language):
    need(language)
    first, second = pool.render(ok_job(language)), pool.render(ok_job(language))
    assert first.status is RenderStatus.OK and first.images == second.images


@pytest.mark.parametrize("language", list(DATA_PROGRAMS))
def test_data_file_reaches_the_program(pool, need, language):
    need(language)
    name, file_name, data = DATA_PROGRAMS[language]
    source = fixture_source(language, name)
    first = pool.render(RenderJob(language, source, {file_name: data}))
    other = pool.render(RenderJob(language, source, {file_name: data.replace("12", "2").replace("5", "9")}))
    assert first.status is RenderStatus.OK and other.status is RenderStatus.OK, first.error + other.error
    assert first.images != other.images


@pytest.mark.slow
@pytest.mark.parametrize("language", WITH_TIMEOUT)
def test_timeout_stops_the_job_and_the_next_job_renders(pool, need, language):
    need(language)
    pool.render(ok_job(language))  # warm: the limit applies to the job, not to the renderer's start
    result = pool.render(RenderJob(language, fixture_source(language, "timeout"), limits=Limits(wall_s=3)))
    assert result.status in TIMEOUT_STATUSES.get(language, (RenderStatus.TIMEOUT,)), result.error
    if result.status is RenderStatus.TIMEOUT:
        assert "3 s" in result.error
    assert pool.render(ok_job(language)).status is RenderStatus.OK


@pytest.mark.parametrize("language", ALL)
def test_versions_are_known_before_the_renderer_starts_and_keep_the_cache_key(need, language):
    """The render cache key of a job must not change when a warm process or the browser starts
    (it did: Chromium was "unknown (not started)" until launched, so a fully cached re-run never saw a
    Chromium upgrade)."""
    need(language)
    with RenderPool() as fresh:
        renderer = fresh.renderer(language)
        before = renderer.versions()
        job = ok_job(language)
        key = render_key(job, before)
        assert fresh.render(job).status is RenderStatus.OK
        after = renderer.versions()
    assert before == after and render_key(job, after) == key
    assert before and not any("unknown" in v or "not started" in v for v in before.values()), before


def test_browser_drawn_languages_name_the_browser_in_their_versions(need):
    for language in ("html", "mermaid", "python"):
        need(language)
    with RenderPool() as fresh:
        versions = {lang: fresh.renderer(lang).versions() for lang in ("html", "mermaid", "python")}
    chromium = {v["chromium"] for v in versions.values()}
    assert len(chromium) == 1 and next(iter(chromium))[0].isdigit()
    assert versions["python"]["plotly.js"][0].isdigit()  # plotly figures are drawn by plotly.js
