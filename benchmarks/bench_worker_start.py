"""CPU seconds one warm Python worker costs to start, in the real sandbox.

    python benchmarks/bench_worker_start.py [--repeat 5] [--no-font-list]

Starts the Python renderer's worker (same handler, limits, environment and mounts as the renderer)
``--repeat`` times, one after another, and prints for each start the CPU seconds of the whole
sandboxed process tree until the worker said it is ready (its cpuacct cgroup: sh, prlimit, bwrap,
the worker), then the median. CPU time, not wall time: it does not depend on what else the machine
runs. The renderer's own one-time set-up (the prebuilt matplotlib font list, built on a first run)
happens before the first start and is timed on its own. ``--no-font-list`` gives the workers an empty
font-list folder: each builds its own list, as every worker did before the prebuilt one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from visplotbench.engine._worker import WarmWorker
from visplotbench.engine.renderers.python import PythonRenderer


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-font-list", action="store_true", help="every worker builds its own font list")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    empty = tempfile.TemporaryDirectory()
    renderer = PythonRenderer(Path(empty.name) if args.no_font_list else None)
    if not args.no_font_list:
        start = time.monotonic()
        state = renderer.prepare_font_list()
        print(f"font list: {state} ({time.monotonic() - start:.2f} s wall)")
    kwargs = dict(renderer.pool._kwargs)
    samples = []
    try:
        for i in range(args.repeat):
            worker = WarmWorker(**kwargs)  # type: ignore[arg-type]
            start = time.monotonic()
            shutil.rmtree(worker.new_job_dir())
            wall = time.monotonic() - start
            assert worker._proc is not None and worker._proc.cgroup is not None, "needs a cpuacct cgroup"
            cpu = worker._proc.cgroup.cpu_seconds()
            worker.close()
            samples.append(cpu)
            print(f"start {i + 1}: {cpu:.2f} CPU-s ({wall:.2f} s wall)")
    finally:
        renderer.close()
        empty.cleanup()
    print(f"median: {statistics.median(samples):.2f} CPU-s per worker start (min {min(samples):.2f})")


if __name__ == "__main__":
    main()
