"""Reinforcement learning with trl's ``GRPOTrainer``, the render engine as the reward.

# The tiny recipe on this machine (CPU, minutes; builds the tiny SFT checkpoint first when missing)
```bash
make train SIZE=tiny RECIPE=grpo              # = viscoder2-train launch grpo-tiny
viscoder2-train grpo --recipe grpo-tiny --max_steps 4
```

# From a VisCoder2 SFT checkpoint on GPUs (vLLM colocate, DeepSpeed ZeRO-3)
```bash
viscoder2-train launch grpo-7b --dry-run      # the plan and what it needs
viscoder2-train launch grpo-7b -- --model_name_or_path runs/train/viscoder2-7b
```

# Rewards, prompts and rollouts are recipe keys (and flags)
```bash
viscoder2-train grpo --recipe grpo-7b --reward_visual 2 --reward_format 0.1 \
    --reward_judge 1 --reward_judge_model openai:Qwen/Qwen2.5-VL-72B-Instruct \
    --reward_judge_options base_url=http://judge:8000/v1,concurrency=32 \
    --prompt_source /data/VisCode-Multi --prompt_languages python vegalite --self_debug_rounds 2
```

Configuration: trl's ``GRPOConfig`` and ``ModelConfig``, and ours: ``PromptConfig`` (``viscoder2_train.rl_data``),
``RewardConfig`` (``viscoder2_train.rewards``), ``RolloutConfig`` (``viscoder2_train.rollout``), ``ScriptConfig``.
The output folder gets the policy, its tokenizer, ``README.md`` (the model card, with the RL stage:
base checkpoint, reward weights, steps, reward curve), ``train_summary.json`` and ``resolved_config.yaml``.
"""

from __future__ import annotations

import logging
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from viscoder2_train.config import ScriptConfig
from viscoder2_train.recipes import apply_global_batch, expand_recipe_args
from viscoder2_train.rewards import RewardConfig, Rewarder
from viscoder2_train.rl_data import PromptConfig, load_prompt_dataset
from viscoder2_train.rollout import RolloutConfig

logger = logging.getLogger("viscoder2_train.grpo")


@dataclass
class GRPOResult:
    """What a finished ``grpo`` run produced.

    Attributes:
        output_dir: the policy, tokenizer, card and summaries.
        reward_curve: ``[step, mean reward]`` per logging step (the weighted sum trl optimises).
        component_curves: component -> ``[step, mean]`` per logging step.
        train_runtime_s: seconds in ``trainer.train()``.
        reward_stats: the rewarder's counters (scored, renders, cache hits, statuses, env failures).
    """

    output_dir: Path
    reward_curve: list[list[float]] = field(default_factory=list)
    component_curves: dict[str, list[list[float]]] = field(default_factory=dict)
    train_runtime_s: float = 0.0
    reward_stats: dict[str, int] = field(default_factory=dict)


def make_parser() -> Any:
    """trl's ``TrlParser`` over GRPOConfig, ModelConfig, PromptConfig, RewardConfig, RolloutConfig, ScriptConfig."""
    from trl import GRPOConfig, ModelConfig, TrlParser

    types: list[Any] = [GRPOConfig, ModelConfig, PromptConfig, RewardConfig, RolloutConfig, ScriptConfig]
    return TrlParser(types, prog="viscoder2-train grpo")


def parse(argv: list[str]) -> tuple[Any, ...]:
    """Parse ``viscoder2-train grpo`` arguments (``--recipe``/``--config`` and flags) into the six configs."""
    return tuple(make_parser().parse_args_and_config(expand_recipe_args(argv)))


def resolve(argv: list[str], world_size: int = 1) -> tuple[Any, ...]:
    """Parse a GRPO recipe as ``grpo`` would, for inspection (nothing is loaded or launched).

    ``world_size`` drives ``gradient_accumulation_steps`` when the recipe sets ``global_batch_size``; on a
    machine without an accelerator ``--use_cpu`` is added (a bf16 recipe cannot be built otherwise).
    """
    from viscoder2_train.recipes import _accelerator_present

    args = list(argv)
    if not _accelerator_present() and "--use_cpu" not in args:
        args += ["--use_cpu", "true"]
    configs = parse(args)
    apply_global_batch(configs[0], configs[5], world_size)
    return configs


