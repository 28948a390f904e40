"""Publish the visplotbench metric Space (spaces/visplotbench) to the Hub as <namespace>/visplotbench.

    python scripts/publish_metric_space.py --namespace my-org             # HF_TOKEN set, or `hf auth login`
    python scripts/publish_metric_space.py --namespace my-org --stage-only out/visplotbench   # no upload

After that, any project loads the metric with ``evaluate.load("my-org/visplotbench")``.

The Space folder holds links (``visplotbench.py`` -> the package's metric module, ``README.md`` -> the
metric card ``visplotbench/README.md``) so the repository keeps one copy of each; the folder is staged
with the links resolved, and ``requirements.txt`` pins visplotbench to the version being published, so
the Space's module and the package it imports are the same release. Then ``huggingface_hub`` creates the
Space (Gradio SDK) if needed and uploads the folder in one commit.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

SPACE = Path(__file__).resolve().parents[1] / "spaces" / "visplotbench"
FILES = ("README.md", "app.py", "visplotbench.py", "requirements.txt", "packages.txt")


def stage(out: Path, requirement: str) -> Path:
    """Copy the Space's files into ``out`` (links resolved), with ``requirement`` as the visplotbench line."""
    out.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copyfile(SPACE / name, out / name)  # follows the links: real files in the Space
    lines = (SPACE / "requirements.txt").read_text(encoding="utf-8").splitlines()
    pinned = [requirement if re.match(r"visplotbench\b", line) else line for line in lines]
    (out / "requirements.txt").write_text("\n".join(pinned) + "\n", encoding="utf-8")
    return out


def publish(folder: Path, namespace: str, token: str | None = None, private: bool = False) -> str:
    """Create ``<namespace>/visplotbench`` (a Gradio Space) if needed and upload ``folder``; its URL."""
    from huggingface_hub import HfApi

    from visplotbench import __version__

    api = HfApi(token=token)
    repo_id = f"{namespace}/visplotbench"
    api.create_repo(repo_id, repo_type="space", space_sdk="gradio", private=private, exist_ok=True)
    api.upload_folder(
        repo_id=repo_id,
        repo_type="space",
        folder_path=str(folder),
        commit_message=f"visplotbench metric {__version__}",
    )
    return f"https://huggingface.co/spaces/{repo_id}"


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--namespace", required=True, help="your Hub user or organisation")
    parser.add_argument(
        "--stage-only", metavar="DIR", help="write the Space folder to DIR and upload nothing"
    )
    parser.add_argument(
        "--requirement",
        help="the requirements.txt line that installs visplotbench "
        "(default: visplotbench[python-libs,openai,evaluate]==<this version>)",
    )
    parser.add_argument("--private", action="store_true", help="create the Space private")
    parser.add_argument("--token", help="Hub token (default: HF_TOKEN or the saved login)")
    return parser


def main(argv: list[str] | None = None) -> int:
    from visplotbench import __version__

    args = make_parser().parse_args(argv)
    requirement = args.requirement or f"visplotbench[python-libs,openai,evaluate]=={__version__}"
    if args.stage_only:
        folder = stage(Path(args.stage_only), requirement)
        print(f"staged the Space in {folder}")
        return 0
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        folder = stage(Path(tmp) / "visplotbench", requirement)
        try:
            url = publish(folder, args.namespace, args.token, args.private)
        except Exception as exc:  # offline, no token, no rights: say which, keep the exit code
            print(
                f"error: could not publish to {args.namespace}/visplotbench: {type(exc).__name__}: {exc}\n"
                "Check the network (HF_HUB_OFFLINE must be unset), your token (HF_TOKEN or `hf auth login`) "
                "and that you may write to the namespace.",
                file=sys.stderr,
            )
            return 1
    print(f"published {url}; load it with evaluate.load({args.namespace + '/visplotbench'!r})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
