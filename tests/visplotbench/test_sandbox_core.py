"""The sandbox itself, one property per test, with plain shell commands as the hostile program."""

import os
import time

import pytest
from visplotbench.engine import Limits
from visplotbench.engine._cgroup import cgroups_available
from visplotbench.engine._sandbox import run_sandboxed

pytestmark = pytest.mark.skipif(
    not os.path.exists("/usr/bin/bwrap") and not os.environ.get("CI"),
    reason="bubblewrap is not installed (make install)",
)


def sh(script: str, job_dir, **limits) -> "object":
    return run_sandboxed(["/bin/sh", "-c", script], job_dir, Limits(**{"wall_s": 10, **limits}))


def test_reads_outside_job_dir_fail(tmp_path, secret):
    job = tmp_path / "job"
    job.mkdir()
    result = sh(f"cat {secret}; cat /root/.bashrc; ls /work /home 2>&1; cat /etc/shadow", job)
    assert "TOP-SECRET" not in result.stdout
    assert result.returncode != 0


def test_only_job_dir_is_writable(tmp_path):
    job = tmp_path / "job"
    job.mkdir()
    target = tmp_path / "escaped.txt"
    result = sh(f"echo x > {target}; echo y > /usr/evil; echo z > /etc/evil; echo ok > inside.txt", job)
    assert not target.exists() and not os.path.exists("/usr/evil") and not os.path.exists("/etc/evil")
    assert (job / "inside.txt").read_text() == "ok\n"
    assert result.stderr.count("cannot create") == 3


def test_no_network_to_host_loopback(tmp_path, listener):
    job = tmp_path / "job"
    job.mkdir()
    result = sh(f"exec 3<>/dev/tcp/127.0.0.1/{listener.port} && echo connected", job)
    assert "connected" not in result.stdout
    assert listener.connections == 0


def test_environment_is_scrubbed(tmp_path, monkeypatch):
    monkeypatch.setenv("VPB_TEST_SECRET", "hunter2")
    job = tmp_path / "job"
    job.mkdir()
    result = sh("env", job)
    assert "hunter2" not in result.stdout
    assert "HOME=/tmp" in result.stdout


def test_timeout_kills_the_whole_group(tmp_path):
    job = tmp_path / "job"
    job.mkdir()
    result = sh("(sleep 60; touch late.txt) & sleep 60", job, wall_s=1.5)
    assert result.timed_out
    time.sleep(0.5)
    assert not (job / "late.txt").exists()


@pytest.mark.skipif(not cgroups_available(), reason="needs writable cgroup v1 pids/memory controllers")
def test_fork_bomb_is_capped(tmp_path):
    job = tmp_path / "job"
    job.mkdir()
    result = run_sandboxed(
        ["/bin/bash", "-c", "f(){ f|f& }; f; sleep 2"], job, Limits(wall_s=4, max_processes=32)
    )
    assert result.pids_exceeded


@pytest.mark.skipif(not cgroups_available(), reason="needs a writable memory cgroup")
def test_memory_cap(tmp_path):
    job = tmp_path / "job"
    job.mkdir()
    result = sh("head -c 800000000 /dev/zero | tail > /dev/null", job, memory_mb=128)
    assert result.memory_exceeded


def test_output_flood_is_stopped(tmp_path):
    job = tmp_path / "job"
    job.mkdir()
    result = sh("yes flood", job, output_bytes=10_000)
    assert result.output_flood and len(result.stdout) <= 10_000


def test_file_size_limit(tmp_path):
    job = tmp_path / "job"
    job.mkdir()
    sh("head -c 5000000 /dev/zero > big.bin", job, file_size_mb=1)
    assert (job / "big.bin").stat().st_size <= 1024 * 1024


def test_stdin_is_closed(tmp_path):
    job = tmp_path / "job"
    job.mkdir()
    result = sh("read line; echo got:$line", job)
    assert result.stdout.strip() == "got:"


def test_job_folders_go_where_visplotbench_tmpdir_says(monkeypatch, tmp_path, need):
    """Job folders and warm workers' roots live in VISPLOTBENCH_TMPDIR, and nothing is left there."""
    need("svg")
    need("latex")
    from visplotbench.engine import RenderJob, RenderPool
    from visplotbench.engine._sandbox import scratch_dir

    monkeypatch.setenv("VISPLOTBENCH_TMPDIR", str(tmp_path))
    scratch_dir.cache_clear()
    try:
        assert scratch_dir() == str(tmp_path)
        svg = '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><rect width="9" height="9"/></svg>'
        tex = "\\documentclass{standalone}\\begin{document}x\\end{document}"
        with RenderPool() as pool:
            svg_result = pool.render(RenderJob("svg", svg))
            assert [p.name.split("-")[1] for p in tmp_path.iterdir()] == ["worker"]  # the SVG worker's root
            tex_result = pool.render(RenderJob("latex", tex))
        assert svg_result.ok and tex_result.ok, (svg_result.error, tex_result.error)
        assert list(tmp_path.iterdir()) == []
    finally:
        scratch_dir.cache_clear()
