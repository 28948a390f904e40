"""Load tasks from the Hub, a local folder or parquet file in the Hub layout, or the bundled set.

Sources:
  * ``bundled``: the task set inside this package (offline).
  * ``hub`` or a repo id (``TIGER-Lab/VisPlotBench``): ``datasets.load_dataset(repo, <language>, split="test")``.
  * a folder in the Hub layout (README ``configs:`` + ``<language>/*.parquet``): the same call on the path.
  * a ``.parquet`` file: its rows; the language comes from each ``id`` (``<language>_<n>``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from visplotbench.engine.registry import LANGUAGES
from visplotbench.tasks._bundled import BUNDLED_DIR, load_bundled
from visplotbench.tasks._schema import Task, read_parquet, table_to_rows, task_files

HUB_REPO = "TIGER-Lab/VisPlotBench"


def _row_to_task(row: dict[str, Any], language: str) -> Task:
    image = row.get("image")
    png = b""
    if isinstance(image, dict):
        png = image.get("bytes") or b""
    used_lib = row.get("used_lib") or []
    if isinstance(used_lib, str):
        used_lib = [used_lib]
    return Task(
        id=str(row["id"]),
        task__plot_description=row.get("task__plot_description") or "",
        task__plot_style=row.get("task__plot_style") or "",
        data=row.get("data") or "",
        used_lib=[str(x) for x in used_lib],
        vis_cate=row.get("vis_cate") or "",
        subtype=row.get("subtype") or "",
        image=png,
        code=row.get("code") or "",
        language=language,
        files=task_files(row.get("files")),
    )


def _load_with_datasets(repo: str, language: str) -> list[Task]:
    import datasets

    try:
        ds = datasets.load_dataset(repo, language, split="test")
    except Exception as exc:  # ConnectionError, OfflineModeIsEnabled, DatasetNotFoundError...
        raise RuntimeError(
            f"Could not load {repo!r} (config {language!r}) with datasets: {type(exc).__name__}: {exc}\n"
            "If the Hugging Face Hub is unreachable, use the bundled task set (--tasks bundled), a local "
            "copy in the Hub layout (--tasks /path/to/VisPlotBench) or a parquet file (--tasks file.parquet)."
        ) from exc
    if "image" in ds.column_names:
        ds = ds.cast_column("image", datasets.Image(decode=False))
    return [_row_to_task(row, language) for row in ds]


def load_tasks(
    source: str = "bundled", languages: list[str] | None = None, limit: int | None = None
) -> list[Task]:
    """Tasks of ``languages`` (all when None) from ``source``; ``limit`` keeps the first N per language."""
    wanted = languages or list(LANGUAGES)
    for lang in wanted:
        if lang not in LANGUAGES:
            raise ValueError(f"Unknown language {lang!r}. Choose from: {', '.join(LANGUAGES)} (or 'all').")
    tasks: list[Task] = []
    path = Path(source)
    if source == "bundled":
        for lang in wanted:
            tasks += load_bundled(lang)[:limit]
    elif source.endswith(".parquet") and path.is_file():
        rows = table_to_rows(read_parquet(path))
        for lang in wanted:
            tasks += [r for r in rows if r.language == lang][:limit]
    elif path.is_dir():
        for lang in wanted:
            tasks += _load_with_datasets(str(path), lang)[:limit]
    else:
        repo = HUB_REPO if source == "hub" else source
        for lang in wanted:
            tasks += _load_with_datasets(repo, lang)[:limit]
    ids = [t.id for t in tasks]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{source}: task ids are not unique.")
    return tasks


__all__ = ["BUNDLED_DIR", "HUB_REPO", "load_tasks"]
