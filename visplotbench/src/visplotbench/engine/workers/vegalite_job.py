"""Vega-Lite job handler: vl-convert inside a warm sandboxed worker (in-process: not fork-safe).

The spec is data, not a program: it is parsed as JSON, the task's ``data.csv`` is inlined wherever
the spec points at it (top level, layers, concat, facet, repeat, any depth), and vl-convert draws it
with ``allowed_base_urls=[]`` so no file or network is read. A data URL other than data.csv would
otherwise render an empty chart with no error, so it is reported as an error instead.
"""

from __future__ import annotations

import csv
import json
import os
import re
from typing import Any

_SCHEMA_VERSION = re.compile(r"/vega-lite/v(\d+)(?:\.(\d+))?")
_vl: Any = None


def warm() -> None:
    global _vl
    import vl_convert

    _vl = vl_convert
    # The first conversion starts the embedded JS runtime (~0.8 s): pay it once per worker.
    _vl.vegalite_to_png(
        {"mark": "point", "data": {"values": [{"a": 1}]}, "encoding": {"x": {"field": "a"}}},
        allowed_base_urls=[],
    )


def _number(text: str) -> Any:
    if text == "":
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def read_rows(path: str) -> list[dict[str, Any]]:
    """CSV rows as records; numbers become numbers, empty cells null (as pandas would give)."""
    with open(path, newline="", encoding="utf-8") as f:
        return [{k: _number(v or "") for k, v in row.items()} for row in csv.DictReader(f)]


def inline_data(node: Any, rows: list[dict[str, Any]] | None) -> Any:
    """Replace every ``{"url": ".../data.csv"}`` data block (any depth) by the task's rows."""
    if isinstance(node, list):
        return [inline_data(item, rows) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "data" and isinstance(value, dict) and "url" in value:
            url = str(value["url"])
            if not url.split("?")[0].endswith("data.csv"):
                raise ValueError(
                    f'DataError: the spec loads data from "{url}", which is not available; '
                    'load the task data with "data": {"url": "data.csv"} or inline "values".'
                )
            if rows is None:
                raise ValueError('DataError: the spec loads "data.csv" but this task has no data file.')
            extra = {k: v for k, v in value.items() if k not in ("url", "format")}
            out[key] = {**extra, "values": rows}
        else:
            out[key] = inline_data(value, rows)
    return out


def _version(spec: dict[str, Any]) -> str | None:
    """The bundled Vega-Lite version that matches the spec's $schema (None: vl-convert's default)."""
    match = _SCHEMA_VERSION.search(str(spec.get("$schema", "")))
    if not match:
        return None
    available = _vl.get_vegalite_versions()
    major = match.group(1)
    wanted = f"{major}.{match.group(2)}" if match.group(2) else None
    if wanted in available:
        return wanted
    same_major = [v for v in available if v.split(".")[0] == major]
    return same_major[-1] if same_major else None


_MARKS = {
    "arc",
    "area",
    "bar",
    "boxplot",
    "circle",
    "errorband",
    "errorbar",
    "geoshape",
    "image",
    "line",
    "point",
    "rect",
    "rule",
    "square",
    "text",
    "tick",
    "trail",
}


def check_marks(node: Any, path: str = "spec") -> None:
    """Unknown marks make Vega-Lite fail with a cryptic TypeError: name the mark and the choices."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            check_marks(item, f"{path}[{i}]")
    elif isinstance(node, dict):
        mark = node.get("mark")
        name = mark.get("type") if isinstance(mark, dict) else mark
        if isinstance(name, str) and name not in _MARKS:
            raise ValueError(
                f"SpecError: unknown mark type {name!r} at {path}; valid marks: {', '.join(sorted(_MARKS))}."
            )
        for key in ("layer", "concat", "hconcat", "vconcat", "spec"):
            if key in node:
                check_marks(node[key], f"{path}.{key}")


def run(job_dir: str, options: dict) -> None:
    with open(os.path.join(job_dir, "main.vl.json"), encoding="utf-8") as f:
        text = f.read()
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"JSONDecodeError: {exc.msg}: line {exc.lineno} column {exc.colno}") from None
    if not isinstance(spec, dict):
        raise ValueError("SpecError: the Vega-Lite spec must be a JSON object.")
    data_path = os.path.join(job_dir, "data.csv")
    rows = read_rows(data_path) if os.path.exists(data_path) else None
    spec = inline_data(spec, rows)
    check_marks(spec)
    try:
        png = _vl.vegalite_to_png(
            # As a JSON string: vl-convert converts a dict field by field (~5 % of a render).
            json.dumps(spec),
            vl_version=_version(spec),
            scale=float(options["scale"]),
            allowed_base_urls=[],
        )
    except ValueError as exc:
        # Keep vl-convert's message, drop the JS stack frames (they point into the bundle, not the spec).
        lines = [ln for ln in str(exc).splitlines() if not ln.lstrip().startswith("at ")]
        raise ValueError("\n".join(lines).replace("Vega-Lite to PNG conversion failed:\n", "")) from None
    os.makedirs(os.path.join(job_dir, "out"), exist_ok=True)
    with open(os.path.join(job_dir, "out", "0.png"), "wb") as f:
        f.write(png)
