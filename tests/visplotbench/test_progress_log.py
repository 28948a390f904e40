"""Progress output: plain lines when stderr is not a terminal (one per language per round, plus one
every N tasks), tqdm bars on a terminal. A real ``visplotbench run`` through the CLI, real renders,
against the local OpenAI-compatible stub."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios

from stub_openai import StubOpenAI
from visplotbench.tasks import load_tasks

LANGS = ["svg", "vegalite"]
BROKEN = {
    "svg": "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'><rect></svg>",
    "vegalite": '{"mark": "bar",, "encoding": {}}',
}


def fail_once_script(tasks):
    """Round 0: broken code; round 1: the task's reference solution."""
    by_description = {t.task__plot_description: t for t in tasks}

    def script(body, call):
        first_user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        task = next(t for d, t in by_description.items() if d in first_user)
        fixed = sum(m["role"] == "assistant" for m in body["messages"]) >= 1
        return f"```{task.language}\n{task.code if fixed else BROKEN[task.language]}\n```\n"

    return script


def cli(out, base_url, *extra):
    return [
        sys.executable, "-m", "visplotbench.cli", "run", "--model", "openai:stub-model", "--out", str(out),
        "--languages", *LANGS, "--limit", "3", "--self-debug", "2", "--no-cache",
        "--backend-option", f"base_url={base_url}", "--backend-option", "retries=0", *extra,
    ]  # fmt: skip


def test_piped_output_gets_one_line_per_language_per_round(tmp_path):
    tasks = load_tasks("bundled", LANGS, limit=3)
    with StubOpenAI(fail_once_script(tasks)) as stub:
        env = {**os.environ, "VISPLOTBENCH_PROGRESS_EVERY": "2"}
        proc = subprocess.run(
            cli(tmp_path / "run", stub.base_url), capture_output=True, text=True, timeout=600, env=env
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stderr
    assert "\r" not in log and "\x1b[" not in log  # no redrawn bars, no cursor movement
    lines = [line for line in log.splitlines() if line.startswith("[visplotbench]")]
    done = [line for line in lines if line.endswith("done")]
    # rounds 0 and 1 ran (everything passed in round 1, so round 2 had nothing to do)
    for lang in LANGS:
        assert sum(f" {lang} " in line and "first try" in line for line in done) == 1, lines
        assert sum(f" {lang} " in line and "self-debug 1/2" in line for line in done) == 1, lines
    assert not any("self-debug 2/2" in line for line in lines)
    assert any(re.search(r"svg +first try +3/3 tasks, 0 passed \(0\.0%\)", line) for line in done), lines
    assert any(re.search(r"svg +self-debug 1/2 +3/3 tasks, 3 passed \(100\.0%\)", line) for line in done)
    # the every-N line: 2 of 3 tasks of a language, with an ETA
    assert any(re.search(r" 2/3 tasks, .* ETA \d+ s$", line) for line in lines), lines
    assert len(lines) == 8  # 2 languages x 2 rounds x (one at 2/3, one at the end)


def test_a_terminal_gets_progress_bars(tmp_path):
    tasks = load_tasks("bundled", LANGS, limit=3)
    with StubOpenAI(fail_once_script(tasks)) as stub:
        leader, follower = pty.openpty()
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # a real size
        try:
            proc = subprocess.Popen(
                cli(tmp_path / "run", stub.base_url), stdout=subprocess.DEVNULL, stderr=follower
            )
            os.close(follower)
            chunks = []
            while True:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # the terminal's other side closed: the run ended
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            assert proc.wait(timeout=600) == 0
        finally:
            os.close(leader)
    screen = b"".join(chunks).decode(errors="replace")
    assert "\r" in screen and "first try" in screen and "task" in screen, screen[-2000:]
    assert "[visplotbench]" not in screen
