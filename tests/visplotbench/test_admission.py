"""Admission: which render jobs run now (per-language slots, a machine-wide cap, longest limit first).

The first tests drive ``Admission`` itself, with callbacks that record the order jobs were let in
(it starts nothing of its own). The last ones run real jobs through a real ``RenderPool``.
"""

from __future__ import annotations

import threading
import time

import pytest
from visplotbench.engine import Limits, RenderJob, RenderPool, RenderStatus
from visplotbench.engine._admission import Admission

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="30" height="20"/></svg>'
VEGALITE = '{"data": {"values": [{"a": 1}, {"a": 2}]}, "mark": "bar", "encoding": {"y": {"field": "a", "type": "quantitative"}}}'
PY_LOOP = "x = 0\nwhile True:\n    x += 1\n"


class Log:
    def __init__(self) -> None:
        self.started: list[str] = []
        self.cancelled: list[str] = []

    def request(self, admission: Admission, name: str, language: str, cap: int, wall_s: float) -> None:
        admission.request(
            language,
            cap,
            wall_s,
            lambda: self.started.append(name),
            lambda: self.cancelled.append(name),
        )


def test_the_machine_wide_cap_and_each_language_s_slots_hold() -> None:
    admission, log = Admission(3), Log()
    for i in range(3):
        log.request(admission, f"py{i}", "python", 2, 30)
    log.request(admission, "svg0", "svg", 2, 10)
    # python takes its two slots, svg the last place; py2 waits for a python slot.
    assert log.started == ["py0", "py1", "svg0"]
    assert admission.running == 3
    admission.done("svg")  # a place frees, but python's slots are still full
    assert log.started == ["py0", "py1", "svg0"]
    admission.done("python")
    assert log.started == ["py0", "py1", "svg0", "py2"]


def test_the_longest_wall_limit_goes_first_then_submission_order() -> None:
    admission, log = Admission(1), Log()
    log.request(admission, "first", "svg", 2, 10)  # runs at once: the only place was free
    log.request(admission, "svg", "svg", 2, 10)
    log.request(admission, "mermaid", "mermaid", 2, 15)
    log.request(admission, "python-a", "python", 2, 30)
    log.request(admission, "python-b", "python", 2, 30)
    order = {"svg": "svg", "mermaid": "mermaid", "python-a": "python", "python-b": "python"}
    while len(log.started) < 5:
        admission.done(order.get(log.started[-1], "svg"))
    assert log.started == ["first", "python-a", "python-b", "mermaid", "svg"]


def test_languages_with_the_same_limit_advance_side_by_side() -> None:
    admission, log = Admission(3), Log()
    for i in range(3):
        log.request(admission, f"blocker{i}", "html", 3, 20)  # the cap is full: the rest queue
    for i in range(3):
        log.request(admission, f"py{i}", "python", 2, 30)
    for i in range(3):
        log.request(admission, f"lily{i}", "lilypond", 2, 30)
    for i in range(2):
        log.request(admission, f"asy{i}", "asymptote", 2, 30)
    for _ in range(3):
        admission.done("html")
    # Not py0, py1, lily0 (submission order): one of each language first.
    assert log.started[3:] == ["py0", "lily0", "asy0"]
    admission.done("lilypond")
    assert log.started[-1] == "lily1"  # lilypond now runs none, python and asymptote one each


def test_a_full_language_does_not_block_the_others() -> None:
    admission, log = Admission(4), Log()
    for i in range(5):
        log.request(admission, f"lily{i}", "lilypond", 2, 30)  # longer limit, but only 2 slots
    log.request(admission, "svg", "svg", 2, 10)
    assert log.started == ["lily0", "lily1", "svg"]


def test_closing_cancels_the_waiting_jobs_and_refuses_new_ones() -> None:
    admission, log = Admission(1), Log()
    log.request(admission, "running", "svg", 1, 10)
    log.request(admission, "waiting", "svg", 1, 10)
    admission.close()
    log.request(admission, "late", "svg", 1, 10)
    assert log.started == ["running"]
    assert log.cancelled == ["waiting", "late"]


def test_at_least_one_job_must_be_allowed() -> None:
    with pytest.raises(ValueError, match="max_running"):
        Admission(0)


def test_a_pool_never_runs_more_than_max_running_jobs() -> None:
    most = 0
    with RenderPool(max_running=2) as pool:
        jobs = [RenderJob("svg", SVG), RenderJob("vegalite", VEGALITE)] * 6
        futures = [pool.submit(job) for job in jobs]
        while not all(f.done() for f in futures):
            most = max(most, pool._admission.running)
            time.sleep(0.01)
        results = [f.result() for f in futures]
    assert 1 <= most <= 2
    assert all(r.status in (RenderStatus.OK, RenderStatus.BLANK) for r in results), [r.error for r in results]


@pytest.mark.slow
def test_a_long_runner_gives_its_place_in_the_machine_wide_cap_back() -> None:
    """One place in all: a looping program still lets a later job of another language run."""
    finished: list[str] = []
    lock = threading.Lock()
    with RenderPool(max_running=1) as pool:
        loop = pool.submit(RenderJob("python", PY_LOOP, limits=Limits(wall_s=20, cpu_s=60)))
        loop.add_done_callback(lambda _: (lock.acquire(), finished.append("loop"), lock.release()))
        time.sleep(0.5)
        short = pool.submit(RenderJob("svg", SVG))
        short.add_done_callback(lambda _: (lock.acquire(), finished.append("svg"), lock.release()))
        assert short.result().status is RenderStatus.OK
        result = loop.result()
    assert finished == ["svg", "loop"]
    assert result.status is RenderStatus.TIMEOUT and result.limit == "wall_time"
    assert result.timings.get("long_runner", 0) >= 1
