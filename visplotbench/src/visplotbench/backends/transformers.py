"""The local transformers backend: a checkpoint folder or (cached) Hub id, generated in batches.

``transformers:<path or hub id>`` loads the tokenizer and causal LM on first use and generates in
batches of ``batch_size`` (prompts sorted by length, left-padded; pad falls back to eos), greedy when
``temperature == 0``. Only the new tokens are decoded. Sampling settings are written out in full
(repetition penalty 1, no top-k) rather than inherited from the checkpoint's ``generation_config``,
so a reply depends only on ``identity()``; the checkpoint's eos ids are used.

``prompt_format``:
  * ``chat_template`` (default): the tokenizer's own chat template with the generation prompt.
  * ``llama3_headers``: the reference harness's hand-built Llama-3 header prompt, used there for every
    model whatever its native format (spec 13.A.4); reproduce it only to calibrate against the paper.
    The string is tokenized as vLLM did (with the tokenizer's special tokens, e.g. a Llama BOS).

A batch that fails (e.g. out of memory) is retried one request at a time; a request that still fails
is yielded with ``error``. Needs ``pip install 'visplotbench[transformers]'``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from visplotbench.backends._base import GenerationRequest, GenerationResult
from visplotbench.backends._options import config_from_options, require_packages

PROMPT_FORMATS = ("chat_template", "llama3_headers")
_DTYPES = ("auto", "float32", "bfloat16", "float16")


def llama3_headers_prompt(messages: Sequence[dict[str, str]]) -> str:
    """The reference harness's prompt: every turn in Llama-3 headers, then an open assistant header."""
    turns = "".join(
        f"<|start_header_id|>{m['role']}<|end_header_id|>\n\n{m['content']}<|eot_id|>" for m in messages
    )
    return turns + "<|start_header_id|>assistant<|end_header_id|>\n\n"


def checkpoint_fingerprint(path: str | Path) -> str:
    """A short hash of a local checkpoint folder (small files by content, large ones by size and mtime)."""
    root = Path(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file() and ".cache" not in p.parts):
        stat = file.stat()
        digest.update(str(file.relative_to(root)).encode())
        if stat.st_size <= 10_000_000:
            digest.update(file.read_bytes())
        else:
            digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


@dataclass
class TransformersConfig:
    """Settings of the transformers backend.

    Attributes:
        model: checkpoint folder or Hub id (the spec's target).
        tokenizer: tokenizer folder or Hub id; ``None`` means the model's.
        prompt_format: ``chat_template`` or ``llama3_headers`` (see the module docstring).
        chat_template_kwargs: extra variables for the chat template (e.g. ``{"enable_thinking": false}``).
        batch_size: prompts generated together.
        max_new_tokens: reply token limit.
        temperature: 0 means greedy decoding.
        top_p: nucleus sampling (only when sampling).
        seed: torch seed set before sampling.
        dtype: ``auto`` (the checkpoint's), ``float32``, ``bfloat16`` or ``float16``.
        device: ``auto`` (cuda when available, else cpu) or a torch device such as ``cuda:1``.
        trust_remote_code: allow the checkpoint's own modelling code.
    """

    model: str
    tokenizer: str | None = None
    prompt_format: str = "chat_template"
    chat_template_kwargs: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 8
    max_new_tokens: int = 4096
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    dtype: str = "auto"
    device: str = "auto"
    trust_remote_code: bool = False

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError(
                "The transformers backend needs a model: transformers:<checkpoint folder or hub id>."
            )
        if self.prompt_format not in PROMPT_FORMATS:
            raise ValueError(
                f"prompt_format must be one of {', '.join(PROMPT_FORMATS)}, not {self.prompt_format!r}."
            )
        if self.dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(_DTYPES)}, not {self.dtype!r}.")
        if self.batch_size < 1 or self.max_new_tokens < 1 or self.temperature < 0:
            raise ValueError(
                "The transformers backend needs batch_size >= 1, max_new_tokens >= 1, temperature >= 0."
            )
        if self.model.startswith((".", "/", "~")) and not Path(self.model).expanduser().exists():
            raise ValueError(f"transformers:{self.model}: no such checkpoint folder.")


