"""The Chrome DevTools Protocol over Chromium's debugging pipe, with no driver in between.

Chromium started with ``--remote-debugging-pipe`` reads commands on its fd 3 and writes replies
and events on its fd 4, each message one JSON object followed by a NUL byte. ``launch`` starts it
with those two pipes; ``Connection`` sends commands (``send``) and hands events to the handler of
the session they belong to (one session per page, ``Target.attachToTarget`` with ``flatten``).

Why not Playwright: it relays every message through a Node.js driver and mirrors every request,
frame and console message as objects in Python. On the task set's HTML pages the driver alone
cost ~17 ms of CPU per job and its Python client ~10 ms more, of ~240 ms; the engine needs only
a dozen commands and events, which this module speaks directly.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import subprocess
from collections.abc import Callable, Sequence
from typing import Any

Handler = Callable[[str, dict], None]
STDERR_TAIL = 4096

# bash (not sh: dash cannot redirect from a descriptor above 9) moves the two pipe ends to the
# descriptors Chromium expects and closes the originals, then runs the launcher. This is only
# correct when neither end already is 3 or 4 (``exec 3<&3`` is a no-op and the close after it
# would then close the new fd 3; ``exec 3<&4`` would overwrite the other end): ``launch`` hands
# it descriptors at or above ``_FIRST_FREE_FD``, whatever the parent's descriptor layout.
_TRAMPOLINE = 'r=$1 w=$2; shift 2; exec 3<&$r 4>&$w {r}<&- {w}>&- && exec "$@"'
_FIRST_FREE_FD = 10


class ProtocolError(Exception):
    """A command failed, its page crashed or closed, or the browser went away."""


class Connection:
    """One browser's debugging pipe: commands with replies, events by session."""

    def __init__(self) -> None:
        self._pending: dict[int, tuple[asyncio.Future, str, str]] = {}
        self._handlers: dict[str, Handler] = {}
        self._next_id = 0
        self._buffer = bytearray()
        self._scanned = 0
        self._writer: asyncio.WriteTransport | None = None
        self.closed = False
        self.close_reason = ""
        self.stderr_tail = b""

    async def open(self, read_fd: int, write_fd: int) -> None:
        loop = asyncio.get_running_loop()
        connection = self

        class _Reader(asyncio.Protocol):
            def data_received(self, data: bytes) -> None:
                connection._received(data)

            def connection_lost(self, exc: Exception | None) -> None:
                connection._lost("the browser closed its debugging pipe")

        class _Writer(asyncio.BaseProtocol):
            def connection_lost(self, exc: Exception | None) -> None:
                connection._lost("the browser's debugging pipe broke")

        await loop.connect_read_pipe(_Reader, os.fdopen(read_fd, "rb", buffering=0))
        self._writer, _ = await loop.connect_write_pipe(_Writer, os.fdopen(write_fd, "wb", buffering=0))

    def on(self, session: str, handler: Handler | None) -> None:
        """Send the events of ``session`` ("" = the browser's own) to ``handler`` (None: drop them)."""
        if handler is None:
            self._handlers.pop(session, None)
        else:
            self._handlers[session] = handler

    async def send(self, method: str, params: dict | None = None, session: str = "") -> dict:
        """Run one command and return its result; ProtocolError when it fails or cannot be answered."""
        if self.closed or self._writer is None:
            raise ProtocolError(f"{method}: {self.close_reason or 'the browser is not connected'}")
        self._next_id += 1
        ident = self._next_id
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        future = asyncio.get_running_loop().create_future()
        self._pending[ident] = (future, session, method)
        try:
            self._writer.write(json.dumps(message).encode("utf-8") + b"\0")
            return await future
        finally:
            self._pending.pop(ident, None)

    async def wait(self, future: asyncio.Future, session: str, what: str) -> Any:
        """Await ``future`` (an event the caller resolves); it fails like a command when the session's
        page crashes or closes, or the browser goes away."""
        if self.closed:
            raise ProtocolError(f"{what}: {self.close_reason}")
        self._next_id += 1
        ident = self._next_id
        self._pending[ident] = (future, session, what)
        try:
            return await future
        finally:
            self._pending.pop(ident, None)

    def fail_session(self, session: str | None, reason: str) -> None:
        """Fail the commands waiting on ``session`` (None: on any session): its page crashed or
        closed, or the browser went away, so none will be answered."""
        for future, owner, method in list(self._pending.values()):
            if (session is None or owner == session) and not future.done():
                future.set_exception(ProtocolError(f"{method}: {reason}"))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._lost("the browser was closed")

    # --- reading ------------------------------------------------------------------------------
    def _received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            end = self._buffer.find(b"\0", self._scanned)
            if end < 0:
                self._scanned = len(self._buffer)  # a screenshot arrives in many reads: scan once
                return
            raw = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            self._scanned = 0
            self._dispatch(json.loads(raw))

    def _dispatch(self, message: dict) -> None:
        if "id" in message:
            entry = self._pending.get(message["id"])
            if entry is None or entry[0].done():
                return  # its caller gave up (a timeout)
            future, _, method = entry
            if "error" in message:
                error = message["error"]
                future.set_exception(ProtocolError(f"{method}: {error.get('message', error)}"))
            else:
                future.set_result(message.get("result", {}))
            return
        handler = self._handlers.get(message.get("sessionId", ""))
        if handler is not None:
            handler(message.get("method", ""), message.get("params", {}))

    def _lost(self, reason: str) -> None:
        if self.closed:
            return
        self.closed, self.close_reason = True, reason
        self.fail_session(None, reason)


