"""The parts of a run folder that scoring reads: attempts, reference images, task texts, denominators."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from visplotbench.harness._records import AttemptRecord
from visplotbench.harness._store import RunStore
from visplotbench.judges._image_metrics import prepare

log = logging.getLogger(__name__)


class RunFolder:
    """What scoring needs from a run folder: attempts, reference images, task texts."""

    def __init__(self, folder: Path, tasks: list[Any] | str | None) -> None:
        self.folder = folder
        self.store = RunStore(folder)
        if not self.store.results.exists():
            raise FileNotFoundError(
                f"{folder} is not a run folder: it has no results.jsonl. "
                "Run the benchmark first (visplotbench run --out FOLDER)."
            )
        try:
            self.config: dict[str, Any] = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            self.config = {}
        self.attempts = [a for a in self.store.load() if a.status != "env_failure"]
        self._source = tasks if isinstance(tasks, str) else None
        self._tasks = {t.id: t for t in tasks} if isinstance(tasks, list) else None
        self._prepared: dict[str, Any] = {}

    @property
    def rounds(self) -> int:
        value = self.config.get("self_debug", {}).get("rounds")
        return value if isinstance(value, int) else max((a.round for a in self.attempts), default=0)

    def tasks(self) -> dict[str, Any]:
        """The run's tasks by id, loaded from its task source once (empty when they cannot be loaded)."""
        if self._tasks is None:
            from visplotbench.tasks import load_tasks

            source = self._source or self.config.get("config", {}).get("tasks") or "bundled"
            languages = sorted({a.language for a in self.attempts})
            try:
                self._tasks = {t.id: t for t in load_tasks(source, languages)}
            except Exception as exc:  # the Hub offline, a moved file: fall back, and say so
                log.warning(
                    "Could not load the run's tasks from %r (%s); task scores use the recorded "
                    "instruction as the task text and visual scores need images/<id>_ref.png.",
                    source,
                    exc,
                )
                self._tasks = {}
        return self._tasks

    def reference(self, task_id: str) -> tuple[bytes | None, str]:
        """The reference PNG of ``task_id`` and where it came from ("" when there is none)."""
        name = f"images/{task_id}_ref.png"
        path = self.folder / name
        if path.is_file():
            return path.read_bytes(), name
        task = self.tasks().get(task_id)
        if task is not None and task.image:
            return bytes(task.image), f"task:{task_id}"
        return None, ""

    def prepared_reference(self, task_id: str) -> tuple[Any, str]:
        if task_id not in self._prepared:
            png, name = self.reference(task_id)
            try:
                self._prepared[task_id] = (prepare(png) if png else None, name)
            except (OSError, ValueError) as exc:
                log.warning("%s: unreadable reference image %s: %s", task_id, name, exc)
                self._prepared[task_id] = (None, "")
        prepared: tuple[Any, str] = self._prepared[task_id]
        return prepared

    def images(self, attempt: AttemptRecord) -> list[bytes]:
        return [(self.folder / name).read_bytes() for name in attempt.images]

    def task_text(self, attempt: AttemptRecord) -> str:
        """Task description + newline + style description (the original's task-judge text)."""
        task = self.tasks().get(attempt.task_id)
        if task is not None:
            return f"{task.task__plot_description}\n{task.task__plot_style}"
        for message in attempt.messages:
            if message.get("role") == "user":
                return str(message.get("content", ""))
        return ""

    def task_languages(self) -> dict[str, str]:
        """Task id -> language over every task of the run; tasks with no record keep placeholder ids."""
        found: dict[str, str] = {}
        for rec in self.store.load():
            found.setdefault(rec.task_id, rec.language)
        expected = self.config.get("tasks", {}).get("per_language") or {}
        for language, count in expected.items():
            have = sum(lang == language for lang in found.values())
            found.update({f"\0not_run:{language}:{i}": language for i in range(max(0, int(count) - have))})
        return found
