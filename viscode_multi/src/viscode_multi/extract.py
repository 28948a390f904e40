"""Stage 2, snippet extraction: one candidate -> one standalone program, or a reason to decline.

Deterministic extractors cover the forms the registry corpora have (rule names are recorded):
  * ``gallery-script`` (Python): the script as it is; declined when it needs the network or input.
  * ``lilypond-book``: the fragment cut out of the lilypond-book wrapper, with a ``\\version`` line.
  * ``codeexample`` (LaTeX manuals): the block wrapped in a standalone document with pgfplots, the
    TikZ libraries it uses and the block's own ``preamble=``.
  * ``file`` (Asymptote, SVG) and ``mermaid-example``: the file or diagram as it is.
  * ``altair-program``: run Altair, keep the Vega-Lite spec or the vega-embed HTML page it writes.
Anything else (Hub code files, a form with no extractor, a script that needs data we do not have)
goes to the LLM extractor when an endpoint is configured, else it is declined with the reason.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter
from visplotbench.extract import extract_code

from viscode_multi.altair_run import inline_datasets, run_altair, to_html
from viscode_multi.llm import LLM, LLMConfig, load_prompts
from viscode_multi.record import language_of

MAX_PROGRAM_CHARS = 60_000
_NETWORK = re.compile(
    r"\b(urlopen|requests\.get|urllib\.request|sns\.load_dataset|load_dataset\(|fetch_openml|yfinance|pandas_datareader)"
)
_INPUT = re.compile(r"\binput\(|sys\.stdin|\bwidgets\.|plt\.ginput|waitforbuttonpress")


@dataclass(frozen=True)
class Extracted:
    """A program (``code`` set) or a declined candidate (``declined`` says why); ``rule`` names the extractor."""

    code: str
    rule: str
    declined: str = ""


def _decline(reason: str, rule: str) -> Extracted:
    return Extracted("", rule, reason)


def extract_python(text: str) -> Extracted:
    if _NETWORK.search(text):
        return _decline("needs-network-data", "gallery-script")
    if _INPUT.search(text):
        return _decline("interactive", "gallery-script")
    return Extracted(text.strip() + "\n", "gallery-script")


def extract_lilypond_book(text: str) -> Extracted:
    marker = text.find("% ly snippet:")
    body = text[marker:] if marker >= 0 else text
    body = body.split("\n", 2)[-1] if marker >= 0 else body  # drop the marker and its rule line
    body = re.sub(r"^\\source(filename|fileline)\b.*$\n?", "", body, flags=re.M).strip()
    body = re.sub(r"^% \*+\s*$\n?", "", body, flags=re.M).strip()
    if not body:
        return _decline("empty", "lilypond-book")
    if "\\version" not in body:
        body = '\\version "2.24.0"\n' + body
    return Extracted(body + "\n", "lilypond-book")


_PGFPLOTS_LIBS = {
    "fillbetween": r"fill between|\\tikzfillbetween|soft clip",
    "groupplots": r"groupplot",
    "polar": r"polaraxis",
    "statistics": r"boxplot|hist(?:ogram)?\b|\bhist=|hist\s*=",
    "ternary": r"ternaryaxis",
    "smithchart": r"smithchart",
    "colorbrewer": r"colorbrewer|Paired-|Set1-|RdYlBu|Spectral-",
    "patchplots": r"patch type",
    "dateplot": r"date coordinates in",
    "colormaps": r"colormap/(?:viridis|hot2|jet|blackwhite|bluered|cool|greenyellow|redyellow|violet|PuBu)",
}
_TIKZ_LIBS = (
    "arrows.meta,calc,positioning,shapes.geometric,shapes.misc,shapes.arrows,shapes.symbols,patterns,"
    "decorations.pathmorphing,decorations.pathreplacing,decorations.markings,backgrounds,fit,matrix,"
    "intersections,3d,shadows,through,chains,angles,quotes,plotmarks,trees"
)


def latex_document(body: str, preamble: str = "") -> str:
    """A standalone document around a manual's codeexample block."""
    libs = [name for name, pattern in _PGFPLOTS_LIBS.items() if re.search(pattern, body)]
    lines = [
        "\\documentclass[border=4pt]{standalone}",
        "\\usepackage{pgfplots}",
        "\\pgfplotsset{compat=1.18}",
        f"\\usetikzlibrary{{{_TIKZ_LIBS}}}",
    ]
    if libs:
        lines.append(f"\\usepgfplotslibrary{{{','.join(libs)}}}")
    if preamble.strip():
        lines.append(preamble.strip())
    return "\n".join([*lines, "\\begin{document}", body.strip("\n"), "\\end{document}", ""])


