"""Per-job control groups: a hard cap on processes (fork bombs) and on memory (all processes together).

rlimits cannot do this job here: RLIMIT_NPROC is not enforced for root's real uid, and the
sandboxed programs run with root's real uid behind a user namespace. When no cgroup hierarchy is
writable (an unprivileged user, a systemd machine without delegation) we fall back to RLIMIT_NPROC
and RLIMIT_AS, which do apply to non-root users; ``cgroups_available()`` tells which is in force.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

_ROOT = Path(os.environ.get("VISPLOTBENCH_CGROUP_ROOT", "/sys/fs/cgroup"))
_counter = itertools.count()


def _v1_dir(controller: str) -> Path | None:
    base = _ROOT / controller
    if not (base / "cgroup.procs").exists():
        return None
    parent = base / "visplotbench"
    try:
        parent.mkdir(exist_ok=True)
    except OSError:
        return None
    return parent if os.access(parent, os.W_OK) else None


_available: tuple[Path | None, Path | None] | None = None


def _parents() -> tuple[Path | None, Path | None]:
    global _available
    if _available is None:
        _available = (_v1_dir("pids"), _v1_dir("memory"))
    return _available


_cpuacct: list[Path | None] = []


def _cpuacct_parent() -> Path | None:
    """The cpuacct hierarchy's folder for jobs (None where it is absent or not writable)."""
    if not _cpuacct:
        _cpuacct.append(_v1_dir("cpuacct"))
    return _cpuacct[0]


_cpu_root: list[Path | None] = []


def _cpu_parent() -> Path | None:
    """The cpu hierarchy's root, where each job gets a group of its own (None: not writable).

    Job groups sit directly at the root, not in a common parent: at the root each one weighs as
    much as one session's autogroup does today (every sandboxed job is a session of its own), so
    the CPU balance between jobs, the browser and the harness stays what it was; a common parent
    would make all jobs together weigh as much as one session.
    """
    if not _cpu_root:
        base = _ROOT / "cpu"
        ok = (base / "cgroup.procs").exists() and (base / "cpu.shares").exists() and os.access(base, os.W_OK)
        _cpu_root.append(base if ok else None)
    return _cpu_root[0]


# cpu.shares of a job that runs at full and at low priority. 1024 is the kernel's default (what a
# session's autogroup weighs); 2 is its minimum: a demoted job runs on what the others leave.
SHARES_NORMAL, SHARES_LOW = 1024, 2


def cgroups_available() -> bool:
    """True when jobs get a pids and a memory cgroup of their own (cgroup v1 writable)."""
    pids, mem = _parents()
    return pids is not None and mem is not None


@dataclass
class JobCgroup:
    """The cgroups of one job. ``procs_files`` are written by the launcher with the job's pid."""

    dirs: list[Path]

    @property
    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    def memory_exceeded(self) -> bool:
        """True when the kernel had to refuse memory to (or OOM-kill) a process of the job."""
        for d in self.dirs:
            oom = d / "memory.oom_control"
            if oom.exists():
                with contextlib.suppress(OSError):
                    for line in oom.read_text().splitlines():
                        if line.startswith("oom_kill ") and int(line.split()[1]) > 0:
                            return True
            fail = d / "memory.failcnt"
            if fail.exists():
                with contextlib.suppress(OSError, ValueError):
                    if int(fail.read_text()) > 0:
                        return True
        return False

    def cpu_seconds(self) -> float:
        """CPU seconds used by all the job's processes so far (0.0 without a cpuacct cgroup)."""
        for d in self.dirs:
            usage = d / "cpuacct.usage"
            if usage.exists():
                with contextlib.suppress(OSError, ValueError):
                    return int(usage.read_text()) / 1e9
        return 0.0

    def set_low_priority(self, low: bool) -> bool:
        """Lower (or restore) the CPU weight of all the job's processes; False without a cpu group."""
        return self.set_cpu_weight(SHARES_LOW if low else SHARES_NORMAL)

    def set_cpu_weight(self, shares: int) -> bool:
        """Set the cpu group's ``cpu.shares`` (1024: one job's weight); False without a cpu group."""
        done = False
        for d in self.dirs:
            path = d / "cpu.shares"
            if path.exists():
                with contextlib.suppress(OSError):
                    path.write_text(str(max(SHARES_LOW, min(shares, 262144))))
                    done = True
        return done

    def pids_exceeded(self) -> bool:
        """True when a fork was refused because the job reached its process cap."""
        for d in self.dirs:
            events = d / "pids.events"
            if events.exists():
                with contextlib.suppress(OSError, ValueError):
                    if int(events.read_text().split()[-1]) > 0:
                        return True
        return False

    def kill_all(self) -> None:
        """SIGKILL every process left in the job's cgroups (stragglers that left the process group)."""
        for _ in range(50):
            pids: set[int] = set()
            for d in self.dirs:
                with contextlib.suppress(OSError):
                    pids.update(int(p) for p in (d / "cgroup.procs").read_text().split())
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def remove(self) -> None:
        self.kill_all()
        for d in self.dirs:
            for _ in range(100):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # still busy: processes are being reaped
                    time.sleep(0.01)


def create_job_cgroup(max_processes: int, memory_mb: int | None) -> JobCgroup | None:
    """Create the cgroups for one job, or return None where cgroups are not writable."""
    pids_parent, mem_parent = _parents()
    if pids_parent is None:
        return None
    name = f"{os.getpid()}-{next(_counter)}"
    dirs: list[Path] = []
    try:
        d = pids_parent / name
        d.mkdir()
        dirs.append(d)
        (d / "pids.max").write_text(str(max_processes))
        if mem_parent is not None and memory_mb is not None:
            m = mem_parent / name
            m.mkdir()
            dirs.append(m)
            (m / "memory.limit_in_bytes").write_text(str(memory_mb * 1024 * 1024))
            with contextlib.suppress(OSError):  # no swap accounting on some kernels
                (m / "memory.memsw.limit_in_bytes").write_text(str(memory_mb * 1024 * 1024))
        cpu_parent = _cpuacct_parent()
        if cpu_parent is not None:  # measures only: tells a kill at the CPU limit from other kills
            c = cpu_parent / name
            c.mkdir()
            dirs.append(c)
        cpu_root = _cpu_parent()
        if cpu_root is not None:  # the pool lowers a long-running job's weight here (``JobControl``)
            w = cpu_root / f"visplotbench-{name}"
            w.mkdir()
            dirs.append(w)
    except OSError:
        JobCgroup(dirs).remove()
        return None
    return JobCgroup(dirs)
