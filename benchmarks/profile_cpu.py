"""Where the CPU time of one language's renders goes, per process (a diagnostic, not a test).

    python benchmarks/profile_cpu.py svg 300

Renders N jobs of the language's benchmark programs (see ``bench_render.programs``) through one
RenderPool and prints the wall time, the rate, the machine's CPU time per job, the host process's
own CPU time per job, and the processes that used the most CPU per job (warm workers, Chromium,
the Playwright driver, kernel threads). On a saturated machine the rate is cores / CPU-s per job,
so CPU per job is the number to bring down; it is also less disturbed than the rate by other load.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_render import cpu_busy_s, programs


def proc_cpu(descendants_of: int | None = None) -> dict[tuple[str, str], float]:
    """CPU seconds (user + system, including reaped children) of every process, by (pid, name).

    With ``descendants_of``, only that process and its descendants (other load on the machine,
    e.g. a second benchmark, is left out).
    """
    ticks = os.sysconf("SC_CLK_TCK")
    out, parent = {}, {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        out[(pid, name)] = sum(int(x) for x in fields[11:15]) / ticks  # utime stime cutime cstime
        parent[pid] = fields[1]
    if descendants_of is None:
        return out

    def mine(pid: str) -> bool:
        for _ in range(64):
            if pid == str(descendants_of):
                return True
            if pid not in parent:
                return False
            pid = parent[pid]
        return False

    return {key: cpu for key, cpu in out.items() if mine(key[0])}


def main() -> None:
    from visplotbench.engine import RenderPool

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("language")
    parser.add_argument("jobs", type=int)
    parser.add_argument("--top", type=int, default=8)
    parser.add_argument(
        "--all-processes",
        action="store_true",
        help="also list processes that are not ours (kernel threads, other load)",
    )
    args = parser.parse_args()
    pool = RenderPool()
    try:
        jobs = programs(args.language)
        list(pool.map(jobs[:4]))  # warm up
        batch = [jobs[i % len(jobs)] for i in range(args.jobs)]
        mine = None if args.all_processes else os.getpid()
        before, usage0, busy0, t0 = (
            proc_cpu(mine),
            resource.getrusage(resource.RUSAGE_SELF),
            cpu_busy_s(),
            time.monotonic(),
        )
        statuses = [r.status.value for r in pool.map(batch)]
        t1, busy1, usage1, after = (
            time.monotonic(),
            cpu_busy_s(),
            resource.getrusage(resource.RUSAGE_SELF),
            proc_cpu(mine),
        )
        n = len(batch)
        host = (usage1.ru_utime + usage1.ru_stime) - (usage0.ru_utime + usage0.ru_stime)
        print(
            f"wall {t1 - t0:.2f} rate {n / (t1 - t0):.2f} machine cpu/job {(busy1 - busy0) / n * 1000:.1f} ms"
        )
        print(f"host self cpu/job {host / n * 1000:.1f} ms  statuses {sorted(set(statuses))}")
        ours = sum(after[k] - before.get(k, 0.0) for k in after)
        if mine is not None:
            print(f"our processes cpu/job {ours / n * 1000:.1f} ms")
        used = sorted(((after[k] - before.get(k, 0.0), k) for k in after), reverse=True)[: args.top]
        for seconds, key in used:
            print(f"  {key}: {seconds / n * 1000:.1f} ms/job")
    finally:
        pool.close()


if __name__ == "__main__":
    main()
