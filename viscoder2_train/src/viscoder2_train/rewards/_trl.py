"""trl reward functions over a ``Rewarder``: one per component, so trl logs each (``rewards/<name>/mean``).

trl 1.16 calls every reward function with ``prompts``, ``completions``, ``completion_ids``, every dataset
column but ``prompt`` (as lists, one value per completion), ``trainer_state``, ``log_extra`` and
``log_metric``, plus the extra fields a ``rollout_func`` returned. The columns read here:

  * ``language`` (required), ``data``, ``reference_image`` (PNG bytes or None), ``task_text``: the task
    (``viscoder2_train.rl_data`` builds them);
  * ``final_reply`` and ``repair_rounds``: from the self-debug rollout (``viscoder2_train.rollout``): the
    program scored is the last reply's, and ``repair`` is minus the rounds used.

The functions share one scoring per batch: the first called renders the batch, the others read it.
Each batch also logs ``visplot/env_failures``, ``visplot/judge_failures``, ``visplot/renders_ok``
(fraction), ``visplot/render_cache_hits`` and ``visplot/score_seconds`` through ``log_metric``, and
the status and error excerpt of every completion through ``log_extra`` (the completions table).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from viscoder2_train.rewards._config import ENV_FAILURE, JUDGE_FAILURE, CompletionScore, RewardTask


def completion_text(completion: Any) -> str:
    """The text of a trl completion: a string (standard format) or a list of messages (conversational)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):
        return "".join(
            m.get("content") or "" for m in completion if isinstance(m, dict) and m.get("role") != "user"
        )
    raise TypeError(f"Cannot read a completion of type {type(completion).__name__}.")


def tasks_from_columns(n: int, columns: dict[str, Any]) -> list[RewardTask]:
    """The ``RewardTask`` of each of ``n`` completions from trl's column keyword arguments."""
    if "language" not in columns:
        raise ValueError(
            "The reward functions need a `language` column in the training dataset (the task's language); "
            "viscoder2_train.rl_data.load_prompt_dataset makes it, with data, reference_image and task_text."
        )

    def column(name: str, default: Any) -> list[Any]:
        values = columns.get(name)
        return list(values) if values is not None else [default] * n

    languages, data = column("language", ""), column("data", "")
    images, texts = column("reference_image", None), column("task_text", "")
    return [
        RewardTask(lang, d or "", bytes(img) if img else None, t or "")
        for lang, d, img, t in zip(languages, data, images, texts, strict=True)
    ]


class _BatchScores:
    """Scores the batch once for all the reward functions trl calls on it in turn."""

    def __init__(self, rewarder: Any) -> None:
        self.rewarder = rewarder
        self._key: tuple[Any, ...] | None = None
        self._scores: list[CompletionScore] = []

    def get(self, completions: Sequence[Any], columns: dict[str, Any]) -> list[CompletionScore]:
        finals = columns.get("final_reply")
        replies = (
            [str(f) for f in finals] if finals is not None else [completion_text(c) for c in completions]
        )
        tasks = tasks_from_columns(len(replies), columns)
        rounds = [int(r) for r in columns.get("repair_rounds") or [0] * len(replies)]
        key = (tuple(replies), tuple(tasks), tuple(rounds), id(columns.get("trainer_state")))
        if key != self._key:
            self._scores = self.rewarder.score(replies, tasks)
            for score, used in zip(self._scores, rounds, strict=True):
                if "repair" in score.components and score.scorable:
                    score.components["repair"] = -float(used)
            self._key = key
            _log(self._scores, self.rewarder, columns)
        return self._scores


def _log(scores: list[CompletionScore], rewarder: Any, columns: dict[str, Any]) -> None:
    log_metric: Callable[[str, float], None] | None = columns.get("log_metric")
    log_extra: Callable[[str, list[Any]], None] | None = columns.get("log_extra")
    n = max(1, len(scores))
    if log_metric is not None:
        log_metric("visplot/env_failures", float(sum(s.status == ENV_FAILURE for s in scores)))
        log_metric("visplot/judge_failures", float(sum(s.status == JUDGE_FAILURE for s in scores)))
        log_metric("visplot/renders_ok", sum(s.status == "ok" for s in scores) / n)
        log_metric("visplot/render_cache_hits", sum(s.cached for s in scores) / n)
        log_metric("visplot/score_seconds", rewarder.last_batch_seconds)
    if log_extra is not None:
        log_extra("render_status", [s.status for s in scores])
        log_extra("render_error", [s.error.splitlines()[0][:200] if s.error else "" for s in scores])


def make_reward_funcs(rewarder: Any) -> list[Callable[..., list[float | None]]]:
    """One function per weighted component, named after it, in ``rewarder.weights`` order."""
    batch = _BatchScores(rewarder)

    def make(name: str) -> Callable[..., list[float | None]]:
        def reward(prompts: Any = None, completions: Any = None, **columns: Any) -> list[float | None]:
            return [s.components.get(name) for s in batch.get(completions or [], columns)]

        reward.__name__ = reward.__qualname__ = name
        reward.__doc__ = f"The `{name}` reward component (viscoder2_train.rewards)."
        return reward

    return [make(name) for name in rewarder.weights]
