"""The VisPlotBench row schema (plus our reference ``code``) and its parquet/Hub encoding."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The columns of TIGER-Lab/VisPlotBench (every config), then our reference solution.
COLUMNS = (
    "id",
    "task__plot_description",
    "task__plot_style",
    "data",
    "used_lib",
    "vis_cate",
    "subtype",
    "image",
    "code",
)

# Declared to `datasets` through the parquet schema metadata, so `image` loads as an Image feature.
HF_FEATURES = {
    "id": {"dtype": "string", "_type": "Value"},
    "task__plot_description": {"dtype": "string", "_type": "Value"},
    "task__plot_style": {"dtype": "string", "_type": "Value"},
    "data": {"dtype": "string", "_type": "Value"},
    "used_lib": {"feature": {"dtype": "string", "_type": "Value"}, "_type": "List"},
    "vis_cate": {"dtype": "string", "_type": "Value"},
    "subtype": {"dtype": "string", "_type": "Value"},
    "image": {"_type": "Image"},
    "code": {"dtype": "string", "_type": "Value"},
}


@dataclass
class Task:
    """One VisPlotBench task.

    Attributes:
        id: ``<language>_<n>``.
        task__plot_description: what to draw (the "Task Description").
        task__plot_style: how it should look (the "Style Description").
        data: the language's data payload (CSV, Asymptote data code, or empty).
        used_lib: libraries the task is meant for (a list, as on the Hub).
        vis_cate: visual category (13 values).
        subtype: visual subtype.
        image: the reference image as PNG bytes (empty when absent).
        code: a reference solution (empty when the source has none, as on the Hub).
        language: the language key; taken from ``id`` when not given.
        files: more data files for the task's programs, name -> text (task sets of your own: an
            optional ``files`` column holding a JSON object; the Hub dataset has none). Names
            follow ``visplotbench.engine.RenderJob``'s rules; a task with an illegal one is recorded
            in a run as ``bad_task`` with the name in its error.
    """

    id: str
    task__plot_description: str
    task__plot_style: str
    data: str
    used_lib: list[str]
    vis_cate: str
    subtype: str
    image: bytes = b""
    code: str = ""
    language: str = ""
    files: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.language:
            self.language = self.id.rsplit("_", 1)[0]


def task_files(value: Any) -> dict[str, str]:
    """The optional ``files`` column of a task row: a JSON object (or a dict) of name -> text."""
    if not value:
        return {}
    found = json.loads(value) if isinstance(value, str) else value
    if not isinstance(found, dict):
        raise ValueError(f"a task's 'files' must be a JSON object of file name -> text, got {value!r:.80}")
    return {str(name): str(text) for name, text in found.items()}


def arrow_schema():
    import pyarrow as pa

    fields = [
        pa.field("id", pa.string()),
        pa.field("task__plot_description", pa.string()),
        pa.field("task__plot_style", pa.string()),
        pa.field("data", pa.string()),
        pa.field("used_lib", pa.list_(pa.string())),
        pa.field("vis_cate", pa.string()),
        pa.field("subtype", pa.string()),
        pa.field("image", pa.struct([pa.field("bytes", pa.binary()), pa.field("path", pa.string())])),
        pa.field("code", pa.string()),
    ]
    meta = {"huggingface": json.dumps({"info": {"features": HF_FEATURES}})}
    return pa.schema(fields, metadata=meta)


def rows_to_table(rows: list[Task]):
    import pyarrow as pa

    columns = {name: [] for name in COLUMNS}  # type: dict[str, list]
    for row in rows:
        for name in COLUMNS:
            value = getattr(row, name)
            if name == "image":
                value = {"bytes": value or None, "path": f"{row.id}.png" if value else None}
            columns[name].append(value)
    return pa.table(columns, schema=arrow_schema())


def read_parquet(path: str | Path) -> Any:
    """One parquet file as a ``pyarrow.Table``.

    Read with ``ParquetFile``, not ``pq.read_table``: that one goes through ``pyarrow.dataset``,
    whose import alone costs ~0.4 CPU-s in every run (which loads its tasks from a single file).
    """
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as f:
        return f.read()


def table_to_rows(table, language: str = "") -> list[Task]:
    rows = []
    for record in table.to_pylist():
        image = record.get("image") or {}
        rows.append(
            Task(
                id=record["id"],
                task__plot_description=record["task__plot_description"] or "",
                task__plot_style=record["task__plot_style"] or "",
                data=record["data"] or "",
                used_lib=list(record["used_lib"] or []),
                vis_cate=record["vis_cate"] or "",
                subtype=record["subtype"] or "",
                image=(image.get("bytes") or b"") if isinstance(image, dict) else b"",
                code=record.get("code") or "",
                language=language or record.get("language") or "",  # an optional column, else the id's
                files=task_files(record.get("files")),
            )
        )
    return rows
