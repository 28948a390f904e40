"""The Space's Dockerfile, checked without a Docker engine (there is none where this project is built,
so the image itself has never been built here; the README says so).

What is checked instead, piece by piece: the base image is the Debian release the install script is
tested on; the build context keeps what the image needs and drops host virtualenvs; every file a RUN or
CMD names exists (in the repository and in the folder ``publish.py`` uploads); the install script it
runs is the one ``make install`` and CI run; the Debian packages it installs exist in that release; the
Space's requirements are satisfied, with no download, by what the install script installed; the assets
folder is one that both the build (root) and the app (uid 1000) use; and the CMD, with the image's
environment, serves the page.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from space_helpers import ROOT, SPACE, fetch_page_of, free_port

sys.path.insert(0, str(SPACE))
import publish

DOCKERFILE = SPACE / "Dockerfile"
APP_DIR = "/home/user/app"


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        logical.append(current.strip())
        current = ""
    return [(ins.split(None, 1)[0].upper(), ins.split(None, 1)[1]) for ins in logical]


def env_of_image() -> dict[str, str]:
    """The variables the image's ENV lines set (``KEY=VALUE`` pairs)."""
    env: dict[str, str] = {}
    for name, args in instructions():
        if name == "ENV":
            for pair in shlex.split(args):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def run_commands() -> list[str]:
    return [args for name, args in instructions() if name == "RUN"]


