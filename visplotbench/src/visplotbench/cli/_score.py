"""``visplotbench score RUN``: add scores to an existing run folder (nothing is re-rendered).

    visplotbench score runs/my-run                                     # offline image metrics only
    visplotbench score runs/my-run --judge openai:gpt-4.1              # + task and visual judge scores
    visplotbench score runs/my-run --judge openai:Qwen/Qwen2.5-VL-7B-Instruct \\
        --judge-option base_url=http://localhost:8000/v1 --judge-option concurrency=32
    visplotbench score runs/my-run --judge openai:gpt-4.1 --judge-prompts path/to/instructs.json

Exit status: 0, or 3 when some judge requests failed (run the same command again to retry them).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from visplotbench.cli._args import key_value_type


def add_score_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``score`` on the ``visplotbench`` command's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "score",
        help="add judge scores and offline image metrics to a run folder",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run", help="the run folder (written by visplotbench run)")
    p.add_argument(
        "--judge", help="<backend>:<model> of an OpenAI-compatible vision model, e.g. openai:gpt-4.1"
    )
    p.add_argument(
        "--judge-option",
        action="append",
        type=key_value_type("--judge-option"),
        metavar="KEY=VALUE",
        help="judge setting: base_url, concurrency, retries, timeout_s, api_key_env, temperature, "
        "max_tokens, extra_body (backend), detail, image_max_side, max_images (judge)",
    )
    p.add_argument(
        "--judge-prompts",
        metavar="FILE",
        help="judge texts from FILE: the original instructs.json (judge_instruct_vis / "
        "judge_instruct_task) or our format (vis, task); default: our judge-v1 texts",
    )
    p.add_argument("--no-offline", action="store_true", help="skip the offline image metrics")
    p.add_argument(
        "--tasks",
        help="task source for task texts and missing reference images "
        "(default: the run's own, from config.json)",
    )
    p.add_argument("--cache-dir", help="judgement cache (default ~/.cache/visplotbench/cache)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the judgement cache")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_score)
    return p


def _fmt(value: float | None, scale: float = 1.0, digits: int = 1) -> str:
    return "–" if value is None or math.isnan(value) else f"{value * scale:.{digits}f}"


def cmd_score(args: argparse.Namespace) -> int:
    """Run ``score_run`` for the parsed arguments, print the per-language numbers, rewrite the reports."""
    from visplotbench.judges import score_run
    from visplotbench.report import write_reports

    folder = Path(args.run)
    if (args.judge_option or args.judge_prompts) and not args.judge:
        print("error: --judge-option and --judge-prompts need --judge <backend>:<model>", file=sys.stderr)
        return 2
    try:
        summary = score_run(
            folder,
            args.judge,
            judge_options=dict(args.judge_option or []),
            judge_prompts=args.judge_prompts,
            offline=not args.no_offline,
            tasks=args.tasks,
            cache_dir="" if args.no_cache else args.cache_dir,
            progress=not args.no_progress,
        )
    except (FileNotFoundError, ValueError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    last = summary.rounds
    kinds = [k for k in ("vis", "task", "ssim", "edge_f1") if k in summary.kinds]
    print(
        f"\nscores after {last} self-debug round(s) (judge: mean / good %; metrics: mean; unparsed count 0)"
    )
    print(f"{'language':<10} " + " ".join(f"{k:>14}" for k in kinds) + f" {'unparsed':>9}")
    first = summary.kinds[kinds[0]] if kinds else None
    rows = [*(first.languages if first else {}), "overall"]
    failed = 0
    for lang in rows:
        cells, unparsed = [], 0
        for kind in kinds:
            ks = summary.kinds[kind]
            s = ks.overall[last] if lang == "overall" else ks.languages[lang][last]
            unparsed += s.unparsed
            if lang == "overall":
                failed += s.failed
            if s.good is not None:
                cells.append(f"{_fmt(s.mean)} / {_fmt(s.good, 100, 0)}%")
            else:
                cells.append(_fmt(s.mean, 1, 3))
        print(f"{lang:<10} " + " ".join(f"{c:>14}" for c in cells) + f" {unparsed:>9}")
    paths = write_reports(folder)
    print(f"scores.jsonl, scores_summary.json, {paths['markdown'].name} and {paths['html'].name} in {folder}")
    if failed:
        print(f"{failed} judge request(s) failed after retries: run the same command again to retry them")
        return 3
    return 0
