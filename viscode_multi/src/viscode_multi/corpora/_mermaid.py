"""Mermaid: the official example diagrams of the ``@mermaid-js/examples`` npm package.

The package ships them inside an ES module (``dist/mermaid-examples.esm.mjs``) as objects with a
``title`` and a ``code`` template literal under each diagram type's ``name``/``description``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from viscode_multi.corpora._common import provenance, read_text
from viscode_multi.record import Candidate

if TYPE_CHECKING:
    from viscode_multi.corpora._registry import Corpus
    from viscode_multi.fetch import Fetched

_DIAGRAM = re.compile(r'name:\s*"([^"]*)",\s*description:\s*"([^"]*)"')
_EXAMPLE = re.compile(r'title:\s*"((?:[^"\\]|\\.)*)",[^`]*?code:\s*`((?:[^`\\]|\\.)*)`', re.S)


def _unescape(template: str) -> str:
    return re.sub(r"\\(.)", r"\1", template)


def iter_mermaid_examples(corpus: Corpus, fetched: Fetched) -> Iterator[Candidate]:
    module = fetched.root / "package/dist/mermaid-examples.esm.mjs"
    text = read_text(module) or ""
    rel = str(module.relative_to(fetched.root))
    # Each diagram type's block starts at its `name:`; examples belong to the last one seen.
    starts = [(m.start(), m.group(1), m.group(2)) for m in _DIAGRAM.finditer(text)]
    for n, match in enumerate(_EXAMPLE.finditer(text)):
        kind = [s for s in starts if s[0] < match.start()]
        name, about = (kind[-1][1], kind[-1][2]) if kind else ("", "")
        title = _unescape(match.group(1))
        yield Candidate(
            id=f"{corpus.name}/{rel}#{n}",
            language="mermaid",
            text=_unescape(match.group(2)),
            form="mermaid-example",
            provenance=provenance(corpus, fetched, f"{rel}#{n}"),
            description=f"{name}: {title}. {about}".strip(": ."),
        )


_BLOCK = re.compile(r"```mermaid\n(.*?)```", re.S)


def iter_readme_blocks(corpus: Corpus, *packages: Fetched) -> Iterator[Candidate]:
    """```mermaid blocks of the READMEs that the ``mermaid`` npm releases ship (each release's own)."""
    for fetched in packages:
        readme = fetched.root / "package/README.md"
        text = read_text(readme) or ""
        heads = [(m.start(), m.group(1).strip()) for m in re.finditer(r"^#+\s*(.+)$", text, re.M)]
        for n, match in enumerate(_BLOCK.finditer(text)):
            title = [h for pos, h in heads if pos < match.start()]
            rel = f"package/README.md#{n}"
            yield Candidate(
                id=f"{corpus.name}/{fetched.package.name}@{fetched.version}/{rel}",
                language="mermaid",
                text=match.group(1),
                form="mermaid-example",
                provenance=provenance(corpus, fetched, rel),
                description=re.sub(r"<a\b.*?</a>|<[^>]+>|[\[\]`*]", "", title[-1]).strip(" -")
                if title
                else "",
            )
