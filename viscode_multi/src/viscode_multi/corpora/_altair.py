"""Vega-Lite and HTML: Altair's example gallery (altair 4.2.2 sdist, ``altair/examples``).

Each program is a person's Altair script. The extraction stage runs it (``viscode_multi.altair_run``)
and keeps what Altair itself writes: the Vega-Lite spec (``chart.to_dict()``) for ``vegalite``, the
standalone vega-embed page (``chart.to_html()``) for ``html``, with the vega-datasets files it
references inlined from the ``vega-datasets`` npm package (the renderers are offline).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from viscode_multi.corpora._common import provenance, python_docstring, read_text
from viscode_multi.record import Candidate

if TYPE_CHECKING:
    from viscode_multi.corpora._registry import Corpus
    from viscode_multi.fetch import Fetched


def iter_altair(corpus: Corpus, fetched: Fetched, vega_data: Fetched) -> Iterator[Candidate]:
    (top,) = [p for p in fetched.root.iterdir() if p.is_dir()]
    data_dir = vega_data.root / "package/data"
    for path in sorted((top / "altair/examples").glob("*.py")):
        text = read_text(path)
        if text is None or path.name.startswith("_"):
            continue
        rel = str(path.relative_to(top))
        yield Candidate(
            id=f"{corpus.name}/{rel}",
            language=corpus.language,
            text=text,
            form="altair-program",
            provenance=provenance(corpus, fetched, rel),
            description=python_docstring(text),
            extra={"target": corpus.language, "vega_data": str(data_dir)},
        )
