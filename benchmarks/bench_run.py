"""End-to-end time of a cold gold run with misbehaving programs in it (a benchmark, not a test).

    python benchmarks/bench_run.py                     # the 120-program mixed set, 3 runs, median
    python benchmarks/bench_run.py --set valid         # only its 96 valid programs
    python benchmarks/bench_run.py --set paper888      # 888 tasks in the paper's language mix
    python benchmarks/bench_run.py --runs 1 --keep runs/bench-run

Sets, built from the bundled task set:
  * ``mixed``: per language, 12 reference programs plus 3 broken ones of our own: a syntax error,
    a runtime error, and an endless loop (or a pathologically slow input) that runs into the
    language's wall-time limit. 120 programs.
  * ``valid``: the same 96 reference programs without the broken ones.
  * ``paper888``: each language's bundled tasks repeated up to the paper's count (888 tasks).

Each run is ``visplotbench run --model gold --self-debug 0 --no-cache`` in a fresh process (cold:
renderers, browser and warm workers start inside it). The script watches ``results.jsonl`` while the
run goes on, so it can say when the first and the last attempt were recorded, when each language's
last attempt was, and how long the run went on after its last render (offline image metrics and
reports). CPU is the machine's busy time from ``/proc/stat`` (user+nice+system+irq+softirq; steal
and idle are not counted), i.e. what the run cost all cores together. Numbers depend on the
machine: report them, do not assert them.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The paper's language mix (VisPlotBench's 888 tasks), as the report benchmark builds it (a sibling
# script: a script's own folder is on sys.path).
from bench_report import PAPER_MIX

VALID_PER_LANGUAGE = 12

# Per language: (syntax error, runtime error, endless loop or pathologically slow input). Each must
# fail in the engine: the first two quickly, the third at the language's wall-time (or CPU) limit.
BROKEN: dict[str, tuple[str, str, str]] = {
    "python": (
        "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3]\nplt.show()\n",
        "import matplotlib.pyplot as plt\nplt.plot(values_that_do_not_exist)\nplt.show()\n",
        "import matplotlib.pyplot as plt\nx = 0\nwhile True:\n    x += 1\nplt.plot([x])\n",
    ),
    "vegalite": (
        '{"mark": "bar", "encoding": {"x": {"field": "a"}',
        '{"data": {"values": [{"a": 1}]}, "transform": [{"calculate": "noSuchFunction(datum.a)", "as": "b"}],'
        ' "mark": "bar", "encoding": {"x": {"field": "b", "type": "quantitative"}}}',
        '{"data": {"sequence": {"start": 0, "stop": 300000000, "as": "v"}},'
        ' "transform": [{"calculate": "sin(datum.v) * cos(datum.v)", "as": "w"}],'
        ' "mark": "point", "encoding": {"x": {"field": "v", "type": "quantitative"},'
        ' "y": {"field": "w", "type": "quantitative"}}}',
    ),
    "mermaid": (
        "flowchart TD\n    A[Start --> B{Broken\n",
        "sequenceDiagram\n    Alice->>Bob: hi\n    end\n",
        # 4,000 unconnected nodes: Mermaid's layout needs over a minute (an idle machine: > 60 s
        # wall, 85 CPU-s). Edges cannot make it slow enough: Mermaid refuses over 500, and 499
        # take ~6.5 s, which timed out only on a busy machine and passed on a quiet one.
        "flowchart TD\n" + "\n".join(f"    n{i}" for i in range(4000)) + "\n",
    ),
    "lilypond": (
        '\\version "2.24.0"\n\\relative c\' { c4 d e f | g1\n',
        '\\version "2.24.0"\n\\relative c\' { \\thisCommandDoesNotExist c4 d e f }\n',
        '\\version "2.24.0"\n#(let loop ((i 0)) (loop (+ i 1)))\n\\relative c\' { c4 d e f }\n',
    ),
    "svg": (
        '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="50"',
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        ' width="100" height="100"><use xlink:href="#a"/><g id="a"><use xlink:href="#a"/></g></svg>',
        # A "billion laughs" of <use>: 23 levels that each draw the one below twice (8 M circles).
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="800"'
        ' height="800"><defs><g id="g0"><circle cx="10" cy="10" r="5" fill="teal"/></g>'
        + "".join(
            f'<g id="g{k}"><use xlink:href="#g{k - 1}"/>'
            f'<use xlink:href="#g{k - 1}" transform="translate({k % 5 + 1},{k % 3 + 1})"/></g>'
            for k in range(1, 24)
        )
        + '</defs><use xlink:href="#g23"/></svg>',
    ),
    "asymptote": (
        "size(200);\ndraw((0,0)--(1,1)\n",
        "size(200);\nint[] a = {1, 2};\ndraw((0,0)--(a[5],1));\n",
        "size(200);\nint i = 0;\nwhile(true) { ++i; }\ndraw((0,0)--(1,1));\n",
    ),
    "latex": (
        "\\documentclass{standalone}\n\\usepackage{tikz}\n\\begin{document}\n"
        "\\begin{tikzpicture}\n\\draw (0,0) -- (1,1);\n\\end{document}\n",
        "\\documentclass{standalone}\n\\usepackage{tikz}\n\\begin{document}\n"
        "\\begin{tikzpicture}\n\\draw (0,0) -- (nowhere);\n\\end{tikzpicture}\n\\end{document}\n",
        "\\documentclass{standalone}\n\\usepackage{tikz}\n\\begin{document}\n"
        "\\newcount\\n\\loop\\advance\\n by 1 \\ifnum\\n>0 \\repeat\n"
        "\\begin{tikzpicture}\\draw (0,0) -- (1,1);\\end{tikzpicture}\n\\end{document}\n",
    ),
    "html": (
        "<!DOCTYPE html><html><body><div id='c'></div><script>\n"
        "const x = {;\ndocument.getElementById('c').textContent = 'x';\n</script></body></html>\n",
        "<!DOCTYPE html><html><body><div id='c'></div><script>\n"
        "drawTheChart(document.getElementById('c'));\n</script></body></html>\n",
        "<!DOCTYPE html><html><body><div id='c'>chart</div><script>\n"
        "let i = 0; while (true) { i++; }\n</script></body></html>\n",
    ),
}


def build_tasks(kind: str, path: Path) -> int:
    """Write the task set ``kind`` as one parquet file; return its size."""
    import pyarrow.parquet as pq
    from visplotbench.tasks import load_tasks
    from visplotbench.tasks._schema import rows_to_table

    rows = []
    if kind == "paper888":
        for language, count in PAPER_MIX.items():
            bundled = load_tasks("bundled", [language])
            rows += [
                dataclasses.replace(bundled[n % len(bundled)], id=f"{language}_{n}") for n in range(count)
            ]
    else:
        for language, broken in BROKEN.items():
            bundled = load_tasks("bundled", [language])
            rows += [
                dataclasses.replace(t, id=f"{language}_{n}")
                for n, t in enumerate(bundled[:VALID_PER_LANGUAGE])
            ]
            if kind == "mixed":
                template = bundled[0]
                rows += [
                    dataclasses.replace(template, id=f"{language}_{VALID_PER_LANGUAGE + k}", code=code)
                    for k, code in enumerate(broken)
                ]
    pq.write_table(rows_to_table(rows), path)
    return len(rows)


def machine_busy_s() -> float:
    """CPU seconds all cores spent busy so far (no idle, iowait or steal)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


