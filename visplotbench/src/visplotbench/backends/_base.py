"""What every model backend implements, and the request/result types they exchange with the runner."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol


@dataclass(frozen=True)
class GenerationRequest:
    """One conversation to continue.

    Attributes:
        task_id: the task this is for (replay and gold backends key on it).
        round: 0 for the first attempt, k for the k-th self-debug round.
        messages: chat messages (``role``/``content``), system first.
        task: the ``visplotbench.tasks.Task`` (the gold backend replays its ``code``).
    """

    task_id: str
    round: int
    messages: list[dict[str, str]]
    task: Any = None


@dataclass
class GenerationResult:
    """A backend's answer to one request.

    Attributes:
        text: the reply (empty when the request failed).
        error: why the request finally failed after retries (empty on success).
        finish_reason: as the backend reports it (``stop``, ``length``...).
        usage: token counts when known.
        cached: served from the generation cache.
    """

    text: str = ""
    error: str = ""
    finish_reason: str = ""
    usage: dict[str, int] = field(default_factory=dict)
    cached: bool = False


class Backend(Protocol):
    """A model backend: turns conversations into replies.

    ``generate`` yields ``(index, result)`` pairs as replies complete, in any order, one per request;
    a request that fails is yielded with ``result.error`` set, never dropped. ``identity()`` names the
    model and every setting that changes replies (it keys the generation cache and goes into
    ``config.json``).
    """

    name: ClassVar[str]

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[tuple[int, GenerationResult]]: ...

    def identity(self) -> dict[str, Any]: ...

    def close(self) -> None: ...
