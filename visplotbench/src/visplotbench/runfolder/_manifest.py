"""``config.json``: the typed manifest of a run (what produced it, and what must match on ``--resume``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

MANIFEST_VERSION = 2


@dataclass
class TaskCounts:
    """The task set of a run.

    Attributes:
        source: where the tasks came from (``bundled``, ``hub``, a repo id, a folder, a parquet file).
        count: number of tasks.
        per_language: language -> number of tasks, in the run's language order (the denominators).
    """

    source: str = "bundled"
    count: int = 0
    per_language: dict[str, int] = field(default_factory=dict)


@dataclass
class RunManifest:
    """Everything that defines a finished or running benchmark run, written as ``config.json``.

    Attributes:
        fingerprint: hash of what must match to ``--resume`` (backend identity, prompts, descriptor,
            rounds, self-debug and record versions, task contents).
        model: ``<backend>:<target>`` as given.
        rounds: self-debug rounds after the first attempt (K).
        tasks: the task set and its per-language counts.
        descriptor: the data descriptor of the prompts.
        languages: the languages asked for (empty: all).
        limit: the first N tasks per language were kept (None: all).
        prompts_file: the prompt file given (None: the bundled texts).
        prompts_version, prompts_sha256: the prompt texts used.
        self_debug_version: the version of the self-debug conversation rules.
        backend: the backend's identity (name, model, generation parameters).
        backend_options: the backend options as given.
        cache_dir: the cache folder given (None: the user cache dir, "": none).
        versions: package and platform versions.
        javascript: the Mermaid release and every pinned chart library (part of the render cache key).
        started_at: UTC start time, ISO 8601.
        manifest_version: the layout of this file.
    """

    fingerprint: str
    model: str
    rounds: int
    tasks: TaskCounts = field(default_factory=TaskCounts)
    descriptor: str = "head"
    languages: list[str] = field(default_factory=list)
    limit: int | None = None
    prompts_file: str | None = None
    prompts_version: str = ""
    prompts_sha256: str = ""
    self_debug_version: str = ""
    backend: dict[str, Any] = field(default_factory=dict)
    backend_options: dict[str, Any] = field(default_factory=dict)
    cache_dir: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    javascript: dict[str, str] = field(default_factory=dict)
    started_at: str = ""
    manifest_version: int = MANIFEST_VERSION

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunManifest:
        """The manifest of a ``config.json``; the first layout (settings nested under ``config``) too."""
        if "config" in data:  # manifest_version 1 (before 0.1.0)
            config = data.get("config") or {}
            prompts = data.get("prompts") or {}
            self_debug = data.get("self_debug") or {}
            data = {
                "fingerprint": data.get("fingerprint", ""),
                "model": config.get("model", ""),
                "rounds": self_debug.get("rounds", config.get("self_debug", 0)),
                "tasks": data.get("tasks") or {"source": config.get("tasks", "bundled")},
                "descriptor": config.get("descriptor", "head"),
                "languages": config.get("languages") or [],
                "limit": config.get("limit"),
                "prompts_file": config.get("prompts"),
                "prompts_version": prompts.get("version", ""),
                "prompts_sha256": prompts.get("sha256", ""),
                "self_debug_version": self_debug.get("version", ""),
                "backend": data.get("backend") or {},
                "backend_options": config.get("backend_options") or {},
                "cache_dir": config.get("cache_dir"),
                "versions": data.get("versions") or {},
                "javascript": data.get("javascript") or {},
                "started_at": data.get("started_at", ""),
                "manifest_version": 1,
            }
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        tasks = values.get("tasks") or {}
        values["tasks"] = TaskCounts(
            source=str(tasks.get("source", "bundled")),
            count=int(tasks.get("count", 0)),
            per_language={str(k): int(v) for k, v in (tasks.get("per_language") or {}).items()},
        )
        return cls(**values)
