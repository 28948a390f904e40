"""The OpenAI-compatible chat API backend: OpenAI, and vLLM / SGLang / Ollama / TGI servers.

``openai:<model>`` sends each conversation to ``<base_url>/chat/completions``. ``base_url`` defaults to
``$OPENAI_BASE_URL``, else OpenAI's own. The API key is read from the environment variable named by
``api_key_env`` (never from options, never written anywhere); a local server that needs no key gets a
placeholder.

Requests run concurrently (``concurrency`` at a time, asyncio in a private event loop on its own
thread, so ``generate`` works from any thread, with or without a running loop). Failures that may
pass (429, 408/409, 5xx, timeouts, lost connections) are retried ``retries`` times with exponential
backoff and jitter, honouring ``Retry-After``; the client library's own retries are off. A request
that still fails is yielded with ``error`` set to the last error, never raised and never dropped (the
reference harness silently dropped such tasks from the denominator). Only the message ``content`` is
kept: a reasoning model's ``reasoning_content`` is not part of the reply.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import queue
import random
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from visplotbench.backends._base import GenerationRequest, GenerationResult
from visplotbench.backends._options import config_from_options, require_packages

OPENAI_URL = "https://api.openai.com/v1"
_NO_KEY = "no-key-needed"
_RETRY_STATUS = {408, 409, 429}
_MAX_WAIT_S = 600.0


@dataclass
class OpenAIConfig:
    """Settings of the OpenAI-compatible backend.

    Attributes:
        model: the model name the endpoint knows (the spec's target).
        base_url: endpoint root ending in ``/v1``; ``None`` means ``$OPENAI_BASE_URL``, else OpenAI.
        api_key_env: name of the environment variable holding the API key.
        temperature: sampling temperature; ``None`` leaves it out (models that reject it).
        top_p: nucleus sampling; ``None`` leaves it out.
        max_tokens: reply token limit; ``None`` leaves it out.
        max_tokens_param: ``max_tokens`` or ``max_completion_tokens`` (OpenAI's reasoning models).
        seed: sampling seed, when the endpoint supports one.
        stop: stop strings.
        extra_body: extra JSON fields for the endpoint (e.g. ``{"top_k": 20}`` for vLLM).
        concurrency: requests in flight at once.
        timeout_s: per-request timeout in seconds.
        retries: retries after the first attempt for transient failures.
        backoff_s: first backoff delay; doubles per retry, with jitter, capped at ``max_backoff_s``.
        max_backoff_s: longest backoff delay (a server's ``Retry-After`` may ask for longer).
    """

    model: str
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float | None = 0.0
    top_p: float | None = None
    max_tokens: int | None = 4096
    max_tokens_param: str = "max_tokens"
    seed: int | None = None
    stop: list[str] | None = None
    extra_body: dict[str, Any] | None = None
    concurrency: int = 8
    timeout_s: float = 600.0
    retries: int = 5
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("The openai backend needs a model name: openai:<model>, e.g. openai:gpt-4.1.")
        if self.max_tokens_param not in ("max_tokens", "max_completion_tokens"):
            raise ValueError(
                f"max_tokens_param must be 'max_tokens' or 'max_completion_tokens', "
                f"not {self.max_tokens_param!r}."
            )
        if self.concurrency < 1 or self.retries < 0 or self.timeout_s <= 0:
            raise ValueError("The openai backend needs concurrency >= 1, retries >= 0 and timeout_s > 0.")


class OpenAIBackend:
    """Chat completions from any OpenAI-compatible endpoint (see the module docstring)."""

    name: ClassVar[str] = "openai"

    def __init__(self, config: OpenAIConfig, api_key: str) -> None:
        self.config = config
        self._api_key = api_key

    @classmethod
    def from_spec(cls, target: str, options: dict[str, Any]) -> OpenAIBackend:
        config = config_from_options(OpenAIConfig, options, "openai", model=target)
        require_packages("openai", "openai")
        config.base_url = (config.base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_URL).rstrip("/")
        api_key = os.environ.get(config.api_key_env, "")
        if not api_key and config.base_url == OPENAI_URL:
            raise ValueError(
                f"No API key for {OPENAI_URL}: the environment variable {config.api_key_env} is "
                "not set. Fix: export it, or name another variable with the api_key_env option."
            )
        return cls(config, api_key or _NO_KEY)

    def identity(self) -> dict[str, Any]:
        c = self.config
        return {
            "backend": self.name,
            "model": c.model,
            "base_url": c.base_url,
            "temperature": c.temperature,
            "top_p": c.top_p,
            "max_tokens": c.max_tokens,
            "max_tokens_param": c.max_tokens_param,
            "seed": c.seed,
            "stop": c.stop,
            "extra_body": c.extra_body,
        }

    def close(self) -> None:
        pass  # each generate() call owns and closes its client

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[tuple[int, GenerationResult]]:
        if not requests:
            return
        done: queue.Queue[tuple[int, GenerationResult] | None] = queue.Queue()
        loop = asyncio.new_event_loop()
        main = loop.create_task(self._run_all(requests, done))

        crash: list[str] = []

        def run() -> None:
            try:
                loop.run_until_complete(main)
            except BaseException as exc:  # cancelled by an early close, or a bug: the consumer reports it
                crash.append(repr(exc))
                done.put(None)

        thread = threading.Thread(target=run, name="visplotbench-openai", daemon=True)
        thread.start()
        pending = set(range(len(requests)))
        try:
            while pending:
                item = done.get()
                if item is None:
                    break
                pending.discard(item[0])
                yield item
            for index in sorted(pending):  # never drop a request, even if the loop died
                yield index, GenerationResult(error=f"openai backend stopped unexpectedly: {''.join(crash)}")
        finally:
            if not main.done():
                loop.call_soon_threadsafe(main.cancel)
            thread.join()
            loop.close()

    async def _run_all(self, requests: Sequence[GenerationRequest], done: queue.Queue) -> None:
        from openai import AsyncOpenAI

        c = self.config
        client = AsyncOpenAI(base_url=c.base_url, api_key=self._api_key, timeout=c.timeout_s, max_retries=0)
        gate = asyncio.Semaphore(c.concurrency)

        async def one(index: int, request: GenerationRequest) -> None:
            async with gate:
                result = await self._complete(client, request)
            done.put((index, result))

        try:
            await asyncio.gather(*(one(i, r) for i, r in enumerate(requests)))
        finally:
            await client.close()
            done.put(None)

    def _params(self) -> dict[str, Any]:
        c = self.config
        params: dict[str, Any] = {"model": c.model}
        optional = {
            "temperature": c.temperature,
            "top_p": c.top_p,
            c.max_tokens_param: c.max_tokens,
            "seed": c.seed,
            "stop": c.stop,
            "extra_body": c.extra_body,
        }
        params.update({key: value for key, value in optional.items() if value is not None})
        return params

    async def _complete(self, client: Any, request: GenerationRequest) -> GenerationResult:
        last_error = ""
        for attempt in range(self.config.retries + 1):
            try:
                response = await client.chat.completions.create(messages=request.messages, **self._params())
            except Exception as exc:
                last_error = _describe(exc)
                wait = self._retry_wait(exc, attempt)
                if wait is None or attempt == self.config.retries:
                    break
                await asyncio.sleep(wait)
                continue
            if not response.choices:
                return GenerationResult(error=f"the endpoint returned no choices for {request.task_id}")
            choice = response.choices[0]
            usage = response.usage
            counts = (
                {}
                if usage is None
                else {
                    k: v
                    for k in ("prompt_tokens", "completion_tokens", "total_tokens")
                    if isinstance(v := getattr(usage, k, None), int)
                }
            )
            return GenerationResult(
                text=choice.message.content or "", finish_reason=choice.finish_reason or "", usage=counts
            )
        return GenerationResult(error=last_error)

    def _retry_wait(self, exc: Exception, attempt: int) -> float | None:
        """Seconds to wait before retrying after ``exc``, or ``None`` when retrying cannot help."""
        import openai

        if isinstance(exc, openai.APIStatusError):
            if exc.status_code not in _RETRY_STATUS and exc.status_code < 500:
                return None
            hinted = _retry_after(exc.response.headers)
            if hinted is not None:
                return min(hinted, _MAX_WAIT_S) + random.uniform(0, 0.1)
        elif not isinstance(exc, (openai.APIConnectionError, asyncio.TimeoutError)):
            return None
        backoff = min(self.config.backoff_s * 2**attempt, self.config.max_backoff_s)
        return backoff * random.uniform(0.5, 1.0)


def _retry_after(headers: Any) -> float | None:
    """Seconds asked for by ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(float(value) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(moment.timestamp() - time.time(), 0.0)


def _describe(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}{f' (HTTP {status})' if status else ''}: {message}"
