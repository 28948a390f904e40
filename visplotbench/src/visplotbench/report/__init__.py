"""Reports of a run folder: ``report.md`` (the paper's tables) and ``report.html`` (offline; images linked from the run folder).

    from visplotbench.report import write_reports
    write_reports("runs/openai_gpt-4.1")   # -> {"markdown": .../report.md, "html": .../report.html}

Both are rebuilt from the run folder (``visplotbench.runfolder.RunFolder``, see ``load_run``), so they can be
regenerated at any time, also for a run that is still going or was interrupted.
"""

from __future__ import annotations

from pathlib import Path

from visplotbench.report._data import RunData, TaskView, language_name, load_run
from visplotbench.report._html import render_html
from visplotbench.report._markdown import render_markdown
from visplotbench.runfolder import write_text_atomic


def write_reports(run_folder: str | Path, *, inline_images: bool = False) -> dict[str, Path]:
    """Write ``report.md`` and ``report.html`` into ``run_folder`` and return their paths.

    ``report.html`` links the run folder's ``images/`` (keep them together when copying it);
    ``inline_images=True`` embeds them instead (one self-contained, much larger file).
    """
    run = load_run(run_folder)
    paths = {"markdown": run.folder / "report.md", "html": run.folder / "report.html"}
    write_text_atomic(paths["markdown"], render_markdown(run))
    write_text_atomic(paths["html"], render_html(run, inline_images=inline_images))
    return paths


__all__ = [
    "RunData",
    "TaskView",
    "language_name",
    "load_run",
    "render_html",
    "render_markdown",
    "write_reports",
]
