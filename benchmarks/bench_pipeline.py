"""Verification-stage throughput of the viscode-multi pipeline on real registry programs (a benchmark, not a test).

    python benchmarks/bench_pipeline.py [--per-language 24] [--workers 1] [--work /tmp/bench-vcm]

Builds a small work folder from the registry corpora (``--per-language`` candidates of each of the 8
languages; sources, filter and extraction are not timed), then times the verification stage alone
(datatrove LocalPipelineExecutor -> VerifyStep -> one RenderPool per worker process) and prints
programs/s overall and per language, with the machine's CPU seconds per program (what bounds the rate
when the machine is saturated). Compare with ``make bench-render``'s mixed rate: the programs here are
the real corpus's (whole gallery scripts, manual examples, full scores), not the bundled task programs.
Numbers depend on the machine and its load: report them, do not assert them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--per-language", type=int, default=24)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--shards", type=int, default=4)
    p.add_argument("--work", default="/tmp/bench-viscode-multi")
    args = p.parse_args()

    from viscode_multi import Build, BuildConfig

    shutil.rmtree(args.work, ignore_errors=True)
    config = BuildConfig(
        work=args.work, out=str(Path(args.work) / "viscode-multi"), max_per_language=args.per_language,
        shards=args.shards, workers=args.workers,
    )  # fmt: skip
    build = Build(config, progress=lambda line: None)
    for stage in ("sources", "filter", "extract"):
        build.run(stage)
    cpu0, wall0 = os.times(), time.monotonic()
    report = build.run("verify")
    wall = time.monotonic() - wall0
    cpu1 = os.times()
    # children's CPU (sandboxed renders, browser) + this process's; the load average shows the sharing
    cpu = (cpu1.user + cpu1.system + cpu1.children_user + cpu1.children_system) - (
        cpu0.user + cpu0.system + cpu0.children_user + cpu0.children_system
    )
    programs = report["programs"]
    print(f"verification: {programs} programs in {wall:.1f} s = {programs / wall:.2f} programs/s "
          f"(workers={args.workers}, load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs)")  # fmt: skip
    print(
        f"CPU seconds per program (this process tree, lower bound for the browser's share): {cpu / max(programs, 1):.2f}"
    )
    for lang, counts in report["per_language"].items():
        n = sum(v for k, v in counts.items() if k == "kept" or k.startswith("dropped:"))
        ms = counts.get("render_ms", 0)
        print(
            f"  {lang:10} {n:4d} programs, kept {counts.get('kept', 0):4d}, mean render {ms / max(n, 1) / 1000:.2f} s"
        )
    print(json.dumps(report["failure_kinds"], indent=1))


if __name__ == "__main__":
    main()
