"""The Self-debug tab's logic, without any UI: stream one task's rounds as typed views.

``run_self_debug`` drives ``visplotbench.harness.self_debug`` (the benchmark's own loop: same prompts,
extraction, feedback messages and records as ``visplotbench run``) and turns each finished round into
a ``RoundView``; ``replay`` shows the rounds a run folder recorded. Both yield a complete ``RunView``
after every round, so any front end (the Gradio page, a test) can show the run as it grows.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from visplotbench.runfolder import AttemptRecord, AttemptStatus
from visplotbench.tasks import Task

from viscoder2_space._models import CHECKPOINT, ENDPOINT, ModelChoice, ModelError, explain_generation_error
from viscoder2_space._resources import Resources

CODE_SUFFIX = {
    "python": ".py",
    "vegalite": ".vl.json",
    "mermaid": ".mmd",
    "lilypond": ".ly",
    "svg": ".svg",
    "asymptote": ".asy",
    "latex": ".tex",
    "html": ".html",
}


@dataclass
class RoundView:
    """One round as the page shows it.

    Attributes:
        round: 0 for the first try, k for the k-th self-debug round.
        status: the attempt's status (``AttemptStatus`` value).
        headline: one Markdown line: round, status, seconds.
        reply: the model's raw reply.
        code: the extracted program that was rendered.
        error: the error excerpt the model sees next ("" when it passed).
        images: the PNGs it drew.
    """

    round: int
    status: str
    headline: str
    reply: str
    code: str
    error: str
    images: list[bytes] = field(default_factory=list)


@dataclass
class RunView:
    """The whole run so far.

    Attributes:
        rounds: the finished rounds, in order.
        summary: the summary line (Markdown), or the running state.
        done: no more rounds will come.
        message: a problem to show instead of (or after) rounds: no model, endpoint down...
        reference: the task's reference PNG (bundled tasks), else None.
        metrics: offline visual metrics of the final image against the reference (SSIM, edge F1).
        records: the attempts, as ``results.jsonl`` stores them (for the download).
    """

    rounds: list[RoundView] = field(default_factory=list)
    summary: str = ""
    done: bool = False
    message: str = ""
    reference: bytes | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    records: list[AttemptRecord] = field(default_factory=list)

    @property
    def final_images(self) -> list[bytes]:
        return self.rounds[-1].images if self.rounds else []


def round_view(record: AttemptRecord, images: list[bytes]) -> RoundView:
    """The view of one recorded attempt."""
    seconds = sum(v for k, v in record.timings.items() if k in ("generate", "render"))
    verdict = "passed" if record.passed else "failed"
    timing = f" · {seconds:.1f} s" if seconds else ""
    headline = f"**Round {record.round}** · `{record.status.value}` · {verdict}{timing}"
    return RoundView(
        record.round,
        record.status.value,
        headline,
        record.reply,
        record.code,
        "" if record.passed else record.error,
        list(images),
    )


def summary_line(view: RunView, rounds: int, stopped: bool = False) -> str:
    """Passed at round j / failed after K rounds / stopped / environment failure."""
    if not view.rounds:
        return "Stopped before the first round." if stopped else ""
    last = view.records[-1] if view.records else None
    if last is not None and last.passed:
        return f"**Passed** at round {last.round} (of up to {rounds} self-debug rounds)."
    if stopped:
        return f"**Stopped** by the visitor after round {view.rounds[-1].round}."
    status = view.rounds[-1].status
    if status == AttemptStatus.ENV_FAILURE.value:
        return "**Environment failure:** the renderer could not run on this machine (not the model's fault)."
    if status == AttemptStatus.GENERATION_FAILED.value:
        return f"**Failed:** the model request failed in round {view.rounds[-1].round}."
    if status == AttemptStatus.BAD_TASK.value:
        return "**Bad task:** it cannot be run as given (its data file name)."
    return f"**Failed** after {rounds} self-debug round{'s' if rounds != 1 else ''}."


def _metrics(images: list[bytes], reference: bytes | None) -> dict[str, float]:
    if not images or not reference:
        return {}
    from visplotbench.judges import compare_images

    try:
        return compare_images(images[0], reference)
    except Exception:  # an image the metrics cannot read: show none rather than fail the run
        return {}


def run_self_debug(
    resources: Resources,
    task: Task,
    choice: ModelChoice,
    rounds: int,
    stop: threading.Event | None = None,
) -> Iterator[RunView]:
    """Run ``task`` through the benchmark's self-debug loop with the chosen model, round by round."""
    from visplotbench.harness import self_debug

    view = RunView(reference=task.image or None)
    if not resources.sandbox.ok:
        view.message = f"Rendering is disabled: {resources.sandbox.message}"
        view.done = True
        yield view
        return
    try:
        if choice.kind == ENDPOINT:
            backend = resources.endpoint(choice.base_url, choice.model)
        elif choice.kind == CHECKPOINT:
            backend = resources.checkpoints.backend(choice.checkpoint)
        else:
            raise ModelError(f"Unknown model source {choice.kind!r}.")
    except ModelError as exc:
        view.message, view.done = str(exc), True
        yield view
        return
    view.summary = "Round 0: the model is writing…"
    yield view
    try:
        for attempt in self_debug(task, backend, resources.pool, resources.prompts, rounds, stop=stop):
            view.records.append(attempt.record)
            view.rounds.append(round_view(attempt.record, attempt.images))
            if attempt.record.status is AttemptStatus.GENERATION_FAILED:
                # An endpoint that is down stays down: say so now rather than fail K more times.
                error = attempt.record.generation_error
                view.message = (
                    explain_generation_error(error, choice.base_url)
                    if choice.kind == ENDPOINT
                    else f"The local checkpoint {choice.checkpoint} failed: {error.strip()[:400]}"
                )
                break
            if not attempt.final:
                view.summary = f"Round {attempt.record.round + 1}: the model is fixing its code…"
                yield view
        stopped = stop is not None and stop.is_set() and not (view.records and view.records[-1].passed)
        view.summary = summary_line(view, rounds, stopped)
        passed = bool(view.records) and view.records[-1].passed
        view.metrics = _metrics(view.final_images, view.reference) if passed else {}
        view.done = True
        yield view
    finally:
        if choice.kind == ENDPOINT:
            backend.close()


