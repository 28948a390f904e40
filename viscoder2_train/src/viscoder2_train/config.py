"""The two configuration dataclasses this package adds to trl's ``SFTConfig`` and ``ModelConfig``.

One dataclass per concern, as in trl: ``SFTConfig`` (optimisation, packing, ``max_length``, output,
Hub), ``ModelConfig`` (base model, dtype, attention, LoRA), ``DataConfig`` (where the chat samples
come from and how languages are mixed and filtered) and ``ScriptConfig`` (the recipe, batch
accounting, launching, model card). A recipe YAML and the command line fill all four; field names are
unique across them, so one flat YAML mapping works (``viscoder2-train sft --recipe 32b --help``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

VISCODE_MULTI = "TIGER-Lab/VisCode-Multi-679K"


def _help(text: str) -> dict[str, Any]:
    return {"help": text}


def parse_weights(value: dict[str, float] | str | None) -> dict[str, float]:
    """``{"python": 2, "svg": 0.5}``, its JSON text, or ``python=2,svg=0.5`` -> a dict of floats."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            raw = json.loads(text)
        else:
            raw = {}
            for part in text.split(","):
                key, sep, number = part.partition("=")
                if not sep:
                    raise ValueError(
                        f"language_weights: {part!r} is not LANGUAGE=WEIGHT (e.g. python=2,svg=0.5)."
                    )
                raw[key.strip()] = number
    else:
        raw = dict(value)
    weights = {str(k): float(v) for k, v in raw.items()}
    negative = [k for k, v in weights.items() if v < 0]
    if negative:
        raise ValueError(f"language_weights must be >= 0; got negative weights for {', '.join(negative)}.")
    return weights


@dataclass
class DataConfig:
    """Where the chat samples come from, and how languages are mixed and filtered.

    Attributes:
        dataset_name: a Hub dataset id (default: VisCode-Multi), a local folder in the dataset's Hub
            layout (parquet shards + README ``configs:``), a ``.jsonl``/``.json`` file, or ``bundled``
            (samples made from VisPlotBench's bundled task set; see ``viscoder2_train.bundled``).
            Every source needs the columns ``language`` and ``messages`` (list of ``{role, content}``;
            an assistant message with ``"loss": false`` is shown to the model but not learned).
        dataset_config: Hub/folder config name, when the dataset has several.
        dataset_split: split to train on.
        languages: keep only these languages (all when empty).
        language_weights: language -> weight. A weight multiplies that language's share: 2 repeats every
            sample twice, 0.5 keeps a random half, 0 drops the language; unlisted languages keep 1.
        max_samples: keep at most this many samples after mixing (quick runs), chosen at random.
        drop_overlong: drop samples whose tokenized conversation is longer than ``max_length`` (the
            original's ``truncation_strategy delete``) instead of letting packing cut them. The number
            dropped per language is logged and written to ``data_report.json`` and the model card.
        repair_turns: ``bundled`` only: also make repair dialogues where a break of the reference can be made.
    """

    dataset_name: str = field(
        default=VISCODE_MULTI, metadata=_help("Hub id, local Hub-layout folder, .jsonl file, or bundled")
    )
    dataset_config: str | None = field(default=None, metadata=_help("dataset config name"))
    dataset_split: str = field(default="train", metadata=_help("split to train on"))
    languages: list[str] | None = field(default=None, metadata=_help("keep only these languages"))
    language_weights: dict[str, float] | str | None = field(
        default=None, metadata=_help("per-language weights, e.g. python=2,svg=0.5 (0 drops a language)")
    )
    max_samples: int | None = field(default=None, metadata=_help("random cap on samples after mixing"))
    drop_overlong: bool = field(default=True, metadata=_help("drop samples longer than max_length tokens"))
    repair_turns: bool = field(default=True, metadata=_help("bundled: add repair dialogues"))

    def __post_init__(self) -> None:
        self.language_weights = parse_weights(self.language_weights)
        if self.max_samples is not None and self.max_samples < 1:
            raise ValueError(f"max_samples must be >= 1 (or unset), not {self.max_samples}.")


@dataclass
class ScriptConfig:
    """The recipe and everything around the training loop: batch accounting, launching, the card.

    Attributes:
        recipe: a recipe name (``viscoder2-train recipes`` lists them) or a YAML path; the same as
            ``--config <its file>``, and recorded in the model card.
        tiny_model: build a tiny random Qwen2 model and a tokenizer at ``model_name_or_path`` when that
            folder does not exist yet (the ``tiny`` recipes; nothing is downloaded).
        global_batch_size: sequences (packed rows) per optimizer step over all processes. When set,
            ``gradient_accumulation_steps`` is derived from the world size at start-up
            (global = per-device batch x processes x accumulation), so the recipe keeps the paper's batch
            on any number of GPUs; it must divide evenly.
        launcher: the accelerate config ``viscoder2-train launch`` uses for this recipe
            (``viscoder2-train launch --list`` lists them; ``cpu`` runs in this process).
        min_gpus: GPUs the recipe needs in total (0: runs on CPU); the launcher refuses fewer.
        min_gpu_memory_gb: memory per GPU the recipe was sized for.
        merge_lora: after LoRA training, also write the adapter merged into the base to ``<output_dir>/merged``.
        eval_run: a ``visplotbench run`` folder whose results go into the model card's evaluation table.
        hub_private: create the Hub repository as private when ``--push_to_hub`` creates it.
    """

    recipe: str | None = field(default=None, metadata=_help("recipe name or YAML path"))
    tiny_model: bool = field(default=False, metadata=_help("build a tiny random model at model_name_or_path"))
    global_batch_size: int | None = field(
        default=None, metadata=_help("sequences per optimizer step over all processes (sets accumulation)")
    )
    launcher: str = field(default="single_gpu", metadata=_help("accelerate config used by `launch`"))
    min_gpus: int = field(default=0, metadata=_help("GPUs the recipe needs in total"))
    min_gpu_memory_gb: int = field(default=0, metadata=_help("memory per GPU the recipe was sized for"))
    merge_lora: bool = field(default=False, metadata=_help("also save the LoRA adapter merged into the base"))
    eval_run: str | None = field(default=None, metadata=_help("visplotbench run folder for the card"))
    hub_private: bool = field(default=False, metadata=_help("create the Hub repo as private"))


def gradient_accumulation_for(global_batch_size: int, per_device_batch_size: int, world_size: int) -> int:
    """Accumulation steps that make ``global_batch_size`` from the per-device batch and the world size."""
    per_step = per_device_batch_size * world_size
    if global_batch_size % per_step:
        raise ValueError(
            f"global_batch_size {global_batch_size} is not a multiple of per_device_train_batch_size "
            f"{per_device_batch_size} x {world_size} processes = {per_step}. Choose a per-device batch or a "
            "number of GPUs that divides it, or unset global_batch_size and set gradient_accumulation_steps."
        )
    return global_batch_size // per_step
