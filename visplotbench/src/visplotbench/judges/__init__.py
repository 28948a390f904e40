"""Scores of a run's images: an LLM/VLM judge (task and visual scores) and offline image metrics.

    visplotbench score runs/my-run                                   # offline metrics (ssim, edge_f1)
    visplotbench score runs/my-run --judge openai:gpt-4.1            # + the paper's two judge scores
    visplotbench score runs/my-run --judge openai:Qwen/Qwen2.5-VL-72B-Instruct \\
        --judge-option base_url=http://localhost:8000/v1 --judge-option concurrency=32
    visplotbench score runs/my-run --judge openai:gpt-4.1 --judge-prompts instructs.json   # original texts

Files: ``scores.jsonl`` (one line per task, round and score kind; ``visplotbench.runfolder.ScoreRecord``)
and ``scores_summary.json`` (``ScoresSummary``). ``visplotbench report`` shows both.

Adding a judge backend: it must be a chat backend in ``visplotbench.backends`` whose requests accept
OpenAI-style content parts (text and ``image_url``); add its name to ``JUDGE_BACKENDS`` and a test
through a stub server.
"""

from visplotbench.judges._aggregate import BAD, GOOD, KindSummary, ScoresSummary, ScoreStats, summarize_scores
from visplotbench.judges._image_metrics import (
    METRICS,
    METRICS_VERSION,
    compare_images,
    edge_f1,
    prepare,
    ssim,
)
from visplotbench.judges._judge import (
    JUDGE_BACKENDS,
    Judge,
    JudgeItem,
    JudgeOutcome,
    JudgeSettings,
    make_judge,
)
from visplotbench.judges._online import OnlineScorer
from visplotbench.judges._parse import parse_score
from visplotbench.judges._prompts import JUDGE_PROMPTS_VERSION, JudgePrompts, load_judge_prompts
from visplotbench.judges._score import score_run

__all__ = [
    "BAD",
    "GOOD",
    "JUDGE_BACKENDS",
    "JUDGE_PROMPTS_VERSION",
    "METRICS",
    "METRICS_VERSION",
    "Judge",
    "JudgeItem",
    "JudgeOutcome",
    "JudgePrompts",
    "JudgeSettings",
    "KindSummary",
    "OnlineScorer",
    "ScoreStats",
    "ScoresSummary",
    "compare_images",
    "edge_f1",
    "load_judge_prompts",
    "make_judge",
    "parse_score",
    "prepare",
    "score_run",
    "ssim",
    "summarize_scores",
]
