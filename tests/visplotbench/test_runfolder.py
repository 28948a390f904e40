"""The run folder layer: the typed manifest (and the first layout), attempt statuses, one reader."""

from __future__ import annotations

import json
import threading

import pytest
from visplotbench.runfolder import (
    AttemptRecord,
    AttemptStatus,
    Cache,
    RunFolder,
    RunManifest,
    RunStore,
    TaskCounts,
)


def manifest(**changes) -> RunManifest:
    values = {
        "fingerprint": "f" * 64,
        "model": "openai:coder",
        "rounds": 2,
        "tasks": TaskCounts("bundled", 5, {"svg": 3, "latex": 2}),
        "prompts_version": "v1",
        "prompts_sha256": "a" * 64,
        **changes,
    }
    return RunManifest(**values)


def attempt(task_id: str, round_: int, status: str) -> AttemptRecord:
    return AttemptRecord(task_id, task_id.split("_")[0], round_, [], "", "", status, passed=status == "ok")


def test_manifest_round_trips_through_config_json(tmp_path):
    store = RunStore(tmp_path / "run")
    store.prepare(manifest(), resume=False)
    data = json.loads((tmp_path / "run" / "config.json").read_text())
    assert "config" not in data  # settings are fields, not a dict nested in the file
    assert data["model"] == "openai:coder" and data["rounds"] == 2
    assert store.read_manifest() == manifest()


def test_manifest_reads_the_first_layout():
    first = {
        "fingerprint": "abc",
        "config": {"model": "gold", "tasks": "hub", "descriptor": "describe", "self_debug": 3},
        "self_debug": {"rounds": 3, "version": 1},
        "tasks": {"source": "hub", "count": 4, "per_language": {"svg": 4}},
        "prompts": {"version": "v1", "sha256": "b" * 64},
    }
    m = RunManifest.from_json(first)
    assert (m.fingerprint, m.model, m.rounds, m.descriptor) == ("abc", "gold", 3, "describe")
    assert m.tasks == TaskCounts("hub", 4, {"svg": 4}) and m.prompts_version == "v1"
    assert m.manifest_version == 1


def test_attempt_status_is_an_enum_that_reads_and_writes_strings():
    rec = AttemptRecord.from_json(json.loads(json.dumps(attempt("svg_1", 0, "no_code").to_json())))
    assert rec.status is AttemptStatus.NO_CODE and rec.to_json()["status"] == "no_code"
    with pytest.raises(ValueError):
        attempt("svg_1", 0, "exploded")


def test_reader_counts_tasks_without_records_once_in_the_manifest_order(tmp_path):
    store = RunStore(tmp_path / "run")
    store.prepare(manifest(), resume=False)
    store.append(attempt("latex_1", 0, "ok"), [])
    store.append(attempt("svg_1", 0, "error"), [])
    store.append(attempt("svg_1", 1, "ok"), [])
    store.append(attempt("svg_2", 0, "env_failure"), [])
    run = RunFolder(tmp_path / "run")
    assert run.rounds == 2
    assert run.not_run() == {"svg": 1, "latex": 1}
    languages = run.task_languages()
    assert list(dict.fromkeys(languages.values())) == ["svg", "latex"]
    assert sum(lang == "svg" for lang in languages.values()) == 3
    summary = run.summary()
    assert summary.languages["svg"].tasks == 3 and summary.languages["svg"].passed == [0, 1, 1]
    assert summary.languages["latex"].passed == [1, 1, 1] and summary.languages["svg"].env_failures == 1
    assert not summary.complete
    assert [a.task_id for a in run.scored_attempts] == ["latex_1", "svg_1", "svg_1"]


def test_the_task_order_does_not_depend_on_the_order_attempts_finished_in(tmp_path):
    # The bootstrap intervals resample tasks by position: the same attempts recorded in another
    # order (a run's attempts finish in a different order each time) must give the same order.
    finished = [attempt("svg_2", 0, "ok"), attempt("latex_1", 0, "ok"), attempt("svg_1", 0, "error")]
    orders = []
    for name, records in (("a", finished), ("b", finished[::-1])):
        store = RunStore(tmp_path / name)
        store.prepare(manifest(), resume=False)
        for record in records:
            store.append(record, [])
        orders.append(list(RunFolder(tmp_path / name).task_languages().items()))
    assert orders[0] == orders[1]
    assert [task for task, _ in orders[0]][:2] == ["svg_1", "svg_2"]


def test_cache_entries_written_by_many_threads_at_once_all_land(tmp_path):
    # Two attempts of one run with the same program cache the same render key at the same moment; a
    # temporary file named per process made one thread rename the other's away (FileNotFoundError).
    cache = Cache(tmp_path, "renders")
    key = "ab" + "0" * 62
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def put(i: int) -> None:
        start.wait()
        try:
            for j in range(50):
                cache.put(key, {"writer": i, "n": j})
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=put, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert cache.get(key)["n"] == 49
    assert [p.name for p in (tmp_path / "renders" / "ab").iterdir()] == [f"{key}.json"]
