"""Shared plumbing for renderers that run their jobs in warm sandboxed workers."""

from __future__ import annotations

import contextlib
import re
import shutil
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from visplotbench.engine._cpuload import spare_cores
from visplotbench.engine._images import job_files, read_job_image
from visplotbench.engine._jobcontrol import current
from visplotbench.engine._sandbox import ProcessResult
from visplotbench.engine._types import RenderJob, RenderResult
from visplotbench.engine._worker import WarmWorker
from visplotbench.engine.renderers._base import Renderer, env_failure, finish, write_job_files

if TYPE_CHECKING:
    from PIL import Image


# Spare CPU (in cores, over the last second) that counts as an idle core for starting a worker.
IDLE_CORE = 0.75
IDLE_RECHECK_S = 1.0  # how often a job waiting for a busy worker asks again

# How a worker's runtime (Rust, C++) reports an allocation it could not get before it aborts.
_ALLOCATION_FAILED = re.compile(r"memory allocation of \d+ bytes failed|std::bad_alloc|out of memory")


class WorkerPool:
    """Up to ``size`` warm workers of one handler, each serving one job at a time.

    Workers start as the demand needs them, not all up front: ``warm`` starts one, and one more
    starts (in the background, while the jobs wait for whichever worker is free first) only while
    the language's backlog is at least ``jobs_per_worker`` pending jobs per started worker. A worker
    costs far more to start than a job costs to run (Python: ~6 CPU-s against ~0.6 per job), so on
    a busy machine a second worker pays off only for a long queue; a run's dozen jobs of a language
    are served sooner by one worker than by two that cost their start first. The backlog comes
    from the ``RenderPool`` (``set_backlog``); without one (a pool used alone) ``size`` workers start
    as jobs need them, as before.

    A job that became a long runner (see ``_jobcontrol``) lends its worker out: the pool starts
    one more worker for the next job of the language, so that it does not wait for the long runner
    (at most ``max_size`` workers in all). The ``RenderPool`` bounds how many long runners exist at
    once; the extra workers stay warm for later ones.
    """

    def __init__(
        self,
        make: type[WarmWorker] | None = None,
        *,
        size: int,
        spare: int = 0,
        max_size: int | None = None,
        jobs_per_worker: int = 1,
        **kwargs: object,
    ):
        self._kwargs = kwargs
        # ``spare`` workers beyond the renderer's concurrency: they start as the demand needs them
        # too, and take the next job at once when a long runner holds a worker.
        self._all = [WarmWorker(**kwargs) for _ in range(size + spare)]  # type: ignore[arg-type]
        self._free = list(self._all)
        self._base = size + spare
        self._lent = 0  # workers held by long runners right now
        self._starting = 0  # workers being started in the background now
        self._backlog: int | None = None  # pending jobs of the language, when a RenderPool says
        self.jobs_per_worker = max(1, jobs_per_worker)
        self.max_size = max(size + spare, max_size if max_size is not None else 4 * size)
        self._cond = threading.Condition()

    @property
    def starts(self) -> int:
        """How many times the workers were started (a restart after a crash or a limit counts)."""
        return sum(w.starts for w in self._all)

    @property
    def warm_size(self) -> int:
        """How many workers ``warm`` starts: as many as the backlog calls for (``set_backlog``;
        all ``size`` without one), one at least."""
        with self._cond:
            return self._wanted()

    @property
    def size(self) -> int:
        """How many workers the pool has now (it grows beside long runners)."""
        return len(self._all)

    def set_backlog(self, pending: int) -> None:
        """The language's pending jobs (waiting or running) now: more workers start if they pay off."""
        with self._cond:
            self._backlog = pending
            self._cond.notify_all()

    def _wanted(self, *, idle_counts: bool = False) -> int:
        """Workers the demand calls for: ``size`` without a backlog figure, else one per
        ``jobs_per_worker`` pending jobs (at least one), plus one per worker lent to a long runner.

        ``idle_counts``: a job is waiting for a busy worker; if the machine has had an idle core
        lately, a start takes CPU from nobody, so any queue of two or more gets all ``size``."""
        if self._backlog is None:
            wanted = self._base
        else:
            wanted = min(self._base, max(1, self._backlog // self.jobs_per_worker))
            if idle_counts and wanted < self._base and self._backlog >= 2 and spare_cores() >= IDLE_CORE:
                wanted = self._base
        return min(self.max_size, wanted + self._lent)

    def _live(self) -> int:
        return sum(w.started for w in self._all) + self._starting

    def acquire(self) -> WarmWorker:
        with self._cond:
            while True:
                started = [w for w in self._free if w.started]
                if started:  # a started worker first: the job need not wait for a start
                    worker = started[-1]
                    self._free.remove(worker)
                    return worker
                live = self._live()
                extra = self._another() if live < self._wanted(idle_counts=live > 0) else None
                if extra is None:
                    # With room to grow, look again each second: a core may have fallen idle.
                    self._cond.wait(
                        IDLE_RECHECK_S if live < min(self.max_size, self._base + self._lent) else None
                    )
                elif live == 0:
                    return extra  # nothing else could serve the job: it starts the worker itself
                else:
                    self._start_in_background(extra)

    def _another(self) -> WarmWorker | None:
        """A worker to start (taken out of the free ones, or a new one); None at ``max_size``."""
        idle = [w for w in self._free if not w.started]
        if idle:
            self._free.remove(idle[-1])
            return idle[-1]
        if len(self._all) < self.max_size:
            worker = WarmWorker(**self._kwargs)  # type: ignore[arg-type]
            self._all.append(worker)
            return worker
        return None

    def _start_in_background(self, worker: WarmWorker) -> None:
        """Start ``worker`` beside the running ones; it joins the free workers once up (or failed).

        The job that asked waits for whichever worker is free first: usually a running one (a job
        takes ~1 s) long before the new one is up (several seconds)."""
        self._starting += 1
        threading.Thread(target=self._start, args=(worker,), name="warm-worker-start", daemon=True).start()

    def _start(self, worker: WarmWorker) -> None:
        """Start ``worker`` (counted in ``_starting`` by the caller), then free it."""
        try:
            with contextlib.suppress(Exception):  # a failed start is reported by the job that needs it
                shutil.rmtree(worker.new_job_dir(), ignore_errors=True)
        finally:
            with self._cond:
                self._starting -= 1
            self.release(worker)

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
        """Start the workers the demand calls for (``warm_size``) one after another; returns when
        they are up (or failed to start).

        One after another, not at once: the renderers of every language start together at the
        beginning of a run, on few cores, and the first worker is ready (and takes the first job)
        in about half the time it would need beside its siblings. A job that arrives meanwhile
        waits for the worker being started (or starts one itself when none is).
        """
        target = self.warm_size  # what the demand called for now (jobs may lower the backlog meanwhile)
        while True:
            with self._cond:
                if self._live() >= target:
                    return  # up, or jobs have started the rest meanwhile
                worker = next((w for w in self._free if not w.started), None)
                if worker is None:
                    return
                self._free.remove(worker)
                self._starting += 1
            self._start(worker)
            if not worker.started:
                return  # it could not start: the jobs will say why

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


def stopped_unexpectedly(reply: ProcessResult) -> str:
    """The error for a job whose worker died under it (not at a limit); "" otherwise."""
    return (
        f"The renderer stopped unexpectedly ({reply.crashed})."
        if reply.crashed and not reply.timed_out
        else ""
    )


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
            if control is not None:
                control.program_ended()  # the next job may take the worker while we read the images
        return reply, job_dir, time.monotonic() - start

    def warm(self) -> None:
        """Start the workers the backlog calls for (each takes up to seconds: imports, a JS runtime)."""
        self.pool.warm()

    def expect(self, pending: int) -> None:
        self.pool.set_backlog(pending)

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
            elif not error:
                error = stopped_unexpectedly(reply)
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
