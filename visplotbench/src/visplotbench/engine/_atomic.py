"""Atomic file writes that are safe when several threads or processes write the same path at once."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_text_atomic(path: Path, text: str, *, mode: int | None = None) -> None:
    """Write ``text`` to ``path`` through a temporary file of its own, so a reader never sees half of it.

    The temporary name is unique per call (not per process): two threads of one run that cache the
    same render at once must not rename each other's temporary file away (a FileNotFoundError).
    ``mode``: the file's permissions (default: the temporary file's, owner only).
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
