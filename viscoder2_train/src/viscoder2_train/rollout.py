"""Self-debug rollouts for GRPO: up to K repair rounds, the engine's error as the next user turn.

The training-time mirror of the benchmark's protocol (``visplotbench.harness``): a completion that does not
render gets the benchmark's own feedback turn (``visplotbench.harness._selfdebug.feedback``: the error
excerpt, or "drew nothing" / "blank image" / "no code") and another assistant turn, up to
``self_debug_rounds`` times. The reward scores the LAST program (``final_reply``) and the ``repair``
component charges the rounds used (``repair_rounds``).

How it is expressed in trl 1.16: ``GRPOTrainer(rollout_func=...)`` (experimental in trl). The function
receives this process's prompts (each repeated ``num_generations`` times) and the trainer, and returns
``prompt_ids``, ``completion_ids``, ``logprobs`` and extra fields. Each completion is the concatenation
of every assistant turn and every feedback turn in between (tokenized with the chat template), with an
``env_mask`` that is 1 on the model's tokens and 0 on the feedback tokens, so only the model's tokens
carry loss. Generation goes through the trainer's own ``_generate_single_turn`` (transformers
``generate`` here; vLLM colocate or server on GPUs), so weight syncing and sampling settings are trl's.
Limits, said plainly: that method is private to trl (pinned ``trl>=1.16,<2``); ``logprobs`` are only
returned on the vLLM path (the importance-sampling correction is then applied to all turns);
``max_completion_length`` bounds each turn, not the whole rollout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _help(text: str) -> dict[str, Any]:
    return {"help": text}


@dataclass
class RolloutConfig:
    """How completions are produced, and what the policy starts from.

    Attributes:
        stage: the training stage (``grpo``); ``viscoder2-train launch`` reads it to pick the module.
        self_debug_rounds: K: repair rounds a rollout may use after a failed render (0: single turn).
        sft_base_recipe: when ``model_name_or_path`` does not exist yet, build it first with this SFT recipe
            (the ``grpo-tiny`` recipe starts from the ``tiny`` SFT recipe's checkpoint, as RL starts from SFT).
        sft_base_args: extra flags for that SFT run (one string, shell-quoted).
    """

    stage: str = field(default="grpo", metadata=_help("training stage; launch runs viscoder2_train.<stage>"))
    self_debug_rounds: int = field(default=0, metadata=_help("K repair rounds after a failed render"))
    sft_base_recipe: str | None = field(
        default=None, metadata=_help("SFT recipe that builds model_name_or_path when it is missing")
    )
    sft_base_args: str = field(default="", metadata=_help("extra flags for that SFT run"))

    def __post_init__(self) -> None:
        if self.self_debug_rounds < 0:
            raise ValueError(f"self_debug_rounds must be >= 0, not {self.self_debug_rounds}.")
