"""The `evaluate` metric (visplotbench/metric/visplotbench.py), loaded the documented way from a directory
outside the repository with HF_HUB_OFFLINE=1: its numbers are the harness's (`visplotbench run` with the
replay backend, `visplotbench score` with a stub judge), its bad inputs give clear errors, its doctests
and the card's examples run."""

from __future__ import annotations

import doctest
import io
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from stub_openai import StubOpenAI
from visplotbench.cli import main
from visplotbench.tasks import bundled_parquet, load_tasks

REPO_ROOT = Path(__file__).resolve().parents[2]
GOOD_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80">'
    '<rect x="10" y="10" width="100" height="60" fill="steelblue"/></svg>'
)
BROKEN = {
    "svg": "```svg\n<svg><rect\n```",
    "vegalite": '```vegalite\n{"mark": \n```',
    "python": "```python\nimport matplotlib.pyplot as plt\nplt.plot(undefined_name)\n```",
}


def fenced(task) -> str:
    return f"Here you go:\n```{task.language}\n{task.code}\n```"


@pytest.fixture(scope="session")
def hf_home(tmp_path_factory):
    """A private, offline Hugging Face cache for the whole session (evaluate reads it at import)."""
    home = tmp_path_factory.mktemp("hf_home")
    names = {
        "HF_HOME": home,
        "HF_EVALUATE_CACHE": home / "evaluate",
        "HF_METRICS_CACHE": home / "metrics",
        "HF_MODULES_CACHE": home / "modules",
        "HF_DATASETS_CACHE": home / "datasets",
    }
    saved = {name: os.environ.get(name) for name in [*names, "HF_HUB_OFFLINE"]}
    os.environ.update({name: str(path) for name, path in names.items()})
    os.environ["HF_HUB_OFFLINE"] = "1"
    import evaluate

    for name, path in names.items():  # evaluate may have been imported before this fixture ran
        if hasattr(evaluate.config, name):
            setattr(evaluate.config, name, Path(path))
    yield home
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """A working directory outside the repository (another project)."""
    project = tmp_path / "another-project"
    project.mkdir()
    assert REPO_ROOT not in project.resolve().parents
    monkeypatch.chdir(project)
    return project


@pytest.fixture
def metric(hf_home, elsewhere, monkeypatch, need):
    """``evaluate.load(visplotbench.metric_path())`` from outside the repository, with no opt-in set."""
    need("svg")
    if not bundled_parquet("svg").exists():
        if os.environ.get("CI"):
            pytest.fail("the bundled svg task set is missing; build it with scripts/build_taskset.py")
        pytest.skip("the bundled svg task set is not built (python scripts/build_taskset.py --languages svg)")
    import evaluate

    import visplotbench

    monkeypatch.delenv("VISPLOTBENCH_ALLOW_CODE_EXECUTION", raising=False)
    return evaluate.load(visplotbench.metric_path())


def _cli(*args: str) -> int:
    return main([*args])


# ------------------------------------------------------------------------------ loading, from anywhere


def test_loads_the_documented_way_in_a_fresh_interpreter_outside_the_repo(tmp_path, need):
    """A new project: cwd outside the repository, HF_HUB_OFFLINE=1, an empty HF_HOME; gold and broken
    replies in three languages."""
    for language in BROKEN:
        need(language)
    script = textwrap.dedent(
        """
        import json, sys
        import evaluate, visplotbench
        from visplotbench.tasks import load_tasks

        metric = evaluate.load(visplotbench.metric_path())
        broken = json.loads(sys.argv[1])
        predictions, references = [], []
        for language, bad in broken.items():
            gold, other = load_tasks("bundled", [language], limit=2)
            predictions += [f"```{language}\\n{gold.code}\\n```", bad]
            references += [gold.id, other.id]
        result = metric.compute(predictions=predictions, references=references,
                                allow_code_execution=True, cache_dir="", return_details=True)
        print(json.dumps(result))
        """
    )
    project = tmp_path / "project"
    project.mkdir()
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "hf"),
        "PYTHONPATH": "",
    }
    env.pop("HF_MODULES_CACHE", None)
    env.pop("HF_EVALUATE_CACHE", None)
    env.pop("VISPLOTBENCH_ALLOW_CODE_EXECUTION", None)
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(BROKEN)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["pass_rate"] == 0.5 and result["n"] == 6 and result["complete"] is True
    for language in BROKEN:
        assert result[f"pass_rate_{language}"] == 0.5 and result[f"n_{language}"] == 2
        assert 0.0 <= result[f"ssim_{language}"] <= 1.0
    assert result["status_ok"] == 3 and result["status_error"] == 3
    assert [d["passed"] for d in result["details"]] == [True, False] * 3
    assert (project / "visplotbench").exists() is False  # nothing was looked up in the cwd
    assert (tmp_path / "hf" / "modules" / "evaluate_modules").is_dir()  # the private HF_HOME was used


