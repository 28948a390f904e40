"""The rows a run writes: one ``AttemptRecord`` per task per round, appended to ``results.jsonl``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

RECORD_VERSION = 1


@dataclass
class AttemptRecord:
    """One attempt at one task (round 0 = first try, round k = k-th self-debug round).

    Attributes:
        task_id, language, round: which attempt.
        messages: the exact conversation sent to the model for this attempt.
        reply: the model's raw reply ("" when the request failed).
        generation_error: why the request failed after retries ("" on success).
        extraction_rule: which rule of ``visplotbench.extract`` found the code.
        code: the program that was rendered.
        status: the render status (``RenderStatus`` value), ``generation_failed``, ``no_code``, or
            ``bad_task`` (the task's data files have names no job may have; no self-debug follows,
            it counts as not passed and ``error`` names the file).
        error: the error excerpt shown to the model in the next round.
        failure_kind: a short class of failure (exception class, tool error kind, timeout, blank...).
        images: PNG file names relative to the run folder.
        passed: status == ok.
        timings: seconds per phase (generate, render).
        cache: which caches served this attempt (``generation``, ``render``).
    """

    task_id: str
    language: str
    round: int
    messages: list[dict[str, str]]
    reply: str
    code: str
    status: str
    error: str = ""
    generation_error: str = ""
    extraction_rule: str = ""
    failure_kind: str = ""
    images: list[str] = field(default_factory=list)
    passed: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    cache: list[str] = field(default_factory=list)
    version: int = RECORD_VERSION

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AttemptRecord:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
