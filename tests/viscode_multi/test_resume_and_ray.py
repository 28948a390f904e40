"""Resumability (kill mid-run, run again: the same output) and the Ray executor (the same kept set)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import docs

pytestmark = pytest.mark.slow
SMALL = [
    "--corpora",
    "openclipart",
    "mermaid-examples",
    "matplotlib-gallery",
    "--max-per-language",
    "5",
    "--shards",
    "6",
]


def _cli(work: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "viscode_multi.cli",
        "build",
        "--work",
        str(work),
        "--out",
        str(out),
        *SMALL,
        *extra,
    ]


def _rows(folder: Path) -> list[tuple]:
    import pyarrow.parquet as pq

    rows = []
    for path in sorted(folder.rglob("*.parquet")):
        table = pq.read_table(path).to_pylist()
        rows += [
            (r["id"], r["code"], r["image"]["bytes"], r["instruction_writer"], repr(r["messages"]))
            for r in table
        ]
    return sorted(rows)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("reference")
    subprocess.run(_cli(root / "work", root / "viscode-multi"), check=True, capture_output=True, timeout=1200)
    return root


def test_kill_mid_run_and_resume_gives_the_same_output(reference, tmp_path):
    work, out = tmp_path / "work", tmp_path / "viscode-multi"
    proc = subprocess.Popen(
        _cli(work, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    completions = work / "logs" / "verify" / "completions"
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline and proc.poll() is None:
        if completions.exists() and len(list(completions.iterdir())) >= 2:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the build finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)  # the whole build, render workers included
    proc.wait()
    finished = sorted(p.name for p in completions.iterdir())
    assert 2 <= len(finished) < 6, f"killed with {finished} of 6 verification tasks done"
    assert not out.exists()
    stats = work / "logs" / "verify" / "stats"
    before = {name: (stats / f"{name}.json").stat().st_mtime_ns for name in finished}
    subprocess.run(_cli(work, out), check=True, capture_output=True, timeout=1200)
    assert _rows(out) == _rows(reference / "viscode-multi")
    # the tasks finished before the kill were skipped, not redone
    assert {name: (stats / f"{name}.json").stat().st_mtime_ns for name in finished} == before


def test_ray_executor_keeps_the_same_set_as_the_local_one(reference, tmp_path):
    work = tmp_path / "work"
    cmd = _cli(work, tmp_path / "viscode-multi", "--executor", "ray", "--workers", "2")
    # stop after verification: the kept set is what the executors must agree on
    for stage in ("sources", "filter", "extract", "verify"):
        cmd_stage = [*cmd[:3], stage, *cmd[4:]]
        subprocess.run(cmd_stage, check=True, capture_output=True, timeout=1200)
    ray_kept = sorted(d["id"] for d in docs(work / "verified"))
    local_kept = sorted(d["id"] for d in docs(reference / "work" / "verified"))
    assert ray_kept and ray_kept == local_kept
    ray_failed = sorted((d["id"], d["metadata"]["render"]["failure_kind"]) for d in docs(work / "failed"))
    local_failed = sorted(
        (d["id"], d["metadata"]["render"]["failure_kind"]) for d in docs(reference / "work" / "failed")
    )
    assert ray_failed == local_failed
    assert (work / "logs" / "verify" / "completions").exists()
