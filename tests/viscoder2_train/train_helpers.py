"""Helpers shared by the viscoder2_train tests (a module name no other test folder uses)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar


class FakeHfApi:
    """Records the calls ``viscoder2_train.hub.push`` makes instead of reaching the Hub."""

    calls: ClassVar[list[tuple[str, dict[str, Any]]]] = []

    def __init__(self, token: str | None = None) -> None:
        self.token = token

    def create_repo(self, repo_id: str, **kwargs: Any) -> None:
        FakeHfApi.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))

    def upload_folder(self, **kwargs: Any) -> None:
        folder = Path(kwargs["folder_path"])
        FakeHfApi.calls.append(
            (
                "upload_folder",
                {
                    **kwargs,
                    "present": sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()),
                },
            )
        )


def param_snapshot(model: Any) -> dict[str, Any]:
    return {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}


def make_snapshot_callback() -> Any:
    from transformers import TrainerCallback

    class Snapshot(TrainerCallback):
        def __init__(self) -> None:
            self.before: dict[str, Any] = {}
            self.after: dict[str, Any] = {}

        def on_train_begin(self, args, state, control, model=None, **kwargs):  # type: ignore[no-untyped-def]
            self.before = param_snapshot(model)

        def on_train_end(self, args, state, control, model=None, **kwargs):  # type: ignore[no-untyped-def]
            self.after = param_snapshot(model)

    return Snapshot()
