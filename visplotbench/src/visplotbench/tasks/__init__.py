"""VisPlotBench tasks: the bundled task set (Hub layout, one config per language, split ``test``)."""

from visplotbench.tasks._bundled import BUNDLED_DIR, bundled_parquet, load_bundled
from visplotbench.tasks._schema import COLUMNS, Task

__all__ = ["BUNDLED_DIR", "COLUMNS", "Task", "bundled_parquet", "load_bundled"]
