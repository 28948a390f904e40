"""One small program per language that must render everywhere: doctor's canaries and `make run`'s demo."""

from __future__ import annotations

from importlib import resources

from visplotbench.engine._types import RenderJob
from visplotbench.engine.registry import LANGUAGES, data_files

_SOURCES = {
    "python": "python.py",
    "vegalite": "vegalite.vl.json",
    "mermaid": "mermaid.mmd",
    "lilypond": "lilypond.ly",
    "svg": "svg.svg",
    "asymptote": "asymptote.asy",
    "latex": "latex.tex",
    "html": "html.html",
}


def example_job(language: str) -> RenderJob:
    """The bundled example of ``language`` as a render job (with its data file, if any)."""
    folder = resources.files(__name__)
    source = (folder / _SOURCES[language]).read_text(encoding="utf-8")
    data_file = folder / f"{language}.data.csv"
    data = data_file.read_text(encoding="utf-8") if data_file.is_file() else None
    return RenderJob(language, source, data_files(language, data))


def example_jobs() -> list[RenderJob]:
    return [example_job(language) for language in LANGUAGES]
