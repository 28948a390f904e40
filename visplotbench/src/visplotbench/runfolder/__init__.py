"""The run folder: the one module that reads and writes what a benchmark run leaves on disk.

    runs/<name>/
      config.json          RunManifest: what produced the run; its fingerprint must match on --resume
      results.jsonl        one AttemptRecord per task per round (append-only, fsynced; RunStore)
      images/              the attempts' PNGs and the tasks' reference images (<task>_ref.png)
      summary.json         pass rates when the run ended (the records stay the source of truth)
      scores.jsonl         one ScoreRecord per attempt per score kind (ScoreStore)
      scores_summary.json  score statistics and the scorer chosen per kind
      report.md, report.html

``RunFolder`` reads all of it (rounds, denominators, pass rates, references) for scoring, reports and
the CLI; the harness writes through ``RunStore``. The content-addressed caches (generations, renders,
judgements) live here too, as they are keyed by the same records. This package depends only on the
engine and the task loader: the harness, the judges and the reports depend on it, never the reverse.
"""

from visplotbench.engine._atomic import write_text_atomic
from visplotbench.runfolder._cache import Cache, default_cache_dir, digest
from visplotbench.runfolder._manifest import MANIFEST_VERSION, RunManifest, TaskCounts
from visplotbench.runfolder._reader import NOT_RUN, RunFolder
from visplotbench.runfolder._records import (
    RECORD_VERSION,
    SCORE_STATUSES,
    AttemptRecord,
    ScoreRecord,
)
from visplotbench.runfolder._status import AttemptStatus
from visplotbench.runfolder._stores import (
    MANIFEST_FILE,
    RESULTS_FILE,
    SCORES_FILE,
    SCORES_SUMMARY_FILE,
    SUMMARY_FILE,
    RunStore,
    ScoreStore,
)
from visplotbench.runfolder._summary import LanguageSummary, RunSummary, failure_kind, summarize

__all__ = [
    "MANIFEST_FILE",
    "MANIFEST_VERSION",
    "NOT_RUN",
    "RECORD_VERSION",
    "RESULTS_FILE",
    "SCORES_FILE",
    "SCORES_SUMMARY_FILE",
    "SCORE_STATUSES",
    "SUMMARY_FILE",
    "AttemptRecord",
    "AttemptStatus",
    "Cache",
    "LanguageSummary",
    "RunFolder",
    "RunManifest",
    "RunStore",
    "RunSummary",
    "ScoreRecord",
    "ScoreStore",
    "TaskCounts",
    "default_cache_dir",
    "digest",
    "failure_kind",
    "summarize",
    "write_text_atomic",
]
