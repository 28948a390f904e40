"""Deterministic fixes for mechanical failures (the fix is a rewrite a tool or a rule can do).

Each fixer takes (code, error excerpt) and returns the fixed code, or None when it does not apply.
A fix counts only after the engine renders the fixed program (``dialogues.RepairStep`` checks).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

Fixer = Callable[[str, str], "str | None"]
_VERSION = re.compile(r'\\version\s+"(\d+)\.(\d+)(?:\.(\d+))?"')


def lilypond_convert_ly(code: str, error: str) -> str | None:
    """Run LilyPond's own ``convert-ly`` on a fragment whose ``\\version`` is older than the installed one."""
    match = _VERSION.search(code)
    if not match or not shutil.which("convert-ly"):
        return None
    if (int(match.group(1)), int(match.group(2))) >= (2, 24):
        return None
    with tempfile.TemporaryDirectory(prefix="vcm-convert-") as tmp:
        path = Path(tmp) / "fragment.ly"
        path.write_text(code)
        try:
            proc = subprocess.run(
                ["convert-ly", "--current-version", str(path)],  # the converted file goes to stdout
                capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, cwd=tmp,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return None
        fixed = proc.stdout if proc.stdout.strip() else None
    return fixed if fixed and fixed != code else None


_MPL_STYLES = {
    "seaborn": "seaborn-v0_8", "seaborn-whitegrid": "seaborn-v0_8-whitegrid", "seaborn-darkgrid": "seaborn-v0_8-darkgrid",
    "seaborn-white": "seaborn-v0_8-white", "seaborn-dark": "seaborn-v0_8-dark", "seaborn-pastel": "seaborn-v0_8-pastel",
    "seaborn-colorblind": "seaborn-v0_8-colorblind", "seaborn-deep": "seaborn-v0_8-deep", "seaborn-muted": "seaborn-v0_8-muted",
    "seaborn-poster": "seaborn-v0_8-poster", "seaborn-talk": "seaborn-v0_8-talk", "seaborn-paper": "seaborn-v0_8-paper",
    "seaborn-ticks": "seaborn-v0_8-ticks", "seaborn-bright": "seaborn-v0_8-bright", "seaborn-dark-palette": "seaborn-v0_8-dark-palette",
}  # fmt: skip
_NUMPY_ALIASES = {"np.float": "float", "np.int": "int", "np.bool": "bool", "np.object": "object", "np.complex": "complex", "np.str": "str"}  # fmt: skip


# keyword arguments matplotlib renamed (the old name removed after its deprecation period)
_MPL_KWARGS = {"boxplot": {"labels": "tick_labels"}}


def python_removed_names(code: str, error: str) -> str | None:
    """Names removed by NumPy 1.24, matplotlib 3.6 style renames and matplotlib's renamed keyword
    arguments (``boxplot(labels=)`` -> ``tick_labels=``, matplotlib 3.9), replaced by their successors."""
    fixed = code
    kwarg = re.search(r"(\w+)\(\) got an unexpected keyword argument '(\w+)'", error)
    if kwarg and kwarg.group(2) in _MPL_KWARGS.get(kwarg.group(1), {}):
        new = _MPL_KWARGS[kwarg.group(1)][kwarg.group(2)]
        call = re.compile(rf"(\.{kwarg.group(1)}\((?:[^()]|\([^()]*\))*?\b){kwarg.group(2)}(\s*=)")
        fixed = call.sub(rf"\g<1>{new}\g<2>", fixed)
    if "numpy" in error and "has no attribute" in error:
        for old, new in _NUMPY_ALIASES.items():
            fixed = re.sub(re.escape(old) + r"\b(?!\w|_)", new, fixed)
    if "is not a valid package style" in error or "not found in the style library" in error:
        for old, new in _MPL_STYLES.items():
            fixed = re.sub(rf"(['\"]){re.escape(old)}\1", rf"\g<1>{new}\g<1>", fixed)
    return fixed if fixed != code else None


def svg_size_from_viewbox(code: str, error: str) -> str | None:
    """Give a root ``<svg>`` without width/height the size its ``viewBox`` states."""
    if "size is undefined" not in error and "width" not in error.lower():
        return None
    root = re.search(r"<svg\b[^>]*>", code)
    if not root or re.search(r"\bwidth\s*=", root.group(0)):
        return None
    box = re.search(r'viewBox\s*=\s*["\']\s*[-\d.]+[ ,]+[-\d.]+[ ,]+([\d.]+)[ ,]+([\d.]+)', root.group(0))
    if not box:
        return None
    tag = root.group(0)[:-1].rstrip("/") + f' width="{box.group(1)}" height="{box.group(2)}"'
    tag += "/>" if root.group(0).endswith("/>") else ">"
    return code[: root.start()] + tag + code[root.end() :]


_OPACITY = re.compile(r"((?:fill-|stroke-|stop-)?opacity\s*[:=]\s*[\"']?)\s*(\d+(?:\.\d+)?)%")


def svg_percent_opacity(code: str, error: str) -> str | None:
    """Old Sodipodi files write opacities as percentages (``fill-opacity:14.1176%``), which SVG 1.1
    renderers reject ("could not convert string to float: '14.1176%'"): write them as fractions."""
    if "could not convert string to float" not in error or "%" not in error:
        return None

    def fraction(match: re.Match[str]) -> str:
        return f"{match.group(1)}{float(match.group(2)) / 100:.4g}"

    fixed = _OPACITY.sub(fraction, code)
    return fixed if fixed != code else None


_ENTITY = re.compile(r"<!ENTITY\s+([\w.-]+)\s+(\"[^\"]*\"|'[^']*')\s*>")
_DOCTYPE_SUBSET = re.compile(r"<!DOCTYPE[^\[>]*\[.*?\]\s*>", re.S)


def svg_inline_entities(code: str, error: str) -> str | None:
    """Illustrator files declare namespace URLs as internal DTD entities (``<!ENTITY ns_svg "...">``),
    which a hardened XML parser refuses (``EntitiesForbidden``): substitute them and drop the DTD."""
    if "EntitiesForbidden" not in error:
        return None
    doctype = _DOCTYPE_SUBSET.search(code)
    if not doctype:
        return None
    entities = {name: value[1:-1] for name, value in _ENTITY.findall(doctype.group(0))}
    body = code[: doctype.start()] + code[doctype.end() :]
    for name, value in entities.items():
        body = body.replace(f"&{name};", value)
    return body if not re.search(r"&(?!amp;|lt;|gt;|quot;|apos;|#)[\w.-]+;", body) else None


_USEPACKAGE = re.compile(r"\\usepackage\{([\w-]+)\}")


def latex_missing_package(code: str, error: str) -> str | None:
    """Load the package a LaTeX error asks for ("Please load \\usepackage{pgfplotstable} before ...",
    "Perhaps you need \\usepackage{...}")."""
    if "\\begin{document}" not in code:
        return None
    wanted = [p for p in dict.fromkeys(_USEPACKAGE.findall(error)) if f"\\usepackage{{{p}}}" not in code]
    if not wanted:
        return None
    lines = "".join(f"\\usepackage{{{p}}}\n" for p in wanted)
    return code.replace("\\begin{document}", lines + "\\begin{document}", 1)


# TikZ keys (as the "I do not know the key '/tikz/<key>'" error names them) -> the library defining them
_TIKZ_KEYS = {
    "place": "petri", "transition": "petri", "token": "petri", "tokens": "petri", "pre": "petri", "post": "petri",
    "children are tokens": "petri", "state": "automata", "initial": "automata", "accepting": "automata",
    "mindmap": "mindmap", "concept": "mindmap", "root concept": "mindmap", "spy using outlines": "spy",
    "spy using overlays": "spy", "entity": "er", "attribute": "er", "relationship": "er",
    "circuit ee IEC": "circuits.ee.IEC", "circuit logic US": "circuits.logic.US",
    "circuit logic IEC": "circuits.logic.IEC", "l-system": "lindenmayersystems", "turtle": "turtle",
    "lindenmayer system": "lindenmayersystems", "perspective": "perspective", "3d view": "perspective",
    "shadow xshift": "shadows", "general shadow": "shadows", "drop shadow": "shadows", "copy shadow": "shadows",
    "shading": "shadings", "folding line length": "folding", "cycle": "arrows.meta",
}  # fmt: skip
_UNKNOWN_TIKZ_KEY = re.compile(r"I do not know the key '/tikz/([^'/]+)'")


def latex_missing_libraries(code: str, error: str) -> str | None:
    """Load the TikZ library that defines the unknown key an error names (``place`` -> ``petri``...)."""
    key = _UNKNOWN_TIKZ_KEY.search(error)
    library = _TIKZ_KEYS.get(key.group(1).strip()) if key else None
    if not library or "\\begin{document}" not in code:
        return None
    if re.search(rf"\\usetikzlibrary\{{[^}}]*\b{re.escape(library)}\b", code):
        return None
    return code.replace("\\begin{document}", f"\\usetikzlibrary{{{library}}}\n\\begin{{document}}", 1)


FIXERS: dict[str, list[tuple[str, Fixer]]] = {
    "lilypond": [("convert-ly", lilypond_convert_ly)],
    "python": [("python-removed-names", python_removed_names)],
    "svg": [
        ("svg-size-from-viewbox", svg_size_from_viewbox),
        ("svg-percent-opacity", svg_percent_opacity),
        ("svg-inline-entities", svg_inline_entities),
    ],
    "latex": [
        ("latex-missing-package", latex_missing_package),
        ("latex-missing-libraries", latex_missing_libraries),
    ],
}
