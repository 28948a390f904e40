"""What one sample carries between stages, and how it sits in a datatrove ``Document``.

A candidate's ``Document.text`` is its source text (a whole file, a documentation block); from the
extraction stage on it is the standalone program. Everything else lives in ``Document.metadata``
under the keys below, so every stage (and every executor) passes it along untouched.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from datatrove.data import Document


@dataclass(frozen=True)
class Provenance:
    """Where a candidate came from.

    Attributes:
        source: ``pypi``, ``debian``, ``npm``, ``hub`` or ``local``.
        package: the package (or Hub dataset id, or folder) it was read from.
        version: the package version (or dataset revision).
        path: the file inside the package, and for a block inside a file ``path#N``.
        license: SPDX expression where known (``LicenseRef-...`` otherwise).
        corpus: the corpus name in ``viscode_multi.corpora.CORPORA`` (or the source name).
    """

    source: str
    package: str
    version: str
    path: str
    license: str
    corpus: str


@dataclass
class Candidate:
    """One program (or documentation block) read from a corpus, before any stage ran.

    Attributes:
        id: stable, unique id (``corpus/path#n``); outputs are keyed and ordered by it.
        language: a VisPlotBench language key (``python``, ``latex``, ...).
        text: the source text as found.
        form: how the source holds the program (``gallery-script``, ``lilypond-book``,
            ``codeexample``, ``file``, ``mermaid-example``, ``altair-program``...): picks the extractor.
        provenance: see ``Provenance``.
        description: human text that came with it (docstring, ``texidoc``, example title), or "".
        files: data files the program reads, name -> text, placed next to it when it runs.
        extra: form-specific hints for the extractor (e.g. a TikZ ``preamble=`` option).
    """

    id: str
    language: str
    text: str
    form: str
    provenance: Provenance
    description: str = ""
    files: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)

    def to_document(self) -> Document:
        return Document(
            text=self.text,
            id=self.id,
            metadata={
                "language": self.language,
                "form": self.form,
                "provenance": asdict(self.provenance),
                "description": self.description,
                "files": dict(self.files),
                "extra": dict(self.extra),
            },
        )


def language_of(doc: Document) -> str:
    return str(doc.metadata.get("language", "unknown"))


def meta(doc: Document, key: str, default: Any = None) -> Any:
    return doc.metadata.get(key, default)
