"""Stage 7a, de-duplication: exact (normalised code), same image, then MinHash near-duplicates.

Exact and same-image dedup keep the first sample in id order and need one global view, so they run as
one task (sets of hashes: a few bytes per sample, fine for millions). Near-duplicates use datatrove's
MinHash pipeline (signatures -> LSH buckets -> clusters -> filter), sharded like every other stage,
with a code tokenizer (identifiers, numbers, punctuation) instead of a natural-language one.
"""

from __future__ import annotations

import hashlib
import re

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.utils.word_tokenizers import WordTokenizer

from viscode_multi.record import language_of

_COMMENT = {
    "python": r"#[^\n]*", "latex": r"(?<!\\)%[^\n]*", "asymptote": r"//[^\n]*", "lilypond": r"%[^\n]*",
    "mermaid": r"%%[^\n]*", "html": r"<!--.*?-->", "svg": r"<!--.*?-->", "vegalite": r"$^",
}  # fmt: skip


def normalise_code(language: str, code: str) -> str:
    """Code without comments, case or whitespace differences (the paper's "normalized text")."""
    text = re.sub(_COMMENT.get(language, r"$^"), "", code, flags=re.S)
    return re.sub(r"\s+", " ", text).strip().lower()


def code_hash(language: str, code: str) -> str:
    return hashlib.sha1(normalise_code(language, code).encode()).hexdigest()


class CodeTokenizer(WordTokenizer):
    """Identifiers, numbers and single punctuation marks: shingles for MinHash over code."""

    _TOKEN = re.compile(r"[A-Za-z_][A-Za-z_0-9]*|\d+(?:\.\d+)?|[^\sA-Za-z_0-9]")

    def __init__(self) -> None:
        super().__init__("code")

    def word_tokenize(self, text: str) -> list[str]:
        return self._TOKEN.findall(text)

    def sent_tokenize(self, text: str) -> list[str]:
        return [line for line in text.splitlines() if line.strip()]

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in self._TOKEN.finditer(text)]


class ExactImageDedup(BaseFilter):
    """Drops a sample whose normalised code, or whose rendered image (SHA-256 of the PNG), was seen before."""

    name = "exact and same-image dedup"

    def __init__(self, exclusion_writer=None, same_image: bool = True):
        super().__init__(exclusion_writer)
        self.same_image = same_image
        self._codes: set[str] = set()
        self._images: set[str] = set()

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        lang = language_of(doc)
        key = code_hash(lang, doc.text)
        doc.metadata["code_sha1"] = key
        if key in self._codes:
            self.stat_update(f"{lang}/dropped:exact-code")
            return False, "exact-code"
        self._codes.add(key)
        render = doc.metadata.get("render") or {}
        if self.same_image:
            # identical PNG bytes (the engine's output is deterministic); the coarse dhash is recorded
            # but not used, as small real differences (a title) share it
            image = render.get("image_sha256")
            if image and image in self._images:
                self.stat_update(f"{lang}/dropped:same-image")
                return False, "same-image"
            if image:
                self._images.add(image)
        self.stat_update(f"{lang}/kept")
        return True
