"""The tiny recipe end to end: it trains, learns, changes every weight, saves, reloads and generates."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


def test_tiny_recipe_trains_and_its_loss_goes_down(tiny_run):
    curve = [loss for _, loss in tiny_run.result.loss_curve]
    assert len(curve) >= 10, curve
    first, last = sum(curve[:3]) / 3, sum(curve[-3:]) / 3
    assert last < first - 0.5, f"loss did not go down: {curve}"
    print(
        f"tiny run: {len(curve)} steps, {tiny_run.result.train_runtime_s:.1f} s in train(), "
        f"{tiny_run.wall_s:.1f} s in all; loss {curve[0]:.3f} -> {curve[-1]:.3f}"
    )


def test_every_trainable_parameter_changed(tiny_run):
    import torch

    before, after = tiny_run.snapshot.before, tiny_run.snapshot.after
    assert before and set(before) == set(after)
    unchanged = [name for name in before if torch.equal(before[name], after[name])]
    assert not unchanged, f"parameters that did not change: {unchanged}"


def test_saved_weights_differ_from_the_base_in_every_tensor(tiny_run):
    from safetensors.torch import load_file

    base = load_file(tiny_run.base / "model.safetensors")
    trained = load_file(tiny_run.out / "model.safetensors")
    assert set(base) == set(trained)
    assert all(not base[k].equal(trained[k]) for k in base)


def test_checkpoint_reloads_and_generates(tiny_run):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_run.out)
    model = AutoModelForCausalLM.from_pretrained(tiny_run.out).eval()
    ids = tok.apply_chat_template(
        [{"role": "user", "content": "Draw a bar chart."}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )["input_ids"]
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=12, do_sample=False)
    assert out.shape[1] > ids.shape[1]
    with torch.no_grad():  # greedy decoding of the reloaded checkpoint is reproducible
        assert torch.equal(model.generate(ids, max_new_tokens=12, do_sample=False), out)
    # the per-epoch checkpoint is a complete model too
    checkpoints = sorted(tiny_run.out.glob("checkpoint-*"))
    assert checkpoints, "save_strategy epoch wrote no checkpoint"
    from safetensors.torch import load_file

    assert set(load_file(checkpoints[-1] / "model.safetensors")) == set(
        load_file(tiny_run.out / "model.safetensors")
    )


def test_output_folder_has_card_config_and_data_report(tiny_run):
    out = tiny_run.out
    card = (out / "README.md").read_text()
    assert "library_name: transformers" in card and "## Training data" in card and "| vegalite |" in card
    assert (
        "| learning_rate | 0.002 |" in card
        and "| max_length | 2048 |" in card
        and "| packing | True |" in card
    )
    assert "### Training loss" in card and "## Evaluation" in card
    report = json.loads((out / "data_report.json").read_text())
    assert report["read"] == {"vegalite": 36}
    assert report["total_trained"] + report["total_dropped_overlong"] == 36
    assert report["dropped_overlong"] == {"vegalite": report["total_dropped_overlong"]}
    assert "total_dropped_overlong" in report and f"({report['total_dropped_overlong']} here)" in card
    resolved = (out / "resolved_config.yaml").read_text()
    assert "assistant_only_loss: true" in resolved and "recipe: tiny" in resolved


def test_push_to_hub_uploads_the_final_folder_with_its_card(tiny_run):
    calls = tiny_run.hub_calls
    assert [c[0] for c in calls] == ["create_repo", "upload_folder"]
    create, upload = calls[0][1], calls[1][1]
    assert create["repo_id"] == "someone/viscoder2-tiny-test" and create["exist_ok"] is True
    assert upload["repo_id"] == "someone/viscoder2-tiny-test"
    assert upload["folder_path"] == str(tiny_run.out)
    assert "checkpoint-*" in upload["ignore_patterns"]
    assert {"README.md", "model.safetensors", "tokenizer.json", "config.json"} <= set(upload["present"])
    assert "someone/viscoder2-tiny-test" in (tiny_run.out / "README.md").read_text()
