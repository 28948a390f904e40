"""Score a run folder: offline image metrics always, judge scores when a judge is given.

    from visplotbench.judges import score_run
    score_run("runs/openai_gpt-4.1")                              # ssim + edge_f1 for every attempt
    score_run("runs/openai_gpt-4.1", "openai:gpt-4.1",            # + vis and task scores
              judge_options={"concurrency": 16})

Every attempt in ``results.jsonl`` (environment failures aside) gets one line per score kind in
``scores.jsonl``: an attempt without images scores 0 with no request; the reference image is the run's
``images/<task_id>_ref.png`` (else the task's own image, when tasks are at hand). Nothing is rendered.
Lines already present for the same images and scorer are kept (resume), except failed judge requests,
which are asked again; judgements that got a reply are also in the content-addressed cache, so scoring
a copy of the run, or re-scoring after deleting ``scores.jsonl``, sends no request. At the end the
statistics (``visplotbench.judges._aggregate``) go to ``scores_summary.json``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from visplotbench.judges._aggregate import ScoresSummary, summarize_scores
from visplotbench.judges._image_metrics import METRICS, METRICS_VERSION, compare_images, prepare
from visplotbench.judges._judge import Judge, JudgeItem, make_judge
from visplotbench.judges._prompts import JudgePrompts
from visplotbench.runfolder import (
    RESULTS_FILE,
    AttemptRecord,
    Cache,
    RunFolder,
    ScoreRecord,
    ScoreStore,
    default_cache_dir,
    digest,
)

log = logging.getLogger(__name__)
OFFLINE = "offline"
OFFLINE_KEY = digest([OFFLINE, METRICS_VERSION])
_BATCH = 32  # score lines written per fsync


def _line(attempt: AttemptRecord, kind: str, **fields: Any) -> ScoreRecord:
    return ScoreRecord(
        task_id=attempt.task_id, language=attempt.language, round=attempt.round, kind=kind, **fields
    )


class _References:
    """Reference images decoded once per task for the image metrics."""

    def __init__(self, run: RunFolder) -> None:
        self.run = run
        self._prepared: dict[str, tuple[Any, str]] = {}

    def get(self, task_id: str) -> tuple[Any, str]:
        if task_id not in self._prepared:
            png, name = self.run.reference(task_id)
            try:
                self._prepared[task_id] = (prepare(png) if png else None, name)
            except (OSError, ValueError) as exc:
                log.warning("%s: unreadable reference image %s: %s", task_id, name, exc)
                self._prepared[task_id] = (None, "")
        return self._prepared[task_id]


def offline_lines(
    attempt: AttemptRecord, folder: Path, reference: tuple[Any, str], todo: tuple[str, ...] = METRICS
) -> list[ScoreRecord]:
    """The offline metric lines of one attempt of the run in ``folder``; ``reference`` is the
    ``prepare``d reference image (None when there is none) and where it came from."""
    base = {"scorer": OFFLINE, "scorer_key": OFFLINE_KEY, "prompt_version": METRICS_VERSION}
    ref, ref_name = reference
    values: dict[str, float | None]
    if not attempt.images:
        values, status = dict.fromkeys(METRICS, 0.0), "no_image"
    elif ref is None:
        values, status = dict.fromkeys(METRICS, None), "no_reference"
    else:
        try:
            generated = (folder / attempt.images[0]).read_bytes()
            values, status = {**compare_images(generated, ref)}, "scored"
        except (OSError, ValueError) as exc:  # an unreadable image file
            log.warning("%s round %d: cannot compare images: %s", attempt.task_id, attempt.round, exc)
            values, status = dict.fromkeys(METRICS, None), "failed"
    return [
        _line(
            attempt,
            kind,
            score=values[kind],
            status=status,
            reference=ref_name,
            images=attempt.images[:1],
            **base,
        )
        for kind in todo
    ]


def _offline(run: RunFolder, done: set[tuple[str, int, str, tuple[str, ...]]], store: ScoreStore) -> int:
    batch: list[ScoreRecord] = []
    count = 0
    references = _References(run)
    for attempt in run.scored_attempts:
        first = attempt.images[:1]
        todo = tuple(
            kind for kind in METRICS if (attempt.task_id, attempt.round, kind, tuple(first)) not in done
        )
        if not todo:
            continue
        batch += offline_lines(attempt, run.folder, references.get(attempt.task_id), todo)
        count += len(todo)
        if len(batch) >= _BATCH:
            store.append(batch)
            batch = []
    store.append(batch)
    return count


def _judged(
    run: RunFolder,
    judge: Judge,
    done: set[tuple[str, int, str, tuple[str, ...]]],
    store: ScoreStore,
    cache: Cache,
    progress: bool,
) -> int:
    identity = judge.identity()
    base = {
        "scorer": judge.spec,
        "scorer_key": digest(identity),
        "model": judge.model,
        "prompt_version": judge.prompts.version,
        "prompt_sha256": judge.prompts.sha256,
    }
    immediate: list[ScoreRecord] = []
    items: list[JudgeItem] = []
    owners: list[tuple[AttemptRecord, str, list[str], str]] = []
    for attempt in run.scored_attempts:
        for kind in ("vis", "task"):
            used = attempt.images[:1] if kind == "vis" else attempt.images[: judge.settings.max_images]
            if (attempt.task_id, attempt.round, kind, tuple(used)) in done:
                continue
            ref, ref_name = run.reference(attempt.task_id) if kind == "vis" else (None, "")
            if not used:
                immediate.append(_line(attempt, kind, score=0.0, status="no_image", **base))
            elif kind == "vis" and ref is None:
                immediate.append(_line(attempt, kind, score=None, status="no_reference", images=used, **base))
            else:
                text = run.task_text(attempt) if kind == "task" else ""
                items.append(JudgeItem(kind, attempt.language, run.images(attempt)[: len(used)], ref, text))
                owners.append((attempt, kind, used, ref_name))
    store.append(immediate)
    bar = None
    if progress and items:
        from tqdm import tqdm

        bar = tqdm(total=len(items), desc=f"judging with {judge.spec}", unit="score")
    batch: list[ScoreRecord] = []
    try:
        for i, outcome in judge.judge(items, cache):
            attempt, kind, used, ref_name = owners[i]
            batch.append(
                _line(
                    attempt,
                    kind,
                    score=outcome.score,
                    status=outcome.status,
                    replies=outcome.replies,
                    error=outcome.error,
                    requests=outcome.requests,
                    cached=outcome.cached,
                    clamped=outcome.clamped,
                    images=used,
                    reference=ref_name,
                    **base,
                )
            )
            if bar is not None:
                bar.update()
            if len(batch) >= _BATCH:
                store.append(batch)
                batch = []
    finally:
        store.append(batch)
        if bar is not None:
            bar.close()
    return len(immediate) + len(items)


def _done(lines: list[ScoreRecord], scorer_key: str) -> set[tuple[str, int, str, tuple[str, ...]]]:
    """(task, round, kind, images) already scored by ``scorer_key``; failed requests are not done."""
    return {
        (r.task_id, r.round, r.kind, tuple(r.images))
        for r in lines
        if r.scorer_key == scorer_key and r.status != "failed"
    }


def score_run(
    run_folder: str | Path,
    judge: Judge | str | None = None,
    *,
    judge_options: dict[str, Any] | None = None,
    judge_prompts: JudgePrompts | str | None = None,
    offline: bool = True,
    tasks: list[Any] | str | None = None,
    cache_dir: str | None = None,
    progress: bool = False,
) -> ScoresSummary:
    """Add scores to the run in ``run_folder`` and write ``scores_summary.json``; return the summary.

    Args:
        run_folder: a folder written by ``visplotbench run``.
        judge: a ``Judge``, or ``<backend>:<model>`` (e.g. ``openai:gpt-4.1``) built with ``judge_options``
            and ``judge_prompts``; None scores the offline metrics only.
        judge_options: judge and backend options (see ``make_judge``).
        judge_prompts: judge texts: a ``JudgePrompts``, a file (ours or the original instructs.json), None.
        offline: compute the offline image metrics (ssim, edge_f1).
        tasks: the run's tasks (for task texts and reference images), or a task source to load them from
            (``bundled``, a folder, a parquet file...); None: the run's own source, loaded when needed.
        cache_dir: the judgement cache; None: the user cache dir; "" disables it.
        progress: show a progress bar while judging.
    """
    folder = Path(run_folder)
    if not (folder / RESULTS_FILE).exists():
        raise FileNotFoundError(
            f"{folder} is not a run folder: it has no {RESULTS_FILE}. "
            "Run the benchmark first (visplotbench run --out FOLDER)."
        )
    run = RunFolder(folder, tasks)
    store = run.scores
    chosen: dict[str, str] = {}
    if offline:
        _offline(run, _done(store.load(), OFFLINE_KEY), store)
        chosen.update(dict.fromkeys(METRICS, OFFLINE_KEY))
    identity: dict[str, Any] | None = None
    if judge is not None:
        if isinstance(judge, str):
            judge = make_judge(judge, judge_options, judge_prompts)
        identity = judge.identity()
        cache = Cache(default_cache_dir() if cache_dir is None else (cache_dir or None), "judgements")
        try:
            _judged(run, judge, _done(store.load(), digest(identity)), store, cache, progress)
        finally:
            judge.close()
        chosen.update(dict.fromkeys(("vis", "task"), digest(identity)))
    previous = store.read_summary()
    scorers = {**previous.get("scorers", {}), **chosen}
    summary = summarize_scores(run.attempts, store.load(), run.task_languages(), run.rounds, scorers)
    scorers = {kind: s.scorer["scorer_key"] for kind, s in summary.kinds.items()}
    store.write_summary(
        {
            **summary.to_json(),
            "scorers": scorers,
            "judge": identity if identity is not None else previous.get("judge"),
            "metrics_version": METRICS_VERSION,
            "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
    )
    return summary
