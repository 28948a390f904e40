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


def python_removed_names(code: str, error: str) -> str | None:
    """Names removed by NumPy 1.24 and matplotlib 3.6 style renames, replaced by their successors."""
    fixed = code
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


def latex_missing_libraries(code: str, error: str) -> str | None:
    """Load the TikZ library that defines an unknown key or shape the error names."""
    known = {
        "mindmap": "mindmap", "shadings": "shadings", "spy": "spy", "automata": "automata", "petri": "petri",
        "circuit": "circuits.ee.IEC", "lindenmayer": "lindenmayersystems", "turtle": "turtle", "calendar": "calendar",
        "folding": "folding", "er": "er", "snakes": "snakes", "pattern": "patterns.meta", "shape": "shapes",
        "decoration": "decorations.text,decorations.shapes,decorations.footprints,decorations.fractals",
        "perspective": "perspective", "rdf": "rdf", "datavisualization": "datavisualization",
    }  # fmt: skip
    if "I do not know the key" not in error and "Undefined control sequence" not in error:
        return None
    wanted = [lib for word, lib in known.items() if word in error.lower() or word in code]
    if not wanted or "\\begin{document}" not in code:
        return None
    line = f"\\usetikzlibrary{{{','.join(wanted)}}}"
    if line in code:
        return None
    return code.replace("\\begin{document}", line + "\n\\begin{document}", 1)


FIXERS: dict[str, list[tuple[str, Fixer]]] = {
    "lilypond": [("convert-ly", lilypond_convert_ly)],
    "python": [("python-removed-names", python_removed_names)],
    "svg": [("svg-size-from-viewbox", svg_size_from_viewbox)],
    "latex": [("latex-missing-libraries", latex_missing_libraries)],
}
