"""``RunFolder``: the one reader of a run folder, for scoring, reports, the CLI and the runner's summary.

It reads the manifest (``config.json``), the attempts (``results.jsonl``), the saved summaries and the
score lines, and derives from them, in one place, what every consumer needs: the number of self-debug
rounds, the task denominators (tasks that have no record yet are counted under placeholder ids, so a
partial run never shows inflated rates), the pass-rate summary, reference images and task texts.
"""

from __future__ import annotations

import collections
import logging
from pathlib import Path
from typing import Any

from visplotbench.runfolder._manifest import RunManifest
from visplotbench.runfolder._records import AttemptRecord, ScoreRecord
from visplotbench.runfolder._status import AttemptStatus
from visplotbench.runfolder._stores import MANIFEST_FILE, SUMMARY_FILE, RunStore, ScoreStore, read_json
from visplotbench.runfolder._summary import RunSummary, summarize

log = logging.getLogger(__name__)
NOT_RUN = "not_run"


class RunFolder:
    """A run folder, read once (attempts and manifest are loaded when the object is made).

    Args:
        folder: a folder written by ``visplotbench run``.
        tasks: the run's tasks, or a task source to load them from; None: the manifest's source,
            loaded on first need (only ``tasks()``, ``reference()`` and ``task_text()`` need them).
    """

    def __init__(self, folder: str | Path, tasks: list[Any] | str | None = None) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise FileNotFoundError(
                f"{self.folder} is not a run folder (expected {MANIFEST_FILE} and results.jsonl in it). "
                "Run the benchmark first (visplotbench run --out FOLDER)."
            )
        self.store = RunStore(self.folder)
        self.scores = ScoreStore(self.folder)
        self.manifest: RunManifest | None = self.store.read_manifest()
        self.attempts: list[AttemptRecord] = self.store.load()
        self.saved_summary: dict[str, Any] = read_json(self.folder / SUMMARY_FILE)
        self._source = tasks if isinstance(tasks, str) else None
        self._tasks = {t.id: t for t in tasks} if isinstance(tasks, list) else None

    @property
    def rounds(self) -> int:
        """Self-debug rounds of the run: the manifest's, else the saved summary's, else the last recorded."""
        if self.manifest is not None:
            return self.manifest.rounds
        saved = self.saved_summary.get("rounds")
        if isinstance(saved, int):
            return saved
        return max((a.round for a in self.attempts), default=0)

    @property
    def scored_attempts(self) -> list[AttemptRecord]:
        """The attempts that count (an environment failure is never the model's attempt)."""
        return [a for a in self.attempts if a.status is not AttemptStatus.ENV_FAILURE]

    def not_run(self) -> dict[str, int]:
        """Language -> tasks of the manifest that have no record yet (only languages with some)."""
        expected = self.manifest.tasks.per_language if self.manifest else {}
        seen = collections.Counter(self._recorded_languages().values())
        return {lang: n - seen.get(lang, 0) for lang, n in expected.items() if n > seen.get(lang, 0)}

    def task_languages(self) -> dict[str, str]:
        """Task id -> language over every task of the run, in the run's language order, then by id.

        By id, not in the order the attempts were recorded (which is the order they finished in):
        the bootstrap intervals resample by position, so the summary must not depend on it.
        Tasks without a record keep their place in the denominator under ``"\\0not_run:<lang>:<i>"`` ids.
        """
        recorded = self._recorded_languages()
        order = list(self.manifest.tasks.per_language) if self.manifest else []
        order += [lang for lang in dict.fromkeys(recorded.values()) if lang not in order]
        missing = self.not_run()
        found: dict[str, str] = {}
        for lang in order:
            found.update(
                {task_id: lang for task_id, language in sorted(recorded.items()) if language == lang}
            )
            found.update({f"\0{NOT_RUN}:{lang}:{i}": lang for i in range(missing.get(lang, 0))})
        return found

    def summary(self) -> RunSummary:
        """Pass rates per language and round, recomputed from the records (the source of truth).

        ``summary.json`` is used only when there are no records at all (a folder copied without them).
        """
        if not self.attempts and self.saved_summary:
            return RunSummary.from_json(self.saved_summary)
        return summarize(self.attempts, self.task_languages(), self.rounds)

    def score_lines(self) -> tuple[list[ScoreRecord], dict[str, str]]:
        """The score lines and the scorer per kind the last scoring chose (empty when unscored)."""
        return self.scores.load(), self.scores.scorers()

    def images(self, attempt: AttemptRecord) -> list[bytes]:
        return [(self.folder / name).read_bytes() for name in attempt.images]

    def tasks(self) -> dict[str, Any]:
        """The run's tasks by id, loaded from its task source once (empty when they cannot be loaded)."""
        if self._tasks is None:
            from visplotbench.tasks import load_tasks

            source = self._source or (self.manifest.tasks.source if self.manifest else "bundled")
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

    def task_text(self, attempt: AttemptRecord) -> str:
        """Task description + newline + style description (the original's task-judge text)."""
        task = self.tasks().get(attempt.task_id)
        if task is not None:
            return f"{task.task__plot_description}\n{task.task__plot_style}"
        for message in attempt.messages:
            if message.get("role") == "user":
                return str(message.get("content", ""))
        return ""

    def _recorded_languages(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for rec in sorted(self.attempts, key=lambda r: r.round):
            found.setdefault(rec.task_id, rec.language)
        return found
