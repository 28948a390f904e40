"""The two append-only stores of a run folder: ``results.jsonl`` (+ ``images/``) and ``scores.jsonl``.

Each attempt is one JSON line, written with its images first and flushed + fsynced, so a run killed at
any moment loses at most the attempt in flight. On resume a torn last line is dropped and attempts
whose render was an environment failure are removed (they are re-rendered, never counted). Score lines
are appended the same way in small batches; a later line for the same (task, round, kind, scorer)
replaces an earlier one, and lines of different scorers live side by side.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from visplotbench.engine._atomic import write_text_atomic
from visplotbench.runfolder._manifest import RunManifest
from visplotbench.runfolder._records import AttemptRecord, ScoreRecord
from visplotbench.runfolder._status import AttemptStatus

MANIFEST_FILE = "config.json"
RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"
SCORES_FILE = "scores.jsonl"
SCORES_SUMMARY_FILE = "scores_summary.json"


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` through a temporary file, so a reader never sees half of it."""
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; empty when the file is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


class RunStore:
    """Reads and appends the attempts of one run folder (thread-safe appends)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.results = self.folder / RESULTS_FILE
        self.images = self.folder / "images"
        self._lock = threading.Lock()

    def exists(self) -> bool:
        return self.results.exists() or (self.folder / MANIFEST_FILE).exists()

    def prepare(self, manifest: RunManifest, *, resume: bool) -> list[AttemptRecord]:
        """Create the folder (or reopen it with ``resume``) and return the attempts already finished."""
        if self.exists() and not resume:
            raise FileExistsError(
                f"{self.folder} already holds a run. Pass --resume to continue it, or choose another --out."
            )
        self.images.mkdir(parents=True, exist_ok=True)
        previous = self.read_manifest()
        if resume and previous is not None and previous.fingerprint != manifest.fingerprint:
            raise ValueError(
                f"--resume: {self.folder} was run with different settings (model, prompts, tasks or rounds). "
                "Resume with the same command, or start a new run folder."
            )
        records = self.load(keep_env_failures=False) if resume else []
        if resume:
            self._rewrite(records)
        write_json_atomic(self.folder / MANIFEST_FILE, manifest.to_json())
        return records

    def read_manifest(self) -> RunManifest | None:
        """The run's manifest, or None when ``config.json`` is missing or unreadable."""
        data = read_json(self.folder / MANIFEST_FILE)
        if not data:
            return None
        try:
            return RunManifest.from_json(data)
        except (TypeError, ValueError):
            return None

    def load(self, keep_env_failures: bool = True) -> list[AttemptRecord]:
        """All complete attempts; a torn last line (a kill mid-write) is ignored; duplicates keep the last."""
        if not self.results.exists():
            return []
        latest: dict[tuple[str, int], AttemptRecord] = {}
        for line in self.results.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                rec = AttemptRecord.from_json(json.loads(line))
            except (json.JSONDecodeError, TypeError, ValueError):
                continue
            latest[(rec.task_id, rec.round)] = rec
        return [r for r in latest.values() if keep_env_failures or r.status is not AttemptStatus.ENV_FAILURE]

    def append(self, record: AttemptRecord, images: list[bytes]) -> None:
        """Write the attempt's images, then its line; durable before returning."""
        names = []
        for i, png in enumerate(images):
            name = f"images/{record.task_id}_r{record.round}_{i + 1}.png"
            (self.folder / name).write_bytes(png)
            names.append(name)
        record.images = names
        line = json.dumps(record.to_json(), ensure_ascii=False) + "\n"
        with self._lock, open(self.results, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def write_summary(self, data: dict[str, Any]) -> None:
        """``summary.json``: the pass rates at the end of ``run`` (the records stay the source of truth)."""
        write_json_atomic(self.folder / SUMMARY_FILE, data)

    def _rewrite(self, records: list[AttemptRecord]) -> None:
        tmp = self.results.with_suffix(".jsonl.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for rec in sorted(records, key=lambda r: (r.task_id, r.round)):
                f.write(json.dumps(rec.to_json(), ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.results)


class ScoreStore:
    """Reads and appends ``scores.jsonl`` and writes ``scores_summary.json`` of one run folder."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / SCORES_FILE
        self._lock = threading.Lock()

    def load(self) -> list[ScoreRecord]:
        """Every complete line, the last one per (task, round, kind, scorer), in file order."""
        if not self.path.exists():
            return []
        latest: dict[tuple[str, int, str, str], ScoreRecord] = {}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                rec = ScoreRecord.from_json(json.loads(line))
            except (json.JSONDecodeError, TypeError):
                continue  # a torn last line from a killed run
            latest.pop(rec.key, None)
            latest[rec.key] = rec
        return list(latest.values())

    def append(self, records: list[ScoreRecord]) -> None:
        """Append ``records``; durable before returning."""
        if not records:
            return
        text = "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in records)
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            if self.path.exists() and self.path.stat().st_size:
                with open(self.path, "rb") as f:
                    f.seek(-1, os.SEEK_END)
                    if f.read(1) != b"\n":  # a torn line from a killed run: never glue onto it
                        text = "\n" + text
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())

    def read_summary(self) -> dict[str, Any]:
        return read_json(self.folder / SCORES_SUMMARY_FILE)

    def write_summary(self, data: dict[str, Any]) -> None:
        write_json_atomic(self.folder / SCORES_SUMMARY_FILE, data)

    def scorers(self) -> dict[str, str]:
        """kind -> scorer_key the last summary used (empty when the run was never scored)."""
        return dict(self.read_summary().get("scorers", {}))
