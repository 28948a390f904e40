"""The Space's logic without a browser: the same loop as `visplotbench run`, keys and secrets kept
from visitors and from the render processes, the sandbox check, replay of a real run folder."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from space_helpers import ROOT, SECRET, SPACE, fail_then_fix
from viscoder2_space import ModelChoice, Resources, SpaceConfig, render_program, replay, run_self_debug
from viscoder2_space._models import ENDPOINT
from visplotbench.harness import Runner
from visplotbench.runfolder import RunFolder
from visplotbench.tasks import load_bundled

from visplotbench import RunConfig


def _last(views):
    """The final view of a run (each yield is the run so far)."""
    return list(views)[-1]


def test_space_rounds_are_the_benchmark_rounds(resources, stub_for, tmp_path):
    """The Space's rounds for a task equal the records `visplotbench run` writes for it (same stub)."""
    task = load_bundled("vegalite")[0]
    stub = stub_for(fail_then_fix("vegalite"))
    view = _last(run_self_debug(resources, task, ModelChoice(ENDPOINT, stub.base_url, "stub-model"), 2))
    assert [r.status for r in view.rounds] == ["error", "ok"]
    assert view.rounds[0].error.strip() and not view.rounds[1].error
    assert view.rounds[1].images and view.rounds[1].images[0][:8] == b"\x89PNG\r\n\x1a\n"
    assert "Passed** at round 1" in view.summary
    assert set(view.metrics) == {"ssim", "edge_f1"} and 0 <= view.metrics["ssim"] <= 1

    config = RunConfig(
        model="openai:stub-model",
        out=str(tmp_path / "run"),
        languages=["vegalite"],
        limit=1,
        self_debug=2,
        backend_options={"base_url": stub.base_url},
        cache_dir="",
        progress=False,
    )
    Runner(config).run()
    recorded = sorted(RunFolder(tmp_path / "run").attempts, key=lambda a: a.round)
    assert [a.task_id for a in recorded] == [task.id, task.id]
    for ours, theirs in zip(view.records, recorded, strict=True):
        for name in ("round", "messages", "reply", "code", "status", "error", "failure_kind", "passed"):
            assert getattr(ours, name) == getattr(theirs, name), name


def test_operator_key_goes_only_to_the_operator_endpoint(stub_for, monkeypatch, caplog):
    """The key reaches the configured endpoint; a visitor-typed endpoint gets none; nothing echoes it,
    and no log line carries it (every logger at DEBUG: openai, httpx, ours)."""
    import logging

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("VISCODER2_TEST_KEY", SECRET)
    own, other = stub_for(fail_then_fix("svg")), stub_for(fail_then_fix("svg"))
    config = SpaceConfig(base_url=own.base_url, model="stub-model", api_key_env="VISCODER2_TEST_KEY")
    res = Resources(config)
    try:
        task = load_bundled("svg")[0]
        mine = _last(run_self_debug(res, task, ModelChoice(ENDPOINT, "", ""), 1))
        theirs = _last(run_self_debug(res, task, ModelChoice(ENDPOINT, other.base_url, "stub-model"), 1))
    finally:
        res.close()
    assert own.headers and all(h["authorization"] == f"Bearer {SECRET}" for h in own.headers)
    assert other.headers and not any(SECRET in json.dumps(h) for h in other.headers)
    for view in (mine, theirs):
        assert "Passed** at round 1" in view.summary
        shown = json.dumps([r.to_json() for r in view.records]) + view.summary + view.message
        assert SECRET not in shown
    assert caplog.records and SECRET not in caplog.text


def test_render_processes_never_see_the_apps_secrets(resources, monkeypatch):
    """A program looks for the operator's key in its environment and every readable process environment."""
    monkeypatch.setenv("VISCODER2_TEST_KEY", SECRET)
    monkeypatch.setenv("HF_TOKEN", SECRET)
    digest = hashlib.sha256(SECRET.encode()).hexdigest()
    program = f"""
import glob, hashlib, os
want = "{digest}"
def leaked(text):
    return any(hashlib.sha256(part.split("=", 1)[-1].encode()).hexdigest() == want for part in text.split("\\0"))
hits = [k for k, v in os.environ.items() if hashlib.sha256(v.encode()).hexdigest() == want]
for path in glob.glob("/proc/*/environ"):
    try:
        if leaked(open(path, "rb").read().decode("utf-8", "replace")):
            hits.append(path)
    except OSError:
        pass
raise RuntimeError("LEAKS=" + str(len(hits)) + " KEYS=" + ",".join(sorted(os.environ)))
"""
    view = render_program(resources, "python", program)
    assert view.status == "error"
    assert "LEAKS=0" in view.error, view.error
    assert "KEYS=" in view.error and "HF_TOKEN" not in view.error and "VISCODER2_TEST_KEY" not in view.error
    assert SECRET not in view.error


