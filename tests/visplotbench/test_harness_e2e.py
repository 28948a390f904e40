"""The harness end to end: a scripted OpenAI-compatible stub that fails first and fixes in round 2,
a run killed with SIGKILL and resumed, and the gold run over the whole bundled task set."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from stub_openai import StubOpenAI
from visplotbench.runfolder import RunStore
from visplotbench.tasks import load_tasks

from visplotbench import RunConfig, run_benchmark

LANGS = ["svg", "vegalite"]
BROKEN = {
    "svg": "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'><rect></svg>",
    "vegalite": '{"mark": "bar",, "encoding": {}}',
}

pytestmark = pytest.mark.slow  # real runs through the CLI and a stub model: minutes


def fail_then_fix_script(tasks):
    """Round 0 and round 1: broken code; round 2: the task's reference solution."""
    by_description = {t.task__plot_description: t for t in tasks}

    def script(body, call):
        messages = body["messages"]
        first_user = next(m["content"] for m in messages if m["role"] == "user")
        task = next(t for d, t in by_description.items() if d in first_user)
        round_ = sum(m["role"] == "assistant" for m in messages)
        code = task.code if round_ >= 2 else BROKEN[task.language]
        return f"Here is the program.\n```{task.language}\n{code}\n```\n"

    return script


def config(tmp_path, stub, **changes):
    base = dict(
        model="openai:stub-model",
        out=str(tmp_path / "run"),
        languages=LANGS,
        limit=2,
        self_debug=3,
        backend_options={"base_url": stub.base_url, "concurrency": 4, "retries": 0},
        cache_dir="",
        progress=False,
    )
    return RunConfig(**{**base, **changes})


def test_self_debug_fixes_in_round_two(tmp_path):
    tasks = load_tasks("bundled", LANGS, limit=2)
    with StubOpenAI(fail_then_fix_script(tasks)) as stub:
        summary = run_benchmark(config(tmp_path, stub))
        requests = list(stub.requests)
    # pass rates per round: nothing until round 2, then everything
    for lang in LANGS:
        assert summary.languages[lang].passed == [0, 0, 2, 2]
    assert summary.overall_rate(0) == 0 and summary.overall_rate(2) == 1 and summary.complete
    # 4 tasks x rounds 0, 1, 2 (fixed tasks are frozen: no round 3)
    assert len(requests) == 12
    records = {(r.task_id, r.round): r for r in RunStore(tmp_path / "run").load()}
    assert len(records) == 12 and not any(k[1] == 3 for k in records)
    for task in tasks:
        r0, r1, r2 = (records[(task.id, k)] for k in range(3))
        # exactly one assistant turn and one user turn more per round, history never repeated
        assert [len(r.messages) for r in (r0, r1, r2)] == [2, 4, 6]
        assert r1.messages[:2] == r0.messages and r2.messages[:4] == r1.messages
        assert r1.messages[2] == {"role": "assistant", "content": f"```{task.language}\n{r0.code}\n```"}
        assert r0.error and r0.error in r1.messages[3]["content"]
        assert r1.error in r2.messages[4 - 1 + 2]["content"]
        assert not r0.passed and not r1.passed and r2.passed and r2.images
        # what was sent is what was recorded
        sent = [q for q in requests if q["messages"] == r2.messages]
        assert len(sent) == 1
    report = (tmp_path / "run" / "report.md").read_text()
    # the table cells: 0.0 % at the first try, 100.0 % after two self-debug rounds
    assert re.search(r"\|\s*0\.0\s*\|", report) and re.search(r"\|\s*100\.0\s*\|", report)
    html = (tmp_path / "run" / "report.html").read_text()
    assert all(t.id in html for t in tasks)
    manifest = RunStore(tmp_path / "run").read_manifest()
    assert manifest is not None
    assert manifest.prompts_version == "v1" and len(manifest.prompts_sha256) == 64
    assert manifest.backend["model"] == "stub-model"
    assert "api_key" not in (tmp_path / "run" / "config.json").read_text()


def test_failed_requests_count_as_failures(tmp_path):
    with StubOpenAI(lambda body, call: (500, {"error": {"message": "boom"}})) as stub:
        summary = run_benchmark(config(tmp_path, stub, self_debug=0))
    assert summary.total_tasks == 4 and summary.overall_rate(0) == 0
    statuses = {r.status for r in RunStore(tmp_path / "run").load()}
    assert statuses == {"generation_failed"}


