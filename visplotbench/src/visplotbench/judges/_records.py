"""``<run>/scores.jsonl``: one ``ScoreRecord`` per task per round per score kind (per scorer).

Append-only and crash-safe like ``results.jsonl``: lines are flushed and fsynced in small batches, a
torn last line is ignored, and a later line for the same (task, round, kind, scorer) replaces an
earlier one. Lines of different scorers (two judge models, two prompt versions) live side by side;
``scorer_key`` tells them apart and ``scores_summary.json`` names the ones the summary used.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCORE_RECORD_VERSION = 1
SCORES_FILE = "scores.jsonl"
SUMMARY_FILE = "scores_summary.json"

# Statuses: "scored" has a score; "no_image" scores 0 without asking; "unparsed" (replies without a
# score) and "failed" (no reply) score None and count 0 in the paper's convention; "no_reference"
# cannot be scored (a visual score or image metric for a task without a reference image).
STATUSES = ("scored", "no_image", "unparsed", "failed", "no_reference")


@dataclass
class ScoreRecord:
    """One score of one attempt.

    Attributes:
        task_id, language, round: the attempt scored.
        kind: ``vis`` / ``task`` (judge, 0..100) or an image metric (``ssim``, ``edge_f1``; 0..1).
        score: the score; None for ``unparsed``, ``failed`` and ``no_reference``.
        status: one of ``STATUSES``.
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


class ScoreStore:
    """Reads and appends ``scores.jsonl`` and writes ``scores_summary.json`` of one run folder."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / SCORES_FILE
        self._lock = threading.Lock()

    def load(self) -> list[ScoreRecord]:
        """Every complete line, the last one per (task, round, kind, scorer), in file order."""
        if not self.path.exists():
            return []
        latest: dict[tuple[str, int, str, str], ScoreRecord] = {}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                rec = ScoreRecord.from_json(json.loads(line))
            except (json.JSONDecodeError, TypeError):
                continue  # a torn last line from a killed run
            latest.pop(rec.key, None)
            latest[rec.key] = rec
        return list(latest.values())

    def append(self, records: list[ScoreRecord]) -> None:
        """Append ``records``; durable before returning."""
        if not records:
            return
        text = "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in records)
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            if self.path.exists() and self.path.stat().st_size:
                with open(self.path, "rb") as f:
                    f.seek(-1, os.SEEK_END)
                    if f.read(1) != b"\n":  # a torn line from a killed run: never glue onto it
                        text = "\n" + text
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())

    def read_summary(self) -> dict[str, Any]:
        try:
            data = json.loads((self.folder / SUMMARY_FILE).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return {}
        return data if isinstance(data, dict) else {}

    def write_summary(self, data: dict[str, Any]) -> None:
        tmp = self.folder / f"{SUMMARY_FILE}.tmp"
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, self.folder / SUMMARY_FILE)
