"""VisPlotBench as a Hugging Face ``evaluate`` metric, and the scorer behind it.

    import evaluate, visplotbench
    metric = evaluate.load(visplotbench.metric_path())      # from any directory, offline
    metric.compute(predictions=[...], references=["svg_1", ...], allow_code_execution=True)

``metric_path()`` is the metric module that ships inside this package (``metric/visplotbench.py``; the
repository's ``visplotbench/visplotbench.py`` and the metric Space ``spaces/visplotbench/`` link to it,
so there is one copy). The module is a thin layer over ``score_replies``: the replies become a replay
run of the benchmark (``visplotbench run`` + ``visplotbench score``), so its numbers are the harness's.
"""

from __future__ import annotations

from pathlib import Path

from visplotbench.metric._score import ReplyScores, score_replies


def metric_path() -> str:
    """The path of the ``evaluate`` metric module, for ``evaluate.load(visplotbench.metric_path())``."""
    return str(Path(__file__).with_name("visplotbench.py"))


__all__ = ["ReplyScores", "metric_path", "score_replies"]
