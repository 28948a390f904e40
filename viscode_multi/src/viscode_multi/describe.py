"""What a program states about its picture, read without running anything (for the deterministic writer).

Each reader returns a ``ProgramFacts``: the library, chart kinds, title, axis labels, data names and
lines, colours: only what is written in the code. Nothing is guessed from the image.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

_STR = r"""(?:r|f|rf|fr)?(?:"([^"\n]{1,120})"|'([^'\n]{1,120})')"""


@dataclass
class ProgramFacts:
    """Facts read from a program.

    Attributes:
        libraries: libraries or tools used, in order of appearance.
        kinds: chart or drawing kinds (``line chart``, ``bar chart``, ``flowchart``...).
        title: the title written in the program ("" when none).
        labels: axis labels or other visible text, in order.
        data_names: names of data columns or variables.
        data_lines: program lines that define data, verbatim (at most 12).
        colors: colours named in the program.
        panels: number of subplots / axes when stated (0: not stated).
    """

    libraries: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    title: str = ""
    labels: list[str] = field(default_factory=list)
    data_names: list[str] = field(default_factory=list)
    data_lines: list[str] = field(default_factory=list)
    colors: list[str] = field(default_factory=list)
    panels: int = 0


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def _strings_after(call: str, text: str) -> list[str]:
    return [a or b for a, b in re.findall(call + r"\(\s*" + _STR, text)]


_PY_KINDS = {
    r"\.plot\(": "line chart", r"\.scatter\(": "scatter plot", r"\.barh?\(": "bar chart", r"\.hist\(": "histogram",
    r"\.pie\(": "pie chart", r"\.imshow\(|\.matshow\(": "image / heatmap", r"\.contourf?\(": "contour plot",
    r"\.boxplot\(": "box plot", r"\.violinplot\(": "violin plot", r"\.errorbar\(": "error-bar plot",
    r"\.fill_between\(|\.stackplot\(": "area chart", r"\.stem\(": "stem plot", r"\.step\(": "step plot",
    r"projection\s*=\s*['\"]polar": "polar plot", r"projection\s*=\s*['\"]3d|plot_surface": "3-D plot",
    r"\.quiver\(|\.streamplot\(": "vector field", r"\.pcolor(?:mesh)?\(": "pseudocolour mesh",
    r"\.hexbin\(": "hexbin plot", r"\.table\(": "table", r"\.annotate\(": "annotations",
    r"sns\.(\w+plot)\(": "seaborn {0}", r"nx\.draw\w*\(": "network graph", r"\.eventplot\(": "event plot",
    r"\.tripcolor\(|\.triplot\(|\.tricontourf?\(": "triangulation plot", r"\.broken_barh\(": "broken bar chart",
}  # fmt: skip
_NAMED_COLORS = r"\b(red|green|blue|orange|purple|black|gray|grey|yellow|cyan|magenta|brown|pink|olive|navy|teal|gold|crimson|steelblue|skyblue|tab:\w+|C\d)\b"


def python_facts(code: str) -> ProgramFacts:
    f = ProgramFacts()
    f.libraries = _unique(re.findall(r"^\s*(?:import|from)\s+([A-Za-z_]\w*)", code, re.M))
    for pattern, kind in _PY_KINDS.items():
        for match in re.finditer(pattern, code):
            f.kinds.append(kind.format(*match.groups()) if "{0}" in kind else kind)
    f.kinds = _unique(f.kinds)
    titles = _strings_after(r"(?:set_title|plt\.title|suptitle|title)", code)
    f.title = titles[0] if titles else ""
    f.labels = _unique(_strings_after(r"(?:set_xlabel|set_ylabel|xlabel|ylabel|set_zlabel)", code))[:6]
    f.data_lines = [
        line.rstrip()
        for line in code.splitlines()
        if re.match(r"^[A-Za-z_][\w, ]*=\s*(?:np\.|pd\.|\[|\{|\(|range\(|list\(|dict\()", line)
        and len(line) < 160
    ][:12]
    f.data_names = _unique([line.split("=")[0].strip() for line in f.data_lines])[:10]
    f.colors = _unique(re.findall(_NAMED_COLORS, code) + re.findall(r"#[0-9a-fA-F]{6}\b", code))[:6]
    panels = re.search(r"subplots\(\s*(\d+)\s*,\s*(\d+)", code)
    f.panels = int(panels.group(1)) * int(panels.group(2)) if panels else 0
    return f


