"""Vega-Lite: vl-convert in a warm sandboxed worker, with the task's data inlined at every level.

vl-convert's embedded JS runtime is not fork-safe, so jobs run inside the worker (``inproc``): the
spec is data, not a program, and a job that hangs or exhausts memory takes only the worker down,
which the host restarts. The Vega-Lite version follows the spec's ``$schema`` (vl-convert bundles
5.8-6.4); the scale is fixed (2.0) so renders are deterministic.
"""

from __future__ import annotations

from visplotbench.engine._types import Limits
from visplotbench.engine.renderers._warm import WarmRenderer, WorkerPool


class VegaLiteRenderer(WarmRenderer):
    language = "vegalite"
    source_name = "main.vl.json"
    default_limits = Limits(wall_s=15, cpu_s=30, memory_mb=1024)
    max_concurrency = 2

    def __init__(self) -> None:
        self.pool = WorkerPool(
            size=self.max_concurrency,
            handler="visplotbench.engine.workers.vegalite_job",
            mode="inproc",
            sandbox_limits=Limits(memory_mb=2048, max_processes=128),
        )
        self._versions: dict[str, str] | None = None

    def check(self) -> None:
        import vl_convert  # noqa: F401

    def versions(self) -> dict[str, str]:
        if self._versions is None:
            import vl_convert

            self._versions = {
                "vl-convert": getattr(vl_convert, "__version__", "unknown"),
                "vega": vl_convert.get_vega_version(),
                "vega-lite": ",".join(vl_convert.get_vegalite_versions()),
            }
        return self._versions
