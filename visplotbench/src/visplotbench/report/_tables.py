"""The report's tables as plain rows of strings, shared by the Markdown and the HTML report."""

from __future__ import annotations

import math
from dataclasses import dataclass

from visplotbench.report._data import NOT_RUN, RunData, language_name

TOP_KINDS = 8
STATUS_ORDER = (
    "ok",
    "error",
    "timeout",
    "no_output",
    "blank",
    "no_code",
    "generation_failed",
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


def all_tables(run: RunData) -> list[Table]:
    return [main_table(run), rounds_table(run), failure_table(run), status_table(run)]


def header_items(run: RunData) -> list[tuple[str, str]]:
    """(label, value) pairs for the report header."""
    cfg = run.config
    backend = cfg.get("backend") or {}
    tasks = cfg.get("tasks") or {}
    prompts = cfg.get("prompts") or {}
    per_language = tasks.get("per_language") or {
        lang: run.summary.languages[lang].tasks for lang in run.languages
    }
    counts = ", ".join(f"{language_name(lang)} {n}" for lang, n in per_language.items())
    items = [
        ("Model", run.model),
        (
            "Backend",
            ", ".join(f"{k}={v}" for k, v in backend.items()) if isinstance(backend, dict) else str(backend),
        ),
        (
            "Tasks",
            f"{tasks.get('source', cfg.get('config', {}).get('tasks', '?'))}: "
            f"{tasks.get('count', run.summary.total_tasks)} ({counts})",
        ),
        ("Prompts", f"version {prompts.get('version', '?')}, sha256 {str(prompts.get('sha256', '?'))[:12]}"),
        ("Data descriptor", str(cfg.get("config", {}).get("descriptor", "?"))),
        ("Self-debug rounds", str(run.rounds)),
        ("Completeness", run.completeness()),
        ("Wall time", _duration(run.wall_seconds)),
    ]
    versions = cfg.get("versions") or {}
    if versions.get("visplotbench"):
        items.append(("visplotbench", str(versions["visplotbench"])))
    if cfg.get("started_at"):
        items.append(("Started", str(cfg["started_at"])))
    if cfg.get("fingerprint"):
        items.append(("Fingerprint", str(cfg["fingerprint"])[:16]))
    return items


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    minutes, sec = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {sec:02d}s" if hours else f"{minutes}m {sec:02d}s"
