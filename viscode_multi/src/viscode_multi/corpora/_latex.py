"""LaTeX: ``codeexample`` blocks of the pgfplots and PGF/TikZ manuals (Debian texlive-pictures-doc).

The manuals' sources ship as ``pgfplots.doc.src.tar.bz2`` and ``pgfmanual-en-*.tex(.gz)``. A block's
option list may carry ``preamble={...}`` (libraries the example needs); blocks marked ``code only``
or ``setup code`` are not pictures and are skipped here.
"""

from __future__ import annotations

import gzip
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from viscode_multi.corpora._common import MAX_DATA_FILE, provenance
from viscode_multi.record import Candidate

if TYPE_CHECKING:
    from viscode_multi.corpora._registry import Corpus
    from viscode_multi.fetch import Fetched

_BEGIN = "\\begin{codeexample}"
_END = "\\end{codeexample}"
_SECTION = re.compile(r"\\(?:sub)*section\*?\{([^{}]*)\}")
_DOCS = "usr/share/doc/texlive-doc"


def _balanced(text: str, start: int, open_: str, close: str) -> int:
    """Index just past the bracket group that opens at ``text[start]``."""
    depth = 0
    for i in range(start, len(text)):
        ch = text[i]
        if ch in "{[" and ch in (open_, "{"):
            depth += 1
        elif ch in "}]" and ch in (close, "}"):
            depth -= 1
            if depth == 0:
                return i + 1
    return len(text)


def option(options: str, key: str) -> str:
    """The braced value of ``key={...}`` in a codeexample option list ("" when absent)."""
    match = re.search(re.escape(key) + r"\s*=\s*\{", options)
    if not match:
        return ""
    end = _balanced(options, match.end() - 1, "{", "}")
    return options[match.end() : end - 1]


def codeexamples(text: str) -> Iterator[tuple[str, str, str]]:
    """(options, body, nearest section title) of each codeexample block in ``text``."""
    pos = 0
    while True:
        start = text.find(_BEGIN, pos)
        if start < 0:
            return
        cursor = start + len(_BEGIN)
        options = ""
        if text[cursor : cursor + 1] == "[":
            end = _balanced(text, cursor, "[", "]")
            options, cursor = text[cursor + 1 : end - 1], end
        stop = text.find(_END, cursor)
        if stop < 0:
            return
        sections = _SECTION.findall(text, 0, start)
        yield options, text[cursor:stop].strip("\n"), (sections[-1] if sections else "")
        pos = stop + len(_END)


def _candidates(
    corpus: Corpus, fetched: Fetched, rel: str, text: str, data: dict[str, str]
) -> Iterator[Candidate]:
    for n, (options, body, section) in enumerate(codeexamples(text)):
        if "code only" in options or "setup code" in options or not body.strip():
            continue
        files = {name: content for name, content in data.items() if name in body}
        yield Candidate(
            id=f"{corpus.name}/{rel}#{n}",
            language="latex",
            text=body,
            form="codeexample",
            provenance=provenance(corpus, fetched, f"{rel}#{n}"),
            description=re.sub(r"\\\w+\s*", "", section).strip(),
            files=files,
            extra={"preamble": option(options, "preamble"), "manual": corpus.name},
        )


def iter_pgfplots(corpus: Corpus, fetched: Fetched) -> Iterator[Candidate]:
    archive = fetched.root / _DOCS / "latex/pgfplots/pgfplots.doc.src.tar.bz2"
    sources: dict[str, str] = {}
    data: dict[str, str] = {}
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if not member.isfile() or member.size > MAX_DATA_FILE * 5:
                continue
            handle = tar.extractfile(member)
            if handle is None:
                continue
            try:
                content = handle.read().decode("utf-8")
            except UnicodeDecodeError:
                continue
            name = member.name.removeprefix("./")
            if name.endswith(".tex"):
                sources[name] = content
            elif member.size <= MAX_DATA_FILE:
                data[Path(name).name] = content
    rel_archive = str(archive.relative_to(fetched.root))
    for name in sorted(sources):
        yield from _candidates(corpus, fetched, f"{rel_archive}/{name}", sources[name], data)


def iter_pgfmanual(corpus: Corpus, fetched: Fetched) -> Iterator[Candidate]:
    folder = fetched.root / _DOCS / "generic/pgf"
    for path in sorted(folder.glob("pgfmanual-en-*.tex*")):
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode("utf-8", "replace")
        yield from _candidates(corpus, fetched, str(path.relative_to(fetched.root)), text, {})
