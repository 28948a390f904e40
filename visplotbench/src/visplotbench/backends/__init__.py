"""Model backends, looked up lazily by name (a missing optional dependency says how to install it).

Adding a backend: write ``backends/<name>.py`` with a config dataclass and a class that implements
``visplotbench.backends._base.Backend`` and a classmethod ``from_spec(target: str, options: dict)``;
add ``"<name>": "visplotbench.backends.<name>:<Class>"`` to ``BACKENDS``; add a test. A model is named
``<backend>:<target>`` on the command line, e.g. ``openai:gpt-4.1``, ``transformers:./ckpt``,
``replay:replies.jsonl``, ``gold``.
"""

from __future__ import annotations

import importlib
from typing import Any

from visplotbench.backends._base import Backend, GenerationRequest, GenerationResult

BACKENDS: dict[str, str] = {
    "openai": "visplotbench.backends.openai:OpenAIBackend",
    "transformers": "visplotbench.backends.transformers:TransformersBackend",
    "vllm": "visplotbench.backends.vllm:VLLMBackend",
    "gold": "visplotbench.backends.gold:GoldBackend",
    "replay": "visplotbench.backends.replay:ReplayBackend",
}
_EXTRAS = {"openai": "openai", "transformers": "transformers", "vllm": "vllm"}


def make_backend(spec: str, options: dict[str, Any] | None = None) -> Backend:
    """Build a backend from ``<backend>:<target>`` (e.g. ``openai:gpt-4.1``) and backend options."""
    name, _, target = spec.partition(":")
    if name not in BACKENDS:
        raise ValueError(
            f"Unknown backend {name!r} in {spec!r}. Choose one of: {', '.join(BACKENDS)} "
            "(written as <backend>:<model>, e.g. openai:gpt-4.1)."
        )
    module_name, _, class_name = BACKENDS[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        extra = _EXTRAS.get(name, name)
        raise ImportError(
            f"The {name} backend needs {exc.name}, which is not installed. "
            f"Fix: pip install 'visplotbench[{extra}]'"
        ) from exc
    cls = getattr(module, class_name)
    backend: Backend = cls.from_spec(target, dict(options or {}))
    return backend


__all__ = ["BACKENDS", "Backend", "GenerationRequest", "GenerationResult", "make_backend"]
