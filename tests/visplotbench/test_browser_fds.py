"""The browser starts and renders whatever this process's descriptors 0-4 are (closed, open, pipes).

Chromium's debugging pipe must be its fds 3 and 4; the launch once broke when a pipe end it was
handed already had one of those numbers (a process with some of 0-4 closed, or output piped),
and every Mermaid and HTML job of the run became ``env_failure``. Real Chromium, real renders.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = Path(__file__).with_name("fd_layout_child.py")


def layouts() -> list[str]:
    """Every set of closed descriptors among 0-4 (what decides the numbers ``os.pipe`` returns),
    the others alternately open and pipes; so each descriptor is seen in each of the three states
    and the layouts that broke the launch (3 and 4 free, 3 free and 4 taken, ...) are all there."""
    found = []
    for index, closed in enumerate(itertools.product((False, True), repeat=5)):
        found.append("".join("c" if shut else "op"[(index + fd) % 2] for fd, shut in enumerate(closed)))
    return [*found, "ooooo", "ppppp"]


def test_layouts_cover_every_state_of_every_descriptor():
    for fd in range(5):
        assert {layout[fd] for layout in layouts()} == {"c", "o", "p"}


@pytest.mark.slow
@pytest.mark.timeout(1500)  # 34 browser starts: ~2.5 min idle, far more on a loaded machine
def test_browser_renders_under_every_descriptor_layout(need, tmp_path):
    need("mermaid")
    need("html")
    result_file = tmp_path / "results.jsonl"
    result_file.touch()
    wanted = layouts()
    proc = subprocess.run(
        [sys.executable, str(CHILD), str(result_file), *wanted],
        capture_output=True, text=True, timeout=1400,
    )  # fmt: skip
    rows = [json.loads(line) for line in result_file.read_text().splitlines()]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert rows[0] == {"layout": "warm", "mermaid": "ok", "error": ""}, rows[0]
    seen = {row["layout"]: row for row in rows[1:]}
    assert sorted(seen) == sorted(wanted)
    failed = {layout: row for layout, row in seen.items() if row["mermaid"] != "ok" or row["html"] != "ok"}
    assert not failed, json.dumps(failed, indent=1)[:4000]


ASY_CHILD = """
import os, sys
out = os.fdopen(os.dup2(os.open(sys.argv[1], os.O_WRONLY), 200), "w")
for fd in (0, 1, 2):
    os.close(fd)
from visplotbench.engine import RenderJob, RenderPool
with RenderPool() as pool:
    result = pool.render(RenderJob("asymptote", open(sys.argv[2]).read()))
out.write(result.status.value + "\\n" + result.error[:500])
out.close()
os.open(os.devnull, os.O_RDWR), os.open(os.devnull, os.O_RDWR), os.open(os.devnull, os.O_RDWR)
"""


@pytest.mark.slow
def test_xvfb_starts_with_stdio_closed(need, tmp_path):
    """Asymptote's 3-D rendering through the engine's Xvfb, from a process whose 0-2 are closed
    (the pipe Xvfb reports its display on must not land on a stdio number)."""
    need("asymptote")
    result = tmp_path / "result.txt"
    result.touch()
    three_d = Path(__file__).parent / "fixtures" / "asymptote" / "three_d.asy"
    proc = subprocess.run([sys.executable, "-c", ASY_CHILD, str(result), str(three_d)], timeout=600)
    assert proc.returncode == 0
    status, _, error = result.read_text().partition("\n")
    assert status == "ok", error
