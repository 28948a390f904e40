"""``prctl(PR_SET_DUMPABLE)``: whether processes of the same user may ptrace this one or reopen its
files through ``/proc/<pid>/fd`` (standard library only: warm workers import it before a handler)."""

from __future__ import annotations

import contextlib

_PR_SET_DUMPABLE = 4


def set_dumpable(on: bool) -> None:
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, int(on), 0, 0, 0)
