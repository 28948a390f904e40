"""The metric Space (spaces/visplotbench): the staged folder is a complete `evaluate` Space that loads
like the Hub copy, publishing stops with a clear error when the Hub is unreachable, and the widget
scores an example in a real headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SPACE = REPO_ROOT / "spaces" / "visplotbench"
PUBLISH = REPO_ROOT / "scripts" / "publish_metric_space.py"


def offline_env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "HF_TOKEN": "hf_fake"}
    for name in ("HF_MODULES_CACHE", "HF_EVALUATE_CACHE", "VISPLOTBENCH_ALLOW_CODE_EXECUTION"):
        env.pop(name, None)
    env.update(GRADIO_ANALYTICS_ENABLED="False", HF_HUB_DISABLE_TELEMETRY="1")
    return env


def test_the_staged_space_is_complete_and_loads_like_the_hub_copy(tmp_path):
    import visplotbench

    staged = tmp_path / "visplotbench"
    done = subprocess.run(
        [sys.executable, str(PUBLISH), "--namespace", "me", "--stage-only", str(staged)],
        capture_output=True,
        text=True,
        env=offline_env(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    names = {p.name for p in staged.iterdir()}
    assert names == {"README.md", "app.py", "visplotbench.py", "requirements.txt", "packages.txt"}
    assert not any(p.is_symlink() for p in staged.iterdir())  # links resolved: real files on the Hub
    assert (staged / "visplotbench.py").read_bytes() == Path(visplotbench.metric_path()).read_bytes()
    card = (staged / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\n") and "sdk: gradio" in card and "app_file: app.py" in card
    requirements = (staged / "requirements.txt").read_text().splitlines()
    assert f"visplotbench[python-libs,openai,evaluate]=={visplotbench.__version__}" in requirements
    assert any(line.startswith("gradio") for line in requirements)
    assert {"chromium", "lilypond", "asymptote", "bubblewrap", "npm"} <= set(
        (staged / "packages.txt").read_text().split()
    )
    # evaluate.load("<ns>/visplotbench") downloads these files and loads visplotbench.py from them:
    # loading the staged folder by path is the same code path from there on.
    script = textwrap.dedent(
        """
        import json, sys, evaluate
        metric = evaluate.load(sys.argv[1])
        svg = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="20" height="30"/></svg>'
        print(json.dumps(metric.compute(predictions=[svg], references=["svg_1"], allow_code_execution=True, cache_dir="")))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(staged)],
        capture_output=True,
        text=True,
        env=offline_env(tmp_path),
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["pass_rate"] == 1.0


def test_publishing_with_the_hub_unreachable_fails_clearly(tmp_path):
    done = subprocess.run(
        [sys.executable, str(PUBLISH), "--namespace", "me"],
        capture_output=True,
        text=True,
        env=offline_env(tmp_path),
        timeout=120,
    )
    assert done.returncode == 1
    assert "could not publish to me/visplotbench" in done.stderr
    # the upload was attempted: huggingface_hub's create-repo request is what offline mode refused
    assert "OfflineModeIsEnabled" in done.stderr and "api/repos/create" in done.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def space_server(tmp_path):
    """``python spaces/visplotbench/app.py`` from a directory outside the repository, offline."""
    pytest.importorskip("gradio")
    port = _free_port()
    env = offline_env(tmp_path)
    env.update(GRADIO_SERVER_PORT=str(port), GRADIO_SERVER_NAME="127.0.0.1")
    log = (tmp_path / "app.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, str(SPACE / "app.py")], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"the Space exited: {(tmp_path / 'app.log').read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"the Space did not start: {(tmp_path / 'app.log').read_text()[-3000:]}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_the_widget_scores_an_example_in_headless_chromium(space_server):
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(chromium):
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI")
        pytest.skip("chromium is not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto(space_server, wait_until="domcontentloaded")
        page.get_by_role("button", name="Submit").click()
        output = page.get_by_label("visplotbench")
        page.wait_for_function("() => document.body.innerText.includes('status_ok')", timeout=180_000)
        text = output.inner_text() if output.count() else page.inner_text("body")
        assert "pass_rate" in text and "status_ok" in text
        assert "ssim" in text
        # a broken reply in the same page: the JSON shows the error status
        page.get_by_label("Model reply (or bare program)").fill("```svg\n<svg><rect\n```")
        page.get_by_role("button", name="Submit").click()
        page.wait_for_function("() => document.body.innerText.includes('status_error')", timeout=120_000)
        browser.close()
