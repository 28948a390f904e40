"""The report's tables as plain rows of strings, shared by the Markdown and the HTML report."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from visplotbench.judges import ScoreStats
from visplotbench.report._data import RunData, language_name
from visplotbench.runfolder import NOT_RUN

TOP_KINDS = 8
STATUS_ORDER = (
    "ok",
    "error",
    "timeout",
    "no_output",
    "blank",
    "no_code",
    "generation_failed",
    "bad_task",
    "env_failure",
    NOT_RUN,
)


@dataclass
class Table:
    """A titled table: ``header`` then ``rows``; every cell is plain text (escaped by the writer)."""

    title: str
    header: list[str]
    rows: list[list[str]]
    note: str = ""


def pct(rate: float) -> str:
    """A pass rate (0..1) as a percentage with one decimal ("–" when undefined)."""
    return "–" if math.isnan(rate) else f"{100 * rate:.1f}"


def round_label(k: int) -> str:
    return "First try" if k == 0 else f"Round {k}"


def _columns(run: RunData) -> list[str]:
    return ["Overall"] + [
        f"{language_name(lang)} ({run.summary.languages[lang].tasks})" for lang in run.languages
    ]


def _rates(run: RunData, k: int) -> list[str]:
    return [pct(run.summary.overall_rate(k))] + [
        pct(run.summary.languages[lang].rate(k)) for lang in run.languages
    ]


def main_table(run: RunData) -> Table:
    """The paper's Table 3 layout: the first try, and ``+ Self Debug`` after the last round."""
    rows = [[run.model_name, *_rates(run, 0)]]
    if run.rounds:
        rows.append(["+ Self Debug", *_rates(run, run.rounds)])
    note = f"Execution pass rate (%), task-weighted overall; + Self Debug = after {run.rounds} round(s)."
    return Table("Execution pass rate", ["Model", *_columns(run)], rows, note)


def rounds_table(run: RunData) -> Table:
    """Pass rate after each round (a task passed in round j counts as passed in every later round)."""
    rows = [[round_label(k), *_rates(run, k)] for k in range(run.rounds + 1)]
    return Table(
        "Pass rate by self-debug round",
        ["Round", *_columns(run)],
        rows,
        "Cumulative: a task fixed in round j counts as passed from round j on.",
    )


def failure_table(run: RunData) -> Table:
    """The most frequent failure kinds of the tasks that never passed, per language."""
    rows = []
    for lang in run.languages:
        kinds = sorted(run.summary.languages[lang].failure_kinds.items(), key=lambda kv: (-kv[1], kv[0]))
        for kind, count in kinds[:TOP_KINDS]:
            rows.append([language_name(lang), kind, str(count)])
        rest = sum(count for _, count in kinds[TOP_KINDS:])
        if rest:
            rows.append([language_name(lang), f"(other, {len(kinds) - TOP_KINDS} kinds)", str(rest)])
    return Table(
        "Failure kinds (tasks that never passed, last attempt)",
        ["Language", "Failure kind", "Tasks"],
        rows,
        "" if rows else "No failures.",
    )


def status_table(run: RunData) -> Table:
    """Status of each task's last attempt, per language (environment failures never count against a model)."""
    counts = {lang: dict(run.summary.languages[lang].statuses) for lang in run.languages}
    for lang, n in run.not_run.items():
        if lang in counts:
            counts[lang][NOT_RUN] = n
    present = {s for c in counts.values() for s in c}
    statuses = [s for s in STATUS_ORDER if s in present] + sorted(present - set(STATUS_ORDER))
    rows = [
        [
            language_name(lang),
            *(str(counts[lang].get(s, 0)) for s in statuses),
            str(run.summary.languages[lang].tasks),
        ]
        for lang in run.languages
    ]
    if len(run.languages) > 1:
        rows.append(
            [
                "All",
                *(str(sum(c.get(s, 0) for c in counts.values())) for s in statuses),
                str(run.summary.total_tasks),
            ]
        )
    return Table("Status of the last attempt", ["Language", *statuses, "Tasks"], rows)