class TransformersBackend:
    """Batched local generation with transformers (see the module docstring)."""

    name: ClassVar[str] = "transformers"

    def __init__(self, config: TransformersConfig) -> None:
        self.config = config
        self._tok: Any = None
        self._model: Any = None
        self._fingerprint = ""

    @classmethod
    def from_spec(cls, target: str, options: dict[str, Any]) -> TransformersBackend:
        config = config_from_options(TransformersConfig, options, "transformers", model=target)
        require_packages("transformers", "torch", "transformers")
        return cls(config)

    def identity(self) -> dict[str, Any]:
        c = self.config
        if not self._fingerprint and Path(c.model).expanduser().is_dir():
            self._fingerprint = checkpoint_fingerprint(Path(c.model).expanduser())
        return {
            "backend": self.name,
            "model": c.model,
            "fingerprint": self._fingerprint or None,
            "tokenizer": c.tokenizer,
            "prompt_format": c.prompt_format,
            "chat_template_kwargs": c.chat_template_kwargs,
            "max_new_tokens": c.max_new_tokens,
            "temperature": c.temperature,
            "top_p": c.top_p,
            "seed": c.seed,
            "dtype": c.dtype,
        }

    def close(self) -> None:
        self._model = None
        self._tok = None

    def tokenizer(self) -> Any:
        if self._tok is None:
            from transformers import AutoTokenizer

            c = self.config
            self._tok = AutoTokenizer.from_pretrained(
                c.tokenizer or c.model, trust_remote_code=c.trust_remote_code
            )
        return self._tok

    def render_prompt(self, messages: Sequence[dict[str, str]]) -> str:
        """The exact prompt text the model continues for ``messages``."""
        if self.config.prompt_format == "llama3_headers":
            return llama3_headers_prompt(messages)
        tok = self.tokenizer()
        if not getattr(tok, "chat_template", None):
            raise ValueError(
                f"The tokenizer of {self.config.model} has no chat template. Fix: give a tokenizer "
                "with one (tokenizer option) or use prompt_format=llama3_headers."
            )
        return str(
            tok.apply_chat_template(
                list(messages), tokenize=False, add_generation_prompt=True, **self.config.chat_template_kwargs
            )
        )

    def _load_model(self) -> Any:
        if self._model is None:
            import torch
            import transformers
            from packaging.version import Version

            c = self.config
            device = c.device if c.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
            dtype: Any = c.dtype if c.dtype == "auto" else getattr(torch, c.dtype)
            dtype_key = "dtype" if Version(transformers.__version__) >= Version("4.56") else "torch_dtype"
            auto: Any = transformers.AutoModelForCausalLM
            model = auto.from_pretrained(c.model, trust_remote_code=c.trust_remote_code, **{dtype_key: dtype})
            self._model = model.to(device).eval()
        return self._model

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[tuple[int, GenerationResult]]:
        if not requests:
            return
        import torch

        tok, model = self.tokenizer(), self._load_model()
        encoded: dict[int, list[int]] = {}
        for index, request in enumerate(requests):
            try:
                prompt = self.render_prompt(request.messages)
            except Exception as exc:
                yield index, GenerationResult(error=f"could not build the prompt: {exc}")
                continue
            special = self.config.prompt_format == "llama3_headers"  # as vLLM tokenized the harness's strings
            encoded[index] = tok(prompt, add_special_tokens=special)["input_ids"]
        if self.config.temperature > 0:
            torch.manual_seed(self.config.seed)
        order = sorted(encoded, key=lambda i: -len(encoded[i]))
        size = self.config.batch_size
        for start in range(0, len(order), size):
            batch = order[start : start + size]
            try:
                results = self._generate_batch(model, [encoded[i] for i in batch])
            except Exception as exc:
                if len(batch) == 1:
                    yield batch[0], GenerationResult(error=f"generation failed: {type(exc).__name__}: {exc}")
                    continue
                results = []
                for i in batch:  # one at a time: a smaller batch may fit where the whole did not
                    try:
                        results.extend(self._generate_batch(model, [encoded[i]]))
                    except Exception as one_exc:
                        results.append(
                            GenerationResult(error=f"generation failed: {type(one_exc).__name__}: {one_exc}")
                        )
            yield from zip(batch, results, strict=True)

    def _generate_batch(self, model: Any, prompts: list[list[int]]) -> list[GenerationResult]:
        import torch
        from transformers import GenerationConfig

        c, tok = self.config, self.tokenizer()
        eos = model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [tok.eos_token_id])
        pad = tok.pad_token_id if tok.pad_token_id is not None else min(eos_ids)
        width = max(len(p) for p in prompts)
        input_ids = torch.full((len(prompts), width), pad, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, ids in enumerate(prompts):  # left padding: every row ends where generation starts
            input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            mask[row, width - len(ids) :] = 1
        sample = c.temperature > 0
        sampling = {"temperature": c.temperature, "top_p": c.top_p, "top_k": 0} if sample else {}
        settings = GenerationConfig(
            max_new_tokens=c.max_new_tokens,
            do_sample=sample,
            num_beams=1,
            repetition_penalty=1.0,
            eos_token_id=sorted(eos_ids),
            pad_token_id=pad,
            **sampling,
        )
        with torch.no_grad():
            output = model.generate(
                input_ids=input_ids.to(model.device),
                attention_mask=mask.to(model.device),
                generation_config=settings,
            )
        results = []
        for row, ids in enumerate(prompts):
            new = output[row, width:].tolist()
            stop = next((k for k, token in enumerate(new) if token in eos_ids), None)
            kept = new if stop is None else new[:stop]
            results.append(
                GenerationResult(
                    text=tok.decode(kept, skip_special_tokens=True),
                    finish_reason="stop" if stop is not None or len(new) < c.max_new_tokens else "length",
                    usage={"prompt_tokens": len(ids), "completion_tokens": len(kept) + (stop is not None)},
                )
            )
        return results
