"""Content-addressed caches: generations (model + messages + parameters), renders (source + data + engine
tool versions) and judgements.

One JSON file per key under ``<cache_dir>/<kind>/<key[:2]>/<key>.json``, written atomically, so
concurrent runs can share a cache and a killed run leaves no half-written entry.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from visplotbench.engine import RenderJob, RenderResult, RenderStatus
from visplotbench.engine._atomic import write_text_atomic

# Bump when a renderer setting that changes images or statuses changes (DPI, crop, limits...).
ENGINE_CACHE_VERSION = "engine-1"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(os.environ.get("VISPLOTBENCH_CACHE", os.path.join(base, "visplotbench", "cache")))


def digest(obj: Any) -> str:
    return hashlib.sha256(
        json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


class Cache:
    """A folder of JSON entries keyed by sha256; ``None`` folder disables caching."""

    def __init__(self, folder: str | Path | None, kind: str):
        self.folder = Path(folder) / kind if folder else None

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        if self.folder is None:
            return None
        try:
            data: dict[str, Any] = json.loads(self._path(key).read_text(encoding="utf-8"))
            return data
        except (OSError, json.JSONDecodeError):
            return None

    def put(self, key: str, value: dict[str, Any]) -> None:
        if self.folder is None:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps(value, ensure_ascii=False))


def render_key(job: RenderJob, tool_versions: dict[str, str]) -> str:
    files = {
        name: (content if isinstance(content, str) else base64.b64encode(content).decode())
        for name, content in sorted(job.files.items())
    }
    return digest(
        [
            ENGINE_CACHE_VERSION,
            job.language,
            job.source,
            files,
            repr(job.limits),
            job.all_pages,
            tool_versions,
        ]
    )


def result_to_cache(result: RenderResult) -> dict[str, Any]:
    return {
        "language": result.language,
        "status": result.status.value,
        "error": result.error,
        "images": [base64.b64encode(png).decode() for png in result.images],
        "tool_versions": result.tool_versions,
        "limit": result.limit,
    }


def result_from_cache(data: dict[str, Any]) -> RenderResult:
    return RenderResult(
        language=data["language"],
        status=RenderStatus(data["status"]),
        error=data["error"],
        images=[base64.b64decode(s) for s in data["images"]],
        tool_versions=data.get("tool_versions", {}),
        limit=data.get("limit", ""),
    )
