"""Reading a score out of a judge's reply.

The rule (the original's, made explicit): a reply that is only a number is that number; otherwise the
score is the number after the **last** ``[FINAL SCORE]`` marker (an optional ``:`` or ``=`` and
Markdown bold around it are allowed; case does not matter). The score is clamped to 0-100 and the
clamping is recorded. Anything else, e.g. ``Final score 40`` without the bracketed marker, does not
parse: the marker is the contract the prompt states, and guessing at free text would turn a judge's
"scores range from 0 to 100, this one is 40" into 100 or 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_BARE = re.compile(rf"\s*\**\s*({_NUMBER})\s*\**\s*")
_MARKER = re.compile(rf"\[\s*FINAL\s+SCORE\s*\]\s*\**\s*[:=]?\s*\**\s*({_NUMBER})", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedScore:
    """A reply's score.

    Attributes:
        score: the score clamped to 0..100, or None when the reply holds none.
        raw: the number as written (None when there is none).
        clamped: the written number was outside 0..100.
    """

    score: float | None
    raw: float | None = None
    clamped: bool = False

    @property
    def parsed(self) -> bool:
        return self.score is not None


def parse_score(reply: str) -> ParsedScore:
    """The score in a judge's ``reply`` (see the module docstring)."""
    bare = _BARE.fullmatch(reply or "")
    if bare:
        raw = float(bare.group(1))
    else:
        found = _MARKER.findall(reply or "")
        if not found:
            return ParsedScore(None)
        raw = float(found[-1])
    score = min(max(raw, 0.0), 100.0)
    return ParsedScore(score, raw, score != raw)
