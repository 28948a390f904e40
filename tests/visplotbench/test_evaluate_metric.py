"""The `evaluate` metric module (visplotbench/visplotbench.py): loads from the repo root, its doctest
examples really run, it refuses to execute code without an opt-in, and it agrees with the engine."""

from __future__ import annotations

import doctest
import io
import os
import re
import sys
from pathlib import Path

import pytest
from visplotbench.tasks import bundled_parquet, load_tasks

REPO_ROOT = Path(__file__).resolve().parents[2]
GOOD_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80">'
    '<rect x="10" y="10" width="100" height="60" fill="steelblue"/></svg>'
)


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
def metric(hf_home, monkeypatch, need):
    """``evaluate.load("visplotbench")`` from the repository root, with no opt-in in the environment."""
    need("svg")
    if not bundled_parquet("svg").exists():
        if os.environ.get("CI"):
            pytest.fail("the bundled svg task set is missing; build it with scripts/build_taskset.py")
        pytest.skip("the bundled svg task set is not built (python scripts/build_taskset.py --languages svg)")
    import evaluate

    monkeypatch.chdir(REPO_ROOT)
    monkeypatch.delenv("VISPLOTBENCH_ALLOW_CODE_EXECUTION", raising=False)
    return evaluate.load("visplotbench")


def test_loads_from_repo_root(metric):
    import datasets
    import evaluate

    assert isinstance(metric, evaluate.Metric)
    assert metric.name == "visplotbench"
    assert "execution pass rate" in metric.info.description.lower() or "pass rate" in metric.info.description
    assert "2510.23642" in metric.info.citation
    assert metric.info.inputs_description and "Examples:" in metric.info.inputs_description
    formats = metric.info.features
    assert isinstance(formats, list) and all(isinstance(f, datasets.Features) for f in formats)
    assert formats[0]["references"] == datasets.Value("string")
    assert set(formats[1]["references"]) == {"id", "language", "data"}


def test_doctest_examples_run(metric):
    """Run every example in _KWARGS_DESCRIPTION exactly as written (they call evaluate.load themselves)."""
    module = sys.modules[type(metric).__module__]
    test = doctest.DocTestParser().get_doctest(
        module._KWARGS_DESCRIPTION, {}, "visplotbench._KWARGS_DESCRIPTION", module.__file__, 0
    )
    assert len(test.examples) >= 8
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.IGNORE_EXCEPTION_DETAIL)
    result = runner.run(test, out=out.write)
    assert result.failed == 0, out.getvalue()


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
    assert metric.compute(predictions=[GOOD_SVG], references=["svg_1"])["pass_rate"] == 1.0


@pytest.mark.slow
def test_reference_solutions_pass(metric):
    """The bundled tasks' own code (passed as Task objects) renders: pass rate 1.0."""
    tasks = load_tasks("bundled", ["svg"])
    results = metric.compute(predictions=[t.code for t in tasks], references=tasks, allow_code_execution=True)
    assert results == {
        "pass_rate": 1.0,
        "n": len(tasks),
        "env_failures": 0,
        "pass_rate_svg": 1.0,
        "n_svg": len(tasks),
        "status_ok": len(tasks),
    }


def test_replies_are_extracted_and_statuses_counted(metric):
    replies = [
        f"<think>an svg</think>Sure!\n```svg\n{GOOD_SVG}\n```\nEnjoy.",  # tagged fence after reasoning
        GOOD_SVG,  # bare code
        "```svg\n<svg><rect\n```",  # broken
        "",  # nothing
        '<svg xmlns="http://www.w3.org/2000/svg" width="50" height="50"/>',  # draws nothing
    ]
    results = metric.compute(
        predictions=replies,
        references=["svg_1", "svg_2", "svg_3", "svg_4", "svg_5"],
        allow_code_execution=True,
        return_details=True,
    )
    assert [d["status"] for d in results["details"]] == ["ok", "ok", "error", "no_code", "blank"]
    assert [d["extraction_rule"] for d in results["details"]] == ["tagged", "raw", "tagged", "empty", "raw"]
    assert results["pass_rate"] == pytest.approx(0.4) and results["n"] == 5
    assert {k: v for k, v in results.items() if k.startswith("status_")} == {
        "status_ok": 2,
        "status_error": 1,
        "status_blank": 1,
        "status_no_code": 1,
    }
    assert "line 1" in results["details"][2]["error"]


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
    )
    assert results["pass_rate_vegalite"] == 1.0 and results["pass_rate_svg"] == 1.0 and results["n"] == 2


def test_bad_references_say_what_to_do(metric):
    with pytest.raises(ValueError, match=r"Unknown task id 'svg_999'.*svg_1, svg_2"):
        metric.compute(predictions=["x"], references=["svg_999"], allow_code_execution=True)
    with pytest.raises(ValueError, match="Cannot tell the language of task 'chart-7'"):
        metric.compute(
            predictions=["x"], references=[{"id": "chart-7", "data": ""}], allow_code_execution=True
        )
    with pytest.raises(ValueError, match="Unknown language 'svgz'"):
        metric.compute(predictions=["x"], references=["svg_1"], languages="svgz", allow_code_execution=True)


def test_environment_failures_are_not_scored(metric):
    details = [
        {"language": "latex", "status": "ok", "passed": True, "error": ""},
        {"language": "latex", "status": "error", "passed": False, "error": "! Undefined control sequence."},
        {"language": "latex", "status": "env_failure", "passed": False, "error": "pdflatex not found"},
    ]
    results = type(metric)._aggregate(details, return_details=False)
    assert results["pass_rate"] == 0.5 and results["pass_rate_latex"] == 0.5
    assert results["n"] == 3 and results["env_failures"] == 1 and results["status_env_failure"] == 1


def test_no_trailing_comment_on_import_lines():
    """evaluate parses a metric script's import lines; a trailing comment is read as a URL."""
    for line in (REPO_ROOT / "visplotbench" / "visplotbench.py").read_text(encoding="utf-8").splitlines():
        if line.startswith(("import ", "from ")):
            assert "#" not in line, line


def test_metric_card_examples_run(metric):
    """The ``>>>`` examples of the metric card (visplotbench/README.md) run against the loaded metric."""
    card = (REPO_ROOT / "visplotbench" / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\n") and "app_file: app.py" in card and "- evaluate\n- metric\n" in card
    for section in (
        "## Metric Description",
        "## How to Use",
        "### Inputs",
        "## Output Values",
        "## Examples",
        "## Limitations and Bias",
        "## Citation",
        "## Further References",
        "## The render engine",
    ):
        assert section in card, section
    blocks = re.findall(r"^```python\n(.*?)^```$", card, re.S | re.M)
    examples = "\n".join(block for block in blocks if block.startswith(">>>"))
    test = doctest.DocTestParser().get_doctest(
        examples, {"visplotbench": metric}, "README.md", "README.md", 0
    )
    assert len(test.examples) >= 6
    out = io.StringIO()
    result = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS).run(test, out=out.write)
    assert result.failed == 0, out.getvalue()
