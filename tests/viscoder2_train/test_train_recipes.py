"""Recipes and launchers, resolved without loading a model: the 32b recipe is the paper's configuration."""

from __future__ import annotations

import pytest
import yaml
from viscoder2_train.config import gradient_accumulation_for

from viscoder2_train import launcher_config_path, list_recipes, load_recipe, plan_launch, resolve

SIZES = {
    "3b": "Qwen/Qwen2.5-Coder-3B-Instruct",
    "7b": "Qwen/Qwen2.5-Coder-7B-Instruct",
    "14b": "Qwen/Qwen2.5-Coder-14B-Instruct",
    "32b": "Qwen/Qwen2.5-Coder-32B-Instruct",
}


def test_the_bundled_recipes():
    assert set(list_recipes()) == {
        "3b",
        "7b",
        "14b",
        "32b",
        "7b-lora",
        "tiny",
        "tiny-lora",
        "grpo-tiny",
        "grpo-7b",
        "grpo-32b",
    }


def test_32b_resolves_to_the_papers_configuration():
    r = resolve(["--recipe", "32b"], world_size=8)  # one node of 8 GPUs, as in the paper
    t, m = r.training, r.model
    assert m.model_name_or_path == "Qwen/Qwen2.5-Coder-32B-Instruct"
    assert m.dtype == "bfloat16" and m.attn_implementation == "flash_attention_2" and not m.use_peft
    # batch: 2 per device (the script) x 8 GPUs x 4 accumulation = the paper's total batch of 64
    assert (
        t.per_device_train_batch_size == 2
        and t.gradient_accumulation_steps == 4
        and r.global_batch_size == 64
    )
    # optimisation
    assert t.learning_rate == 5e-6 and t.num_train_epochs == 3 and t.weight_decay == 0.05
    assert str(getattr(t.lr_scheduler_type, "value", t.lr_scheduler_type)) == "cosine"
    assert t.warmup_steps == 0.05 and t.get_warmup_steps(1000) == 50  # a ratio: 5 % of the steps
    assert t.bf16 is True and t.activation_checkpointing is True
    # SFT: packing to 16k tokens, assistant-only loss, over-long samples dropped rather than cut
    assert t.packing is True and t.packing_strategy == "bfd" and t.max_length == 16384
    assert t.assistant_only_loss is True and r.data.drop_overlong is True
    assert r.data.dataset_name == "TIGER-Lab/VisCode-Multi-679K" and r.data.dataset_split == "train"
    assert str(getattr(t.save_strategy, "value", t.save_strategy)) == "epoch" and t.logging_steps == 1
    assert t.dataset_num_proc == 8 and t.dataloader_num_workers == 8
    # launched with DeepSpeed ZeRO-3
    assert r.script.launcher == "zero3" and r.script.min_gpus == 8 and r.script.recipe == "32b"
    ds = yaml.safe_load(launcher_config_path("zero3").read_text())
    assert ds["distributed_type"] == "DEEPSPEED" and ds["deepspeed_config"]["zero_stage"] == 3
    assert ds["deepspeed_config"]["zero3_init_flag"] is True and ds["mixed_precision"] == "bf16"


def test_the_global_batch_stays_64_on_any_gpu_count():
    assert (
        resolve(["--recipe", "32b"], world_size=32).training.gradient_accumulation_steps == 1
    )  # 4 nodes: the script
    assert resolve(["--recipe", "32b"], world_size=16).training.gradient_accumulation_steps == 2
    with pytest.raises(ValueError, match="not a multiple"):
        gradient_accumulation_for(64, 2, 24)
    # the script's own per-node batch, on request
    assert resolve(["--recipe", "32b", "--global_batch_size", "16"], world_size=8).global_batch_size == 16


@pytest.mark.parametrize("size", sorted(SIZES))
def test_size_recipes_differ_only_in_model_output_and_sizing(size):
    ref, other = load_recipe("32b"), load_recipe(size)
    differing = {k for k in set(ref) | set(other) if ref.get(k) != other.get(k)}
    assert differing <= {"model_name_or_path", "output_dir", "min_gpus"}
    assert other["model_name_or_path"] == SIZES[size]


