"""The self-debug ``rollout_func`` for trl's GRPOTrainer (see ``viscoder2_train.rollout`` for the protocol).

    rollout = make_rollout_func(rewarder, rounds=2, dataset=prompts)
    GRPOTrainer(..., rollout_func=rollout)

Per completion: generate; render the reply (through the rewarder, so the final scoring hits its cache);
while it did not render, the turn ended with the end-of-turn token and rounds are left, append the
benchmark's feedback turn and generate again from the exact tokens so far. The completion handed back to
trl is every assistant turn with the feedback turns between them; ``env_mask`` is 0 on the feedback
tokens (trl takes no loss there). Extra fields for the rewards: ``final_reply`` and ``repair_rounds``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from viscoder2_train.rewards import RewardTask


def _prompt_key(prompt: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(prompt, sort_keys=True).encode()).hexdigest()


def _feedback(language: str, status: str, error: str) -> str:
    from visplotbench.harness import feedback  # the benchmark's own wording

    return str(feedback(language, status, error))


class _Conversation:
    """One rollout: its messages, the tokens after the prompt, and which of them the model wrote."""

    def __init__(self, prompt: list[dict[str, Any]], task: RewardTask) -> None:
        self.messages = [dict(m) for m in prompt]
        self.task = task
        self.ids: list[int] = []
        self.mask: list[int] = []
        self.logprobs: list[float] = []
        self.replies: list[str] = []
        self.done = False


def _segment(tokenizer: Any, messages: list[dict[str, Any]], generated: str, feedback: str) -> list[int]:
    """Token ids from the end of the generated turn to the next generation prompt (the feedback turn)."""
    before = tokenizer.apply_chat_template(messages[:-1], add_generation_prompt=True, tokenize=False)
    closed = tokenizer.apply_chat_template(messages, tokenize=False)
    after = tokenizer.apply_chat_template(
        [*messages, {"role": "user", "content": feedback}], add_generation_prompt=True, tokenize=False
    )
    if not (closed.startswith(before + generated) and after.startswith(closed)):
        raise ValueError(
            "Self-debug rollouts need a chat template that keeps an assistant turn exactly as generated "
            "(this one rewrites it, e.g. by stripping reasoning), so the next turn cannot be appended to the "
            "generated tokens. Use self_debug_rounds: 0 with this model, or a template without rewriting."
        )
    text = closed[len(before + generated) :] + after[len(closed) :]
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def make_rollout_func(rewarder: Any, rounds: int, dataset: Any) -> Callable[[list[Any], Any], dict[str, Any]]:
    """A trl ``rollout_func`` doing up to ``rounds`` repair rounds; tasks are found by prompt in ``dataset``."""
    from viscoder2_train.rewards import tasks_from_columns

    columns = {name: dataset[name] for name in ("language", "data", "reference_image", "task_text")}
    tasks = tasks_from_columns(len(dataset), columns)
    by_prompt = {_prompt_key(p): t for p, t in zip(dataset["prompt"], tasks, strict=True)}

    def rollout(prompts: list[Any], trainer: Any) -> dict[str, Any]:
        tokenizer = trainer.processing_class
        eos = set(trainer.eos_token_ids)
        try:
            conversations = [_Conversation(p, by_prompt[_prompt_key(p)]) for p in prompts]
        except KeyError as exc:
            raise ValueError("rollout_func got a prompt that is not in the training dataset.") from exc
        prompt_ids, _, _ = trainer._tokenize_prompts(prompts)
        active = list(range(len(conversations)))
        for round_ in range(rounds + 1):
            inputs = [list(prompt_ids[i]) + conversations[i].ids for i in active]
            if not inputs:
                break
            per_prompt = trainer.num_generations if round_ == 0 else 1
            ids, logprobs = trainer._generate_single_turn(inputs, None, {}, per_prompt)
            replies = tokenizer.batch_decode(ids, skip_special_tokens=True)
            scores = rewarder.score(replies, [conversations[i].task for i in active])
            still = []
            for j, i in enumerate(active):
                conv, turn = conversations[i], list(ids[j])
                conv.ids += turn
                conv.mask += [1] * len(turn)
                conv.logprobs += list(logprobs[j]) if logprobs is not None else []
                conv.replies.append(replies[j])
                ended = bool(turn) and turn[-1] in eos
                if scores[j].status == "ok" or not scores[j].scorable or not ended or round_ == rounds:
                    continue
                conv.messages.append({"role": "assistant", "content": replies[j]})
                generated = tokenizer.decode(turn, skip_special_tokens=False)
                text = _feedback(conv.task.language, scores[j].status, scores[j].error)
                segment = _segment(tokenizer, conv.messages, generated, text)
                conv.messages.append({"role": "user", "content": text})
                conv.ids += segment
                conv.mask += [0] * len(segment)
                conv.logprobs += [0.0] * len(segment)
                still.append(i)
            active = still
        use_logprobs = bool(trainer.use_vllm)
        return {
            "prompt_ids": [list(p) for p in prompt_ids],
            "completion_ids": [c.ids for c in conversations],
            "logprobs": [c.logprobs for c in conversations] if use_logprobs else None,
            "env_mask": [c.mask for c in conversations],
            "final_reply": [c.replies[-1] for c in conversations],
            "repair_rounds": [len(c.replies) - 1 for c in conversations],
        }

    return rollout
