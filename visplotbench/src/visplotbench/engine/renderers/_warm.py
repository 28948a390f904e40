"""Shared plumbing for renderers that run their jobs in warm sandboxed workers."""

from __future__ import annotations

import contextlib
import re
import shutil
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from visplotbench.engine._images import job_files, read_job_image
from visplotbench.engine._jobcontrol import current
from visplotbench.engine._sandbox import ProcessResult
from visplotbench.engine._types import RenderJob, RenderResult
from visplotbench.engine._worker import WarmWorker
from visplotbench.engine.renderers._base import Renderer, env_failure, finish, write_job_files

if TYPE_CHECKING:
    from PIL import Image


# How a worker's runtime (Rust, C++) reports an allocation it could not get before it aborts.
_ALLOCATION_FAILED = re.compile(r"memory allocation of \d+ bytes failed|std::bad_alloc|out of memory")


class WorkerPool:
    """``size`` warm workers of one handler, each serving one job at a time.

    A job that became a long runner (see ``_jobcontrol``) lends its worker out: a spare worker takes
    the next job, or the pool starts one more, so that the next job of the language does not wait for the long runner
    (at most ``max_size`` workers in all). The ``RenderPool`` bounds how many long runners exist at
    once; the extra workers stay warm for later ones.

    No spare is started up front by default: a Python worker costs ~6 CPU-s to start (imports; the
    font list is prebuilt, see ``workers.mpl_fonts``), a run with no long runner never needs it, and
    on a 2-core machine starting it beside the others delayed every language's first jobs. The first long runner starts one (its language's
    next job waits for that start once).
    """

    def __init__(
        self,
        make: type[WarmWorker] | None = None,
        *,
        size: int,
        spare: int = 0,
        max_size: int | None = None,
        **kwargs: object,
    ):
        self._kwargs = kwargs
        # ``spare`` workers beyond the renderer's concurrency: started with the others (``warm``),
        # they take the next job at once when a long runner holds a worker, instead of that job
        # waiting seconds for a worker to start.
        self._all = [WarmWorker(**kwargs) for _ in range(size + spare)]  # type: ignore[arg-type]
        self._free = list(self._all)
        self._base = size + spare
        self._lent = 0  # workers held by long runners right now
        self.max_size = max(size + spare, max_size if max_size is not None else 4 * size)
        self._cond = threading.Condition()

    @property
    def starts(self) -> int:
        """How many times the workers were started (a restart after a crash or a limit counts)."""
        return sum(w.starts for w in self._all)

    @property
    def warm_size(self) -> int:
        """How many workers ``warm`` starts (the renderer's concurrency plus any spare)."""
        return self._base

    @property
    def size(self) -> int:
        """How many workers the pool has now (it grows beside long runners)."""
        return len(self._all)

    def acquire(self) -> WarmWorker:
        with self._cond:
            while True:
                if self._free:  # a started worker first: the job need not wait for a start
                    started = [w for w in self._free if w.started]
                    worker = started[-1] if started else self._free[-1]
                    self._free.remove(worker)
                    return worker
                if len(self._all) < min(self.max_size, self._base + self._lent):
                    worker = WarmWorker(**self._kwargs)  # type: ignore[arg-type]  # started on first use
                    self._all.append(worker)
                    return worker
                self._cond.wait()

    def lend(self) -> None:
        """A held worker now serves a long runner: one more worker may be started beside it."""
        with self._cond:
            self._lent += 1
            self._cond.notify()

    def release(self, worker: WarmWorker, *, lent: bool = False) -> None:
        with self._cond:
            if lent:
                self._lent -= 1
            self._free.append(worker)
            self._cond.notify()

    def warm(self) -> None:
        """Start the pool's workers one after another; returns when all are up (or failed to start).

        One after another, not at once: the renderers of every language start together at the
        beginning of a run, on few cores, and the first worker is ready (and takes the first job)
        in about half the time it would need beside its siblings. A job that arrives meanwhile
        starts a worker of its own (``acquire``) rather than wait for this loop.
        """
        for _ in range(self.warm_size):
            with self._cond:
                worker = next((w for w in self._free if not w.started), None)
                if worker is None:
                    return  # jobs have taken (and started) the rest meanwhile
                self._free.remove(worker)
            try:
                with contextlib.suppress(Exception):  # a failed start is reported by the job that needs it
                    shutil.rmtree(worker.new_job_dir(), ignore_errors=True)
            finally:
                self.release(worker)

    def close(self) -> None:
        with self._cond:
            workers = list(self._all)
        for w in workers:
            w.close()


