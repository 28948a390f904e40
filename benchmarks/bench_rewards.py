"""Reward throughput: completions scored per second, batches of 32 in mixed languages (a benchmark, not a test).

    python benchmarks/bench_rewards.py [--batches 3] [--batch-size 32] [--broken 0.25]

Completions are the bundled tasks' reference programs, fenced as a model would reply, a fraction of them
broken (the program cut in half) so that errors are rendered too; every batch holds the same number of
completions per language (all 8 by default) and no program twice, so nothing comes from the cache until
the last phase. Phase 1 warms every renderer up with one batch (discarded). Phase 2 scores ``--batches``
fresh batches through ``Rewarder.score`` (extract, render through the shared RenderPool, SSIM + edge F1
against the reference image, format): completions/s. Phase 3 renders the same programs with
``RenderPool.map`` alone (renders/s, the engine's side of the cost), and phase 4 scores the phase-2
batches again (all cached). Numbers depend on the machine and its load: report them, do not assert them.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import os
import platform
import time

from viscoder2_train.rewards import RewardConfig, Rewarder, RewardTask
from visplotbench.engine.registry import data_files
from visplotbench.tasks import load_tasks

from visplotbench import LANGUAGES, RenderJob, RenderPool


def completions(languages: list[str], broken: float) -> dict[str, list[tuple[str, RewardTask]]]:
    """Per language: (reply, task) for every bundled task with a reference program."""
    out: dict[str, list[tuple[str, RewardTask]]] = collections.defaultdict(list)
    for i, task in enumerate(t for t in load_tasks("bundled", languages) if t.code.strip()):
        code = task.code
        if broken and (i % round(1 / broken)) == 0:
            code = code[: len(code) // 2]
        reply = f"```{task.language}\n{code}\n```"
        out[task.language].append((reply, RewardTask(task.language, task.data or "", task.image or None)))
    return out


def batches(
    pool_by_language: dict[str, list[tuple[str, RewardTask]]], size: int
) -> list[list[tuple[str, RewardTask]]]:
    """Batches of ``size`` with the languages in equal shares, no completion in two batches."""
    languages = sorted(pool_by_language)
    per = max(1, size // len(languages))
    out = []
    for k in itertools.count():
        batch = []
        for lang in languages:
            items = pool_by_language[lang][k * per : (k + 1) * per]
            if len(items) < per:
                return out
            batch += items
        out.append(batch[:size])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--languages", nargs="*", default=list(LANGUAGES))
    parser.add_argument("--batches", type=int, default=3, help="measured batches (after one warm-up batch)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--broken", type=float, default=0.25, help="fraction of programs cut in half")
    args = parser.parse_args()
    available = batches(completions(args.languages, args.broken), args.batch_size)
    if len(available) < args.batches + 1:
        raise SystemExit(f"only {len(available)} distinct batches of {args.batch_size}; ask for fewer.")
    warm, measured = available[0], available[1 : args.batches + 1]
    print(
        f"{platform.node()}: {os.cpu_count()} CPUs; batches of {args.batch_size}: {len(args.languages)} languages"
    )
    with RenderPool() as pool:
        rewarder = Rewarder(RewardConfig(), pool=pool)
        rewarder.score([r for r, _ in warm], [t for _, t in warm])
        statuses: collections.Counter[str] = collections.Counter()
        start = time.monotonic()
        for batch in measured:
            scores = rewarder.score([r for r, _ in batch], [t for _, t in batch])
            statuses.update(s.status for s in scores)
        scored_s = time.monotonic() - start
        n = sum(len(b) for b in measured)
        print(
            f"reward: {n} completions in {scored_s:.1f} s = {n / scored_s:.2f} completions/s  {dict(statuses)}"
        )

        from visplotbench.extract import extract_code

        jobs = [
            RenderJob(t.language, extract_code(r, t.language).code, data_files(t.language, t.data))
            for batch in measured
            for r, t in batch
        ]
        start = time.monotonic()
        rendered = list(pool.map(jobs))
        render_s = time.monotonic() - start
        print(
            f"engine: {len(rendered)} renders in {render_s:.1f} s = {len(rendered) / render_s:.2f} renders/s (RenderPool.map)"
        )
        print(f"reward overhead over rendering: {100 * (scored_s / render_s - 1):+.0f} %")

        start = time.monotonic()
        for batch in measured:
            rewarder.score([r for r, _ in batch], [t for _, t in batch])
        cached_s = time.monotonic() - start
        print(f"cached: {n} completions in {cached_s:.2f} s = {n / cached_s:.1f} completions/s")


if __name__ == "__main__":
    main()
