"""Run a command on untrusted input in a fresh, limited, isolated process.

What every sandboxed process gets (bubblewrap + rlimits + cgroups):

Covered
  * Filesystem: a new mount namespace that holds only read-only system directories (``/usr``, a
    curated part of ``/etc``, TeX and font caches), the read-only paths a renderer asks for (e.g. the
    Python installation), a private ``/tmp`` (tmpfs, size-capped) and the job's own directory at
    ``/job`` (the only host directory it may write). Home directories, the project checkout, other
    jobs' directories and secrets are simply not there.
  * Network: a new, empty network namespace (no interfaces but its own loopback), so no TCP/UDP
    reaches the host or the outside, including 127.0.0.1 services of the host.
  * Processes: new PID, IPC, UTS and user namespaces; all capabilities dropped; uid 65534 inside;
    a new session (no controlling terminal); ``--die-with-parent``. A pids cgroup caps the number of
    processes (fork bombs) and a memory cgroup caps the memory of all of them together.
  * Limits: RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_CORE=0; a wall-clock timeout after which
    the whole process group and cgroup are SIGKILLed; stdout/stderr capped, and a job that floods its
    output is killed.
  * Environment: cleared; only the variables the renderer sets. stdin is /dev/null.

Not covered
  * Kernel exploits: the sandbox shares the host kernel.
  * CPU contention between concurrent jobs (no CPU quota beyond RLIMIT_CPU per process; each job
    has a cpu cgroup whose weight the pool lowers when the job runs long, see ``_jobcontrol``).
  * Total disk use of the job directory (RLIMIT_FSIZE caps each file; the wall timeout caps time).
  * Where cgroup v1 is not writable, the process and memory caps fall back to RLIMIT_NPROC and
    RLIMIT_AS, which are weaker (RLIMIT_NPROC is per user and not enforced for root).
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from visplotbench.engine._capture import read_capped
from visplotbench.engine._cgroup import JobCgroup, create_job_cgroup
from visplotbench.engine._types import EnvironmentProblem, Limits

SANDBOX_JOB_DIR = "/job"

_ETC = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "fonts",
    "alternatives",
    "texmf",
    "localtime",
    "papersize",
    "libpaper.d",
    "mime.types",
    "passwd",
    "group",
    "ghostscript",
    "asymptote",
    "chromium",
    "chromium.d",
    "ssl/openssl.cnf",
    "nsswitch.conf",
    "ImageMagick-6",
    "X11",
)
_RO_SYSTEM = ("/usr", "/var/lib/texmf", "/var/cache/fontconfig", "/opt/lilypond")


@dataclass
class ProcessResult:
    """What a sandboxed process did.

    Attributes:
        returncode: exit status (negative: killed by that signal).
        stdout: standard output, decoded, capped at ``Limits.output_bytes``.
        stderr: standard error, decoded, capped.
        timed_out: the wall-clock limit was reached and the job was killed.
        output_flood: the job wrote far more than the cap and was killed.
        memory_exceeded: the memory cgroup refused memory or OOM-killed a process.
        pids_exceeded: the job hit its process cap.
        wall_s: seconds from start to exit.
        cpu_s: CPU seconds the job's processes used together (its cpuacct cgroup; 0.0 where
            there is none). It tells a kill at RLIMIT_CPU's hard limit (a tool that caught SIGXCPU)
            from other kills.
        crashed: non-empty when a warm worker itself died or hung during the job (``_worker``).
    """

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False
    output_flood: bool = False
    memory_exceeded: bool = False
    pids_exceeded: bool = False
    wall_s: float = 0.0
    cpu_s: float = 0.0
    crashed: str = ""


SCRATCH_MIN_FREE = 2 * 1024**3


@functools.cache
def scratch_dir() -> str | None:
    """The host folder job directories are made in (None: the system's temp folder).

    ``VISPLOTBENCH_TMPDIR`` if set; else ``/dev/shm`` when it is a writable tmpfs with at least
    ``SCRATCH_MIN_FREE`` free (Docker's default 64 MiB is too small for a page of pixels), so that
    job files (sources, images of several MB) never reach a disk: on a disk-backed ``/tmp`` their
    writeback cost about 13 ms of kernel CPU per Vega-Lite job. Files a job writes there are charged
    to its memory cgroup, like its other memory.
    """
    chosen = os.environ.get("VISPLOTBENCH_TMPDIR")
    if chosen:
        return chosen
    shm = "/dev/shm"
    try:
        with open("/proc/mounts") as mounts:
            tmpfs = any(line.split()[1:3] == [shm, "tmpfs"] for line in mounts)
    except OSError:
        tmpfs = False
    if not tmpfs or not os.access(shm, os.W_OK | os.X_OK):
        return None
    free = os.statvfs(shm)
    return shm if free.f_bavail * free.f_frsize >= SCRATCH_MIN_FREE else None


def bwrap_path() -> str:
    """The bubblewrap binary, or an EnvironmentProblem that says how to install it."""
    path = shutil.which("bwrap")
    if path is None:
        raise EnvironmentProblem(
            "bubblewrap (bwrap) is not installed; every render runs inside it. "
            "Fix: apt-get install bubblewrap (or run `make install`)."
        )
    return path


def python_ro_paths() -> list[str]:
    """Read-only paths a sandboxed Python interpreter of this installation needs.

    Only the interpreter's prefixes, its site directories, the directories their ``.pth`` files add
    (editable installs) and this package: never the caller's other ``sys.path`` entries (the current
    directory, a test folder), which would expose the project checkout to the job.
    """
    import site
    import sysconfig

    package_root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    paths = {sys.base_prefix, sys.prefix, package_root}
    site_dirs = {sysconfig.get_path(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    site_dirs.update(site.getsitepackages())
    paths.update(site_dirs)
    paths.update(_pth_dirs(site_dirs))
    return sorted(p for p in paths if p and os.path.isdir(p) and not p.startswith("/usr/"))


def _pth_dirs(site_dirs: Iterable[str]) -> set[str]:
    """Directories that ``.pth`` files in ``site_dirs`` put on ``sys.path`` (as ``site`` does)."""
    found: set[str] = set()
    for site_dir in site_dirs:
        with contextlib.suppress(OSError):
            for name in os.listdir(site_dir):
                if not name.endswith(".pth"):
                    continue
                with (
                    contextlib.suppress(OSError, UnicodeDecodeError),
                    open(os.path.join(site_dir, name)) as f,
                ):
                    for line in f:
                        line = line.strip()
                        if line and not line.startswith(("#", "import ", "import\t")):
                            found.add(os.path.normpath(os.path.join(site_dir, line)))
    return found


def bwrap_argv(
    command: list[str],
    job_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    extra_ro: Iterable[str] = (),
    binds: Iterable[tuple[str | Path, str]] = (),
    tmpfs_mb: int = 256,
) -> list[str]:
    """The bubblewrap command line that runs ``command`` with ``job_dir`` mounted at /job.

    ``extra_ro`` paths appear read-only at the same path (they may live under the host's /tmp: the
    sandbox's own /tmp is mounted first); ``binds`` mount a host path read-only at another path.
    """
    argv = [
        bwrap_path(),
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--uid",
        "65534",
        "--gid",
        "65534",
        "--hostname",
        "sandbox",
    ]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = Path("/") / top
        if host.is_symlink():
            argv += ["--symlink", os.readlink(host), f"/{top}"]
        elif host.is_dir():
            argv += ["--ro-bind", str(host), f"/{top}"]
    # The private /tmp first, so that read-only paths under the host's /tmp (a checkout or virtualenv
    # there) can still be mounted on top of it.
    argv += ["--proc", "/proc", "--dev", "/dev", "--size", str(tmpfs_mb * 1024 * 1024), "--tmpfs", "/tmp"]
    for path in _RO_SYSTEM:
        if os.path.exists(path):
            argv += ["--ro-bind", path, path]
    for name in _ETC:
        path = f"/etc/{name}"
        if os.path.exists(path):
            argv += ["--ro-bind", path, path]
    for path in extra_ro:
        if os.path.exists(path):
            argv += ["--ro-bind", path, path]
    for src, dst in binds:
        argv += ["--ro-bind", str(src), dst]
    argv += [
        "--bind",
        str(job_dir),
        SANDBOX_JOB_DIR,
        "--chdir",
        SANDBOX_JOB_DIR,
        "--remount-ro",
        "/",  # the sandbox's own root (where /etc etc. are mounted) is read-only too
        "--clearenv",
    ]
    base_env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TMPDIR": "/tmp",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    base_env.update(env or {})
    for key, value in base_env.items():
        argv += ["--setenv", key, value]
    return [*argv, "--", *command]


def limited_argv(
    argv: list[str], limits: Limits, cgroup: JobCgroup | None
) -> tuple[list[str], dict[str, str]]:
    """Wrap ``argv`` so that it joins the job's cgroups and gets its rlimits before it starts.

    A tiny shell writes its own pid into the cgroups and then execs prlimit, so no Python code runs
    between fork and exec (``preexec_fn`` is unsafe in a threaded program).
    """
    prlimit = [
        "prlimit",
        # soft:hard. At the soft limit the kernel sends SIGXCPU, which names the limit in the exit
        # status; with soft == hard it sends SIGKILL at once, which looks like any other kill.
        f"--cpu={limits.cpu_s}:{limits.cpu_s + 1}",
        f"--fsize={limits.file_size_mb * 1024 * 1024}",
        "--nofile=1024",
        "--core=0",
    ]
    if cgroup is None:  # weaker fallback, see the module docstring
        prlimit += [f"--as={limits.memory_mb * 1024 * 1024}", f"--nproc={limits.max_processes}"]
    script = 'for f in $VPB_CGROUP_PROCS; do echo $$ > "$f" || exit 125; done; exec "$@"'
    env = {"PATH": "/usr/bin:/bin", "VPB_CGROUP_PROCS": " ".join(cgroup.procs_files) if cgroup else ""}
    return ["/bin/sh", "-c", script, "sh", *prlimit, "--", *argv], env


_spawner: ThreadPoolExecutor | None = None
_spawner_lock = threading.Lock()


def _spawn_long_lived(**popen: Any) -> subprocess.Popen[bytes]:
    """Start a process from one thread that lives as long as the interpreter.

    bubblewrap's ``--die-with-parent`` uses PR_SET_PDEATHSIG, which fires when the *thread* that
    forked it exits; a warm worker started from a short-lived thread would die with that thread.
    """
    global _spawner
    with _spawner_lock:
        if _spawner is None:
            _spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vpb-spawner")
    return _spawner.submit(lambda: subprocess.Popen(**popen)).result()


class SandboxedProcess:
    """A sandboxed process with its cgroup; used directly for long-lived workers."""

    def __init__(
        self,
        argv: list[str],
        limits: Limits,
        *,
        memory_cgroup: bool = True,
        pipes: bool = True,
        long_lived: bool = False,
    ):
        self.cgroup = create_job_cgroup(limits.max_processes, limits.memory_mb if memory_cgroup else None)
        full, env = limited_argv(argv, limits, self.cgroup)
        pipe = subprocess.PIPE if pipes else subprocess.DEVNULL
        self.started = time.monotonic()
        popen: dict[str, Any] = {
            "args": full,
            "stdin": pipe,
            "stdout": pipe,
            "stderr": subprocess.PIPE,
            "env": env,
            "start_new_session": True,
        }
        self.proc = _spawn_long_lived(**popen) if long_lived else subprocess.Popen(**popen)

    def kill(self) -> None:
        """Kill the process group and everything left in the cgroup, then reap."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.cgroup is not None:
            self.cgroup.kill_all()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)

    def close(self) -> None:
        self.kill()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        if self.cgroup is not None:
            self.cgroup.remove()


def run_sandboxed(
    command: list[str],
    job_dir: Path,
    limits: Limits,
    *,
    env: Mapping[str, str] | None = None,
    extra_ro: Iterable[str] = (),
) -> ProcessResult:
    """Run ``command`` inside a fresh sandbox on ``job_dir`` and wait for it, within ``limits``."""
    from visplotbench.engine._jobcontrol import current

    argv = bwrap_argv(command, job_dir, env=env, extra_ro=extra_ro)
    sp = SandboxedProcess(argv, limits)
    control = current()
    if control is not None:  # the pool may lower its CPU weight if it runs long
        control.attach(sp.cgroup)
    proc = sp.proc
    assert proc.stdout is not None and proc.stderr is not None and proc.stdin is not None
    proc.stdin.close()  # no stdin: tools that prompt (TeX in errorstop mode) would hang on it
    deadline = sp.started + limits.wall_s
    try:
        captured = read_capped(proc.stdout.fileno(), proc.stderr.fileno(), deadline, limits.output_bytes)
        timed_out, flooded = captured.timed_out, captured.flooded
        if timed_out or flooded:
            sp.kill()
        else:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                timed_out = True
                sp.kill()
    finally:
        memory = sp.cgroup.memory_exceeded() if sp.cgroup else False
        pids = sp.cgroup.pids_exceeded() if sp.cgroup else False
        cpu_s = sp.cgroup.cpu_seconds() if sp.cgroup else 0.0
        if control is not None:
            control.detach(sp.cgroup)
        sp.close()
    return ProcessResult(
        returncode=proc.returncode if proc.returncode is not None else -9,
        stdout=captured.stdout.decode("utf-8", "replace"),
        stderr=captured.stderr.decode("utf-8", "replace"),
        timed_out=timed_out,
        output_flood=flooded,
        memory_exceeded=memory,
        pids_exceeded=pids,
        wall_s=time.monotonic() - sp.started,
        cpu_s=cpu_s,
    )
