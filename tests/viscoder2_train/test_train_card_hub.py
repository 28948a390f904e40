"""Model cards and the preparation of a Hub upload (the upload itself is one thin call)."""

from __future__ import annotations

import pytest
from train_helpers import FakeHfApi
from viscoder2_train.card import TrainSummary, render_model_card, write_model_card
from viscoder2_train.hub import prepare_push, push


def _summary(**kw):
    base = dict(
        model_id="me/VisCoder2-7B-repro",
        base_model="Qwen/Qwen2.5-Coder-7B-Instruct",
        recipe="7b",
        dataset="TIGER-Lab/VisCode-Multi-679K",
        hyperparameters={"learning_rate": 5e-6, "max_length": 16384, "global_batch_size": 64},
        data={
            "read": {"python": 10, "svg": 5},
            "mixed": {"python": 10, "svg": 5},
            "dropped_overlong": {"svg": 1},
            "trained": {"python": 10, "svg": 4},
            "max_length": 16384,
            "total_dropped_overlong": 1,
            "tokens": 1000,
            "assistant_tokens": 400,
        },
        loss_curve=[[1, 2.0], [2, 1.5], [3, 1.2]],
        train_runtime_s=12.5,
        total_steps=3,
    )
    return TrainSummary(**{**base, **kw})


def test_card_states_base_model_data_recipe_hyperparameters_and_loss():
    card = render_model_card(_summary())
    assert card.startswith("---\nbase_model: Qwen/Qwen2.5-Coder-7B-Instruct\n")
    assert "datasets:\n- TIGER-Lab/VisCode-Multi-679K" in card and "license: apache-2.0" in card
    assert "# me/VisCoder2-7B-repro" in card and "Recipe: `7b`" in card
    assert "| svg | 5 | 5 | 1 | 4 |" in card and "(1 here)" in card
    assert "| learning_rate | 5e-06 |" in card and "| global_batch_size | 64 |" in card
    assert "| 3 | 1.2000 |" in card and "Not evaluated yet" in card


def test_card_with_a_local_base_model_has_no_hub_link():
    card = render_model_card(_summary(base_model="/tmp/some/model", dataset="bundled"))
    assert "base_model:" not in card and "huggingface.co//" not in card and "datasets:" not in card


def test_card_round_trips_through_the_summary_file(tmp_path):
    write_model_card(tmp_path, _summary())
    assert TrainSummary.load(tmp_path) == _summary()
    with pytest.raises(FileNotFoundError, match=r"train_summary\.json"):
        TrainSummary.load(tmp_path / "nothing")


def _checkpoint_folder(root):
    root.mkdir()
    for name in ("model.safetensors", "config.json", "tokenizer.json", "README.md"):
        (root / name).write_text("x")
    (root / "checkpoint-10").mkdir()
    (root / "checkpoint-10" / "optimizer.pt").write_text("x")
    return root


def test_prepare_push_lists_the_final_model_and_leaves_checkpoints_out(tmp_path):
    plan = prepare_push(_checkpoint_folder(tmp_path / "out"), "me/model", private=True)
    assert plan.files == ["README.md", "config.json", "model.safetensors", "tokenizer.json"]
    assert plan.private and plan.url == "https://huggingface.co/me/model"


def test_prepare_push_explains_what_is_missing(tmp_path):
    folder = _checkpoint_folder(tmp_path / "out")
    for bad in (None, "model", "a/b/c", "me/ bad"):
        with pytest.raises(ValueError, match="owner/name"):
            prepare_push(folder, bad)
    (folder / "README.md").unlink()
    with pytest.raises(FileNotFoundError, match="viscoder2-train card"):
        prepare_push(folder, "me/model")
    (folder / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="no model weights"):
        prepare_push(folder, "me/model")


def test_a_merged_lora_model_is_what_gets_pushed(tmp_path):
    out = _checkpoint_folder(tmp_path / "out")
    (out / "model.safetensors").unlink()
    (out / "adapter_model.safetensors").write_text("x")
    _checkpoint_folder(out / "merged")
    assert prepare_push(out, "me/model").folder == out / "merged"


def test_push_creates_the_repo_then_uploads_the_folder(tmp_path):
    FakeHfApi.calls = []
    plan = prepare_push(_checkpoint_folder(tmp_path / "out"), "me/model")
    assert push(plan, api=FakeHfApi()) == "https://huggingface.co/me/model"
    (create, c_args), (upload, u_args) = FakeHfApi.calls
    assert (create, upload) == ("create_repo", "upload_folder")
    assert c_args == {"repo_id": "me/model", "repo_type": "model", "private": False, "exist_ok": True}
    assert (
        u_args["folder_path"] == str(tmp_path / "out") and u_args["ignore_patterns"] == plan.ignore_patterns
    )


def test_push_to_hub_without_a_valid_repo_id_fails_before_any_training(tmp_path):
    from viscoder2_train.sft import run

    with pytest.raises(ValueError, match="owner/name"):
        run(
            [
                "--recipe",
                "tiny",
                "--output_dir",
                str(tmp_path / "out"),
                "--model_name_or_path",
                str(tmp_path / "base"),
                "--push_to_hub",
                "--hub_model_id",
                "no-owner",
            ]
        )
    assert not (tmp_path / "base").exists() and not (tmp_path / "out").exists()
