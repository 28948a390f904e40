"""Stage 7b, decontamination against VisPlotBench: n-gram overlap of code and of instructions.

The reference set is the benchmark's tasks (the bundled task set that ships with visplotbench and, when
reachable, the Hub set): their reference code and their plot/style descriptions. A sample that shares at
large share of its n-grams (tokens, lower-cased) with one task's code, or whose instruction
contains a large share of one task's description, is removed; every match is written to the report with the task id.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from pathlib import Path
from typing import Any

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from viscode_multi.record import language_of

logger = logging.getLogger(__name__)
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z_0-9]*|\d+(?:\.\d+)?|[^\sA-Za-z_0-9]")
_WORD = re.compile(r"[a-z0-9]+")


def code_ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def word_ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def benchmark_tasks(include_hub: bool = False) -> list[Any]:
    """VisPlotBench tasks to decontaminate against: the bundled set, plus the Hub set when reachable."""
    from visplotbench.tasks import load_tasks

    tasks = list(load_tasks("bundled"))
    if include_hub:
        try:
            tasks += list(load_tasks("hub"))
        except Exception as exc:  # offline: the bundled set is what we can check
            logger.warning(
                "VisPlotBench Hub tasks unreachable (%s); decontaminating against the bundled set.", exc
            )
    return tasks


class Decontaminate(BaseFilter):
    """Drops samples that copy a VisPlotBench task; ``matches`` holds one record per removal.

    A sample is contaminated when one task's n-grams cover at least ``min_fraction`` of the sample's
    code n-grams, or when at least ``min_fraction`` of one task's description n-grams appear in the
    sample's instruction. N-grams found in ``boilerplate_tasks`` or more tasks (document preambles,
    page templates, XML headers) are not evidence and are ignored.
    """

    name = "decontamination"

    def __init__(
        self,
        ngram: int = 13,
        min_fraction: float = 0.5,
        report_path: str | None = None,
        include_hub: bool = False,
        boilerplate_tasks: int = 3,
        exclusion_writer=None,
    ):
        super().__init__(exclusion_writer)
        self.ngram = ngram
        self.min_fraction = min_fraction
        self.report_path = report_path
        self.include_hub = include_hub
        self.boilerplate_tasks = boilerplate_tasks
        self._code: dict[tuple[str, ...], set[str]] | None = None
        self._words: dict[tuple[str, ...], set[str]] = {}
        self._words_per_task: Counter[str] = Counter()
        self.matches: list[dict[str, Any]] = []

    def _build(self) -> None:
        code: dict[tuple[str, ...], set[str]] = {}
        words: dict[tuple[str, ...], set[str]] = {}
        for task in benchmark_tasks(self.include_hub):
            for gram in code_ngrams(task.code or "", self.ngram):
                code.setdefault(gram, set()).add(task.id)
            for gram in word_ngrams(f"{task.task__plot_description} {task.task__plot_style}", self.ngram):
                words.setdefault(gram, set()).add(task.id)
        self._code = {g: t for g, t in code.items() if len(t) < self.boilerplate_tasks}
        self._words = {g: t for g, t in words.items() if len(t) < self.boilerplate_tasks}
        for tasks in self._words.values():
            self._words_per_task.update(tasks)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        if self._code is None:
            self._build()
        assert self._code is not None
        lang = language_of(doc)
        grams = code_ngrams(doc.text, self.ngram)
        per_task: Counter[str] = Counter()
        for gram in grams:
            per_task.update(self._code.get(gram, ()))
        instruction = str((doc.metadata.get("messages") or [{}])[0].get("content", ""))
        per_task_words: Counter[str] = Counter()
        for gram in word_ngrams(instruction, self.ngram):
            per_task_words.update(self._words.get(gram, ()))
        found = None
        if per_task and grams:
            task, shared = per_task.most_common(1)[0]
            if shared / len(grams) >= self.min_fraction:
                found = ("code", task, shared, round(shared / len(grams), 3))
        if found is None and per_task_words:
            task, shared = per_task_words.most_common(1)[0]
            if shared / max(self._words_per_task[task], 1) >= self.min_fraction:
                found = ("instruction", task, shared, round(shared / self._words_per_task[task], 3))
        if found is not None:
            field, task, shared, fraction = found
            self.matches.append({"id": doc.id, "language": lang, "field": field, "task": task,
                                 "shared_ngrams": shared, "fraction": fraction})  # fmt: skip
            self.stat_update(f"{lang}/dropped:contaminated-{field}")
            return False, f"contaminated-{field}"
        self.stat_update(f"{lang}/kept")
        return True

    def run(self, data, rank: int = 0, world_size: int = 1):
        yield from super().run(data, rank, world_size)
        if self.report_path:
            path = Path(self.report_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            report = {"ngram": self.ngram, "min_fraction": self.min_fraction, "reference_tasks": "bundled"
                      + (" + hub" if self.include_hub else ""), "removed": len(self.matches), "matches": self.matches}  # fmt: skip
            path.write_text(json.dumps(report, indent=1))