def test_inputs_are_bounded(resources):
    too_long = "x" * (resources.config.max_code_chars + 1)
    view = render_program(resources, "svg", too_long)
    assert view.status == "refused" and "limit" in view.message
    assert render_program(resources, "klingon", "x").status == "refused"


def test_unreachable_endpoint_is_a_clear_message(resources):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    task = load_bundled("svg")[0]
    view = _last(run_self_debug(resources, task, ModelChoice(ENDPOINT, url, "m"), 3))
    assert view.done and len(view.rounds) == 1  # no K more failing requests to a server that is down
    assert "could not be reached" in view.message and url in view.message
    assert "Traceback" not in view.message


def test_replay_shows_the_recorded_rounds(resources, stub_for, runs_dir):
    """A run folder written by `visplotbench run` is replayed round by round with its images."""
    stub = stub_for(fail_then_fix("svg"))
    folder = runs_dir / "svg-stub"
    config = RunConfig(
        model="openai:stub-model",
        out=str(folder),
        languages=["svg"],
        limit=1,
        self_debug=2,
        backend_options={"base_url": stub.base_url},
        cache_dir="",
        progress=False,
    )
    Runner(config).run()
    task_id = load_bundled("svg")[0].id
    views = [(len(v.rounds), v.done) for v in replay(resources, str(folder), task_id)]
    assert views[-1] == (2, True) and (1, False) in views
    view = _last(replay(resources, str(folder), task_id))
    assert [r.status for r in view.rounds] == ["error", "ok"] and view.rounds[1].images
    assert "Passed** at round 1" in view.summary and view.reference
    outside = _last(replay(resources, str(ROOT), task_id))
    assert "not one of this Space's run folders" in outside.message


@pytest.mark.skipif(not Path("/usr/bin/unshare").exists(), reason="needs util-linux unshare")
def test_sandbox_check_refuses_where_namespaces_are_forbidden():
    """On a host that forbids new namespaces (simulated: a user namespace with a limit of 0 and no
    capabilities), the check fails with bubblewrap's own message and the playground renders nothing."""
    code = (
        f"import sys; sys.path.insert(0, {str(SPACE)!r})\n"
        "from viscoder2_space import Resources, SpaceConfig, render_program\n"
        "res = Resources(SpaceConfig())\n"
        "print('OK' if res.sandbox.ok else 'REFUSED: ' + res.sandbox.message)\n"
        "print(render_program(res, 'svg', '<svg xmlns=\"http://www.w3.org/2000/svg\"/>').message)\n"
        "res.close()\n"
    )
    inner = f"exec setpriv --bounding-set=-all --inh-caps=-all -- {sys.executable} -c {_quote(code)}"
    script = f"echo 0 > /proc/sys/user/max_user_namespaces && {inner}"
    out = subprocess.run(
        ["unshare", "--user", "--map-root-user", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert "REFUSED: " in out.stdout, out.stdout + out.stderr
    assert "bwrap" in out.stdout or "bubblewrap" in out.stdout
    assert "Rendering is disabled" in out.stdout


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def test_stop_while_the_model_writes_renders_nothing_more(resources, stub_for, monkeypatch):
    """Stop pressed (or the page left) during round 1's model request: that reply is dropped unrendered
    and no further request is made."""
    import threading

    stop = threading.Event()
    broken = fail_then_fix("svg", always_fail=True)

    def script(body, call):
        if call == 1:
            stop.set()  # the visitor stops while round 1 is being written
        return broken(body, call)

    renders: list[str] = []
    real_render = resources.pool.render

    def counted_render(job):  # counts, then renders for real
        renders.append(job.language)
        return real_render(job)

    monkeypatch.setattr(resources.pool, "render", counted_render)
    stub = stub_for(script)
    task = load_bundled("svg")[0]
    view = _last(run_self_debug(resources, task, ModelChoice(ENDPOINT, stub.base_url, "stub-model"), 5, stop))
    assert len(stub.requests) == 2 and renders == ["svg"]
    assert [r.round for r in view.rounds] == [0] and view.done
    assert view.summary == "**Stopped** by the visitor after round 0."


def test_slow_endpoint_is_a_clear_message_and_the_next_run_works(stub_for):
    """A model slower than VISCODER2_TIMEOUT_S: the run says so (no stack trace) and the next run works."""
    slow = stub_for(fail_then_fix("svg", delay_s=4.0))
    fast = stub_for(fail_then_fix("svg"))
    res = Resources(SpaceConfig(request_timeout_s=1))
    try:
        task = load_bundled("svg")[0]
        view = _last(run_self_debug(res, task, ModelChoice(ENDPOINT, slow.base_url, "stub-model"), 3))
        assert "did not answer in time" in view.message and "Traceback" not in view.message, view.message
        assert len(view.rounds) == 1 and view.rounds[0].status == "generation_failed"
        assert "model request failed in round 0" in view.summary
        again = _last(run_self_debug(res, task, ModelChoice(ENDPOINT, fast.base_url, "stub-model"), 3))
        assert "Passed** at round 1" in again.summary and not again.message
    finally:
        res.close()