def extract_codeexample(text: str, preamble: str) -> Extracted:
    if not re.search(r"\\begin\{tikzpicture\}|\\tikz\b|\\begin\{axis\}|\\pgf", text):
        return _decline("not-a-picture", "codeexample")
    return Extracted(latex_document(text, preamble), "codeexample")


def extract_altair(text: str, target: str, data_dir: str) -> Extracted:
    out = run_altair(text)
    if out.spec is None:
        reason = "needs-network-data" if "URLError" in out.error or "urlopen" in out.error else "altair-error"
        return Extracted("", "altair-program", f"{reason}: {out.error}"[:300])
    problems: list[str] = []
    spec = inline_datasets(out.spec, Path(data_dir), problems)
    if problems:
        return _decline(f"data-unavailable: {problems[0]}", "altair-program")
    if target == "html":
        return Extracted(to_html(spec), "altair-program:to_html")
    return Extracted(json.dumps(spec, indent=2, ensure_ascii=False) + "\n", "altair-program:to_dict")


def extract_deterministic(language: str, form: str, text: str, extra: dict[str, str]) -> Extracted:
    """The deterministic extractor for ``form`` (``declined="no-deterministic-extractor"`` when none)."""
    if len(text) > MAX_PROGRAM_CHARS:
        return _decline("too-long", form)
    if form == "gallery-script" and language == "python":
        return extract_python(text)
    if form == "lilypond-book":
        return extract_lilypond_book(text)
    if form == "codeexample":
        return extract_codeexample(text, extra.get("preamble", ""))
    if form in ("file", "mermaid-example", "program"):
        return Extracted(text.strip() + "\n", form)
    if form == "altair-program":
        return extract_altair(text, extra.get("target", language), extra.get("vega_data", ""))
    return _decline("no-deterministic-extractor", form)


def extract_with_llm(llm: LLM, language: str, text: str, library: str, source: str) -> Extracted:
    """Ask the endpoint for a standalone program; its ``null`` (or no code) declines."""
    prompts = load_prompts()["extract"]
    system = prompts["system"].format(language=language, bullet=prompts["bullets"].get(language, ""))
    user = prompts["user"].format(language=language, library=library or "unknown", source=source, code=text)
    rule = llm.config.label
    try:
        reply = llm.chat(system, user)
    except Exception as exc:  # the endpoint failing is recorded; the run goes on
        return _decline(f"llm-error: {type(exc).__name__}: {exc}"[:300], rule)
    if reply.strip().lower().strip("`. \n") in ("null", "none"):
        return _decline("llm-declined", rule)
    code = extract_code(reply, language).code
    if not code.strip() or code.strip().lower() == "null":
        return _decline("llm-declined", rule)
    return Extracted(code.rstrip() + "\n", rule)


class ExtractStep(BaseFilter):
    """The datatrove step: replaces ``Document.text`` by the program; declined candidates go to the
    exclusion writer with ``filter_reason``. Counts ``<language>/kept:<rule>`` and ``<language>/declined:<reason>``."""

    name = "snippet extraction"

    def __init__(self, llm_config: LLMConfig | None = None, exclusion_writer=None):
        super().__init__(exclusion_writer)
        self.llm_config = llm_config
        self._llm: LLM | None = None

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        lang = language_of(doc)
        extra = doc.metadata.get("extra") or {}
        result = extract_deterministic(lang, doc.metadata.get("form", ""), doc.text, extra)
        if result.declined and self.llm_config is not None and result.declined.split(":")[0] in _LLM_CAN_HELP:
            self._llm = self._llm or LLM(self.llm_config)
            library = doc.metadata.get("filter_rule", "")
            result = extract_with_llm(self._llm, lang, doc.text, library, doc.metadata["provenance"]["path"])
        doc.metadata["extractor"] = result.rule
        if result.declined:
            kind = result.declined.split(":")[0]
            doc.metadata["declined"] = result.declined
            self.stat_update(f"{lang}/declined:{kind}")
            return False, kind
        doc.metadata["source_text_sha1"] = hashlib.sha1(doc.text.encode()).hexdigest()
        doc.text = result.code
        self.stat_update(f"{lang}/kept:{result.rule.split(':')[0]}")
        return True


# Declines an LLM can turn into a program (mock data, a standalone rewrite); others it cannot.
_LLM_CAN_HELP = {"no-deterministic-extractor", "needs-network-data", "interactive", "data-unavailable"}
