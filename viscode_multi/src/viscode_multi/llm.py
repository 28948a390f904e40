"""One OpenAI-compatible chat endpoint for the LLM stages (extraction, instructions, repairs).

Prompt texts live in ``prompts/<version>.json`` (our own wording); every record that an endpoint
wrote names the model and the prompt file's hash, so a change of wording is a change of version.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

PROMPTS_VERSION = "v1"


@functools.lru_cache(maxsize=4)
def load_prompts(version: str = PROMPTS_VERSION) -> dict[str, Any]:
    text = (resources.files("viscode_multi") / "prompts" / f"{version}.json").read_text()
    data = json.loads(text)
    data["hash"] = hashlib.sha256(text.encode()).hexdigest()[:12]
    return data


@dataclass(frozen=True)
class LLMConfig:
    """An OpenAI-compatible endpoint.

    Attributes:
        base_url: e.g. ``https://api.openai.com/v1`` or ``http://127.0.0.1:8000/v1`` (vLLM, SGLang, Ollama).
        model: the model name the endpoint serves (the paper: gpt-4.1-mini to extract, gpt-4.1 to instruct).
        api_key_env: the environment variable holding the key (a local server takes any).
        temperature: sampling temperature (0: as repeatable as the endpoint allows).
        max_tokens: reply length limit.
        timeout_s: seconds per request.
        extra: further request fields (e.g. ``{"seed": 0}``).
    """

    base_url: str
    model: str
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = 0.0
    max_tokens: int = 4096
    timeout_s: float = 120.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"llm:{self.model}:prompts-{PROMPTS_VERSION}-{load_prompts()['hash']}"


class LLM:
    """A small client; one per worker process (``openai`` is imported on first use)."""

    def __init__(self, config: LLMConfig):
        self.config = config
        self._client: Any = None

    def chat(self, system: str, user: str, image_png: bytes | None = None) -> str:
        """The reply text; raises on transport errors (callers record them and go on)."""
        if self._client is None:
            import openai

            self._client = openai.OpenAI(
                base_url=self.config.base_url,
                api_key=os.environ.get(self.config.api_key_env) or "not-needed",
                timeout=self.config.timeout_s,
                max_retries=2,
            )
        content: Any = user
        if image_png is not None:
            url = "data:image/png;base64," + base64.b64encode(image_png).decode()
            content = [{"type": "text", "text": user}, {"type": "image_url", "image_url": {"url": url}}]
        reply = self._client.chat.completions.create(
            model=self.config.model,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": content}],
            temperature=self.config.temperature,
            max_tokens=self.config.max_tokens,
            **self.config.extra,
        )
        return reply.choices[0].message.content or ""
