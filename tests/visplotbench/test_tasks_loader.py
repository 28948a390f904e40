"""Task loaders: a local folder in the Hub layout (through datasets, as for the Hub), parquet, bundled."""

import io

import pyarrow.parquet as pq
import pytest
from PIL import Image
from visplotbench.tasks import Task, load_tasks
from visplotbench.tasks._schema import rows_to_table


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 0, 0)).save(out, format="PNG")
    return out.getvalue()


def hub_folder(tmp_path):
    """A folder laid out like TIGER-Lab/VisPlotBench: README configs + <language>/test-*.parquet."""
    root = tmp_path / "VisPlotBench"
    rows = {
        "svg": [
            Task("svg_1", "Create a red square.", "Red fill.", "", ["svg"], "Diagramming", "icon", png())
        ],
        "python": [
            Task(
                "python_1",
                "Create a bar chart.",
                "Blue.",
                "a,b\n1,2\n",
                ["matplotlib"],
                "Bars",
                "vertical-bar",
                png(),
            ),
            Task(
                "python_2",
                "Create a line chart.",
                "Red.",
                "a,b\n1,2\n",
                ["plotly"],
                "Lines",
                "single-line",
                b"",
            ),
        ],
    }
    configs = []
    for lang, tasks in rows.items():
        (root / lang).mkdir(parents=True)
        pq.write_table(rows_to_table(tasks), root / lang / "test-00000-of-00001.parquet")
        configs.append(
            f"- config_name: {lang}\n  data_files:\n  - split: test\n    path: {lang}/test-*.parquet"
        )
    (root / "README.md").write_text("---\nconfigs:\n" + "\n".join(configs) + "\n---\n# test copy\n")
    return root


def test_local_hub_layout_folder_loads_through_datasets(tmp_path):
    tasks = load_tasks(str(hub_folder(tmp_path)), ["python", "svg"])
    assert [t.id for t in tasks] == ["python_1", "python_2", "svg_1"]
    first = tasks[0]
    assert first.language == "python" and first.used_lib == ["matplotlib"] and first.data == "a,b\n1,2\n"
    assert first.image == png() and tasks[1].image == b""


def test_limit_per_language(tmp_path):
    assert [t.id for t in load_tasks(str(hub_folder(tmp_path)), ["python"], limit=1)] == ["python_1"]


def test_parquet_file(tmp_path):
    path = hub_folder(tmp_path) / "python" / "test-00000-of-00001.parquet"
    assert [t.id for t in load_tasks(str(path), ["python"])] == ["python_1", "python_2"]


def test_unreachable_hub_names_the_offline_alternatives(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(RuntimeError, match="--tasks bundled"):
        load_tasks("hub", ["svg"])


def test_unknown_language_lists_choices():
    with pytest.raises(ValueError, match="vegalite"):
        load_tasks("bundled", ["klingon"])


def test_bundled_set_loads_through_datasets_like_the_hub():
    from visplotbench.tasks import BUNDLED_DIR

    via_datasets = load_tasks(str(BUNDLED_DIR), ["svg"])
    direct = load_tasks("bundled", ["svg"])
    assert [t.id for t in via_datasets] == [t.id for t in direct] and len(direct) >= 16
    assert all(t.image and t.code for t in direct)


def test_read_parquet_is_the_table_read_table_gives(tmp_path):
    from visplotbench.tasks._bundled import bundled_parquet
    from visplotbench.tasks._schema import read_parquet

    for path in (bundled_parquet("svg"), hub_folder(tmp_path) / "python" / "test-00000-of-00001.parquet"):
        direct, via_dataset = read_parquet(path), pq.read_table(path)
        assert direct.equals(via_dataset) and direct.schema.equals(via_dataset.schema, check_metadata=True)


def test_loading_tasks_does_not_import_pyarrow_dataset(tmp_path):
    """``pq.read_table`` imports ``pyarrow.dataset`` (~0.4 CPU-s) for nothing: one file is read directly."""
    import subprocess
    import sys

    path = hub_folder(tmp_path) / "python" / "test-00000-of-00001.parquet"
    code = (
        "import sys; from visplotbench.tasks import load_tasks; "
        f"assert load_tasks({str(path)!r}, ['python']) and load_tasks('bundled', ['svg']); "
        "assert 'pyarrow.dataset' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