async def launch(argv: Sequence[str], env: dict[str, str]) -> tuple[subprocess.Popen, Connection]:
    """Start ``argv`` (a Chromium launcher; ``--remote-debugging-pipe`` is added) in its own
    process group and connect to it. Its stderr is read as it comes and only the last lines are
    kept (``Connection.stderr_tail``): a page can make Chromium log without end (WebGL errors)."""
    to_browser_r, to_browser_w = os.pipe()
    from_browser_r, from_browser_w = os.pipe()
    # os.pipe() returns the lowest free descriptors: with some of 0-4 closed in this process (a
    # daemon, a pipeline, a test runner) the child's ends could be 0-4, where Popen's own stdio
    # or the trampoline's moves would clobber them. Copies at 10 and above are never touched.
    to_browser_r = _lift(to_browser_r)
    from_browser_w = _lift(from_browser_w)
    try:
        process = subprocess.Popen(
            ["/bin/bash", "-c", _TRAMPOLINE, "bash", str(to_browser_r), str(from_browser_w),
             *argv, "--remote-debugging-pipe"],
            pass_fds=(to_browser_r, from_browser_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )  # fmt: skip
    except BaseException:
        os.close(to_browser_w)
        os.close(from_browser_r)
        raise
    finally:  # the child's ends: the browser holds them now
        os.close(to_browser_r)
        os.close(from_browser_w)
    connection = Connection()
    assert process.stderr is not None
    await asyncio.get_running_loop().connect_read_pipe(lambda: _Tail(connection), process.stderr)
    await connection.open(from_browser_r, to_browser_w)
    return process, connection


def _lift(fd: int) -> int:
    """A copy of ``fd`` numbered ``_FIRST_FREE_FD`` or above (close-on-exec); ``fd`` is closed."""
    try:
        return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _FIRST_FREE_FD)
    finally:
        os.close(fd)


class _Tail(asyncio.Protocol):
    """Keeps the last ``STDERR_TAIL`` bytes of the browser's stderr (for launch failures)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def data_received(self, data: bytes) -> None:
        tail = self.connection.stderr_tail + data
        self.connection.stderr_tail = tail[-STDERR_TAIL:]
