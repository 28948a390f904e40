"""What the pool may do to a job while it runs: turn it into a *long runner*.

A job that runs past a short budget is most often a program that will run into its time limit (an
endless loop, a pathologically slow input). Such a job keeps its limits and its verdict, but it
stops holding up fresh jobs: the renderer lets a new job of the same language start beside it (a
warm worker pool or a tab pool admits one more), and once it has used more CPU time than valid
programs need, its processes get the lowest CPU weight (their cpu cgroup's ``cpu.shares``). The
renderer code that starts the job's processes registers them here; the pool decides when.

The control of the job that runs in the current thread is found with ``current()`` (the pool sets
it around each job; a job run outside a pool has none, and nothing changes for it).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from visplotbench.engine._cgroup import JobCgroup

_local = threading.local()


class JobControl:
    """One job's handle for the pool: the cgroups its processes run in, and what freeing its slot does.

    Two separate steps, both at most once: ``release()`` (the job gives its slot back: the
    renderer's callbacks let the next job of the language start beside it) and ``demote()`` (its
    processes get the lowest CPU weight). The pool releases a job that has run long in wall time,
    and demotes one that has *used* a lot of CPU time: a job that is merely slow because the
    machine is busy uses little CPU and keeps its full weight, so a valid program is not starved.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cgroups: dict[int, tuple[JobCgroup, float]] = {}  # id -> (cgroup, CPU s at attach)
        self._used = 0.0  # CPU seconds of cgroups and processes already detached
        self._pids: dict[int, float] = {}  # a browser page's renderer process -> its CPU s at attach
        self._in_cgroup = False
        self._measured = False
        self._callbacks: list[Callable[[], None]] = []
        self._on_end: Callable[[], None] | None = None  # the pool's, for ``program_ended``
        self._run_offset = 0.0  # CPU seconds of the runs before the current one (see ``new_run``)
        self.released = False
        self.demoted = False
        self.started: float | None = None  # when the job began to run (not to wait for a worker)

    def begin(self) -> None:
        """The job's program starts running now (its process started, or its page is loading).

        Time spent before (waiting for a warm worker or a browser page to start) is not the
        program's: the pool counts a job's wall time from here.
        """
        with self._lock:
            if self.started is None:
                self.started = time.monotonic()

    def attach(self, cgroup: JobCgroup | None) -> None:
        """The job now runs (also) in ``cgroup``; lowered at once if the job is demoted already."""
        self.begin()
        if cgroup is None:
            return
        baseline = cgroup.cpu_seconds()  # a warm worker's group has used CPU before this job
        with self._lock:
            self._cgroups[id(cgroup)] = (cgroup, baseline)
            self._in_cgroup = True
            demoted = self.demoted
        if demoted:
            cgroup.set_low_priority(True)

    def detach(self, cgroup: JobCgroup | None) -> None:
        """The job left ``cgroup`` (a warm worker that serves the next job): its weight is restored."""
        if cgroup is None:
            return
        with self._lock:
            found = self._cgroups.pop(id(cgroup), None)
            demoted = self.demoted
        if found is None:
            return
        used = cgroup.cpu_seconds() - found[1]
        with self._lock:
            self._used += max(0.0, used)
        if demoted:
            cgroup.set_low_priority(False)

    def attach_process(self, pid: int) -> None:
        """The job runs in process ``pid`` too, which serves other jobs before and after it (a
        browser page's renderer): its CPU use counts from now, and a demotion renices it."""
        self.begin()
        baseline = process_cpu_seconds(pid)
        if baseline is None:
            return
        with self._lock:
            self._pids[pid] = baseline
            self._measured = True
            demoted = self.demoted
        if demoted:
            _renice(pid, LOW_NICE)

    def detach_process(self, pid: int) -> None:
        """The job left process ``pid``: its CPU use is kept, its priority restored."""
        with self._lock:
            baseline = self._pids.pop(pid, None)
            demoted = self.demoted
        if baseline is None:
            return
        now = process_cpu_seconds(pid)
        with self._lock:
            self._used += max(0.0, (now or baseline) - baseline)
        if demoted:
            _renice(pid, 0)

    def cpu_seconds(self) -> float:
        """CPU seconds the job's processes have used so far (0.0 where there is no cpuacct group)."""
        with self._lock:
            attached, pids, used = list(self._cgroups.values()), dict(self._pids), self._used
        used += sum(max(0.0, cgroup.cpu_seconds() - baseline) for cgroup, baseline in attached)
        return used + sum(max(0.0, (process_cpu_seconds(pid) or base) - base) for pid, base in pids.items())

    def run_cpu_seconds(self) -> float:
        """CPU seconds of the current run of the program: what the pool weighs against its budgets."""
        return self.cpu_seconds() - self._run_offset

    def new_run(self) -> None:
        """The renderer runs the program once more, a try of its own making (e.g. LilyPond's full run
        after a crop-only one): the budgets apply to each run, so CPU counts afresh for them and a
        demotion is undone. ``cpu_seconds`` still counts every run."""
        offset = self.cpu_seconds()
        with self._lock:
            self._run_offset = offset
            demoted, self.demoted = self.demoted, False
            cgroups = [cgroup for cgroup, _ in self._cgroups.values()]
            pids = list(self._pids)
        if demoted:
            for cgroup in cgroups:
                cgroup.set_low_priority(False)
            for pid in pids:
                _renice(pid, 0)

    @property
    def in_cgroup(self) -> bool:
        """True once the job runs in a cgroup of its own (a browser page does not: it shares the
        browser's, and the pool releases it on its wall time)."""
        with self._lock:
            return self._in_cgroup

    @property
    def measured(self) -> bool:
        """True when ``cpu_seconds`` is the job's (a cgroup or a page's renderer process was attached)."""
        with self._lock:
            return self._in_cgroup or self._measured

    def on_release(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (from the pool's thread) when the job gives its slot back."""
        with self._lock:
            if not self.released:
                self._callbacks.append(callback)
                return
        callback()

    def on_program_end(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (once) when the renderer says the job's program has ended."""
        self._on_end = callback

    def program_ended(self) -> None:
        """The renderer's word: the job's program ended and its process serves the next job; what
        is left is the host's work on the result. The pool gives the job's place to the next one."""
        with self._lock:
            callback, self._on_end = self._on_end, None
        if callback is not None:
            callback()

    def release(self) -> None:
        """Run the renderer's callbacks: the next job of the language may start (once)."""
        with self._lock:
            if self.released:
                return
            self.released = True
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def demote(self) -> None:
        """Give the job's processes the lowest CPU weight (once)."""
        with self._lock:
            if self.demoted:
                return
            self.demoted = True
            cgroups = [cgroup for cgroup, _ in self._cgroups.values()]
            pids = list(self._pids)
        for cgroup in cgroups:
            cgroup.set_low_priority(True)
        for pid in pids:
            _renice(pid, LOW_NICE)


# The nice value of a demoted page's renderer. Inside the browser's own cpu cgroup (no autogroup
# there) nice 19 weighs 15 against a normal page's 1024.
LOW_NICE = 19
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system, all threads) process ``pid`` has used; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime (fields 14 and 15 of stat)


def _renice(pid: int, nice: int) -> None:
    """Set the nice value of ``pid``'s main thread (where a renderer runs the page's scripts)."""
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, pid, nice)


def current() -> JobControl | None:
    """The control of the job the calling thread runs (None outside a ``RenderPool``)."""
    return getattr(_local, "control", None)


def set_current(control: JobControl | None) -> None:
    _local.control = control
