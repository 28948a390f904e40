"""``visplotbench run``, ``validate`` and ``report``: the benchmark on a model, the gold run, the reports.

    visplotbench run --model openai:gpt-4.1 --self-debug 3 --out runs/gpt-4.1
    visplotbench run --config run.yaml --limit 5          # options from a YAML file; flags override it
    visplotbench validate --languages svg,latex
    visplotbench report runs/gpt-4.1

The ``run`` options are ``RunConfig``'s fields (``visplotbench.harness``); a YAML file given with
``--config`` holds the same names (``model: gold``, ``self_debug: 1``, ``backend_options: {...}``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from visplotbench.cli._args import add_dataclass_arguments, config_from_args
from visplotbench.harness import RunConfig
from visplotbench.runfolder import RunSummary


def _print_summary(summary: RunSummary, folder: Path) -> None:
    rounds = summary.rounds
    print(f"\n{'language':<10} {'tasks':>5} " + " ".join(f"{'r' + str(k):>7}" for k in range(rounds + 1)))
    for lang, s in summary.languages.items():
        print(f"{lang:<10} {s.tasks:>5} " + " ".join(f"{100 * s.rate(k):6.1f}%" for k in range(rounds + 1)))
    print(
        f"{'overall':<10} {summary.total_tasks:>5} "
        + " ".join(f"{100 * summary.overall_rate(k):6.1f}%" for k in range(rounds + 1))
    )
    if not summary.complete:
        print("run INCOMPLETE (environment failures or unfinished rounds): re-run with --resume")
    print(f"results, report.md and report.html in {folder}")


def _cache_override(args: argparse.Namespace) -> dict[str, Any]:
    return {"cache_dir": ""} if args.no_cache else {}


def cmd_run(args: argparse.Namespace) -> int:
    from visplotbench._benchmark import run_benchmark

    try:
        config = config_from_args(RunConfig, args, **_cache_override(args))
    except (TypeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = run_benchmark(config)
    _print_summary(summary, Path(config.out))
    return 0 if summary.complete else 3


def cmd_validate(args: argparse.Namespace) -> int:
    from visplotbench._benchmark import validate

    try:
        check = validate(
            args.out,
            languages=getattr(args, "languages", None),
            tasks=getattr(args, "tasks", "bundled"),
            cache_dir="" if args.no_cache else None,
            resume=getattr(args, "resume", False),
            progress=getattr(args, "progress", True),
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _print_summary(check.summary, Path(args.out))
    for r in check.failed:
        print(f"FAILED {r.task_id}: {r.status}: {r.error.splitlines()[0] if r.error else ''}")
    return 0 if check.ok else 1


def cmd_report(args: argparse.Namespace) -> int:
    from visplotbench.report import write_reports

    paths = write_reports(Path(args.run), inline_images=args.inline_images)
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0


def _no_cache(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-cache", action="store_true", help="do not read or write the generation/render caches"
    )


def add_run_parsers(sub: Any) -> None:
    """Register ``run``, ``validate`` and ``report`` on the ``visplotbench`` command's subparsers."""
    p = sub.add_parser("run", help="run the benchmark with a model")
    p.add_argument("--config", metavar="FILE.yaml", help="run options from a YAML file (flags override it)")
    add_dataclass_arguments(p, RunConfig)
    _no_cache(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("validate", help="gold run: every task's reference code must render")
    p.add_argument("--out", default="runs/validate", help="run folder (default runs/validate)")
    add_dataclass_arguments(p, RunConfig, only=["languages", "tasks", "resume", "progress"])
    _no_cache(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("report", help="write report.md and report.html for a run folder")
    p.add_argument("run")
    p.add_argument(
        "--inline-images",
        action="store_true",
        help="embed the images in report.html (one self-contained file, far larger) instead of linking images/",
    )
    p.set_defaults(func=cmd_report)
