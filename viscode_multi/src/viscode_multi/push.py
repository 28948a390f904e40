"""Publish a built dataset folder to the Hugging Face Hub with ``huggingface_hub``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PushPlan:
    """What ``push`` will upload: the folder, the repo, its URL and the files (relative paths)."""

    folder: Path
    repo_id: str
    private: bool
    files: list[str]

    @property
    def url(self) -> str:
        return f"https://huggingface.co/datasets/{self.repo_id}"


def prepare_push(folder: Path, repo_id: str, private: bool = False) -> PushPlan:
    """Check that ``folder`` is a built dataset (card with configs + parquet shards) and list its files."""
    card = folder / "README.md"
    if not card.is_file() or "configs:" not in card.read_text():
        raise ValueError(
            f"{folder} is not a built dataset folder (no README.md with configs:); run `viscode-multi build`."
        )
    if "/" not in repo_id:
        raise ValueError(f"--repo-id {repo_id!r}: use owner/name.")
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    if not any(f.endswith(".parquet") for f in files):
        raise ValueError(f"{folder} has no parquet shards.")
    return PushPlan(folder, repo_id, private, files)


def push(plan: PushPlan) -> str:
    """Create the dataset repo (if needed) and upload the folder in one commit; returns the commit URL."""
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(plan.repo_id, repo_type="dataset", private=plan.private, exist_ok=True)
    info = api.upload_folder(
        folder_path=str(plan.folder),
        repo_id=plan.repo_id,
        repo_type="dataset",
        commit_message="Upload VisCode-Multi built by viscode-multi",
    )
    return str(getattr(info, "commit_url", info))
