"""A trained checkpoint goes straight into the benchmark: `visplotbench run --model transformers:<path>`,
and the run's table into the model card."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_visplotbench_evaluates_the_tiny_checkpoint_and_the_card_shows_it(tiny_run, tmp_path):
    from viscoder2_train.cli import main

    run_dir = tmp_path / "eval"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "visplotbench.cli",
            "run",
            "--model",
            f"transformers:{tiny_run.out}",
            "--languages",
            "vegalite",
            "--limit",
            "2",
            "--self-debug",
            "1",
            "--out",
            str(run_dir),
            "--no-cache",
            "--no-progress",
            "--backend-option",
            "max_new_tokens=32",
            "--backend-option",
            "batch_size=2",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert (run_dir / "results.jsonl").is_file()

    assert main(["card", str(tiny_run.out), "--eval-run", str(run_dir)]) == 0
    card = (tiny_run.out / "README.md").read_text()
    assert "| Language | Tasks | Execution pass rate | After self-debug |" in card
    assert "| Vega-Lite | 2 |" in card and "| **Overall** | 2 |" in card
    assert "Not evaluated yet" not in card
