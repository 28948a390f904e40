"""How much of the machine's CPU went unused lately, from ``/proc/stat`` (Linux).

A warm worker pool asks before it starts another worker beside a short queue: on a saturated
machine the start (seconds of CPU) only takes CPU from other jobs, while on a machine with an idle
core it is free and a second worker halves the queue's time.
"""

from __future__ import annotations

import os
import threading
import time

WINDOW_S = 1.0  # the shortest window measured: /proc/stat counts in 10 ms ticks
STALE_S = 5.0  # an older sample says nothing about now: start a new window instead

_lock = threading.Lock()
_last: tuple[float, int, int] | None = None  # (monotonic time, busy ticks, all ticks)
_spare = 0.0


def _read() -> tuple[int, int] | None:
    """(busy ticks, all ticks) of all CPUs; steal counts as busy (it is CPU this VM did not get)."""
    try:
        with open("/proc/stat", "rb") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    if len(fields) < 8:
        return None
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def spare_cores() -> float:
    """Cores' worth of CPU left idle over the last completed window (0.0 when unknown)."""
    global _last, _spare
    now = time.monotonic()
    with _lock:
        if _last is not None and now - _last[0] < WINDOW_S:
            return _spare
        sample = _read()
        if sample is None:
            return 0.0
        if _last is None or now - _last[0] > STALE_S:
            _spare = 0.0
        else:
            all_ticks = sample[1] - _last[2]
            idle_ticks = all_ticks - (sample[0] - _last[1])
            _spare = (os.cpu_count() or 1) * idle_ticks / all_ticks if all_ticks > 0 else 0.0
        _last = (now, *sample)
        return _spare
