"""One task's attempts, piece by piece: the steps the benchmark runner and the Space both call.

``Runner`` batches these steps over every task of a round; ``self_debug`` chains them for one task,
round after round, and yields each round's attempt as soon as it is rendered (the Space streams it).
Both go through the same functions, so an attempt shown in the Space is built exactly as the
benchmark builds it:

  * ``first_messages`` / ``follow_up``: round 0's conversation, and the next round's (or ``None``
    when the task needs no further round: it passed, the environment failed, or the task is bad);
  * ``prepare``: a reply -> the extracted code and its ``RenderJob`` (or why nothing is rendered);
  * ``attempt_record``: a reply and its render result -> the ``AttemptRecord`` and its images.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from visplotbench.backends import Backend, GenerationRequest, GenerationResult
from visplotbench.engine import InvalidJob, RenderJob, RenderPool, RenderResult
from visplotbench.engine.registry import data_files
from visplotbench.extract import extract_code
from visplotbench.prompts import PromptSet, build_messages
from visplotbench.runfolder import AttemptRecord, AttemptStatus, failure_kind
from visplotbench.tasks import Task

# Outcomes after which a task gets no further self-debug round (besides passing).
_FINAL = (AttemptStatus.ENV_FAILURE, AttemptStatus.BAD_TASK)


def first_messages(task: Task, prompts: PromptSet, descriptor: str = "head") -> list[dict[str, str]]:
    """Round 0's conversation for ``task`` (system prompt + the task's user turn)."""
    return build_messages(task, prompts, descriptor)


def follow_up(previous: AttemptRecord) -> list[dict[str, str]] | None:
    """The next round's conversation after ``previous``, or None when the task is finished with."""
    from visplotbench.harness._selfdebug import next_messages

    if previous.passed or previous.status in _FINAL:
        return None
    return next_messages(previous.messages, previous.language, previous.code, previous.status, previous.error)


@dataclass
class Prepared:
    """A reply made ready to render.

    Attributes:
        code: the extracted program ("" when the request failed or the reply held none).
        rule: the extraction rule that found it (``visplotbench.extract``).
        job: the render job, or None when nothing is to be rendered.
        bad_task: why the task's own data cannot be given to any program ("" when it can).
    """

    code: str = ""
    rule: str = ""
    job: RenderJob | None = None
    bad_task: str = ""


def render_job(task: Task, code: str) -> RenderJob:
    """The render job of ``code`` for ``task``: its language and the task's data files.

    Raises:
        InvalidJob: a data file of the task has a name no job may have.
    """
    return RenderJob(task.language, code, {**data_files(task.language, task.data), **task.files})


def prepare(task: Task, gen: GenerationResult) -> Prepared:
    """Extract the program from a reply and build its render job."""
    if gen.error:
        return Prepared()
    extraction = extract_code(gen.text, task.language)
    if not extraction.code.strip():
        return Prepared(extraction.code, extraction.rule)
    try:
        job = render_job(task, extraction.code)
    except InvalidJob as exc:
        return Prepared(extraction.code, extraction.rule, bad_task=str(exc))
    return Prepared(extraction.code, extraction.rule, job)


def attempt_record(
    task: Task,
    round_: int,
    messages: list[dict[str, str]],
    gen: GenerationResult,
    prepared: Prepared,
    result: RenderResult | None,
    timings: dict[str, float] | None = None,
    cache: list[str] | None = None,
) -> tuple[AttemptRecord, list[bytes]]:
    """The record of one attempt and the images it drew (``result`` is None when nothing was rendered).

    ``record.images`` stays empty: the run folder's store names the images when it writes them.
    """
    timings = dict(timings or {})
    images: list[bytes] = []
    if gen.error:
        status, error = AttemptStatus.GENERATION_FAILED, f"The model request failed: {gen.error}"
    elif prepared.bad_task:  # the task's own data cannot be given to any program: not the model's fault
        status, error = AttemptStatus.BAD_TASK, f"This task cannot be run as given: {prepared.bad_task}"
    elif result is None:
        status, error = AttemptStatus.NO_CODE, "The reply contained no code."
    else:
        status, error, images = AttemptStatus.of_render(result.status), result.error, result.images
        timings.update({f"render_{k}": v for k, v in result.timings.items()})
    record = AttemptRecord(
        task_id=task.id,
        language=task.language,
        round=round_,
        messages=messages,
        reply=gen.text,
        code=prepared.code,
        status=status,
        error=error,
        generation_error=gen.error,
        extraction_rule=prepared.rule,
        failure_kind=failure_kind(task.language, status, error),
        passed=status is AttemptStatus.OK,
        timings=timings,
        cache=list(cache or []),
    )
    return record, images


@dataclass
class Attempt:
    """One round of ``self_debug``: the record, the images it drew and the raw render result.

    Attributes:
        record: the attempt as ``results.jsonl`` stores it.
        images: PNG bytes of the images (``record.images`` is filled only by a run folder's store).
        result: the engine's result (None when nothing was rendered).
        final: no round follows (passed, environment failure, bad task, or the last round).
    """

    record: AttemptRecord
    images: list[bytes] = field(default_factory=list)
    result: RenderResult | None = None
    final: bool = False


def self_debug(
    task: Task,
    backend: Backend,
    pool: RenderPool,
    prompts: PromptSet,
    rounds: int,
    *,
    descriptor: str = "head",
    stop: threading.Event | None = None,
) -> Iterator[Attempt]:
    """One task's self-debug conversation: yield each round's ``Attempt`` as soon as it is rendered.

    Round 0 is the first try; up to ``rounds`` more follow while the task fails, each carrying the
    previous code and its error excerpt (``follow_up``), exactly as ``visplotbench run`` does.
    Setting ``stop`` (or closing the generator) ends the conversation before the next model request;
    a reply that comes back after ``stop`` was set is dropped unrendered (nobody waits for it: the
    Space sets ``stop`` when its visitor presses Stop or leaves the page).
    """
    messages: list[dict[str, str]] | None = first_messages(task, prompts, descriptor)
    for round_ in range(rounds + 1):
        if messages is None or (stop is not None and stop.is_set()):
            return
        started = time.monotonic()
        request = GenerationRequest(task.id, round_, messages, task)
        gen = next((g for _, g in backend.generate([request])), None) or GenerationResult(
            error="the backend returned no reply"
        )
        timings = {"generate": time.monotonic() - started}
        if stop is not None and stop.is_set():
            return
        prepared = prepare(task, gen)
        result = None
        if prepared.job is not None:
            render_start = time.monotonic()
            result = pool.render(prepared.job)
            timings["render"] = time.monotonic() - render_start
        record, images = attempt_record(task, round_, messages, gen, prepared, result, timings)
        messages = follow_up(record)
        yield Attempt(record, images, result, final=messages is None or round_ == rounds)
