"""The replay backend: replies read from a JSONL file, to score generations made elsewhere.

``replay:<path>`` reads one JSON object per line::

    {"task_id": "python_12", "round": 0, "reply": "```python\\n...\\n```"}

``round`` is optional (default 0: the first attempt; k: the k-th self-debug round). Other keys are
ignored. A request whose ``(task_id, round)`` has no line gets an error result naming what is missing.
The file is read once, when the backend is made; its sha256 is part of ``identity()``, so a changed
file never reuses cached results.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from visplotbench.backends._base import GenerationRequest, GenerationResult
from visplotbench.backends._options import config_from_options


@dataclass
class ReplayConfig:
    """Settings of the replay backend.

    Attributes:
        path: the JSONL file of replies (the spec's target).
    """

    path: str


class ReplayBackend:
    """Answers each request with the reply recorded for its task and round (see the module docstring)."""

    name: ClassVar[str] = "replay"

    def __init__(self, config: ReplayConfig) -> None:
        self.config = config
        path = Path(config.path)
        if not path.is_file():
            raise FileNotFoundError(
                f"replay:{config.path}: no such file. Give a JSONL file with lines "
                '{"task_id": ..., "round": 0, "reply": ...}.'
            )
        data = path.read_bytes()
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.replies: dict[tuple[str, int], str] = {}
        for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            key, reply = _parse_line(line, f"{config.path}:{number}")
            if key in self.replies:
                raise ValueError(
                    f"{config.path}:{number}: a second reply for task {key[0]!r} round {key[1]}; "
                    "keep one line per (task_id, round)."
                )
            self.replies[key] = reply

    @classmethod
    def from_spec(cls, target: str, options: dict[str, Any]) -> ReplayBackend:
        if not target:
            raise ValueError("The replay backend needs a file: replay:<path to replies.jsonl>.")
        return cls(config_from_options(ReplayConfig, options, "replay", path=target))

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[tuple[int, GenerationResult]]:
        for index, request in enumerate(requests):
            reply = self.replies.get((request.task_id, request.round))
            if reply is None:
                yield (
                    index,
                    GenerationResult(
                        error=f"{self.config.path} has no reply for task "
                        f"{request.task_id!r} round {request.round}."
                    ),
                )
            else:
                yield index, GenerationResult(text=reply, finish_reason="stop")

    def identity(self) -> dict[str, Any]:
        return {"backend": self.name, "file": Path(self.config.path).name, "sha256": self.sha256}

    def close(self) -> None:
        pass


def _parse_line(line: str, where: str) -> tuple[tuple[str, int], str]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: not a JSON line ({exc.msg}).") from None
    if not isinstance(record, dict) or not isinstance(record.get("task_id"), str):
        raise ValueError(f"{where}: each line needs a string 'task_id'.")
    reply, round_ = record.get("reply"), record.get("round", 0)
    if not isinstance(reply, str):
        raise ValueError(f"{where}: 'reply' must be a string (task {record['task_id']!r}).")
    if not isinstance(round_, int) or isinstance(round_, bool) or round_ < 0:
        raise ValueError(f"{where}: 'round' must be a whole number >= 0 (task {record['task_id']!r}).")
    return (record["task_id"], round_), reply