def replay(resources: Resources, folder: str, task_id: str) -> Iterator[RunView]:
    """Show the rounds a run folder recorded for ``task_id``, one after the other."""
    from visplotbench.runfolder import RunFolder

    view = RunView()
    if folder not in resources.config.run_folders():
        view.message = f"{folder!r} is not one of this Space's run folders (VISCODER2_RUNS)."
        view.done = True
        yield view
        return
    run = RunFolder(folder)
    attempts = sorted((a for a in run.attempts if a.task_id == task_id), key=lambda a: a.round)
    if not attempts:
        view.message, view.done = f"{folder} has no attempts for task {task_id!r}.", True
        yield view
        return
    view.reference = run.reference(task_id)[0]
    for attempt in attempts:
        view.records.append(attempt)
        view.rounds.append(round_view(attempt, run.images(attempt)))
        view.summary = f"Replaying round {attempt.round}…"
        yield view
    view.summary = "Replay: " + summary_line(view, run.rounds)
    view.metrics = _metrics(view.final_images, view.reference) if attempts[-1].passed else {}
    view.done = True
    yield view


def replay_tasks(folder: str) -> list[str]:
    """The task ids a run folder holds attempts for, sorted."""
    from visplotbench.runfolder import RunFolder

    return sorted({a.task_id for a in RunFolder(folder).attempts})


def records_jsonl(records: list[AttemptRecord]) -> str:
    """The attempts as ``results.jsonl`` lines (one JSON object per attempt)."""
    return "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in records)
