"""Preloaded LaTeX formats: pdflatex starts with TikZ or pgfplots already loaded.

Loading pgfplots costs pdflatex ~0.3 CPU-s per document, often more than the drawing itself. A
format file dumped after ``\\RequirePackage{pgfplots}`` (``pdflatex -ini "&pdflatex"``) starts
with it in memory, and the document's own ``\\usepackage{pgfplots}`` is then a no-op. On the
task set's pgfplots documents this halves pdflatex's time and gives pixel-identical pages.

A preloaded format is used only for a document that loads the same package itself (so it never
makes a command available that the document did not ask for), and only as a first try: a document
that fails with it (e.g. an option clash with the preloaded xcolor, or colours that a class option
would have defined) is run again with the plain format, whose result is the one reported.

Formats are built once per renderer, lazily, outside the sandbox (the input is ours, not the
job's), into a private temporary folder that jobs see read-only; TeX sets the date and time of
each run after loading a format, so nothing of the build time leaks into documents.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

# Preloadable packages, most specific first: a document that loads pgfplots gets the pgfplots
# format (pgfplots loads TikZ), one that only loads TikZ gets the TikZ format.
PRELOADABLE = ("pgfplots", "tikz")
_DUMP = "\\RequirePackage{%s}\\dump"
_COMMENT = re.compile(r"(?<!\\)%.*")
_USEPACKAGE = re.compile(r"\\(?:usepackage|RequirePackage)\s*(?:\[[^\]]*\])?\s*\{([^}]*)\}")
_STANDALONE_TIKZ = re.compile(r"\\documentclass\s*\[[^\]]*\btikz\b[^\]]*\]\s*\{standalone\}")


def wanted_package(source: str) -> str | None:
    """The preloadable package the document's preamble loads itself, if any."""
    preamble = _COMMENT.sub("", source.split("\\begin{document}", 1)[0])
    loaded = {name.strip() for names in _USEPACKAGE.findall(preamble) for name in names.split(",")}
    if _STANDALONE_TIKZ.search(preamble):
        loaded.add("tikz")
    return next((package for package in PRELOADABLE if package in loaded), None)


class FormatCache:
    """Formats built on first use; ``path(package)`` is None when a format cannot be built."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.dir: Path | None = None
        self._built: dict[str, Path | None] = {}
        self._lock = threading.Lock()

    def path(self, package: str) -> Path | None:
        with self._lock:
            if package not in self._built:
                self._built[package] = self._build(package)
            return self._built[package]

    def _build(self, package: str) -> Path | None:
        if self.dir is None:
            self.dir = Path(tempfile.mkdtemp(prefix="vpb-texfmt-"))
        name = f"vpb-{package}"
        try:
            done = subprocess.run(
                [
                    "pdflatex",
                    "-ini",
                    "-interaction=batchmode",
                    f"-jobname={name}",
                    "&pdflatex",
                    _DUMP % package,
                ],
                cwd=self.dir,
                env={"PATH": "/usr/bin:/bin", "HOME": str(self.dir), **self.env},
                capture_output=True,
                timeout=120,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        fmt = self.dir / f"{name}.fmt"
        # Without the format every document simply takes the plain path (slower, same result).
        return self.dir / name if done.returncode == 0 and fmt.is_file() else None

    def close(self) -> None:
        with self._lock:
            if self.dir is not None:
                shutil.rmtree(self.dir, ignore_errors=True)
            self.dir, self._built = None, {}
