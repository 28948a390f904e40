"""``RunConfig``: everything that defines a benchmark run, validated before anything touches disk.

The CLI's ``run`` options and a ``--config run.yaml`` file are both read into this dataclass (see
``visplotbench.cli``): each field's ``metadata["help"]`` is its option's help text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _help(text: str, **more: Any) -> dict[str, Any]:
    return {"help": text, **more}


@dataclass
class RunConfig:
    """Everything that defines a benchmark run (``config.json`` records it as a ``RunManifest``).

    Attributes:
        model: ``<backend>:<target>``, e.g. ``openai:gpt-4.1``, ``transformers:./ckpt``, ``gold``.
        out: the run folder ("" : ``runs/<model>``).
        languages: language keys (all when empty).
        tasks: ``bundled``, ``hub``, a Hub repo id, a local Hub-layout folder or a parquet file.
        limit: keep the first N tasks per language.
        self_debug: rounds of self-debugging after the first attempt (K).
        prompts: a prompt file in the original ``instructs.json`` format (our v1 texts when None).
        descriptor: data descriptor (head, describe, datalore, pycharm, lida, empty).
        backend_options: backend settings (see each backend's config class).
        cache_dir: content-addressed caches; None: the user cache dir; "" disables caching.
        resume: continue an existing run folder.
        progress: show progress bars.
        offline_metrics: compute the offline visual metrics (SSIM, edge F1) at the end of the run.

    Raises:
        ValueError: a setting that cannot work (unknown language or descriptor, negative rounds...),
            with the valid choices; raised when the config is made, before any file is written.
    """

    model: str = field(metadata=_help("<backend>:<model>, e.g. openai:gpt-4.1, transformers:./ckpt, gold"))
    out: str = field(default="", metadata=_help("run folder (default runs/<model>)"))
    languages: list[str] = field(default_factory=list, metadata=_help("language keys, or all (default)"))
    tasks: str = field(
        default="bundled",
        metadata=_help("bundled | hub | a Hub repo id | a local Hub-layout folder | a .parquet file"),
    )
    limit: int | None = field(default=None, metadata=_help("first N tasks per language"))
    self_debug: int = field(default=3, metadata=_help("self-debug rounds K (default 3)", metavar="K"))
    prompts: str | None = field(
        default=None, metadata=_help("a prompt file in the original instructs.json format")
    )
    descriptor: str = field(
        default="head", metadata=_help("data descriptor: head, describe, datalore, pycharm, lida, empty")
    )
    backend_options: dict[str, Any] = field(
        default_factory=dict,
        metadata=_help(
            "backend setting, e.g. base_url=http://localhost:8000/v1, concurrency=16, temperature=0",
            option="backend-option",
        ),
    )
    cache_dir: str | None = field(
        default=None, metadata=_help("generation/render caches (default ~/.cache/visplotbench/cache)")
    )
    resume: bool = field(default=False, metadata=_help("continue the run in --out"))
    progress: bool = field(default=True, metadata=_help("show progress bars"))
    offline_metrics: bool = field(
        default=True, metadata=_help("score the images with the offline metrics (SSIM, edge F1) at the end")
    )

    def __post_init__(self) -> None:
        from visplotbench.engine import LANGUAGES
        from visplotbench.prompts import DESCRIPTORS

        if not self.model or not isinstance(self.model, str):
            raise ValueError("model is required: <backend>:<model>, e.g. openai:gpt-4.1, or gold.")
        given = [self.languages] if isinstance(self.languages, str) else list(self.languages)
        names = [lang for value in given for lang in str(value).split(",") if lang]
        self.languages = [] if names == ["all"] else names
        unknown = [lang for lang in self.languages if lang not in LANGUAGES]
        if unknown:
            raise ValueError(
                f"Unknown language(s) {', '.join(map(repr, unknown))}. Choose from: {', '.join(LANGUAGES)} (or all)."
            )
        if self.descriptor not in DESCRIPTORS:
            raise ValueError(
                f"Unknown descriptor {self.descriptor!r}. Choose one of: {', '.join(DESCRIPTORS)}."
            )
        if not isinstance(self.self_debug, int) or self.self_debug < 0:
            raise ValueError(f"self_debug must be a whole number of rounds >= 0, not {self.self_debug!r}.")
        if self.limit is not None and (not isinstance(self.limit, int) or self.limit < 1):
            raise ValueError(
                f"limit must be at least 1 task per language (or None for all), not {self.limit!r}."
            )
        if not isinstance(self.backend_options, dict):
            raise ValueError(
                f"backend_options must be a mapping of option -> value, not {self.backend_options!r}."
            )
        self.out = self.out or str(out_folder(self.model))


def out_folder(model: str) -> Path:
    """A default run folder for ``model``: runs/<model with / and : replaced>."""
    return Path("runs") / model.replace("/", "_").replace(":", "_")
