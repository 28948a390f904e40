"""GRPO recipes and their launch plans, resolved without loading a model; the self-debug turn's tokens."""

from __future__ import annotations

import subprocess
import sys

import pytest

from viscoder2_train import plan_launch


def test_grpo_tiny_is_a_cpu_recipe_starting_from_the_tiny_sft_checkpoint():
    from viscoder2_train.grpo import resolve

    training, model, prompts, rewards, rollout, script = resolve(["--recipe", "grpo-tiny"])
    assert script.launcher == "cpu" and rollout.stage == "grpo" and rollout.sft_base_recipe == "tiny"
    assert model.model_name_or_path == "runs/train/viscoder2-tiny" and not training.use_vllm
    assert prompts.prompt_source == "bundled" and rewards.weights == {
        "renders": 1.0,
        "visual": 1.0,
        "format": 0.2,
    }
    assert training.logging_steps == 1 and training.num_generations == 4
    plan = plan_launch("grpo-tiny")
    assert plan.launcher == "cpu" and plan.command[1:4] == ["-m", "viscoder2_train.grpo", "--recipe"]


@pytest.mark.parametrize("size", ["7b", "32b"])
def test_big_recipes_resolve_with_vllm_zero3_and_128_completions_per_step(size):
    from viscoder2_train.grpo import resolve

    gpus = {"7b": 8, "32b": 16}[size]
    training, model, prompts, rewards, _, script = resolve(["--recipe", f"grpo-{size}"], world_size=gpus)
    assert training.use_vllm and training.vllm_mode == ("colocate" if size == "7b" else "server")
    assert training.bf16 and training.activation_checkpointing and model.dtype == "bfloat16"
    per_step = training.per_device_train_batch_size * gpus * training.gradient_accumulation_steps
    assert per_step == script.global_batch_size == 128 and per_step % training.num_generations == 0
    assert script.launcher == "zero3" and script.min_gpus == gpus and prompts.prompt_format == "chat"
    assert rewards.weights["renders"] == 1.0 and rewards.reward_render_timeout_s == 10


def test_without_gpus_grpo_prints_the_plan_and_its_needs_and_exits_2(capsys):
    from viscoder2_train.launch import main

    assert main(["grpo-7b", "--gpus", "0"]) == 2
    out, err = capsys.readouterr()
    assert "-m viscoder2_train.grpo --recipe grpo-7b" in out and "--num_processes 8" in out
    assert "vLLM colocated" in out and "vLLM (pip install vllm)" in err
    assert main(["grpo-32b", "--gpus", "0", "--dry-run"]) == 0
    out, _ = capsys.readouterr()
    assert "trl vllm-serve --model TIGER-Lab/VisCoder2-32B --tensor_parallel_size 4" in out
    assert "run on 2 nodes" in out


def test_grpo_32b_over_two_nodes_uses_the_multi_node_launcher():
    env = {"NNODES": "2", "NODE_RANK": "1", "MASTER_ADDR": "node0"}
    plan = plan_launch(
        "grpo-32b", gpus=8, environ=env, extra_args=["--vllm_server_base_url", "http://v:8000"]
    )
    cmd = " ".join(plan.command)
    assert plan.launcher == "multi_node" and "--num_processes 16" in cmd and "--machine_rank 1" in cmd
    assert "--gradient_accumulation_steps 4" in cmd and cmd.endswith("--vllm_server_base_url http://v:8000")
    assert plan.global_batch == 128


def test_make_train_recipe_grpo_picks_the_grpo_recipe_of_the_size():
    out = subprocess.run(
        ["make", "-n", "train", "SIZE=tiny", "RECIPE=grpo"], capture_output=True, text=True, check=True
    ).stdout
    assert "viscoder2-train launch grpo-tiny" in out
    plain = subprocess.run(
        ["make", "-n", "train", "SIZE=7b"], capture_output=True, text=True, check=True
    ).stdout
    assert "viscoder2-train launch 7b" in plain


def test_the_feedback_turn_is_appended_to_the_generated_tokens_exactly():
    """The tokens between two assistant turns are the benchmark's feedback turn in the chat template."""
    from viscoder2_train.self_debug import _segment
    from viscoder2_train.tiny import build_tokenizer
    from visplotbench.harness import feedback

    tok = build_tokenizer()
    prompt = [{"role": "user", "content": "Draw a box."}]
    reply = "```svg\n<svg>\n```"
    generated = reply + "<|im_end|>"
    text = feedback("svg", "error", "ParseError: no element found: line 2")
    ids = _segment(tok, [*prompt, {"role": "assistant", "content": reply}], generated, text)
    assert tok.decode(ids) == f"\n<|im_start|>user\n{text}<|im_end|>\n<|im_start|>assistant\n"
    assert "ParseError: no element found" in text and "```svg" in text
    with pytest.raises(ValueError, match="rewrites it"):
        _segment(tok, [*prompt, {"role": "assistant", "content": reply}], "something else", text)


def test_rewards_import_without_torch():
    code = "import sys, viscoder2_train.rewards, viscoder2_train.rl_data; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
