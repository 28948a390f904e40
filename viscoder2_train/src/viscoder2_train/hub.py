"""Push a trained checkpoint folder to the Hugging Face Hub.

``prepare_push`` does all the checking and decides what goes up (the final weights, tokenizer, config,
model card and training summary; never the intermediate ``checkpoint-*`` folders or optimizer states);
``push`` is the thin call that creates the repository and uploads the folder.

    plan = prepare_push("runs/train/viscoder2-7b", "me/VisCoder2-7B-repro")
    push(plan)              # needs a token: `hf auth login` or HF_TOKEN
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

IGNORE_PATTERNS = (
    "checkpoint-*",
    "checkpoint-*/**",
    "runs/**",
    "merged/**",
    "*.tmp",
    ".cache/**",
    "optimizer.pt",
    "scheduler.pt",
    "rng_state*.pth",
    "global_step*/**",
)
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_WEIGHTS = (
    "model.safetensors",
    "model.safetensors.index.json",
    "adapter_model.safetensors",
    "pytorch_model.bin",
)


@dataclass
class PushPlan:
    """What ``push`` will upload.

    Attributes:
        repo_id: ``owner/name`` on the Hub.
        folder: the folder uploaded.
        files: the files that will be uploaded (relative paths, sorted).
        ignore_patterns: patterns left out of the upload.
        private: create the repository as private (when it does not exist yet).
        commit_message: the upload's commit message.
    """

    repo_id: str
    folder: Path
    files: list[str] = field(default_factory=list)
    ignore_patterns: list[str] = field(default_factory=lambda: list(IGNORE_PATTERNS))
    private: bool = False
    commit_message: str = "Upload VisCoder2 checkpoint"

    @property
    def url(self) -> str:
        return f"https://huggingface.co/{self.repo_id}"


def _ignored(rel: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(rel, p) for p in patterns)


def check_repo_id(repo_id: str | None) -> str:
    """``repo_id`` when it is ``owner/name``; else a ValueError that shows the form."""
    if not repo_id or not _REPO_ID.match(repo_id):
        raise ValueError(
            f"--push_to_hub needs a repository id of the form owner/name (--hub_model_id me/VisCoder2-7B), "
            f"not {repo_id!r}."
        )
    return repo_id


def prepare_push(folder: str | Path, repo_id: str | None, private: bool = False) -> PushPlan:
    """Check ``folder`` and ``repo_id`` and list what will be uploaded; raises with the fix when something is off."""
    repo_id = check_repo_id(repo_id)
    root = Path(folder)
    merged = root / "merged"
    if merged.is_dir() and any((merged / w).exists() for w in _WEIGHTS):
        root = merged  # a merged LoRA model is the usable artefact; the adapter stays local
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder to push.")
    patterns = list(IGNORE_PATTERNS)
    files = sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and not _ignored(str(p.relative_to(root)), patterns)
    )
    if not any(f in files for f in _WEIGHTS):
        raise FileNotFoundError(
            f"{root} holds no model weights ({', '.join(_WEIGHTS)}): train first or push the "
            "folder `trainer.save_model` wrote."
        )
    if "README.md" not in files:
        raise FileNotFoundError(
            f"{root} has no README.md model card; `viscoder2-train card {root}` writes one."
        )
    return PushPlan(repo_id=repo_id, folder=root, files=files, ignore_patterns=patterns, private=private)


def push(plan: PushPlan, api: Any = None, token: str | None = None) -> str:
    """Create the repository (if needed) and upload the folder; return its URL."""
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi(token=token)
    api.create_repo(plan.repo_id, repo_type="model", private=plan.private, exist_ok=True)
    api.upload_folder(
        folder_path=str(plan.folder),
        repo_id=plan.repo_id,
        repo_type="model",
        ignore_patterns=plan.ignore_patterns,
        commit_message=plan.commit_message,
    )
    return plan.url
