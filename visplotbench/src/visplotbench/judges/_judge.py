"""The LLM/VLM judge: task and visual scores through any OpenAI-compatible vision endpoint.

``make_judge("openai:gpt-4.1", options)`` sends chat requests through the ``openai`` model backend
(``visplotbench.backends.openai``: concurrency, transport retries with backoff, a private event loop),
so everything that backend accepts as an option works here (``base_url``, ``concurrency``, ``retries``,
``timeout_s``, ``api_key_env``, ``extra_body``...); a judge changes only its defaults (temperature 0,
``max_tokens`` 3000, as the original). ``JudgeSettings`` holds the options that belong to the judge.

One request per score: system prompt (ours, not the code-generation one), then one user turn with the
instruction text first and the images after it as PNG data URLs: for ``vis`` the first generated image
then the reference; for ``task`` the generated images (up to ``max_images``), with the task text after
``[PLOT TASK]:``. Generated and reference images are normalised the same way (RGB on white, longest side
at most ``image_max_side``). A reply without a parsable score, or a request that fails after the
backend's retries, is retried once (after an unparsable reply, the retry continues the conversation
with a one-line reminder). Outcomes that got a reply are cached by content (judge identity, texts,
image hashes), so re-judging never asks again; failed requests are not cached.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from visplotbench.backends import GenerationRequest, GenerationResult, make_backend
from visplotbench.backends._options import config_from_options
from visplotbench.judges._parse import parse_score
from visplotbench.judges._prompts import JudgePrompts, load_judge_prompts
from visplotbench.runfolder import Cache, digest

JUDGE_BACKENDS = ("openai",)
_BACKEND_DEFAULTS: dict[str, Any] = {"temperature": 0.0, "max_tokens": 3000}
JUDGE_VERSION = "judge-client-1"  # bump when message assembly or image encoding changes
_CHUNK = 64  # items prepared (images encoded) at a time


@dataclass
class JudgeSettings:
    """Judge options (``--judge-option`` keys that are not the backend's).

    Attributes:
        detail: the image ``detail`` hint (``auto``, ``low``, ``high``); ``none`` leaves it out.
        image_max_side: longest side in pixels of every image sent (larger ones are shrunk).
        max_images: the task judge sees at most this many generated images.
    """

    detail: str | None = "auto"
    image_max_side: int = 1024
    max_images: int = 4

    def __post_init__(self) -> None:
        if self.detail not in (None, "auto", "low", "high"):
            raise ValueError(f"detail must be auto, low, high or none, not {self.detail!r}.")
        if self.image_max_side < 64 or self.max_images < 1:
            raise ValueError("image_max_side must be at least 64 and max_images at least 1.")


@dataclass
class JudgeItem:
    """One score to ask for.

    Attributes:
        kind: ``vis`` or ``task``.
        language: the task's language (prompt files may differ per language).
        images: the generated PNGs (``vis`` uses the first).
        reference: the reference PNG (``vis`` only).
        task_text: what the task asked for (``task`` only).
    """

    kind: str
    language: str
    images: list[bytes]
    reference: bytes | None = None
    task_text: str = ""


@dataclass
class JudgeOutcome:
    """A judge's answer to one item.

    Attributes:
        score: 0..100, or None when no reply parsed.
        status: ``scored``, ``unparsed`` (replies without a score) or ``failed`` (no reply).
        replies: every reply received, in order.
        error: the last request error ("" when none).
        requests: requests sent for this item (0 when it came from the cache).
        cached: served from the judgement cache.
        clamped: the written score was outside 0..100.
    """

    score: float | None
    status: str
    replies: list[str] = field(default_factory=list)
    error: str = ""
    requests: int = 0
    cached: bool = False
    clamped: bool = False


def _encode(png: bytes, max_side: int) -> bytes:
    from PIL import Image

    from visplotbench.engine._images import to_rgb_on_white

    with Image.open(io.BytesIO(png)) as opened:
        img = to_rgb_on_white(opened)
    if max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.save(out, format="PNG", compress_level=6)
    return out.getvalue()


class Judge:
    """Scores images with a chat model (see the module docstring); build it with ``make_judge``."""

    def __init__(self, spec: str, backend: Any, prompts: JudgePrompts, settings: JudgeSettings) -> None:
        self.spec = spec
        self.backend = backend
        self.prompts = prompts
        self.settings = settings

    @property
    def model(self) -> str:
        return str(self.backend.identity().get("model") or self.spec)

    def identity(self) -> dict[str, Any]:
        """Everything that changes scores: backend settings, judge settings, prompt version and hash."""
        return {
            "judge": self.spec,
            "version": JUDGE_VERSION,
            "backend": self.backend.identity(),
            "settings": dataclasses.asdict(self.settings),
            "prompts": {"version": self.prompts.version, "sha256": self.prompts.sha256},
        }

    def _parts(self, item: JudgeItem) -> tuple[str, list[bytes]]:
        text = self.prompts.instruction(item.kind, item.language)
        if item.kind == "vis":
            if item.reference is None:
                raise ValueError("a visual score needs the reference image")
            images = [item.images[0], item.reference]
        else:
            text = f"{text}\n[PLOT TASK]:\n{item.task_text}"
            images = item.images[: self.settings.max_images]
        return text, [_encode(png, self.settings.image_max_side) for png in images]

    def prepare(self, item: JudgeItem) -> tuple[str, list[dict[str, Any]]]:
        """The cache key (judge identity, texts, sha256 of each image) and the chat messages for ``item``.

        The messages are the system prompt, then one user turn: the instruction text first, then the
        images in order (``vis``: generated, reference).
        """
        text, images = self._parts(item)
        key = digest(
            [
                self.identity(),
                self.prompts.system,
                item.kind,
                text,
                [hashlib.sha256(png).hexdigest() for png in images],
            ]
        )
        content: list[dict[str, Any]] = [{"type": "text", "text": text}]
        for png in images:
            url: dict[str, Any] = {"url": "data:image/png;base64," + base64.b64encode(png).decode("ascii")}
            if self.settings.detail:
                url["detail"] = self.settings.detail
            content.append({"type": "image_url", "image_url": url})
        return key, [{"role": "system", "content": self.prompts.system}, {"role": "user", "content": content}]

    def judge(
        self, items: Sequence[JudgeItem], cache: Cache | None = None
    ) -> Iterator[tuple[int, JudgeOutcome]]:
        """Yield ``(index, outcome)`` for every item, as they complete (in chunks, to bound memory)."""
        cache = cache or Cache(None, "judgements")
        for start in range(0, len(items), _CHUNK):
            yield from self._judge_chunk(items, range(start, min(start + _CHUNK, len(items))), cache)

    def _judge_chunk(
        self, items: Sequence[JudgeItem], indices: range, cache: Cache
    ) -> Iterator[tuple[int, JudgeOutcome]]:
        keys: dict[int, str] = {}
        messages: dict[int, list[dict[str, Any]]] = {}
        todo = []
        for i in indices:
            try:
                keys[i], messages[i] = self.prepare(items[i])
            except (OSError, ValueError) as exc:  # an unreadable image: nothing to ask
                yield i, JudgeOutcome(None, "failed", error=f"cannot prepare the request: {exc}")
                continue
            hit = cache.get(keys[i])
            if hit is not None:
                known = {k: v for k, v in hit.items() if k in _OUTCOME_FIELDS}
                yield i, JudgeOutcome(**{**known, "cached": True, "requests": 0})
            else:
                todo.append(i)

        first = [GenerationRequest(f"judge-{i}", 0, messages[i]) for i in todo]
        again: list[tuple[int, GenerationResult]] = []
        for j, gen in self.backend.generate(first):
            i = todo[j]
            outcome = _outcome([gen], 1)
            if outcome.status == "scored":
                cache.put(keys[i], _cacheable(outcome))
                yield i, outcome
            else:
                again.append((i, gen))

        second = []
        for i, gen in again:
            retry = messages[i]
            if not gen.error:  # an unparsable reply: continue the conversation with the reminder
                retry = [
                    *retry,
                    {"role": "assistant", "content": gen.text},
                    {"role": "user", "content": self.prompts.retry},
                ]
            second.append(GenerationRequest(f"judge-{i}-retry", 1, retry))
        for j, gen in self.backend.generate(second):
            i, first_gen = again[j]
            outcome = _outcome([first_gen, gen], 2)
            if not gen.error:
                cache.put(keys[i], _cacheable(outcome))
            yield i, outcome

    def close(self) -> None:
        self.backend.close()


_OUTCOME_FIELDS = {f.name for f in dataclasses.fields(JudgeOutcome)}


def _outcome(gens: list[GenerationResult], requests: int) -> JudgeOutcome:
    replies = [g.text for g in gens if not g.error]
    errors = [g.error for g in gens if g.error]
    last = gens[-1]
    parsed = parse_score(last.text) if not last.error else None
    if parsed is not None and parsed.parsed:
        return JudgeOutcome(parsed.score, "scored", replies, "", requests, clamped=parsed.clamped)
    status = "unparsed" if replies else "failed"
    return JudgeOutcome(None, status, replies, errors[-1] if errors else "", requests)


def _cacheable(outcome: JudgeOutcome) -> dict[str, Any]:
    data = dataclasses.asdict(outcome)
    data.pop("cached")
    data.pop("requests")
    return data


def make_judge(
    spec: str, options: dict[str, Any] | None = None, prompts: JudgePrompts | str | None = None
) -> Judge:
    """A judge from ``<backend>:<model>`` (e.g. ``openai:gpt-4.1``), options and prompt texts.

    ``options`` mixes ``JudgeSettings`` keys and the backend's own options; ``prompts`` is a
    ``JudgePrompts``, a path to a prompt file (see ``load_judge_prompts``) or None for ours.
    """
    name, _, target = spec.partition(":")
    if name not in JUDGE_BACKENDS or not target:
        raise ValueError(
            f"Unknown judge {spec!r}. Write it as <backend>:<model> with backend one of: "
            f"{', '.join(JUDGE_BACKENDS)} (any OpenAI-compatible vision endpoint, e.g. "
            "openai:gpt-4.1, or openai:Qwen/Qwen2.5-VL-72B-Instruct with base_url=...)."
        )
    options = dict(options or {})
    own = {f.name for f in dataclasses.fields(JudgeSettings)}
    settings = config_from_options(JudgeSettings, {k: v for k, v in options.items() if k in own}, "judge")
    backend_options = {**_BACKEND_DEFAULTS, **{k: v for k, v in options.items() if k not in own}}
    try:
        backend = make_backend(spec, backend_options)
    except ValueError as exc:
        if "Unknown option" in str(exc):
            raise ValueError(f"{exc} Judge options: {', '.join(sorted(own))}.") from exc
        raise
    if not isinstance(prompts, JudgePrompts):
        prompts = load_judge_prompts(prompts)
    return Judge(spec, backend, prompts, settings)
