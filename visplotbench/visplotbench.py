"""VisPlotBench execution pass rate as a Hugging Face `evaluate` metric.

Each prediction (a model reply or bare code) is matched with a VisPlotBench task, its program is
extracted with the benchmark's own rules, rendered by the visplotbench engine in a sandbox, and counted
as passed when it renders without error to a non-blank image: the paper's "execution pass rate".
Run from the repository root: ``evaluate.load("visplotbench")`` loads this file.
"""

import os

import datasets
import evaluate
from visplotbench.engine import RenderJob, default_pool
from visplotbench.engine.registry import LANGUAGES, check_language, data_files
from visplotbench.extract import extract_code
from visplotbench.tasks import load_tasks

logger = evaluate.logging.get_logger(__name__)

_CITATION = """\
@article{ni2026viscoder2,
  title   = {VisCoder2: Building Multi-Language Visualization Coding Agents},
  author  = {Yuansheng Ni and Songcheng Cai and Xiangchao Chen and Jiarong Liang and Zhiheng Lyu
             and Jiaqi Deng and Kai Zou and Ping Nie and Fei Yuan and Xiang Yue and Wenhu Chen},
  journal = {arXiv preprint arXiv:2510.23642},
  year    = {2026}
}
"""

_DESCRIPTION = """\
VisPlotBench measures whether model-written visualization code runs and draws something, in 8 languages:
Python (matplotlib, seaborn, plotly, ...), Vega-Lite, LilyPond, Mermaid, SVG, LaTeX (TikZ/pgfplots),
Asymptote and HTML. Every prediction is rendered by the visplotbench render engine inside a sandbox
(no network, own temporary directory, scrubbed environment, CPU/memory/time limits) with the task's data
files next to it. A prediction passes when it renders without error to at least one non-blank image.
The metric reports the pass rate overall (task-weighted, as in the VisCoder2 paper) and per language.
Renders that fail because of the environment (a missing tool) are counted apart, never as failures.
Task and visual judge scores are not available in this metric yet.
"""

_KWARGS_DESCRIPTION = r"""
Renders each prediction for its task and reports execution pass rates.
Args:
    predictions: list of str, one per task: a model reply (the program is extracted from its code
        fence, the benchmark's rules) or the bare program.
    references: list, one per prediction, either all task ids (str, e.g. "svg_3", looked up in `tasks`)
        or all tasks: dicts (or visplotbench ``Task`` objects) with "id", "data" (the task's data
        payload, may be empty) and optionally "language" (taken from an id "<language>_<n>" when
        missing); other keys are ignored.
    languages: optional language key, or one per prediction, overriding the task's language
        (python, vegalite, mermaid, lilypond, svg, asymptote, latex, html).
    tasks: where task ids are looked up: "bundled" (default, ships with visplotbench), "hub"
        (TIGER-Lab/VisPlotBench), a Hub repo id, a local folder in the Hub layout, or a .parquet file.
    allow_code_execution: must be True (or the environment variable VISPLOTBENCH_ALLOW_CODE_EXECUTION=1)
        because predictions are programs that get executed.
    return_details: also return "details", one dict per prediction (task_id, language, status, passed,
        error, extraction_rule). Off by default so the result stays a flat dict of numbers.
Returns:
    pass_rate: passed / scored predictions (environment failures are not scored), 0..1.
    n: number of predictions.
    env_failures: predictions the environment could not render (a missing tool); not scored.
    pass_rate_<language>, n_<language>: the same per language present.
    status_<status>: how many predictions ended with each render status (ok, error, timeout,
        no_output, blank, no_code, env_failure), only those that occurred.
Examples:
    >>> import evaluate
    >>> visplotbench = evaluate.load("visplotbench")
    >>> svg = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80"><rect x="10" y="10" width="100" height="60" fill="steelblue"/></svg>'
    >>> replies = ["Here is the chart:\n```svg\n" + svg + "\n```", "<svg><rect"]
    >>> results = visplotbench.compute(predictions=replies, references=["svg_1", "svg_2"], allow_code_execution=True)
    >>> print(results)
    {'pass_rate': 0.5, 'n': 2, 'env_failures': 0, 'pass_rate_svg': 0.5, 'n_svg': 2, 'status_ok': 1, 'status_error': 1}

    Tasks of your own, with their data, and the per-prediction details:
    >>> spec = '{"data": {"url": "data.csv"}, "mark": "bar", "encoding": {"x": {"field": "a", "type": "nominal"}, "y": {"field": "b", "type": "quantitative"}}}'
    >>> task = {"id": "my_bars", "language": "vegalite", "data": "a,b\nx,1\ny,3\n"}
    >>> results = visplotbench.compute(predictions=[spec], references=[task], allow_code_execution=True, return_details=True)
    >>> results["pass_rate_vegalite"], results["details"][0]["status"]
    (1.0, 'ok')

    Without the opt-in nothing is executed:
    >>> visplotbench.compute(predictions=[svg], references=["svg_1"])
    Traceback (most recent call last):
    ...
    ValueError: The visplotbench metric executes model-written programs...
"""

_WARNING = """\
The visplotbench metric executes model-written programs (Python, LaTeX, LilyPond, Asymptote, HTML, ...).
They run in the visplotbench sandbox (bubblewrap: no network, a fresh temporary directory, a read-only
view of the system, a scrubbed environment, process/memory/CPU/file-size limits and a wall-clock timeout),
but no sandbox is perfect: a program may still use CPU and memory up to its limits, and a flaw in a tool
or in the sandbox could expose your machine. Run it on a machine you can afford to lose, for example a
container or a throw-away VM.
To opt in, pass allow_code_execution=True to compute(), or set the environment variable
VISPLOTBENCH_ALLOW_CODE_EXECUTION=1.
"""

