"""The `visplotbench` command line.

visplotbench doctor                                   # can every language render here?
visplotbench render plot.py --language python -o out.png [--data data.csv]
visplotbench examples --out out/examples              # render the bundled example of every language
visplotbench assets install                           # pinned JS libraries for offline HTML/Mermaid
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

_EXTENSIONS = {
    ".py": "python",
    ".vl.json": "vegalite",
    ".vl": "vegalite",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".ly": "lilypond",
    ".svg": "svg",
    ".asy": "asymptote",
    ".tex": "latex",
    ".html": "html",
    ".htm": "html",
}


def _guess_language(path: Path) -> str | None:
    name = path.name.lower()
    for ext, language in sorted(_EXTENSIONS.items(), key=lambda kv: -len(kv[0])):
        if name.endswith(ext):
            return language
    return None


def _cmd_render(args: argparse.Namespace) -> int:
    from visplotbench.engine import LANGUAGES, Limits, RenderJob, RenderPool
    from visplotbench.engine.registry import data_files

    path = Path(args.file)
    language = args.language or _guess_language(path)
    if language not in LANGUAGES:
        print(
            f"error: cannot tell the language of {path}; pass --language one of: {', '.join(LANGUAGES)}",
            file=sys.stderr,
        )
        return 2
    data = Path(args.data).read_text(encoding="utf-8") if args.data else None
    limits = Limits(wall_s=args.timeout) if args.timeout else None
    job = RenderJob(
        language, path.read_text(encoding="utf-8"), data_files(language, data), limits, args.all_pages
    )
    with RenderPool() as pool:
        result = pool.render(job)
    out = Path(args.output or path.with_suffix(".png").name)
    written = []
    for i, png in enumerate(result.images):
        target = out if i == 0 else out.with_name(f"{out.stem}-{i + 1}{out.suffix}")
        target.write_bytes(png)
        written.append(str(target))
    print(
        f"{language}: {result.status.value} in {result.timings.get('total', 0):.2f}s"
        + (f" -> {', '.join(written)}" if written else "")
    )
    if result.error:
        print(result.error, file=sys.stderr)
    return 0 if result.ok else 1


def _cmd_examples(args: argparse.Namespace) -> int:
    from visplotbench.engine import RenderPool
    from visplotbench.engine.examples import example_jobs

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = example_jobs()
    start = time.monotonic()
    summary = []
    with RenderPool() as pool:
        for job, result in zip(jobs, pool.map(jobs), strict=True):
            files = []
            for i, png in enumerate(result.images):
                target = out / f"{job.language}-{i + 1}.png"
                target.write_bytes(png)
                files.append(target.name)
            summary.append(
                {
                    "language": job.language,
                    "status": result.status.value,
                    "images": files,
                    "seconds": round(result.timings.get("total", 0.0), 3),
                    "error": result.error,
                }
            )
            print(
                f"  {job.language:<10} {result.status.value:<12} {result.timings.get('total', 0):5.2f}s  {' '.join(files)}"
            )
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    ok = sum(s["status"] == "ok" for s in summary)
    print(
        f"{ok}/{len(summary)} languages rendered in {time.monotonic() - start:.1f}s; images and summary.json in {out}"
    )
    return 0 if ok == len(summary) else 1


def _cmd_doctor(args: argparse.Namespace) -> int:
    from visplotbench.engine.doctor import main

    return main(args.languages)


def _cmd_assets(args: argparse.Namespace) -> int:
    from visplotbench.engine import EnvironmentProblem
    from visplotbench.engine.assets import install_assets

    try:
        install_assets(force=args.force)
    except EnvironmentProblem as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _option(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--backend-option expects KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _languages(values: list[str] | None) -> list[str]:
    if not values or values == ["all"]:
        return []
    return [lang for value in values for lang in value.split(",") if lang]


def _print_summary(summary: object, folder: Path) -> None:
    from visplotbench.harness import RunSummary

    assert isinstance(summary, RunSummary)
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


def _cmd_run(args: argparse.Namespace) -> int:
    from visplotbench.harness import RunConfig, out_folder, run_benchmark

    out = args.out or str(out_folder(args.model))
    config = RunConfig(
        model=args.model,
        out=out,
        languages=_languages(args.languages),
        tasks=args.tasks,
        limit=args.limit,
        self_debug=args.self_debug,
        prompts=args.prompts,
        descriptor=args.descriptor,
        backend_options=dict(args.backend_option or []),
        cache_dir="" if args.no_cache else args.cache_dir,
        resume=args.resume,
        progress=not args.no_progress,
    )
    summary = run_benchmark(config)
    _print_summary(summary, Path(out))
    return 0 if summary.complete else 3


def _cmd_validate(args: argparse.Namespace) -> int:
    from visplotbench.harness import RunConfig, run_benchmark

    config = RunConfig(
        model="gold",
        out=args.out,
        languages=_languages(args.languages),
        tasks=args.tasks,
        self_debug=0,
        cache_dir="" if args.no_cache else None,
        resume=args.resume,
        progress=not args.no_progress,
    )
    summary = run_benchmark(config)
    _print_summary(summary, Path(args.out))
    from visplotbench.harness import RunStore

    failed = [r for r in RunStore(args.out).load() if not r.passed]
    for r in failed:
        print(f"FAILED {r.task_id}: {r.status}: {r.error.splitlines()[0] if r.error else ''}")
    return 0 if not failed and summary.complete else 1


def _cmd_report(args: argparse.Namespace) -> int:
    from visplotbench.report import write_reports

    paths = write_reports(Path(args.run), inline_images=args.inline_images)
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--languages", nargs="*", default=["all"], help="language keys, or all")
    p.add_argument(
        "--tasks",
        default="bundled",
        help="bundled | hub | a Hub repo id | a local Hub-layout folder | a .parquet file",
    )
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument(
        "--no-cache", action="store_true", help="do not read or write the generation/render caches"
    )
    p.add_argument("--no-progress", action="store_true")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="visplotbench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("doctor", help="render a canary in each language; print versions and fixes")
    p.add_argument("--languages", nargs="*", help="only these languages")
    p.set_defaults(func=_cmd_doctor)

    p = sub.add_parser("render", help="render one file to PNG")
    p.add_argument("file")
    p.add_argument("--language", "-l", help="language key (guessed from the extension when omitted)")
    p.add_argument("--output", "-o", help="output PNG (more pages/figures get -2, -3, ... suffixes)")
    p.add_argument("--data", help="CSV data file for the program (python, vegalite, latex, html)")
    p.add_argument("--timeout", type=float, help="wall-clock limit in seconds")
    p.add_argument("--all-pages", action="store_true", help="LaTeX: every page, not just the first")
    p.set_defaults(func=_cmd_render)

    p = sub.add_parser("examples", help="render the bundled example of every language")
    p.add_argument("--out", default="out/examples")
    p.set_defaults(func=_cmd_examples)

    p = sub.add_parser("run", help="run the benchmark with a model")
    p.add_argument(
        "--model", required=True, help="<backend>:<model>, e.g. openai:gpt-4.1, transformers:./ckpt, gold"
    )
    p.add_argument("--out", help="run folder (default runs/<model>)")
    p.add_argument("--self-debug", type=int, default=3, metavar="K", help="self-debug rounds (default 3)")
    p.add_argument("--limit", type=int, help="first N tasks per language")
    p.add_argument("--prompts", help="a prompt file in the original instructs.json format")
    p.add_argument(
        "--descriptor", default="head", help="data descriptor: head, describe, datalore, pycharm, lida, empty"
    )
    p.add_argument(
        "--backend-option",
        action="append",
        type=_option,
        metavar="KEY=VALUE",
        help="backend setting, e.g. base_url=http://localhost:8000/v1, concurrency=16, temperature=0",
    )
    p.add_argument("--cache-dir", help="generation/render caches (default ~/.cache/visplotbench/cache)")
    _add_run_options(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("validate", help="gold run: every task's reference code must render")
    p.add_argument("--out", default="runs/validate")
    _add_run_options(p)
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("report", help="write report.md and report.html for a run folder")
    p.add_argument("run")
    p.add_argument(
        "--inline-images",
        action="store_true",
        help="embed the images in report.html (one self-contained file, far larger) instead of linking images/",
    )
    p.set_defaults(func=_cmd_report)

    from visplotbench.judges._cli import add_score_parser

    add_score_parser(sub)

    p = sub.add_parser("assets", help="manage the pinned JavaScript libraries")
    p.add_argument("action", choices=["install"])
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=_cmd_assets)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
