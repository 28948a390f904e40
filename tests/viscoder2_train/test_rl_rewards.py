"""Each reward component on real renders: good, broken, blank, timeout, environment failure, visually wrong.

Everything is rendered by the real engine (one shared RenderPool); the judge is a real HTTP client against
the stub OpenAI-compatible server. Nothing here imports torch.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from viscoder2_train.rewards import (
    ENV_FAILURE,
    JUDGE_FAILURE,
    RewardConfig,
    Rewarder,
    RewardTask,
    format_score,
    make_reward_funcs,
)

from visplotbench import RenderPool, render

sys.path.insert(0, str(Path(__file__).parents[1] / "visplotbench"))  # the stub server lives with those tests
from stub_openai import StubOpenAI

BARS = """<svg xmlns="http://www.w3.org/2000/svg" width="240" height="160">
  <rect x="20" y="60" width="40" height="90" fill="steelblue"/>
  <rect x="80" y="30" width="40" height="120" fill="steelblue"/>
  <rect x="140" y="90" width="40" height="60" fill="steelblue"/>
  <line x1="10" y1="150" x2="230" y2="150" stroke="black" stroke-width="2"/>
</svg>"""
CIRCLES = """<svg xmlns="http://www.w3.org/2000/svg" width="240" height="160">
  <circle cx="60" cy="40" r="25" fill="darkorange"/>
  <circle cx="170" cy="110" r="40" fill="none" stroke="purple" stroke-width="6"/>
