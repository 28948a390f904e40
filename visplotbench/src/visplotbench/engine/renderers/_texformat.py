"""Preloaded LaTeX formats: pdflatex starts with TikZ or pgfplots already loaded.

Loading pgfplots costs pdflatex ~0.3 CPU-s per document, often more than the drawing itself. A
format file dumped after ``\\RequirePackage{pgfplots}`` (``pdflatex -ini "&pdflatex"``) starts
with it in memory, and the document's own ``\\usepackage{pgfplots}`` is then a no-op. On the
task set's pgfplots documents this halves pdflatex's time and gives pixel-identical pages.

A preloaded format is used only for a document that loads the same package itself (so it never
makes a command available that the document did not ask for), and only as a first try: a document
that fails with it (e.g. an option clash with the preloaded xcolor, or colours that a class option
would have defined) is run again with the plain format, whose result is the one reported.

Formats are built outside the sandbox (the input is ours, not the job's) and kept per user:
``$VISPLOTBENCH_TEX_FORMATS``, else ``${XDG_CACHE_HOME:-~/.cache}/visplotbench/tex-formats``, in a
folder named after a stamp of the TeX installation (the base format's and the package's files and
TeX's file databases, which TeX Live's installers rewrite on every change), so a run reuses the
formats of the last one (~1.5 CPU-s saved per run) and a changed installation gets new ones. Jobs
see that folder read-only. A format is written under a temporary name and renamed into place, so
a run never sees half of one; where the store cannot be written, formats are built into a private
temporary folder per renderer, as before. TeX sets the date and time of each run after loading a
format, so nothing of the build time leaks into documents.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from visplotbench.engine._usercache import user_cache_dir

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


def default_store() -> Path:
    return user_cache_dir("VISPLOTBENCH_TEX_FORMATS", "tex-formats")


def installation_stamp(package: str, env: dict[str, str]) -> str | None:
    """A name for the TeX installation a ``package`` format is built from (None: TeX cannot say).

    It covers the base format (``pdflatex.fmt``, rebuilt with TeX), the package's own ``.sty``,
    and the ``ls-R`` file databases (rewritten whenever a TeX package is installed or updated);
    plus what the build runs, so a change of our recipe is a new name too."""
    try:
        done = subprocess.run(
            ["kpsewhich", "-engine=pdftex", "-all", "pdflatex.fmt", f"{package}.sty", "ls-R"],
            env={"PATH": "/usr/bin:/bin", **env},
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    paths = sorted(set(done.stdout.split()))
    if not any(p.endswith(".fmt") for p in paths) or not any(p.endswith(".sty") for p in paths):
        return None
    digest = hashlib.sha256(repr((_DUMP % package, sorted(env.items()))).encode())
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            return None
        digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:24]


class FormatCache:
    """Formats kept in ``store`` (default: the user's cache) or built on first use; ``path(package)``
    is None when a format cannot be built."""

    def __init__(self, env: dict[str, str], store: Path | None = None) -> None:
        self.env = env
        self.store = store if store is not None else default_store()
        self.dir: Path | None = None  # the private fallback folder, made when the store is unusable
        self._built: dict[str, Path | None] = {}
        self._lock = threading.Lock()

    def path(self, package: str) -> Path | None:
        with self._lock:
            if package not in self._built:
                self._built[package] = self._stored(package) or self._build_private(package)
            return self._built[package]

    def _stored(self, package: str) -> Path | None:
        """The stored format for this installation, built and stored now if missing."""
        stamp = installation_stamp(package, self.env)
        if stamp is None:
            return None
        folder = self.store / stamp
        name = f"vpb-{package}"
        if (folder / f"{name}.fmt").is_file():
            return folder / name
        try:
            folder.mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(prefix=".build-", dir=folder))
        except OSError:
            return None
        try:
            if self._build(package, work) is None:
                return None
            os.chmod(work / f"{name}.fmt", 0o644)
            os.replace(work / f"{name}.fmt", folder / f"{name}.fmt")  # whole or not at all
            return folder / name
        except OSError:
            return None
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _build_private(self, package: str) -> Path | None:
        if self.dir is None:
            self.dir = Path(tempfile.mkdtemp(prefix="vpb-texfmt-"))
        return self._build(package, self.dir)

    def _build(self, package: str, folder: Path) -> Path | None:
        """Dump the format into ``folder``; its path without ``.fmt``, or None."""
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
                cwd=folder,
                env={"PATH": "/usr/bin:/bin", "HOME": str(folder), **self.env},
                capture_output=True,
                timeout=120,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        fmt = folder / f"{name}.fmt"
        # Without the format every document simply takes the plain path (slower, same result).
        return folder / name if done.returncode == 0 and fmt.is_file() else None

    def close(self) -> None:
        """Remove the private folder (the store is kept for later runs)."""
        with self._lock:
            if self.dir is not None:
                shutil.rmtree(self.dir, ignore_errors=True)
            self.dir, self._built = None, {}
