"""SVG: Open Clip Art Library drawings (Debian openclipart-svg, public domain)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from viscode_multi.corpora._common import file_texts, provenance
from viscode_multi.record import Candidate

if TYPE_CHECKING:
    from viscode_multi.corpora._registry import Corpus
    from viscode_multi.fetch import Fetched

_TITLE = re.compile(r"<(?:dc:)?title>([^<]{3,200})</(?:dc:)?title>")
_DESC = re.compile(r"<(?:dc:)?description>([^<]{3,400})</(?:dc:)?description>")


def svg_description(text: str) -> str:
    parts = []
    for pattern in (_TITLE, _DESC):
        match = pattern.search(text)
        if match and match.group(1).strip() not in parts:
            parts.append(html.unescape(match.group(1).strip()))
    return ". ".join(parts)


def iter_openclipart(corpus: Corpus, fetched: Fetched) -> Iterator[Candidate]:
    folder = fetched.root / "usr/share/openclipart/svg"
    for rel, text in file_texts(fetched, sorted(folder.rglob("*.svg"))):
        yield Candidate(
            id=f"{corpus.name}/{rel}",
            language="svg",
            text=text,
            form="file",
            provenance=provenance(corpus, fetched, rel),
            description=svg_description(text),
        )
