"""Prompt sets (per-language instruction texts) and the assembly of a task into chat messages.

Our own texts live in ``v1.json``. ``load_prompts(path)`` also reads a user-supplied file in the
original ``instructs.json`` format (keys per language: system_prompt, setup_instruct, plot_instruct,
data_instruct), so that someone holding it can reproduce the paper's prompts exactly.
Every run records ``PromptSet.version`` and ``PromptSet.sha256``.

The user message follows the original protocol: the plot instruction, then numbered fields in the
order task description, style description, setup, data description (empty fields are skipped), each
``"\\n\\n"`` collapsed to ``"\\n"`` once, the data part cut to 4,000 characters.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from visplotbench.prompts._descriptors import describe_data

PROMPTS_VERSION = "v1"
DATA_CHARS = 4000
_NO_DATA = "Everything the program needs is in the description; do not read other files."


@dataclass(frozen=True)
class LanguagePrompts:
    """The instruction texts of one language."""

    system_prompt: str
    setup_instruct: str
    plot_instruct: str
    data_instruct: str
    data_instruct_empty: str = _NO_DATA


@dataclass(frozen=True)
class PromptSet:
    """Instruction texts for every language, with a version label and a hash of the exact texts."""

    languages: dict[str, LanguagePrompts]
    version: str
    sha256: str

    def for_language(self, language: str) -> LanguagePrompts:
        if language not in self.languages:
            raise ValueError(
                f"The prompt set {self.version!r} has no texts for {language!r}; "
                f"it covers: {', '.join(sorted(self.languages))}."
            )
        return self.languages[language]


def load_prompts(path: str | Path | None = None) -> PromptSet:
    """Our bundled prompt set, or a file in the original ``instructs.json`` format."""
    if path is None:
        text = (resources.files("visplotbench.prompts") / f"{PROMPTS_VERSION}.json").read_text(
            encoding="utf-8"
        )
        version = PROMPTS_VERSION
    else:
        text = Path(path).read_text(encoding="utf-8")
        version = f"file:{Path(path).name}"
    raw: dict[str, Any] = json.loads(text)
    languages = {}
    for language, fields in raw.items():
        if language.startswith("_") or not isinstance(fields, dict):
            continue
        missing = [
            k
            for k in ("system_prompt", "setup_instruct", "plot_instruct", "data_instruct")
            if k not in fields
        ]
        if missing:
            raise ValueError(
                f"{path or 'bundled prompts'}: language {language!r} lacks {', '.join(missing)}."
            )
        languages[language] = LanguagePrompts(
            fields["system_prompt"],
            fields["setup_instruct"],
            fields["plot_instruct"],
            fields["data_instruct"],
            fields.get("data_instruct_empty", _NO_DATA),
        )
    digest = hashlib.sha256(json.dumps(raw, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return PromptSet(languages, version, digest)


def _setup_text(prompts: LanguagePrompts, used_lib: list[str]) -> str:
    libs = ", ".join(used_lib)  # the library names, never a Python list's repr
    text = prompts.setup_instruct.replace("[USED_LIB]", libs or "the library of your choice")
    if "holoviews" in used_lib:
        text += " Call hv.extension('bokeh') before building the chart."
    if "chartify" in used_lib:
        text += " Use import chartify and chartify.Chart()."
    return text


def _data_text(language: str, prompts: LanguagePrompts, data: str, descriptor: str) -> str:
    if not data.strip():
        return prompts.data_instruct_empty if language == "asymptote" else prompts.data_instruct
    if language == "asymptote":  # the data is program text the model must copy
        return (prompts.data_instruct.rstrip("\n") + "\n" + data)[:DATA_CHARS]
    return (prompts.data_instruct + describe_data(data, descriptor))[:DATA_CHARS]


def build_user_message(task: Any, prompts: PromptSet, descriptor: str = "head") -> str:
    """The first user turn for ``task`` (a ``visplotbench.tasks.Task``)."""
    lp = prompts.for_language(task.language)
    fields = [
        task.task__plot_description,
        task.task__plot_style,
        _setup_text(lp, list(task.used_lib or [])),
        _data_text(task.language, lp, task.data or "", descriptor),
    ]
    parts = [lp.plot_instruct + "\n"]
    number = 1
    for value in fields:
        if value and value.strip():
            parts.append(f"{number}. {value.lstrip()}\n")
            number += 1
    return "".join(parts).replace("\n\n", "\n")


def build_messages(task: Any, prompts: PromptSet, descriptor: str = "head") -> list[dict[str, str]]:
    """System + first user message for ``task``."""
    return [
        {"role": "system", "content": prompts.for_language(task.language).system_prompt},
        {"role": "user", "content": build_user_message(task, prompts, descriptor)},
    ]
