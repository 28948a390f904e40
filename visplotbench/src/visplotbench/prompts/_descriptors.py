"""Data descriptors: how a task's CSV is summarised in the prompt (the original's six kinds).

``head`` is the default and the paper's setting. Each descriptor gets a pandas DataFrame and returns
text; ``describe_data`` parses the CSV and applies the chosen one.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

DESCRIPTORS = ("head", "describe", "datalore", "pycharm", "lida", "empty")


def _shape_and_types(df: Any) -> str:
    types = ", ".join(f"{col}: {dtype}" for col, dtype in df.dtypes.items())
    return f"DataFrame with {df.shape[1]} columns and {df.shape[0]} rows\nColumn names and types: {types}"


def _head(df: Any) -> str:
    return f"{_shape_and_types(df)}\nHead:\n{df.head().to_json()}"


def _describe(df: Any) -> str:
    return f"{_shape_and_types(df)}\nColumns stats:\n{df.describe().to_json()}"


def _datalore(df: Any) -> str:
    return _shape_and_types(df)


def _pycharm(df: Any) -> str:
    import pandas as pd

    lines = [f"Number of rows in DataFrame: {len(df)}", "DataFrame has the following columns:"]
    for col in df.columns:
        values = df[col].dropna()
        kinds = sorted({type(v).__name__ for v in values.tolist()})
        kind = kinds[0] if len(kinds) == 1 else "{" + ", ".join(kinds) + "}"
        line = f"{col}: {kind}, {values.count()} non-null"
        if pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col]) and len(values):
            line += (
                f", mean {values.mean():.6g}, std {values.std():.6g}, min {values.min():.6g},"
                f" max {values.max():.6g}"
            )
        lines.append(line)
    return "\n".join(lines)


def _lida(df: Any) -> str:
    import pandas as pd

    props = []
    for col in df.columns:
        series = df[col]
        entry: dict[str, Any] = {}
        if pd.api.types.is_bool_dtype(series):
            entry["dtype"] = "boolean"
        elif pd.api.types.is_numeric_dtype(series):
            entry.update(
                dtype="number", std=_plain(series.std()), min=_plain(series.min()), max=_plain(series.max())
            )
        elif pd.api.types.is_datetime64_any_dtype(series):
            entry.update(dtype="date", min=str(series.min()), max=str(series.max()))
        elif series.dtype == object or pd.api.types.is_string_dtype(series):
            ratio = series.nunique() / max(len(series), 1)
            entry["dtype"] = "category" if ratio < 0.5 else "string"
        else:
            entry["dtype"] = str(series.dtype)
        uniques = series.dropna().drop_duplicates()
        entry["samples"] = [_plain(v) for v in uniques.sample(min(3, len(uniques)), random_state=42).tolist()]
        entry["num_unique_values"] = int(series.nunique())
        props.append({"column": str(col), "properties": entry})
    return json.dumps(props, indent=2)


def _plain(value: Any) -> Any:
    """numpy scalars -> Python values that json can write."""
    return value.item() if hasattr(value, "item") else value


_FUNCS: dict[str, Callable[[Any], str]] = {
    "head": _head,
    "describe": _describe,
    "datalore": _datalore,
    "pycharm": _pycharm,
    "lida": _lida,
    "empty": lambda df: "",
}


def describe_data(csv_text: str, kind: str = "head") -> str:
    """Summarise CSV text with descriptor ``kind`` (one of ``DESCRIPTORS``)."""
    if kind not in _FUNCS:
        raise ValueError(f"Unknown data descriptor {kind!r}. Choose one of: {', '.join(DESCRIPTORS)}.")
    if kind == "empty":
        return ""
    import pandas as pd

    return _FUNCS[kind](pd.read_csv(io.StringIO(csv_text)))
