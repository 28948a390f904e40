"""Two processes on CPU (torchrun, gloo): the tiny recipe trains data-parallel and saves once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_process_cpu_run_with_torchrun(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            str(_free_port()),
            "-m",
            "viscoder2_train.sft",
            "--recipe",
            "tiny",
            "--model_name_or_path",
            str(tmp_path / "base"),
            "--output_dir",
            str(out),
            "--languages",
            "vegalite",
            "--max_steps",
            "6",
            "--save_strategy",
            "no",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["hyperparameters"]["world_size"] == 2
    assert summary["hyperparameters"]["global_batch_size"] == 2  # 1 per device x 2 processes
    assert summary["total_steps"] == 6 and len(summary["loss_curve"]) == 6
    assert (out / "model.safetensors").is_file() and (out / "README.md").is_file()
    # the tiny base model was built once (rank 0 first), then loaded by both ranks
    assert proc.stderr.count("Building a tiny random Qwen2 model") == 1
