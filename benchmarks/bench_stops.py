"""How promptly each language's limits stop a hostile job, and how soon the next job renders after it.

    python benchmarks/bench_stops.py [--wall 3] [--languages python latex ...]

For every language with a ``timeout`` fixture (``tests/visplotbench/fixtures/<language>/timeout.*``) it
renders that program with ``Limits(wall_s=WALL)`` and then the language's ``ok`` fixture, and prints the
seconds from submission to result of each, with the overshoot past the limit. The tests check that the
job is stopped (status ``timeout``) and that the next job renders; these numbers, which depend on the
machine and its load, are reported here instead of asserted there.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from visplotbench import LANGUAGES, Limits, RenderJob, RenderPool

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "visplotbench" / "fixtures"


def _fixture(language: str, name: str) -> str | None:
    found = sorted((FIXTURES / language).glob(f"{name}.*"))
    return found[0].read_text(encoding="utf-8") if found else None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--wall", type=float, default=3.0, help="the wall-clock limit of the hostile job")
    parser.add_argument("--languages", nargs="*", default=list(LANGUAGES))
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; limit wall_s={args.wall:g}"
    )
    print(f"{'language':<10} {'status':<10} {'stopped after':>14} {'overshoot':>10} {'next ok job':>12}")
    with RenderPool() as pool:
        for language in args.languages:
            hostile, ok = _fixture(language, "timeout"), _fixture(language, "ok")
            if hostile is None or ok is None:
                continue
            pool.render(RenderJob(language, ok))  # warm the renderer first: measure the stop, not the start
            start = time.monotonic()
            result = pool.render(RenderJob(language, hostile, limits=Limits(wall_s=args.wall)))
            stopped = time.monotonic() - start
            start = time.monotonic()
            after = pool.render(RenderJob(language, ok))
            next_s = time.monotonic() - start
            print(
                f"{language:<10} {result.status.value:<10} {stopped:13.2f}s {stopped - args.wall:+9.2f}s "
                f"{next_s:11.2f}s{'' if after.ok else ' (next job: ' + after.status.value + ')'}"
            )


if __name__ == "__main__":
    main()
