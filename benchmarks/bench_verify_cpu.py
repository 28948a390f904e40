"""CPU seconds per program of viscode-multi's verification stage, per language, on a finished build's
real programs, measured with a cpuacct cgroup (a benchmark, not a test).

    python benchmarks/bench_verify_cpu.py runs/viscode-multi-work [--per-language 16] [--seed 0]

On a shared machine wall-clock rates say more about the neighbours than about the work, and the
sandboxed renders run in PID namespaces whose CPU never reaches ``getrusage`` of their parent. So this
script moves itself into a cpuacct cgroup of its own before it starts the RenderPool, and points the
engine's per-job cgroups (``VISPLOTBENCH_CGROUP_ROOT``) below it: every process the verification
starts (warm workers, sandboxed renderers, the browser) is charged to that cgroup, whoever else uses
the machine. It samples ``--per-language`` programs of each language from the build's ``extracted/``
folder, verifies them one language at a time (``VerifyStep``, one pool) and prints CPU seconds per
program per language, which with a language mix gives the CPU-hours of a build. Needs root and a
writable cgroup v1 hierarchy (cpuacct, pids, memory). Numbers depend on the machine: report them.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path

_CONTROLLERS = ("cpuacct", "pids", "memory")


def _own_cgroups(name: str) -> Path:
    """Create <controller>/<name> cgroups, move this process in, and return a root for the engine."""
    root = Path(tempfile.mkdtemp(prefix="vcm-cgroot-"))
    for controller in _CONTROLLERS:
        folder = Path("/sys/fs/cgroup") / controller / name
        folder.mkdir(exist_ok=True)
        (folder / "cgroup.procs").write_text(str(os.getpid()))
        # the engine creates <root>/<controller>/visplotbench/<job>: below our cgroup, so charged to it
        (root / controller).mkdir()
        (root / controller / "cgroup.procs").symlink_to(folder / "cgroup.procs")
        (root / controller / "visplotbench").symlink_to(folder / "visplotbench", target_is_directory=True)
        (folder / "visplotbench").mkdir(exist_ok=True)
    return root


def _remove_cgroups(name: str) -> None:
    """Move this process back to the root cgroups and remove ours (runs after the pool has closed)."""
    for controller in _CONTROLLERS:
        base = Path("/sys/fs/cgroup") / controller
        with contextlib.suppress(OSError):
            (base / "cgroup.procs").write_text(str(os.getpid()))
            (base / name / "visplotbench").rmdir()
            (base / name).rmdir()


def _usage_s(name: str) -> float:
    return int((Path("/sys/fs/cgroup/cpuacct") / name / "cpuacct.usage").read_text()) / 1e9


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("work", help="a build's work folder (its extracted/ programs are sampled)")
    p.add_argument("--per-language", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    name = f"vcm-bench-{os.getpid()}"
    os.environ["VISPLOTBENCH_CGROUP_ROOT"] = str(_own_cgroups(name))  # read when the engine is imported
    atexit.register(_remove_cgroups, name)  # registered before the pool's own atexit: runs after it

    from datatrove.data import Document
    from viscode_multi.config import VerifyConfig
    from viscode_multi.publish import read_jsonl_folder
    from viscode_multi.verify import VerifyStep, worker_pool
    from visplotbench.engine.examples import example_job

    by_language: dict[str, list[dict]] = defaultdict(list)
    for doc in read_jsonl_folder(Path(args.work) / "extracted"):
        by_language[doc["metadata"]["language"]].append(doc)
    rng = random.Random(args.seed)
    step = VerifyStep(tempfile.mkdtemp(prefix="vcm-images-"), VerifyConfig())
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    print(f"{'language':10} {'programs':>8} {'kept':>5} {'wall s':>7} {'cpu s':>7} {'cpu-s/program':>13}")
    # start every renderer (warm workers, the browser) before measuring, as a long build has them running
    list(worker_pool().map([example_job(lang) for lang in sorted(by_language)]))
    total_cpu = total_n = 0.0
    for lang in sorted(by_language):
        sample = rng.sample(by_language[lang], min(args.per_language, len(by_language[lang])))
        docs = [Document(text=d["text"], id=d["id"], metadata=d["metadata"]) for d in sample]
        cpu0, wall0 = _usage_s(name), time.monotonic()
        verdicts = step.filter_batch(docs)
        wall, cpu = time.monotonic() - wall0, _usage_s(name) - cpu0
        kept = sum(v is True for v in verdicts)
        total_cpu, total_n = total_cpu + cpu, total_n + len(docs)
        print(f"{lang:10} {len(docs):8d} {kept:5d} {wall:7.1f} {cpu:7.1f} {cpu / len(docs):13.2f}")
    print(f"{'all':10} {int(total_n):8d} {'':5} {'':7} {total_cpu:7.1f} {total_cpu / total_n:13.2f}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
