"""Prompt texts, data descriptors and message assembly."""

from visplotbench.prompts._descriptors import DESCRIPTORS, describe_data
from visplotbench.prompts._prompts import (
    PROMPTS_VERSION,
    LanguagePrompts,
    PromptSet,
    build_messages,
    build_user_message,
    load_prompts,
)

__all__ = [
    "DESCRIPTORS",
    "PROMPTS_VERSION",
    "LanguagePrompts",
    "PromptSet",
    "build_messages",
    "build_user_message",
    "describe_data",
    "load_prompts",
]
