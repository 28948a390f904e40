"""Build configuration: one dataclass per concern, filled from the CLI and saved in the work folder."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from viscode_multi.corpora import DEFAULT_CORPORA
from viscode_multi.llm import LLMConfig


@dataclass
class VerifyConfig:
    """Stage 4 rules (the paper's: renders, non-monochrome, PNG over 10 KB).

    Attributes:
        min_image_bytes: smallest PNG kept, in bytes.
        min_colors: fewest distinct colours kept (2: a single-colour image is dropped).
        repair_min_image_bytes: smallest PNG of a verified repair (stage 6): the fix must render ``ok``
            and not monochrome; 0 (default) accepts a small picture, as the fix, not the picture, is
            what a repair dialogue teaches.
        wall_s: per-program wall-clock limit in seconds (None: the engine's default for the language).
        batch_size: programs handed to the render pool at once. They render concurrently, each renderer
            up to its own limit; a big batch keeps every language's renderer busy (a small one waits on
            its slowest program).
    """

    min_image_bytes: int = 10 * 1024
    min_colors: int = 2
    repair_min_image_bytes: int = 0
    wall_s: float | None = None
    batch_size: int = 256


@dataclass
class QualityConfig:
    """Stage 7 settings.

    Attributes:
        minhash_ngrams: shingle size (words) of the MinHash near-duplicate search.
        minhash_buckets: LSH bands; with ``minhash_hashes_per_bucket`` sets the similarity threshold.
        minhash_hashes_per_bucket: rows per band.
        decontam_ngram: n-gram length (tokens) of the overlap test against VisPlotBench.
        decontam_min_fraction: share of a sample's code n-grams (or of a task description's n-grams)
            that one benchmark task must account for to mark the sample contaminated.
        cap_per_language: most samples kept per language (None: no cap).
    """

    minhash_ngrams: int = 5
    minhash_buckets: int = 14
    minhash_hashes_per_bucket: int = 8
    decontam_ngram: int = 13
    decontam_min_fraction: float = 0.5
    cap_per_language: int | None = None


@dataclass
class BuildConfig:
    """A whole build.

    Attributes:
        out: the dataset folder (``load_dataset(out)`` loads it).
        work: the work folder: stage outputs, logs, images, reports (resume reads it).
        corpora: registry corpora to read (``viscode_multi.corpora.CORPORA``).
        sources: further sources, ``hub:<id>[:config][?code=col&language=col]``, ``jsonl:<path>``,
            ``parquet:<path>``, ``folder:<path>``.
        languages: keep only these languages (None: all).
        max_per_language: candidates read per language (None: all), picked by a stable hash.
        language_caps: per-language overrides of ``max_per_language`` (e.g. ``{"svg": 4000}``).
        shards: tasks per stage; a killed run loses at most the shards in flight.
        workers: tasks run at once (each worker process has its own render pool).
        executor: ``local``, ``ray`` or ``slurm``.
        cache: where registry packages are downloaded (None: ``$VISCODE_MULTI_CACHE`` or ~/.cache).
        llm: endpoint for extraction and repairs (None: deterministic only).
        vlm: endpoint for instructions, given code and image (None: the deterministic writer).
        dialogues_import: Code-Feedback-style dialogues to import (``hub:m-a-p/Code-Feedback`` or a path).
        repair_with_llm: ask ``llm`` to fix failures that no mechanical fix repairs.
        verify: see ``VerifyConfig``.
        quality: see ``QualityConfig``.
        slurm: extra ``SlurmPipelineExecutor`` arguments (partition, time, ...).
    """

    out: str = "viscode-multi"
    work: str = "runs/viscode-multi-work"
    corpora: list[str] = field(default_factory=lambda: list(DEFAULT_CORPORA))
    sources: list[str] = field(default_factory=list)
    languages: list[str] | None = None
    max_per_language: int | None = None
    language_caps: dict[str, int] = field(default_factory=dict)
    shards: int = 32
    workers: int = 1
    executor: str = "local"
    cache: str | None = None
    llm: LLMConfig | None = None
    vlm: LLMConfig | None = None
    dialogues_import: str | None = None
    repair_with_llm: bool = True
    verify: VerifyConfig = field(default_factory=VerifyConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    slurm: dict[str, Any] = field(default_factory=dict)

    @property
    def work_path(self) -> Path:
        return Path(self.work)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BuildConfig:
        data = dict(data)
        for key in ("llm", "vlm"):
            if data.get(key):
                data[key] = LLMConfig(**data[key])
        data["verify"] = VerifyConfig(**data.get("verify", {}))
        data["quality"] = QualityConfig(**data.get("quality", {}))
        return cls(**data)

    def save(self) -> Path:
        self.work_path.mkdir(parents=True, exist_ok=True)
        path = self.work_path / "config.json"
        path.write_text(json.dumps(self.to_json(), indent=2))
        return path
