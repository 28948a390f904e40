"""Read a run folder (through ``visplotbench.runfolder.RunFolder``) into one typed ``RunData`` for the reports.

Pass rates and denominators come from the reader (``RunFolder.summary``: recomputed from the records;
tasks without a record count as "not run", so a partial run never shows inflated rates);
``summary.json`` only supplies the wall time. Scores are recomputed from ``scores.jsonl`` with
``visplotbench.judges.summarize_scores`` over the same denominators; ``scores_summary.json`` only says
which judge's lines to use.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from visplotbench.judges import ScoresSummary, summarize_scores
from visplotbench.runfolder import (
    NOT_RUN,
    AttemptRecord,
    AttemptStatus,
    RunFolder,
    RunManifest,
    RunSummary,
    ScoreRecord,
)

# The paper's column order and spelling (Table 3).
LANGUAGE_ORDER = ("python", "vegalite", "lilypond", "mermaid", "svg", "latex", "asymptote", "html")
LANGUAGE_NAMES = {
    "python": "Python",
    "vegalite": "Vega-Lite",
    "lilypond": "LilyPond",
    "mermaid": "Mermaid",
    "svg": "SVG",
    "latex": "LaTeX",
    "asymptote": "Asymptote",
    "html": "HTML",
}


def language_name(language: str) -> str:
    return LANGUAGE_NAMES.get(language, language)


@dataclass
class TaskView:
    """Everything the HTML report shows for one task.

    Attributes:
        task_id, language: the task.
        instruction: the first user message sent for it ("" when no record kept it).
        attempts: its attempts by round, in order.
        outcome: ``first_try`` | ``self_debug`` (passed in a later round) | ``failed`` | ``env_failure`` | ``not_run``.
        status: the status of its last attempt (``not_run`` without one).
    """

    task_id: str
    language: str
    instruction: str
    attempts: list[AttemptRecord] = field(default_factory=list)
    outcome: str = NOT_RUN
    status: str = NOT_RUN


@dataclass
class RunData:
    """A run folder, read and summarised.

    Attributes:
        folder: the run folder.
        manifest: the run's ``config.json`` (None when missing).
        records: the attempts (latest per task and round).
        summary: pass rates per language and round (recomputed, see the module docstring).
        languages: the languages present, in the paper's order.
        tasks: one view per task that has a record, by language then id.
        not_run: language -> tasks that have no record yet.
        wall_seconds: the run's wall time when known.
        scores: judge scores and image metrics per language and round (None when the run has no scores).
        score_lines: (task_id, round) -> kind -> the score of that attempt used by ``scores``.
        judge: the judge identity recorded in ``scores_summary.json`` (empty without a judge).
    """

    folder: Path
    manifest: RunManifest | None
    records: list[AttemptRecord]
    summary: RunSummary
    languages: list[str]
    tasks: list[TaskView]
    not_run: dict[str, int]
    wall_seconds: float | None
    scores: ScoresSummary | None = None
    score_lines: dict[tuple[str, int], dict[str, ScoreRecord]] = field(default_factory=dict)
    judge: dict[str, Any] = field(default_factory=dict)

    @property
    def model(self) -> str:
        return (self.manifest.model if self.manifest else "") or "model"

    @property
    def model_name(self) -> str:
        """The short model name used as the table's row label (``openai:org/gpt-4.1`` -> ``gpt-4.1``)."""
        _, _, target = self.model.partition(":")
        return (target or self.model).rstrip("/").rsplit("/", 1)[-1] or self.model

    @property
    def rounds(self) -> int:
        return self.summary.rounds

    @property
    def env_failures(self) -> int:
        return sum(s.env_failures for s in self.summary.languages.values())

    @property
    def rounds_due(self) -> int:
        """Failing tasks that still have self-debug rounds to run."""
        return sum(1 for t in self.tasks if t.outcome == "failed" and t.attempts[-1].round < self.rounds)

    def completeness(self) -> str:
        """``complete`` or ``incomplete: ...`` naming what is missing."""
        if self.summary.complete:
            return "complete"
        parts = []
        if self.env_failures:
            parts.append(f"{self.env_failures} environment failure{'s' * (self.env_failures != 1)}")
        not_run = sum(self.not_run.values())
        if not_run:
            parts.append(f"{not_run} task{'s' * (not_run != 1)} not run")
        if self.rounds_due:
            parts.append(
                f"{self.rounds_due} task{'s' * (self.rounds_due != 1)} with self-debug rounds still due"
            )
        return "incomplete: " + (", ".join(parts) or "see summary")


