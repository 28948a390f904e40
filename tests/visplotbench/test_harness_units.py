"""Harness parts on their own: metrics, the run store, self-debug conversations, failure kinds."""

import json

import pytest
from visplotbench.harness._selfdebug import next_messages
from visplotbench.runfolder import AttemptRecord, RunManifest, RunStore, failure_kind, summarize


def rec(task_id, round_, status, language="svg", error=""):
    return AttemptRecord(
        task_id=task_id,
        language=language,
        round=round_,
        messages=[],
        reply="",
        code="x",
        status=status,
        error=error,
        passed=status == "ok",
    )


def test_pass_rates_are_cumulative_and_task_weighted():
    tasks = {"svg_1": "svg", "svg_2": "svg", "latex_1": "latex", "latex_2": "latex", "latex_3": "latex"}
    records = [
        rec("svg_1", 0, "ok"),
        rec("svg_2", 0, "error"),
        rec("svg_2", 1, "ok"),
        rec("latex_1", 0, "timeout", "latex"),
        rec("latex_1", 1, "error", "latex", "! Undefined control sequence."),
        rec("latex_2", 0, "ok", "latex"),
        rec("latex_3", 0, "blank", "latex"),
        rec("latex_3", 1, "blank", "latex"),
    ]
    summary = summarize(records, tasks, rounds=1)
    assert summary.languages["svg"].passed == [1, 2]
    assert summary.languages["latex"].passed == [1, 1]
    assert summary.overall_rate(0) == pytest.approx(2 / 5) and summary.overall_rate(1) == pytest.approx(3 / 5)
    assert summary.languages["latex"].failure_kinds == {"Undefined control sequence": 1, "BlankImage": 1}
    assert summary.complete


def test_env_failures_are_apart_and_make_the_run_incomplete():
    summary = summarize([rec("svg_1", 0, "env_failure")], {"svg_1": "svg"}, rounds=0)
    assert summary.languages["svg"].env_failures == 1 and summary.languages["svg"].failure_kinds == {}
    assert not summary.complete


def test_missing_tasks_stay_in_the_denominator():
    summary = summarize([rec("svg_1", 0, "ok")], {"svg_1": "svg", "svg_2": "svg"}, rounds=0)
    assert summary.languages["svg"].rate(0) == 0.5 and not summary.complete


@pytest.mark.parametrize(
    ("language", "status", "error", "kind"),
    [
        ("python", "error", "Traceback:\n  File \"main.py\", line 3\nKeyError: 'x'", "KeyError"),
        ("latex", "error", "! LaTeX Error: File `foo.sty' not found.\nl.3", "File `foo.sty' not found"),
        ("vegalite", "error", "JSONDecodeError: Expecting ',' delimiter: line 7 column 5", "JSONDecodeError"),
        ("svg", "timeout", "Timeout: ...", "Timeout"),
        ("svg", "generation_failed", "", "GenerationFailed"),
        (
            "lilypond",
            "error",
            "main.ly:3:5: error: unknown escaped string: `\\foo'",
            "unknown escaped string: '…'",
        ),
    ],
)
def test_failure_kinds(language, status, error, kind):
    assert failure_kind(language, status, error) == kind


def test_conversation_grows_by_one_turn_pair_per_round():
    first = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    second = next_messages(first, "svg", "<svg/>", "error", "ParseError: line 1")
    third = next_messages(second, "svg", "<svg></svg>", "blank", "")
    assert [m["role"] for m in third] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert second[2]["content"] == "```svg\n<svg/>\n```" and "ParseError: line 1" in second[3]["content"]
    assert "blank" in third[5]["content"] and third[:4] == second


def manifest(fingerprint: str) -> RunManifest:
    return RunManifest(fingerprint=fingerprint, model="gold", rounds=0)


def test_store_resume_drops_torn_lines_and_env_failures(tmp_path):
    store = RunStore(tmp_path / "run")
    store.prepare(manifest("a"), resume=False)
    store.append(rec("svg_1", 0, "ok"), [b"\x89PNG fake"])
    store.append(rec("svg_2", 0, "env_failure"), [])
    with open(store.results, "a") as f:
        f.write('{"task_id": "svg_3", "lang')  # killed mid-write
    with pytest.raises(FileExistsError, match="--resume"):
        RunStore(tmp_path / "run").prepare(manifest("a"), resume=False)
    with pytest.raises(ValueError, match="different settings"):
        RunStore(tmp_path / "run").prepare(manifest("b"), resume=True)
    records = RunStore(tmp_path / "run").prepare(manifest("a"), resume=True)
    assert [(r.task_id, r.status) for r in records] == [("svg_1", "ok")]
    lines = store.results.read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["images"] == ["images/svg_1_r0_1.png"]
    assert (tmp_path / "run" / "images" / "svg_1_r0_1.png").read_bytes() == b"\x89PNG fake"
