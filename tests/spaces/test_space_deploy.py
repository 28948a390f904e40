"""Deployment: `make space` serves the page; the publish command stages a complete Docker Space and
reaches the Hub upload (offline here); requirements.txt pins the versions the sources carry."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from space_helpers import ROOT, SPACE, fetch_page_of, free_port

sys.path.insert(0, str(SPACE))
import publish

pytestmark = pytest.mark.slow


def test_make_space_serves_the_page():
    """The `space` target's own command (install skipped with -o: it ran for this venv) serves the page."""
    port = free_port()
    env = {**os.environ, "VISCODER2_PORT": str(port), "VISCODER2_RUNS": "/nonexistent"}
    proc = subprocess.Popen(
        ["make", "-s", "-o", "install", "space"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    page = fetch_page_of(proc, port)
    assert "VisCoder2" in page
    assert "self_debug" in page and "render" in page  # the API endpoints are declared
    assert "No model is configured" in page  # no model: the page says how to configure one


def test_requirements_pin_the_sources():
    pins = publish.pinned_versions()
    assert pins["visplotbench"] and pins == {**pins, **publish.source_versions()}
    import gradio
    import gradio_client

    assert pins["gradio"] == gradio.__version__ and pins["gradio-client"] == gradio_client.__version__


def test_screenshots_are_in_docs_and_both_readmes():
    """The browser test's screenshots of both tabs are kept in docs/ and shown in both READMEs."""
    top, space = (ROOT / "README.md").read_text(), (SPACE / "README.md").read_text()
    for name in publish.SCREENSHOTS:
        assert (ROOT / "docs" / name).stat().st_size > 10_000, name
        assert f"](docs/{name})" in top and f"](../../docs/{name})" in space, name


def test_stage_lays_out_a_docker_space(tmp_path):
    out = publish.stage(tmp_path / "space")
    readme = (out / "README.md").read_text()
    front = readme.split("---")[1]
    assert re.search(r"^sdk: docker$", front, re.M) and re.search(r"^app_port: 7860$", front, re.M)
    for name in publish.SCREENSHOTS:  # the README's images resolve inside the Space repository
        assert f"](docs/{name})" in readme and (out / "docs" / name).is_file()
    for path in (
        "Dockerfile",
        "scripts/install.sh",
        "pyproject.toml",
        "spaces/viscoder2/app.py",
        "spaces/viscoder2/requirements.txt",
        "visplotbench/pyproject.toml",
        "viscode_multi/pyproject.toml",
        "viscoder2_train/pyproject.toml",
    ):
        assert (out / path).is_file(), path
    assert "scripts/install.sh" in (out / "Dockerfile").read_text()
    assert not list(out.rglob(".venv")) and not list(out.rglob("__pycache__"))


def test_publish_reaches_the_hub_upload(tmp_path, monkeypatch):
    """With HF_HUB_OFFLINE=1 the real huggingface_hub call refuses to go online: the path up to it ran."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_TOKEN", "hf_test_token_not_real")
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    out = publish.stage(tmp_path / "space")
    with pytest.raises(Exception) as info:
        publish.publish("someone/viscoder2", out)
    assert "offline" in f"{type(info.value).__name__} {info.value}".lower()
