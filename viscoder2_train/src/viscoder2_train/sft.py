"""Supervised fine-tuning of VisCoder2 models with trl's ``SFTTrainer``.

# The tiny recipe on this machine (CPU, about a minute; builds a tiny random model, no download)
```bash
viscoder2-train sft --recipe tiny
```

# The paper's 32B recipe: 8 GPUs per node, DeepSpeed ZeRO-3 (`make train SIZE=32b` prints and runs this)
```bash
accelerate launch --config_file "$(viscoder2-train launch --config-path zero3)" \
    -m viscoder2_train.sft --recipe 32b
```

# Any recipe with overrides (every SFTConfig / ModelConfig / DataConfig / ScriptConfig field is a flag)
```bash
viscoder2-train sft --recipe 7b --dataset_name /data/VisCode-Multi-679K \
    --language_weights python=1,html=0.5 --output_dir runs/train/my-7b \
    --push_to_hub --hub_model_id me/VisCoder2-7B-repro
```

# LoRA, merged into the base at the end
```bash
viscoder2-train sft --recipe tiny-lora            # CPU
viscoder2-train launch 7b-lora                    # GPUs
```

# Evaluate the result
```bash
visplotbench run --model transformers:runs/train/viscoder2-tiny --languages svg --limit 2 --out runs/eval-tiny
viscoder2-train card runs/train/viscoder2-tiny --eval-run runs/eval-tiny
```
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from viscoder2_train.config import DataConfig, ScriptConfig
from viscoder2_train.data import DataReport
from viscoder2_train.hub import check_repo_id, prepare_push, push
from viscoder2_train.recipes import apply_global_batch, make_parser, parse

logger = logging.getLogger("viscoder2_train.sft")


@dataclass
class TrainResult:
    """What a finished ``sft`` run produced.

    Attributes:
        output_dir: the final model (or adapter), tokenizer, model card and summaries.
        loss_curve: ``[step, loss]`` per logging step.
        train_runtime_s: seconds in ``trainer.train()``.
        data: what happened to the samples.
        merged_dir: the LoRA adapter merged into its base, when ``merge_lora``.
        hub_url: the Hub repository, when pushed.
    """

    output_dir: Path
    loss_curve: list[list[float]] = field(default_factory=list)
    train_runtime_s: float = 0.0
    data: DataReport | None = None
    merged_dir: Path | None = None
    hub_url: str | None = None


def _ensure_tiny_model(path: str, data: Any, seed: int) -> None:
    from viscoder2_train.tiny import build_tiny_model

    if (Path(path) / "config.json").is_file():
        return
    texts = [m["content"] for messages in data["messages"] for m in messages]
    logger.info("Building a tiny random Qwen2 model and tokenizer at %s (tiny_model: true)", path)
    build_tiny_model(path, corpus=texts, seed=seed)


def _summary(
    training: Any,
    model: Any,
    data: DataConfig,
    script: ScriptConfig,
    report: DataReport,
    curve: list[list[float]],
    runtime: float,
    steps: int,
    world_size: int,
) -> Any:
    from viscoder2_train.card import HYPERPARAMETERS, TrainSummary, package_versions

    hp = {
        k: getattr(getattr(training, k), "value", getattr(training, k))
        for k in HYPERPARAMETERS
        if hasattr(training, k)
    }
    hp["world_size"] = world_size
    hp["global_batch_size"] = (
        training.per_device_train_batch_size * training.gradient_accumulation_steps * world_size
    )
    hp["dtype"] = model.dtype
    lora = (
        {
            "r": model.lora_r,
            "alpha": model.lora_alpha,
            "dropout": model.lora_dropout,
            "target_modules": model.lora_target_modules,
        }
        if model.use_peft
        else {}
    )
    return TrainSummary(
        model_id=training.hub_model_id or Path(training.output_dir).name,
        base_model=model.model_name_or_path,
        recipe=script.recipe or "(flags only)",
        dataset=data.dataset_name,
        hyperparameters=hp,
        data=report.to_json(),
        loss_curve=curve,
        train_runtime_s=runtime,
        total_steps=steps,
        versions=package_versions(),
        lora=lora,
    )


def main(
    training_args: Any,
    model_args: Any,
    data_args: DataConfig,
    script_args: ScriptConfig,
    callbacks: list[Any] | None = None,
) -> TrainResult:
    """Train as configured; write the model, card and summaries to ``output_dir``; push when asked.

    ``callbacks`` are ``transformers.TrainerCallback`` objects handed to the trainer (the tests use one to
    compare every trainable parameter before and after training).
    """
    import yaml
    from transformers import AutoTokenizer
    from trl import SFTTrainer, get_peft_config

    from viscoder2_train.card import write_model_card
    from viscoder2_train.data import load_chat_dataset, prepare_training_data

    world_size = int(training_args.world_size)
    apply_global_batch(training_args, script_args, world_size)
    # The upload happens once, at the end, with our model card; the Trainer's own pushing is turned off.
    push_to_hub, training_args.push_to_hub = training_args.push_to_hub, False
    if push_to_hub:  # checked now, not after hours of training
        check_repo_id(training_args.hub_model_id)

    training_args.model_init_kwargs = {
        "revision": model_args.model_revision,
        "trust_remote_code": training_args.trust_remote_code,
        "attn_implementation": model_args.attn_implementation,
        "dtype": model_args.dtype,
        **(training_args.model_init_kwargs or {}),
    }
    with training_args.main_process_first(desc="loading data and tokenizer"):
        raw = load_chat_dataset(data_args)
        if script_args.tiny_model:
            _ensure_tiny_model(model_args.model_name_or_path, raw, training_args.seed)
        tokenizer = AutoTokenizer.from_pretrained(
            model_args.model_name_or_path,
            revision=model_args.model_revision,
            trust_remote_code=training_args.trust_remote_code,
        )
        train_dataset, report = prepare_training_data(
            data_args,
            tokenizer,
            training_args.max_length if data_args.drop_overlong else None,
            seed=training_args.seed,
            num_proc=training_args.dataset_num_proc,
            raw=raw,
        )
    report.max_length = training_args.max_length
    logger.info(report.summary())

    trainer = SFTTrainer(
        model=model_args.model_name_or_path,
        args=training_args,
        train_dataset=train_dataset,
        processing_class=tokenizer,
        peft_config=get_peft_config(model_args),
        callbacks=callbacks,
    )
    start = time.monotonic()
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    runtime = time.monotonic() - start
    curve = [[h["step"], float(h["loss"])] for h in trainer.state.log_history if "loss" in h]

    out = Path(training_args.output_dir)
    trainer.save_model(str(out))
    result = TrainResult(output_dir=out, loss_curve=curve, train_runtime_s=runtime, data=report)
    if trainer.accelerator.is_main_process:
        summary = _summary(
            training_args,
            model_args,
            data_args,
            script_args,
            report,
            curve,
            runtime,
            trainer.state.global_step,
            world_size,
        )
        (out / "data_report.json").write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
        resolved = {
            "sft": training_args.to_dict(),
            "model": asdict(model_args),
            "data": asdict(data_args),
            "script": asdict(script_args),
        }
        (out / "resolved_config.yaml").write_text(
            yaml.safe_dump(resolved, sort_keys=False, default_flow_style=None), encoding="utf-8"
        )
        write_model_card(out, summary, script_args.eval_run)
        if model_args.use_peft and script_args.merge_lora:
            result.merged_dir = _merge(trainer, tokenizer, out / "merged")
            write_model_card(result.merged_dir, summary, script_args.eval_run)
        if push_to_hub:
            plan = prepare_push(out, training_args.hub_model_id, private=script_args.hub_private)
            result.hub_url = push(plan, token=training_args.hub_token)
            logger.info("Pushed %d files to %s", len(plan.files), result.hub_url)
    trainer.accelerator.wait_for_everyone()
    trainer.accelerator.print(f"Training done in {runtime:.1f} s; model and card in {out}")
    if hasattr(trainer, "end"):
        trainer.end()
    return result


def _merge(trainer: Any, tokenizer: Any, folder: Path) -> Path:
    """Merge the trained LoRA adapter into its base weights and save a standalone model."""
    model = trainer.accelerator.unwrap_model(trainer.model)
    merged = model.merge_and_unload()
    merged.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder


def run(argv: list[str] | None = None, callbacks: list[Any] | None = None) -> TrainResult:
    """Parse ``argv`` (``--recipe``/``--config`` and flags) and train."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    training_args, model_args, data_args, script_args = parse(list(sys.argv[1:] if argv is None else argv))
    return main(training_args, model_args, data_args, script_args, callbacks)


__all__ = ["TrainResult", "main", "make_parser", "run"]

if __name__ == "__main__":
    run()
