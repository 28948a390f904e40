"""Reward settings and typed results (no engine, no torch): see the package docstring."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

COMPONENTS = ("renders", "visual", "format", "judge", "repair")
VISUAL_METRICS = ("mean", "ssim", "edge_f1")
ENV_FAILURE = "env_failure"
JUDGE_FAILURE = "judge_failure"
NO_CODE = "no_code"


def _help(text: str) -> dict[str, Any]:
    return {"help": text}


@dataclass
class RewardConfig:
    """Reward weights and how the rewards are computed (a recipe's ``reward_*`` keys).

    Attributes:
        reward_renders: weight of ``renders`` (renders without error to a non-blank image).
        reward_visual: weight of ``visual`` (similarity to the reference image).
        reward_format: weight of ``format`` (one code block in the task's language).
        reward_judge: weight of ``judge`` (needs ``reward_judge_model``).
        reward_repair: weight of ``repair`` (minus the self-debug rounds used; multi-turn rollouts only).
        reward_visual_metric: ``mean`` (of SSIM and edge F1), ``ssim`` or ``edge_f1``.
        reward_render_timeout_s: wall-clock limit of one render (a timeout scores ``renders`` 0).
        reward_judge_model: ``openai:<model>`` for the judge (any OpenAI-compatible endpoint).
        reward_judge_options: judge/backend options, ``key=value,...`` or JSON (``base_url``,
            ``concurrency``, ``api_key_env``, ...; see ``visplotbench.judges.make_judge``).
        reward_judge_kind: ``task`` (the image against the task text) or ``vis`` (against the reference).
        reward_cache_size: renders and judgements kept in memory (by content).
        reward_workers: threads of the shared RenderPool (None: the pool's default).
    """

    reward_renders: float = field(default=1.0, metadata=_help("weight: renders to a non-blank image"))
    reward_visual: float = field(default=1.0, metadata=_help("weight: similarity to the reference image"))
    reward_format: float = field(default=0.2, metadata=_help("weight: one code block in the task's language"))
    reward_judge: float = field(default=0.0, metadata=_help("weight: judge score / 100"))
    reward_repair: float = field(default=0.0, metadata=_help("weight: minus self-debug rounds used"))
    reward_visual_metric: str = field(default="mean", metadata=_help("mean, ssim or edge_f1"))
    reward_render_timeout_s: float = field(default=10.0, metadata=_help("wall-clock limit of one render"))
    reward_judge_model: str | None = field(default=None, metadata=_help("openai:<model> for the judge"))
    reward_judge_options: dict[str, Any] | str | None = field(
        default=None, metadata=_help("judge options: base_url=...,concurrency=8 or JSON")
    )
    reward_judge_kind: str = field(default="task", metadata=_help("task or vis"))
    reward_cache_size: int = field(default=8192, metadata=_help("renders/judgements cached in memory"))
    reward_workers: int | None = field(default=None, metadata=_help("RenderPool threads"))

    def __post_init__(self) -> None:
        if self.reward_visual_metric not in VISUAL_METRICS:
            raise ValueError(
                f"reward_visual_metric must be one of {', '.join(VISUAL_METRICS)}, not {self.reward_visual_metric!r}."
            )
        if self.reward_judge_kind not in ("task", "vis"):
            raise ValueError(f"reward_judge_kind must be task or vis, not {self.reward_judge_kind!r}.")
        if self.reward_judge and not self.reward_judge_model:
            raise ValueError(
                "reward_judge is weighted but reward_judge_model is not set: give the judge as "
                "openai:<model> (and reward_judge_options base_url=... for a local server), or set reward_judge: 0."
            )
        self.reward_judge_options = _parse_options(self.reward_judge_options)

    @property
    def weights(self) -> dict[str, float]:
        """Component -> weight, for the components that are computed (weight not 0)."""
        all_weights = {name: float(getattr(self, f"reward_{name}")) for name in COMPONENTS}
        return {name: w for name, w in all_weights.items() if w}


def _parse_options(value: dict[str, Any] | str | None) -> dict[str, Any]:
    if not value:
        return {}
    if isinstance(value, dict):
        return dict(value)
    text = value.strip()
    if text.startswith("{"):
        return dict(json.loads(text))
    out: dict[str, Any] = {}
    for part in text.split(","):
        key, sep, raw = part.partition("=")
        if not sep:
            raise ValueError(
                f"reward_judge_options: {part!r} is not KEY=VALUE (e.g. base_url=http://host/v1)."
            )
        try:
            out[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw.strip()
    return out


@dataclass(frozen=True)
class RewardTask:
    """What a completion is scored against.

    Attributes:
        language: the task's language key (``visplotbench.LANGUAGES``).
        data: the task's data payload (CSV, ...), placed as the benchmark places it ("" when none).
        reference_image: the reference PNG (None: ``visual`` does not apply).
        task_text: what was asked (the judge's ``task`` prompt).
    """

    language: str
    data: str = ""
    reference_image: bytes | None = None
    task_text: str = ""


@dataclass
class CompletionScore:
    """The reward of one completion, component by component.

    Attributes:
        status: the render status (``ok``, ``error``, ``timeout``, ``no_output``, ``blank``), ``no_code``,
            ``env_failure`` or ``judge_failure``.
        components: component -> value; ``None`` where it does not apply or could not be computed.
        code: the extracted program.
        rule: the extraction rule that found it.
        error: the engine's error excerpt (or the judge's error).
        cached: the render came from the cache.
        metrics: the offline image metrics against the reference (``ssim``, ``edge_f1``), when computed.
    """

    status: str
    components: dict[str, float | None] = field(default_factory=dict)
    code: str = ""
    rule: str = ""
    error: str = ""
    cached: bool = False
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def scorable(self) -> bool:
        """False when the environment, not the model, kept this completion from being scored."""
        return self.status not in (ENV_FAILURE, JUDGE_FAILURE)

    def total(self, weights: dict[str, float]) -> float | None:
        """The weighted sum as trl forms it (components that do not apply count 0); None if unscorable."""
        if not self.scorable:
            return None
        return sum(w * (self.components.get(name) or 0.0) for name, w in weights.items())


def format_score(reply: str, language: str) -> float:
    """1: one complete fenced block tagged with ``language`` (or an alias); 0.5: one block otherwise
    tagged, or several blocks; 0: no complete fenced block."""
    from visplotbench.extract import ALIASES, strip_reasoning

    blocks = _fenced_tags(strip_reasoning(reply or ""))
    if not blocks:
        return 0.0
    if len(blocks) == 1 and blocks[0] in ALIASES.get(language, (language,)):
        return 1.0
    return 0.5


def _fenced_tags(text: str) -> list[str]:
    """The info-string tag of every complete fenced block (the harness's fence grammar)."""
    import re

    fence = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([^\n`]*)\n(.*?)^[ \t]*\1[ \t]*$", re.S | re.M)
    return [(m.group(2).strip().split() or [""])[0].lower() for m in fence.finditer(text)]
