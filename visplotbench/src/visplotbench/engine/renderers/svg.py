"""SVG: CairoSVG in a forked child of a warm sandboxed worker.

CairoSVG runs with ``unsafe=False`` (only ``data:`` URLs are fetched, XML entities refused), so
an SVG cannot pull in local files or network resources. CairoSVG supports only part of CSS;
``<foreignObject>`` and web fonts are not drawn (as in the original harness).
"""

from __future__ import annotations

import re
import time

from visplotbench.engine._types import Limits, RenderJob, RenderResult
from visplotbench.engine.renderers._base import finish
from visplotbench.engine.renderers._warm import WarmRenderer, WorkerPool, read_pngs, reply_as_process

_TRACE_TAIL = re.compile(r"^(?:\w+\.)*(\w+(?:Error|Exception)\w*):?\s*(.*)$")


class SvgRenderer(WarmRenderer):
    language = "svg"
    source_name = "main.svg"
    default_limits = Limits(wall_s=10, cpu_s=10, memory_mb=1024)
    max_concurrency = 2

    def __init__(self) -> None:
        self.pool = WorkerPool(
            size=self.max_concurrency,
            handler="visplotbench.engine.workers.svg_job",
            mode="fork",
            sandbox_limits=Limits(memory_mb=3072, max_processes=64),
        )

    def versions(self) -> dict[str, str]:
        from importlib.metadata import version

        return {"cairosvg": version("cairosvg")}

    def check(self) -> None:
        import cairosvg  # noqa: F401

    def render(self, job: RenderJob) -> RenderResult:
        start = time.monotonic()
        ran = self.run_job(job)
        if isinstance(ran, RenderResult):
            return ran
        reply, job_dir, _ = ran
        try:
            error = _last_exception(reply.stderr) if reply.returncode != 0 else ""
            try:
                images = read_pngs(job_dir / "out")
            except ValueError as exc:
                images, error = [], error or str(exc)
            if reply.crashed and not reply.timed_out and not error:
                error = f"The renderer stopped unexpectedly: {reply.crashed}"
            result = finish(
                self.language,
                images,
                error=error,
                proc=reply_as_process(reply),
                limits=self.limits_for(job),
                tool_versions=self.versions(),
            )
        finally:
            self.cleanup(job_dir)
        result.timings["total"] = time.monotonic() - start
        return result


def _last_exception(stderr: str) -> str:
    """The exception line of a traceback (CairoSVG's frames mean nothing to the SVG's author)."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if _TRACE_TAIL.match(line.strip()):
            return line.strip()
    return lines[-1] if lines else "the SVG could not be rendered"