def test_metric_info(metric):
    import datasets
    import evaluate

    assert isinstance(metric, evaluate.Metric) and metric.name == "visplotbench"
    assert "task and visual scores" in metric.info.description
    assert "2510.23642" in metric.info.citation
    assert "Examples:" in metric.info.inputs_description
    formats = metric.info.features
    assert isinstance(formats, list) and all(isinstance(f, datasets.Features) for f in formats)
    assert formats[0]["references"] == datasets.Value("string")
    assert {"id", "language", "data", "image"} <= set(formats[1]["references"])


def test_the_repository_link_and_the_space_link_are_the_package_module():
    """One module: the repo-root and Space paths are links to the file inside the package."""
    import visplotbench

    module = Path(visplotbench.metric_path()).resolve()
    assert module.is_file() and module.parent.name == "metric"
    for link in (
        REPO_ROOT / "visplotbench" / "visplotbench.py",
        REPO_ROOT / "spaces" / "visplotbench" / "visplotbench.py",
    ):
        assert link.is_symlink() and link.resolve() == module
    card = REPO_ROOT / "spaces" / "visplotbench" / "README.md"
    assert card.is_symlink() and card.resolve() == (REPO_ROOT / "visplotbench" / "README.md").resolve()


def test_no_trailing_comment_on_import_lines():
    """evaluate parses a metric script's import lines; a trailing comment is read as a URL."""
    import visplotbench

    for line in Path(visplotbench.metric_path()).read_text(encoding="utf-8").splitlines():
        if line.startswith(("import ", "from ")):
            assert "#" not in line, line


# ------------------------------------------------------------------------------ the harness's numbers


def test_multi_round_predictions_equal_a_replay_run_of_the_cli(metric, tmp_path, need):
    """Conversations of 1-3 replies in two languages: first-try and self-debug pass rates (and every round's
    statuses) are those of `visplotbench run --model replay:... --self-debug 2` on the same replies."""
    need("vegalite")
    svg = load_tasks("bundled", ["svg"], limit=2)
    vl = load_tasks("bundled", ["vegalite"], limit=2)
    conversations = {
        svg[0].id: [BROKEN["svg"], fenced(svg[0])],  # fixed in round 1
        svg[1].id: [fenced(svg[1]), BROKEN["svg"]],  # passed first; round 1 never used
        vl[0].id: [BROKEN["vegalite"], BROKEN["vegalite"], fenced(vl[0])],  # fixed in round 2
        vl[1].id: [BROKEN["vegalite"]],  # never passed, ran out of replies
    }
    results = metric.compute(
        predictions=list(conversations.values()),
        references=list(conversations),
        allow_code_execution=True,
        cache_dir="",
        return_details=True,
    )
    replies = tmp_path / "replies.jsonl"
    replies.write_text(
        "".join(
            json.dumps({"task_id": task_id, "round": k, "reply": reply}) + "\n"
            for task_id, conversation in conversations.items()
            for k, reply in enumerate(conversation)
        )
    )
    out = tmp_path / "cli-run"
    code = _cli(
        "run", "--model", f"replay:{replies}", "--languages", "svg", "vegalite", "--limit", "2",
        "--self-debug", "2", "--out", str(out), "--no-cache", "--no-progress",
    )  # fmt: skip
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert results["rounds"] == 2 and summary["rounds"] == 2
    assert results["pass_rate"] == summary["overall"]["pass_rate"][0] == 0.25
    assert results["self_debug_pass_rate"] == summary["overall"]["pass_rate"][2] == 0.75
    for language in ("svg", "vegalite"):
        rates = summary["languages"][language]["pass_rate"]
        assert results[f"pass_rate_{language}"] == rates[0]
        assert results[f"self_debug_pass_rate_{language}"] == rates[2]
    assert [d["passed_round"] for d in results["details"]] == [1, 0, 2, None]
    assert [d["attempts"] for d in results["details"]] == [2, 1, 3, 3]
    assert results["details"][3]["status"] == "generation_failed"  # no reply for rounds 1 and 2
    assert results["status_ok"] == 3 and results["status_generation_failed"] == 1