def test_generation_cache_is_used_on_a_second_run(tmp_path):
    tasks = load_tasks("bundled", LANGS, limit=2)
    with StubOpenAI(fail_then_fix_script(tasks)) as stub:
        run_benchmark(config(tmp_path, stub, cache_dir=str(tmp_path / "cache")))
        first = len(stub.requests)
        again = run_benchmark(
            config(tmp_path, stub, cache_dir=str(tmp_path / "cache"), out=str(tmp_path / "run2"))
        )
        assert len(stub.requests) == first  # every reply and render came from the caches
    assert again.overall_rate(3) == 1
    assert all("generation" in r.cache and "render" in r.cache for r in RunStore(tmp_path / "run2").load())


def _run_cli(out: Path, base_url: str, *extra: str) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "visplotbench.cli",
        "run",
        "--model",
        "openai:stub-model",
        "--out",
        str(out),
        "--languages",
        *LANGS,
        "--limit",
        "4",
        "--self-debug",
        "3",
        "--no-cache",
        "--no-progress",
        "--backend-option",
        f"base_url={base_url}",
        "--backend-option",
        "concurrency=1",
        "--backend-option",
        "retries=0",
        *extra,
    ]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_sigkill_and_resume_gives_the_same_numbers(tmp_path):
    tasks = load_tasks("bundled", LANGS, limit=4)
    script = fail_then_fix_script(tasks)

    def slow(body, call):
        time.sleep(0.15)
        return script(body, call)

    with StubOpenAI(slow) as stub:
        proc = _run_cli(tmp_path / "killed", stub.base_url)
        results = tmp_path / "killed" / "results.jsonl"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if results.exists() and len(results.read_text().splitlines()) >= 10:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        killed_lines = len(results.read_text().splitlines())
        assert 10 <= killed_lines < 24, "the run was not killed mid-way"
        resumed = _run_cli(tmp_path / "killed", stub.base_url, "--resume")
        out, _ = resumed.communicate(timeout=300)
        assert resumed.returncode == 0, out.decode()[-3000:]
        straight = run_benchmark(
            RunConfig(
                model="openai:stub-model",
                out=str(tmp_path / "straight"),
                languages=LANGS,
                limit=4,
                self_debug=3,
                backend_options={"base_url": stub.base_url, "retries": 0},
                cache_dir="",
                progress=False,
            )
        )
    lines = (tmp_path / "killed" / "results.jsonl").read_text().splitlines()
    keys = [(json.loads(line)["task_id"], json.loads(line)["round"]) for line in lines]
    assert len(keys) == len(set(keys)) == 24  # 8 tasks x rounds 0-2, no duplicates, nothing lost
    resumed_summary = json.loads((tmp_path / "killed" / "summary.json").read_text())
    straight_summary = straight.to_json()
    assert resumed_summary["languages"] == straight_summary["languages"]
    assert resumed_summary["overall"] == straight_summary["overall"]


def test_gold_run_passes_every_bundled_task(tmp_path):
    """The built-in sanity run: every reference solution renders (this proves the whole environment)."""
    summary = run_benchmark(
        RunConfig(model="gold", out=str(tmp_path / "gold"), self_debug=0, cache_dir="", progress=False)
    )
    failed = [
        (r.task_id, r.status, r.error[:200]) for r in RunStore(tmp_path / "gold").load() if not r.passed
    ]
    assert not failed
    assert summary.complete and summary.total_tasks >= 128
    for lang, s in summary.languages.items():
        assert s.tasks >= 16 and s.rate(0) == 1.0, lang


def test_transformers_backend_through_the_cli(tmp_path):
    """`visplotbench run --model transformers:<path>` with a tiny random local model: every attempt recorded."""
    from tiny_model import build_tiny_model

    model = build_tiny_model(tmp_path / "tiny")
    out = tmp_path / "tiny-run"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "visplotbench.cli",
            "run",
            "--model",
            f"transformers:{model}",
            "--out",
            str(out),
            "--languages",
            "svg",
            "--limit",
            "2",
            "--self-debug",
            "1",
            "--no-cache",
            "--no-progress",
            "--backend-option",
            "max_new_tokens=16",
            "--backend-option",
            "batch_size=2",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    records = RunStore(out).load()
    assert {(r.task_id, r.round) for r in records} == {("svg_1", 0), ("svg_2", 0), ("svg_1", 1), ("svg_2", 1)}
    assert all(r.reply for r in records if r.round == 0)
    assert "overall" in proc.stdout
