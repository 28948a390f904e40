"""The benchmark harness: runs, self-debugging, results store, caches and metrics."""

from visplotbench.harness._metrics import LanguageSummary, RunSummary, failure_kind, summarize
from visplotbench.harness._records import AttemptRecord
from visplotbench.harness._runner import RunConfig, Runner, out_folder, run_benchmark
from visplotbench.harness._store import RunStore

__all__ = [
    "AttemptRecord",
    "LanguageSummary",
    "RunConfig",
    "RunStore",
    "RunSummary",
    "Runner",
    "failure_kind",
    "out_folder",
    "run_benchmark",
    "summarize",
]
