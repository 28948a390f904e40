"""The `visplotbench` command line.

visplotbench doctor                                   # can every language render here?
visplotbench render plot.py --language python -o out.png [--data data.csv]
visplotbench examples --out out/examples              # render the bundled example of every language
visplotbench assets install                           # pinned JS libraries for offline HTML/Mermaid
visplotbench run --model openai:gpt-4.1 --self-debug 3  # the benchmark (or: run --config run.yaml)
visplotbench validate                                 # gold run: every reference solution renders
visplotbench score runs/gpt-4.1 --judge openai:gpt-4.1  # judge scores and offline image metrics
visplotbench report runs/gpt-4.1                      # report.md and report.html
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from visplotbench.cli._run import add_run_parsers
from visplotbench.cli._score import add_score_parser

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

    add_run_parsers(sub)
    add_score_parser(sub)

    p = sub.add_parser("assets", help="manage the pinned JavaScript libraries")
    p.add_argument("action", choices=["install"])
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=_cmd_assets)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    return int(args.func(args))