def _judge_script(body, call):
    """Scores that depend on the request: task scores 70 for the bar chart text, visual scores 40."""
    user = next(m for m in body["messages"] if m["role"] == "user")
    text = next(p["text"] for p in user["content"] if p["type"] == "text")
    images = sum(p["type"] == "image_url" for p in user["content"])
    if "[PLOT TASK]" in text:
        return f"The chart follows the task.\n[FINAL SCORE]: {60 + 10 * images}"
    return "Similar layout.\n[FINAL SCORE]: 40"


def test_judge_scores_match_visplotbench_score_on_the_same_replies(metric, tmp_path):
    tasks = load_tasks("bundled", ["svg"], limit=3)
    predictions = [fenced(tasks[0]), fenced(tasks[1]), BROKEN["svg"]]
    with StubOpenAI(_judge_script) as stub:
        options = {"base_url": stub.base_url, "retries": 0, "concurrency": 2}
        results = metric.compute(
            predictions=predictions,
            references=[t.id for t in tasks],
            allow_code_execution=True,
            judge="openai:judge-model",
            judge_options=options,
            cache_dir="",
            run_dir=str(tmp_path / "metric-run"),
        )
        asked = len(stub.requests)
        # the same replies through the CLI: a replay run, then `visplotbench score` with the same judge
        replies = tmp_path / "replies.jsonl"
        replies.write_text(
            "".join(
                json.dumps({"task_id": t.id, "reply": p}) + "\n"
                for t, p in zip(tasks, predictions, strict=True)
            )
        )
        out = tmp_path / "cli-run"
        assert _cli(
            "run", "--model", f"replay:{replies}", "--languages", "svg", "--limit", "3", "--self-debug", "0",
            "--out", str(out), "--no-cache", "--no-progress",
        ) == 0  # fmt: skip
        assert _cli(
            "score", str(out), "--judge", "openai:judge-model", "--judge-option", f"base_url={stub.base_url}",
            "--judge-option", "retries=0", "--no-cache", "--no-progress",
        ) == 0  # fmt: skip
    assert asked == 4  # vis + task for the two images; the broken reply scores 0 without a request
    kinds = json.loads((out / "scores_summary.json").read_text())["kinds"]
    for name, kind in (
        ("task_score", "task"),
        ("visual_score", "vis"),
        ("ssim", "ssim"),
        ("edge_f1", "edge_f1"),
    ):
        cli = kinds[kind]["overall"][0]
        assert results[name] == pytest.approx(cli["mean"]), name
        assert results[f"{name}_svg"] == pytest.approx(kinds[kind]["languages"]["svg"][0]["mean"])
        if kind in ("task", "vis"):
            assert results[f"{name}_good"] == pytest.approx(cli["good"])
            assert results[f"{name}_unparsed"] == cli["unparsed"] == 0
    assert results["task_score"] == pytest.approx((70 + 70 + 0) / 3)
    assert results["visual_score"] == pytest.approx((40 + 40 + 0) / 3)
    assert results["pass_rate"] == pytest.approx(2 / 3)
    kept = Path(results["run_dir"])  # the kept run folder is a normal run: reports with the scores
    assert "## Task and visual scores" in (kept / "report.md").read_text(encoding="utf-8")