JUDGE_NAMES = {"vis": "Vis", "task": "Task"}
METRIC_NAMES = {"ssim": "SSIM", "edge_f1": "Edge F1"}


def _num(value: float | None, scale: float = 1.0, digits: int = 1) -> str:
    return "–" if value is None or math.isnan(value) else f"{value * scale:.{digits}f}"


def _judge_scorer(run: RunData) -> str:
    assert run.scores is not None
    for kind in JUDGE_NAMES:
        if kind in run.scores.kinds:
            s = run.scores.kinds[kind].scorer
            return (
                f"{s.get('scorer', '?')}, prompts {s.get('prompt_version', '?')} "
                f"(sha256 {str(s.get('prompt_sha256', '?'))[:12]})"
            )
    return ""


def paper_scores_table(run: RunData) -> Table | None:
    """The paper's Tables 8-10 layout: Exec / vis mean / task mean / vis Good / task Good per language."""
    if run.scores is None or not any(kind in run.scores.kinds for kind in JUDGE_NAMES):
        return None
    kinds = run.scores.kinds

    def stats(kind: str, lang: str | None, k: int) -> ScoreStats | None:
        if kind not in kinds:
            return None
        per_round = kinds[kind].overall if lang is None else kinds[kind].languages.get(lang)
        return per_round[k] if per_round else None

    def cell(rate: float, lang: str | None, k: int) -> str:
        parts = [pct(rate)]
        for kind, name in (("vis", "mean"), ("task", "mean"), ("vis", "good"), ("task", "good")):
            s = stats(kind, lang, k)
            parts.append(_num(None if s is None else getattr(s, name), 100 if name == "good" else 1, 0))
        return "/".join(parts)

    def cells(k: int) -> list[str]:
        return [cell(run.summary.overall_rate(k), None, k)] + [
            cell(run.summary.languages[lang].rate(k), lang, k) for lang in run.languages
        ]

    rows = [[run.model_name, *cells(0)]]
    if run.rounds:
        rows.append(["+ Self Debug", *cells(run.rounds)])
    unparsed = ", ".join(
        f"{kind} {kinds[kind].overall[run.rounds].unparsed}" for kind in JUDGE_NAMES if kind in kinds
    )
    note = (
        "Exec / vis mean / task mean / vis Good / task Good, as in the paper's Tables 8-10: Exec = pass rate (%), "
        "means of the 0-100 judge scores (rounded), Good = % of tasks scoring >= 75. Every task counts; "
        "no image and judge replies without a score count 0 (the paper's convention). "
        f"Unparsed after one retry, last round: {unparsed}. Judge: {_judge_scorer(run)}."
    )
    return Table("Task and visual scores", ["Model", *_columns(run)], rows, note)


def _by_round(run: RunData, kinds: list[str], cell: Callable[[list[ScoreStats]], str]) -> list[list[str]]:
    """Rows = rounds, columns = Overall then the languages; ``cell(stats per kind)`` fills a cell."""
    assert run.scores is not None
    rows = []
    for k in range(run.rounds + 1):
        row = [round_label(k), cell([run.scores.kinds[kind].overall[k] for kind in kinds])]
        for lang in run.languages:
            per_kind = [run.scores.kinds[kind].languages.get(lang) for kind in kinds]
            row.append(cell([s[k] for s in per_kind if s is not None]) if all(per_kind) else "–")
        rows.append(row)
    return rows


