"""Stage 7a, de-duplication: exact (normalised code), same image, then MinHash near-duplicates.

Exact and same-image dedup keep the first sample in id order and need one global view, so they run as
one task (sets of hashes: a few bytes per sample, fine for millions). Near-duplicates use datatrove's
MinHash pipeline (signatures -> LSH buckets -> clusters -> filter), sharded like every other stage,
with a code tokenizer (identifiers, numbers, punctuation) instead of a natural-language one.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
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


# --- what near-dup compares: the part of a program that tells it apart from others ---------------
# Real programs of one corpus share inlined data (Altair's gallery specs embed the same vega-datasets
# tables), wrappers (the vega-embed page around a spec) and preambles (one \documentclass + library
# list for every PGF manual example). Shingled whole, two different charts over the same table look
# like copies; so MinHash sees the data as one token (its hash), HTML without its wrapper and LaTeX
# without its preamble. Exact and same-image dedup still compare whole programs and pictures.
_DATA_KEY = re.compile(r'"(values|datasets)"\s*:\s*(?=[\[{"])')
_LANG_MARK = "vcmlang"


def _json_value_end(text: str, start: int) -> int:
    """Index just past the JSON value (array, object or string) that starts at ``start``."""
    if text[start] == '"':
        i = start + 1
        while i < len(text):
            if text[i] == "\\":
                i += 2
                continue
            if text[i] == '"':
                return i + 1
            i += 1
        return len(text)
    depth, i, in_string = 0, start, False
    while i < len(text):
        ch = text[i]
        if in_string:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def strip_inline_data(text: str) -> str:
    """Replace every inlined ``"values"``/``"datasets"`` JSON value by one token naming its hash."""
    out, pos = [], 0
    for match in _DATA_KEY.finditer(text):
        if match.start() < pos:
            continue  # inside data already replaced
        end = _json_value_end(text, match.end())
        digest = hashlib.sha1(text[match.end() : end].encode()).hexdigest()[:12]
        out.append(text[pos : match.end()] + f'"data_{digest}"')
        pos = end
    return "".join(out) + text[pos:]


def _spec_view(code: str) -> str:
    """A Vega-Lite spec as ``path value`` lines: no JSON punctuation (it is most of a small spec's
    shingles), no ``$schema`` or Altair's default view size, inlined data as one hash token."""
    try:
        spec = json.loads(strip_inline_data(code))
    except ValueError:
        return strip_inline_data(code)
    if isinstance(spec, dict):
        spec.pop("$schema", None)
        view = (spec.get("config") or {}).get("view") if isinstance(spec.get("config"), dict) else None
        if isinstance(view, dict):
            for key in ("continuousWidth", "continuousHeight"):
                view.pop(key, None)
    lines: list[str] = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path} {key}".strip())
        elif isinstance(node, list):
            for value in node:
                walk(value, path)
        else:
            lines.append(f"{path} {node}")

    walk(spec, "")
    return "\n".join(lines)


def _html_view(code: str) -> str:
    spec = re.search(r"var\s+spec\s*=\s*(?=\{)", code)
    if spec and "vegaEmbed" in code:  # a vega-embed page: the spec is the program, the rest is wrapper
        return _spec_view(code[spec.end() : _json_value_end(code, spec.end())])
    text = re.sub(r"<head\b.*?</head>|<style\b.*?</style>|<!--.*?-->", " ", code, flags=re.S | re.I)
    return re.sub(r"<script\b[^>]*\bsrc=[^>]*>\s*</script>", " ", text, flags=re.I)


def _latex_view(code: str) -> str:
    body = re.search(r"\\begin\{document\}(.*?)(?:\\end\{document\}|$)", code, flags=re.S)
    return body.group(1) if body else code


def _svg_view(code: str) -> str:
    # Inkscape/Open Clip Art metadata (RDF licence blocks, editor state) is the same boilerplate everywhere
    return re.sub(
        r"<metadata\b.*?</metadata>|<sodipodi:namedview\b.*?(?:/>|</sodipodi:namedview>)|<!--.*?-->|<\?xml.*?\?>|<!DOCTYPE.*?>",
        " ", code, flags=re.S,
    )  # fmt: skip


_VIEWS = {"html": _html_view, "latex": _latex_view, "svg": _svg_view, "vegalite": _spec_view}


def dedup_view(language: str, code: str) -> str:
    """The text MinHash shingles: the distinguishing part of the program, marked with its language."""
    view = strip_inline_data(_VIEWS.get(language, lambda c: c)(code))
    return f"{_LANG_MARK}_{language}\n{view}"


class DedupView(PipelineStep):
    """Hands MinHash's signature step each document's ``dedup_view`` (same documents, same order)."""

    name = "near-dup view"
    type = "🔢 - DEDUP"

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for doc in data:
            doc.text = dedup_view(language_of(doc), doc.text)
            yield doc


class CodeTokenizer(WordTokenizer):
    """Identifiers, numbers and single punctuation marks: shingles for MinHash over code.

    A text that starts with ``dedup_view``'s language mark gets every token prefixed with the language,
    so programs of different languages never share a shingle (an Altair page and its own Vega-Lite
    spec are the same chart in two languages, both kept).
    """

    _TOKEN = re.compile(r"[A-Za-z_][A-Za-z_0-9]*|\d+(?:\.\d+)?|[^\sA-Za-z_0-9]")
    _MARK = re.compile(rf"\s*{_LANG_MARK}_(\w+)\s")

    def __init__(self) -> None:
        super().__init__("code")

    def word_tokenize(self, text: str) -> list[str]:
        mark = self._MARK.match(text)
        if not mark:
            return self._TOKEN.findall(text)
        return [f"{mark.group(1)}:{tok}" for tok in self._TOKEN.findall(text[mark.end() :])]

    def sent_tokenize(self, text: str) -> list[str]:
        return [line for line in text.splitlines() if line.strip()]

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in self._TOKEN.finditer(text)]


def minhash_config(n_grams: int = 5, num_buckets: int = 14, hashes_per_bucket: int = 8) -> Any:
    """datatrove's ``MinhashConfig`` for code (what the dedup stage and its tests use)."""
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.utils.hashing import HashConfig
    from datatrove.utils.text import TextNormConfig

    return MinhashConfig(
        n_grams=n_grams,
        num_buckets=num_buckets,
        hashes_per_bucket=hashes_per_bucket,
        # sha1: datatrove 0.10's xxhash path passes str to xxhash>=4, which wants bytes
        hash_config=HashConfig(hash_fc="sha1"),
        # numbers and punctuation are the content of code (path data, coordinates, data); datatrove's
        # prose defaults (numbers -> 0, punctuation removed) make every SVG look alike
        norm_config=TextNormConfig(remove_punctuation=False, norm_numbers=False),
    )


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
