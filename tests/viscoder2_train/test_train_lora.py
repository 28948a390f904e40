"""The LoRA path (tiny-lora, the CPU twin of 7b-lora): only the adapter trains, every adapter weight moves,
and the merged model computes what base + adapter compute."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory):
    from train_helpers import make_snapshot_callback
    from viscoder2_train.sft import run

    root = tmp_path_factory.mktemp("lora")
    snapshot = make_snapshot_callback()
    result = run(
        [
            "--recipe",
            "tiny-lora",
            "--model_name_or_path",
            str(root / "base"),
            "--output_dir",
            str(root / "out"),
            "--languages",
            "vegalite",
            "--max_steps",
            "10",
        ],
        callbacks=[snapshot],
    )
    return root, result, snapshot


def test_only_lora_weights_train_and_all_of_them_change(lora_run):
    import torch

    _, result, snapshot = lora_run
    assert snapshot.before and all("lora_" in name for name in snapshot.before), list(snapshot.before)[:5]
    unchanged = [n for n in snapshot.before if torch.equal(snapshot.before[n], snapshot.after[n])]
    assert not unchanged, unchanged
    curve = [loss for _, loss in result.loss_curve]
    assert sum(curve[-3:]) / 3 < sum(curve[:3]) / 3, curve


def test_adapter_is_saved_and_merges_into_an_equivalent_standalone_model(lora_run):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    root, result, _ = lora_run
    out = root / "out"
    assert (out / "adapter_model.safetensors").is_file() and (out / "adapter_config.json").is_file()
    assert result.merged_dir == out / "merged"
    assert (out / "merged" / "model.safetensors").is_file() and (out / "merged" / "README.md").is_file()
    assert "library_name: peft" in (out / "README.md").read_text()

    ids = torch.tensor([[5, 17, 42, 99, 7, 250, 3]])
    base = AutoModelForCausalLM.from_pretrained(root / "base").eval()
    with torch.no_grad():
        base_logits = base(ids).logits
        adapted = PeftModel.from_pretrained(base, out).eval()
        adapted_logits = adapted(ids).logits
        merged = AutoModelForCausalLM.from_pretrained(out / "merged").eval()
        merged_logits = merged(ids).logits
    assert not any("lora" in name for name, _ in merged.named_parameters())
    assert torch.allclose(merged_logits, adapted_logits, atol=1e-4)
    assert not torch.allclose(merged_logits, base_logits, atol=1e-3)
