"""Asymptote: the example programs of Asymptote's documentation (Debian asymptote-doc)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from viscode_multi.corpora._common import named_files, provenance, read_text
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
    for path in sorted(folder.glob("*.asy")):
        text = read_text(path)
        if text is None:
            continue
        rel = str(path.relative_to(fetched.root))
        yield Candidate(
            id=f"{corpus.name}/{rel}",
            language="asymptote",
            text=text,
            form="file",
            provenance=provenance(corpus, fetched, rel),
            description=leading_comment(text),
            files=named_files(text, folder),
        )
