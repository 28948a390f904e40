"""The corpus table and the loader that turns corpora into one deterministic candidate list."""

from __future__ import annotations

import hashlib
import importlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from viscode_multi.fetch import Package, fetch
from viscode_multi.record import Candidate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Corpus:
    """One registry corpus.

    Attributes:
        name: the key in ``CORPORA``.
        language: the VisPlotBench language of its candidates.
        package: the registry package that ships it.
        license: SPDX licence expression of the programs.
        walker: ``"module:function"`` taking a ``Fetched`` and yielding ``Candidate``.
        needs: further packages the walker reads (e.g. data files), fetched alongside.
        about: one line for the dataset card.
    """

    name: str
    language: str
    package: Package
    license: str
    walker: str
    needs: tuple[Package, ...] = field(default_factory=tuple)
    about: str = ""

    def walk(self, cache: Path | None = None) -> Iterator[Candidate]:
        fetched = fetch(self.package, cache)
        extra = [fetch(p, cache) for p in self.needs]
        module_name, _, func_name = self.walker.partition(":")
        func: Callable[..., Iterable[Candidate]] = getattr(
            importlib.import_module(f"viscode_multi.corpora.{module_name}"), func_name
        )
        yield from func(self, fetched, *extra)  # walkers take the package, then the `needs`


_M = "viscode_multi.corpora"
_VEGA_DATA = Package("npm", "vega-datasets", "2.11.0")
CORPORA: dict[str, Corpus] = {
    c.name: c
    for c in [
        Corpus("matplotlib-gallery", "python", Package("pypi", "matplotlib", "3.8.4"),
               "LicenseRef-Matplotlib", "_python:iter_matplotlib",
               about="Matplotlib's example gallery and plot-types scripts (sdist galleries/)"),
        Corpus("seaborn-examples", "python", Package("pypi", "seaborn", "0.13.2"),
               "BSD-3-Clause", "_python:iter_seaborn", about="seaborn's gallery scripts (sdist examples/)"),
        Corpus("networkx-examples", "python", Package("pypi", "networkx", "3.6.1"),
               "BSD-3-Clause", "_python:iter_networkx", about="NetworkX's gallery scripts (sdist examples/)"),
        Corpus("lilypond-docs", "lilypond", Package("debian", "lilypond-doc-html"),
               "GFDL-1.3-or-later", "_lilypond:iter_lilypond_docs",
               about="LilyPond manuals' music fragments (Debian lilypond-doc-html, lilypond-book .ly files)"),
        Corpus("asymptote-examples", "asymptote", Package("debian", "asymptote-doc"),
               "LGPL-3.0-or-later", "_asymptote:iter_asymptote",
               about="Asymptote's example programs (Debian asymptote-doc)"),
        Corpus("pgfplots-manual", "latex", Package("debian", "texlive-pictures-doc"),
               "GPL-3.0-or-later", "_latex:iter_pgfplots",
               about="pgfplots manual codeexample blocks (Debian texlive-pictures-doc)"),
        Corpus("pgf-manual", "latex", Package("debian", "texlive-pictures-doc"),
               "LPPL-1.3c OR GFDL-1.2-or-later", "_latex:iter_pgfmanual",
               about="PGF/TikZ manual codeexample blocks (Debian texlive-pictures-doc)"),
        Corpus("openclipart", "svg", Package("debian", "openclipart-svg"),
               "CC0-1.0", "_svg:iter_openclipart", about="Open Clip Art Library drawings (Debian openclipart-svg)"),
        Corpus("mermaid-examples", "mermaid", Package("npm", "@mermaid-js/examples", "2.0.0"),
               "MIT", "_mermaid:iter_mermaid_examples", about="Mermaid's official example diagrams (npm)"),
        Corpus("mermaid-readme", "mermaid", Package("npm", "mermaid", "11.17.2"),
               "MIT", "_mermaid:iter_readme_blocks", needs=(Package("npm", "mermaid", "9.4.3"),),
               about="Diagrams in the READMEs of the mermaid npm releases 11.17.2 and 9.4.3"),
        Corpus("altair-gallery", "vegalite", Package("pypi", "altair", "4.2.2"),
               "BSD-3-Clause", "_altair:iter_altair", needs=(_VEGA_DATA,),
               about="Altair's example gallery programs, compiled to Vega-Lite specs (sdist altair/examples)"),
        Corpus("altair-gallery-html", "html", Package("pypi", "altair", "4.2.2"),
               "BSD-3-Clause", "_altair:iter_altair", needs=(_VEGA_DATA,),
               about="Altair's example gallery programs, saved as standalone vega-embed HTML pages"),
    ]
}  # fmt: skip
DEFAULT_CORPORA = tuple(CORPORA)


def _order_key(candidate_id: str) -> str:
    # A hash order spreads a cap over the whole corpus (not the first folder) and is stable.
    return hashlib.sha1(candidate_id.encode()).hexdigest()


def load_candidates(
    names: Iterable[str],
    cache: Path | None = None,
    max_per_language: int | None = None,
    languages: Iterable[str] | None = None,
    counts: Counter[str] | None = None,
    language_caps: dict[str, int] | None = None,
) -> list[Candidate]:
    """All candidates of the named corpora, exact duplicates (same text) dropped, capped per language.

    The list is in a fixed order (by a hash of the id), so shards are the same on every run.
    ``counts`` receives ``read/<lang>``, ``duplicate-in-corpus/<lang>`` and ``over-cap/<lang>``.
    """
    counts = counts if counts is not None else Counter()
    wanted = set(languages) if languages else None
    unknown = [n for n in names if n not in CORPORA]
    if unknown:
        raise ValueError(f"Unknown corpus {unknown}; choose from: {', '.join(CORPORA)}.")
    seen: set[tuple[str, str]] = set()
    by_language: dict[str, list[Candidate]] = {}
    for name in names:
        corpus = CORPORA[name]
        if wanted is not None and corpus.language not in wanted:
            continue
        logger.info("reading corpus %s (%s)", name, corpus.package.spec())
        for cand in corpus.walk(cache):
            counts[f"read/{cand.language}"] += 1
            key = (cand.language, (cand.extra.get("dedup_key") or cand.text).strip())
            if key in seen:
                counts[f"duplicate-in-corpus/{cand.language}"] += 1
                continue
            seen.add(key)
            by_language.setdefault(cand.language, []).append(cand)
    chosen: list[Candidate] = []
    for lang, cands in sorted(by_language.items()):
        cands.sort(key=lambda c: _order_key(c.id))
        cap = (language_caps or {}).get(lang, max_per_language)
        if cap is not None and len(cands) > cap:
            counts[f"over-cap/{lang}"] += len(cands) - cap
            cands = cands[:cap]
        chosen.extend(cands)
    chosen.sort(key=lambda c: _order_key(c.id))
    return chosen