_STATUS_ORDER = ("ok", "error", "timeout", "no_output", "blank", "no_code", "env_failure")


def _env_opt_in():
    return os.environ.get("VISPLOTBENCH_ALLOW_CODE_EXECUTION", "").strip().lower() in ("1", "true", "yes")


def _language_of(task_id):
    language = str(task_id).rsplit("_", 1)[0]
    if language not in LANGUAGES:
        raise ValueError(
            f"Cannot tell the language of task {task_id!r}: ids look like '<language>_<n>' with a language "
            f"among {', '.join(LANGUAGES)}. Pass a task dict with a 'language' key, or languages=[...]."
        )
    return language


def _as_column(reference):
    """A task dict or ``Task`` reduced to the three declared fields; task ids pass through."""
    if isinstance(reference, str) or reference is None:
        return reference
    get = reference.get if isinstance(reference, dict) else lambda key: getattr(reference, key, None)
    return {
        "id": str(get("id") or ""),
        "language": str(get("language") or ""),
        "data": str(get("data") or ""),
    }


def _resolve(references, languages, source):
    """(language, data, task_id) for each reference; ids are looked up in the task source."""
    if isinstance(languages, str) or languages is None:
        languages = [languages] * len(references)
    if len(languages) != len(references):
        raise ValueError(f"languages has {len(languages)} entries for {len(references)} references.")
    wanted = {
        check_language(lang or _language_of(ref))
        for ref, lang in zip(references, languages, strict=True)
        if isinstance(ref, str)
    }
    found = {}
    if wanted:
        found = {task.id: task for task in load_tasks(source, sorted(wanted, key=list(LANGUAGES).index))}
    resolved = []
    for ref, language in zip(references, languages, strict=True):
        if isinstance(ref, str):
            if ref not in found:
                same = sorted(found, key=lambda i: (len(i), i))
                raise ValueError(
                    f"Unknown task id {ref!r} in tasks={source!r}. Known ids: "
                    f"{', '.join(same[:20])}{' ...' if len(same) > 20 else ''}."
                )
            task = found[ref]
            resolved.append((check_language(language or task.language), task.data, task.id))
        else:
            task_id = ref.get("id") or ""
            language = language or ref.get("language") or _language_of(task_id)
            resolved.append((check_language(language), ref.get("data") or "", task_id))
    return resolved


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Visplotbench(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=[
                datasets.Features(
                    {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
                ),
                datasets.Features(
                    {
                        "predictions": datasets.Value("string"),
                        "references": {
                            "id": datasets.Value("string"),
                            "language": datasets.Value("string"),
                            "data": datasets.Value("string"),
                        },
                    }
                ),
            ],
            homepage="https://huggingface.co/datasets/TIGER-Lab/VisPlotBench",
            codebase_urls=["https://github.com/TIGER-AI-Lab/VisCoder2"],
            reference_urls=["https://arxiv.org/abs/2510.23642"],
            license="Apache-2.0",
        )

    def add_batch(self, *, predictions=None, references=None, **kwargs):
        """Add predictions and references (task dicts are reduced to id, language and data first)."""
        if references is not None:
            references = [_as_column(ref) for ref in references]
        return super().add_batch(predictions=predictions, references=references, **kwargs)

    def add(self, *, prediction=None, reference=None, **kwargs):
        """Add one prediction and reference (a task dict is reduced to id, language and data first)."""
        return super().add(prediction=prediction, reference=_as_column(reference), **kwargs)

    def _compute(
        self,
        predictions,
        references,
        languages=None,
        tasks="bundled",
        allow_code_execution=False,
        return_details=False,
    ):
        if not (allow_code_execution or _env_opt_in()):
            raise ValueError(_WARNING)
        resolved = _resolve(references, languages, tasks)
        jobs, details = [], []
        for prediction, (language, data, task_id) in zip(predictions, resolved, strict=True):
            extraction = extract_code(prediction, language)
            details.append(
                {
                    "task_id": task_id,
                    "language": language,
                    "status": "no_code",
                    "passed": False,
                    "error": "The prediction contained no code.",
                    "extraction_rule": extraction.rule,
                }
            )
            if extraction.code.strip():
                jobs.append(
                    (len(details) - 1, RenderJob(language, extraction.code, data_files(language, data)))
                )
        results = default_pool().map(job for _, job in jobs)
        for (index, _), result in zip(jobs, results, strict=True):
            details[index].update(status=result.status.value, passed=result.ok, error=result.error)
        return self._aggregate(details, return_details)

    @staticmethod
    def _aggregate(details, return_details):
        env = [d for d in details if d["status"] == "env_failure"]
        if env:
            logger.warning(
                f"{len(env)} prediction(s) could not be rendered because of the environment "
                f"(not scored): {env[0]['language']}: {env[0]['error'][:300]}"
            )

        def rate(rows):
            scored = [d for d in rows if d["status"] != "env_failure"]
            return sum(d["passed"] for d in scored) / len(scored) if scored else float("nan")

        out = {"pass_rate": rate(details), "n": len(details), "env_failures": len(env)}
        for language in LANGUAGES:
            rows = [d for d in details if d["language"] == language]
            if rows:
                out[f"pass_rate_{language}"] = rate(rows)
                out[f"n_{language}"] = len(rows)
        statuses = [d["status"] for d in details]
        for status in sorted(set(statuses), key=lambda s: (*_STATUS_ORDER, s).index(s)):
            out[f"status_{status}"] = statuses.count(status)
        if return_details:
            out["details"] = details
        return out
