"""LilyPond job handler: scores run in children of a LilyPond fork server inside a warm worker.

A one-shot ``lilypond`` spends ~0.5 of a one-page score's ~0.9 CPU-s starting up (Guile loads
lily.scm, then ``declarations-init.ly`` is parsed). ``warm()`` starts ``lilypond_server.scm``
(its header says what it does and why its output is the one-shot command's, byte for byte), which
pays that once. ``run()`` runs in the worker's forked job process (the *proxy*, see
``_workerserver``): it asks the server for a child that renders the job directory's ``main.ly``
with the job's limits, waits for it and exits the way the child did (same exit code, or killed by
the same signal). The child writes to the proxy's stdout and stderr, so the worker captures them
and enforces the wall limit and the output cap as for any fork-mode job; at the wall limit it
kills the child with every other process of the job, the server excepted (``keep_pids``).

Between jobs (``after_job``) the worker checks the server: a job's Scheme runs as the same user and
may kill or stop it, or write into its stdin. A server that is gone, stopped or has input waiting
that no proxy sent is replaced by a new one, so one job cannot touch the next.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

from visplotbench.engine._dumpable import set_dumpable

# The renderer's options, for the server and the one-shot command (renderers/lilypond.py); -o
# without a directory (one with a directory makes lilypond chdir there). The child sets
# print-pages per job.
RESOLUTION = 150  # dpi
SERVER = Path(__file__).with_name("lilypond_server.scm")
OPTIONS = ["--png", "-dcrop", "-dno-point-and-click", f"-dresolution={RESOLUTION}", "-o", "main"]
_HOME = "/tmp/lilypond-server"  # the server's cwd: in the sandbox's private /tmp, never a job's
_LOG = f"{_HOME}.log"
_START_TIMEOUT_S = 60.0

_server: subprocess.Popen[bytes] | None = None


def command() -> list[str]:
    return ["lilypond", *OPTIONS, "-e", f'(load "{SERVER}")']


def warm() -> None:
    """Start the fork server and wait until it has read LilyPond's initialisation."""
    global _server
    os.makedirs(_HOME, exist_ok=True)
    with open(_LOG, "wb") as log:
        _server = subprocess.Popen(
            command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, cwd=_HOME
        )
    assert _server.stdout is not None
    ready, _, _ = select.select([_server.stdout], [], [], _START_TIMEOUT_S)
    line = _server.stdout.readline() if ready else b""
    if line != b"ready\n":
        _stop()
        raise RuntimeError(f"the LilyPond server did not start: {_log_tail() or 'no output'}")


def keep_pids() -> set[int]:
    """Processes the worker must not kill between jobs: the server."""
    return {_server.pid} if _server is not None and _server.poll() is None else set()


def after_job() -> None:
    """Replace the server if the last job may have touched it (see the module docstring)."""
    if _server is None or not _healthy(_server):
        _stop()
        warm()
        return
    _drain(_server)  # replies to a proxy that was killed at its limit


def run(job_dir: str, options: dict) -> None:
    """In the proxy: have the server render ``job_dir/main.ly``; exit as its child did."""
    server = _server  # not ours to wait for (the worker's child): no poll() here
    if server is None or server.stdin is None or server.stdout is None:
        sys.stderr.write("The LilyPond server stopped before the job ran.\n")
        raise SystemExit(70)
    # The server's child reopens our stdout and stderr through /proc; the worker is non-dumpable
    # (its protocol pipe is not reachable that way), so this process must be dumpable again.
    set_dumpable(True)
    nonce = secrets.token_hex(8)
    fields = [
        nonce,
        str(os.getpid()),
        job_dir,
        str(int(options["cpu_s"])),
        str(int(options["file_size_mb"]) * 1024 * 1024),
        str(int(options["memory_mb"]) * 1024 * 1024),
        "1" if options.get("print_pages", True) else "0",
    ]
    server.stdin.write(("\t".join(fields) + "\n").encode())
    server.stdin.flush()
    for raw in server.stdout:
        words = raw.decode("ascii", "replace").split()
        if len(words) == 4 and words[0] == "done" and words[1] == nonce:
            _exit_like(int(words[2]), float(words[3]), int(options["cpu_s"]))
    sys.stderr.write("The LilyPond server stopped during the job.\n")
    raise SystemExit(70)


def _exit_like(wait_status: int, cpu_s: float, cpu_limit: int) -> None:
    """End this process the way the server's child ended (exit code, or the same signal).

    Guile does not die of SIGXCPU, so a score is killed at RLIMIT_CPU's hard limit; the one-shot
    path tells that from the job's CPU time, which this process does not have: it ends by SIGXCPU
    instead, the signal that names the CPU limit."""
    if os.WIFSIGNALED(wait_status):
        sig = os.WTERMSIG(wait_status)
        if sig == signal.SIGKILL and cpu_s >= cpu_limit:
            sig = signal.SIGXCPU
        with contextlib.suppress(OSError, ValueError):  # SIGKILL's action cannot be set (nor needs to be)
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        time.sleep(1)  # the signal is delivered before this ends
    raise SystemExit(os.WEXITSTATUS(wait_status) if os.WIFEXITED(wait_status) else 70)


def _healthy(server: subprocess.Popen[bytes]) -> bool:
    if server.poll() is not None or server.stdin is None:
        return False
    try:
        state = Path(f"/proc/{server.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    if state in ("T", "t", "Z"):  # stopped (SIGSTOP, a tracer) or dead
        return False
    waiting = bytearray(4)
    try:
        fcntl.ioctl(server.stdin.fileno(), termios.FIONREAD, waiting)
    except OSError:
        return False
    return int.from_bytes(waiting, sys.byteorder) == 0  # input nobody sent: a job wrote it


def _drain(server: subprocess.Popen[bytes]) -> None:
    assert server.stdout is not None
    fd = server.stdout.fileno()
    while select.select([fd], [], [], 0)[0]:
        if not os.read(fd, 65536):
            return


def _stop() -> None:
    global _server
    if _server is not None:
        with contextlib.suppress(ProcessLookupError):
            _server.kill()
        with contextlib.suppress(Exception):
            _server.wait(5)
        _server = None


def _log_tail() -> str:
    try:
        return Path(_LOG).read_text(errors="replace").strip()[-1500:]
    except OSError:
        return ""
