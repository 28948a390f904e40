"""Vega-Lite: vl-convert in a warm sandboxed worker, with the task's data inlined at every level.

vl-convert's embedded JS runtime is not fork-safe, so jobs run inside the worker (``inproc``): the
spec is data, not a program, and a job that hangs or exhausts memory takes only the worker down,
which the host restarts. The Vega-Lite version follows the spec's ``$schema`` (vl-convert bundles
5.8-6.4); the scale is fixed (2.0) so renders are deterministic.
"""

from __future__ import annotations

import time

from visplotbench.engine._types import Limits, RenderJob, RenderResult
from visplotbench.engine.renderers._base import finish
from visplotbench.engine.renderers._warm import WarmRenderer, WorkerPool, read_pngs, reply_as_process


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

    def render(self, job: RenderJob) -> RenderResult:
        start = time.monotonic()
        ran = self.run_job(job)
        if isinstance(ran, RenderResult):
            return ran
        reply, job_dir, _ = ran
        try:
            error = reply.stderr.strip()
            if reply.crashed and not reply.timed_out and not error:
                error = f"The renderer stopped unexpectedly ({reply.crashed})."
            result = finish(
                self.language,
                read_pngs(job_dir / "out"),
                error=error,
                proc=reply_as_process(reply),
                limits=self.limits_for(job),
                tool_versions=self.versions(),
            )
        finally:
            self.cleanup(job_dir)
        result.timings["total"] = time.monotonic() - start
        return result
