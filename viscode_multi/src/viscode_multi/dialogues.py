"""Stage 6, multi-turn repair dialogues.

Built from our own stage-4 failures: the failing program, the engine's error excerpt as the user turn
(the exact feedback message of VisPlotBench's self-debug round), then a fix the engine verified: a
deterministic fix where the failure is mechanical (``fixes.FIXERS``), else (when configured) one from
an OpenAI-compatible endpoint. A fix is kept only when it renders and passes the stage-4 rules.

Shape: user (the instruction for the fixed picture) -> assistant (the failing program, ``loss: false``
so training does not learn the bug) -> user (the engine's feedback) -> assistant (the verified fix).
Imported Code-Feedback-style dialogues (``DialogueImport``) keep their own turns.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from datatrove.data import Document
from datatrove.pipeline.base import PipelineStep
from visplotbench.extract import extract_code

# the self-debug round's own wording: the repair dialogues' user turns are what the benchmark sends
from visplotbench.harness import feedback, next_messages

from viscode_multi.config import VerifyConfig
from viscode_multi.fixes import FIXERS
from viscode_multi.instruct import deterministic_instruction
from viscode_multi.llm import LLM, LLMConfig, load_prompts
from viscode_multi.record import language_of
from viscode_multi.verify import render_job, verdict, worker_pool

REPAIRABLE = {"error", "no_output", "blank"}
MAX_ROUNDS = 3  # fix -> new error -> fix again, as the benchmark's self-debug rounds do


def dialogue_messages(
    language: str, instruction: str, attempts: list[tuple[str, str, str]], fixed: str
) -> list[dict[str, Any]]:
    """The chat: the instruction, each failing attempt with the engine's feedback (built by the
    benchmark's own ``next_messages``, so the user turns are the self-debug round's exact words), and
    the verified fix. Failing attempts carry ``loss: false`` (training does not learn the bugs).

    Args:
        attempts: (code, status, error) of each failing program, oldest first.
    """
    messages: list[dict[str, Any]] = [{"role": "user", "content": instruction}]
    for code, status, error in attempts:
        messages = next_messages(messages, language, code.rstrip(), status, error)
    messages.append({"role": "assistant", "content": f"```{language}\n{fixed.rstrip()}\n```"})
    return [
        {**m, "loss": False if m["role"] == "assistant" and i < len(messages) - 1 else None}
        for i, m in enumerate(messages)
    ]


class RepairStep(PipelineStep):
    """Turns failed programs into verified repair dialogues (drops the ones no fixer repaired).

    A candidate fix is rendered by the engine; it is kept when the render is ``ok`` and passes the
    stage-4 rules with the repair floor ``VerifyConfig.repair_min_image_bytes`` for the PNG size (a fix
    that makes a small picture render is still a fix). A fix that renders but fails with a new error a
    fixer recognises is fixed again (up to ``MAX_ROUNDS``): the dialogue then has one feedback turn per
    failing attempt.
    """

    name = "repair dialogues"
    type = "🔧 - REPAIR"

    def __init__(self, images_dir: str, config: VerifyConfig, llm_config: LLMConfig | None = None):
        super().__init__()
        self.images_dir = images_dir
        self.config = config
        self.accept = replace(config, min_image_bytes=config.repair_min_image_bytes)
        self.llm_config = llm_config
        self._llm: LLM | None = None

    def _candidates(
        self, lang: str, code: str, status: str, error: str, description: str
    ) -> Iterator[tuple[str, str]]:
        for name, fixer in FIXERS.get(lang, []):
            fixed = fixer(code, error)
            if fixed:
                yield f"mechanical:{name}", fixed
        if self.llm_config is not None:
            self._llm = self._llm or LLM(self.llm_config)
            prompts = load_prompts()["repair"]
            task = description or f"Fix this {lang} program so that it draws its picture."
            user = prompts["user"].format(
                language=lang, task=task, code=code, feedback=feedback(lang, status, error)
            )
            try:
                reply = self._llm.chat(prompts["system"].format(language=lang), user)
            except Exception:
                self.stat_update(f"{lang}/llm-error")
                return
            fixed = extract_code(reply, lang).code
            if fixed.strip() and fixed.strip() != code.strip():
                yield self._llm.config.label, fixed

    def _repair(
        self, lang: str, doc: Document, attempts: list[tuple[str, str, str]], fixers: list[str]
    ) -> tuple[str, dict[str, Any], list[tuple[str, str, str]], list[str]] | None:
        """Depth-first over candidate fixes: (fixed code, its verdict, failing attempts, fixers) or None."""
        code, status, error = attempts[-1]
        description = str(doc.metadata.get("description") or "")
        seen = {a[0] for a in attempts}
        for fixer, fixed in self._candidates(lang, code, status, error, description):
            if fixed in seen:
                continue
            pool = worker_pool()
            result = pool.render(render_job(lang, fixed, doc.metadata.get("files"), self.config))
            info = verdict(result, self.accept, Path(self.images_dir))
            kind = fixer.split(":")[0]
            self.stat_update(f"{lang}/tried:{kind}")
            if info["kept"]:
                return fixed, info, attempts, [*fixers, fixer]
            self.stat_update(f"{lang}/fix-failed:{kind}")
            if info["status"] in REPAIRABLE and len(attempts) < MAX_ROUNDS:
                deeper = self._repair(
                    lang, doc, [*attempts, (fixed, info["status"], info["error"])], [*fixers, fixer]
                )
                if deeper:
                    return deeper
        return None

    def run(self, data, rank: int = 0, world_size: int = 1):
        for doc in data:
            lang = language_of(doc)
            render = doc.metadata.get("render") or {}
            status = render.get("status", "")
            if status not in REPAIRABLE:
                self.stat_update(f"{lang}/skipped:{status or 'unknown'}")
                continue
            self.stat_update(f"{lang}/failures")
            repaired = self._repair(lang, doc, [(doc.text, status, render.get("error", ""))], [])
            if repaired is None:
                continue
            fixed, info, attempts, fixers = repaired
            description = str(doc.metadata.get("description") or "")
            instruction = deterministic_instruction(lang, fixed, description)
            keys = ("language", "provenance", "description", "files", "form", "extractor", "shard")
            metadata = {key: doc.metadata.get(key) for key in keys}
            metadata.update(
                kind="repair",
                broken_code=doc.text,
                broken_render=render,
                render=info,
                fixer=fixers[-1] if len(fixers) == 1 else " + ".join(fixers),
                rounds=len(attempts),
                instruction=asdict(instruction),
                messages=dialogue_messages(lang, instruction.text(), attempts, fixed),
            )
            self.stat_update(f"{lang}/verified:{fixers[-1].split(':')[0]}")
            yield Document(text=fixed, id=f"repair/{doc.id}", metadata=metadata)


def _language_from_messages(messages: list[dict[str, Any]]) -> str:
    for message in messages:
        match = re.search(r"```([A-Za-z+#-]+)", str(message.get("content", "")))
        if match:
            return match.group(1).lower()
    return "unknown"


class DialogueImport(PipelineStep):
    """Reads Code-Feedback-style dialogues (a ``messages`` column) from the Hub or a local JSONL/parquet file."""

    name = "dialogue import"
    type = "📖 - READER"

    def __init__(self, source: str, limit: int | None = None):
        super().__init__()
        self.source = source
        self.limit = limit

    def _rows(self) -> Iterator[dict[str, Any]]:
        import datasets

        if self.source.startswith("hub:"):
            yield from datasets.load_dataset(self.source[4:], split="train", streaming=True)
            return
        path = Path(self.source)
        kind = "parquet" if path.suffix == ".parquet" else "json"
        yield from datasets.load_dataset(kind, data_files=str(path), split="train")

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        for index, row in enumerate(self._rows()):
            if self.limit is not None and index >= self.limit:
                break
            if index % world_size != rank:
                continue
            messages = [
                {"role": m["role"], "content": m["content"], "loss": None} for m in row.get("messages") or []
            ]
            if not any(m["role"] == "assistant" for m in messages):
                self.stat_update("dropped:no-assistant-turn")
                continue
            lang = str(row.get("language") or _language_from_messages(messages))
            key = hashlib.sha1(repr(messages).encode()).hexdigest()[:16]
            self.stat_update(f"{lang}/imported")
            yield Document(
                text=messages[-1]["content"],
                id=f"imported/{row.get('id', key)}",
                metadata={"language": lang, "kind": "imported", "messages": messages,
                          "provenance": {"source": "hub" if self.source.startswith("hub:") else "local",
                                         "package": self.source.removeprefix("hub:"), "version": "", "path": str(index),
                                         "license": "", "corpus": "imported-dialogues"},
                          "fixer": "", "shard": f"{index % 100:05d}"},
            )  # fmt: skip