def test_a_judge_that_returns_garbage_is_counted_and_reported(metric, caplog):
    tasks = load_tasks("bundled", ["svg"], limit=2)
    with StubOpenAI(lambda body, call: "I like it.") as stub, caplog.at_level("WARNING"):
        results = metric.compute(
            predictions=[fenced(t) for t in tasks],
            references=[t.id for t in tasks],
            allow_code_execution=True,
            judge="openai:judge-model",
            judge_options={"base_url": stub.base_url, "retries": 0},
            cache_dir="",
        )
    assert results["task_score_unparsed"] == 2 and results["visual_score_unparsed"] == 2
    assert results["task_score"] == 0.0 and results["task_score_failed"] == 0
    assert "had no score" in caplog.text


def test_a_judge_that_is_down_is_a_clear_error(metric):
    tasks = load_tasks("bundled", ["svg"], limit=1)
    down = StubOpenAI(lambda body, call: (503, {"error": {"message": "overloaded"}}))
    expected = r"answered none of its 2 requests.*overloaded.*base_url"
    with down as stub, pytest.raises(RuntimeError, match=expected):
        metric.compute(
            predictions=[fenced(tasks[0])],
            references=[tasks[0].id],
            allow_code_execution=True,
            judge="openai:judge-model",
            judge_options={"base_url": stub.base_url, "retries": 0},
            cache_dir="",
        )


# ------------------------------------------------------------------------------ inputs


def test_task_dicts_with_data_and_language_override(metric):
    spec = (
        '{"data": {"url": "data.csv"}, "mark": "point", "encoding": {"x": {"field": "a", "type": '
        '"quantitative"}, "y": {"field": "b", "type": "quantitative"}}}'
    )
    tasks = [
        {"id": "vegalite_mine", "data": "a,b\n1,2\n3,4\n", "source": "ignored"},
        {"id": "chart-7", "data": ""},
    ]
    results = metric.compute(
        predictions=[spec, GOOD_SVG],
        references=tasks,
        languages=["vegalite", "svg"],
        allow_code_execution=True,
        cache_dir="",
        return_details=True,
    )
    assert results["pass_rate_vegalite"] == 1.0 and results["pass_rate_svg"] == 1.0 and results["n"] == 2
    assert [d["task_id"] for d in results["details"]] == ["vegalite_mine", "chart-7"]
    assert "ssim" not in results  # no reference image given: no image metric


def test_task_objects_bring_their_reference_image(metric):
    tasks = load_tasks("bundled", ["svg"], limit=2)
    results = metric.compute(
        predictions=[t.code for t in tasks], references=tasks, allow_code_execution=True, cache_dir=""
    )
    assert results["pass_rate"] == 1.0 and results["status_ok"] == 2
    assert results["ssim"] > 0.99 and results["edge_f1"] > 0.99  # the reference code draws the reference


@pytest.mark.parametrize(
    ("predictions", "references", "kwargs", "error"),
    [
        (["a", "b"], ["svg_1"], {}, r"Got 2 predictions for 1 references"),
        (["x"], ["svg_999"], {}, r"Unknown task id 'svg_999'.*svg_1, svg_2"),
        (["x"], [{"id": "chart-7", "data": ""}], {}, r"Cannot tell the language of task 'chart-7'"),
        (["x"], ["svg_1"], {"languages": "svgz"}, r"Unknown language 'svgz'"),
        ([[]], ["svg_1"], {}, r"non-empty list of replies"),
        ([["ok", 3]], ["svg_1"], {}, r"non-empty list of replies"),
        (["x", "y"], ["svg_1", "svg_1"], {}, r"Task 'svg_1' appears twice"),
        (
            ["x"],
            ["svg_1"],
            {"judge_options": {"base_url": "http://127.0.0.1:9"}},
            r"judge_options need a judge",
        ),
        (["x"], ["svg_1"], {"judge": "replay:model"}, r"Unknown judge 'replay:model'"),
    ],
)
def test_bad_input_says_what_to_do(metric, predictions, references, kwargs, error):
    with pytest.raises(ValueError, match=error):
        metric.compute(
            predictions=predictions, references=references, allow_code_execution=True, cache_dir="", **kwargs
        )


