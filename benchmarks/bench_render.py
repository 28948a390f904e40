"""Renders per second per language through one RenderPool (a benchmark, not a test).

    python benchmarks/bench_render.py [--seconds-per-language 10] [--languages python svg ...]

Programs: the bundled task set's reference programs (see ``SETS``: Python's target is for its
matplotlib programs, with all 18 Python programs measured too; Asymptote's for its 2-D ones), or the
bundled examples when the task set is not built. Phase 1 warms every renderer up to its full
concurrency (as many jobs at once as it runs in parallel: all warm workers, all browser pages);
phase 2 measures each set alone in the shared pool; phase 3 renders a mix of all languages at once
and reports the overall rate. Each row also gives the machine's CPU seconds per job (what bounds the
rate when the machine is saturated). Numbers depend on the machine: report them, do not assert them.
"""

from __future__ import annotations

import argparse
import collections
import os
import platform
import threading
import time
from collections.abc import Callable

from visplotbench.engine import LANGUAGES, RenderJob, RenderPool
from visplotbench.engine.examples import example_job
from visplotbench.engine.registry import data_files
from visplotbench.engine.renderers._base import Renderer
from visplotbench.engine.renderers._warm import WarmRenderer

_3D = ("three", "graph3", "solids", "surface(")
_NOT_MATPLOTLIB = ("seaborn", "plotly", "altair", "bokeh", "holoviews", "pyecharts", "missingno")


def _two_d(code: str) -> bool:
    return not any(k in code for k in _3D)


def _matplotlib_only(code: str) -> bool:
    return "matplotlib" in code and not any(k in code for k in _NOT_MATPLOTLIB)


# label: (language, which reference programs (None: all), target renders/s (None: none set)).
# The targets are the issue's: python's is for matplotlib programs, asymptote's for 2-D ones.
SETS: dict[str, tuple[str, Callable[[str], bool] | None, float | None]] = {
    "python/matplotlib": ("python", _matplotlib_only, 4),
    "python/all": ("python", None, None),
    "vegalite": ("vegalite", None, 20),
    "mermaid": ("mermaid", None, 6),
    "lilypond": ("lilypond", None, 0.55),
    "svg": ("svg", None, 40),
    "asymptote/2-D": ("asymptote", _two_d, 2.4),
    "latex": ("latex", None, 2.5),
    "html": ("html", None, 8),
}


def programs(language: str, keep: Callable[[str], bool] | None = None) -> list[RenderJob]:
    """The bundled task set's reference programs of ``language`` (those ``keep`` accepts).

    Without ``keep``, Asymptote's 3-D programs are left out (they need Xvfb and are slower by design).
    Falls back to the bundled example when the task set is not built.
    """
    if keep is None and language == "asymptote":
        keep = _two_d
    try:
        from visplotbench.tasks import load_bundled

        rows = load_bundled(language)
    except (ValueError, ImportError, OSError):
        rows = []
    jobs = [
        RenderJob(language, r.code, data_files(language, r.data))
        for r in rows
        if keep is None or keep(r.code)
    ]
    return jobs or [example_job(language)]


def cpu_busy_s() -> float:
    """Seconds of CPU time the whole machine has spent busy (all processes), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return float("nan")
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def measure(pool: RenderPool, jobs: list[RenderJob]) -> tuple[float, float, collections.Counter]:
    """Wall seconds, machine CPU seconds and the statuses of rendering ``jobs`` through ``pool``."""
    start, cpu = time.monotonic(), cpu_busy_s()
    statuses = collections.Counter(r.status.value for r in pool.map(jobs))
    return time.monotonic() - start, cpu_busy_s() - cpu, statuses


def _start_all_workers(renderer: Renderer) -> None:
    """Start the renderer's warm processes; all of a warm worker pool's workers, and wait for them."""
    renderer.warm()
    if isinstance(renderer, WarmRenderer):
        renderer.pool.warm()  # told no backlog: every worker (Python's own warm() does not wait)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--languages", nargs="*", default=list(LANGUAGES))
    parser.add_argument(
        "--seconds-per-language",
        type=float,
        default=8.0,
        help="aim for about this much work per language (job counts follow the targets)",
    )
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, {platform.platform()}")
    pool = RenderPool()
    try:
        sets = {
            label: (programs(lang, keep), target)
            for label, (lang, keep, target) in SETS.items()
            if lang in args.languages
        }
        t0 = time.monotonic()
        # Start-up is not throughput: warm workers start together, but browser pages open on demand,
        # so one job per language would leave most HTML pages (renderer processes) to start inside
        # the measurement. Each renderer gets as many jobs at once as it runs in parallel.
        # Warm worker pools start every worker first (a run would start only as many as its backlog
        # pays for; this measures the steady state of a long one).
        starters = [
            threading.Thread(target=_start_all_workers, args=(pool.renderer(jobs[0].language),))
            for jobs, _ in sets.values()
        ]
        for thread in starters:
            thread.start()
        for thread in starters:
            thread.join()
        warm_jobs = {}
        for jobs, _ in sets.values():
            warm_jobs[jobs[0].language] = jobs[: pool.renderer(jobs[0].language).max_concurrency]
        warm = measure(pool, [job for jobs in warm_jobs.values() for job in jobs])
        print(
            f"warm-up (every language at its full concurrency, in parallel): {time.monotonic() - t0:.1f}s "
            f"{dict(warm[2])}"
        )
        rows = []
        mixed: list[RenderJob] = []
        for label, (jobs, target) in sets.items():
            n = max(4, int((target or 4) * args.seconds_per_language))
            batch = [jobs[i % len(jobs)] for i in range(n)]
            if target is not None:
                mixed += batch[: max(2, n // 4)]
            seconds, cpu, statuses = measure(pool, batch)
            rows.append((label, target, n, seconds, cpu, statuses))
        cores = os.cpu_count() or 1
        print(
            f"\n{'programs':<18} {'jobs':>5} {'seconds':>8} {'renders/s':>10} {'target':>7} "
            f"{'cpu-s/job':>10} {'busy':>5}  statuses"
        )
        for label, target, n, seconds, cpu, statuses in rows:
            # cpu-s/job is what bounds the rate on a saturated machine (cores / cpu-s per job);
            # "busy" below 100 % means the rate is bound by waiting, not by CPU.
            print(
                f"{label:<18} {n:>5} {seconds:>8.2f} {n / seconds:>10.2f} {target or '-':>7} "
                f"{cpu / n:>10.3f} {cpu / seconds / cores:>5.0%}  {dict(statuses)}"
            )
        seconds, cpu, statuses = measure(pool, mixed)
        print(
            f"\nmixed: {len(mixed)} jobs of all languages at once in {seconds:.2f}s = {len(mixed) / seconds:.2f} renders/s, "
            f"busy {cpu / seconds / cores:.0%} {dict(statuses)}"
        )
    finally:
        pool.close()


if __name__ == "__main__":
    main()
