"""The Space's three model sources, each built from ``visplotbench``'s own backends.

* an OpenAI-compatible endpoint (``openai:<model>``, the benchmark's backend): the operator's
  endpoint gets the API key from the environment; an endpoint a visitor types gets none;
* a local transformers checkpoint (``transformers:<folder>``): loaded once, shared by all
  visitors, one generation at a time;
* the replay of a run folder: the rounds ``visplotbench run`` recorded, shown as they were.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from visplotbench.backends import Backend, GenerationRequest, GenerationResult, make_backend

from viscoder2_space._config import SpaceConfig

ENDPOINT, CHECKPOINT, REPLAY = "OpenAI-compatible endpoint", "Local checkpoint", "Replay a run folder"
MODEL_KINDS = (ENDPOINT, CHECKPOINT, REPLAY)
# A variable name nobody sets: a visitor's own endpoint is called with no key at all.
_NO_KEY_ENV = "VISCODER2_VISITOR_ENDPOINT_HAS_NO_KEY"

HOW_TO_CONFIGURE = (
    "No model is configured. Start the Space with an OpenAI-compatible endpoint "
    "(`VISCODER2_BASE_URL=http://host:8000/v1 VISCODER2_MODEL=<name>`, the key in `OPENAI_API_KEY`; "
    "vLLM, SGLang, Ollama and TGI all serve this API), or a local checkpoint "
    "(`VISCODER2_CHECKPOINTS=/path/to/checkpoint`, e.g. the output of `make train SIZE=tiny`), or put "
    "`visplotbench run` outputs under `VISCODER2_RUNS` to replay them. The Playground tab works without a model."
)


class ModelError(ValueError):
    """A model choice that cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class ModelChoice:
    """What the visitor picked in the model panel.

    Attributes:
        kind: one of ``MODEL_KINDS``.
        base_url, model: the endpoint (kind ``ENDPOINT``).
        checkpoint: the checkpoint folder (kind ``CHECKPOINT``).
        run_folder: the run folder (kind ``REPLAY``).
    """

    kind: str
    base_url: str = ""
    model: str = ""
    checkpoint: str = ""
    run_folder: str = ""


def endpoint_backend(config: SpaceConfig, base_url: str, model: str) -> Backend:
    """The benchmark's OpenAI-compatible backend for ``base_url`` and ``model``.

    Raises:
        ModelError: no URL or model, or a visitor URL where the operator does not allow one.
    """
    base_url = (base_url or config.base_url).strip().rstrip("/")
    model = (model or config.model).strip()
    if not base_url or not model:
        raise ModelError(
            "Give the endpoint's base URL (ending in /v1) and the model name it serves. " + HOW_TO_CONFIGURE
        )
    own = base_url == config.base_url
    if not own and not config.allow_custom_endpoint:
        raise ModelError(
            f"This Space only calls its configured endpoint ({config.base_url or 'none'}); "
            "other endpoints are turned off by the operator."
        )
    if not base_url.startswith(("http://", "https://")):
        raise ModelError(f"The base URL must start with http:// or https://, not {base_url[:80]!r}.")
    options: dict[str, Any] = {
        "base_url": base_url,
        # The operator's key goes to the operator's endpoint only, never to a URL a visitor typed.
        "api_key_env": config.api_key_env if own else _NO_KEY_ENV,
        "timeout_s": float(config.request_timeout_s),
        "retries": 1,
        "backoff_s": 0.5,
        "concurrency": 1,
    }
    try:
        return make_backend(f"openai:{model}", options)
    except (ValueError, ImportError) as exc:
        raise ModelError(str(exc)) from None


class _OneAtATime:
    """A shared local model: one generation at a time across visitors (the weights are loaded once)."""

    name: ClassVar[str] = "transformers"

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._lock = threading.Lock()

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[tuple[int, GenerationResult]]:
        with self._lock:
            try:
                results = list(self.backend.generate(requests))
            except Exception as exc:
                # The weights load on first use: a folder that is no checkpoint, a missing file or an
                # out-of-memory ends up here. Each request fails with the reason (a clean message in the
                # page); the next run tries again.
                reason = f"the checkpoint could not generate: {type(exc).__name__}: {str(exc)[:300]}"
                results = [(i, GenerationResult(error=reason)) for i in range(len(requests))]
        yield from results  # outside the lock: a consumer that stops early must not keep others waiting

    def identity(self) -> dict[str, Any]:
        return self.backend.identity()

    def close(self) -> None:  # shared: closed with the app, not per run
        pass


class Checkpoints:
    """The checkpoints the operator offers, each loaded on first use and then kept."""

    def __init__(self, config: SpaceConfig) -> None:
        self.config = config
        self._loaded: dict[str, _OneAtATime] = {}
        self._lock = threading.Lock()

    def backend(self, path: str) -> Backend:
        """The shared backend of ``path`` (ModelError when it is not offered or cannot load)."""
        if path not in self.config.checkpoints:
            offered = ", ".join(self.config.checkpoints) or "none (set VISCODER2_CHECKPOINTS)"
            raise ModelError(f"Checkpoint {path!r} is not offered here. Offered: {offered}.")
        if not Path(path).is_dir():
            raise ModelError(f"Checkpoint folder {path!r} does not exist on this machine.")
        with self._lock:
            if path not in self._loaded:
                try:
                    options = {"batch_size": 1, "max_new_tokens": self.config.max_new_tokens}
                    backend = make_backend(f"transformers:{path}", options)
                except (ValueError, ImportError, OSError) as exc:
                    raise ModelError(f"Checkpoint {path!r} cannot be used: {exc}") from None
                self._loaded[path] = _OneAtATime(backend)
            return self._loaded[path]

    def close(self) -> None:
        with self._lock:
            for shared in self._loaded.values():
                shared.backend.close()
            self._loaded.clear()


def explain_generation_error(error: str, base_url: str) -> str:
    """A visitor-facing sentence for a failed model request (no stack trace, no key)."""
    lowered = error.lower()
    where = f" at {base_url}" if base_url else ""
    if any(s in lowered for s in ("connection", "connect", "refused", "unreachable", "name or service")):
        return (
            f"The model endpoint{where} could not be reached ({error.strip()[:200]}). Check that the server "
            "is running and that the base URL ends in /v1. The Playground tab works without a model."
        )
    if "timed out" in lowered or "timeout" in lowered:
        return f"The model endpoint{where} did not answer in time ({error.strip()[:200]}). Try again later."
    if "401" in lowered or "403" in lowered or "auth" in lowered:
        return f"The model endpoint{where} refused the request ({error.strip()[:200]}): check the API key."
    return f"The model request failed: {error.strip()[:300]}"
