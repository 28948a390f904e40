"""The small interface every renderer implements, and the helpers they share."""

from __future__ import annotations

import abc
import contextlib
import re
import shutil
import tempfile
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from visplotbench.engine._capture import FLOOD_FACTOR
from visplotbench.engine._errors import clean_excerpt
from visplotbench.engine._images import BLANK_SHARE, normalize_and_measure
from visplotbench.engine._sandbox import ProcessResult, scratch_dir
from visplotbench.engine._types import (
    EnvironmentProblem,
    InvalidJob,
    Limits,
    RenderJob,
    RenderResult,
    RenderStatus,
    check_file_names,
)

if TYPE_CHECKING:
    from PIL import Image


class Renderer(abc.ABC):
    """The contract of a per-language renderer: one method to implement, ``render(job)``.

    A subclass sets ``language``, ``source_name`` and ``default_limits`` and implements ``render``:
    run the job (a process renderer writes it into ``job_directory`` and runs the tool with
    ``run_sandboxed``) and hand its outputs to ``finish``, which decides the status. It may override
    ``check()`` (raise ``EnvironmentProblem`` with the fix when the tool is missing), ``versions()``
    (the tools that make its images: answerable before anything starts, as render cache keys
    include them) and ``close()``. The shared work around a job (timing, turning
    ``EnvironmentProblem`` and renderer bugs into ``env_failure``) is ``render_safely``'s, which the
    pool calls. Renderers are created lazily by the pool, are used from several threads at once (at
    most ``max_concurrency`` jobs) and own any warm process they start until ``close()``.
    Every renderer passes ``tests/visplotbench/test_renderer_contract.py``.
    """

    language: ClassVar[str]
    source_name: ClassVar[str]  # the file the source is written to inside the job dir
    default_limits: ClassVar[Limits] = Limits()
    max_concurrency: ClassVar[int] = 2
    # CPU seconds after which a long-running job of this language runs at the lowest CPU weight
    # (``RenderPool``): above what its valid programs use (benchmarks/bench_long_runners.py).
    demote_after_cpu_s: ClassVar[float] = 3.0

    def check(self) -> None:
        """Raise EnvironmentProblem (with the command that fixes it) if this renderer cannot run."""
        return None  # optional: a renderer that needs nothing outside Python has nothing to check

    def versions(self) -> dict[str, str]:
        """Tool name -> version of what draws this language's images (the same before and after start)."""
        return {}

    def expect(self, pending: int) -> None:
        """The pool's word on demand: ``pending`` jobs of this language wait or run now (called
        for each job as it starts). Renderers that keep costly warm processes size themselves by
        it; the others ignore it."""
        return None  # optional: a renderer without warm processes has nothing to size

    def warm(self) -> None:
        """Start the warm processes this renderer keeps (workers, browser pages) now, not on first use.

        ``RenderPool.prestart`` calls it for every language of a run at once, in the background.
        Blocks until they are up; a failure to start is left for the first job to report.
        """
        return None  # optional: a renderer without warm processes has nothing to start

    def close(self) -> None:
        """Stop warm processes; the renderer must not be used afterwards."""
        return None  # optional: a renderer without warm processes has nothing to stop

    @abc.abstractmethod
    def render(self, job: RenderJob) -> RenderResult:
        """Render ``job`` and return its result (statuses decided by ``finish``)."""

    def limits_for(self, job: RenderJob) -> Limits:
        return job.limits or self.default_limits


def render_safely(renderer: Renderer, job: RenderJob) -> RenderResult:
    """``renderer.render(job)`` with the work every language shares, done once: the total time, an
    ``EnvironmentProblem`` or a renderer bug becomes ``env_failure`` (never the program's fault).

    Raises:
        InvalidJob: the job itself is malformed (the caller's input, not a render outcome).
    """
    start = time.monotonic()
    try:
        result = renderer.render(job)
    except InvalidJob:
        raise
    except EnvironmentProblem as exc:
        result = env_failure(job.language, str(exc))
    except Exception as exc:  # a bug in a renderer must not take the run down or blame the model
        result = env_failure(
            job.language, f"internal renderer error: {exc!r}\n{traceback.format_exc(limit=5)}"
        )
    result.timings["total"] = time.monotonic() - start
    return result


@contextlib.contextmanager
def job_directory(job: RenderJob, source_name: str) -> Iterator[Path]:
    """A fresh private directory holding the source file and the data files; removed afterwards."""
    job_dir = Path(tempfile.mkdtemp(prefix="vpb-job-", dir=scratch_dir()))
    try:
        job_dir.chmod(0o700)
        write_job_files(job, job_dir, source_name)
        yield job_dir
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)


def write_job_files(job: RenderJob, job_dir: Path, source_name: str) -> None:
    """Write the program and its data files (sub-folders made as needed) into ``job_dir``.

    The names are checked again (``RenderJob`` checked them when it was made, but its dict can be
    changed afterwards): ``InvalidJob`` for a bad one, before anything is written.
    """
    check_file_names(job.language, list(job.files), source_name)
    (job_dir / source_name).write_text(job.source, encoding="utf-8")
    for name, content in job.files.items():
        target = job_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")


# Errors a program reports itself when a limit refuses it something (an allocation under the address
# space cap, a write over the file size cap): the limit is named next to them, with its figure.
_MEMORY_REFUSED = re.compile(
    r"\bMemoryError\b|memory allocation of \d+ bytes failed|std::bad_alloc|Cannot allocate memory"
    r"|\bout of memory\b|used too much memory"
)
_FILE_REFUSED = re.compile(r"File too large|\[Errno 27\]|\bEFBIG\b")


