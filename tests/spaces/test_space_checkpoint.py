"""A local transformers checkpoint in the Space, for real: a tiny randomly initialised Qwen2 model built
here (``viscoder2_train.tiny``, what ``make train SIZE=tiny`` starts from) drives the self-debug loop
through the app's API. Its replies are garbage; the test asserts that the loop runs with that model (the
page's replies are the checkpoint's own greedy continuations), that every round is recorded, and that
the failure is reported cleanly, as is a folder that holds no model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from space_helpers import (
    DOWNLOAD_JSON,
    HEADS,
    MESSAGE,
    REPLIES,
    SUMMARY,
    api_value,
    launched,
    self_debug_args,
)
from viscoder2_space._models import CHECKPOINT

pytestmark = pytest.mark.slow
MAX_NEW_TOKENS = 32  # short garbage replies keep the CPU time small


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from viscoder2_train.tiny import build_tiny_model
    from visplotbench.tasks import load_bundled

    corpus = [t.code for t in load_bundled("svg")]
    return build_tiny_model(tmp_path_factory.mktemp("ckpt") / "viscoder2-tiny", corpus=corpus, seed=0)


@pytest.fixture(scope="module")
def not_a_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("not-a-model")
    (folder / "README.md").write_text("no weights here\n")
    return folder


@pytest.fixture(scope="module")
def checkpoint_app(resources: Any, tiny_checkpoint: Path, not_a_model: Path) -> Iterator[tuple[Any, str]]:
    """The app served with the two folders offered as checkpoints (VISCODER2_CHECKPOINTS)."""
    from viscoder2_space import Resources, SpaceConfig

    config = SpaceConfig(
        checkpoints=[str(tiny_checkpoint), str(not_a_model)],
        max_new_tokens=MAX_NEW_TOKENS,
        runs_dir="/nonexistent",
    )
    res = Resources(config, sandbox=resources.sandbox)
    try:
        with launched(res) as url:
            yield res, url
    finally:
        res.close()


def _run(url: str, task_id: str, checkpoint: str, rounds: int) -> Any:
    from gradio_client import Client

    args = self_debug_args("svg", task_id, rounds, kind=CHECKPOINT, model="", checkpoint=checkpoint)
    return Client(url, verbose=False).predict(*args, api_name="/self_debug")


def test_tiny_checkpoint_drives_the_loop(checkpoint_app, tiny_checkpoint):
    from visplotbench.backends import GenerationRequest, make_backend
    from visplotbench.harness import next_messages
    from visplotbench.runfolder import AttemptStatus
    from visplotbench.tasks import load_bundled

    _, url = checkpoint_app
    task = load_bundled("svg")[0]
    out = _run(url, task.id, str(tiny_checkpoint), 1)

    assert "**Failed** after 1 self-debug round" in api_value(out[SUMMARY]), api_value(out[SUMMARY])
    assert not api_value(out[MESSAGE])  # a model that writes garbage is no error of the page
    records = [json.loads(line) for line in Path(api_value(out[DOWNLOAD_JSON])).read_text().splitlines()]
    assert [r["round"] for r in records] == [0, 1] and all(r["task_id"] == task.id for r in records)
    failing = {s.value for s in AttemptStatus} - {"ok", "generation_failed", "env_failure"}
    assert all(r["status"] in failing and not r["passed"] for r in records), records
    assert all(not r["generation_error"] for r in records)
    for i, record in enumerate(records):
        assert api_value(out[REPLIES + i]) == record["reply"]
        assert f"`{record['status']}`" in api_value(out[HEADS + i])
    # Round 1 is the benchmark's self-debug turn: round 0's conversation, its code and its feedback.
    first = records[0]
    expected = next_messages(first["messages"], "svg", first["code"], first["status"], first["error"])
    assert records[1]["messages"] == expected

    # The replies are the checkpoint's own: the benchmark's transformers backend, loaded separately,
    # continues each recorded conversation with exactly the text the page showed (greedy, one at a
    # time as the Space generates).
    backend = make_backend(
        f"transformers:{tiny_checkpoint}", {"max_new_tokens": MAX_NEW_TOKENS, "batch_size": 1}
    )
    try:
        requests = [GenerationRequest(task.id, r["round"], r["messages"], task) for r in records]
        direct = dict(backend.generate(requests))
    finally:
        backend.close()
    assert [direct[i].text for i in range(len(records))] == [r["reply"] for r in records]
    assert any(r["reply"] for r in records)  # the model did say something (a random model: whitespace)


def test_a_folder_without_a_model_is_a_clean_message(checkpoint_app, not_a_model, tiny_checkpoint):
    from visplotbench.tasks import load_bundled

    _, url = checkpoint_app
    task = load_bundled("svg")[0]
    out = _run(url, task.id, str(not_a_model), 3)
    message = api_value(out[MESSAGE])
    assert f"The local checkpoint {not_a_model} failed" in message, message
    assert "Traceback" not in message and 'File "' not in message
    assert "model request failed in round 0" in api_value(out[SUMMARY])  # no 3 more failing rounds
    assert "generation_failed" in api_value(out[HEADS])
    # The Space keeps serving: the real checkpoint works right after.
    again = _run(url, task.id, str(tiny_checkpoint), 0)
    assert "**Failed** after 0 self-debug rounds" in api_value(again[SUMMARY])
    assert not api_value(again[MESSAGE])


def test_only_offered_checkpoints_load(checkpoint_app):
    """A checkpoint path that the operator did not offer is refused before anything is loaded."""
    from viscoder2_space import ModelChoice, run_self_debug
    from visplotbench.tasks import load_bundled

    res, _ = checkpoint_app
    views = list(run_self_debug(res, load_bundled("svg")[0], ModelChoice(CHECKPOINT, checkpoint="/etc"), 1))
    assert views[-1].done and not views[-1].rounds
    assert "is not offered here" in views[-1].message and "viscoder2-tiny" in views[-1].message
