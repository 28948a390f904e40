"""Build (or check) the bundled task set from the hand-written sources in visplotbench/taskset/.

    python scripts/build_taskset.py            # render every reference program, write the parquet files
    python scripts/build_taskset.py --check    # re-render and fail if any image differs from the stored one

Every reference program must render with status ok; the reference image stored with a task is the
engine's own render of its reference code, so rebuilding reproduces the stored bytes.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

from visplotbench.engine import LANGUAGES, RenderJob, RenderPool
from visplotbench.engine.registry import data_files
from visplotbench.tasks import BUNDLED_DIR, Task, bundled_parquet, load_bundled
from visplotbench.tasks._schema import rows_to_table

SOURCES = Path(__file__).resolve().parent.parent / "visplotbench" / "taskset"
EXTENSIONS = {
    "python": "py",
    "vegalite": "vl.json",
    "mermaid": "mmd",
    "lilypond": "ly",
    "svg": "svg",
    "asymptote": "asy",
    "latex": "tex",
    "html": "html",
}
CARD_HEAD = """---
license: apache-2.0
pretty_name: VisPlotBench (visplotbench bundled task set)
task_categories:
- text-generation
tags:
- visualization
- code
configs:
{configs}
---
# visplotbench bundled task set

A small task set in the VisPlotBench format (same columns as `TIGER-Lab/VisPlotBench`, one config per
language, split `test`), written for the `visplotbench` package so that it works offline, so that the
gold run (every task's reference `code`) proves the whole environment, and so that tests and demos have
real material. The texts, data and code are original work of the visplotbench authors, released under
the Apache-2.0 licence; no row of the original benchmark is copied. `image` is the reference render made
by the visplotbench engine from `code`.

Columns: `id` (`<language>_<n>`), `task__plot_description`, `task__plot_style`, `data` (CSV for python,
vegalite, latex and html; Asymptote data-definition code or empty; empty for mermaid, lilypond and svg),
`used_lib` (list), `vis_cate`, `subtype`, `image` (PNG), `code` (reference solution).

## Tasks per language and category
{table}
"""


def read_sources(language: str) -> list[Task]:
    folder = SOURCES / language
    rows = []
    metas = [p for p in folder.glob(f"{language}_*.json") if p.stem.rsplit("_", 1)[1].isdigit()]
    for meta_path in sorted(metas, key=lambda p: int(p.stem.rsplit("_", 1)[1])):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        task_id = meta_path.stem
        code = (folder / f"{task_id}.{EXTENSIONS[language]}").read_text(encoding="utf-8")
        data = ""
        for suffix in ("data.csv", "data.asy"):
            if (folder / f"{task_id}.{suffix}").exists():
                data = (folder / f"{task_id}.{suffix}").read_text(encoding="utf-8")
        used_lib = meta["used_lib"] if isinstance(meta["used_lib"], list) else [meta["used_lib"]]
        rows.append(
            Task(
                task_id,
                meta["task__plot_description"],
                meta["task__plot_style"],
                data,
                used_lib,
                meta["vis_cate"],
                meta["subtype"],
                b"",
                code,
            )
        )
    return rows


def category_table(rows: list[Task]) -> str:
    languages = [lang for lang in LANGUAGES if any(r.language == lang for r in rows)]
    counts = collections.Counter((r.vis_cate, r.language) for r in rows)
    categories = sorted({r.vis_cate for r in rows})
    lines = ["| category | " + " | ".join(languages) + " | total |", "|---" * (len(languages) + 2) + "|"]
    for cat in categories:
        cells = [str(counts[(cat, lang)] or "") for lang in languages]
        lines.append(
            f"| {cat} | " + " | ".join(cells) + f" | {sum(counts[(cat, lang)] for lang in languages)} |"
        )
    totals = [str(sum(1 for r in rows if r.language == lang)) for lang in languages]
    lines.append("| **total** | " + " | ".join(totals) + f" | {len(rows)} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="compare with the stored images; write nothing")
    parser.add_argument("--languages", nargs="*", default=list(LANGUAGES))
    args = parser.parse_args()

    all_rows: dict[str, list[Task]] = {lang: read_sources(lang) for lang in args.languages}
    jobs = [
        (row, RenderJob(lang, row.code, data_files(lang, row.data)))
        for lang, rows in all_rows.items()
        for row in rows
    ]
    failures, differs = [], []
    start = time.monotonic()
    with RenderPool() as pool:
        for (row, _), result in zip(jobs, pool.map(job for _, job in jobs), strict=True):
            if not result.ok:
                failures.append(f"{row.id}: {result.status.value}: {result.error[:300]}")
                continue
            row.image = result.images[0]
    print(f"rendered {len(jobs)} reference programs in {time.monotonic() - start:.1f}s")
    if args.check:
        for lang, rows in all_rows.items():
            stored = {r.id: r.image for r in load_bundled(lang)}
            differs += [r.id for r in rows if r.image and stored.get(r.id) != r.image]
            differs += [f"{i} (not in the sources)" for i in stored if i not in {r.id for r in rows}]
    for line in failures:
        print("FAILED", line)
    if args.check:
        print("images that differ from the stored ones:", ", ".join(differs) if differs else "none")
        return 1 if failures or differs else 0
    if failures:
        print("not writing: every reference program must render")
        return 1
    for lang, rows in all_rows.items():
        import pyarrow.parquet as pq

        path = bundled_parquet(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(rows_to_table(rows), path, compression="zstd")
    every = [r for rows in all_rows.values() for r in rows]
    existing = sorted(p.parent.name for p in BUNDLED_DIR.glob("*/test-00000-of-00001.parquet"))
    configs = "\n".join(
        f"- config_name: {lang}\n  data_files:\n  - split: test\n    path: {lang}/test-*.parquet"
        for lang in LANGUAGES
        if lang in existing
    )
    all_stored = [r for lang in LANGUAGES if lang in existing for r in load_bundled(lang)]
    (BUNDLED_DIR / "README.md").write_text(
        CARD_HEAD.format(configs=configs, table=category_table(all_stored))
    )
    print(category_table(every))
    return 0


if __name__ == "__main__":
    sys.exit(main())
