"""Language -> renderer map, imported lazily so that ``import visplotbench`` stays light.

Adding a language is one file + one map entry + one fixture folder, checked by one suite:
  1. ``visplotbench/src/visplotbench/engine/renderers/<lang>.py``: a ``Renderer`` subclass that sets
     ``language``, ``source_name``, ``default_limits`` and implements its one abstract method,
     ``render(job)`` (run the tool with ``run_sandboxed`` in a ``job_directory`` and hand its outputs to
     ``finish``); optionally ``check``, ``versions`` (known before anything starts) and ``close``;
  2. an entry ``"<lang>": "visplotbench.engine.renderers.<lang>:<Class>"`` in ``LANGUAGES`` below;
  3. ``tests/visplotbench/fixtures/<lang>/`` with ``ok``, ``syntax_error``, ``runtime_error`` and
     ``blank`` programs (and ``timeout`` for a language that can loop);
  4. ``tests/visplotbench/test_renderer_contract.py`` passes for it (it is parametrized over
     ``LANGUAGES``); ``tests/visplotbench/test_render_<lang>.py`` holds only what is particular.
"""

from __future__ import annotations

import importlib

from visplotbench.engine.renderers._base import Renderer

LANGUAGES: dict[str, str] = {
    "python": "visplotbench.engine.renderers.python:PythonRenderer",
    "vegalite": "visplotbench.engine.renderers.vegalite:VegaLiteRenderer",
    "mermaid": "visplotbench.engine.renderers.mermaid:MermaidRenderer",
    "lilypond": "visplotbench.engine.renderers.lilypond:LilyPondRenderer",
    "svg": "visplotbench.engine.renderers.svg:SvgRenderer",
    "asymptote": "visplotbench.engine.renderers.asymptote:AsymptoteRenderer",
    "latex": "visplotbench.engine.renderers.latex:LatexRenderer",
    "html": "visplotbench.engine.renderers.html:HtmlRenderer",
}


def check_language(language: str) -> str:
    """Return ``language`` if it is registered, else raise a ValueError that lists the choices."""
    if language not in LANGUAGES:
        raise ValueError(f"Unknown language {language!r}. Choose one of: {', '.join(LANGUAGES)}.")
    return language


def renderer_class(language: str) -> type[Renderer]:
    """Import and return the renderer class registered for ``language``."""
    module_name, _, class_name = LANGUAGES[check_language(language)].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(
            f"The {language} renderer needs a package that is not installed ({exc.name}). "
            "Fix: pip install 'visplotbench[all]' (or run `make install`)."
        ) from exc
    cls: type[Renderer] = getattr(module, class_name)
    return cls


# Where a task's CSV data goes for each language (the VisPlotBench convention); others take no file.
DATA_FILE_NAMES: dict[str, str] = {
    "python": "data.csv",
    "vegalite": "data.csv",
    "latex": "latex.csv",
    "html": "html.csv",
}


def data_files(language: str, data: str | None) -> dict[str, str | bytes]:
    """The job files that carry a task's ``data`` column for ``language`` (empty when none)."""
    name = DATA_FILE_NAMES.get(language)
    return {name: data} if name and data else {}
