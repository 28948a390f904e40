"""Run one stage's datatrove pipeline on the configured executor (local, Ray or Slurm).

Every stage has its own logging folder (``<work>/logs/<stage>``): datatrove records each finished
task there (``completions/``), so a rerun skips finished tasks and redoes only the ones that were in
flight. Per-task statistics land in ``stats/``; ``stage_stats`` merges them.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any, cast

from viscode_multi.config import BuildConfig


def run_pipeline(
    config: BuildConfig, stage: str, pipeline: list[Any], tasks: int, workers: int | None = None
) -> Path:
    """Run ``pipeline`` as ``tasks`` tasks; returns the stage's logging folder."""
    logging_dir = config.work_path / "logs" / stage
    workers = max(1, min(workers or config.workers, tasks))
    if config.executor == "local":
        from datatrove.executor import LocalPipelineExecutor

        LocalPipelineExecutor(
            pipeline, tasks=tasks, workers=workers, logging_dir=str(logging_dir), start_method="spawn"
        ).run()
    elif config.executor == "ray":
        import ray
        from datatrove.executor import RayPipelineExecutor

        _ray_init(ray)
        RayPipelineExecutor(
            pipeline,
            tasks=tasks,
            workers=workers,
            logging_dir=str(logging_dir),
            cpus_per_task=1,
            mem_per_cpu_gb=1,
        ).run()
    elif config.executor == "slurm":
        from datatrove.executor import SlurmPipelineExecutor

        options = {
            "time": "04:00:00",
            "partition": "cpu",
            "cpus_per_task": 2,
            "mem_per_cpu_gb": 4,
            **config.slurm,
        }
        SlurmPipelineExecutor(
            pipeline,
            tasks=tasks,
            workers=-1,
            logging_dir=str(logging_dir),
            job_name=f"vcm-{stage}",
            **options,
        ).run()
        _wait_for(logging_dir, tasks)
    else:
        raise ValueError(f"Unknown executor {config.executor!r}; choose local, ray or slurm.")
    return logging_dir


def _ray_init(ray: Any, attempts: int = 3) -> None:
    """``ray.init()`` (joins ``RAY_ADDRESS`` or starts a local node); retried, since a local node on a busy
    machine can miss Ray's fixed 30 s start-up deadline."""
    for attempt in range(1, attempts + 1):
        if ray.is_initialized():
            return
        try:
            ray.init(ignore_reinit_error=True, log_to_driver=False)
            return
        except Exception as exc:
            ray.shutdown()
            if attempt == attempts:
                raise RuntimeError(
                    f"Ray did not start ({exc}). Start a cluster with `ray start --head` and set "
                    "RAY_ADDRESS, or use --executor local."
                ) from exc


def _wait_for(logging_dir: Path, tasks: int, poll_s: float = 30.0) -> None:
    """Slurm jobs run detached: wait until every task has written its completion marker."""
    while True:
        done = (
            len(list((logging_dir / "completions").glob("*")))
            if (logging_dir / "completions").exists()
            else 0
        )
        if done >= tasks:
            return
        print(f"[slurm] {logging_dir.name}: {done}/{tasks} tasks complete", flush=True)
        time.sleep(poll_s)


def stage_stats(logging_dir: Path) -> Counter[str]:
    """Totals of every counter that the stage's steps recorded, over all tasks (``step/key`` -> total)."""
    totals: Counter[str] = Counter()
    for path in sorted((logging_dir / "stats").glob("*.json")):
        for step in json.loads(path.read_text()):
            name = step.get("name", "?").split(": ", 1)[-1]
            for key, value in (step.get("stats") or {}).items():
                total = value.get("total", value) if isinstance(value, dict) else value
                if isinstance(total, int | float):
                    # datatrove's timing stats are seconds (floats); a Counter adds them as well as ints
                    totals[f"{name}/{key}"] += cast(int, total)
    return totals
