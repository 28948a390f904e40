"""Data sources (Hub id, local Hub-layout folder, JSONL, bundled), language mixing, over-long drops."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from viscoder2_train.config import DataConfig, parse_weights
from viscoder2_train.data import load_chat_dataset, mix_languages, prepare_training_data

ROWS = [
    {
        "language": lang,
        "messages": [
            {"role": "user", "content": f"{lang} task {i}"},
            {"role": "assistant", "content": f"```{lang}\ncode {i}\n```"},
        ],
    }
    for lang, n in (("python", 4), ("svg", 2), ("html", 2))
    for i in range(n)
]


def _hub_layout_folder(root):
    """A dataset folder laid out as on the Hub: README configs block + parquet shards (+ an extra column)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (root / "data").mkdir(parents=True)
    rows = [{**r, "uuid": f"id-{i}"} for i, r in enumerate(ROWS)]
    half = len(rows) // 2
    for k, chunk in enumerate((rows[:half], rows[half:])):
        pq.write_table(pa.Table.from_pylist(chunk), root / "data" / f"train-0000{k}-of-00002.parquet")
    (root / "README.md").write_text(
        "---\nconfigs:\n- config_name: default\n  data_files:\n"
        "  - split: train\n    path: data/train-*.parquet\n---\n# VisCode-Multi (test)\n"
    )
    return root


def test_local_folder_in_the_hub_layout(tmp_path):
    ds = load_chat_dataset(DataConfig(dataset_name=str(_hub_layout_folder(tmp_path / "VisCode-Multi"))))
    assert ds.column_names == ["language", "messages"] and len(ds) == len(ROWS)
    assert sorted(ds["language"]) == sorted(r["language"] for r in ROWS)


def test_jsonl_file_and_language_filter(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    ds = load_chat_dataset(DataConfig(dataset_name=str(path), languages=["svg", "html"]))
    assert sorted(ds["language"]) == ["html", "html", "svg", "svg"]
    with pytest.raises(ValueError, match="no samples in the languages"):
        load_chat_dataset(DataConfig(dataset_name=str(path), languages=["mermaid"]))


def test_hub_id_unreachable_says_how_to_use_a_local_copy(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(RuntimeError, match="local copy"):
        load_chat_dataset(DataConfig(dataset_name="TIGER-Lab/VisCode-Multi-679K"))


def test_missing_columns_and_missing_files_are_explained(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"text": "hello"}) + "\n")
    with pytest.raises(ValueError, match="lacks the column"):
        load_chat_dataset(DataConfig(dataset_name=str(path)))
    with pytest.raises(FileNotFoundError):
        load_chat_dataset(DataConfig(dataset_name=str(tmp_path / "absent.jsonl")))


def test_language_weights_repeat_subsample_and_drop():
    import datasets

    ds = datasets.Dataset.from_list(ROWS)
    mixed = mix_languages(ds, {"python": 0.5, "svg": 2, "html": 0}, seed=0)
    langs = mixed["language"]
    assert langs.count("python") == 2 and langs.count("svg") == 4 and "html" not in langs
    assert mix_languages(ds, {}, seed=0) is ds
    assert len(mix_languages(ds, {}, seed=0, max_samples=3)) == 3
    with pytest.raises(ValueError, match="no samples"):
        mix_languages(ds, {"python": 0, "svg": 0, "html": 0})


def test_weights_parse_from_yaml_json_and_flags():
    assert parse_weights("python=2, svg=0.5") == {"python": 2.0, "svg": 0.5}
    assert parse_weights('{"python": 2}') == {"python": 2.0}
    assert parse_weights({"svg": 1}) == {"svg": 1.0}
    with pytest.raises(ValueError, match=">= 0"):
        parse_weights("python=-1")
    with pytest.raises(ValueError, match="LANGUAGE=WEIGHT"):
        parse_weights("python")


def test_overlong_samples_are_dropped_and_counted(tmp_path):
    import datasets
    from transformers import AutoTokenizer
    from viscoder2_train.tiny import build_tiny_model

    rows = [
        *ROWS,
        {
            "language": "svg",
            "messages": [
                {"role": "user", "content": "long"},
                {"role": "assistant", "content": "<rect/> " * 400},
            ],
        },
    ]
    tok = AutoTokenizer.from_pretrained(
        build_tiny_model(tmp_path / "m", corpus=[json.dumps(r) for r in rows])
    )
    lengths = sorted(
        len(tok.apply_chat_template(r["messages"], tokenize=True, return_dict=True)["input_ids"])
        for r in rows
    )
    limit = lengths[-2]  # everything fits except the long sample
    ds, report = prepare_training_data(
        DataConfig(dataset_name="x"), tok, limit, raw=datasets.Dataset.from_list(rows)
    )
    assert (
        len(ds) == len(ROWS) and report.dropped_overlong == {"svg": 1} and report.total_dropped_overlong == 1
    )
    assert report.read == {"html": 2, "python": 4, "svg": 3} and report.trained == {
        "html": 2,
        "python": 4,
        "svg": 2,
    }
    assert "1 dropped as longer than" in report.summary()
    kept, report = prepare_training_data(
        DataConfig(dataset_name="x", drop_overlong=False), tok, None, raw=datasets.Dataset.from_list(rows)
    )
    assert len(kept) == len(rows) and report.total_dropped_overlong == 0


def test_bundled_samples_pair_instructions_with_reference_code_and_repairs():
    from viscoder2_train.bundled import bundled_languages, make_bundled_samples
    from visplotbench.tasks import load_tasks

    langs = bundled_languages()
    assert "vegalite" in langs and "svg" in langs
    samples = make_bundled_samples(["vegalite", "svg"])
    tasks = {t.id: t for t in load_tasks("bundled", ["vegalite", "svg"])}
    instructions = [s for s in samples if s["source"].endswith(":instruction")]
    repairs = [s for s in samples if s["source"].endswith(":repair")]
    assert len(instructions) == len(tasks) and repairs
    for sample in instructions:
        task = tasks[sample["source"].split(":")[0]]
        roles = [m["role"] for m in sample["messages"]]
        assert roles == ["system", "user", "assistant"]
        assert sample["messages"][-1]["content"] == f"```{task.language}\n{task.code.strip()}\n```"
    for sample in repairs:
        _system, _user, broken, feedback, fixed = sample["messages"]
        assert broken["loss"] is False and "loss" not in fixed and feedback["role"] == "user"
        assert "failed with this error" in feedback["content"]
        code = broken["content"].split("\n", 1)[1].rsplit("\n```", 1)[0]
        if sample["language"] == "vegalite":
            with pytest.raises(json.JSONDecodeError):
                json.loads(code)
        else:
            with pytest.raises(ET.ParseError):
                ET.fromstring(code)
    with pytest.raises(ValueError, match="bundled languages"):
        make_bundled_samples(["klingon"])


def test_python_and_latex_breaks_are_certain_failures():
    from viscoder2_train.bundled import _break_latex, _break_python

    broken, error = _break_python(
        "import numpy as np\nimport matplotlib.pyplot as plt\nplt.plot(np.arange(3))\n"
    )
    assert "import numpy as np" not in broken and error == "NameError: name 'np' is not defined"
    assert (
        _break_python("import matplotlib.pyplot as plt\nprint(1)\n") is None
    )  # alias never used: no failure
    broken, error = _break_latex("\\documentclass{standalone}\\begin{document}x\\end{document}")
    assert "\\end{document}" not in broken and "no legal \\end found" in error
