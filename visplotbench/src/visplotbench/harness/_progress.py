"""Progress bars: one per language per round, with pass counts and ETA (tqdm; quiet when disabled)."""

from __future__ import annotations

import collections
from typing import Any

from visplotbench.runfolder import AttemptRecord


class Progress:
    def __init__(self, tasks: list[Any], rounds: int, *, enabled: bool, already: list[AttemptRecord]):
        self.enabled = enabled
        self.rounds = rounds
        self.bars: dict[str, Any] = {}
        self.passed: collections.Counter[str] = collections.Counter()
        self.round = 0
        self.languages = list(dict.fromkeys(t.language for t in tasks))
        self.resumed = len(already)

    def start_round(self, round_: int, languages: list[str]) -> None:
        self.close()
        self.round = round_
        self.passed.clear()
        if not self.enabled:
            return
        from tqdm.auto import tqdm

        label = "first try" if round_ == 0 else f"self-debug {round_}/{self.rounds}"
        counts = collections.Counter(languages)
        for position, lang in enumerate(lang for lang in self.languages if counts[lang]):
            self.bars[lang] = tqdm(
                total=counts[lang],
                desc=f"{lang:<10} {label}",
                position=position,
                leave=True,
                unit="task",
                dynamic_ncols=True,
            )

    def advance(self, language: str, passed: bool, round_: int) -> None:
        if passed:
            self.passed[language] += 1
        bar = self.bars.get(language)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(passed=self.passed[language], refresh=False)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars = {}
