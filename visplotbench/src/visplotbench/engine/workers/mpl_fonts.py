"""matplotlib's font list, built once in the sandbox instead of by every Python worker.

Every worker has a private, empty /tmp and so an empty MPLCONFIGDIR: importing ``matplotlib.font_manager``
there parses every font file (~1.2 CPU-s of the ~7.5 a worker costs to start, mostly AFM metrics).
Instead, the host runs ``build`` once per matplotlib installation and font set in a sandbox of its own
(the same mounts as a worker, so the same font files and fontconfig answers; no job runs there), checks
the result and stores it (``renderers._mplfonts``); the directory is mounted read-only at ``SANDBOX_DIR``
in every worker, whose ``install`` copies the list into its MPLCONFIGDIR before matplotlib loads it.

A stored list says what it was built from (``stamps``: type, size and mtime of every font file
matplotlib read, of every directory it searched and of fontconfig's configuration and caches, and
matplotlib's version). ``install`` refuses a list whose stamps differ from what the worker sees, or
that is damaged, and then matplotlib builds its own as before: the prebuilt list can only save time.
(Like matplotlib's own cache, a stat check cannot see a font file rewritten in place with the same
size and mtime; package managers replace files, which changes the directory's mtime.)

Runs inside the sandbox (``install``, ``build``) and on the host (``entry_name``, ``stamps``, ``check``):
standard library only, and nothing here imports ``matplotlib.font_manager`` before ``install`` is done.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import sys
from typing import Any

SANDBOX_DIR = "/vpb/mpl-fontlist"
FORMAT = 1
MAX_BYTES = 16 * 1024 * 1024
_NAME = re.compile(r"fontlist-v[\w.]+\.json")
# fontconfig's answers (``fc-list``, which matplotlib asks) depend on its configuration and caches.
_FONTCONFIG = ("/etc/fonts", "/etc/fonts/conf.d", "/var/cache/fontconfig")


def entry_name(package_dir: str) -> str:
    """The stored list's file name for the matplotlib installed in ``package_dir`` (one per venv)."""
    return f"fontlist-{hashlib.sha256(package_dir.encode()).hexdigest()[:16]}.json"


def stamps(paths: list[str]) -> list[list[Any]]:
    """``[path, kind, size, mtime_ns]`` of each path (kind "-" where it does not exist)."""
    out: list[list[Any]] = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            out.append([path, "-", 0, 0])
            continue
        kind = "d" if stat.S_ISDIR(st.st_mode) else "f"
        out.append([path, kind, st.st_size if kind == "f" else 0, st.st_mtime_ns])
    return out


def check(entry: Any, mpl_version: str | None = None) -> str:
    """Why ``entry`` (a parsed stored list) cannot be used here; "" when it can."""
    if not isinstance(entry, dict) or entry.get("format") != FORMAT:
        return "unknown format"
    if mpl_version is not None and entry.get("matplotlib") != mpl_version:
        return f"built for matplotlib {entry.get('matplotlib')}"
    name, text, recorded = entry.get("name"), entry.get("fontlist"), entry.get("stamps")
    if not isinstance(name, str) or not _NAME.fullmatch(name) or not isinstance(text, str):
        return "damaged"
    if not isinstance(recorded, list) or not recorded:
        return "damaged"
    try:
        paths = [str(s[0]) for s in recorded]
    except (TypeError, IndexError, KeyError):
        return "damaged"
    if stamps(paths) != recorded:
        return "fonts changed since it was built"
    try:
        fontlist = json.loads(text)
    except ValueError:
        return "damaged"
    # What matplotlib needs of it: a FontManager with both lists of fonts (it checks _version itself).
    if not (
        isinstance(fontlist, dict)
        and fontlist.get("__class__") == "FontManager"
        and all(isinstance(fontlist.get(k), list) for k in ("ttflist", "afmlist"))
        and fontlist["ttflist"]
        and all(isinstance(f, dict) and isinstance(f.get("fname"), str) for f in fontlist["ttflist"])
    ):
        return "damaged"
    return ""


def install(config_dir: str, folder: str = SANDBOX_DIR) -> str:
    """Copy the prebuilt font list into ``config_dir`` (MPLCONFIGDIR) if it is valid here.

    Call after ``import matplotlib`` (which does not load fonts) and before ``matplotlib.font_manager``
    is imported. Returns "prebuilt", or why matplotlib builds its own. Never raises.
    """
    try:
        import matplotlib

        path = os.path.join(folder, entry_name(os.path.dirname(str(matplotlib.__file__))))
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            return "built here: the prebuilt list is too large"
        entry = json.loads(data)
        why = check(entry, matplotlib.__version__)
        if why:
            return f"built here: prebuilt list {why}"
        with open(os.path.join(config_dir, entry["name"]), "w", encoding="utf-8") as f:
            f.write(entry["fontlist"])
        return "prebuilt"
    except FileNotFoundError:
        return "built here: no prebuilt list"
    except Exception as exc:  # the prebuilt list only saves time: any problem means build as before
        return f"built here: {type(exc).__name__}: {exc}"[:300]


def _scanned() -> list[str]:
    """What ``FontManager()`` reads or searches here, as paths to stamp (after it was built)."""
    import matplotlib
    import matplotlib.font_manager as fm
    import matplotlib.ft2font

    data_dirs = [os.path.join(matplotlib.get_data_path(), "fonts", d) for d in ("ttf", "afm", "pdfcorefonts")]
    files: set[str] = set()
    for ext in ("afm", "ttf"):  # as FontManager.__init__ searches
        files.update(fm.findSystemFonts(data_dirs, fontext=ext))
        files.update(fm.findSystemFonts(fontext=ext))
    dirs = {os.path.dirname(f) for f in files} | set(_FONTCONFIG)
    for root in [*data_dirs, *fm.X11FontDirectories]:
        dirs.add(root)
        for parent, _, _ in os.walk(root):  # a font added in a new folder changes a folder's mtime
            dirs.add(parent)
    code = [fm.__file__, str(matplotlib.ft2font.__file__)]  # a new matplotlib or FreeType build
    # The sandbox's /tmp (and HOME, which is in it) is private and empty when a worker starts.
    return sorted(p for p in {*files, *dirs, *code} if p and not (p + "/").startswith("/tmp/"))


def build(out_path: str) -> None:
    """Build the font list with a fresh MPLCONFIGDIR and write the entry to ``out_path`` (in the sandbox)."""
    import tempfile

    config_dir = tempfile.mkdtemp(prefix="vpb-mplfonts-")
    os.environ.update(MPLCONFIGDIR=config_dir, MPLBACKEND="Agg")
    import matplotlib
    import matplotlib.font_manager as fm

    name = f"fontlist-v{fm.FontManager.__version__}.json"
    with open(os.path.join(config_dir, name), encoding="utf-8") as f:
        text = f.read()
    entry = {
        "format": FORMAT,
        "matplotlib": matplotlib.__version__,
        "name": name,
        "stamps": stamps(_scanned()),
        "fontlist": text,
    }
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(entry, f)


if __name__ == "__main__":
    build(sys.argv[1])