</svg>"""
BLANK = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="120"><rect width="200" height="120" fill="white"/></svg>'
BROKEN = BARS.replace("</svg>", "")


def fenced(code: str, tag: str = "svg") -> str:
    return f"Here is the chart.\n```{tag}\n{code}\n```"


@pytest.fixture(scope="module")
def pool():
    with RenderPool() as p:
        yield p


@pytest.fixture(scope="module")
def reference() -> bytes:
    result = render("svg", BARS)
    assert result.ok, result.error
    return result.images[0]


@pytest.fixture
def rewarder(pool):
    return Rewarder(RewardConfig(reward_renders=1, reward_visual=1, reward_format=0.5), pool=pool)


def test_good_program_scores_every_component(rewarder, reference):
    [score] = rewarder.score([fenced(BARS)], [RewardTask("svg", reference_image=reference)])
    assert score.status == "ok" and score.scorable
    assert score.components["renders"] == 1.0 and score.components["format"] == 1.0
    assert score.components["visual"] == pytest.approx(1.0, abs=1e-6)  # the reference itself
    assert score.total(rewarder.weights) == pytest.approx(2.5, abs=1e-6)


def test_visually_wrong_program_renders_but_scores_low_against_its_reference(rewarder, reference):
    good, wrong = rewarder.score(
        [fenced(BARS.replace('height="90"', 'height="80"')), fenced(CIRCLES)],
        [RewardTask("svg", reference_image=reference)] * 2,
    )
    assert good.components["renders"] == wrong.components["renders"] == 1.0
    assert wrong.components["visual"] < 0.5 < good.components["visual"] < 1.0, (good.metrics, wrong.metrics)
    assert set(wrong.metrics) == {"ssim", "edge_f1"}


def test_broken_program_scores_zero_and_keeps_the_engine_error(rewarder, reference):
    [score] = rewarder.score([fenced(BROKEN)], [RewardTask("svg", reference_image=reference)])
    assert score.status == "error" and score.scorable and score.error
    assert score.components == {"renders": 0.0, "visual": 0.0, "format": 1.0}


def test_blank_image_is_not_a_render(rewarder, reference):
    [score] = rewarder.score([fenced(BLANK)], [RewardTask("svg", reference_image=reference)])
    assert score.status == "blank"
    assert score.components["renders"] == 0.0 and score.components["visual"] == 0.0


def test_timeout_scores_zero(pool):
    rewarder = Rewarder(RewardConfig(reward_render_timeout_s=2.0), pool=pool)
    [score] = rewarder.score([fenced("while True:\n    pass", "python")], [RewardTask("python")])
    assert score.status == "timeout" and score.scorable
    assert score.components["renders"] == 0.0
    assert score.components["visual"] is None  # no reference image: not applicable


def test_environment_failure_is_never_scored(monkeypatch, tmp_path):
    """A renderer that cannot run (pdflatex missing) makes every component None, counted and logged."""
    (tmp_path / "bwrap").symlink_to(shutil.which("bwrap"))  # the sandbox works, only the tool is missing
    monkeypatch.setenv("PATH", str(tmp_path))
    latex = "\\documentclass{article}\\begin{document}x\\end{document}"
    with Rewarder(RewardConfig(reward_format=1.0)) as rewarder:  # its own pool, started without pdflatex
        scores = rewarder.score([fenced(latex, "latex"), ""], [RewardTask("latex")] * 2)
        funcs = make_reward_funcs(rewarder)
        logged: dict[str, float] = {}
        values = funcs[0](
            completions=[fenced(latex, "latex")], language=["latex"], log_metric=logged.__setitem__
        )
    failed, no_code = scores
    assert failed.status == ENV_FAILURE and not failed.scorable and "texlive" in failed.error
    assert all(v is None for v in failed.components.values()) and failed.total(rewarder.weights) is None
    assert no_code.status == "no_code" and no_code.components["renders"] == 0.0  # the model's fault: 0
    assert values == [None] and logged["visplot/env_failures"] == 1.0
    assert rewarder.stats["status_env_failure"] == 2 and rewarder.stats["renders"] == 2  # never cached


def test_format_component():
    assert format_score(fenced(BARS), "svg") == 1.0
    assert format_score(fenced(BARS, "xml"), "svg") == 1.0  # an alias of the language
    assert format_score(fenced(BARS, ""), "svg") == 0.5
    assert format_score(fenced(BARS) + "\n" + fenced(BARS), "svg") == 0.5
    assert format_score(BARS, "svg") == 0.0
    assert format_score("```svg\n<svg", "svg") == 0.0  # unterminated


def test_identical_completions_render_once_and_later_batches_hit_the_cache(pool, reference):
    rewarder = Rewarder(RewardConfig(), pool=pool)
    task = RewardTask("svg", reference_image=reference)
    first = rewarder.score([fenced(CIRCLES)] * 4, [task] * 4)
    assert rewarder.stats["renders"] == 1 and not any(s.cached for s in first)
    again = rewarder.score([fenced(CIRCLES), fenced(BARS)], [task] * 2)
    assert again[0].cached and not again[1].cached and rewarder.stats["renders"] == 2
    assert again[0].components == first[0].components


def test_batch_of_mixed_languages_with_data_files(pool):
    """The task's data goes where the benchmark puts it (data.csv for Vega-Lite and Python)."""
    spec = '{"data": {"url": "data.csv"}, "mark": "bar", "encoding": {"x": {"field": "a", "type": "nominal"}, "y": {"field": "b", "type": "quantitative"}}}'
    rewarder = Rewarder(RewardConfig(reward_visual=0), pool=pool)
    scores = rewarder.score(
        [fenced(spec, "json"), fenced(BARS), "```mermaid\ngraph TD; A-->B\n```"],
        [RewardTask("vegalite", data="a,b\nx,1\ny,3\n"), RewardTask("svg"), RewardTask("mermaid")],
    )
    assert [s.status for s in scores] == ["ok", "ok", "ok"], [s.error for s in scores]
    assert "visual" not in scores[0].components  # weight 0: not computed


