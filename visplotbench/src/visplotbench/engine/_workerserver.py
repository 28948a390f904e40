"""The warm worker's own program, run INSIDE the sandbox: ``python -m visplotbench.engine._workerserver HANDLER MODE``.

It imports a renderer's handler module once (``warm()``), then serves jobs: one JSON line per job on
stdin, one JSON line back on stdout (the fields of ``ProcessResult``). The host side, which starts it
and talks to it, is ``_worker.WarmWorker``; the modes (``fork``, ``inproc``) are described there.
Only the standard library, ``_capture`` and ``_dumpable`` are imported before a handler's own imports.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Iterator
from types import ModuleType

from visplotbench.engine._capture import read_capped
from visplotbench.engine._dumpable import set_dumpable


def _kill_others(keep: set[int] | frozenset[int] = frozenset()) -> None:
    """Kill every process in our PID namespace except the namespace init (1), ourselves and ``keep``
    (a handler's own long-lived helpers, e.g. the LilyPond fork server)."""
    spare = {1, os.getpid(), *keep}
    for _ in range(20):
        others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in spare]
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


def _run_forked(handler: ModuleType, job: dict, private_fds: tuple[int, ...] = ()) -> dict:
    """Run one job in a forked child; ``private_fds`` (the protocol to the host) are closed in it."""
    import resource

    job_dir = job["dir"]
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: one job, then exit
        try:
            os.setsid()
            for fd in private_fds:  # a job that could write there could forge the next job's reply
                os.close(fd)
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
            handler.run(job_dir, job.get("options", {}))
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
    reaped: int | None = None  # the child's wait status, once it exited while its output stayed open

    def exited_and_quiet() -> bool:
        nonlocal reaped
        if reaped is not None:
            return True  # the child is gone and its leftovers (which hold the pipes) went quiet
        done, wait_status = os.waitpid(pid, os.WNOHANG)
        if done:
            reaped = wait_status
        return False

    deadline = start + job["wall_s"]
    captured = read_capped(out_r, err_r, deadline, job["output_bytes"], idle=exited_and_quiet)
    timed_out, flooded = captured.timed_out, captured.flooded
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
    _kill_others(getattr(handler, "keep_pids", set)())
    for fd in (out_r, err_r):
        with contextlib.suppress(OSError):
            os.close(fd)
    return {
        "returncode": os.waitstatus_to_exitcode(status) if status or not (timed_out or flooded) else -9,
        "stdout": captured.stdout.decode("utf-8", "replace"),
        "stderr": captured.stderr.decode("utf-8", "replace"),
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


def _run_inproc(handler: ModuleType, job: dict) -> dict:
    start = time.monotonic()
    import io

    err = io.StringIO()
    code = 0
    try:
        with _address_space_cap(job["memory_mb"] if getattr(handler, "LIMIT_ADDRESS_SPACE", False) else None):
            handler.run(job["dir"], job.get("options", {}))
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
    # Jobs run as our user: without this they could ptrace us, or reopen our pipes to the host
    # through /proc/<pid>/fd, and so forge the replies of later jobs. (Forked children inherit it.)
    set_dumpable(False)
    handler = importlib.import_module(handler_name)
    handler.warm()
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    if mode == "inproc":  # keep stray prints of libraries off the protocol stream
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    protocol.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        job = json.loads(line)
        if mode == "fork":
            result = _run_forked(handler, job, (protocol.fileno(),))
        else:
            result = _run_inproc(handler, job)
        protocol.write(json.dumps(result) + "\n")
        if hasattr(handler, "after_job"):  # after the reply: a helper's restart need not delay it
            handler.after_job()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
