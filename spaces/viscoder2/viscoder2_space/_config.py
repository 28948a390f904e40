"""``SpaceConfig``: the operator's settings, read once from the environment (typed, validated).

Every setting is an environment variable, so a Hugging Face Space sets them as Variables/Secrets and
``make space`` passes them through. Only the *name* of the API key's variable is configuration; its
value stays in the environment, is handed to the model client alone, and is never shown or logged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _int(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name}={text!r}: expected a whole number between {low} and {high}.") from None
    if not low <= value <= high:
        raise ValueError(f"{name}={value}: expected a whole number between {low} and {high}.")
    return value


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    text = env.get(name, "").strip().lower()
    if not text:
        return default
    if text not in _TRUE + _FALSE:
        raise ValueError(f"{name}={text!r}: expected 1/true/yes/on or 0/false/no/off.")
    return text in _TRUE


def _paths(env: dict[str, str], name: str) -> list[str]:
    return [p.strip() for p in env.get(name, "").split(os.pathsep) if p.strip()]


@dataclass
class SpaceConfig:
    """The Space's settings (environment variable in brackets).

    Attributes:
        base_url: the operator's OpenAI-compatible endpoint, ending in /v1 (``VISCODER2_BASE_URL``).
        model: the model name served there (``VISCODER2_MODEL``).
        api_key_env: the NAME of the variable holding the endpoint's key (``VISCODER2_API_KEY_ENV``,
            default ``OPENAI_API_KEY``). The key is sent only to ``base_url``: a visitor who types
            another URL gets no key with it.
        allow_custom_endpoint: visitors may type their own base URL and model (``VISCODER2_ALLOW_CUSTOM_ENDPOINT``).
        checkpoints: local transformers checkpoint folders offered in the model list
            (``VISCODER2_CHECKPOINTS``, separated by ``:``).
        max_new_tokens: the reply token limit of a local checkpoint (``VISCODER2_MAX_NEW_TOKENS``).
        runs_dir: a folder whose sub-folders are ``visplotbench run`` outputs to replay (``VISCODER2_RUNS``).
        request_timeout_s: seconds before a model request is given up (``VISCODER2_TIMEOUT_S``).
        concurrency: self-debug runs served at once; later ones wait in the queue (``VISCODER2_CONCURRENCY``).
        queue_size: visitors who may wait in the queue (``VISCODER2_QUEUE_SIZE``).
        max_rounds: the most self-debug rounds a visitor may ask for (0-5).
        max_code_chars, max_data_bytes, max_instruction_chars: input bounds.
        host, port: where ``app.py`` serves (``VISCODER2_HOST``, ``PORT`` / ``VISCODER2_PORT``).
    """

    base_url: str = ""
    model: str = ""
    api_key_env: str = "OPENAI_API_KEY"
    allow_custom_endpoint: bool = True
    checkpoints: list[str] = field(default_factory=list)
    max_new_tokens: int = 1024
    runs_dir: str = "runs"
    request_timeout_s: int = 120
    concurrency: int = 4
    queue_size: int = 64
    max_rounds: int = 5
    max_code_chars: int = 100_000
    max_data_bytes: int = 1_000_000
    max_instruction_chars: int = 8_000
    host: str = "127.0.0.1"
    port: int = 7860

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> SpaceConfig:
        """The settings from ``environ`` (default ``os.environ``); ValueError names a bad variable."""
        env = dict(os.environ if environ is None else environ)
        return cls(
            base_url=env.get("VISCODER2_BASE_URL", "").strip().rstrip("/"),
            model=env.get("VISCODER2_MODEL", "").strip(),
            api_key_env=env.get("VISCODER2_API_KEY_ENV", "").strip() or "OPENAI_API_KEY",
            allow_custom_endpoint=_bool(env, "VISCODER2_ALLOW_CUSTOM_ENDPOINT", True),
            checkpoints=_paths(env, "VISCODER2_CHECKPOINTS"),
            max_new_tokens=_int(env, "VISCODER2_MAX_NEW_TOKENS", 1024, 1, 32_768),
            runs_dir=env.get("VISCODER2_RUNS", "").strip() or "runs",
            request_timeout_s=_int(env, "VISCODER2_TIMEOUT_S", 120, 1, 3600),
            concurrency=_int(env, "VISCODER2_CONCURRENCY", 4, 1, 64),
            queue_size=_int(env, "VISCODER2_QUEUE_SIZE", 64, 1, 10_000),
            max_rounds=_int(env, "VISCODER2_MAX_ROUNDS", 5, 0, 5),
            host=env.get("VISCODER2_HOST", "").strip() or "127.0.0.1",
            port=_int(env, "VISCODER2_PORT", _int(env, "PORT", 7860, 1, 65535), 1, 65535),
        )

    def run_folders(self) -> list[str]:
        """The replayable run folders under ``runs_dir`` (those with a ``results.jsonl``), sorted."""
        root = Path(self.runs_dir)
        if not root.is_dir():
            return []
        return sorted(str(p) for p in root.iterdir() if (p / "results.jsonl").is_file())
