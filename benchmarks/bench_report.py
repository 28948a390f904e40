"""The HTML report at benchmark scale: its size and how long a real browser takes to open it.

    python benchmarks/bench_report.py --run runs/bench-888            # build the run (once), then measure
    python benchmarks/bench_report.py --run runs/bench-888 --measure-only

Builds a gold run (every reference solution replayed, K=3 self-debug rounds) over 888 tasks in the
paper's language mix (Python 196, Vega-Lite 129, LilyPond 55, Mermaid 131, SVG 65, LaTeX 112,
Asymptote 92, HTML 108): the bundled tasks repeated under new ids. Repeats share their code and
data, so the render cache renders each program once. Then it writes the reports and opens
``report.html`` in headless Chromium (Playwright driving Debian's chromium) ``--trials`` times from
a cold page, reporting the median time to DOMContentLoaded, to the load event, and the size of the
report with the files it links. A benchmark, not a test: report the numbers with the machine's load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

PAPER_MIX = {
    "python": 196,
    "vegalite": 129,
    "lilypond": 55,
    "mermaid": 131,
    "svg": 65,
    "latex": 112,
    "asymptote": 92,
    "html": 108,
}


def build_tasks(path: Path) -> None:
    """A parquet of 888 tasks: each language's bundled tasks repeated up to its paper count."""
    import dataclasses

    import pyarrow.parquet as pq
    from visplotbench.tasks import load_tasks
    from visplotbench.tasks._schema import rows_to_table

    rows = []
    for language, count in PAPER_MIX.items():
        bundled = load_tasks("bundled", [language])
        for n in range(count):
            rows.append(dataclasses.replace(bundled[n % len(bundled)], id=f"{language}_{n}"))
    pq.write_table(rows_to_table(rows), path)


def build_run(run: Path, cache: Path, assemble: bool) -> None:
    """The gold run: real renders (``run_benchmark``), or, with ``assemble``, the same run folder
    written through the harness's own store with each task's reference image as its first-try
    image (what the gold backend's render of the reference code gives) when the machine is too
    busy to render 888 programs. The offline metrics are computed either way."""
    from visplotbench import RunConfig, run_benchmark

    tasks_file = run.parent / f"{run.name}-tasks.parquet"
    build_tasks(tasks_file)
    config = RunConfig(
        model="gold", out=str(run), tasks=str(tasks_file), self_debug=3, cache_dir=str(cache), progress=True
    )
    start = time.monotonic()
    if not assemble:
        run_benchmark(config)
    else:
        from visplotbench.harness import Runner
        from visplotbench.judges import score_run
        from visplotbench.prompts import build_messages
        from visplotbench.report import write_reports
        from visplotbench.runfolder import AttemptRecord, failure_kind

        runner = Runner(config)
        runner.store.prepare(runner.manifest(), resume=False)
        for task in runner.tasks:
            (runner.store.images / f"{task.id}_ref.png").write_bytes(task.image)
            messages = build_messages(task, runner.prompts, config.descriptor)
            reply = f"```{task.language}\n{task.code}\n```"
            record = AttemptRecord(
                task.id, task.language, 0, messages, reply, task.code, "ok",
                failure_kind=failure_kind(task.language, "ok", ""), passed=True, extraction_rule="tagged",
            )  # fmt: skip
            runner.store.append(record, [task.image])
        runner.store.write_summary({**runner.summary().to_json(), "wall_seconds": 0.0})
        score_run(run, tasks=runner.tasks, cache_dir=str(cache))
        write_reports(run)
    print(f"gold run of {sum(PAPER_MIX.values())} tasks: {time.monotonic() - start:.0f} s")


def linked_bytes(report: Path) -> tuple[int, int]:
    """(number, total bytes) of the local files ``report`` links (images beside it)."""
    import re

    text = report.read_text(encoding="utf-8")
    names = set(re.findall(r'(?:src|href)="((?!data:|#|https?:)[^"]+)"', text))
    files = [report.parent / n for n in names if (report.parent / n).is_file()]
    return len(files), sum(f.stat().st_size for f in files)


def open_times(report: Path, trials: int) -> dict[str, float]:
    """Median seconds to DOMContentLoaded and to load, in a fresh page of headless Chromium each time."""
    from playwright.sync_api import sync_playwright

    dcl, load = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for _ in range(trials):
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            start = time.monotonic()
            page.goto(report.as_uri(), wait_until="load", timeout=600_000)
            load.append(time.monotonic() - start)
            timing = page.evaluate(
                "() => { const t = performance.getEntriesByType('navigation')[0];"
                " return [t.domContentLoadedEventEnd, t.loadEventEnd]; }"
            )
            dcl.append(timing[0] / 1000)
            context.close()
        browser.close()
    return {"dom_content_loaded_s": statistics.median(dcl), "load_s": statistics.median(load)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, required=True, help="the run folder (built when absent)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "vpb-bench-report-cache")
    parser.add_argument("--measure-only", action="store_true", help="do not build the run or rewrite reports")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument(
        "--assemble",
        action="store_true",
        help="build the run folder from the reference images instead of rendering (busy machines)",
    )
    args = parser.parse_args()
    if not args.measure_only:
        if not (args.run / "summary.json").exists():
            build_run(args.run, args.cache, args.assemble)
        from visplotbench.report import write_reports

        start = time.monotonic()
        write_reports(args.run)
        print(f"reports written in {time.monotonic() - start:.1f} s")
    report = args.run / "report.html"
    count, size = linked_bytes(report)
    result = {
        "attempts": len((args.run / "results.jsonl").read_text().splitlines()),
        "report_html_bytes": report.stat().st_size,
        "linked_files": count,
        "linked_bytes": size,
        **open_times(report, args.trials),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