def test_code_execution_needs_an_opt_in(metric, monkeypatch):
    with pytest.raises(ValueError) as info:
        metric.compute(predictions=[GOOD_SVG], references=["svg_1"])
    message = str(info.value)
    assert "allow_code_execution=True" in message and "VISPLOTBENCH_ALLOW_CODE_EXECUTION=1" in message
    assert "sandbox" in message
    monkeypatch.setenv("VISPLOTBENCH_ALLOW_CODE_EXECUTION", "0")
    with pytest.raises(ValueError):
        metric.compute(predictions=[GOOD_SVG], references=["svg_1"])
    monkeypatch.setenv("VISPLOTBENCH_ALLOW_CODE_EXECUTION", "1")
    assert metric.compute(predictions=[GOOD_SVG], references=["svg_1"], cache_dir="")["pass_rate"] == 1.0


def test_environment_failures_stay_in_the_denominator(metric, tmp_path, monkeypatch, need):
    """A real environment failure (Asymptote's binary hidden from PATH) counts as not passed, marks the
    result incomplete and is left out only of pass_rate_excluding_env_failures, as in the harness."""
    need("asymptote")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in Path("/usr/bin").iterdir():
        if tool.name != "asy":
            (bin_dir / tool.name).symlink_to(tool)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{bin_dir}")
    svg = load_tasks("bundled", ["svg"], limit=2)
    asy = load_tasks("bundled", ["asymptote"], limit=1)
    results = metric.compute(
        predictions=[fenced(svg[0]), BROKEN["svg"], fenced(asy[0])],
        references=[svg[0].id, svg[1].id, asy[0].id],
        allow_code_execution=True,
        cache_dir="",
        return_details=True,
    )
    assert results["details"][2]["status"] == "env_failure" and "asy" in results["details"][2]["error"]
    assert results["pass_rate"] == pytest.approx(1 / 3) and results["pass_rate_asymptote"] == 0.0
    assert (
        results["complete"] is False and results["env_failures"] == 1 and results["status_env_failure"] == 1
    )
    assert results["pass_rate_excluding_env_failures"] == 0.5


# ------------------------------------------------------------------------------ documentation runs


def _run_doctest(text: str, globs: dict, name: str, minimum: int) -> None:
    test = doctest.DocTestParser().get_doctest(text, globs, name, name, 0)
    assert len(test.examples) >= minimum
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.IGNORE_EXCEPTION_DETAIL)
    result = runner.run(test, out=out.write)
    assert result.failed == 0, out.getvalue()


def test_doctest_examples_run(metric):
    """Every example in _KWARGS_DESCRIPTION exactly as written (they load the metric themselves)."""
    module = sys.modules[type(metric).__module__]
    _run_doctest(module._KWARGS_DESCRIPTION, {}, "visplotbench._KWARGS_DESCRIPTION", 12)


def test_metric_card_examples_run(metric):
    """The ``>>>`` examples of the metric card (visplotbench/README.md) run as written."""
    card = (REPO_ROOT / "visplotbench" / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\n") and "app_file: app.py" in card and "- evaluate\n- metric\n" in card
    for section in (
        "## Metric Description",
        "## How to Use",
        "### Inputs",
        "## Output Values",
        "### Values from popular papers",
        "## Examples",
        "## Limitations and Bias",
        "## Citation",
        "## Further References",
    ):
        assert section in card, section
    blocks = re.findall(r"^```python\n(.*?)^```$", card, re.S | re.M)
    examples = "\n".join(block for block in blocks if block.startswith(">>>"))
    _run_doctest(examples, {}, "README.md", 8)
