"""The offline image metrics of a run's attempts, computed while the run goes on.

Scoring after the last render leaves the renderers idle while images are compared (at 888 tasks
that was most of a minute); scoring each attempt as soon as its record is durable moves that work
into the run, where it fills the gaps between renders. ``score_run`` afterwards finds these lines
and skips them (the same lines it would write), and scores whatever is left: attempts whose
reference is not in the run folder, and anything this scorer had no time for.
"""

from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path
from typing import Any

from visplotbench.judges._image_metrics import prepare
from visplotbench.judges._score import _BATCH, offline_lines
from visplotbench.runfolder import AttemptRecord, AttemptStatus, ScoreRecord, ScoreStore

log = logging.getLogger(__name__)


class OnlineScorer:
    """Scores each attempt handed to ``submit`` in a background thread; ``close()`` waits for it.

    Example:
        >>> scorer = OnlineScorer("runs/x")                  # doctest: +SKIP
        >>> runner.listeners.append(scorer.submit)           # the harness calls it per record
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.store = ScoreStore(self.folder)
        self._queue: queue.Queue[AttemptRecord | None] = queue.Queue()
        self._references: dict[str, tuple[Any, str]] = {}
        self._thread = threading.Thread(target=self._loop, name="online-scorer", daemon=True)
        self._thread.start()
        self.scored = 0

    def submit(self, attempt: AttemptRecord) -> None:
        """Queue ``attempt`` (its record and images are durable already); returns at once."""
        if attempt.status is not AttemptStatus.ENV_FAILURE:  # never the model's attempt: not scored
            self._queue.put(attempt)

    def close(self) -> None:
        """Score what is queued, write it, and stop."""
        self._queue.put(None)
        self._thread.join()

    def _reference(self, task_id: str) -> tuple[Any, str] | None:
        """The prepared reference from the run folder; None: not there (``score_run`` looks further)."""
        if task_id not in self._references:
            name = f"images/{task_id}_ref.png"
            path = self.folder / name
            if not path.is_file():
                return None
            try:
                self._references[task_id] = (prepare(path.read_bytes()), name)
            except (OSError, ValueError):
                return None  # score_run reports it
        return self._references[task_id]

    def _loop(self) -> None:
        batch: list[ScoreRecord] = []
        while True:
            try:
                attempt = self._queue.get(timeout=1.0 if batch else None)
            except queue.Empty:  # a quiet moment: make what is scored durable
                self.store.append(batch)
                batch = []
                continue
            if attempt is None:
                break
            try:
                reference = self._reference(attempt.task_id)
                if reference is not None:
                    batch += offline_lines(attempt, self.folder, reference)
                    self.scored += 1
            except Exception:  # a bug here must not stop the run: score_run scores it afterwards
                log.exception("online scoring of %s round %d failed", attempt.task_id, attempt.round)
            if len(batch) >= _BATCH:
                self.store.append(batch)
                batch = []
        self.store.append(batch)