class _Lending:
    """Lends a job's worker out at most once, and only while the job still holds it."""

    def __init__(self, pool: WorkerPool) -> None:
        self.pool, self.held, self.lent = pool, True, False
        self._lock = threading.Lock()

    def lend(self) -> None:
        with self._lock:
            if not self.held or self.lent:
                return
            self.lent = True
        self.pool.lend()

    def end(self) -> bool:
        """The job gives its worker back; True when it had been lent out."""
        with self._lock:
            self.held = False
            return self.lent


def read_images(out_dir: Path) -> list[Image.Image]:
    """Images a job wrote to ``out/`` (0.png or 0.raw, 1.png, ...) in numeric order, decoded once.

    Regular files only (a planted symlink to a host file is ignored); a damaged image is ValueError.
    """
    files = [p for p in job_files(out_dir) if p.suffix in (".png", ".raw") and p.stem.isdigit()]
    return [read_job_image(p) for p in sorted(files, key=lambda p: int(p.stem))]


class WarmRenderer(Renderer):
    """A renderer whose jobs run in a ``WorkerPool``; subclasses build the result from the job dir."""

    pool: WorkerPool

    def run_job(
        self, job: RenderJob, options: dict | None = None
    ) -> tuple[ProcessResult, Path, float] | RenderResult:
        """Write the job into a worker's directory and run it; the caller must ``cleanup(job_dir)``."""
        start = time.monotonic()
        worker = self.pool.acquire()
        lending = _Lending(self.pool)
        control = current()
        if control is not None:
            control.on_release(lending.lend)
        try:
            try:
                job_dir = worker.new_job_dir()
            except Exception as exc:  # the worker could not start: the environment's fault
                return env_failure(self.language, str(exc))
            try:
                write_job_files(job, job_dir, self.source_name)
            except BaseException:
                self.cleanup(job_dir)
                raise
            reply = worker.run(job_dir, self.limits_for(job), options)
        finally:
            self.pool.release(worker, lent=lending.end())
        return reply, job_dir, time.monotonic() - start

    def warm(self) -> None:
        """Start every worker of the pool at once (each takes up to seconds: imports, a JS runtime)."""
        self.pool.warm()

    def error_text(self, reply: ProcessResult) -> str:
        """The error of a job that failed, from the worker's report (subclasses trim tool noise)."""
        return reply.stderr.strip()

    def render(self, job: RenderJob) -> RenderResult:
        """Run the job in a warm worker and turn the PNGs it wrote to ``out/`` into a result."""
        ran = self.run_job(job)
        if isinstance(ran, RenderResult):
            return ran
        reply, job_dir, _ = ran
        try:
            error = self.error_text(reply) if reply.returncode != 0 else ""
            try:
                images = read_images(job_dir / "out")
            except ValueError as exc:  # a damaged or oversized PNG is the program's fault
                images, error = [], error or str(exc)
            proc = reply
            if reply.crashed and _ALLOCATION_FAILED.search(reply.crashed):
                proc.memory_exceeded = True  # an in-process job asked for memory the worker could not get
            elif reply.crashed and not reply.timed_out and not error:
                error = f"The renderer stopped unexpectedly ({reply.crashed})."
            result = finish(
                self.language,
                images,
                error=error,
                proc=proc,
                limits=self.limits_for(job),
                tool_versions=self.versions(),
            )
        finally:
            self.cleanup(job_dir)
        return result

    @staticmethod
    def cleanup(job_dir: Path) -> None:
        shutil.rmtree(job_dir, ignore_errors=True)

    def close(self) -> None:
        self.pool.close()
