"""The grpo-tiny recipe end to end on CPU: real renders as rewards, logged per step, the policy moves.

The policy is the ``tiny`` SFT recipe's model, fine-tuned first (by the GRPO script itself, through
``sft_base_recipe``) on a few short SVG / Vega-Lite answers (``rl_helpers``), then trained with GRPO on the
same instructions, with reference images rendered by the engine. Everything is real: the model, trl's
GRPOTrainer, the renders, the image metrics.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from rl_helpers import write_smoke_set
from train_helpers import make_snapshot_callback

pytestmark = pytest.mark.slow
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
STEPS = 6


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("grpo")
    sft, prompts = write_smoke_set(root / "data")
    return {"root": root, "sft": sft, "prompts": prompts, "policy": root / "policy"}


def _grpo_args(smoke: dict[str, Path], out: Path, *extra: str) -> list[str]:
    base_args = (
        f"--dataset_name {smoke['sft']} --model_name_or_path {smoke['root'] / 'base'} "
        "--num_train_epochs 60 --learning_rate 1e-2 --lr_scheduler_type constant --save_strategy no"
    )
    return [
        "--recipe", "grpo-tiny",
        "--model_name_or_path", str(smoke["policy"]),
        "--sft_base_args", base_args,
        "--prompt_source", str(smoke["prompts"]),
        "--output_dir", str(out),
        "--max_completion_length", "128",
        "--temperature", "0.3",  # the tiny SFT model is noisy; at 0.3 some of its programs render
        *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def single_turn(smoke):
    from viscoder2_train.grpo import run

    snapshot = make_snapshot_callback()
    out = smoke["root"] / "grpo"
    result = run(_grpo_args(smoke, out, "--max_steps", str(STEPS)), callbacks=[snapshot])
    return result, snapshot, out


def test_rewards_are_logged_every_step_and_come_from_real_renders(single_turn):
    result, _, out = single_turn
    assert [int(step) for step, _ in result.reward_curve] == list(range(1, STEPS + 1))
    assert set(result.component_curves) == {"renders", "visual", "format"}
    stats = result.reward_stats
    assert stats["renders"] > 0 and stats["scored"] == STEPS * 8
    assert stats["status_ok"] > 0 and stats["status_error"] > 0, stats  # some render, some do not
    assert stats.get("status_env_failure", 0) == 0
    rewards = [r for _, r in result.reward_curve]
    renders = [r for _, r in result.component_curves["renders"]]
    visual = [r for _, r in result.component_curves["visual"]]
    assert len(set(rewards)) > 1 and max(renders) > 0 and max(visual) > 0, (rewards, renders, visual)
    history = json.loads((out / "train_summary.json").read_text())["rl"]
    assert history["reward_curve"] == result.reward_curve
    print(
        f"grpo-tiny: {STEPS} steps, {result.train_runtime_s:.1f} s in train(); rewards {rewards}; stats {stats}"
    )


def test_every_trainable_parameter_of_the_policy_changed(single_turn):
    import torch

    _, snapshot, _ = single_turn
    before, after = snapshot.before, snapshot.after
    assert before and set(before) == set(after)
    unchanged = [name for name in before if torch.equal(before[name], after[name])]
    assert not unchanged, f"parameters that did not change: {unchanged}"


def test_the_model_card_records_the_rl_stage(single_turn, smoke):
    _, _, out = single_turn
    card = (out / "README.md").read_text()
    assert "## Reinforcement learning (GRPO)" in card and "- grpo" in card
    assert f"starting from `{smoke['policy']}`" in card and "`tiny` recipe" in card
    assert "| renders | 1.0 |" in card and "| visual | 1.0 |" in card and "| format | 0.2 |" in card
    assert "### Reward curve" in card and "| Step | Mean reward |" in card
    assert f"for {STEPS} optimizer steps" in card
    rl = json.loads((out / "train_summary.json").read_text())["rl"]
    assert rl["reward_weights"] == {"renders": 1.0, "visual": 1.0, "format": 0.2}
    assert rl["base_stage"]["recipe"] == "tiny" and rl["steps"] == STEPS
    assert (out / "model.safetensors").is_file() and (out / "resolved_config.yaml").is_file()


def test_self_debug_rollouts_feed_the_error_back_and_charge_the_rounds(single_turn, smoke):
    """K=1 repair round: failed first attempts get the engine's error as the next user turn."""
    from viscoder2_train.grpo import run

    out = smoke["root"] / "grpo-selfdebug"
    result = run(
        _grpo_args(smoke, out, "--max_steps", "2", "--self_debug_rounds", "1", "--reward_repair", "0.1")
    )
    repair = [value for _, value in result.component_curves["repair"]]
    assert len(repair) == 2 and all(-1.0 <= v < 0 for v in repair), repair  # rounds were used and charged
    # each completion's first turn is rendered by the rollout and its final reply scored from the cache
    assert result.reward_stats["scored"] > 2 * 8 and result.reward_stats["render_cache_hits"] > 0
    rl = json.loads((out / "train_summary.json").read_text())["rl"]
    assert rl["self_debug_rounds"] == 1 and rl["reward_weights"]["repair"] == 0.1