def _ensure_base(model_path: str, rollout: RolloutConfig) -> None:
    """Build the starting checkpoint with an SFT recipe when it does not exist (RL starts from SFT)."""
    if (Path(model_path) / "config.json").is_file() or not rollout.sft_base_recipe:
        return
    from viscoder2_train.sft import run as run_sft

    args = [
        "--recipe",
        rollout.sft_base_recipe,
        "--output_dir",
        model_path,
        *shlex.split(rollout.sft_base_args),
    ]
    logger.info("%s does not exist: building it with `viscoder2-train sft %s`", model_path, shlex.join(args))
    run_sft(args)


def _curves(
    history: list[dict[str, Any]], weights: dict[str, float]
) -> tuple[list[list[float]], dict[str, Any]]:
    reward = [[h["step"], float(h["reward"])] for h in history if h.get("reward") is not None]
    components = {
        name: [
            [h["step"], float(h[f"rewards/{name}/mean"])]
            for h in history
            if h.get(f"rewards/{name}/mean") is not None
        ]
        for name in weights
    }
    return reward, components


def _rl_record(
    training: Any,
    model: Any,
    prompts: PromptConfig,
    rewards: RewardConfig,
    rollout: RolloutConfig,
    dataset: Any,
    result: GRPOResult,
    steps: int,
) -> dict[str, Any]:
    """What the model card says about the RL stage."""
    from viscoder2_train.card import TrainSummary

    base = Path(model.model_name_or_path)
    base_stage = {}
    if (base / "train_summary.json").is_file():
        before = TrainSummary.load(base)
        base_stage = {"recipe": before.recipe, "dataset": before.dataset, "steps": before.total_steps}
    languages: dict[str, int] = {}
    for lang in dataset["language"]:
        languages[lang] = languages.get(lang, 0) + 1
    return {
        "algorithm": "GRPO (trl GRPOTrainer)",
        "base_checkpoint": model.model_name_or_path,
        "base_stage": base_stage,
        "reward_weights": rewards.weights,
        "reward_settings": {
            "visual_metric": rewards.reward_visual_metric,
            "render_timeout_s": rewards.reward_render_timeout_s,
            "judge_model": rewards.reward_judge_model,
            "judge_kind": rewards.reward_judge_kind if rewards.reward_judge else None,
        },
        "prompts": {"source": prompts.prompt_source, "languages": languages},
        "num_generations": training.num_generations,
        "max_completion_length": training.max_completion_length,
        "beta": training.beta,
        "self_debug_rounds": rollout.self_debug_rounds,
        "steps": steps,
        "reward_curve": result.reward_curve,
        "component_curves": result.component_curves,
        "reward_stats": result.reward_stats,
    }


_HYPERPARAMETERS = (
    "learning_rate",
    "lr_scheduler_type",
    "num_train_epochs",
    "max_steps",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "num_generations",
    "max_completion_length",
    "temperature",
    "beta",
    "loss_type",
    "scale_rewards",
    "use_vllm",
    "vllm_mode",
    "bf16",
    "seed",
)


def _summary(
    training: Any,
    model: Any,
    script: ScriptConfig,
    prompts: PromptConfig,
    rl: dict[str, Any],
    loss: list[list[float]],
    runtime: float,
    world_size: int,
) -> Any:
    from viscoder2_train.card import TrainSummary, package_versions

    hp = {k: getattr(getattr(training, k), "value", getattr(training, k)) for k in _HYPERPARAMETERS}
    hp["world_size"] = world_size
    return TrainSummary(
        model_id=training.hub_model_id or Path(training.output_dir).name,
        base_model=model.model_name_or_path,
        recipe=script.recipe or "(flags only)",
        dataset=prompts.prompt_source,
        hyperparameters=hp,
        loss_curve=loss,
        train_runtime_s=runtime,
        total_steps=int(rl["steps"]),
        versions=package_versions(),
        rl=rl,
    )


