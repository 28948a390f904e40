"""The gold backend: replies with each task's reference solution, to check the harness end to end.

``gold`` (no target, no options) answers every request with the task's ``code`` in a fence tagged with
the task's language, so a gold run measures the renderers and the extraction, not a model. A task
without reference code (Hub rows have none) gets an error result saying so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from visplotbench.backends._base import GenerationRequest, GenerationResult
from visplotbench.backends._options import config_from_options


def fence(code: str, language: str) -> str:
    """``code`` in a Markdown fence tagged ``language``, longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`{3,}", code)), default=2)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{language}\n{code.strip(chr(10))}\n{ticks}"


@dataclass
class GoldConfig:
    """The gold backend has no settings (any option is an error)."""


class GoldBackend:
    """Replays ``request.task.code`` as the reply (see the module docstring)."""

    name: ClassVar[str] = "gold"

    @classmethod
    def from_spec(cls, target: str, options: dict[str, Any]) -> GoldBackend:
        if target:
            raise ValueError(f"The gold backend takes no target (got 'gold:{target}'); write just 'gold'.")
        config_from_options(GoldConfig, options, "gold")
        return cls()

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[tuple[int, GenerationResult]]:
        for index, request in enumerate(requests):
            code = getattr(request.task, "code", "") or ""
            if not code.strip():
                yield (
                    index,
                    GenerationResult(
                        error=(
                            f"Task {request.task_id!r} has no reference code: the gold backend needs tasks with a "
                            "`code` column (the bundled task set has it; Hub rows do not)."
                        )
                    ),
                )
                continue
            language = getattr(request.task, "language", "") or request.task_id.rsplit("_", 1)[0]
            yield index, GenerationResult(text=fence(code, language), finish_reason="stop")

    def identity(self) -> dict[str, Any]:
        return {"backend": "gold"}

    def close(self) -> None:
        pass