def test_judge_component_through_an_openai_compatible_endpoint(pool, reference):
    with StubOpenAI(lambda body, call: "72") as stub:
        config = RewardConfig(
            reward_judge=1.0,
            reward_judge_model="openai:stub-model",
            reward_judge_options=f"base_url={stub.base_url},api_key_env=STUB_KEY",
        )
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("STUB_KEY", "x")
            rewarder = Rewarder(config, pool=pool)
            ok, broken, same = rewarder.score(
                [fenced(BARS), fenced(BROKEN), fenced(BARS)], [RewardTask("svg", task_text="bars")] * 3
            )
            rewarder.close()
    assert ok.components["judge"] == pytest.approx(0.72) and same.components["judge"] == pytest.approx(0.72)
    assert broken.components["judge"] == 0.0  # nothing rendered: no request, 0
    assert len(stub.requests) == 1  # the identical image was judged once
    content = stub.requests[0]["messages"][-1]["content"]
    assert any(part.get("type") == "image_url" for part in content) and "bars" in str(content)


def test_judge_failure_is_never_scored(pool):
    with StubOpenAI(lambda body, call: (500, {"error": {"message": "down"}})) as stub:
        config = RewardConfig(
            reward_judge=1.0,
            reward_judge_model="openai:stub-model",
            reward_judge_options={"base_url": stub.base_url, "api_key_env": "STUB_KEY", "retries": 0},
        )
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("STUB_KEY", "x")
            rewarder = Rewarder(config, pool=pool)
            [score] = rewarder.score([fenced(CIRCLES)], [RewardTask("svg", task_text="circles")])
            rewarder.close()
    assert score.status == JUDGE_FAILURE and not score.scorable
    assert all(v is None for v in score.components.values())


def test_trl_reward_functions_share_one_scoring_and_log(pool, reference):
    rewarder = Rewarder(RewardConfig(reward_format=0.2), pool=pool)
    funcs = make_reward_funcs(rewarder)
    assert [f.__name__ for f in funcs] == ["renders", "visual", "format"]
    assert rewarder.reward_weights() == [1.0, 1.0, 0.2]
    completions = [[{"role": "assistant", "content": fenced(c)}] for c in (BARS, BROKEN, CIRCLES)]
    columns = {
        "language": ["svg"] * 3,
        "data": [""] * 3,
        "reference_image": [reference] * 3,
        "task_text": ["bars"] * 3,
        "log_metric": lambda name, value: metrics.setdefault(name, value),
        "log_extra": lambda name, values: extras.setdefault(name, values),
    }
    metrics: dict[str, float] = {}
    extras: dict[str, list] = {}
    values = [f(prompts=[[]] * 3, completions=completions, **columns) for f in funcs]
    assert values[0] == [1.0, 0.0, 1.0] and values[2] == [1.0, 1.0, 1.0]
    assert rewarder.stats["scored"] == 3  # scored once for the three functions
    assert metrics["visplot/renders_ok"] == pytest.approx(2 / 3) and metrics["visplot/env_failures"] == 0
    assert extras["render_status"] == ["ok", "error", "ok"]


def test_repair_component_charges_the_rounds_of_a_rollout(pool):
    rewarder = Rewarder(RewardConfig(reward_visual=0, reward_repair=0.1), pool=pool)
    repair = make_reward_funcs(rewarder)[-1]
    assert repair.__name__ == "repair"
    out = repair(
        completions=["ignored", "ignored"],
        language=["svg", "svg"],
        final_reply=[fenced(BARS), fenced(BROKEN)],
        repair_rounds=[2, 0],
    )
    assert out == [-2.0, -0.0]


def test_config_errors_say_how_to_fix():
    with pytest.raises(ValueError, match="reward_judge_model"):
        RewardConfig(reward_judge=1.0)
    with pytest.raises(ValueError, match="mean, ssim, edge_f1"):
        RewardConfig(reward_visual_metric="psnr")
    assert RewardConfig(reward_judge_options="base_url=http://h/v1,concurrency=8").reward_judge_options == {
        "base_url": "http://h/v1",
        "concurrency": 8,
    }
