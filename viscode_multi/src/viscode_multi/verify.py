"""Stage 4, runtime verification through visplotbench's RenderPool (same sandbox and verdicts as the benchmark).

A program is kept when the engine says ``ok`` and its first image passes the configured rules
(``VerifyConfig``: PNG size, colours). Every dropped program keeps its status, failure kind and the
engine's error excerpt (the repair dialogues are built from them). One RenderPool per worker process,
created on first use and closed when the process exits; a batch renders concurrently in it.
"""

from __future__ import annotations

import atexit
import threading
from pathlib import Path
from typing import Any

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter
from visplotbench.runfolder import failure_kind

from viscode_multi.config import VerifyConfig
from viscode_multi.images import inspect_png, store_png
from viscode_multi.record import language_of
from visplotbench import Limits, RenderJob, RenderPool, RenderResult, RenderStatus

_POOL: RenderPool | None = None
_POOL_LOCK = threading.Lock()


def worker_pool() -> RenderPool:
    """This process's RenderPool (one per worker process, as the engine's warm workers are per pool)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = RenderPool()
            atexit.register(_POOL.close)
        return _POOL


def render_job(language: str, code: str, files: dict[str, Any] | None, config: VerifyConfig) -> RenderJob:
    limits = Limits(wall_s=config.wall_s) if config.wall_s else None
    return RenderJob(language, code, dict(files or {}), limits)


def verdict(result: RenderResult, config: VerifyConfig, images_dir: Path) -> dict[str, Any]:
    """The render metadata recorded on a sample: ``kept``, ``status``, ``failure_kind``, ``error``, image facts."""
    info: dict[str, Any] = {
        "status": str(result.status),
        "seconds": round(result.timings.get("total", 0.0), 3),
        "tool_versions": dict(result.tool_versions),
        "error": result.error[:2000],
    }
    if not result.ok:
        info.update(kept=False, failure_kind=failure_kind(result.language, str(result.status), result.error))
        return info
    image = inspect_png(result.images[0])
    info.update(
        image_sha256=image.sha256,
        image_bytes=image.nbytes,
        width=image.width,
        height=image.height,
        colors=image.colors,
        dhash=image.dhash,
        pages=len(result.images),
    )
    if image.nbytes < config.min_image_bytes:
        info.update(kept=False, failure_kind="image-too-small")
    elif image.colors < config.min_colors:
        info.update(kept=False, failure_kind="monochrome")
    else:
        info.update(kept=True, failure_kind="")
    store_png(images_dir, result.images[0], image.sha256)
    return info


class VerifyStep(BaseFilter):
    """Render each program; keep those that pass, send the rest (with the reason) to the exclusion writer."""

    name = "runtime verification"

    def __init__(self, images_dir: str, config: VerifyConfig, exclusion_writer=None):
        super().__init__(exclusion_writer, batch_size=config.batch_size)
        self.images_dir = images_dir
        self.config = config

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        return self.filter_batch([doc])[0]

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple[bool, str]]:
        pool = worker_pool()
        jobs = [render_job(language_of(d), d.text, d.metadata.get("files"), self.config) for d in batch]
        results = list(pool.map(jobs))
        # an environment failure (browser restart, assets being reinstalled) is not the program's: retry once
        retry = [i for i, r in enumerate(results) if r.status is RenderStatus.ENV_FAILURE]
        for i, result in zip(retry, pool.map([jobs[i] for i in retry]), strict=True):
            self.stat_update(f"{language_of(batch[i])}/env-failure-retried")
            results[i] = result
        out: list[bool | tuple[bool, str]] = []
        for doc, result in zip(batch, results, strict=True):
            info = verdict(result, self.config, Path(self.images_dir))
            doc.metadata["render"] = info
            lang = language_of(doc)
            self.stat_update(f"{lang}/render_ms", value=int(info["seconds"] * 1000), unit="ms")
            if info["kept"]:
                self.stat_update(f"{lang}/kept")
                out.append(True)
            else:
                reason = f"{info['status']}:{info['failure_kind']}"
                self.stat_update(
                    f"{lang}/dropped:{info['failure_kind'] if info['status'] == 'ok' else info['status']}"
                )
                out.append((False, reason[:80]))
        return out
