"""Shared fixtures: one short run of the tiny recipe (in this process), reused by several test files.

The run trains the ``tiny`` recipe on the bundled Vega-Lite samples for two epochs (about 20 optimizer
steps), with ``--push_to_hub`` against a recording stand-in for ``huggingface_hub.HfApi``. A callback
snapshots every trainable parameter when training begins and ends.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from train_helpers import FakeHfApi, make_snapshot_callback

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@dataclass
class TinyRun:
    base: Path
    out: Path
    result: Any
    snapshot: Any
    hub_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    wall_s: float = 0.0


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> TinyRun:
    import time

    from viscoder2_train.sft import run

    root = tmp_path_factory.mktemp("tiny-run")
    base, out = root / "base", root / "out"
    snapshot = make_snapshot_callback()
    FakeHfApi.calls = []
    start = time.monotonic()
    with pytest.MonkeyPatch.context() as mp:
        import huggingface_hub

        mp.setattr(huggingface_hub, "HfApi", FakeHfApi)
        result = run(
            [
                "--recipe",
                "tiny",
                "--model_name_or_path",
                str(base),
                "--output_dir",
                str(out),
                "--languages",
                "vegalite",
                "--num_train_epochs",
                "2",
                "--push_to_hub",
                "--hub_model_id",
                "someone/viscoder2-tiny-test",
            ],
            callbacks=[snapshot],
        )
    return TinyRun(base, out, result, snapshot, list(FakeHfApi.calls), time.monotonic() - start)
