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

Protocol: one JSON line per job on the worker's stdin, one JSON line back on its stdout; the
worker's program is ``_workerserver`` (it runs inside the sandbox; this module is the host side).
A handler module exposes ``warm() -> None`` and ``run(job_dir: str, options: dict) -> None``; in
fork mode the child's stdout/stderr are captured by the worker and returned (capped). A fork-mode
handler that keeps helper processes of its own (LilyPond's fork server) also exposes
``keep_pids() -> set[int]`` (spared when the job's leftovers are killed) and ``after_job() -> None``
(run after each reply: check or replace the helpers).

Replies cannot be forged by a job: the worker makes itself non-dumpable before it imports a handler
(a job, which runs as the same user, can then neither ptrace it nor reopen its pipes through
/proc/<pid>/fd), and a forked child closes the worker's pipe to the host before the job runs.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import select
import shutil
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from visplotbench.engine._jobcontrol import current
from visplotbench.engine._sandbox import ProcessResult
from visplotbench.engine._types import Limits

if TYPE_CHECKING:
    from visplotbench.engine._sandbox import SandboxedProcess

_names = itertools.count()


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
        binds: tuple[tuple[str, str], ...] = (),
        start_timeout_s: float = 60.0,
    ):
        self.handler, self.mode, self.env, self.extra_ro = handler, mode, env or {}, extra_ro
        self.binds = binds  # (host path, sandbox path), read-only; a host path that is missing is left out
        self.sandbox_limits = sandbox_limits
        self.start_timeout_s = start_timeout_s
        self._lock = threading.Lock()
        self._proc: SandboxedProcess | None = None
        self.root: Path | None = None
        self.starts = 0

    @property
    def started(self) -> bool:
        """Whether the worker's process is running (or starting) now."""
        return self._proc is not None

    def _start(self) -> None:
        import tempfile

        from visplotbench.engine._sandbox import SandboxedProcess, bwrap_argv, python_ro_paths, scratch_dir
        from visplotbench.engine._types import EnvironmentProblem

        self.root = Path(tempfile.mkdtemp(prefix="vpb-worker-", dir=scratch_dir()))
        self.root.chmod(0o700)
        argv = bwrap_argv(
            [sys.executable, "-u", "-m", "visplotbench.engine._workerserver", self.handler, self.mode],
            self.root,
            env=self.env,
            extra_ro=(*python_ro_paths(), *self.extra_ro),
            binds=[(src, dst) for src, dst in self.binds if os.path.exists(src)],
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
        assert self._proc is not None and self._proc.proc.stdout is not None
        stdout = self._proc.proc.stdout
        ready, _, _ = select.select([stdout], [], [], timeout)
        return stdout.readline().decode() if ready else None

    def _stop(self) -> str:
        err = ""
        if self._proc is not None:
            stderr = self._proc.proc.stderr
            self._proc.kill()
            with contextlib.suppress(Exception):
                err = stderr.read(20000).decode("utf-8", "replace") if stderr else ""
            self._proc.close()
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

    def run(self, job_dir: Path, limits: Limits, options: dict | None = None) -> ProcessResult:
        """Run one job whose files are already in ``job_dir`` (from ``new_job_dir``)."""
        from visplotbench.engine._sandbox import SANDBOX_JOB_DIR

        with self._lock:
            if self._proc is None or self.root is None or job_dir.parent != self.root:
                return ProcessResult(-1, "", "", crashed="the worker restarted before the job ran")
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
            cgroup = proc.cgroup
            stdin = proc.proc.stdin
            assert stdin is not None
            control = current()
            if control is not None:  # the worker serves only this job now: it may be lowered with it
                control.attach(cgroup)
            try:
                stdin.write((json.dumps(request) + "\n").encode())
                stdin.flush()
                # fork mode: the worker enforces the limit itself, so wait a little longer for its word;
                # inproc mode: nobody else enforces it, so stop the worker right at the limit.
                grace = 3.0 if self.mode == "fork" else 0.25
                line = self._readline(lim.wall_s + grace)
            except (BrokenPipeError, OSError):
                line = ""
            finally:
                if control is not None:
                    control.detach(cgroup)
            memory = bool(cgroup and cgroup.memory_exceeded())
            pids = bool(cgroup and cgroup.pids_exceeded())
            if not line:
                # The worker died (memory cap, crash: its stdout closed, though the process may not
                # be reaped yet) or hung (no word within the limit: an in-process job that never ends).
                alive = line is None
                err = self._stop()
                reason = "hung" if alive else f"died ({err.strip()[-500:]})"
                return ProcessResult(
                    -9,
                    "",
                    "",
                    timed_out=alive,
                    wall_s=lim.wall_s if alive else 0.0,
                    memory_exceeded=memory,
                    pids_exceeded=pids,
                    crashed=f"the worker {reason}",
                )
            data = json.loads(line)
            reply = ProcessResult(**data, memory_exceeded=memory, pids_exceeded=pids)
            if memory or pids:  # the counters are per worker: start a clean one for the next job
                self._stop()
            return reply

    def close(self) -> None:
        with self._lock:
            self._stop()
