"""The rows of a run folder: ``AttemptRecord`` (``results.jsonl``) and ``ScoreRecord`` (``scores.jsonl``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from visplotbench.runfolder._status import AttemptStatus

RECORD_VERSION = 1
SCORE_RECORD_VERSION = 1

# Score statuses: "scored" has a score; "no_image" scores 0 without asking; "unparsed" (replies without a
# score) and "failed" (no reply) score None and count 0 in the paper's convention; "no_reference"
# cannot be scored (a visual score or image metric for a task without a reference image).
SCORE_STATUSES = ("scored", "no_image", "unparsed", "failed", "no_reference")


@dataclass
class AttemptRecord:
    """One attempt at one task (round 0 = first try, round k = k-th self-debug round).

    Attributes:
        task_id, language, round: which attempt.
        messages: the exact conversation sent to the model for this attempt.
        reply: the model's raw reply ("" when the request failed).
        code: the program that was rendered.
        status: what became of the attempt (``AttemptStatus``).
        error: the error excerpt shown to the model in the next round.
        generation_error: why the request failed after retries ("" on success).
        extraction_rule: which rule of ``visplotbench.extract`` found the code.
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
    status: AttemptStatus
    error: str = ""
    generation_error: str = ""
    extraction_rule: str = ""
    failure_kind: str = ""
    images: list[str] = field(default_factory=list)
    passed: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    cache: list[str] = field(default_factory=list)
    version: int = RECORD_VERSION

    def __post_init__(self) -> None:
        self.status = AttemptStatus(self.status)  # a string from JSON (or a RenderStatus) becomes the enum

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AttemptRecord:
        """The record of one JSON line; unknown keys are ignored, a bad status raises ValueError."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class ScoreRecord:
    """One score of one attempt.

    Attributes:
        task_id, language, round: the attempt scored.
        kind: ``vis`` / ``task`` (judge, 0..100) or an image metric (``ssim``, ``edge_f1``; 0..1).
        score: the score; None for ``unparsed``, ``failed`` and ``no_reference``.
        status: one of ``SCORE_STATUSES``.
        scorer: ``<backend>:<model>`` of the judge, or ``offline`` for the image metrics.
        scorer_key: hash of everything that changes this kind of score (judge identity and prompts,
            or the metrics version); lines of different scorers never mix in a summary.
        model: the judge model ("" for offline metrics).
        prompt_version, prompt_sha256: the judge prompt texts (metrics: the metrics version, "").
        replies: the judge's replies, in order (two when the first had no score).
        error: the last request error.
        requests: requests sent (0: cache hit, no image, or an offline metric).
        cached: served from the judgement cache.
        clamped: the judge wrote a number outside 0..100.
        images: the generated images scored (run-folder paths).
        reference: the reference image used ("" when none).
    """

    task_id: str
    language: str
    round: int
    kind: str
    score: float | None
    status: str
    scorer: str
    scorer_key: str
    model: str = ""
    prompt_version: str = ""
    prompt_sha256: str = ""
    replies: list[str] = field(default_factory=list)
    error: str = ""
    requests: int = 0
    cached: bool = False
    clamped: bool = False
    images: list[str] = field(default_factory=list)
    reference: str = ""
    version: int = SCORE_RECORD_VERSION

    @property
    def key(self) -> tuple[str, int, str, str]:
        return (self.task_id, self.round, self.kind, self.scorer_key)

    @property
    def reply(self) -> str:
        """The last reply ("" when none)."""
        return self.replies[-1] if self.replies else ""

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScoreRecord:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
