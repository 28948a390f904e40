"""The one capped-output loop: read a process's stdout and stderr until they close, within a deadline.

Used on the host for every sandboxed tool (``_sandbox.run_sandboxed``) and inside a warm worker for
every forked job (``_workerserver``), so the caps and the flood rule are the same everywhere. Only the
standard library: it runs inside the sandbox too.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable
from dataclasses import dataclass

# A job that writes more than this many times its output cap is killed (``output_flood``): past the
# cap nothing is kept anyway, and a flood only burns CPU.
FLOOD_FACTOR = 64


@dataclass
class Captured:
    """What ``read_capped`` read.

    Attributes:
        stdout, stderr: the first ``cap`` bytes of each stream.
        timed_out: the deadline passed before both streams closed.
        flooded: one stream went past ``cap * FLOOD_FACTOR`` bytes (reading stopped there).
    """

    stdout: bytes
    stderr: bytes
    timed_out: bool = False
    flooded: bool = False


def read_capped(
    out_fd: int,
    err_fd: int,
    deadline: float,
    cap: int,
    *,
    idle: Callable[[], bool] | None = None,
    poll_s: float = 0.1,
) -> Captured:
    """Read ``out_fd`` and ``err_fd`` (``time.monotonic()`` deadline), keeping ``cap`` bytes of each.

    ``idle`` is called whenever ``poll_s`` passes without output; returning True stops reading (a
    forked job has exited and whatever still holds its pipes went quiet).
    """
    bufs = {out_fd: bytearray(), err_fd: bytearray()}
    seen = dict.fromkeys(bufs, 0)
    open_fds = [out_fd, err_fd]
    flood = cap * FLOOD_FACTOR
    timed_out = flooded = False
    while open_fds:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        ready, _, _ = select.select(open_fds, [], [], min(remaining, poll_s))
        if not ready and idle is not None and idle():
            break
        for fd in ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                open_fds.remove(fd)
                continue
            seen[fd] += len(chunk)
            if len(bufs[fd]) < cap:
                bufs[fd] += chunk[: cap - len(bufs[fd])]
            if seen[fd] > flood:
                flooded = True
                open_fds = []
                break
    return Captured(bytes(bufs[out_fd]), bytes(bufs[err_fd]), timed_out, flooded)
