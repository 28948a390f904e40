"""VisCoder2 training recipes: trl SFT over VisCode-Multi chat samples, launchers, model cards, Hub upload.

Importing this package is light (no torch, trl or model loading); the heavy imports happen inside the
functions that need them. Entry points: ``viscoder2-train`` (``viscoder2_train.cli``) and
``python -m viscoder2_train.sft``.
"""

from viscoder2_train.bundled import bundled_languages, make_bundled_samples
from viscoder2_train.card import TrainSummary, evaluation_table, render_model_card, write_model_card
from viscoder2_train.config import VISCODE_MULTI, DataConfig, ScriptConfig, gradient_accumulation_for
from viscoder2_train.data import (
    DataReport,
    load_chat_dataset,
    mix_languages,
    prepare_training_data,
    tokenize_chats,
)
from viscoder2_train.hub import PushPlan, prepare_push, push
from viscoder2_train.launch import LAUNCHERS, LaunchPlan, NodeEnv, launcher_config_path, plan_launch
from viscoder2_train.recipes import Resolved, list_recipes, load_recipe, recipe_path, resolve
from viscoder2_train.tiny import CHATML_TEMPLATE, TinyModelConfig, build_tiny_model, build_tokenizer

__version__ = "0.1.0.dev0"
__all__ = [
    "CHATML_TEMPLATE",
    "LAUNCHERS",
    "VISCODE_MULTI",
    "DataConfig",
    "DataReport",
    "LaunchPlan",
    "NodeEnv",
    "PushPlan",
    "Resolved",
    "ScriptConfig",
    "TinyModelConfig",
    "TrainSummary",
    "__version__",
    "build_tiny_model",
    "build_tokenizer",
    "bundled_languages",
    "evaluation_table",
    "gradient_accumulation_for",
    "launcher_config_path",
    "list_recipes",
    "load_chat_dataset",
    "load_recipe",
    "make_bundled_samples",
    "mix_languages",
    "plan_launch",
    "prepare_push",
    "prepare_training_data",
    "push",
    "recipe_path",
    "render_model_card",
    "resolve",
    "tokenize_chats",
    "write_model_card",
]
