"""Warm workers: a sandboxed Python process that has imported a renderer's heavy libraries once.

Start-up dominates some renders (importing matplotlib costs ~1 s, vl-convert's first call ~0.8 s),
so a renderer may keep a warm worker instead of starting a process per job. The worker itself runs
inside the bubblewrap sandbox (see ``_sandbox``) on a private root directory; each job gets a fresh
subdirectory of it, which the host creates and deletes.

Two modes:
  * ``fork``: the worker forks a child per job. The child starts a new session, gets its own rlimits
    (CPU, file size, address space) and a high OOM score, runs the job and exits; the worker waits
    with the job's wall limit, then kills the child's group and every other process left in the
    sandbox's PID namespace. Nothing a job does in memory survives into the next job.
  * ``inproc``: the job runs inside the worker itself: for libraries that are not fork-safe (vl-convert's
    embedded JS runtime), and where a fork per job costs more than the job (CairoSVG: ~45 ms of
    copy-on-write faults and teardown per fork against ~12 ms of drawing). Only for inputs that are
    data, not programs. A handler may ask for its address space to be capped per job
    (``LIMIT_ADDRESS_SPACE``); a job that times out or crashes takes the worker with it and the
    host starts a new one.

Protocol: one JSON line per job on the worker's stdin, one JSON line back on its stdout.
A handler module exposes ``warm() -> None`` and ``run(job_dir: str, options: dict) -> None``; in
fork mode the child's stdout/stderr are captured by the worker and returned (capped).
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import json
import os
import select
import shutil
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from visplotbench.engine._types import Limits

# ----------------------------------------------------------------------------- inside the sandbox


def _kill_others() -> None:
    """Kill every process in our PID namespace except the namespace init (1) and ourselves."""
    me = os.getpid()
    for _ in range(20):
        others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, me)]
        if not others:
            return
        for pid in others:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        time.sleep(0.005)


def _vm_size() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _run_forked(handler: object, job: dict) -> dict:
    import resource

    job_dir = job["dir"]
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: one job, then exit
        try:
            os.setsid()
            os.close(out_r)
            os.close(err_r)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as f:
                f.write("1000")  # if the sandbox's memory cap is hit, the job dies, not the worker
            # soft < hard: SIGXCPU (which names the limit) first, SIGKILL a second later
            resource.setrlimit(resource.RLIMIT_CPU, (job["cpu_s"], job["cpu_s"] + 1))
            fsize = job["file_size_mb"] * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
            address_space = _vm_size() + job["memory_mb"] * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
            sys.stdout = os.fdopen(1, "w", buffering=1)
            sys.stderr = os.fdopen(2, "w", buffering=1)
            os.chdir(job_dir)
            handler.run(job_dir, job.get("options", {}))  # type: ignore[attr-defined]
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            with contextlib.suppress(BaseException):
                traceback.print_exc()
            code = 70
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)

    os.close(out_w)
    os.close(err_w)
    cap, flood = job["output_bytes"], job["output_bytes"] * 64
    bufs: dict[int, bytearray] = {out_r: bytearray(), err_r: bytearray()}
    seen = dict.fromkeys(bufs, 0)
    deadline = start + job["wall_s"]
    timed_out = flooded = False
    open_fds = [out_r, err_r]
    reaped: int | None = None  # the child's wait status, once it exited while its output stayed open
    while open_fds:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        ready, _, _ = select.select(open_fds, [], [], min(remaining, 0.1))
        if not ready:
            if reaped is not None:
                break  # the child is gone and its leftovers (which hold the pipes) went quiet
            done, wait_status = os.waitpid(pid, os.WNOHANG)
            if done:
                reaped = wait_status
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
    status = 0
    if reaped is not None:
        status = reaped
    elif not (timed_out or flooded):
        # Output closed: the child is exiting (or a grandchild kept a copy of the pipe and left).
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                timed_out = True
                break
            time.sleep(0.005)
    if timed_out or flooded:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            _, status = os.waitpid(pid, 0)
    _kill_others()
    for fd in (out_r, err_r):
        with contextlib.suppress(OSError):
            os.close(fd)
    return {
        "returncode": os.waitstatus_to_exitcode(status) if status or not (timed_out or flooded) else -9,
        "stdout": bufs[out_r].decode("utf-8", "replace"),
        "stderr": bufs[err_r].decode("utf-8", "replace"),
        "timed_out": timed_out,
        "output_flood": flooded,
        "wall_s": time.monotonic() - start,
    }


@contextlib.contextmanager
def _address_space_cap(memory_mb: int | None) -> Iterator[None]:
    """Lower the soft RLIMIT_AS to what the worker uses now plus ``memory_mb``, for one job.

    Only for handlers that declare ``LIMIT_ADDRESS_SPACE`` (plain C libraries, where a failed
    allocation is an error, not a crash; V8, for one, reserves address space as it goes). The soft
    limit can be raised again afterwards because the hard limit is left alone.
    """
    import resource

    if memory_mb is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _vm_size() + memory_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _run_inproc(handler: object, job: dict) -> dict:
    start = time.monotonic()
    import io

    err = io.StringIO()
    code = 0
    try:
        with _address_space_cap(job["memory_mb"] if getattr(handler, "LIMIT_ADDRESS_SPACE", False) else None):
            handler.run(job["dir"], job.get("options", {}))  # type: ignore[attr-defined]
    except MemoryError:
        err.write(f"MemoryError: the input needs more than the memory limit of {job['memory_mb']} MiB.")
        code = 1
    except Exception as exc:  # the handler's own error report for the job
        # ValueError is the handlers' way of reporting a problem with the input: its text is the report.
        err.write(str(exc) if type(exc) is ValueError else f"{type(exc).__name__}: {exc}")
        code = 1
    return {
        "returncode": code,
        "stdout": "",
        "stderr": err.getvalue(),
        "timed_out": False,
        "output_flood": False,
        "wall_s": time.monotonic() - start,
    }


def serve(handler_name: str, mode: str) -> None:
    """The worker's main loop (runs inside the sandbox)."""
    handler = importlib.import_module(handler_name)
    handler.warm()
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    if mode == "inproc":  # keep stray prints of libraries off the protocol stream
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    protocol.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        job = json.loads(line)
        result = _run_forked(handler, job) if mode == "fork" else _run_inproc(handler, job)
        protocol.write(json.dumps(result) + "\n")


