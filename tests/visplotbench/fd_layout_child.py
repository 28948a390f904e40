"""Child process of ``test_browser_fds.py``: starts the browser under given descriptor layouts.

Usage: ``python fd_layout_child.py RESULT_FILE LAYOUT [LAYOUT ...]`` where each LAYOUT is five
letters for descriptors 0-4: ``c`` closed, ``o`` open (/dev/null), ``p`` one end of a pipe.

Descriptors 3-9 are held on /dev/null before the engine starts, so the engine's own descriptors
(the browser thread's event loop, its asset files) land at 10 and above and the descriptors a
browser launch gets from ``os.pipe()`` are exactly the free ones among 0-4 first. For each layout
the browser is stopped, descriptors 0-4 are set, and one Mermaid and one HTML job are rendered
(each starts the browser afresh: the first job launches it under the layout). One JSON line per
layout goes to RESULT_FILE.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys

MERMAID = "flowchart LR\n  A[start] --> B[end]\n"
HTML = "<!DOCTYPE html><html><body><h1 style='font-size:60px'>drawn</h1></body></html>"


def _high(fd: int) -> int:
    """Move ``fd`` to 300 or above (out of the way of the layout)."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 300)
    os.close(fd)
    return moved


def set_layout(layout: str, keep: list[int]) -> None:
    """Make descriptors 0-4 what ``layout`` says; peers of pipe ends go to ``keep`` (open)."""
    placed: dict[int, int] = {}
    for fd, state in enumerate(layout):
        if state == "o":
            placed[fd] = _high(os.open(os.devnull, os.O_RDWR))
        elif state == "p":
            r, w = (_high(end) for end in os.pipe())
            mine, peer = (r, w) if fd % 2 == 0 else (w, r)  # read ends on even, write ends on odd
            placed[fd] = mine
            keep.append(peer)  # the other end stays open, as a real pipe's peer would
    for fd in range(5):
        with contextlib.suppress(OSError):
            os.close(fd)
    for fd, source in placed.items():
        os.dup2(source, fd)
        os.close(source)


def main() -> None:
    result_path, layouts = sys.argv[1], sys.argv[2:]
    opened = os.open(result_path, os.O_WRONLY | os.O_APPEND)
    out = os.fdopen(os.dup2(opened, 200), "w", buffering=1)
    os.close(opened)
    devnull = _high(os.open(os.devnull, os.O_RDWR))
    for fd in range(3, 10):  # the engine's own descriptors must land at 10 and above
        os.dup2(devnull, fd)

    from visplotbench.engine import RenderJob, RenderPool, RenderStatus
    from visplotbench.engine._browser import shared_browser

    pool = RenderPool(max_workers=2)
    first = pool.render(RenderJob("mermaid", MERMAID))  # warm: the loop's descriptors land >= 10
    out.write(json.dumps({"layout": "warm", "mermaid": first.status.value, "error": first.error}) + "\n")
    for layout in layouts:
        host = shared_browser()
        host.call(host.restart, 30)
        keep: list[int] = []
        set_layout(layout, keep)
        row: dict[str, str] = {"layout": layout}
        for language, source in (("mermaid", MERMAID), ("html", HTML)):
            result = pool.render(RenderJob(language, source))
            ok = result.status is RenderStatus.OK and bool(result.images)
            row[language] = result.status.value if not ok else "ok"
            if not ok:
                row[language + "_error"] = result.error[:500]
        out.write(json.dumps(row) + "\n")
        for fd in keep:
            os.close(fd)
    os.dup2(devnull, 1)  # a closed stdout must not fail the pool's shutdown output
    os.dup2(devnull, 2)
    pool.close()


if __name__ == "__main__":
    main()
