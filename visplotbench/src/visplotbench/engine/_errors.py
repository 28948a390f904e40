"""Turn a tool's raw log into an error excerpt fit to show a model.

The excerpt keeps the tool's own words and the line numbers of the user's program, and drops what
only confuses a model: ANSI colour codes, temp-dir paths, harness frames, runs of repeated lines and
anything beyond a bounded length (the head and the tail are kept, since both usually matter).
"""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
# Paths a job sees (/job/...) and host temp dirs that leak through some tools.
_JOB_PATH = re.compile(r"(?:/job|/tmp/[\w.-]*vpb[\w.-]*(?:/[\w.-]+)?)/")
MAX_EXCERPT_CHARS = 2000


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def fold_repeats(lines: list[str], keep: int = 2) -> list[str]:
    """Collapse runs of identical lines: keep ``keep`` and say how many were folded."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and lines[j] == lines[i]:
            j += 1
        run = j - i
        out.extend(lines[i : i + min(run, keep)])
        if run > keep:
            out.append(f"[... the line above repeated {run - keep} more times ...]")
        i = j
    return out


def bound(text: str, limit: int = MAX_EXCERPT_CHARS) -> str:
    """Keep the first and last parts of ``text`` when it is longer than ``limit`` characters."""
    if len(text) <= limit:
        return text
    head = text[: limit // 3]
    tail = text[-(limit - len(head) - 40) :]
    return f"{head.rstrip()}\n[... {len(text) - len(head) - len(tail)} characters cut ...]\n{tail.lstrip()}"


def clean_excerpt(text: str, *, extra_paths: tuple[str, ...] = (), limit: int = MAX_EXCERPT_CHARS) -> str:
    """Clean a raw log into an excerpt: no ANSI, no temp paths, folded repeats, bounded length."""
    text = strip_ansi(text).replace("\r\n", "\n").replace("\r", "\n")
    for path in extra_paths:
        text = text.replace(path.rstrip("/") + "/", "")
    text = _JOB_PATH.sub("", text)
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return bound("\n".join(fold_repeats(lines)), limit)
