"""Long runners: a program that runs into its time limit does not hold up the jobs behind it.

Real renderers, real sandboxed processes, a real Chromium. The assertions are about order and
verdicts, never about wall-clock bounds: a short job submitted after two looping jobs of the same
language (which take both of its slots) finishes before them; the looping jobs still end as
``timeout`` at their full limit; with the feature switched off the short job waits for a loop (so the
test can fail); and however many jobs run long, at most ``max_long_runners`` hold a place at once.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

import pytest
from visplotbench.engine import Limits, RenderJob, RenderPool, RenderResult, RenderStatus

pytestmark = pytest.mark.slow

PY_LOOP = "x = 0\nwhile True:\n    x += 1\n"
PY_SHORT = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()\n"
PY_SLEEP = "import time\ntime.sleep(600)\n"
# A flowchart whose layout takes Mermaid far longer than any real diagram (it ends at the limit).
MERMAID_SLOW = "flowchart TD\n" + "\n".join(f"    n{i} --> n{(i * 7 + 3) % 400}" for i in range(480))
MERMAID_SHORT = "flowchart LR\n    A[Start] --> B[End]\n"
HTML_LOOP = "<html><body><h1>x</h1><script>let i = 0; while (true) { i++; }</script></body></html>"


def _run_in_order(pool: RenderPool, jobs: dict[str, RenderJob]) -> tuple[list[str], dict[str, RenderResult]]:
    """Submit ``jobs`` in order (a moment apart) and return the order they finished in, and the results."""
    finished: list[str] = []
    lock = threading.Lock()
    futures: dict[str, Future[RenderResult]] = {}

    def on_done(name: str) -> Callable[[Future[RenderResult]], None]:
        def done(_: Future[RenderResult]) -> None:
            with lock:
                finished.append(name)

        return done

    for name, job in jobs.items():
        futures[name] = pool.submit(job)
        futures[name].add_done_callback(on_done(name))
        time.sleep(0.3)  # the looping jobs take the slots first
    results = {name: f.result() for name, f in futures.items()}
    return finished, results


@pytest.mark.parametrize("enabled", [True, False], ids=["long-runners", "switched-off"])
def test_looping_python_jobs_do_not_hold_up_a_short_one(enabled: bool) -> None:
    limits = Limits(wall_s=30, cpu_s=60)  # the language's default limits
    options: dict[str, bool | None] = {} if enabled else {"release_after_s": None, "demote": False}
    with RenderPool(**options) as pool:
        pool.renderer("python").pool.warm()  # both workers up before the jobs (told no backlog: all)
        jobs = {
            "loop-1": RenderJob("python", PY_LOOP, limits=limits),
            "loop-2": RenderJob("python", PY_LOOP, limits=limits),
            "short": RenderJob("python", PY_SHORT),
        }
        order, results = _run_in_order(pool, jobs)
        workers = pool.renderer("python").pool
        shares = [
            (w._proc.cgroup.dirs[-1] / "cpu.shares").read_text().strip()
            for w in workers._all
            if w._proc is not None and w._proc.cgroup is not None
        ]
    assert results["short"].status is RenderStatus.OK, results["short"].error
    for name in ("loop-1", "loop-2"):
        loop = results[name]
        assert loop.status is RenderStatus.TIMEOUT and loop.limit == "wall_time", (loop.status, loop.error)
        assert loop.timings["run"] >= limits.wall_s  # the full limit: nothing is cut short
    if enabled:
        assert order[0] == "short", order
        # Both loops gave their slot back and, past the CPU budget, ran at the lowest weight.
        assert results["loop-1"].timings["long_runner"] == 2.0
        assert results["loop-2"].timings["long_runner"] == 2.0
        assert "long_runner" not in results["short"].timings
        assert pool.long_runners >= 2 and pool.demoted >= 2
        assert shares and set(shares) == {"1024"}, shares  # the warm workers' weight is restored
    else:
        # It waited for a loop's place (the first loop's program ended at its limit; its result may
        # be recorded a moment after the short job's, which took the freed worker at once).
        assert order[0] != "short", order
        assert results["short"].timings["queued"] > results["loop-1"].timings["run"] / 2
        assert pool.long_runners == 0


def test_a_slow_browser_page_does_not_hold_up_a_short_one() -> None:
    # The slow flowchart needs ~7.5 s of layout (~9 CPU-s) on an idle 2-core machine: under a 5 s
    # limit it always ends as a timeout, and the short diagram is done long before.
    limits = Limits(wall_s=5, memory_mb=2048)
    with RenderPool() as pool:
        pool.renderer("mermaid").warm()
        jobs = {
            "slow-1": RenderJob("mermaid", MERMAID_SLOW, limits=limits),
            "slow-2": RenderJob("mermaid", MERMAID_SLOW, limits=limits),
            "short": RenderJob("mermaid", MERMAID_SHORT),
        }
        order, results = _run_in_order(pool, jobs)
    assert results["short"].status is RenderStatus.OK, results["short"].error
    assert order[0] == "short", order
    for name in ("slow-1", "slow-2"):
        slow = results[name]
        assert slow.status is RenderStatus.TIMEOUT and slow.limit == "wall_time", (slow.status, slow.error)
        assert slow.timings["run"] >= limits.wall_s
        assert slow.timings["long_runner"] >= 1.0  # released (and demoted when it used 3 CPU-s)


def test_a_looping_page_is_demoted_and_its_renderer_restored() -> None:
    """A page's renderer process is known (one per page), so a looping page is reniced like a
    process job is lowered; the page's tab serves the next job at normal priority again."""
    limits = Limits(wall_s=20)
    with RenderPool() as pool:
        renderer = pool.renderer("html")
        renderer.warm()
        tabs = renderer.host.pools[renderer._pool_key]._free
        pids = [tab.renderer_pid for tab in tabs]
        assert pids and all(pid is not None for pid in pids) and len(set(pids)) == len(pids)
        loop = pool.render(RenderJob("html", HTML_LOOP, limits=limits))
        after = pool.render(RenderJob("html", "<html><body><h1>after</h1></body></html>"))
        nices = [os.getpriority(os.PRIO_PROCESS, pid) for pid in renderer.host.renderer_pids()]
    assert loop.status is RenderStatus.TIMEOUT and loop.limit == "wall_time" and loop.timings["run"] >= 20
    assert loop.timings["long_runner"] == 2.0 and loop.timings["cpu"] >= 3.0
    assert after.status in (RenderStatus.OK, RenderStatus.BLANK) and "long_runner" not in after.timings
    assert nices and set(nices) == {0}, nices