def instruction_of(messages: list[dict[str, Any]]) -> str:
    """The text of the first user message (content may be a string or a list of parts)."""
    for message in messages or []:
        if message.get("role") == "user":
            content = message.get("content", "")
            if isinstance(content, list):
                return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            return str(content)
    return ""


def _outcome(attempts: list[AttemptRecord]) -> str:
    passed = [a.round for a in attempts if a.passed]
    if passed:
        return "first_try" if min(passed) == 0 else "self_debug"
    return "env_failure" if attempts[-1].status is AttemptStatus.ENV_FAILURE else "failed"


def load_run(folder: str | Path) -> RunData:
    """Read a run folder (``config.json``, ``results.jsonl``, ``summary.json``, scores) into ``RunData``."""
    run = RunFolder(folder)
    records = run.attempts
    summary = run.summary()
    present = [lang for lang in LANGUAGE_ORDER if lang in summary.languages]
    present += sorted(lang for lang in summary.languages if lang not in LANGUAGE_ORDER)

    by_task: dict[str, list[AttemptRecord]] = collections.defaultdict(list)
    for rec in records:
        by_task[rec.task_id].append(rec)
    views = []
    for task_id, attempts in by_task.items():
        attempts.sort(key=lambda r: r.round)
        instruction = next((text for a in attempts if (text := instruction_of(a.messages))), "")
        views.append(
            TaskView(
                task_id, attempts[0].language, instruction, attempts, _outcome(attempts), attempts[-1].status
            )
        )
    order = {lang: i for i, lang in enumerate(present)}
    views.sort(key=lambda v: (order.get(v.language, len(order)), _natural(v.task_id)))

    wall = run.saved_summary.get("wall_seconds")
    scores, score_lines, judge = _scores(run)
    return RunData(
        run.folder,
        run.manifest,
        records,
        summary,
        present,
        views,
        run.not_run(),
        float(wall) if isinstance(wall, (int, float)) else None,
        scores,
        score_lines,
        judge,
    )


def _scores(
    run: RunFolder,
) -> tuple[ScoresSummary | None, dict[tuple[str, int], dict[str, ScoreRecord]], dict[str, Any]]:
    """Score statistics recomputed from ``scores.jsonl`` (the source of truth, as for pass rates)."""
    lines, scorers = run.score_lines()
    if not lines:
        return None, {}, {}
    summary = summarize_scores(run.attempts, lines, run.task_languages(), run.rounds, scorers)
    used = {kind: s.scorer["scorer_key"] for kind, s in summary.kinds.items()}
    by_attempt: dict[tuple[str, int], dict[str, ScoreRecord]] = collections.defaultdict(dict)
    for line in lines:
        if used.get(line.kind) == line.scorer_key:
            by_attempt[(line.task_id, line.round)][line.kind] = line
    judge = run.scores.read_summary().get("judge") or {}
    return summary, dict(by_attempt), judge if isinstance(judge, dict) else {}


def _natural(task_id: str) -> tuple[str, int, str]:
    """Sort ``svg_2`` before ``svg_10``."""
    head, _, tail = task_id.rpartition("_")
    return (head, int(tail), "") if tail.isdigit() else (task_id, -1, task_id)
