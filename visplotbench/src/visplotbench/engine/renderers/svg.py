"""SVG: CairoSVG inside a warm sandboxed worker (the SVG is data: no fork per job, see ``_worker``).

CairoSVG runs with ``unsafe=False`` (only ``data:`` URLs are fetched, XML entities refused), so
an SVG cannot pull in local files or network resources. CairoSVG supports only part of CSS;
``<foreignObject>`` and web fonts are not drawn (as in the original harness).
"""

from __future__ import annotations

import functools
import importlib.util
import re

from visplotbench.engine._sandbox import ProcessResult
from visplotbench.engine._types import Limits
from visplotbench.engine.renderers._warm import WarmRenderer, WorkerPool

_TRACE_TAIL = re.compile(r"^(?:\w+\.)*(\w+(?:Error|Exception)\w*):?\s*(.*)$")


class SvgRenderer(WarmRenderer):
    language = "svg"
    source_name = "main.svg"
    default_limits = Limits(wall_s=10, cpu_s=10, memory_mb=1024)
    max_concurrency = 2

    def __init__(self) -> None:
        self.pool = WorkerPool(
            size=self.max_concurrency,
            # A worker costs ~0.7 CPU-s to start, a job ~0.03: a second one for a long queue only.
            jobs_per_worker=46,
            handler="visplotbench.engine.workers.svg_job",
            mode="inproc",
            sandbox_limits=Limits(memory_mb=3072, max_processes=64),
        )

    def versions(self) -> dict[str, str]:
        return _versions()

    def check(self) -> None:
        # Found, not imported: only the workers draw SVG, and importing CairoSVG in the host cost
        # every run ~0.4-1 CPU-s (cairocffi parses its C declarations) for nothing. A CairoSVG that
        # is installed but cannot load libcairo is reported when the worker fails to start.
        if importlib.util.find_spec("cairosvg") is None:
            raise ImportError("No module named 'cairosvg'")

    def error_text(self, reply: ProcessResult) -> str:
        return _last_exception(reply.stderr)


def _last_exception(stderr: str) -> str:
    """The exception line of a traceback (CairoSVG's frames mean nothing to the SVG's author)."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if _TRACE_TAIL.match(line.strip()):
            return line.strip()
    return lines[-1] if lines else "the SVG could not be rendered"


@functools.cache
def _versions() -> dict[str, str]:
    # Cached: every result carries the versions, and importlib.metadata scans sys.path each call
    # (~1 ms of the host's CPU per job, at ~50 SVG jobs/s).
    from importlib.metadata import version

    return {"cairosvg": version("cairosvg")}