# ----------------------------------------------------------------------------- on the host

_names = itertools.count()


@dataclass
class WorkerReply:
    """What the worker said about one job (mirrors ``ProcessResult``)."""

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool
    output_flood: bool
    wall_s: float
    memory_exceeded: bool = False
    pids_exceeded: bool = False
    crashed: str = ""  # non-empty when the worker itself died or hung


class WarmWorker:
    """A warm sandboxed worker for one renderer; serves one job at a time (thread-safe)."""

    def __init__(
        self,
        handler: str,
        *,
        mode: str,
        sandbox_limits: Limits,
        env: dict[str, str] | None = None,
        extra_ro: tuple[str, ...] = (),
        start_timeout_s: float = 60.0,
    ):
        self.handler, self.mode, self.env, self.extra_ro = handler, mode, env or {}, extra_ro
        self.sandbox_limits = sandbox_limits
        self.start_timeout_s = start_timeout_s
        self._lock = threading.Lock()
        self._proc: object = None
        self.root: Path | None = None
        self.starts = 0

    def _start(self) -> None:
        import tempfile

        from visplotbench.engine._sandbox import SandboxedProcess, bwrap_argv, python_ro_paths, scratch_dir
        from visplotbench.engine._types import EnvironmentProblem

        self.root = Path(tempfile.mkdtemp(prefix="vpb-worker-", dir=scratch_dir()))
        self.root.chmod(0o700)
        argv = bwrap_argv(
            [sys.executable, "-u", "-m", "visplotbench.engine._worker", self.handler, self.mode],
            self.root,
            env=self.env,
            extra_ro=(*python_ro_paths(), *self.extra_ro),
        )
        proc = SandboxedProcess(argv, self.sandbox_limits, long_lived=True)
        self._proc = proc
        self.starts += 1
        line = self._readline(self.start_timeout_s)
        if not line or not json.loads(line).get("ready"):
            err = self._stop()
            raise EnvironmentProblem(
                f"The {self.handler} worker did not start: {err.strip()[-1500:] or 'no output'}. "
                "Fix: run `visplotbench doctor` and `make install`."
            )

    def _readline(self, timeout: float) -> str | None:
        """The worker's next line; "" when its stdout closed (it died), None when ``timeout`` passed."""
        proc = self._proc.proc  # type: ignore[attr-defined]
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        return proc.stdout.readline().decode() if ready else None

    def _stop(self) -> str:
        err = ""
        if self._proc is not None:
            proc = self._proc.proc  # type: ignore[attr-defined]
            self._proc.kill()  # type: ignore[attr-defined]
            with contextlib.suppress(Exception):
                err = proc.stderr.read(20000).decode("utf-8", "replace")
            self._proc.close()  # type: ignore[attr-defined]
            self._proc = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
        return err

    def new_job_dir(self) -> Path:
        """A fresh directory for one job, visible in the sandbox; start the worker if needed."""
        import tempfile

        with self._lock:
            if self._proc is None:
                self._start()
            assert self.root is not None
            # An unguessable name: a job (which may write to the worker's root) cannot pre-create
            # the directory of a later job.
            job_dir = Path(tempfile.mkdtemp(prefix=f"j{next(_names)}-", dir=self.root))
            return job_dir

    def run(self, job_dir: Path, limits: Limits, options: dict | None = None) -> WorkerReply:
        """Run one job whose files are already in ``job_dir`` (from ``new_job_dir``)."""
        from visplotbench.engine._sandbox import SANDBOX_JOB_DIR

        with self._lock:
            if self._proc is None or self.root is None or job_dir.parent != self.root:
                return WorkerReply(
                    -1, "", "", False, False, 0.0, crashed="the worker restarted before the job ran"
                )
            lim = limits
            request = {
                "dir": f"{SANDBOX_JOB_DIR}/{job_dir.name}",
                "options": options or {},
                "wall_s": lim.wall_s,
                "cpu_s": lim.cpu_s,
                "memory_mb": lim.memory_mb,
                "file_size_mb": lim.file_size_mb,
                "output_bytes": lim.output_bytes,
            }
            proc = self._proc
            cgroup = proc.cgroup  # type: ignore[attr-defined]
            try:
                proc.proc.stdin.write((json.dumps(request) + "\n").encode())  # type: ignore[attr-defined]
                proc.proc.stdin.flush()  # type: ignore[attr-defined]
                # fork mode: the worker enforces the limit itself, so wait a little longer for its word;
                # inproc mode: nobody else enforces it, so stop the worker right at the limit.
                grace = 3.0 if self.mode == "fork" else 0.25
                line = self._readline(lim.wall_s + grace)
            except (BrokenPipeError, OSError):
                line = ""
            memory = bool(cgroup and cgroup.memory_exceeded())
            pids = bool(cgroup and cgroup.pids_exceeded())
            if not line:
                # The worker died (memory cap, crash: its stdout closed, though the process may not
                # be reaped yet) or hung (no word within the limit: an in-process job that never ends).
                alive = line is None
                err = self._stop()
                reason = "hung" if alive else f"died ({err.strip()[-500:]})"
                return WorkerReply(
                    -9,
                    "",
                    "",
                    alive,
                    False,
                    lim.wall_s if alive else 0.0,
                    memory_exceeded=memory,
                    pids_exceeded=pids,
                    crashed=f"the worker {reason}",
                )
            data = json.loads(line)
            reply = WorkerReply(**data, memory_exceeded=memory, pids_exceeded=pids)
            if memory or pids:  # the counters are per worker: start a clean one for the next job
                self._stop()
            return reply

    def close(self) -> None:
        with self._lock:
            self._stop()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
