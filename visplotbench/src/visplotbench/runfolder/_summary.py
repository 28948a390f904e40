"""Pass rates per language and round, failure kinds, and the run summary (task-weighted, as the paper).

``summarize`` is the one place pass rates are computed: the runner's summary, the reports and the
``RunFolder`` reader all call it.
"""

from __future__ import annotations

import collections
import math
import re
from dataclasses import dataclass, field
from typing import Any

from visplotbench.runfolder._records import AttemptRecord
from visplotbench.runfolder._status import AttemptStatus

_EXC = re.compile(r"\b(?:[A-Za-z_][\w]*\.)*([A-Z]\w*(?:Error|Exception|Interrupt|Exit|Warning))\b")
_TEX = re.compile(r"^! (?:LaTeX Error: |Package \w+ Error: )?(.+?)\.?$", re.M)
_TOOL = re.compile(r"\b(?:error|Error):\s*(.+)$", re.M)
NON_ERRORS = {
    AttemptStatus.TIMEOUT: "Timeout",
    AttemptStatus.BLANK: "BlankImage",
    AttemptStatus.NO_OUTPUT: "NoImage",
    AttemptStatus.GENERATION_FAILED: "GenerationFailed",
    AttemptStatus.ENV_FAILURE: "EnvironmentFailure",
    AttemptStatus.BAD_TASK: "BadTask",
}


def failure_kind(language: str, status: AttemptStatus | str, error: str) -> str:
    """A short, countable class for a failed attempt (exception class, TeX error, tool message...)."""
    status = AttemptStatus(status)
    if status in NON_ERRORS:
        return NON_ERRORS[status]
    if status is AttemptStatus.OK:
        return ""
    if language == "latex":
        match = _TEX.search(error)
        if match:
            return match.group(1).strip()[:60]
    for line in reversed(error.strip().splitlines()):
        match = _EXC.search(line)
        if match:
            return match.group(1)
    match = _TOOL.search(error)
    text = match.group(1) if match else (error.strip().splitlines() or ["Error"])[0]
    text = re.sub(r"\d+", "N", text)  # "line 3" and "line 7" are the same kind
    return re.sub(r"[\"'`].*?[\"'`]", "'…'", text).strip()[:60] or "Error"


@dataclass
class LanguageSummary:
    """Results of one language.

    Attributes:
        tasks: number of tasks (the denominator, always all of them).
        passed: passed[k] = tasks passed at round k or earlier (k = 0 is the first try).
        env_failures: tasks whose latest attempt is an environment failure (not counted as failures).
        failure_kinds: kind -> count over the tasks that never passed (their last attempt).
        statuses: status -> count over the tasks' last attempts.
    """

    tasks: int
    passed: list[int]
    env_failures: int = 0
    failure_kinds: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)

    def rate(self, round_: int) -> float:
        """Pass rate (0..1) after ``round_`` rounds (clamped to the last round run)."""
        if not self.tasks:
            return math.nan
        return self.passed[min(round_, len(self.passed) - 1)] / self.tasks


@dataclass
class RunSummary:
    """Per-language and overall (micro: task-weighted) pass rates by round."""

    rounds: int
    languages: dict[str, LanguageSummary]
    complete: bool

    @property
    def total_tasks(self) -> int:
        return sum(s.tasks for s in self.languages.values())

    def overall_rate(self, round_: int) -> float:
        total = self.total_tasks
        if not total:
            return math.nan
        return sum(s.passed[min(round_, len(s.passed) - 1)] for s in self.languages.values()) / total

    @classmethod
    def from_json(cls, saved: dict[str, Any]) -> RunSummary:
        """The summary a ``summary.json`` holds (what ``to_json`` wrote)."""
        languages = {
            lang: LanguageSummary(
                tasks=s.get("tasks", 0),
                passed=list(s.get("passed", [0])),
                env_failures=s.get("env_failures", 0),
                failure_kinds=dict(s.get("failure_kinds", {})),
                statuses=dict(s.get("statuses", {})),
            )
            for lang, s in saved.get("languages", {}).items()
        }
        return cls(int(saved.get("rounds", 0)), languages, bool(saved.get("complete", False)))

    def to_json(self) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "complete": self.complete,
            "overall": {
                "tasks": self.total_tasks,
                "pass_rate": [self.overall_rate(k) for k in range(self.rounds + 1)],
            },
            "languages": {
                lang: {
                    "tasks": s.tasks,
                    "passed": s.passed,
                    "pass_rate": [s.rate(k) for k in range(self.rounds + 1)],
                    "env_failures": s.env_failures,
                    "failure_kinds": s.failure_kinds,
                    "statuses": s.statuses,
                }
                for lang, s in self.languages.items()
            },
        }


def summarize(records: list[AttemptRecord], task_languages: dict[str, str], rounds: int) -> RunSummary:
    """Summarise attempts of the tasks in ``task_languages`` (id -> language) over ``rounds`` self-debug rounds.

    A task counts as passed at round k when one of its attempts 0..k passed; a task with no attempt
    (not run yet) or whose latest attempt is an environment failure makes the run incomplete.
    """
    by_task: dict[str, dict[int, AttemptRecord]] = collections.defaultdict(dict)
    for rec in records:
        if rec.task_id in task_languages:
            by_task[rec.task_id][rec.round] = rec
    languages: dict[str, LanguageSummary] = {}
    complete = True
    for task_id, language in task_languages.items():
        summary = languages.setdefault(language, LanguageSummary(0, [0] * (rounds + 1)))
        summary.tasks += 1
        attempts = by_task.get(task_id, {})
        if not attempts:
            complete = False
            continue
        first_pass = min((k for k, r in attempts.items() if r.passed), default=None)
        if first_pass is not None:
            for k in range(first_pass, rounds + 1):
                summary.passed[k] += 1
        last = attempts[max(attempts)]
        summary.statuses[last.status.value] = summary.statuses.get(last.status.value, 0) + 1
        if last.status is AttemptStatus.ENV_FAILURE:
            summary.env_failures += 1
            complete = False
        elif first_pass is None:
            kind = last.failure_kind or failure_kind(language, last.status, last.error)
            summary.failure_kinds[kind] = summary.failure_kinds.get(kind, 0) + 1
            if max(attempts) < rounds and last.status is not AttemptStatus.BAD_TASK:
                complete = False  # more rounds are due
    return RunSummary(rounds, languages, complete)
