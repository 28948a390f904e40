"""LilyPond's fork server: the same results as the one-shot command, and one score cannot touch the next.

The server (workers/lilypond_server.scm) has read LilyPond's initialisation once and forks a child
per score. A score's Scheme runs as the server's user, so each attack below is one a score could
really make; each must leave the next score's result its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from visplotbench.engine import RenderJob, RenderPool, RenderStatus
from visplotbench.engine._types import Limits
from visplotbench.engine.renderers._warm import WorkerPool
from visplotbench.engine.renderers.lilypond import LilyPondRenderer
from visplotbench.tasks import load_tasks

LANG = "lilypond"
FIXTURES = Path(__file__).parent / "fixtures" / LANG
OK = (FIXTURES / "ok.ly").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _needs_lilypond(need):
    need(LANG)


def _score(scheme: str) -> str:
    return f'\\version "2.24.0"\n{scheme}\n\\relative c\' {{ c4 d e f }}\n'


def _same(warm, plain) -> None:
    assert (warm.status, warm.error, warm.limit) == (plain.status, plain.error, plain.limit)
    assert warm.images == plain.images  # PNG bytes: the host re-encodes the same pixels the same way


def test_the_fork_server_gives_the_one_shot_commands_results(pool):
    sources = [task.code for task in load_tasks("bundled", [LANG])[:6]]
    sources += [
        (FIXTURES / f"{name}.ly").read_text(encoding="utf-8")
        for name in ("syntax_error", "scheme_error", "runtime_error", "multi_page", "blank")
    ]
    sources.append(
        '\\version "2.24.0"\n\\bookpart { \\relative { g4 a } }\n\\bookpart { \\relative { e4 f } }\n'
    )
    warm = [pool.render(RenderJob(LANG, source)) for source in sources]
    renderer = pool.renderer(LANG)
    assert renderer.warm_problem == "" and renderer.pool.starts >= 1  # the server served them
    with RenderPool() as plain_pool:
        plain_pool.renderer(LANG).warm_problem = "compared with the one-shot command"
        plain = [plain_pool.render(RenderJob(LANG, source)) for source in sources]
    assert [r.status for r in warm].count(RenderStatus.OK) >= 7  # the comparison covers both kinds
    for ours, theirs in zip(warm, plain, strict=True):
        _same(ours, theirs)


@pytest.mark.parametrize(
    ("signal_name", "status"), [("SIGKILL", RenderStatus.ERROR), ("SIGSTOP", RenderStatus.TIMEOUT)]
)
def test_a_score_that_kills_or_stops_the_server_harms_only_itself(pool, signal_name, status):
    attack = pool.render(
        RenderJob(LANG, _score(f"#(kill (getppid) {signal_name})"), limits=Limits(wall_s=10))
    )
    assert attack.status is status  # killed: no word from the server; stopped: none until the limit
    result = pool.render(RenderJob(LANG, OK))
    assert result.status is RenderStatus.OK, result.error


def test_a_score_cannot_reach_the_servers_pipes(pool):
    # The server is non-dumpable: its /proc/<pid>/fd links are closed to its children.
    inject = '(format p "x\\t1\\t/tmp\\t30\\t1\\t1\\t1\\n")'
    attack = f'#(let ((p (open-file (format #f "/proc/~a/fd/0" (getppid)) "w"))) {inject} (close-port p))'
    result = pool.render(RenderJob(LANG, _score(attack)))
    assert result.status is RenderStatus.ERROR
    assert "Permission denied" in result.error
    after = pool.render(RenderJob(LANG, OK))
    assert after.status is RenderStatus.OK, after.error


def test_a_server_that_cannot_start_falls_back_to_the_one_shot_command():
    renderer = LilyPondRenderer()
    renderer.pool.close()
    # A LilyPond that cannot find its own init files: the server never says it is ready.
    renderer.pool = WorkerPool(
        size=1,
        handler="visplotbench.engine.workers.lilypond_job",
        mode="fork",
        sandbox_limits=Limits(memory_mb=2560, max_processes=64),
        env={"LILYPOND_DATADIR": "/nonexistent"},
    )
    try:
        result = renderer.render(RenderJob(LANG, OK))
        assert "did not start" in renderer.warm_problem
        assert result.status is RenderStatus.OK, result.error
    finally:
        renderer.close()
