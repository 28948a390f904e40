"""RL prompts: bundled tasks, a VisPlotBench parquet or folder, VisCode-Multi-style instruction datasets."""

from __future__ import annotations

import json

import pytest
from viscoder2_train.rl_data import PROMPT_COLUMNS, PromptConfig, load_prompt_dataset


def test_bundled_tasks_give_the_benchmarks_own_prompts_and_references():
    from visplotbench.prompts import build_messages, load_prompts
    from visplotbench.tasks import load_tasks

    ds = load_prompt_dataset(PromptConfig(prompt_languages=["svg", "vegalite"]))
    assert tuple(ds.column_names) == PROMPT_COLUMNS
    assert set(ds["language"]) == {"svg", "vegalite"} and len(ds) == 36
    task = load_tasks("bundled", ["svg"])[0]
    row = ds[ds["task_id"].index(task.id)]
    assert row["prompt"] == build_messages(task, load_prompts())
    assert row["reference_image"] == task.image and row["reference_image"].startswith(b"\x89PNG")
    assert row["task_text"] == f"{task.task__plot_description}\n{task.task__plot_style}"


def test_a_visplotbench_parquet_and_folder_are_read_as_tasks(tmp_path):
    from visplotbench.tasks import BUNDLED_DIR, bundled_parquet

    by_file = load_prompt_dataset(PromptConfig(prompt_source=str(bundled_parquet("mermaid"))))
    assert set(by_file["language"]) == {"mermaid"} and len(by_file) == 18
    by_folder = load_prompt_dataset(PromptConfig(prompt_source=str(BUNDLED_DIR), prompt_languages=["latex"]))
    assert set(by_folder["language"]) == {"latex"} and by_folder["data"][0] is not None


def _instruction_folder(root):
    """A VisCode-Multi-like folder in the Hub layout: README configs block + parquet shards."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        {
            "language": "svg",
            "messages": [
                {"role": "system", "content": "You draw."},
                {"role": "user", "content": "Draw a red square."},
                {"role": "assistant", "content": "```svg\n<svg/>\n```"},
                {"role": "user", "content": "fix it"},
                {"role": "assistant", "content": "```svg\n<svg/>\n```"},
            ],
            "image": {"bytes": b"\x89PNG fake", "path": None},
        },
        {
            "language": "mermaid",
            "messages": [
                {"role": "user", "content": "A flowchart from A to B."},
                {"role": "assistant", "content": "graph TD; A-->B"},
            ],
            "image": None,
        },
    ]
    (root / "data").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), root / "data" / "train-00000-of-00001.parquet")
    (root / "README.md").write_text(
        "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/train-*.parquet\n---\n"
    )
    return root


def test_an_instruction_folder_gives_the_turns_before_the_first_answer(tmp_path):
    ds = load_prompt_dataset(PromptConfig(prompt_source=str(_instruction_folder(tmp_path / "vcm"))))
    assert ds["language"] == ["svg", "mermaid"]
    assert ds["prompt"][0] == [
        {"role": "system", "content": "You draw."},
        {"role": "user", "content": "Draw a red square."},
    ]
    assert ds["task_text"][0] == "Draw a red square." and ds["reference_image"] == [b"\x89PNG fake", None]
    only = load_prompt_dataset(
        PromptConfig(prompt_source=str(tmp_path / "vcm"), prompt_languages=["mermaid"], prompt_format="chat")
    )
    assert only["task_id"] == ["mermaid_1"]


def test_jsonl_instructions_with_a_system_column_and_limits(tmp_path):
    path = tmp_path / "prompts.jsonl"
    rows = [
        {"language": "vegalite", "instruction": f"Chart {i}", "system": "Be brief.", "data": "a,b\n1,2"}
        for i in range(5)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    ds = load_prompt_dataset(PromptConfig(prompt_source=str(path), max_prompts=3), seed=1)
    assert len(ds) == 3 and ds["data"][0] == "a,b\n1,2"
    assert ds["prompt"][0][0] == {"role": "system", "content": "Be brief."}
    with pytest.raises(ValueError, match="no prompts left"):
        load_prompt_dataset(PromptConfig(prompt_source=str(path), require_reference=True))


def test_bad_sources_say_what_to_do(tmp_path, monkeypatch):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "x"}))
    with pytest.raises(ValueError, match="`language` column and `messages` or `instruction`"):
        load_prompt_dataset(PromptConfig(prompt_source=str(bad)))
    with pytest.raises(FileNotFoundError):
        load_prompt_dataset(PromptConfig(prompt_source="./missing-folder"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(RuntimeError, match="local copy"):
        load_prompt_dataset(PromptConfig(prompt_source="someone/not-reachable", prompt_format="chat"))
    with pytest.raises(ValueError, match="auto, tasks or chat"):
        PromptConfig(prompt_format="csv")
