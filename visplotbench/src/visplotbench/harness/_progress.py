"""Progress: bars on a terminal, plain lines in a log.

On a terminal (stderr is a TTY): one tqdm bar per language per round, with pass counts and ETA.
Anywhere else (output piped to a file, CI logs), redrawn bars would stack up as hundreds of lines,
so, as lm-evaluation-harness and datasets do, plain lines are printed instead: one per language
per round when it ends, and one every ``every`` tasks of a language in between (large task sets).
"""

from __future__ import annotations

import collections
import os
import sys
import time
from typing import Any, TextIO

from visplotbench.runfolder import AttemptRecord

# A line every this many tasks of one language, so that a long round still shows signs of life
# (``VISPLOTBENCH_PROGRESS_EVERY`` changes it).
EVERY = 100


def every_from_env() -> int:
    """``$VISPLOTBENCH_PROGRESS_EVERY`` (a positive integer), else ``EVERY``."""
    value = os.environ.get("VISPLOTBENCH_PROGRESS_EVERY", "").strip()
    if not value:
        return EVERY
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"VISPLOTBENCH_PROGRESS_EVERY={value!r}: give a positive number of tasks, e.g. 100.")
    return int(value)


class Progress:
    """Progress of a run: ``start_round``, ``advance`` per finished attempt, ``close``.

    Args:
        tasks: the run's tasks (their languages, in order).
        rounds: self-debug rounds (K).
        enabled: False prints nothing.
        already: records of a resumed run.
        stream: where to write (stderr by default); bars when it is a terminal, lines otherwise.
        every: in line mode, also print a line every ``every`` finished tasks of a language
            (default: ``$VISPLOTBENCH_PROGRESS_EVERY`` or ``EVERY``).
    """

    def __init__(
        self,
        tasks: list[Any],
        rounds: int,
        *,
        enabled: bool,
        already: list[AttemptRecord],
        stream: TextIO | None = None,
        every: int | None = None,
    ):
        self.enabled = enabled
        self.rounds = rounds
        self.stream = stream if stream is not None else sys.stderr
        self.every = every if every is not None else every_from_env()
        self.bars: dict[str, Any] = {}
        self.passed: collections.Counter[str] = collections.Counter()
        self.done: collections.Counter[str] = collections.Counter()
        self.totals: collections.Counter[str] = collections.Counter()
        self.round = 0
        self.started = time.monotonic()
        self.languages = list(dict.fromkeys(t.language for t in tasks))
        self.resumed = len(already)
        isatty = getattr(self.stream, "isatty", None)
        self.interactive = bool(isatty and isatty())

    def _label(self) -> str:
        return "first try" if self.round == 0 else f"self-debug {self.round}/{self.rounds}"

    def start_round(self, round_: int, languages: list[str]) -> None:
        self.close()
        self.round = round_
        self.passed.clear()
        self.done.clear()
        self.totals = collections.Counter(languages)
        self.started = time.monotonic()
        if not self.enabled or not self.interactive:
            return
        from tqdm.auto import tqdm

        for position, lang in enumerate(lang for lang in self.languages if self.totals[lang]):
            self.bars[lang] = tqdm(
                total=self.totals[lang],
                desc=f"{lang:<10} {self._label()}",
                position=position,
                leave=True,
                unit="task",
                dynamic_ncols=True,
                file=self.stream,
            )

    def advance(self, language: str, passed: bool, round_: int) -> None:
        if passed:
            self.passed[language] += 1
        self.done[language] += 1
        bar = self.bars.get(language)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(passed=self.passed[language], refresh=False)
        elif self.enabled and not self.interactive:
            done, total = self.done[language], self.totals[language]
            if done == total or done % self.every == 0:
                self._line(language, done, total)

    def _line(self, language: str, done: int, total: int) -> None:
        elapsed = time.monotonic() - self.started
        passed = self.passed[language]
        state = "done" if done >= total else f"ETA {elapsed / done * (total - done):.0f} s"
        print(
            f"[visplotbench] {language:<10} {self._label():<16} {done}/{total} tasks, "
            f"{passed} passed ({passed / done:.1%}), {elapsed:.1f} s, {state}",
            file=self.stream,
            flush=True,
        )

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars = {}
