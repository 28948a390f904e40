"""VisPlotBench tasks: loaders for the Hub, local copies and the bundled task set."""

from visplotbench.tasks._bundled import BUNDLED_DIR, bundled_parquet, load_bundled
from visplotbench.tasks._load import HUB_REPO, load_tasks
from visplotbench.tasks._schema import COLUMNS, Task

__all__ = ["BUNDLED_DIR", "COLUMNS", "HUB_REPO", "Task", "bundled_parquet", "load_bundled", "load_tasks"]
