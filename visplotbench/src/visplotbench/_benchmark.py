"""The benchmark's entry points: run (generate, render, record), then score and report; validate.

    from visplotbench import RunConfig, run_benchmark, validate
    summary = run_benchmark(RunConfig(model="openai:gpt-4.1", out="runs/gpt-4.1", self_debug=3))
    check = validate(languages=["svg"])          # gold run: every reference solution must render

These compose the layers in one direction: the harness writes the run folder, the judges add scores
to it, the reports read it; none of them calls another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from visplotbench.harness import RunConfig, Runner
from visplotbench.judges import OnlineScorer, score_run
from visplotbench.report import write_reports
from visplotbench.runfolder import AttemptRecord, RunFolder, RunSummary


def run_benchmark(config: RunConfig) -> RunSummary:
    """Run (or resume) a benchmark, score it offline (unless ``config.offline_metrics`` is off), write
    ``report.md`` and ``report.html``, and return the pass-rate summary; see ``RunConfig``."""
    runner = Runner(config)
    scorer = OnlineScorer(config.out) if config.offline_metrics else None
    if scorer is not None:  # score each attempt as it is recorded: no idle renderers after the run
        runner.listeners.append(scorer.submit)
    try:
        summary = runner.run()
    finally:
        if scorer is not None:
            scorer.close()
    if config.offline_metrics:
        # Offline image metrics against the references (no model): cheap, on by default.
        score_run(config.out, tasks=runner.tasks, cache_dir=config.cache_dir)
    write_reports(config.out)
    return summary


@dataclass
class Validation:
    """The outcome of a gold run.

    Attributes:
        summary: pass rates per language (all 100 % when every reference renders).
        failed: the attempts that did not pass (reference programs that do not render here).
    """

    summary: RunSummary
    failed: list[AttemptRecord] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every reference rendered and the run is complete."""
        return not self.failed and self.summary.complete


def validate(
    out: str = "runs/validate",
    *,
    languages: list[str] | None = None,
    tasks: str = "bundled",
    cache_dir: str | None = None,
    resume: bool = False,
    progress: bool = True,
    **options: Any,
) -> Validation:
    """Gold run: render every task's reference solution (no self-debug) and list those that fail.

    Args:
        out: the run folder.
        languages: language keys (all when None).
        tasks: the task source (see ``RunConfig.tasks``).
        cache_dir: the caches; "" disables them.
        resume: continue the run in ``out``.
        progress: show progress bars.
        options: other ``RunConfig`` fields (``limit``, ``offline_metrics``...).
    """
    config = RunConfig(
        model="gold",
        out=out,
        languages=list(languages or []),
        tasks=tasks,
        self_debug=0,
        cache_dir=cache_dir,
        resume=resume,
        progress=progress,
        **options,
    )
    summary = run_benchmark(config)
    return Validation(summary, [r for r in RunFolder(out).attempts if not r.passed])
