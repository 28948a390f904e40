"""Where the engine keeps what it builds once per user (JS assets, matplotlib's font list, TeX formats)."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir(override_env: str, name: str) -> Path:
    """``$<override_env>`` if set, else ``${XDG_CACHE_HOME:-~/.cache}/visplotbench/<name>``."""
    explicit = os.environ.get(override_env)
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "visplotbench" / name