def test_long_runners_are_bounded() -> None:
    """Six sleeping jobs: never more than ``max_long_runners`` long at once, nor more warm workers."""
    limits = Limits(wall_s=6)
    most_long, most_workers = 0, 0
    with RenderPool(release_after_s=0.5, max_long_runners=2) as pool:
        renderer = pool.renderer("python")
        renderer.warm()
        futures = [pool.submit(RenderJob("python", PY_SLEEP, limits=limits)) for _ in range(6)]
        while not all(f.done() for f in futures):
            most_long = max(most_long, pool.long_now)
            most_workers = max(most_workers, renderer.pool.size)
            time.sleep(0.05)
        results = [f.result() for f in futures]
        assert pool.long_runners >= 2
    assert most_long == 2
    assert most_workers <= renderer.max_concurrency + 2  # its concurrency, plus one per long runner
    assert all(r.status is RenderStatus.TIMEOUT and r.limit == "wall_time" for r in results)


SVG_RECT = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="30" height="20" fill="red"/></svg>'


def _wait_for_starts(pool: RenderPool, language: str, count: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        renderer = pool._renderers.get(language)
        if renderer is not None and not isinstance(renderer, Exception) and renderer.pool.starts >= count:
            return
        time.sleep(0.1)


def test_prestart_starts_the_warm_workers_before_any_job() -> None:
    """Without word of the backlog, prestart starts every worker of the renderer's concurrency."""
    with RenderPool() as pool:
        pool.prestart(["svg"])
        renderer = pool.renderer("svg")
        _wait_for_starts(pool, "svg", renderer.max_concurrency)
        assert renderer.pool.starts == renderer.pool.warm_size == renderer.max_concurrency  # all up, no job
        result = pool.render(RenderJob("svg", SVG_RECT))
        assert result.status is RenderStatus.OK
        assert renderer.pool.starts == renderer.max_concurrency  # the job used a warm worker


def test_warm_workers_start_as_the_backlog_pays_for_them() -> None:
    """On a saturated machine a short queue is served by one warm worker (a second costs more to
    start than the queue's jobs); a long one starts the rest. (A long runner that holds the worker
    starts another: the looping-job tests above. On a machine with an idle core, a queue of two
    starts them all: not asserted, as the test cannot make a shared machine idle.)"""
    import subprocess
    import sys

    with RenderPool() as pool:
        pool.prestart(["svg"], jobs={"svg": 6})
        renderer = pool.renderer("svg")
        _wait_for_starts(pool, "svg", 1)
        assert renderer.pool.warm_size == 1 and renderer.pool.starts == 1
        # Every core busy, so that no idle core makes the second worker free to start.
        busy = [
            subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 1)
        ]
        try:
            time.sleep(2.5)  # past a full window of the CPU-load measurement
            results = list(pool.map([RenderJob("svg", SVG_RECT) for _ in range(6)]))
        finally:
            for process in busy:
                process.kill()
                process.wait()
        assert [r.status for r in results] == [RenderStatus.OK] * 6
        assert renderer.pool.starts == 1  # all six waited for the running worker
        renderer.expect(10 * renderer.pool.jobs_per_worker)
        assert renderer.pool.warm_size == renderer.max_concurrency
        renderer.warm()
        assert renderer.pool.starts == renderer.max_concurrency


def test_a_renderers_second_run_gets_a_fresh_budget() -> None:
    """``JobControl.new_run``: a renderer's own retry (LilyPond's full run after a crop-only one) is
    weighed against the budgets afresh and starts undemoted; the job's CPU still counts every run."""
    import subprocess
    import sys

    from visplotbench.engine._jobcontrol import JobControl

    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        control = JobControl()
        control.attach_process(busy.pid)
        while control.cpu_seconds() < 0.3:
            time.sleep(0.05)
        control.demote()
        assert control.demoted and os.getpriority(os.PRIO_PROCESS, busy.pid) == 19
        control.new_run()
        assert not control.demoted and os.getpriority(os.PRIO_PROCESS, busy.pid) == 0
        assert control.run_cpu_seconds() < 0.3 <= control.cpu_seconds()
    finally:
        busy.kill()
        busy.wait()
