"""Data file names of a render job: illegal ones are refused as bad input (never ``env_failure``),
legal ones, sub-folders included, reach the program; a task with an illegal one gets a clear
``bad_task`` outcome in a run, and the run goes on. Real renderers, real run."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from visplotbench.engine import InvalidJob, RenderJob, RenderStatus, render
from visplotbench.runfolder import RunStore
from visplotbench.tasks import load_tasks
from visplotbench.tasks._schema import rows_to_table

from visplotbench import RunConfig, run_benchmark

CSV = "a,b\n1,2\n3,5\n"
READ = (
    "import pandas as pd\nimport matplotlib.pyplot as plt\n"
    "df = pd.read_csv({name!r})\nplt.plot(df.a, df.b)\nplt.savefig('p.png')\n"
)
BAD = {
    "../x.csv": "not allowed",
    "/tmp/x.csv": "not allowed",
    "sub/../../x.csv": "not allowed",
    "..": "not allowed",
    ".": "not allowed",
    "": "not allowed",
    "a\x00b.csv": "not allowed",
    "a\nb.csv": "not allowed",
    "data//x.csv": "not allowed",
    "data/": "not allowed",
    "x" * 256: "too long",
    "out/0.png": "inside 'out'",
    "out": "inside 'out'",
    "main.py": "program's own file name",
}


@pytest.mark.parametrize("name", list(BAD), ids=[repr(n)[:20] for n in BAD])
def test_illegal_name_is_refused_naming_the_file(name):
    with pytest.raises(InvalidJob) as caught:
        render("python", READ.format(name="x.csv"), files={name: CSV})
    assert repr(name) in str(caught.value) and BAD[name] in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_file_that_is_also_a_folder_is_refused():
    with pytest.raises(InvalidJob, match="'data' is both a data file and a folder"):
        RenderJob("python", "", {"data": CSV, "data/x.csv": CSV})


def test_content_must_be_text_or_bytes():
    with pytest.raises(InvalidJob, match=r"'x\.csv' holds a int"):
        RenderJob("python", "", {"x.csv": 3})  # type: ignore[dict-item]


def test_name_changed_after_the_job_was_made_is_refused_too(pool):
    job = RenderJob("python", READ.format(name="x.csv"), {"x.csv": CSV})
    job.files["../escape.csv"] = CSV
    with pytest.raises(InvalidJob, match="escape"):
        pool.render(job)


@pytest.mark.parametrize(
    "name", ["data.csv", "data/sales.csv", "a/b/c/d.csv", "ünïcode name.csv", "main.vl.json"]
)
def test_legal_names_reach_a_python_program(pool, need, name):
    need("python")
    result = pool.render(RenderJob("python", READ.format(name=name), {name: CSV}))
    assert result.status is RenderStatus.OK, result.error


def test_sub_folder_reaches_a_process_renderer(pool, need):
    need("latex")
    source = "\\documentclass{standalone}\n\\begin{document}\n\\input{parts/body.tex}\n\\end{document}\n"
    result = pool.render(RenderJob("latex", source, {"parts/body.tex": "Hello from a sub-folder"}))
    assert result.status is RenderStatus.OK, result.error


@pytest.mark.slow
def test_a_task_with_an_illegal_file_name_gets_bad_task_in_a_run(tmp_path, need):
    need("python")
    tasks = load_tasks("bundled", ["python"], limit=2)
    table = rows_to_table(tasks)
    files = [json.dumps({"../escape.csv": CSV}), json.dumps({"extra/notes.csv": CSV})]
    table = table.append_column("files", pa.array(files, pa.string()))
    parquet = tmp_path / "tasks.parquet"
    pq.write_table(table, parquet)
    summary = run_benchmark(
        RunConfig(
            model="gold",
            out=str(tmp_path / "run"),
            languages=["python"],
            tasks=str(parquet),
            self_debug=2,
            cache_dir="",
            progress=False,
            offline_metrics=False,
        )
    )
    records = RunStore(tmp_path / "run").load()
    by_task = {t.id: [r for r in records if r.task_id == t.id] for t in tasks}
    bad, good = by_task[tasks[0].id], by_task[tasks[1].id]
    assert [r.status for r in bad] == ["bad_task"]  # no self-debug for a task no program can run
    assert "'../escape.csv'" in bad[0].error and bad[0].failure_kind == "BadTask"
    assert [r.status for r in good] == ["ok"]  # the run went on; a legal sub-folder file is fine
    language = summary.languages["python"]
    assert language.passed == [1, 1, 1] and language.env_failures == 0
    assert language.statuses == {"bad_task": 1, "ok": 1} and summary.complete
    assert "bad_task" in (tmp_path / "run" / "report.md").read_text()
