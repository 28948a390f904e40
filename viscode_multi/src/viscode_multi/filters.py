"""Stage 1, library filter: keep candidates that use a visualization library or drawing language.

Each language has an ordered list of named rules (a regular expression each); a candidate is kept by
the first rule that matches and the rule's name is recorded (``filter_rule``) and counted
(``<language>/kept:<rule>``); a candidate no rule keeps is dropped as ``<language>/dropped:no-library``.
Users extend ``LIBRARY_RULES`` (or pass their own table to ``LibraryFilter``) for new libraries.
"""

from __future__ import annotations

import re

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from viscode_multi.record import language_of

_PY = r"^\s*(?:import|from)\s+"
LIBRARY_RULES: dict[str, list[tuple[str, str]]] = {
    "python": [
        ("seaborn", _PY + r"seaborn\b"),
        ("plotly", _PY + r"plotly\b"),
        ("bokeh", _PY + r"bokeh\b"),
        ("altair", _PY + r"altair\b"),
        ("pyecharts", _PY + r"pyecharts\b"),
        ("networkx-drawing", r"\bnx\.draw|networkx\.draw|draw_networkx"),
        ("matplotlib", _PY + r"(?:matplotlib|pylab|mpl_toolkits)\b"),
        ("pandas-plot", r"\.plot(?:\.(?:bar|barh|line|hist|scatter|pie|area|box|kde|hexbin))?\("),
    ],
    "html": [
        ("chart.js", r"chart(?:\.umd)?(?:\.min)?\.js|new Chart\("),
        ("d3", r"d3(?:\.v\d)?(?:\.min)?\.js|\bd3\.select"),
        ("echarts", r"echarts"),
        ("plotly", r"plotly"),
        ("vega-embed", r"vega-embed|vegaEmbed"),
        ("altair", r"^\s*(?:import|from)\s+altair\b"),
        ("canvas", r"<canvas|getContext\(['\"]2d"),
        ("inline-svg", r"<svg\b"),
    ],
    "vegalite": [
        ("altair", r"^\s*(?:import|from)\s+altair\b"),
        ("vega-lite-schema", r"vega-lite/v\d|\"mark\"\s*:"),
    ],
    "latex": [
        ("pgfplots", r"\\begin\{(?:axis|semilogxaxis|semilogyaxis|loglogaxis|polaraxis|ternaryaxis|groupplot)|\\addplot"),
        ("tikz", r"\\begin\{tikzpicture\}|\\tikz\b"),
        ("pgf", r"\\pgf(?:path|usepath|text|node|declare|plot)"),
    ],
    "asymptote": [
        ("graph", r"^\s*import\s+(?:graph|graph3|palette|contour|stats)"),
        ("three", r"^\s*import\s+(?:three|solids|surface)"),
        ("draw", r"\b(?:draw|fill|filldraw|label|dot|shipout)\s*\("),
    ],
    "lilypond": [
        ("music", r"\\(?:relative|fixed|new|score|chordmode|drummode|lyricmode|markup)\b|\{\s*[a-g](?:is|es)?['',]*\d"),
    ],
    "mermaid": [
        ("diagram", r"^\s*(?:%%.*\n\s*|---[\s\S]*?---\s*\n\s*)*(?:graph|flowchart|sequenceDiagram|classDiagram|stateDiagram(?:-v2)?|erDiagram|journey|gantt|pie|quadrantChart|requirementDiagram|gitGraph|C4\w+|mindmap|timeline|zenuml|sankey-beta|sankey|xychart-beta|xychart|block-beta|block|packet-beta|packet|kanban|architecture-beta|architecture|radar-beta|radar|treemap-beta|treemap|venn-beta|ishikawa-beta|ishikawa|wardley-beta|\w+-beta)\b"),
    ],
    "svg": [
        # the paper's regex filter: a root <svg> element that states its size
        ("sized-svg", r"<svg\b[^>]*\b(?:width|viewBox)\s*="),
    ],
}  # fmt: skip


class LibraryFilter(BaseFilter):
    """Keep a candidate when one of its language's rules matches; count each rule's kept and dropped."""

    name = "library filter"

    def __init__(self, rules: dict[str, list[tuple[str, str]]] | None = None, exclusion_writer=None):
        super().__init__(exclusion_writer)
        self.rules = rules or LIBRARY_RULES
        self._compiled = {
            lang: [(name, re.compile(pattern, re.M)) for name, pattern in rules_]
            for lang, rules_ in self.rules.items()
        }

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        lang = language_of(doc)
        if lang not in self._compiled:
            self.stat_update(f"{lang}/dropped:unknown-language")
            return False, "unknown-language"
        for name, pattern in self._compiled[lang]:
            if pattern.search(doc.text):
                doc.metadata["filter_rule"] = name
                self.stat_update(f"{lang}/kept:{name}")
                return True
        self.stat_update(f"{lang}/dropped:no-library")
        return False, "no-library"
