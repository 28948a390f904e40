"""One persistent Xvfb for the whole engine: Asymptote renders 3-D scenes through OpenGL and needs a display.

Without one, asy prints ``failed to open display`` and EXITS 0 with no PNG, so the renderer must both
provide a display and treat a missing one as the environment's fault.

How the display reaches a sandboxed job:
  * Xvfb always puts its socket in ``/tmp/.X11-unix``, but every sandbox gets a private ``/tmp``
    (and a private network namespace, which hides Linux's abstract X socket too). So Xvfb itself runs
    under bubblewrap with a private host directory (outside ``/tmp``) bound over ``/tmp/.X11-unix``:
    the socket lands in that directory, which jobs get read-only at the same path.
  * Inside the job, a fixed shell prelude links ``/tmp/.X11-unix/X<n>`` to that socket and
    ``DISPLAY=:<n>`` points Xlib at it (Xlib here does not accept a socket path in ``DISPLAY``).
  * ``-displayfd`` lets Xvfb choose a free display number, so two engines on one host do not collide.

Lifecycle: started lazily on the first job that asks for it, reused by every later job, restarted when
it has died; stopped by ``close()`` or at interpreter exit. A keeper thread owns the process (bwrap's
``--die-with-parent`` fires when the thread that started it ends, and the keeper lives as long as
Xvfb), so Xvfb also dies when the engine process is killed.

Not covered: jobs share the one X server, so a job could in principle read another job's off-screen
window through X requests; Asymptote in ``-safe`` mode has no way to issue them.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import select
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from visplotbench.engine._sandbox import bwrap_path
from visplotbench.engine._types import EnvironmentProblem

_START_TIMEOUT_S = 10.0
_SCREEN = "1600x1200x24"


@dataclass(frozen=True)
class XDisplay:
    """A running display as a sandboxed job sees it.

    Attributes:
        number: the display number (``DISPLAY=:<number>``).
        socket_dir: host directory holding the socket ``X<number>``; bind it read-only into the job.
    """

    number: int
    socket_dir: str

    @property
    def env(self) -> dict[str, str]:
        return {"DISPLAY": f":{self.number}"}

    def shell_prelude(self) -> str:
        """Shell commands, run inside the sandbox, that make ``DISPLAY`` reach the socket."""
        return (
            f"mkdir -p /tmp/.X11-unix && "
            f"ln -sf {self.socket_dir}/X{self.number} /tmp/.X11-unix/X{self.number}"
        )


def _socket_parent() -> Path:
    """A host directory outside /tmp, /dev and /proc (the sandbox replaces those)."""
    for candidate in (os.environ.get("VISPLOTBENCH_X11_DIR"), os.environ.get("XDG_RUNTIME_DIR"), "/var/tmp"):
        if (
            candidate
            and not candidate.startswith(("/tmp", "/dev", "/proc"))
            and os.access(candidate, os.W_OK)
        ):
            return Path(candidate)
    path = Path.home() / ".cache" / "visplotbench"
    path.mkdir(parents=True, exist_ok=True)
    return path


class Xvfb:
    """A lazily started, self-healing Xvfb server (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._display: XDisplay | None = None
        self.starts = 0  # how many times a server was started (tests check reuse)

    def alive(self) -> bool:
        proc, display = self._proc, self._display
        return (
            proc is not None
            and proc.poll() is None
            and display is not None
            and os.path.exists(f"{display.socket_dir}/X{display.number}")
        )

    def ensure(self) -> XDisplay:
        """The running display; starts (or restarts) Xvfb first. Raises EnvironmentProblem if it cannot."""
        with self._lock:
            if self.alive():
                assert self._display is not None
                return self._display
            self._stop()
            self._display = self._start()
            self.starts += 1
            return self._display

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _start(self) -> XDisplay:
        xvfb = shutil.which("Xvfb")
        if xvfb is None:
            raise EnvironmentProblem(
                "Xvfb is not installed; Asymptote needs it for 3-D rendering. "
                "Fix: apt-get install xvfb (or run `make install`)."
            )
        socket_dir = tempfile.mkdtemp(prefix="vpb-x11-", dir=_socket_parent())
        read_fd, low_fd = os.pipe()
        # Above the stdio numbers: with 0-2 closed here, os.pipe() could return 1, which Popen's
        # stdout=DEVNULL would overwrite in the child, and Xvfb's display number would be lost.
        write_fd = fcntl.fcntl(low_fd, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(low_fd)
        argv = [
            bwrap_path(), "--dev-bind", "/", "/", "--bind", socket_dir, "/tmp/.X11-unix", "--die-with-parent",
            "--", xvfb, "-displayfd", str(write_fd), "-screen", "0", _SCREEN, "-nolisten", "tcp", "-noreset",
        ]  # fmt: skip
        started = threading.Event()
        box: dict[str, object] = {}
        # stderr goes to a file, not a pipe: nobody drains a pipe while Xvfb runs
        with tempfile.TemporaryFile() as log:

            def keeper() -> None:
                try:
                    box["proc"] = subprocess.Popen(
                        argv, pass_fds=(write_fd,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                        stderr=log, start_new_session=True,
                    )  # fmt: skip
                except OSError as exc:
                    box["error"] = exc
                finally:
                    started.set()
                if "proc" in box:
                    box["proc"].wait()  # type: ignore[attr-defined]

            threading.Thread(target=keeper, name="xvfb-keeper", daemon=True).start()
            started.wait()
            os.close(write_fd)
            try:
                if "error" in box:
                    raise EnvironmentProblem(f"Xvfb could not be started: {box['error']}")
                self._proc = box["proc"]  # type: ignore[assignment]
                assert self._proc is not None
                number = _read_display(read_fd, self._proc, log)
            except BaseException:
                self._stop()
                shutil.rmtree(socket_dir, ignore_errors=True)
                raise
            finally:
                os.close(read_fd)
        return XDisplay(number, socket_dir)  # -displayfd is written once the socket accepts clients

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, 15)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, 9)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5)
        if self._display is not None:
            shutil.rmtree(self._display.socket_dir, ignore_errors=True)
            self._display = None


def _read_display(read_fd: int, proc: subprocess.Popen[bytes], log: IO[bytes]) -> int:
    """The display number Xvfb writes to ``-displayfd`` once it accepts connections."""
    data = b""
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([read_fd], [], [], max(0.0, remaining))
        chunk = os.read(read_fd, 64) if ready else b""
        if not chunk:
            proc.kill()
            log.seek(0)
            err = log.read().decode("utf-8", "replace")[-800:]
            raise EnvironmentProblem(
                f"Xvfb did not start within {_START_TIMEOUT_S:g} s "
                f"(exit status {proc.poll()}): {err.strip()}\n"
                "Fix: check that `Xvfb -displayfd 1` runs on this machine (apt-get install xvfb)."
            )
        data += chunk
    return int(data.strip())


_shared: Xvfb | None = None
_shared_lock = threading.Lock()


def shared_xvfb() -> Xvfb:
    """The engine's one Xvfb (created on first use, closed at interpreter exit)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Xvfb()
            atexit.register(_shared.close)
        return _shared