def main(
    training_args: Any,
    model_args: Any,
    prompt_args: PromptConfig,
    reward_args: RewardConfig,
    rollout_args: RolloutConfig,
    script_args: ScriptConfig,
    callbacks: list[Any] | None = None,
) -> GRPOResult:
    """Train as configured; write the policy, card and summaries to ``output_dir``.

    ``callbacks`` go to the trainer (the tests snapshot every trainable parameter with one).
    """
    import yaml
    from transformers import AutoTokenizer
    from trl import GRPOTrainer, get_peft_config

    from viscoder2_train.card import write_model_card

    world_size = int(training_args.world_size)
    apply_global_batch(training_args, script_args, world_size)
    training_args.model_init_kwargs = {
        "revision": model_args.model_revision,
        "trust_remote_code": training_args.trust_remote_code,
        "attn_implementation": model_args.attn_implementation,
        "dtype": model_args.dtype,
        **(training_args.model_init_kwargs or {}),
    }
    with training_args.main_process_first(desc="building the base, loading prompts"):
        _ensure_base(model_args.model_name_or_path, rollout_args)
        dataset = load_prompt_dataset(prompt_args, seed=training_args.seed)
        tokenizer = AutoTokenizer.from_pretrained(
            model_args.model_name_or_path, revision=model_args.model_revision, padding_side="left"
        )
    rewarder = Rewarder(reward_args)
    if not rewarder.weights:
        raise ValueError("Every reward weight is 0: set at least one of reward_renders, reward_visual, ...")
    training_args.reward_weights = rewarder.reward_weights()
    rollout_func = None
    if rollout_args.self_debug_rounds:
        from viscoder2_train.self_debug import make_rollout_func

        rollout_func = make_rollout_func(rewarder, rollout_args.self_debug_rounds, dataset)
    try:
        trainer = GRPOTrainer(
            model=model_args.model_name_or_path,
            reward_funcs=rewarder.reward_funcs(),
            args=training_args,
            train_dataset=dataset,
            processing_class=tokenizer,
            peft_config=get_peft_config(model_args),
            callbacks=callbacks,
            rollout_func=rollout_func,
        )
        start = time.monotonic()
        trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
        runtime = time.monotonic() - start
    finally:
        rewarder.close()
    reward, components = _curves(trainer.state.log_history, rewarder.weights)
    out = Path(training_args.output_dir)
    trainer.save_model(str(out))
    result = GRPOResult(out, reward, components, runtime, dict(rewarder.stats))
    if trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(str(out))
        rl = _rl_record(
            training_args,
            model_args,
            prompt_args,
            reward_args,
            rollout_args,
            dataset,
            result,
            int(trainer.state.global_step),
        )
        loss = [[h["step"], float(h["loss"])] for h in trainer.state.log_history if "loss" in h]
        summary = _summary(training_args, model_args, script_args, prompt_args, rl, loss, runtime, world_size)
        write_model_card(out, summary, script_args.eval_run)
        resolved = {
            "grpo": training_args.to_dict(),
            "model": asdict(model_args),
            "prompts": asdict(prompt_args),
            "rewards": asdict(reward_args),
            "rollout": asdict(rollout_args),
            "script": asdict(script_args),
        }
        (out / "resolved_config.yaml").write_text(
            yaml.safe_dump(resolved, sort_keys=False, default_flow_style=None), encoding="utf-8"
        )
    trainer.accelerator.wait_for_everyone()
    trainer.accelerator.print(
        f"GRPO done in {runtime:.1f} s; reward {reward[0][1] if reward else float('nan'):.3f} -> "
        f"{reward[-1][1] if reward else float('nan'):.3f}; policy and card in {out}"
    )
    return result


def run(argv: list[str] | None = None, callbacks: list[Any] | None = None) -> GRPOResult:
    """Parse ``argv`` (``--recipe``/``--config`` and flags) and train."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    training, model, prompts, rewards, rollout, script = parse(list(sys.argv[1:] if argv is None else argv))
    return main(training, model, prompts, rewards, rollout, script, callbacks=callbacks)


__all__ = ["GRPOResult", "main", "make_parser", "resolve", "run"]

if __name__ == "__main__":
    run()
