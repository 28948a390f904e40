"""Judge prompt texts: our own, versioned in ``judge_v1.json``, or the original's loaded from a file.

``load_judge_prompts()`` returns our texts. ``load_judge_prompts(path)`` reads either a file in our own
format (top-level ``vis`` and ``task`` strings, optionally ``system`` and ``retry``) or a file in the
original harness's ``instructs.json`` format, where every language entry carries ``judge_instruct_vis``
and ``judge_instruct_task`` (the same two strings for every language in the original; if a file gives
different ones per language, each language gets its own). Either way the system prompt and the retry
reminder stay ours unless the file gives them: the original sent the *code-generation* system prompt to
the judge, a quirk we do not reproduce. Every score records ``JudgePrompts.version`` and ``sha256``
(a hash of the exact texts used).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

JUDGE_PROMPTS_VERSION = "judge-v1"
KINDS = ("vis", "task")
_ORIGINAL_KEYS = {"vis": "judge_instruct_vis", "task": "judge_instruct_task"}


@dataclass(frozen=True)
class JudgePrompts:
    """The texts a judge sends.

    Attributes:
        system: the judge's system prompt.
        vis: the visual-score instruction (generated image first, reference second).
        task: the task-score instruction; the task text follows after ``[PLOT TASK]:``.
        retry: the reminder sent once after a reply that held no parsable score.
        version: ``judge-v1`` for ours, ``file:<name>`` for a loaded file.
        sha256: hash of every text above (and of per-language overrides).
        per_language: language -> {"vis": ..., "task": ...} where a loaded file differs by language.
    """

    system: str
    vis: str
    task: str
    retry: str
    version: str
    sha256: str
    per_language: dict[str, dict[str, str]] = field(default_factory=dict)

    def instruction(self, kind: str, language: str) -> str:
        """The ``vis`` or ``task`` instruction for ``language``."""
        if kind not in KINDS:
            raise ValueError(f"Unknown judge score kind {kind!r}; choose one of: {', '.join(KINDS)}.")
        override = self.per_language.get(language, {}).get(kind)
        return override if override is not None else str(getattr(self, kind))


def _bundled() -> dict[str, Any]:
    text = (resources.files("visplotbench.judges") / "judge_v1.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _hash(texts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(texts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def load_judge_prompts(path: str | Path | None = None) -> JudgePrompts:
    """Our judge texts, or those of ``path`` (our format, or the original ``instructs.json`` format).

    Raises:
        ValueError: the file has neither top-level ``vis``/``task`` strings nor any language entry
            with ``judge_instruct_vis`` and ``judge_instruct_task``.
    """
    ours = _bundled()
    if path is None:
        raw, version = ours, str(ours.get("version", JUDGE_PROMPTS_VERSION))
    else:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        version = f"file:{Path(path).name}"
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: expected a JSON object.")
    texts = {key: raw.get(key, ours[key]) for key in ("system", "retry")}
    per_language: dict[str, dict[str, str]] = {}
    if all(isinstance(raw.get(kind), str) for kind in KINDS):
        texts.update({kind: raw[kind] for kind in KINDS})
    else:
        found = {
            language: {kind: entry[key] for kind, key in _ORIGINAL_KEYS.items()}
            for language, entry in raw.items()
            if isinstance(entry, dict)
            and all(isinstance(entry.get(key), str) for key in _ORIGINAL_KEYS.values())
        }
        if not found:
            raise ValueError(
                f'{path}: no judge prompts found. Expected top-level "vis" and "task" strings, or the '
                'original instructs.json format (language entries with "judge_instruct_vis" and '
                '"judge_instruct_task").'
            )
        # The most common pair is the default; languages that differ keep their own.
        pairs = [(t["vis"], t["task"]) for t in found.values()]
        vis, task = max(set(pairs), key=lambda p: (pairs.count(p), p))
        texts.update(vis=vis, task=task)
        per_language = {lang: t for lang, t in found.items() if (t["vis"], t["task"]) != (vis, task)}
    sha = _hash({**texts, "per_language": per_language})
    return JudgePrompts(
        texts["system"], texts["vis"], texts["task"], texts["retry"], version, sha, per_language
    )