@dataclasses.dataclass
class Measurement:
    wall_s: float
    cpu_s: float
    first_record_s: float
    last_record_s: float
    after_last_s: float
    per_language_last_s: dict[str, float]
    after_phases: dict[str, float]
    statuses: dict[str, int]
    passed: int
    total: int


def run_once(tasks: Path, out: Path, total: int) -> Measurement:
    """One cold ``visplotbench run`` over ``tasks``, watched from outside."""
    shutil.rmtree(out, ignore_errors=True)
    exe = Path(sys.executable).with_name("visplotbench")
    cmd = [str(exe), "run", "--model", "gold", "--self-debug", "0", "--no-cache"]
    cmd += ["--tasks", str(tasks), "--out", str(out), "--no-progress"]
    results = out / "results.jsonl"
    seen: dict[str, float] = {}
    first = last = 0.0
    busy0, start, epoch = machine_busy_s(), time.monotonic(), time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    offset = 0
    while True:
        running = proc.poll() is None
        if results.exists():
            with results.open() as f:
                f.seek(offset)
                chunk = f.read()
            complete = chunk[: chunk.rfind("\n") + 1]
            offset += len(complete.encode())
            now = time.monotonic() - start
            for line in complete.splitlines():
                record = json.loads(line)
                seen[record["task_id"]] = now
                first = first or now
                last = now
        if not running:
            break
        time.sleep(0.1)
    wall = time.monotonic() - start
    cpu = machine_busy_s() - busy0
    if proc.returncode != 0:
        raise SystemExit(f"the run failed ({proc.returncode}):\n{proc.stderr.read() if proc.stderr else ''}")
    # After the last record, each step ends by writing its file: the runner (pool closed) its
    # summary.json, the scoring its scores_summary.json, the reports report.html; then the process exits.
    marks = {
        "runner done": "summary.json",
        "scores done": "scores_summary.json",
        "reports done": "report.html",
    }
    phases = {k: (out / f).stat().st_mtime - epoch - last for k, f in marks.items() if (out / f).exists()}
    per_language: dict[str, float] = {}
    statuses: collections.Counter[str] = collections.Counter()
    passed = 0
    for line in results.read_text().splitlines():
        record = json.loads(line)
        language = record["language"]
        per_language[language] = max(per_language.get(language, 0.0), seen.get(record["task_id"], wall))
        statuses[f"{language}:{record['status']}"] += 1
        passed += bool(record["passed"])
    return Measurement(
        wall, cpu, first, last, wall - last, per_language, phases, dict(statuses), passed, total
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=["mixed", "valid", "paper888"], default="mixed")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the last run folder here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vpb-bench-run-"))
    try:
        tasks = work / f"{args.set}.parquet"
        total = build_tasks(args.set, tasks)
        print(f"set {args.set}: {total} programs; {args.runs} cold runs; {os.cpu_count()} CPUs")
        runs = []
        for n in range(args.runs):
            m = run_once(tasks, args.keep or work / "run", total)
            runs.append(m)
            langs = "  ".join(f"{k} {v:.1f}" for k, v in sorted(m.per_language_last_s.items()))
            print(
                f"run {n + 1}: wall {m.wall_s:.1f} s, machine CPU {m.cpu_s:.1f} s, passed {m.passed}/{m.total}, "
                f"first record {m.first_record_s:.1f} s, last {m.last_record_s:.1f} s, "
                f"after the last {m.after_last_s:.1f} s ("
                + ", ".join(f"{k} +{v:.1f}" for k, v in m.after_phases.items())
                + f")\n  last record per language (s): {langs}"
            )
        if len(runs) > 1 and any(r.statuses != runs[0].statuses for r in runs):
            print("WARNING: verdicts differ between runs")
        print("statuses:", json.dumps(dict(sorted(runs[-1].statuses.items()))))
        med = {
            k: statistics.median(getattr(r, k) for r in runs)
            for k in ("wall_s", "cpu_s", "first_record_s", "last_record_s", "after_last_s")
        }
        print("median: " + ", ".join(f"{k} {v:.1f}" for k, v in med.items()))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