def judge_rounds_table(run: RunData) -> Table | None:
    """Judge scores by round, compact: rounds as rows, languages as columns, ``mean (good %)`` per
    score kind in each cell; the 95 % intervals, medians and bad rates are in ``scores.json``."""
    if run.scores is None:
        return None
    kinds = [kind for kind in JUDGE_NAMES if kind in run.scores.kinds]
    if not kinds:
        return None

    def cell(stats: list[ScoreStats]) -> str:
        return " / ".join(f"{_num(s.mean, digits=0)} ({_num(s.good, 100, 0)}%)" for s in stats)

    unparsed = ", ".join(f"{kind} {run.scores.kinds[kind].overall[run.rounds].unparsed}" for kind in kinds)
    note = (
        f"{' / '.join(JUDGE_NAMES[k] for k in kinds)} score: mean of 0-100 (good % = share scoring >= 75). "
        "Round k: each task's latest attempt up to round k. Unparsed judge replies (after one retry) and "
        f"missing scores count 0 (last round, unparsed: {unparsed}); 95 % bootstrap intervals, medians "
        f"and bad rates are in scores.json. Judge: {_judge_scorer(run)}."
    )
    return Table("Judge scores by round", ["Round", *_columns(run)], _by_round(run, kinds, cell), note)


def metrics_table(run: RunData) -> Table | None:
    """Offline image metrics (no model) by round, compact: rounds as rows, languages as columns."""
    if run.scores is None:
        return None
    kinds = [kind for kind in METRIC_NAMES if kind in run.scores.kinds]
    if not kinds:
        return None

    def cell(stats: list[ScoreStats]) -> str:
        return " / ".join(_num(s.mean, digits=3) for s in stats)

    version = run.scores.kinds[kinds[0]].scorer.get("prompt_version", "?")
    overall = run.scores.kinds[kinds[0]].overall[run.rounds]
    note = (
        f"{' / '.join(METRIC_NAMES[k] for k in kinds)}: means (0-1) against the reference image "
        f"(image metrics {version}), first generated image, after cropping to content and resizing. SSIM: "
        "structural similarity of the grey images over windows with content (drops when a recolouring "
        "changes brightness). Edge F1: overlap of colour edges within 2 px (ignores colour). Neither reads "
        f"text or values. No image counts 0 ({overall.no_image} tasks in the last round); tasks without a "
        f"reference are left out ({overall.no_reference}). Intervals and medians are in scores.json."
    )
    return Table("Offline image metrics", ["Round", *_columns(run)], _by_round(run, kinds, cell), note)


def all_tables(run: RunData) -> list[Table]:
    tables = [main_table(run), rounds_table(run)]
    tables += [t for t in (paper_scores_table(run), judge_rounds_table(run), metrics_table(run)) if t]
    return [*tables, failure_table(run), status_table(run)]


def header_items(run: RunData) -> list[tuple[str, str]]:
    """(label, value) pairs for the report header."""
    m = run.manifest
    backend = m.backend if m else {}
    per_language = (m.tasks.per_language if m else {}) or {
        lang: run.summary.languages[lang].tasks for lang in run.languages
    }
    counts = ", ".join(f"{language_name(lang)} {n}" for lang, n in per_language.items())
    items = [
        ("Model", run.model),
        ("Backend", ", ".join(f"{k}={v}" for k, v in backend.items())),
        (
            "Tasks",
            f"{m.tasks.source if m else '?'}: {(m.tasks.count if m else 0) or run.summary.total_tasks} ({counts})",
        ),
        (
            "Prompts",
            f"version {(m.prompts_version if m else '') or '?'}, sha256 {((m.prompts_sha256 if m else '') or '?')[:12]}",
        ),
        ("Data descriptor", m.descriptor if m else "?"),
        ("Self-debug rounds", str(run.rounds)),
        ("Completeness", run.completeness()),
        ("Wall time", _duration(run.wall_seconds)),
    ]
    if run.scores is not None:
        judge = _judge_scorer(run)
        if judge:
            items.append(("Judge", judge))
        metrics = next((run.scores.kinds[k].scorer for k in METRIC_NAMES if k in run.scores.kinds), None)
        if metrics:
            items.append(("Image metrics", str(metrics.get("prompt_version", "?"))))
    if m is not None:
        if m.versions.get("visplotbench"):
            items.append(("visplotbench", m.versions["visplotbench"]))
        if m.started_at:
            items.append(("Started", m.started_at))
        if m.fingerprint:
            items.append(("Fingerprint", m.fingerprint[:16]))
    return items


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    minutes, sec = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {sec:02d}s" if hours else f"{minutes}m {sec:02d}s"
