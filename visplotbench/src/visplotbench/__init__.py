"""visplotbench: a safe, fast render engine for visualization code in 8 languages, and VisPlotBench.

The engine: ``render`` / ``RenderPool`` run a ``RenderJob`` in a sandbox and return a typed
``RenderResult``. The benchmark: ``run_benchmark(RunConfig(...))`` generates, renders, self-debugs,
scores and reports; ``validate`` is the gold run; ``score_run`` and ``write_reports`` work on an
existing run folder, which ``RunFolder`` reads. Tasks, prompts and code extraction are the benchmark's
building blocks for other tools (the dataset pipeline, RL rewards): ``load_tasks``, ``build_messages``,
``extract_code``; ``ssim`` / ``edge_f1`` / ``compare_images`` are the offline image metrics. The
``evaluate`` metric: ``evaluate.load(visplotbench.metric_path())``, over ``score_replies``.

Imports are lazy: ``import visplotbench`` loads no renderer, no model library and no image stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from visplotbench._version import __version__

if TYPE_CHECKING:
    from visplotbench._benchmark import Validation, run_benchmark, validate
    from visplotbench.engine import (
        LANGUAGES,
        EnvironmentProblem,
        InvalidJob,
        Limits,
        RenderJob,
        RenderPool,
        RenderResult,
        RenderStatus,
        render,
    )
    from visplotbench.extract import Extraction, extract_code
    from visplotbench.harness import RunConfig
    from visplotbench.judges import compare_images, edge_f1, score_run, ssim
    from visplotbench.metric import ReplyScores, metric_path, score_replies
    from visplotbench.prompts import build_messages, load_prompts
    from visplotbench.report import write_reports
    from visplotbench.runfolder import AttemptRecord, AttemptStatus, RunFolder, RunManifest, RunSummary
    from visplotbench.tasks import Task, load_tasks

# Public name -> the module that defines it (imported on first use, so the import stays light).
_EXPORTS = {
    "LANGUAGES": "visplotbench.engine",
    "EnvironmentProblem": "visplotbench.engine",
    "InvalidJob": "visplotbench.engine",
    "Limits": "visplotbench.engine",
    "RenderJob": "visplotbench.engine",
    "RenderPool": "visplotbench.engine",
    "RenderResult": "visplotbench.engine",
    "RenderStatus": "visplotbench.engine",
    "render": "visplotbench.engine",
    "RunConfig": "visplotbench.harness",
    "run_benchmark": "visplotbench._benchmark",
    "validate": "visplotbench._benchmark",
    "Validation": "visplotbench._benchmark",
    "score_run": "visplotbench.judges",
    "ssim": "visplotbench.judges",
    "edge_f1": "visplotbench.judges",
    "compare_images": "visplotbench.judges",
    "write_reports": "visplotbench.report",
    "metric_path": "visplotbench.metric",
    "score_replies": "visplotbench.metric",
    "ReplyScores": "visplotbench.metric",
    "RunFolder": "visplotbench.runfolder",
    "RunManifest": "visplotbench.runfolder",
    "RunSummary": "visplotbench.runfolder",
    "AttemptRecord": "visplotbench.runfolder",
    "AttemptStatus": "visplotbench.runfolder",
    "Task": "visplotbench.tasks",
    "load_tasks": "visplotbench.tasks",
    "build_messages": "visplotbench.prompts",
    "load_prompts": "visplotbench.prompts",
    "Extraction": "visplotbench.extract",
    "extract_code": "visplotbench.extract",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'visplotbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "LANGUAGES",
    "AttemptRecord",
    "AttemptStatus",
    "EnvironmentProblem",
    "Extraction",
    "InvalidJob",
    "Limits",
    "RenderJob",
    "RenderPool",
    "RenderResult",
    "RenderStatus",
    "ReplyScores",
    "RunConfig",
    "RunFolder",
    "RunManifest",
    "RunSummary",
    "Task",
    "Validation",
    "__version__",
    "build_messages",
    "compare_images",
    "edge_f1",
    "extract_code",
    "load_prompts",
    "load_tasks",
    "metric_path",
    "render",
    "run_benchmark",
    "score_replies",
    "score_run",
    "ssim",
    "validate",
    "write_reports",
]
