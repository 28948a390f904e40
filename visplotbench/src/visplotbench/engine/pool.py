"""RenderPool: many render jobs at once, across languages, on warm renderers."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from visplotbench.engine._types import (
    EnvironmentProblem,
    Limits,
    RenderJob,
    RenderResult,
    RenderStatus,
)
from visplotbench.engine.registry import check_language, renderer_class
from visplotbench.engine.renderers._base import Renderer, env_failure, render_safely


class RenderPool:
    """Runs render jobs concurrently; each language's renderer is created on first use and kept warm.

    Jobs of different languages run in parallel; each renderer caps its own concurrency
    (``Renderer.max_concurrency``), and the pool's thread count caps the total.

    Example:
        >>> with RenderPool() as pool:                                   # doctest: +SKIP
        ...     results = list(pool.map([RenderJob("svg", "<svg .../>")]))
    """

    def __init__(self, max_workers: int | None = None):
        self._executor = ThreadPoolExecutor(
            # Threads mostly wait on sandboxed processes or the browser; each renderer caps its own
            # concurrency, so enough threads for every language to progress at once is the right total.
            max_workers or max(16, 2 * (os.cpu_count() or 2)),
            thread_name_prefix="render",
        )
        self._renderers: dict[str, Renderer | EnvironmentProblem] = {}
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()
        self._closed = False

    def renderer(self, language: str) -> Renderer:
        """The warm renderer for ``language`` (raises EnvironmentProblem when it cannot run here)."""
        check_language(language)
        with self._lock:
            if self._closed:
                raise RuntimeError("the RenderPool is closed")
            found = self._renderers.get(language)
            if found is None:
                try:
                    cls = renderer_class(language)
                    found = cls()
                    found.check()
                    self._slots[language] = threading.BoundedSemaphore(cls.max_concurrency)
                except (EnvironmentProblem, ImportError) as exc:
                    found = EnvironmentProblem(str(exc))
                self._renderers[language] = found
        if isinstance(found, EnvironmentProblem):
            raise found
        return found

    def render(self, job: RenderJob) -> RenderResult:
        """Render one job in the calling thread (still bounded by the renderer's concurrency)."""
        start = time.monotonic()
        try:
            renderer = self.renderer(job.language)
        except EnvironmentProblem as exc:
            return env_failure(job.language, str(exc))
        with self._slots[job.language]:
            waited = time.monotonic() - start
            # InvalidJob propagates: the caller's input (a data file name changed after the job was made).
            result = render_safely(renderer, job)
        result.timings["queued"] = waited
        return result

    def submit(self, job: RenderJob) -> Future[RenderResult]:
        """Schedule one job; the future never raises for a job's own failure."""
        return self._executor.submit(self.render, job)

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
