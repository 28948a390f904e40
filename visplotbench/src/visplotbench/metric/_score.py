"""Score replies for VisPlotBench tasks by running the benchmark on them: the ``evaluate`` metric's scorer.

``score_replies`` writes the replies as a replay file (``inputs/replies.jsonl``: round k of a prediction
is its k-th reply) and the tasks as a parquet task set (``inputs/tasks.parquet``) into a run folder,
then runs exactly what these two commands run::

    visplotbench run --model replay:RUN/inputs/replies.jsonl --tasks RUN/inputs/tasks.parquet \\
        --self-debug K --no-offline-metrics --out RUN
    visplotbench score RUN [--judge openai:MODEL --judge-option base_url=...]

and reads the numbers back from the run folder. So extraction, sandboxed rendering, the self-debug
rules (round k is used only when rounds 0..k-1 failed; environment failures are not retried), pass
rates (every task in the denominator; an environment failure makes the run incomplete), the offline
image metrics and the judge's prompts, parsing, caching and unparsed accounting are the harness's own.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from visplotbench._benchmark import run_benchmark
from visplotbench.engine.registry import LANGUAGES, check_language
from visplotbench.harness import RunConfig
from visplotbench.judges import ScoresSummary, ScoreStats, score_run
from visplotbench.report import write_reports
from visplotbench.runfolder import AttemptRecord, AttemptStatus, RunFolder, RunSummary
from visplotbench.tasks import Task, load_tasks
from visplotbench.tasks._schema import rows_to_table, task_files

log = logging.getLogger(__name__)
REPLIES_FILE = "inputs/replies.jsonl"
TASKS_FILE = "inputs/tasks.parquet"
# Score kinds as the run folder names them -> the names the metric returns.
SCORE_NAMES = {"vis": "visual_score", "task": "task_score", "ssim": "ssim", "edge_f1": "edge_f1"}


@dataclass
class ReplyScores:
    """What ``score_replies`` found.

    Attributes:
        summary: pass rates per language and round (the run's ``RunSummary``).
        scores: offline image metrics and judge scores (the run's ``ScoresSummary``).
        details: one dict per prediction, in input order (see ``score_replies``).
        run_dir: the run folder when it was kept (``run_dir`` given), else None.
    """

    summary: RunSummary
    scores: ScoresSummary
    details: list[dict[str, Any]] = field(default_factory=list)
    run_dir: str | None = None

    def to_dict(self, details: bool = False) -> dict[str, Any]:
        """The flat dict the ``evaluate`` metric returns (keys documented in the metric card)."""
        s, last = self.summary, self.summary.rounds
        out: dict[str, Any] = {"pass_rate": s.overall_rate(0)}
        if last:
            out["self_debug_pass_rate"] = s.overall_rate(last)
        env = sum(lang.env_failures for lang in s.languages.values())
        kept = s.total_tasks - env
        passed = sum(lang.passed[-1] for lang in s.languages.values())
        out.update(
            rounds=last,
            n=s.total_tasks,
            complete=s.complete,
            env_failures=env,
            pass_rate_excluding_env_failures=passed / kept if kept else math.nan,
        )
        for language, lang in s.languages.items():
            out[f"pass_rate_{language}"] = lang.rate(0)
            if last:
                out[f"self_debug_pass_rate_{language}"] = lang.rate(last)
            out[f"n_{language}"] = lang.tasks
        statuses: dict[str, int] = {}
        for lang in s.languages.values():
            for status, count in lang.statuses.items():
                statuses[status] = statuses.get(status, 0) + count
        order = [status.value for status in AttemptStatus]
        for status in sorted(statuses, key=lambda x: order.index(x) if x in order else len(order)):
            out[f"status_{status}"] = statuses[status]
        for kind, name in SCORE_NAMES.items():
            if kind in self.scores.kinds:
                out.update(_score_keys(name, self.scores.kinds[kind].overall[last], self.scores, kind))
        if details:
            out["details"] = self.details
        if self.run_dir:
            out["run_dir"] = self.run_dir
        return out


def _score_keys(name: str, overall: ScoreStats, scores: ScoresSummary, kind: str) -> dict[str, Any]:
    """Mean (and good share, judge unparsed/failed counts) overall and per language, at the last round."""
    if not overall.tasks:  # no task has a reference image (ssim, edge_f1, visual score): nothing to report
        return {}
    out: dict[str, Any] = {name: overall.mean}
    if overall.good is not None:
        out[f"{name}_good"] = overall.good
        out[f"{name}_unparsed"] = overall.unparsed
        out[f"{name}_failed"] = overall.failed
    for language, per_round in scores.kinds[kind].languages.items():
        stats = per_round[scores.rounds]
        if stats.tasks:
            out[f"{name}_{language}"] = stats.mean
    return out


def _as_replies(prediction: Any, index: int) -> list[str]:
    replies = [prediction] if isinstance(prediction, str) else prediction
    if not isinstance(replies, (list, tuple)) or not replies or not all(isinstance(r, str) for r in replies):
        raise ValueError(
            f"Prediction {index} must be a reply (str) or a non-empty list of replies (rounds 0, 1, ... of "
            f"a self-debug conversation), not {prediction!r:.80}."
        )
    return list(replies)


def _task_of(reference: Any, index: int, language: str | None) -> Task:
    """A task dict (``id``, ``data``, optional ``language``, texts, ``image``, ``files``) or a ``Task``."""
    if isinstance(reference, Task):
        return dataclasses.replace(reference)
    if not isinstance(reference, dict):
        raise ValueError(
            f"Reference {index} must be a task id (str), a task dict or a Task, not {reference!r:.80}."
        )
    task_id = str(reference.get("id") or "")
    if not task_id:
        raise ValueError(f"Reference {index} has no 'id'.")
    language = language or str(reference.get("language") or "") or _language_of_id(task_id)
    image = reference.get("image") or b""
    return Task(
        id=task_id,
        task__plot_description=str(reference.get("task__plot_description") or ""),
        task__plot_style=str(reference.get("task__plot_style") or ""),
        data=str(reference.get("data") or ""),
        used_lib=list(reference.get("used_lib") or []),
        vis_cate=str(reference.get("vis_cate") or ""),
        subtype=str(reference.get("subtype") or ""),
        image=bytes(image) if isinstance(image, (bytes, bytearray)) else b"",
        language=language,
        files=task_files(reference.get("files")),
    )


def _language_of_id(task_id: str) -> str:
    language = task_id.rsplit("_", 1)[0]
    if language not in LANGUAGES:
        raise ValueError(
            f"Cannot tell the language of task {task_id!r}: ids look like '<language>_<n>' with a language "
            f"among {', '.join(LANGUAGES)}. Give the task a 'language' key, or pass languages=[...]."
        )
    return language


def resolve_tasks(
    references: Sequence[Any], languages: str | Sequence[str | None] | None = None, source: str = "bundled"
) -> list[Task]:
    """One ``Task`` per reference: ids are looked up in ``source``; dicts and ``Task`` objects are used as
    given; ``languages`` (one, or one per reference) overrides the task's language.

    Raises:
        ValueError: an unknown task id or language, a duplicate id, a mix of ids and tasks.
    """
    overrides = (
        [languages] * len(references) if languages is None or isinstance(languages, str) else list(languages)
    )
    if len(overrides) != len(references):
        raise ValueError(f"languages has {len(overrides)} entries for {len(references)} references.")
    for language in overrides:
        if language:
            check_language(language)
    ids = [ref for ref in references if isinstance(ref, str)]
    if ids and len(ids) != len(references):
        raise ValueError(
            "references must be all task ids (str) or all tasks (dicts or Task objects), not a mix."
        )
    found: dict[str, Task] = {}
    if ids:
        wanted = {lang or _language_of_id(ref) for ref, lang in zip(references, overrides, strict=True)}
        wanted = {check_language(lang) for lang in wanted}
        found = {t.id: t for t in load_tasks(source, [lang for lang in LANGUAGES if lang in wanted])}
    tasks: list[Task] = []
    for i, (ref, language) in enumerate(zip(references, overrides, strict=True)):
        if isinstance(ref, str):
            if ref not in found:
                known = sorted(found, key=lambda x: (len(x), x))
                raise ValueError(
                    f"Unknown task id {ref!r} in tasks={source!r}. Known ids: "
                    f"{', '.join(known[:20])}{' ...' if len(known) > 20 else ''}."
                )
            task = dataclasses.replace(found[ref])
        else:
            task = _task_of(ref, i, language)
        if language:
            task.language = language
        check_language(task.language)
        tasks.append(task)
    seen: set[str] = set()
    for task in tasks:
        if task.id in seen:
            raise ValueError(
                f"Task {task.id!r} appears twice: one prediction per task (a self-debug conversation is one "
                "prediction: a list of replies). Score other samples of the same task in another compute()."
            )
        seen.add(task.id)
    return tasks


def _write_inputs(folder: Path, tasks: list[Task], replies: list[list[str]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    (folder / "inputs").mkdir(parents=True, exist_ok=True)
    table = rows_to_table(tasks)
    # The loader takes a row's language from this column when present, else from its id.
    table = table.append_column("language", pa.array([t.language for t in tasks], pa.string()))
    table = table.append_column(
        "files", pa.array([json.dumps(t.files) if t.files else None for t in tasks], pa.string())
    )
    pq.write_table(table, folder / TASKS_FILE)
    lines = [
        json.dumps({"task_id": task.id, "round": k, "reply": reply}, ensure_ascii=False)
        for task, conversation in zip(tasks, replies, strict=True)
        for k, reply in enumerate(conversation)
    ]
    (folder / REPLIES_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _details(run: RunFolder, tasks: list[Task], replies: list[list[str]]) -> list[dict[str, Any]]:
    by_task: dict[str, dict[int, AttemptRecord]] = {}
    for rec in run.attempts:
        by_task.setdefault(rec.task_id, {})[rec.round] = rec
    details = []
    for task, conversation in zip(tasks, replies, strict=True):
        attempts = by_task.get(task.id, {})
        last = attempts[max(attempts)] if attempts else None
        passed_round = min((k for k, r in attempts.items() if r.passed), default=None)
        details.append(
            {
                "task_id": task.id,
                "language": task.language,
                "replies": len(conversation),
                "attempts": len(attempts),
                "status": last.status.value if last else "not_run",
                "passed": passed_round is not None,
                "passed_first_try": passed_round == 0,
                "passed_round": passed_round,
                "error": last.error if last else "",
                "failure_kind": last.failure_kind if last else "",
                "extraction_rule": last.extraction_rule if last else "",
            }
        )
    return details


def _check_judge(run: RunFolder, judge: str) -> None:
    """Raise when the judge answered none of its requests; log unparsed and failed ones."""
    lines = [line for line in run.scores.load() if line.kind in ("vis", "task") and line.scorer == judge]
    asked = [line for line in lines if line.status in ("scored", "unparsed", "failed")]
    failed = [line for line in asked if line.status == "failed"]
    unparsed = [line for line in asked if line.status == "unparsed"]
    if asked and len(failed) == len(asked):
        raise RuntimeError(
            f"The judge {judge} answered none of its {len(asked)} requests (last error: {failed[-1].error}). "
            "Check judge_options (base_url, api_key_env) and that the endpoint serves a vision model."
        )
    if failed or unparsed:
        log.warning(
            "judge %s: %d request(s) failed and %d repl(ies) had no score; they count 0 (reported as "
            "<score>_failed / <score>_unparsed).",
            judge,
            len(failed),
            len(unparsed),
        )


def score_replies(
    predictions: Sequence[str | Sequence[str]],
    references: Sequence[Any],
    *,
    languages: str | Sequence[str | None] | None = None,
    tasks: str = "bundled",
    judge: str | None = None,
    judge_options: dict[str, Any] | None = None,
    judge_prompts: str | None = None,
    run_dir: str | None = None,
    resume: bool = False,
    cache_dir: str | None = None,
    progress: bool = False,
) -> ReplyScores:
    """Render, self-debug and score ``predictions`` for their tasks with the benchmark's own run.

    Args:
        predictions: one per task: a reply (or bare program), or the replies of a self-debug
            conversation (rounds 0, 1, ...; round k is used only when rounds 0..k-1 failed). K is the
            longest conversation less one; a shorter one that never passed counts as failed.
        references: one per prediction: all task ids (looked up in ``tasks``), or all task dicts
            (``id``, ``data``, optional ``language``, ``task__plot_description``, ``task__plot_style``,
            ``image`` PNG bytes, ``files``) or ``Task`` objects.
        languages: a language for every task, or one per task, overriding the task's.
        tasks: where task ids are looked up (``bundled``, ``hub``, a repo id, a folder, a parquet file).
        judge: ``<backend>:<model>`` of an OpenAI-compatible vision model for task and visual scores.
        judge_options: judge and backend options, as ``--judge-option`` takes them (``base_url``,
            ``api_key_env``, ``concurrency``, ``retries``, ...).
        judge_prompts: a judge prompt file (see ``visplotbench score --judge-prompts``).
        run_dir: keep the run folder here (reports included); None: a temporary folder, deleted.
        resume: continue the run already in ``run_dir`` (same replies and tasks).
        cache_dir: generation/render/judgement caches (None: the user cache, "": none).
        progress: show progress bars.

    Returns:
        ``ReplyScores``; its ``details`` hold per prediction ``task_id``, ``language``, ``replies``,
        ``attempts``, ``status`` (of the last attempt), ``passed``, ``passed_first_try``,
        ``passed_round``, ``error``, ``failure_kind`` and ``extraction_rule``.

    Raises:
        ValueError: mismatched lengths, a malformed prediction, an unknown task id or language.
        RuntimeError: a judge that answered none of its requests.
    """
    if len(predictions) != len(references):
        raise ValueError(
            f"Got {len(predictions)} predictions for {len(references)} references: give one per task."
        )
    if not predictions:
        raise ValueError("No predictions to score.")
    replies = [_as_replies(p, i) for i, p in enumerate(predictions)]
    task_list = resolve_tasks(references, languages, tasks)
    if judge_options and not judge:
        raise ValueError('judge_options need a judge: judge="openai:<model>".')
    with tempfile.TemporaryDirectory(prefix="visplotbench-metric-") as tmp:
        folder = Path(run_dir) if run_dir else Path(tmp) / "run"
        _write_inputs(folder, task_list, replies)
        config = RunConfig(
            model=f"replay:{folder / REPLIES_FILE}",
            out=str(folder),
            tasks=str(folder / TASKS_FILE),
            self_debug=max(len(r) for r in replies) - 1,
            cache_dir=cache_dir,
            resume=resume,
            progress=progress,
            offline_metrics=False,  # scored below, with the judge, as `visplotbench score` does
        )
        summary = run_benchmark(config)
        if not summary.complete:
            env = sum(lang.env_failures for lang in summary.languages.values())
            log.warning(
                "The run is incomplete: %d task(s) could not be rendered because of the environment "
                "(counted as not passed; see env_failures and `visplotbench doctor`).",
                env,
            )
        scores = score_run(
            folder,
            judge,
            judge_options=judge_options,
            judge_prompts=judge_prompts,
            tasks=task_list,
            cache_dir=cache_dir,
            progress=progress,
        )
        run = RunFolder(folder, task_list)
        if judge:
            _check_judge(run, judge)
        if run_dir:
            write_reports(folder)
        return ReplyScores(
            summary, scores, _details(run, task_list, replies), str(folder) if run_dir else None
        )