def stopped_by(proc: ProcessResult, limits: Limits) -> tuple[RenderStatus, str, str] | None:
    """(status, message, limit) for a job stopped by one of its limits, or None.

    ``limit`` is one of ``LIMITS``; the message names the limit with its figure (and what the job
    had used where that is known). Wall time and CPU time end as ``timeout``; memory, output size
    and file size as ``error``.
    """
    if proc.memory_exceeded:  # first: an OOM-killed job may also have overrun the clock while swapping
        return (
            RenderStatus.ERROR,
            f"MemoryError: the program exceeded the memory limit of {limits.memory_mb} MiB and was stopped.",
            "memory",
        )
    # SIGXCPU at RLIMIT_CPU's soft limit, or SIGKILL at its hard limit (a tool that caught SIGXCPU)
    killed_at_cpu_limit = proc.returncode in (-9, 128 + 9) and proc.cpu_s >= limits.cpu_s
    if proc.returncode in (-24, 128 + 24) or killed_at_cpu_limit:
        return (
            RenderStatus.TIMEOUT,
            f"CPUTimeLimitExceeded: the program used more than the CPU-time limit of {limits.cpu_s} s "
            f"and was stopped (after {proc.wall_s:.1f} s of wall time).",
            "cpu_time",
        )
    if proc.timed_out:
        return (
            RenderStatus.TIMEOUT,
            f"Timeout: the program did not finish within the wall-time limit of {limits.wall_s:g} s and "
            "was stopped.",
            "wall_time",
        )
    if proc.output_flood:
        return (
            RenderStatus.ERROR,
            f"OutputLimitExceeded: the program printed more than {limits.output_bytes * FLOOD_FACTOR:,} "
            f"bytes to one stream (the limit keeps {limits.output_bytes:,} bytes of each) and was stopped.",
            "output",
        )
    if proc.returncode in (-25, 128 + 25):  # SIGXFSZ: RLIMIT_FSIZE
        return (
            RenderStatus.ERROR,
            f"FileSizeLimitExceeded: the program wrote a file larger than the file size limit of "
            f"{limits.file_size_mb} MiB and was stopped.",
            "file_size",
        )
    return None


def limit_message(proc: ProcessResult, limits: Limits) -> tuple[RenderStatus, str] | None:
    """The status and message for a job stopped by one of its limits, or None."""
    stopped = stopped_by(proc, limits)
    return None if stopped is None else stopped[:2]


def refused_by(error: str, limits: Limits) -> tuple[str, str]:
    """(limit, note) when the program's own error says a limit refused it memory or a file write."""
    if _MEMORY_REFUSED.search(error):
        return "memory", f"(The job's memory limit is {limits.memory_mb} MiB.)"
    if _FILE_REFUSED.search(error):
        return "file_size", f"(The job's file size limit is {limits.file_size_mb} MiB.)"
    return "", ""


def finish(
    language: str,
    images: Sequence[bytes | Image.Image],
    *,
    error: str = "",
    proc: ProcessResult | None = None,
    limits: Limits | None = None,
    tool_versions: dict[str, str] | None = None,
    timings: dict[str, float] | None = None,
    notes: list[str] | None = None,
    clean: bool = True,
) -> RenderResult:
    """Decide the status of a finished job in one place, the same way for every language.

    Order: a limit that stopped the job, then an error reported by the tool or program (a figure
    plus an error is still an error, as in the original), then no image, then blank images.
    """
    status, limit = RenderStatus.OK, ""
    stopped = stopped_by(proc, limits) if proc is not None and limits is not None else None
    processes = f"ProcessLimitExceeded: the program reached the limit of {limits.max_processes if limits else '?'} processes."
    if stopped is not None:
        status, error, limit = stopped
        if proc is not None and proc.pids_exceeded:
            error += f" (It also reached the limit of {limits.max_processes if limits else '?'} processes.)"
    elif proc is not None and proc.pids_exceeded and not error:
        status, error, limit = RenderStatus.ERROR, processes, "processes"
    elif error:
        status = RenderStatus.ERROR
        if proc is not None and proc.pids_exceeded:
            error, limit = processes + "\n" + error, "processes"
        elif limits is not None:
            limit, note = refused_by(error, limits)
            if note and "limit" not in error:  # a renderer's own message may name the limit already
                error = f"{error.rstrip()}\n{note}"
    measured = [normalize_and_measure(img) for img in images]
    pngs = [png for png, _ in measured]
    if status is RenderStatus.OK and not pngs:
        status = RenderStatus.NO_OUTPUT
        error = "The program ran without errors but produced no image."
    elif status is RenderStatus.OK and all(share >= BLANK_SHARE for _, share in measured):
        status = RenderStatus.BLANK
        error = (
            "The program ran without errors but the image is blank (one colour covers at least 98% of it)."
        )
    return RenderResult(
        language=language,
        status=status,
        images=pngs,
        error=clean_excerpt(error) if clean else error,
        stdout=proc.stdout if proc else "",
        stderr=proc.stderr if proc else "",
        timings=dict(timings or {}, **({"run": proc.wall_s} if proc else {})),
        tool_versions=dict(tool_versions or {}),
        notes=list(notes or []),
        limit=limit,
    )


def env_failure(language: str, message: str, proc: ProcessResult | None = None) -> RenderResult:
    """A result that blames the environment, never the program."""
    return RenderResult(
        language=language,
        status=RenderStatus.ENV_FAILURE,
        error=message,
        stdout=proc.stdout if proc else "",
        stderr=proc.stderr if proc else "",
    )
