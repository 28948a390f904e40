"""Rewards computed by the render engine, for GRPO (trl) or any other RL loop. Imports no torch.

    from viscoder2_train.rewards import RewardConfig, Rewarder, RewardTask

    with Rewarder(RewardConfig(reward_visual=1.0)) as rewarder:
        scores = rewarder.score(replies, [RewardTask("svg", reference_image=png), ...])
        scores[0].components        # {"renders": 1.0, "visual": 0.73, "format": 1.0}
        scores[0].total(rewarder.weights)
        trainer = GRPOTrainer(..., reward_funcs=rewarder.reward_funcs(),
                              args=GRPOConfig(reward_weights=rewarder.reward_weights(), ...))

A reply is scored as the benchmark would read it: the program is pulled out with the harness's own
extraction rules (``visplotbench.extract.extract_code``), placed with the task's data files and rendered
through one shared ``RenderPool`` (every completion of a batch at once, across languages). Components:

  * ``renders`` 1 when the program renders without error to a non-blank image, else 0 (error, timeout,
    no image, blank image, no code).
  * ``visual``  offline similarity of the first image to the task's reference image, as the report
    computes it (``ssim``, ``edge_f1`` or their ``mean``; 0..1); 0 when nothing rendered; ``None`` (not
    applicable: trl leaves it out for that completion) when the task has no reference image.
  * ``format``  1 for exactly one complete fenced block tagged with the task's language (or an alias),
    0.5 for one block tagged otherwise or several blocks, 0 for none.
  * ``judge``   an LLM/VLM judge's score / 100 through any OpenAI-compatible endpoint (visplotbench's
    judge client; ``task`` or ``vis`` prompt); 0 when nothing rendered.
  * ``repair``  minus the number of self-debug rounds the rollout used (multi-turn rollouts only).

Weights (``RewardConfig.reward_*``) live in the recipe; a component with weight 0 is not computed.
Environment failures are never scored: when the engine says ``env_failure`` (missing tool, browser
crash) or the judge endpoint gives no answer, EVERY component of that completion is ``None``. trl
1.16 then treats the completion as unscorable (left out of the group baseline, advantage 0); the
failures are counted (``stats``, the trainer's ``visplot/env_failures`` metric) and logged with the
engine's message. Renders and judgements are cached by content (language, program, data files,
limits; image and task text), so the identical completions GRPO groups often contain, and the next
epoch's repeats, cost nothing.
"""

from viscoder2_train.rewards._config import (
    COMPONENTS,
    ENV_FAILURE,
    JUDGE_FAILURE,
    NO_CODE,
    CompletionScore,
    RewardConfig,
    RewardTask,
    format_score,
)
from viscoder2_train.rewards._rewarder import Rewarder
from viscoder2_train.rewards._trl import completion_text, make_reward_funcs, tasks_from_columns

__all__ = [
    "COMPONENTS",
    "ENV_FAILURE",
    "JUDGE_FAILURE",
    "NO_CODE",
    "CompletionScore",
    "RewardConfig",
    "RewardTask",
    "Rewarder",
    "completion_text",
    "format_score",
    "make_reward_funcs",
    "tasks_from_columns",
]
