"""Publish the VisCoder2 Space to the Hugging Face Hub (a Docker Space).

    python spaces/viscoder2/publish.py --repo-id <user>/viscoder2             # HF_TOKEN or `hf auth login`
    python spaces/viscoder2/publish.py --repo-id <user>/viscoder2 --stage-only /tmp/space   # look first
    make publish-space SPACE_REPO=<user>/viscoder2

A Docker Space builds from its repository's root, so the upload is a staged folder laid out like this
repository: the Space's README.md (front matter), Dockerfile and .dockerignore at the top, plus what the Dockerfile
installs from: scripts/install.sh, the root pyproject.toml, the three distributions' sources and
spaces/viscoder2/. The README's screenshot links are rewritten for that layout. ``requirements.txt``
must pin the versions the sources carry (checked before anything is staged).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

SPACE = Path(__file__).resolve().parent
ROOT = SPACE.parents[1]
DISTRIBUTIONS = {
    "visplotbench": ROOT / "visplotbench" / "src" / "visplotbench" / "_version.py",
    "viscode-multi": ROOT / "viscode_multi" / "src" / "viscode_multi" / "__init__.py",
    "viscoder2-train": ROOT / "viscoder2_train" / "src" / "viscoder2_train" / "__init__.py",
}
# Folders of the repository the image is built from; nothing else goes up (no runs, venvs, caches).
_TREES = ("scripts", "visplotbench", "viscode_multi", "viscoder2_train", "spaces/viscoder2")
_SKIP = shutil.ignore_patterns(
    "__pycache__",
    "*.pyc",
    ".venv",
    "*.egg-info",
    "node_modules",
    ".pytest_cache",
    ".mypy_cache",
    "runs",
    "build",
)
SCREENSHOTS = ("space-selfdebug.png", "space-playground.png")


def source_versions() -> dict[str, str]:
    """Distribution -> the version its source declares (``__version__ = "..."``)."""
    found = {}
    for name, path in DISTRIBUTIONS.items():
        match = re.search(r'^__version__ = "([^"]+)"', path.read_text(encoding="utf-8"), re.M)
        if not match:
            raise ValueError(f"{path} declares no __version__.")
        found[name] = match.group(1)
    return found


def pinned_versions(requirements: Path = SPACE / "requirements.txt") -> dict[str, str]:
    """Name -> version of every ``name==version`` line of the Space's requirements."""
    pins = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#]+)", line)
        if match:
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def check_pins() -> None:
    """Raise ValueError unless requirements.txt pins each distribution at its source version."""
    pins = pinned_versions()
    wrong = [
        f"{name}: requirements.txt has {pins.get(name, 'no pin')}, the source says {version}"
        for name, version in source_versions().items()
        if pins.get(name) != version
    ]
    if wrong:
        raise ValueError(
            "spaces/viscoder2/requirements.txt does not pin the distributions being uploaded ("
            + "; ".join(wrong)
            + "). Fix the pins, then publish again."
        )


def stage(out: Path) -> Path:
    """Lay the Space repository out in ``out`` (emptied first) and return it."""
    check_pins()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for tree in _TREES:
        shutil.copytree(ROOT / tree, out / tree, ignore=_SKIP)
    shutil.copy2(ROOT / "pyproject.toml", out / "pyproject.toml")
    shutil.copy2(SPACE / "Dockerfile", out / "Dockerfile")
    shutil.copy2(SPACE / "Dockerfile.dockerignore", out / ".dockerignore")
    readme = (SPACE / "README.md").read_text(encoding="utf-8")
    (out / "README.md").write_text(readme.replace("](../../docs/", "](docs/"), encoding="utf-8")
    (out / "docs").mkdir()
    for name in SCREENSHOTS:
        if (ROOT / "docs" / name).is_file():
            shutil.copy2(ROOT / "docs" / name, out / "docs" / name)
    return out


def publish(repo_id: str, folder: Path, *, private: bool = False, token: str | None = None) -> str:
    """Create the Docker Space ``repo_id`` if needed and upload ``folder``; return the commit URL."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="space", space_sdk="docker", private=private, exist_ok=True)
    commit = api.upload_folder(
        folder_path=str(folder),
        repo_id=repo_id,
        repo_type="space",
        commit_message="Publish the VisCoder2 Space",
    )
    return str(getattr(commit, "commit_url", commit))


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repo-id", help="the Space, <user or org>/<name>")
    parser.add_argument("--private", action="store_true", help="create the Space private")
    parser.add_argument("--stage-only", metavar="DIR", help="only lay the repository out in DIR")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    if args.stage_only:
        print(f"staged in {stage(Path(args.stage_only))}")
        return 0
    if not args.repo_id:
        print("error: --repo-id <user>/<name> is required (or --stage-only DIR)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="viscoder2-space-") as tmp:
        folder = stage(Path(tmp) / "space")
        print(f"uploading {folder} to spaces/{args.repo_id} ...")
        print(publish(args.repo_id, folder, private=args.private))
    return 0


if __name__ == "__main__":
    sys.exit(main())
