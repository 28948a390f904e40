"""RenderPool: many render jobs at once, across languages, on warm renderers."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from visplotbench.engine._admission import Admission
from visplotbench.engine._jobcontrol import JobControl, set_current
from visplotbench.engine._types import (
    EnvironmentProblem,
    Limits,
    RenderJob,
    RenderResult,
    RenderStatus,
)
from visplotbench.engine.registry import check_language, renderer_class
from visplotbench.engine.renderers._base import Renderer, env_failure, render_safely

# When a running job stops holding up the next job of its language (see ``_jobcontrol``). Measured
# on the bundled reference programs with benchmarks/bench_long_runners.py (CPU seconds per job, the
# job's own cgroups): valid Python, Vega-Lite, SVG and LilyPond programs use at most ~1.7 CPU-s,
# LaTeX up to ~5 (a package's format built on first use) and Asymptote up to ~7 (3-D scenes);
# a program that runs into a limit uses CPU until its 10-30 s timeout (or waits). When a job is
# demoted is each renderer's ``demote_after_cpu_s``, set above its language's valid programs.
# A job whose CPU use the pool can read (its processes' cgroups) gives its slot back once it has
# used RELEASE_AFTER_CPU_S of CPU, or after RELEASE_WAITING_S of wall time whatever it used (a
# program that sleeps); wall time alone would also release valid jobs that are only slow because
# the machine is busy, and each released job of a warm-worker language starts another worker. A
# browser page's CPU cannot be told apart from the other pages': it gives its slot back after
# RELEASE_AFTER_S of wall time (another page costs little).
RELEASE_AFTER_CPU_S = 2.0
RELEASE_WAITING_S = 10.0
RELEASE_AFTER_S = 2.0
# Long runners may each use up to their memory limit (1-2 GiB); this many at once at most.
MAX_LONG_RUNNERS = 6
# A renderer that could not start is tried again on a job this long after (a long-lived pool, e.g.
# the Space's, must not lose a language for good to one failed browser start); jobs in between
# get the start-up error at once as ``env_failure``.
RETRY_START_S = 30.0
# Jobs that run at once across languages, per CPU core (long runners not counted; see _admission).
# Render jobs are CPU-bound: more than ~2 per core only lengthens every job's wall time, and wall
# time is what the limits measure.
RUNNING_PER_CORE = 2
_POLL_S = 0.25  # how often the watcher reads the CPU use of jobs in flight


@dataclass(eq=False)
class _InFlight:
    """One job between getting its slot and its result (the pool's bookkeeping for long runners)."""

    language: str
    control: JobControl
    demote_after_cpu_s: float
    long: bool = False  # gave its slot back (and holds one of the ``max_long_runners`` places)
    freed: bool = False  # its admission place is given back (long, its program ended, or done)


class RenderPool:
    """Runs render jobs concurrently; each language's renderer is created on first use and kept warm.

    Jobs of different languages run in parallel; each renderer caps its own concurrency
    (``Renderer.max_concurrency``), and at most ``max_running`` jobs run at once in all. A job waits
    for its turn without holding a thread; among the jobs that may start, the one with the longest
    wall-time limit goes first (see ``_admission``).

    A job that runs past a short budget (most often a program that will run into its time limit;
    see ``RELEASE_AFTER_CPU_S`` and ``release_after_s``) becomes a *long runner*: it keeps its
    limits and its verdict, but it gives its slot back, so that the next job of its language starts
    beside it instead of waiting up to the full timeout; once it has used more CPU time than its
    language's valid programs need (``Renderer.demote_after_cpu_s``),
    its processes also get the lowest CPU weight, so that it runs on what fresh jobs leave. At
    most ``max_long_runners`` jobs are long at once (each may use its whole memory limit); past
    that, a slow job keeps its slot.

    Example:
        >>> with RenderPool() as pool:                                   # doctest: +SKIP
        ...     pool.prestart(["svg", "python"])   # optional: start renderers before the first job
        ...     results = list(pool.map([RenderJob("svg", "<svg .../>")]))
    """

    def __init__(
        self,
        max_workers: int | None = None,
        *,
        release_after_s: float | None = RELEASE_AFTER_S,
        demote: bool = True,
        max_long_runners: int = MAX_LONG_RUNNERS,
        max_running: int | None = None,
    ):
        """Args:
        max_workers: threads that run jobs (default: enough for every job that may run at once).
        release_after_s: wall seconds after which a browser page gives its slot back (None:
            no job ever does); a job whose CPU use is known does so after ``RELEASE_AFTER_CPU_S``
            of CPU or ``RELEASE_WAITING_S`` of wall time, both scaled with this value.
        demote: lower a long runner's CPU weight once it has used more CPU than its language's
            valid programs (``Renderer.demote_after_cpu_s``); False: never.
        max_long_runners: how many jobs may have given their slot back at once.
        max_running: jobs that run at once across languages, long runners not counted (default:
            ``max_workers`` when given, else ``RUNNING_PER_CORE`` per CPU core this process may
            use, at least 2).
        """
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 2
        self.max_running = max_running or max_workers or max(2, RUNNING_PER_CORE * cores)
        self._admission = Admission(self.max_running)
        self._executor = ThreadPoolExecutor(
            # Only admitted jobs take a thread (waiting ones hold none): those that run plus the
            # long runners.
            max_workers or self.max_running + max_long_runners,
            thread_name_prefix="render",
        )
        self.release_after_s, self.demote = release_after_s, demote
        self.max_long_runners = max_long_runners
        self._renderers: dict[str, Renderer | EnvironmentProblem] = {}
        self._making: dict[str, threading.Lock] = {}
        self._failed_at: dict[str, float] = {}  # when a renderer last failed to start
        self._lock = threading.Lock()
        self._closed = False
        self._watch_cond = threading.Condition()
        self._watched: list[_InFlight] = []
        self._long_now = 0
        self.long_runners = 0  # how many jobs gave their slot back (for benchmarks and tests)
        self.demoted = 0  # how many of them were also demoted
        self._watcher: threading.Thread | None = None

    def renderer(self, language: str) -> Renderer:
        """The warm renderer for ``language`` (raises EnvironmentProblem when it cannot run here)."""
        check_language(language)
        with self._lock:
            if self._closed:
                raise RuntimeError("the RenderPool is closed")
            making = self._making.setdefault(language, threading.Lock())
        # One lock per language: renderers of different languages are made (and checked) at once.
        with making:
            found = self._renderers.get(language)
            failed_at = self._failed_at.get(language, 0.0)
            if isinstance(found, EnvironmentProblem) and time.monotonic() - failed_at >= RETRY_START_S:
                found = None  # it may have been passing trouble (a browser that did not start once)
            if found is None:
                try:
                    cls = renderer_class(language)
                    found = cls()
                    found.check()
                except (EnvironmentProblem, ImportError) as exc:
                    found = EnvironmentProblem(str(exc))
                    self._failed_at[language] = time.monotonic()
                with self._lock:
                    self._renderers[language] = found
        if isinstance(found, EnvironmentProblem):
            raise found
        return found

    def prestart(self, languages: Iterable[str], jobs: Mapping[str, int] | None = None) -> None:
        """Start the renderers of ``languages`` now, all at once, in the background.

        Each renderer is made and checked and its warm processes (workers, the browser and its
        pages) are started, so that a run's first jobs do not wait for them one language after
        another. ``jobs``: how many jobs of each language are coming, when the caller knows (a
        renderer with costly warm workers starts as many as that backlog pays for). Returns at
        once; jobs submitted meanwhile simply wait for their renderer. A renderer that cannot
        start here is reported by the jobs that need it (``env_failure``).
        """

        def start(language: str) -> None:
            try:
                renderer = self.renderer(language)
                if jobs is not None and language in jobs:
                    renderer.expect(jobs[language])
                renderer.warm()
            except Exception:  # reported by the first job of the language
                return

        for language in dict.fromkeys(languages):
            check_language(language)
            threading.Thread(target=start, args=(language,), name=f"prestart-{language}", daemon=True).start()

    def render(self, job: RenderJob) -> RenderResult:
        """Render one job in the calling thread (it waits for its turn like a submitted job)."""
        start = time.monotonic()
        turn, closed = threading.Event(), threading.Event()

        def cancel() -> None:
            closed.set()
            turn.set()

        if not self._request(job, turn.set, cancel):
            return self._unloadable(job)
        turn.wait()
        if closed.is_set():
            raise RuntimeError("the RenderPool is closed")
        return self._run_admitted(job, start)

    def _request(self, job: RenderJob, start: Callable[[], None], cancel: Callable[[], None]) -> bool:
        """Queue ``job`` for its turn; False when its renderer's class cannot even be loaded."""
        try:
            cls = renderer_class(job.language)
        except ImportError:
            return False
        wall_s = (job.limits or cls.default_limits).wall_s
        self._admission.request(job.language, cls.max_concurrency, wall_s, start, cancel)
        return True

    def _unloadable(self, job: RenderJob) -> RenderResult:
        try:
            self.renderer(job.language)  # raises the renderer's own EnvironmentProblem
        except EnvironmentProblem as exc:
            return env_failure(job.language, str(exc))
        return env_failure(job.language, f"the {job.language} renderer could not be loaded")

    def _run_admitted(self, job: RenderJob, queued_since: float) -> RenderResult:
        """Run a job that has its turn; its place is given back when it ends (or becomes long)."""
        try:
            renderer = self.renderer(job.language)
        except BaseException as exc:
            self._admission.done(job.language)
            if isinstance(exc, EnvironmentProblem):
                return env_failure(job.language, str(exc))
            raise
        waited = time.monotonic() - queued_since
        renderer.expect(self._admission.pending(job.language))  # e.g. how many warm workers pay off
        control = JobControl()
        inflight = self._watch(job.language, control, type(renderer).demote_after_cpu_s)
        control.on_program_end(lambda: self._program_ended(inflight))
        set_current(control)
        try:
            # InvalidJob propagates: the caller's input (a data file name changed after the job was made).
            result = render_safely(renderer, job)
        finally:
            set_current(None)
            self._unwatch(inflight)
        result.timings["queued"] = waited
        if control.measured:  # CPU seconds of the job's own processes (no steal, no other job's)
            result.timings["cpu"] = control.cpu_seconds()
        if inflight.long:  # when it gave its slot back; "demoted": it also ran at the lowest weight
            result.timings["long_runner"] = 1.0 + float(control.demoted)
        return result

    # --- long runners ---------------------------------------------------------------------
    def _watch(self, language: str, control: JobControl, demote_after_cpu_s: float) -> _InFlight:
        inflight = _InFlight(language, control, demote_after_cpu_s)
        if self.release_after_s is None:
            return inflight
        with self._watch_cond:
            self._watched.append(inflight)
            if self._watcher is None:
                self._watcher = threading.Thread(
                    target=self._watch_loop, name="render-long-runners", daemon=True
                )
                self._watcher.start()
            self._watch_cond.notify()
        return inflight

    def _unwatch(self, inflight: _InFlight) -> None:
        with self._watch_cond:
            if inflight in self._watched:
                self._watched.remove(inflight)
            if inflight.long:
                self._long_now -= 1
            freed, inflight.freed = inflight.freed, True
        if not freed:
            self._admission.done(inflight.language)

    def _program_ended(self, inflight: _InFlight) -> None:
        """The job's program has ended (its warm worker is free again) while the host still builds
        its result (decodes and encodes images): the next job of the language takes its place now,
        so the worker does not idle through that."""
        with self._watch_cond:
            freed, inflight.freed = inflight.freed, True
        if not freed:
            self._admission.done(inflight.language)

    def _is_long(self, inflight: _InFlight, now: float, cpu_s: float) -> bool:
        started = inflight.control.started
        if self.release_after_s is None or started is None:  # still waiting for a worker or a page
            return False
        wall = now - started
        if inflight.control.in_cgroup:
            scale = self.release_after_s / RELEASE_AFTER_S
            return cpu_s >= RELEASE_AFTER_CPU_S * scale or wall >= RELEASE_WAITING_S * scale
        return wall >= self.release_after_s

    def _watch_loop(self) -> None:
        """Release and demote jobs in flight by the rules above (one thread per pool, polling)."""
        while True:
            with self._watch_cond:
                while not self._watched and not self._closed:
                    self._watch_cond.wait()
                if self._closed:
                    return
                watched = list(self._watched)
            now = time.monotonic()
            cpu = {id(f): f.control.run_cpu_seconds() for f in watched}  # file reads: outside the lock
            release: list[_InFlight] = []
            with self._watch_cond:
                for inflight in watched:
                    if inflight.long or inflight.freed or inflight not in self._watched:
                        continue
                    if self._long_now < self.max_long_runners and self._is_long(
                        inflight, now, cpu[id(inflight)]
                    ):
                        inflight.long = inflight.freed = True
                        self._long_now += 1
                        self.long_runners += 1
                        release.append(inflight)
            for inflight in release:
                self._admission.done(inflight.language)  # the next job of the language starts now
                inflight.control.release()
            for inflight in watched:
                if (
                    inflight.long
                    and self.demote
                    and cpu[id(inflight)] >= inflight.demote_after_cpu_s
                    and not inflight.control.demoted
                ):
                    inflight.control.demote()
                    self.demoted += 1
            time.sleep(_POLL_S)

    @property
    def long_now(self) -> int:
        """How many long runners are in flight now (at most ``max_long_runners``)."""
        with self._watch_cond:
            return self._long_now

    def submit(self, job: RenderJob) -> Future[RenderResult]:
        """Schedule one job; the future never raises for a job's own failure.

        The job waits for its turn without holding a thread (see ``_admission``); a job still
        waiting when the pool closes is cancelled.
        """
        future: Future[RenderResult] = Future()
        queued_since = time.monotonic()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                self._admission.done(job.language)
                return
            try:
                future.set_result(self._run_admitted(job, queued_since))
            except BaseException as exc:  # InvalidJob: the caller's input
                future.set_exception(exc)

        def start() -> None:
            try:
                self._executor.submit(run)
            except RuntimeError:  # the executor shut down meanwhile
                self._admission.done(job.language)
                future.cancel()

        def cancel() -> None:
            future.cancel()

        if not self._request(job, start, cancel):
            future.set_result(self._unloadable(job))
        return future

    def map(self, jobs: Iterable[RenderJob]) -> Iterator[RenderResult]:
        """Render all jobs concurrently and yield the results in the order of ``jobs``."""
        futures = [self.submit(job) for job in jobs]
        for future in futures:
            yield future.result()

    def close(self) -> None:
        """Stop all warm workers and the browser."""
        with self._lock:
            self._closed = True
            renderers = [r for r in self._renderers.values() if isinstance(r, Renderer)]
        with self._watch_cond:
            self._watch_cond.notify_all()
        self._admission.close()
        self._executor.shutdown(wait=True, cancel_futures=True)
        for renderer in renderers:
            renderer.close()

    def __enter__(self) -> RenderPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_default_pool: RenderPool | None = None
_default_lock = threading.Lock()


def default_pool() -> RenderPool:
    """A process-wide pool for ``render()``; closed at interpreter exit."""
    global _default_pool
    with _default_lock:
        if _default_pool is None:
            import atexit

            _default_pool = RenderPool()
            atexit.register(_default_pool.close)
        return _default_pool


def render(
    language: str,
    source: str,
    files: dict[str, str | bytes] | None = None,
    *,
    limits: Limits | None = None,
    all_pages: bool = False,
) -> RenderResult:
    """Render one program in ``language`` safely and return a typed ``RenderResult``.

    Args:
        language: one of ``visplotbench.engine.LANGUAGES``.
        source: the program text, exactly as written.
        files: data files placed next to the program (e.g. ``{"data.csv": csv_text}``); names are
            relative paths inside the job directory (see ``RenderJob``).

    Raises:
        InvalidJob: a data file name is not allowed (the message names it and the rule).
        limits: resource limits; the language's defaults when omitted.
        all_pages: LaTeX: return every page rather than the first.
    """
    job = RenderJob(check_language(language), source, dict(files or {}), limits, all_pages)
    return default_pool().render(job)


__all__ = ["RenderPool", "RenderStatus", "default_pool", "render"]
