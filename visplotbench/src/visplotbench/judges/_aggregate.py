"""Score statistics per language and overall, per self-debug round, with bootstrap confidence intervals.

Round k (the original's rule): each task takes the score of its latest attempt at round <= k (a task
fixed earlier keeps the score of the attempt that passed; an attempt that drew nothing scores 0).
The paper's convention fills every gap with 0: no image, a reply without a score (``unparsed``), a
failed request, and a task not scored at all (``missing``: not run, only environment failures, or
scoring not finished); the counts of each are reported next to the numbers. Tasks without a reference
image leave the denominator of the scores that need one (``no_reference``). ``overall`` is task-weighted
(micro), as the paper's pass rates. Intervals are 95 % percentile bootstrap intervals over tasks
(``N_BOOT`` resamples, fixed seed: the same records always give the same intervals).
"""

from __future__ import annotations

import collections
import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from visplotbench.runfolder import AttemptRecord, AttemptStatus, ScoreRecord

if TYPE_CHECKING:
    import numpy as np

GOOD, BAD = 75.0, 25.0
JUDGE_KINDS = ("vis", "task")
N_BOOT = 1000
SEED = 0


@dataclass
class ScoreStats:
    """One score kind over a set of tasks at one round.

    Attributes:
        tasks: the denominator (every task, less those with ``no_reference``).
        mean, median: over all ``tasks``, gaps counted as 0 (the paper's convention); NaN when empty.
        good, bad: share (0..1) of tasks scoring >= 75 / <= 25; None for image metrics (0..1 scale).
        ci: "mean", "median", "good", "bad" -> [low, high], 95 % bootstrap interval.
        scored: tasks with a score from the judge or metric.
        no_image: tasks whose attempt drew nothing (0 without asking).
        unparsed: tasks whose judge gave no parsable score, failed requests included (counted 0).
        failed: of ``unparsed``, those whose request failed (no reply at all).
        missing: tasks with no score line (not run, environment failures, scoring not done; counted 0).
        no_reference: tasks left out because they have no reference image.
        mean_scored: the mean over ``scored`` + ``no_image`` tasks only (unparsed and missing left out).
    """

    tasks: int
    mean: float
    median: float
    good: float | None
    bad: float | None
    ci: dict[str, list[float]] = field(default_factory=dict)
    scored: int = 0
    no_image: int = 0
    unparsed: int = 0
    failed: int = 0
    missing: int = 0
    no_reference: int = 0
    mean_scored: float = math.nan


@dataclass
class KindSummary:
    """Statistics of one score kind: ``languages[lang][k]`` and ``overall[k]`` for round k."""

    kind: str
    scorer: dict[str, Any]
    languages: dict[str, list[ScoreStats]]
    overall: list[ScoreStats]


