"""Recipes: YAML files that fill trl's ``SFTConfig`` / ``ModelConfig`` and our ``DataConfig`` / ``ScriptConfig``.

The recipes ship inside the package (``viscoder2_train/recipes/<name>.yaml``); ``--recipe NAME`` finds
one by name, ``--recipe path.yaml`` (or trl's ``--config path.yaml``) takes any file. Command-line
flags override the file. ``resolve([...])`` parses exactly as ``viscoder2-train sft`` does, without
loading a model or data, so a recipe can be checked on any machine.

Adding a recipe: copy the nearest YAML in ``recipes/``, change what differs, keep the comment header
(what it trains, where the numbers come from), and add it to ``tests/viscoder2_train/test_recipes.py``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from viscoder2_train.config import DataConfig, ScriptConfig, gradient_accumulation_for

logger = logging.getLogger(__name__)


def recipes_dir() -> Path:
    return Path(str(resources.files("viscoder2_train") / "recipes"))


def list_recipes() -> list[str]:
    """Names of the bundled recipes."""
    return sorted(p.stem for p in recipes_dir().glob("*.yaml"))


def recipe_path(name_or_path: str) -> Path:
    """The YAML file of a bundled recipe name, or the given path when it is a file."""
    path = Path(name_or_path).expanduser()
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path
    bundled = recipes_dir() / f"{name_or_path}.yaml"
    if bundled.is_file():
        return bundled
    raise ValueError(
        f"Unknown recipe {name_or_path!r}. Bundled recipes: {', '.join(list_recipes())}; "
        "or pass the path of a YAML file."
    )


def load_recipe(name_or_path: str) -> dict[str, Any]:
    """The raw YAML mapping of a recipe."""
    import yaml

    data = yaml.safe_load(recipe_path(name_or_path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{recipe_path(name_or_path)}: a recipe must be a YAML mapping.")
    return data


def expand_recipe_args(argv: list[str]) -> list[str]:
    """Turn ``--recipe X`` into trl's ``--config <file of X>`` (keeping ``--recipe X`` for the record)."""
    args = list(argv)
    for flag in ("--recipe",):
        if flag in args:
            i = args.index(flag)
            if i + 1 >= len(args):
                raise ValueError(
                    f"{flag} needs a recipe name or YAML path; bundled: {', '.join(list_recipes())}."
                )
            if "--config" in args:
                raise ValueError("Give either --recipe or --config, not both.")
            args += ["--config", str(recipe_path(args[i + 1]))]
    return args


def make_parser() -> Any:
    """trl's ``TrlParser`` over the four configuration dataclasses (YAML via ``--config``, then flags)."""
    from trl import ModelConfig, SFTConfig, TrlParser

    types: list[Any] = [SFTConfig, ModelConfig, DataConfig, ScriptConfig]
    return TrlParser(types, prog="viscoder2-train sft")


@dataclass
class Resolved:
    """A recipe parsed into its four configurations.

    Attributes:
        training: trl ``SFTConfig`` (``transformers.TrainingArguments`` plus SFT settings).
        model: trl ``ModelConfig`` (base model, dtype, attention, LoRA).
        data: ``DataConfig``.
        script: ``ScriptConfig``.
        world_size: the number of processes the batch accounting assumed.
    """

    training: Any
    model: Any
    data: DataConfig
    script: ScriptConfig
    world_size: int

    @property
    def global_batch_size(self) -> int:
        t = self.training
        return int(t.per_device_train_batch_size * t.gradient_accumulation_steps * self.world_size)


def apply_global_batch(training: Any, script: ScriptConfig, world_size: int) -> None:
    """Set ``gradient_accumulation_steps`` from ``script.global_batch_size`` for ``world_size`` processes."""
    if not script.global_batch_size:
        return
    steps = gradient_accumulation_for(
        script.global_batch_size, training.per_device_train_batch_size, world_size
    )
    if steps != training.gradient_accumulation_steps:
        logger.info(
            "global_batch_size %d over %d processes x %d per device: gradient_accumulation_steps %d -> %d",
            script.global_batch_size,
            world_size,
            training.per_device_train_batch_size,
            training.gradient_accumulation_steps,
            steps,
        )
    training.gradient_accumulation_steps = steps


def _accelerator_present() -> bool:
    import torch

    return bool(torch.cuda.is_available()) or bool(getattr(torch, "xpu", None) and torch.xpu.is_available())


def parse(argv: list[str]) -> tuple[Any, Any, DataConfig, ScriptConfig]:
    """Parse ``viscoder2-train sft`` arguments (``--recipe``/``--config`` and flags) into the four configs."""
    parsed = make_parser().parse_args_and_config(expand_recipe_args(argv))
    training, model, data, script = parsed
    return training, model, data, script


def resolve(argv: list[str], world_size: int | None = None) -> Resolved:
    """Parse a recipe as ``sft`` would, for inspection: nothing is loaded and nothing is launched.

    ``world_size`` (default: this process's) drives ``gradient_accumulation_steps`` when the recipe sets
    ``global_batch_size``. On a machine without an accelerator a bf16 recipe cannot be instantiated by
    transformers, so ``--use_cpu`` is added there (it changes only the device, reported as such).
    """
    args = list(argv)
    if not _accelerator_present() and "--use_cpu" not in args:
        args += ["--use_cpu", "true"]
    training, model, data, script = parse(args)
    size = world_size or int(training.world_size)
    apply_global_batch(training, script, size)
    return Resolved(training, model, data, script, size)
