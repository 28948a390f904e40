"""VisPlotBench tasks: the bundled task set (Hub layout, one config per language, split ``test``)."""

from visplotbench.tasks._bundled import BUNDLED_DIR, bundled_parquet, load_bundled_rows
from visplotbench.tasks._schema import COLUMNS, TaskRow

__all__ = ["BUNDLED_DIR", "COLUMNS", "TaskRow", "bundled_parquet", "load_bundled_rows"]