def vegalite_facts(code: str) -> ProgramFacts:
    f = ProgramFacts(libraries=["Vega-Lite"])
    try:
        spec = json.loads(code)
    except json.JSONDecodeError:
        return f
    marks, fields_, titles = [], [], []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            mark = node.get("mark")
            if isinstance(mark, str):
                marks.append(mark)
            elif isinstance(mark, dict) and isinstance(mark.get("type"), str):
                marks.append(mark["type"])
            if isinstance(node.get("field"), str):
                fields_.append(node["field"])
            title = node.get("title")
            if isinstance(title, str):
                titles.append(title)
            elif isinstance(title, dict) and isinstance(title.get("text"), str):
                titles.append(title["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in spec.items() if k not in ("data", "datasets")})
    f.kinds = _unique([f"{m} mark" for m in marks])
    f.title = titles[0] if titles else ""
    f.data_names = _unique(fields_)[:10]
    f.colors = _unique(re.findall(r'"(#[0-9a-fA-F]{6}|steelblue|orange|red|green|blue|gray|black)"', code))[
        :6
    ]
    return f


def html_facts(code: str) -> ProgramFacts:
    spec = re.search(r"var spec = (\{.*?\});\s*$", code, re.S | re.M)
    f = vegalite_facts(spec.group(1)) if spec else ProgramFacts()
    libs = re.findall(r"(vega-embed|vega-lite|chart\.js|echarts|plotly|d3)", code)
    f.libraries = _unique(["HTML", *[lib for lib in libs]])
    title = re.search(r"<title>([^<]+)</title>", code)
    f.title = f.title or (title.group(1).strip() if title else "")
    return f


def latex_facts(code: str) -> ProgramFacts:
    f = ProgramFacts(libraries=_unique(["TikZ", *(["pgfplots"] if "axis" in code else [])]))
    kinds = re.findall(r"\\begin\{(\w*axis|groupplot|tikzpicture)\}", code)
    kinds += [
        "plot of " + k
        for k in re.findall(
            r"\\addplot3?\s*\[?[^\]\n]*?\b(ybar|xbar|only marks|mesh|surf|contour|area|const plot|smooth|scatter)\b",
            code,
        )
    ]
    f.kinds = _unique(kinds)
    for key in ("title", "xlabel", "ylabel", "zlabel"):
        for value in re.findall(key + r"\s*=\s*\{?([^,\]\}\n]{1,80})", code):
            (f.labels if key != "title" else f.data_names).append(value.strip())
    f.title = f.data_names[0] if f.data_names else ""
    f.data_names = []
    f.labels = _unique(f.labels)[:6]
    f.data_lines = [line.strip() for line in re.findall(r"\\addplot[^\n]*(?:coordinates|table)[^\n]*", code)][
        :6
    ]
    f.colors = _unique(re.findall(r"\b(red|blue|green|orange|black|gray|yellow|cyan|magenta|violet|brown)(?:!\d+)?\b", code))[:6]  # fmt: skip
    return f


def asymptote_facts(code: str) -> ProgramFacts:
    f = ProgramFacts(libraries=_unique(["Asymptote", *re.findall(r"^\s*import\s+(\w+)", code, re.M)]))
    calls = re.findall(
        r"\b(draw|fill|filldraw|label|dot|surface|graph|axes|xaxis|yaxis|contour|arrow)\s*\(", code
    )
    f.kinds = _unique(calls)[:8]
    f.labels = _unique([a or b for a, b in re.findall(r"label\(\s*" + _STR, code)])[:6]
    f.colors = _unique(re.findall(r"\b(red|blue|green|orange|black|gray|yellow|cyan|magenta|purple|brown|lightblue|lightgray)\b", code))[:6]  # fmt: skip
    return f


def lilypond_facts(code: str) -> ProgramFacts:
    f = ProgramFacts(libraries=["LilyPond"])
    f.kinds = _unique(re.findall(r"\\new\s+(\w+)", code))[:6] or ["music"]
    title = re.search(r'title\s*=\s*"([^"]+)"', code)
    f.title = title.group(1) if title else ""
    for key in ("clef", "time", "key", "tempo"):
        f.labels += [f"{key} {v.strip()}" for v in re.findall("\\\\" + key + r"\s+([^\\\n{}]{1,30})", code)][
            :2
        ]
    return f


def mermaid_facts(code: str) -> ProgramFacts:
    body = re.sub(r"^---[\s\S]*?---\s*\n", "", code.strip())
    first = body.split(None, 1)[0] if body.strip() else "diagram"
    f = ProgramFacts(libraries=["Mermaid"], kinds=[first])
    title = re.search(r"^\s*title[:\s]+(.+)$", code, re.M)
    f.title = title.group(1).strip() if title else ""
    f.labels = _unique(re.findall(r"[\[\(\{]{1,2}\"?([^\[\]\(\)\{\}\"\n]{2,40})\"?[\]\)\}]{1,2}", code))[:8]
    return f


def svg_facts(code: str) -> ProgramFacts:
    f = ProgramFacts(libraries=["SVG"])
    counts = {
        tag: len(re.findall(f"<{tag}\\b", code))
        for tag in ("path", "rect", "circle", "ellipse", "text", "polygon", "line", "g")
    }
    f.kinds = [f"{n} {tag} elements" for tag, n in counts.items() if n][:6]
    title = re.search(r"<title>([^<]{2,120})</title>", code)
    f.title = title.group(1).strip() if title else ""
    fills = re.findall(r"fill(?::|=\")\s*(#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3}\b)", code)
    f.colors = [c for c, _ in sorted({c: fills.count(c) for c in fills}.items(), key=lambda kv: -kv[1])][:5]
    size = re.search(r"<svg\b[^>]*?\bwidth=\"([^\"]+)\"[^>]*?\bheight=\"([^\"]+)\"", code, re.S)
    if size:
        f.labels = [f"{size.group(1)} x {size.group(2)}"]
    return f


READERS = {
    "python": python_facts, "vegalite": vegalite_facts, "html": html_facts, "latex": latex_facts,
    "asymptote": asymptote_facts, "lilypond": lilypond_facts, "mermaid": mermaid_facts, "svg": svg_facts,
}  # fmt: skip


def program_facts(language: str, code: str) -> ProgramFacts:
    reader = READERS.get(language)
    return reader(code) if reader else ProgramFacts(libraries=[language])
