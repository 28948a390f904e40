"""Python corpora: sphinx-gallery scripts from the matplotlib, seaborn and NetworkX sdists."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from viscode_multi.corpora._common import named_files, provenance, python_docstring, read_text
from viscode_multi.record import Candidate

if TYPE_CHECKING:
    from viscode_multi.corpora._registry import Corpus
    from viscode_multi.fetch import Fetched


def _scripts(corpus: Corpus, fetched: Fetched, folders: list[str]) -> Iterator[Candidate]:
    (top,) = [p for p in fetched.root.iterdir() if p.is_dir()]
    for folder in folders:
        for path in sorted((top / folder).rglob("*.py")):
            text = read_text(path)
            if text is None or path.name.startswith("_") or path.name == "conf.py":
                continue
            rel = str(path.relative_to(top))
            yield Candidate(
                id=f"{corpus.name}/{rel}",
                language="python",
                text=text,
                form="gallery-script",
                provenance=provenance(corpus, fetched, rel),
                description=python_docstring(text),
                files=named_files(text, path.parent),
            )


def iter_matplotlib(corpus: Corpus, fetched: Fetched) -> Iterator[Candidate]:
    yield from _scripts(corpus, fetched, ["galleries/examples", "galleries/plot_types"])


def iter_seaborn(corpus: Corpus, fetched: Fetched) -> Iterator[Candidate]:
    yield from _scripts(corpus, fetched, ["examples"])


def iter_networkx(corpus: Corpus, fetched: Fetched) -> Iterator[Candidate]:
    yield from _scripts(corpus, fetched, ["examples"])


__all__ = ["iter_matplotlib", "iter_networkx", "iter_seaborn"]