def ignored(relative: str, patterns: list[str]) -> bool:
    """Whether a .dockerignore with ``patterns`` leaves ``relative`` (or a folder above it) out."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        bare = pattern.removeprefix("**/")
        for prefix in prefixes:
            name = prefix.rsplit("/", 1)[-1]
            if fnmatch.fnmatch(prefix, pattern) or (
                pattern.startswith("**/") and fnmatch.fnmatch(name, bare)
            ):
                return True
    return False


def dockerignore() -> list[str]:
    lines = (SPACE / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


# The files the Dockerfile's commands name, relative to the build context.
NEEDED = [
    "scripts/install.sh",
    "spaces/viscoder2/requirements.txt",
    "spaces/viscoder2/app.py",
    "pyproject.toml",
    "visplotbench/pyproject.toml",
    "viscode_multi/pyproject.toml",
    "viscoder2_train/pyproject.toml",
]


def test_base_image_is_the_release_the_installer_is_tested_on():
    base = next(args for name, args in instructions() if name == "FROM")
    release = re.search(r'^VERSION_ID="?(\d+)', Path("/etc/os-release").read_text(), re.M)
    assert release, "this machine's /etc/os-release names no VERSION_ID"
    assert re.fullmatch(rf"debian:{release.group(1)}(-slim)?", base), base
    assert "Debian 12" in (ROOT / "scripts" / "install.sh").read_text()


def test_every_file_the_commands_name_exists_and_reaches_the_context(tmp_path):
    text = " ".join(args for _, args in instructions())
    for needed in NEEDED[:3]:
        assert needed in text, f"the Dockerfile no longer uses {needed}: update NEEDED"
    copies = [args.split() for name, args in instructions() if name == "COPY"]
    assert copies and all(c[-2:] == [".", "."] for c in copies)  # the whole context into WORKDIR
    workdir = next(args for name, args in instructions() if name == "WORKDIR")
    assert workdir == APP_DIR
    patterns = dockerignore()
    staged = publish.stage(tmp_path / "space")
    for needed in NEEDED:
        assert (ROOT / needed).is_file(), needed
        assert not ignored(needed, patterns), f"Dockerfile.dockerignore leaves out {needed}"
        assert (staged / needed).is_file(), f"publish.py does not upload {needed}"
    for host_only in (".venv/bin/python", "visplotbench/.venv/x", "runs/a/results.jsonl", ".git/HEAD"):
        assert ignored(host_only, patterns), host_only
    assert (staged / ".dockerignore").read_text() == (SPACE / "Dockerfile.dockerignore").read_text()
    cmd = next(args for name, args in instructions() if name == "CMD")
    assert shlex.split(cmd.replace('"', "").strip("[]").replace(",", " ")) == [
        ".venv/bin/python",
        "spaces/viscoder2/app.py",
    ]


def test_the_install_script_is_the_one_make_install_and_ci_run():
    runs = " && ".join(run_commands())
    assert "bash scripts/install.sh" in runs
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: install$", makefile, re.M)
    assert re.search(r"^install:\n\tbash scripts/install\.sh$", makefile, re.M)
    script = (ROOT / "scripts" / "install.sh").read_text()
    assert "-m venv .venv" in script  # the .venv/bin/pip and .venv/bin/python the Dockerfile uses next
    assert re.search(r"\.venv/bin/pip install [^&]*-r spaces/viscoder2/requirements\.txt", runs)
    # The script calls sudo only when not root; the image builds as root and has no sudo.
    assert '[ "$(id -u)" = 0 ] || SUDO="sudo"' in script
    users = [args for name, args in instructions() if name == "USER"]
    assert users == ["user"]  # the app runs as the uid Spaces use, after the root-only installs


def test_debian_packages_exist_in_the_release():
    if not list(Path("/var/lib/apt/lists").glob("*_Packages*")):
        pytest.skip("no apt package lists on this machine (apt-get update first)")
    script = (ROOT / "scripts" / "install.sh").read_text()
    block = re.search(r"APT_PACKAGES=\(\n(.*?)\n\)", script, re.S)
    assert block
    packages = [*block.group(1).split(), "nodejs", "npm"]  # a fresh image has no node: both are added
    first = run_commands()[0]
    packages += re.search(r"--no-install-recommends ([a-z0-9 .+-]+?) &&", first).group(1).split()
    out = subprocess.run(["apt-cache", "policy", *packages], capture_output=True, text=True, check=True)
    found = dict(re.findall(r"^(\S+):\n\s+Installed: .*\n\s+Candidate: (.*)$", out.stdout, re.M))
    missing = [p for p in packages if found.get(p, "(none)") == "(none)"]
    assert not missing, f"apt has no candidate for {missing}"


def test_requirements_are_met_by_the_install_script_without_downloads():
    """What install.sh installed satisfies requirements.txt: the Dockerfile's pip step downloads
    nothing new for our distributions (they are not on PyPI) and keeps the tested gradio."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--no-index",
            "--disable-pip-version-check",
            "-r",
            str(SPACE / "requirements.txt"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Would install" not in out.stdout, out.stdout


def test_assets_folder_is_shared_by_the_build_and_the_app():
    env = env_of_image()
    assets = env.get("VISPLOTBENCH_ASSETS", "")
    assert assets.startswith(APP_DIR + "/"), "the assets must live inside the app folder the image chowns"
    runs = run_commands()
    install = next(i for i, r in enumerate(runs) if "install.sh" in r)
    names = [name for name, _ in instructions()]
    env_line = next(
        i for i, (name, args) in enumerate(instructions()) if name == "ENV" and "VISPLOTBENCH_ASSETS" in args
    )
    run_line = [i for i, name in enumerate(names) if name == "RUN"][install]
    assert env_line < run_line, "VISPLOTBENCH_ASSETS must be set before install.sh installs the assets"
    assert f"chown -R user:user {APP_DIR}" in runs[install]
    assert env["HOME"] == "/home/user" and env["VISCODER2_HOST"] == "0.0.0.0" and env["PORT"] == "7860"


@pytest.mark.slow
def test_the_cmd_serves_the_page_with_the_images_environment():
    """The CMD with the image's ENV (PORT moved to a free port; 127.0.0.1 rather than 0.0.0.0 on this
    shared machine; VISPLOTBENCH_ASSETS kept at this checkout's assets, which the image installs at build)."""
    port = free_port()
    image_env = env_of_image()
    env = {**os.environ, **{k: v for k, v in image_env.items() if k not in ("HOME", "VISPLOTBENCH_ASSETS")}}
    env.update(PORT=str(port), VISCODER2_HOST="127.0.0.1", VISCODER2_RUNS="/nonexistent")
    env.pop("VISCODER2_PORT", None)
    venv_python = ROOT / ".venv" / "bin" / "python"  # the CMD's interpreter (install.sh made it)
    cmd = [str(venv_python if venv_python.exists() else sys.executable), "spaces/viscoder2/app.py"]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    assert "VisCoder2" in fetch_page_of(proc, port)
