"""How much CPU and wall time valid programs need, per language: where the long-runner budgets come from.

    python benchmarks/bench_long_runners.py [--repeat 1]

Renders every bundled reference program (valid programs, 18 per language) one at a time on a warm
``RenderPool`` with the long-runner rules switched off, and prints per language the CPU seconds of
each job's own processes (``timings["cpu"]``, from its cgroups: no steal, no other job's work) and
its run time: median, 95th percentile and maximum. ``RenderPool``'s ``RELEASE_AFTER_CPU_S`` and
each renderer's ``demote_after_cpu_s`` must lie above the maxima here (a valid program is never demoted), and
``RELEASE_AFTER_S`` above the browser languages' run times on an idle machine. Browser pages have
no CPU figure of their own (the browser's processes serve every page). Numbers depend on the
machine: report them, do not assert them.
"""

from __future__ import annotations

import argparse
import statistics

from visplotbench.engine import LANGUAGES, RenderJob, RenderPool
from visplotbench.engine.pool import RELEASE_AFTER_CPU_S, RELEASE_AFTER_S
from visplotbench.engine.registry import data_files
from visplotbench.tasks import load_tasks


def _stats(values: list[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):5.2f}  p95 {p95:5.2f}  max {ordered[-1]:5.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="render each program this many times")
    parser.add_argument("--languages", nargs="*", default=list(LANGUAGES))
    args = parser.parse_args()
    print(
        f"budgets: release after {RELEASE_AFTER_CPU_S} CPU-s (pages: {RELEASE_AFTER_S} s of wall time); "
        "demote after each language's demote_after_cpu_s (shown per row)"
    )
    with RenderPool(release_after_s=None, demote=False) as pool:
        for language in args.languages:
            tasks = load_tasks("bundled", [language])
            pool.render(RenderJob(language, tasks[0].code, data_files(language, tasks[0].data)))  # warm up
            cpu, run, failed = [], [], 0
            for _ in range(args.repeat):
                for task in tasks:
                    result = pool.render(RenderJob(language, task.code, data_files(language, task.data)))
                    failed += not result.ok
                    run.append(result.timings.get("run", result.timings["total"]))
                    if "cpu" in result.timings:
                        cpu.append(result.timings["cpu"])
            print(
                f"{language:10s} n={len(run):3d} failed={failed}  CPU-s: {_stats(cpu)}  |  run s: {_stats(run)}"
            )


if __name__ == "__main__":
    main()
