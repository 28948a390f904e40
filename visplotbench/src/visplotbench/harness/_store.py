"""The run folder: ``config.json``, ``results.jsonl`` (append-only, crash-safe), ``images/``.

Each attempt is one JSON line, written with its images first and flushed + fsynced, so a run killed at
any moment loses at most the attempt in flight. On resume a torn last line is dropped and attempts
whose render was an environment failure are removed (they are re-rendered, never counted).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from visplotbench.harness._records import AttemptRecord


class RunStore:
    """Reads and appends the attempts of one run folder (thread-safe appends)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.results = self.folder / "results.jsonl"
        self.images = self.folder / "images"
        self._lock = threading.Lock()

    def exists(self) -> bool:
        return self.results.exists() or (self.folder / "config.json").exists()

    def prepare(self, config: dict[str, Any], *, resume: bool) -> list[AttemptRecord]:
        """Create the folder (or reopen it with ``resume``) and return the attempts already finished."""
        if self.exists() and not resume:
            raise FileExistsError(
                f"{self.folder} already holds a run. Pass --resume to continue it, or choose another --out."
            )
        self.images.mkdir(parents=True, exist_ok=True)
        old = self.folder / "config.json"
        if resume and old.exists():
            previous = json.loads(old.read_text(encoding="utf-8"))
            if previous.get("fingerprint") != config.get("fingerprint"):
                raise ValueError(
                    f"--resume: {self.folder} was run with different settings (model, prompts, tasks or rounds). "
                    "Resume with the same command, or start a new run folder."
                )
        records = self.load(keep_env_failures=False) if resume else []
        if resume:
            self._rewrite(records)
        self._write_json("config.json", config)
        return records

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
            except (json.JSONDecodeError, TypeError):
                continue
            latest[(rec.task_id, rec.round)] = rec
        return [r for r in latest.values() if keep_env_failures or r.status != "env_failure"]

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

    def _rewrite(self, records: list[AttemptRecord]) -> None:
        tmp = self.results.with_suffix(".jsonl.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for rec in sorted(records, key=lambda r: (r.task_id, r.round)):
                f.write(json.dumps(rec.to_json(), ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.results)

    def _write_json(self, name: str, data: dict[str, Any]) -> None:
        tmp = self.folder / f"{name}.tmp"
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, self.folder / name)

    def write_json(self, name: str, data: dict[str, Any]) -> None:
        self._write_json(name, data)

    def read_json(self, name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.folder / name).read_text(encoding="utf-8"))
        return data