@dataclass
class ScoresSummary:
    """Every score kind of a run (``kinds``: ``vis``, ``task``, ``ssim``, ``edge_f1`` when present)."""

    rounds: int
    kinds: dict[str, KindSummary]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (undefined numbers become null)."""
        data = {
            "rounds": self.rounds,
            "good_threshold": GOOD,
            "bad_threshold": BAD,
            "bootstrap": N_BOOT,
            "kinds": {kind: asdict(s) for kind, s in self.kinds.items()},
        }
        return _no_nan(data)


def _no_nan(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    return value


def _bootstrap(values: np.ndarray, judge: bool) -> dict[str, list[float]]:
    import numpy as np

    if values.size < 2:
        return {}
    rng = np.random.default_rng(SEED)
    sample = values[rng.integers(0, values.size, size=(N_BOOT, values.size))]
    stats = {"mean": sample.mean(axis=1), "median": np.median(sample, axis=1)}
    if judge:
        stats["good"] = (sample >= GOOD).mean(axis=1)
        stats["bad"] = (sample <= BAD).mean(axis=1)
    return {name: [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))] for name, v in stats.items()}


def stats_of(entries: list[tuple[str, float]], judge: bool) -> ScoreStats:
    """Statistics of ``(status, value)`` pairs (value already 0 for every gap)."""
    import numpy as np

    counts = collections.Counter(status for status, _ in entries)
    kept = [(status, value) for status, value in entries if status != "no_reference"]
    values = np.array([value for _, value in kept], dtype=np.float64)
    scored = [value for status, value in kept if status in ("scored", "no_image")]
    empty = values.size == 0
    return ScoreStats(
        tasks=int(values.size),
        mean=math.nan if empty else float(values.mean()),
        median=math.nan if empty else float(np.median(values)),
        good=None if not judge else (math.nan if empty else float((values >= GOOD).mean())),
        bad=None if not judge else (math.nan if empty else float((values <= BAD).mean())),
        ci=_bootstrap(values, judge),
        scored=counts["scored"],
        no_image=counts["no_image"],
        unparsed=counts["unparsed"] + counts["failed"],
        failed=counts["failed"],
        missing=counts["missing"],
        no_reference=counts["no_reference"],
        mean_scored=float(np.mean(scored)) if scored else math.nan,
    )


def choose_scorers(lines: list[ScoreRecord], wanted: dict[str, str] | None = None) -> dict[str, str]:
    """kind -> scorer_key to summarise: ``wanted`` where given, else the scorer of the kind's last line."""
    chosen: dict[str, str] = {}
    for line in lines:
        chosen[line.kind] = line.scorer_key
    chosen.update({kind: key for kind, key in (wanted or {}).items() if kind in chosen})
    return chosen


def summarize_scores(
    attempts: list[AttemptRecord],
    lines: list[ScoreRecord],
    task_languages: dict[str, str],
    rounds: int,
    scorers: dict[str, str] | None = None,
) -> ScoresSummary:
    """Statistics of every score kind in ``lines`` for the tasks of ``task_languages`` (id -> language).

    ``scorers`` picks the scorer per kind (see ``choose_scorers``); ids in ``task_languages`` without
    attempts count as ``missing``.
    """
    by_task: dict[str, dict[int, AttemptRecord]] = collections.defaultdict(dict)
    for rec in attempts:
        if (
            rec.status is not AttemptStatus.ENV_FAILURE
        ):  # the environment's failure is never the model's attempt
            by_task[rec.task_id][rec.round] = rec
    chosen = choose_scorers(lines, scorers)
    kinds: dict[str, KindSummary] = {}
    for kind, scorer_key in chosen.items():
        mine = {(r.task_id, r.round): r for r in lines if r.kind == kind and r.scorer_key == scorer_key}
        last = next(r for r in reversed(lines) if r.kind == kind and r.scorer_key == scorer_key)
        judge = kind in JUDGE_KINDS
        per_round: list[dict[str, list[tuple[str, float]]]] = []
        for k in range(rounds + 1):
            entries: dict[str, list[tuple[str, float]]] = collections.defaultdict(list)
            for task_id, language in task_languages.items():
                done = [r for r in by_task.get(task_id, {}) if r <= k]
                line = mine.get((task_id, max(done))) if done else None
                if line is None:
                    entries[language].append(("missing", 0.0))
                else:
                    value = line.score if line.status == "scored" and line.score is not None else 0.0
                    entries[language].append((line.status, float(value)))
            per_round.append(entries)
        languages = {
            lang: [stats_of(per_round[k][lang], judge) for k in range(rounds + 1)]
            for lang in dict.fromkeys(task_languages.values())
        }
        overall = [
            stats_of([e for lang_entries in per_round[k].values() for e in lang_entries], judge)
            for k in range(rounds + 1)
        ]
        scorer = {
            "scorer": last.scorer,
            "scorer_key": scorer_key,
            "model": last.model,
            "prompt_version": last.prompt_version,
            "prompt_sha256": last.prompt_sha256,
        }
        kinds[kind] = KindSummary(kind, scorer, languages, overall)
    return ScoresSummary(rounds, kinds)
