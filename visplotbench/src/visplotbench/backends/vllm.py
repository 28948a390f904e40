"""The vLLM offline-engine backend: a local checkpoint on one or more GPUs, all prompts in one batch.

``vllm:<path or hub id>`` starts ``vllm.LLM`` on first use (``tensor_parallel_size`` GPUs,
``max_model_len``) and hands it every prompt of a ``generate`` call at once.

Prompts are rendered here, as in the transformers backend, with the model's own chat template
(``prompt_format=chat_template``, default) or the reference harness's Llama-3 headers
(``llama3_headers``, spec 13.A.4), then tokenized and passed as token ids to ``LLM.generate``. We do
not call ``LLM.chat`` because one prompt longer than ``max_model_len`` makes vLLM reject the whole
batch: with the ids in hand an over-long prompt becomes an error result for that request alone (or,
with ``truncate_prompts``, keeps its last 0.9 x ``max_model_len`` tokens as the reference harness did),
and ``max_tokens`` is cut per request to the room left in the context. Sampling settings are given in
full, so the checkpoint's ``generation_config`` defaults do not apply (as in the reference harness).

Untested here: vLLM needs Linux and a CUDA GPU and cannot be installed on the development machines;
only option checking and the missing-package message are tested. Written against vLLM's documented
offline API (``LLM``, ``SamplingParams``, ``LLM.get_tokenizer``, ``LLM.generate`` with
``{"prompt_token_ids": ...}`` prompts, ``RequestOutput.outputs[0].text/finish_reason/token_ids``).
Needs ``pip install 'visplotbench[vllm]'``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from visplotbench.backends._base import GenerationRequest, GenerationResult
from visplotbench.backends._options import config_from_options
from visplotbench.backends.transformers import PROMPT_FORMATS, checkpoint_fingerprint, llama3_headers_prompt

MISSING_VLLM = (
    "The vllm backend needs vllm, which is not installed. Fix: pip install 'visplotbench[vllm]' "
    "(Linux with a CUDA GPU), or use the transformers backend, or serve the model with "
    "`vllm serve` and use the openai backend."
)


@dataclass
class VLLMConfig:
    """Settings of the vLLM backend.

    Attributes:
        model: checkpoint folder or Hub id (the spec's target).
        tokenizer: tokenizer folder or Hub id; ``None`` means the model's.
        prompt_format: ``chat_template`` or ``llama3_headers`` (see the module docstring).
        chat_template_kwargs: extra variables for the chat template (e.g. ``{"enable_thinking": false}``).
        tensor_parallel_size: GPUs the model is split over (the reference harness hard-coded 2).
        max_model_len: context length; ``None`` means the model's (the reference harness used 32768).
        truncate_prompts: keep the last 0.9 x max_model_len tokens of an over-long prompt (reference
            behaviour) instead of failing that request.
        max_tokens: reply token limit (the reference harness used 5000).
        temperature: 0 means greedy decoding.
        top_p: nucleus sampling.
        seed: sampling seed (engine and requests).
        stop: stop strings.
        dtype: weights' dtype, as vLLM reads it (``auto``, ``bfloat16``, ``float16``...).
        gpu_memory_utilization: share of each GPU's memory vLLM may take.
        trust_remote_code: allow the checkpoint's own modelling code.
    """

    model: str
    tokenizer: str | None = None
    prompt_format: str = "chat_template"
    chat_template_kwargs: dict[str, Any] = field(default_factory=dict)
    tensor_parallel_size: int = 1
    max_model_len: int | None = None
    truncate_prompts: bool = False
    max_tokens: int = 4096
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    stop: list[str] | None = None
    dtype: str = "auto"
    gpu_memory_utilization: float = 0.9
    trust_remote_code: bool = False

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("The vllm backend needs a model: vllm:<checkpoint folder or hub id>.")
        if self.prompt_format not in PROMPT_FORMATS:
            raise ValueError(
                f"prompt_format must be one of {', '.join(PROMPT_FORMATS)}, not {self.prompt_format!r}."
            )
        if self.tensor_parallel_size < 1 or self.max_tokens < 1 or self.temperature < 0:
            raise ValueError(
                "The vllm backend needs tensor_parallel_size >= 1, max_tokens >= 1, temperature >= 0."
            )
        if not 0 < self.gpu_memory_utilization <= 1:
            raise ValueError("gpu_memory_utilization must be in (0, 1].")


class VLLMBackend:
    """Offline batched generation with vLLM (see the module docstring)."""

    name: ClassVar[str] = "vllm"

    def __init__(self, config: VLLMConfig) -> None:
        self.config = config
        self._llm: Any = None

    @classmethod
    def from_spec(cls, target: str, options: dict[str, Any]) -> VLLMBackend:
        config = config_from_options(VLLMConfig, options, "vllm", model=target)
        if importlib.util.find_spec("vllm") is None:
            raise ImportError(MISSING_VLLM, name="vllm")
        return cls(config)

    def identity(self) -> dict[str, Any]:
        c = self.config
        local = Path(c.model).expanduser()
        return {
            "backend": self.name,
            "model": c.model,
            "fingerprint": checkpoint_fingerprint(local) if local.is_dir() else None,
            "tokenizer": c.tokenizer,
            "prompt_format": c.prompt_format,
            "chat_template_kwargs": c.chat_template_kwargs,
            "max_model_len": c.max_model_len,
            "truncate_prompts": c.truncate_prompts,
            "max_tokens": c.max_tokens,
            "temperature": c.temperature,
            "top_p": c.top_p,
            "seed": c.seed,
            "stop": c.stop,
            "dtype": c.dtype,
        }

    def close(self) -> None:
        self._llm = None

    def _engine(self) -> Any:
        if self._llm is None:
            try:
                from vllm import LLM
            except ImportError as exc:
                raise ImportError(MISSING_VLLM, name="vllm") from exc
            c = self.config
            self._llm = LLM(
                model=c.model,
                tokenizer=c.tokenizer,
                tensor_parallel_size=c.tensor_parallel_size,
                max_model_len=c.max_model_len,
                dtype=c.dtype,
                seed=c.seed,
                gpu_memory_utilization=c.gpu_memory_utilization,
                trust_remote_code=c.trust_remote_code,
            )
        return self._llm

    def _prompt_ids(self, tokenizer: Any, messages: Sequence[dict[str, str]]) -> list[int]:
        if (
            self.config.prompt_format == "llama3_headers"
        ):  # a plain string, tokenized as vLLM did for the harness
            return list(tokenizer.encode(llama3_headers_prompt(messages), add_special_tokens=True))
        text = tokenizer.apply_chat_template(
            list(messages), tokenize=False, add_generation_prompt=True, **self.config.chat_template_kwargs
        )
        return list(tokenizer.encode(text, add_special_tokens=False))  # the template has any BOS itself

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[tuple[int, GenerationResult]]:
        if not requests:
            return
        from vllm import SamplingParams

        c, llm = self.config, self._engine()
        tokenizer = llm.get_tokenizer()
        engine = getattr(llm, "llm_engine", None)
        model_config = getattr(llm, "model_config", None) or getattr(engine, "model_config", None)
        context = int(model_config.max_model_len) if model_config is not None else (c.max_model_len or 32768)
        indices, prompts, params = [], [], []
        for index, request in enumerate(requests):
            try:
                ids = self._prompt_ids(tokenizer, request.messages)
            except Exception as exc:
                yield index, GenerationResult(error=f"could not build the prompt: {exc}")
                continue
            if len(ids) >= context:
                if not c.truncate_prompts:
                    yield (
                        index,
                        GenerationResult(
                            error=(
                                f"the prompt has {len(ids)} tokens, max_model_len is {context} (set max_model_len "
                                "higher, or truncate_prompts=true for the reference behaviour)"
                            )
                        ),
                    )
                    continue
                ids = ids[-int(context * 0.9) :]
            indices.append(index)
            prompts.append({"prompt_token_ids": ids})
            params.append(
                SamplingParams(
                    temperature=c.temperature,
                    top_p=c.top_p if c.temperature > 0 else 1.0,
                    seed=c.seed,
                    stop=c.stop,
                    max_tokens=min(c.max_tokens, context - len(ids)),
                    repetition_penalty=1.0,
                )
            )
        if not prompts:
            return
        try:
            outputs = llm.generate(prompts, params, use_tqdm=False)
        except Exception as exc:  # an engine failure hits every request of the batch
            for index in indices:
                yield index, GenerationResult(error=f"vLLM generation failed: {type(exc).__name__}: {exc}")
            return
        for index, prompt, output in zip(indices, prompts, outputs, strict=True):
            completion = output.outputs[0]
            yield (
                index,
                GenerationResult(
                    text=completion.text,
                    finish_reason=completion.finish_reason or "",
                    usage={
                        "prompt_tokens": len(prompt["prompt_token_ids"]),
                        "completion_tokens": len(completion.token_ids),
                    },
                ),
            )