def test_flags_override_the_recipe_and_lora_variant_resolves():
    r = resolve(
        ["--recipe", "7b-lora", "--learning_rate", "3e-4", "--language_weights", "python=2,svg=0.5"],
        world_size=1,
    )
    assert r.model.use_peft and r.model.lora_r == 64 and r.model.lora_alpha == 128
    assert r.model.lora_target_modules == "all-linear" and r.script.merge_lora is True
    assert r.training.learning_rate == 3e-4 and r.global_batch_size == 64
    assert r.data.language_weights == {"python": 2.0, "svg": 0.5}


def test_tiny_recipes_are_cpu_recipes():
    for name in ("tiny", "tiny-lora"):
        r = resolve(["--recipe", name], world_size=1)
        assert r.script.launcher == "cpu" and r.script.tiny_model and r.data.dataset_name == "bundled"
        assert r.training.activation_checkpointing is False and r.training.bf16 is False
        assert r.training.packing and r.training.assistant_only_loss


def test_unknown_recipe_names_the_choices():
    with pytest.raises(ValueError, match=r"Bundled recipes: .*32b"):
        resolve(["--recipe", "33b"])


# --- launching -----------------------------------------------------------------------------------


def test_launch_plan_for_32b_on_one_node_of_8_gpus():
    plan = plan_launch("32b", gpus=8, environ={})
    assert plan.launcher == "zero3" and plan.config_file == launcher_config_path("zero3")
    assert plan.command[:3] == ["accelerate", "launch", "--config_file"]
    cmd = " ".join(plan.command)
    assert "--num_processes 8" in cmd and "-m viscoder2_train.sft --recipe 32b" in cmd
    assert "--gradient_accumulation_steps 4" in cmd and plan.global_batch == 64


def test_multi_node_takes_hosts_and_ranks_from_the_environment():
    env = {"NNODES": "4", "NODE_RANK": "2", "MASTER_ADDR": "10.1.2.3", "MASTER_PORT": "29601"}
    plan = plan_launch("32b", gpus=8, environ=env)
    assert plan.launcher == "multi_node"
    cmd = " ".join(plan.command)
    for part in (
        "--num_processes 32",
        "--num_machines 4",
        "--machine_rank 2",
        "--main_process_ip 10.1.2.3",
        "--main_process_port 29601",
        "--gradient_accumulation_steps 1",
    ):
        assert part in cmd
    torchrun_style = {"PET_NNODES": "2", "PET_NODE_RANK": "1", "PET_MASTER_ADDR": "node0"}
    assert "--machine_rank 1" in " ".join(plan_launch("32b", gpus=8, environ=torchrun_style).command)
    with pytest.raises(ValueError, match="MASTER_ADDR"):
        plan_launch("32b", gpus=8, environ={"NNODES": "2"})


def test_without_gpus_launch_prints_the_plan_and_the_needs_and_exits_2(capsys):
    from viscoder2_train.launch import main

    assert main(["32b", "--gpus", "0"]) == 2
    out, err = capsys.readouterr()
    assert "zero3" in out and "--num_processes 8" in out and "64 sequences per step" in out
    assert "no CUDA GPU" in out and "8 GPU(s) with 80 GB" in err
    assert main(["32b", "--gpus", "0", "--dry-run"]) == 0


def test_every_launcher_config_is_a_valid_accelerate_config():
    from accelerate.commands.config.config_args import load_config_from_file
    from viscoder2_train.launch import LAUNCHERS

    for name in LAUNCHERS[1:]:
        config = load_config_from_file(str(launcher_config_path(name)))
        assert config.compute_environment.value == "LOCAL_MACHINE"
    assert load_config_from_file(str(launcher_config_path("fsdp"))).distributed_type.value == "FSDP"
