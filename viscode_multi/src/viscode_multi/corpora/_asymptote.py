"""Asymptote: the example programs of Asymptote's documentation (Debian asymptote-doc)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from viscode_multi.corpora._common import file_texts, named_files, provenance
from viscode_multi.record import Candidate

if TYPE_CHECKING:
    from viscode_multi.corpora._registry import Corpus
    from viscode_multi.fetch import Fetched


def leading_comment(text: str, marker: str = "//") -> str:
    lines = []
    for line in text.splitlines():
        if not line.strip().startswith(marker):
            break
        lines.append(line.strip()[len(marker) :].strip())
    return re.sub(r"\s+", " ", " ".join(lines)).strip()


def iter_asymptote(corpus: Corpus, fetched: Fetched) -> Iterator[Candidate]:
    folder = fetched.root / "usr/share/doc/asymptote/examples"
    for rel, text in file_texts(fetched, sorted(folder.glob("*.asy"))):
        yield Candidate(
            id=f"{corpus.name}/{rel}",
            language="asymptote",
            text=text,
            form="file",
            provenance=provenance(corpus, fetched, rel),
            description=leading_comment(text),
            files=named_files(text, folder),
        )
