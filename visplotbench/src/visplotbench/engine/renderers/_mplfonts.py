"""Host side of the prebuilt matplotlib font list (see ``workers.mpl_fonts``): build it, check it, store it.

Where: ``$VISPLOTBENCH_MPL_FONTLIST``, else ``${XDG_CACHE_HOME:-~/.cache}/visplotbench/mpl-fontlist``, one
file per matplotlib installation. A per-user cache rather than the renderer's memory: the list depends
only on matplotlib and the fonts, so every later run (and every renderer process) starts its workers
from it; a build costs about as much as one worker's own. Only this code writes there (jobs never see
the host folder; workers get it read-only), from what a sandboxed build of our own wrote, after checking it.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from visplotbench.engine._atomic import write_text_atomic
from visplotbench.engine._usercache import user_cache_dir
from visplotbench.engine.workers import mpl_fonts

_log = logging.getLogger(__name__)


def default_dir() -> Path:
    return user_cache_dir("VISPLOTBENCH_MPL_FONTLIST", "mpl-fontlist")


def entry_path(folder: Path) -> Path | None:
    """The stored list for the matplotlib this interpreter imports (None: no matplotlib)."""
    spec = importlib.util.find_spec("matplotlib")  # finds it without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    return folder / mpl_fonts.entry_name(next(iter(spec.submodule_search_locations)))


def _read(path: Path) -> dict | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        data = f.read(mpl_fonts.MAX_BYTES + 1)
    if len(data) > mpl_fonts.MAX_BYTES:
        return None
    try:
        entry = json.loads(data)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


def prepare(folder: Path, env: dict[str, str]) -> str:
    """Make sure ``folder`` holds a current font list for this matplotlib; build one if not.

    ``env`` is the workers' environment (the build must see what they see). Returns "current",
    "built", or why there is none (then every worker builds its own, as without this). Never raises.
    """
    try:
        path = entry_path(folder)
        if path is None:
            return "no matplotlib"
        entry = _read(path)
        # The host sees the same font files, folders and fontconfig files as the sandbox (read-only
        # mounts of the same paths), so the stamps can be checked here; the version is checked in workers.
        if entry is not None and not mpl_fonts.check(entry):
            return "current"
        folder.mkdir(parents=True, exist_ok=True)
        built = _build(env)
        why = mpl_fonts.check(built)
        if why:
            return f"the sandboxed build failed: {why}"
        # Atomic: a worker starting now reads the old list or the new one.
        write_text_atomic(path, json.dumps(built), mode=0o644)
        return "built"
    except Exception as exc:
        _log.warning("matplotlib's font list could not be prebuilt (workers build their own): %s", exc)
        return f"failed: {type(exc).__name__}: {exc}"


def _build(env: dict[str, str]) -> dict | None:
    """Build the list in a sandbox like a worker's (same mounts, same environment), with no job in it."""
    from visplotbench.engine._sandbox import python_ro_paths, run_sandboxed, scratch_dir
    from visplotbench.engine._types import Limits

    job_dir = Path(tempfile.mkdtemp(prefix="vpb-mplfonts-", dir=scratch_dir()))
    try:
        job_dir.chmod(0o700)
        result = run_sandboxed(
            [sys.executable, "-m", "visplotbench.engine.workers.mpl_fonts", "/job/fontlist.json"],
            job_dir,
            Limits(wall_s=120, cpu_s=60, memory_mb=2048),
            env=env,
            extra_ro=python_ro_paths(),
        )
        if result.returncode != 0:
            _log.warning("building matplotlib's font list failed: %s", result.stderr.strip()[-500:])
            return None
        return _read(job_dir / "fontlist.json")
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)
