"""LilyPond: the music fragments of the LilyPond manuals (lilypond-book ``.ly`` files, Debian)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from viscode_multi.corpora._common import file_texts, provenance
from viscode_multi.record import Candidate

if TYPE_CHECKING:
    from viscode_multi.corpora._registry import Corpus
    from viscode_multi.fetch import Fetched

_TEXIDOC = re.compile(r'texidoc\s*=\s*"((?:[^"\\]|\\.)*)"', re.S)


def texidoc(text: str) -> str:
    """The snippet's ``texidoc`` with Texinfo markup removed ("" when absent)."""
    match = _TEXIDOC.search(text)
    if not match:
        return ""
    doc = match.group(1).replace('\\"', '"').replace("\\\\", "\\")
    doc = re.sub(r"@(?:code|var|emph|strong|samp|ref|file|command|q|qq)\{([^{}]*)\}", r"\1", doc)
    return re.sub(r"\s+", " ", doc).strip()


def iter_lilypond_docs(corpus: Corpus, fetched: Fetched) -> Iterator[Candidate]:
    docs = fetched.root / "usr/share/doc/lilypond/html/Documentation"
    for rel, text in file_texts(fetched, sorted(docs.rglob("*.ly"))):
        name = re.search(r'\\sourcefilename\s+"([^"]+)"', text)
        yield Candidate(
            id=f"{corpus.name}/{rel}",
            language="lilypond",
            text=text,
            form="lilypond-book",
            provenance=provenance(corpus, fetched, rel),
            description=texidoc(text),
            # the wrapper differs between manuals and translations; the fragment is what repeats
            extra={"snippet": name.group(1) if name else "", "dedup_key": text.split("% ly snippet:")[-1]},
        )
