"""VisPlotBench as a Hugging Face `evaluate` metric: execution pass rate, task and visual scores.

A thin layer over ``visplotbench.metric.score_replies``: the predictions become a replay run of the
benchmark (``visplotbench run`` then ``visplotbench score``), so every number is the harness's own.
Load it from any directory with the package installed: ``evaluate.load(visplotbench.metric_path())``;
from a clone of the repository ``evaluate.load("visplotbench")`` finds ``visplotbench/visplotbench.py``
(a link to this file); from the Hub, ``evaluate.load("<namespace>/visplotbench")``.
"""

import json
import os

import datasets
import evaluate

from visplotbench.metric import score_replies
from visplotbench.tasks import Task

_CITATION = """\
@inproceedings{ni2026viscoder2,
  title     = {VisCoder2: Building Multi-Language Visualization Coding Agents},
  author    = {Yuansheng Ni and Songcheng Cai and Xiangchao Chen and Jiarong Liang and Zhiheng Lyu
               and Jiaqi Deng and Kai Zou and Ping Nie and Fei Yuan and Xiang Yue and Wenhu Chen},
  booktitle = {International Conference on Learning Representations (ICLR)},
  year      = {2026},
  note      = {arXiv:2510.23642}
}
"""

_DESCRIPTION = """\
VisPlotBench measures model-written visualization code in 8 languages: Python (matplotlib, seaborn,
plotly, ...), Vega-Lite, LilyPond, Mermaid, SVG, LaTeX (TikZ/pgfplots), Asymptote and HTML. Every reply
is rendered by the visplotbench engine in a sandbox (no network, own temporary directory, scrubbed
environment, CPU/memory/time limits) with the task's data files. The execution pass rate counts replies
that render without error to a non-blank image, overall (task-weighted, as the VisCoder2 paper) and per
language; a list of replies (a self-debug conversation) also gives the pass rate after self-debug.
SSIM and edge F1 against the task's reference image are always computed; with a judge
(judge="openai:<model>", any OpenAI-compatible vision endpoint) the paper's task and visual scores too.
The scoring is the benchmark harness's own (`visplotbench run` with the replay backend, then
`visplotbench score`), so the numbers equal the CLI's.
"""

_KWARGS_DESCRIPTION = r"""
Renders each prediction for its task, self-debug rounds included, and scores the images.
Args:
    predictions: list, one per task: a reply (str; the program is taken from its code fence by the
        benchmark's rules, or the bare program), or a list of replies, rounds 0, 1, ... of a self-debug
        conversation (round k is used only when rounds 0..k-1 failed, as in the harness).
    references: list, one per prediction, either all task ids (str, e.g. "svg_3", looked up in `tasks`)
        or all tasks: dicts (or visplotbench ``Task`` objects) with "id", "data" (the task's data
        payload, may be empty) and optionally "language" (else taken from an id "<language>_<n>"),
        "task__plot_description", "task__plot_style" (the task judge's text), "image" (reference PNG
        bytes, for SSIM, edge F1 and the visual score), "files" (more data files, a JSON object).
    languages: optional language key, or one per prediction, overriding the task's language
        (python, vegalite, mermaid, lilypond, svg, asymptote, latex, html).
    tasks: where task ids are looked up: "bundled" (default, ships with visplotbench), "hub"
        (TIGER-Lab/VisPlotBench), a Hub repo id, a local folder in the Hub layout, or a .parquet file.
    allow_code_execution: must be True (or the environment variable VISPLOTBENCH_ALLOW_CODE_EXECUTION=1)
        because predictions are programs that get executed.
    judge: "<backend>:<model>" of an OpenAI-compatible vision model (e.g. "openai:gpt-4.1") for the task
        and visual scores; None (default) computes no judge score.
    judge_options: dict of judge settings as `visplotbench score --judge-option` takes them: base_url,
        api_key_env (the NAME of the variable holding the key), concurrency, retries, timeout_s, ...
    judge_prompts: a judge prompt file (the original instructs.json or ours); default: our judge-v1 texts.
    run_dir: keep the run folder (results.jsonl, images, scores, report.md, report.html) in this folder;
        default: a temporary folder, deleted afterwards.
    resume: continue the run in run_dir.
    cache_dir: render and judgement caches (default ~/.cache/visplotbench/cache; "" turns them off).
    progress: show progress bars.
    return_details: also return "details", one dict per prediction (task_id, language, replies,
        attempts, status, passed, passed_first_try, passed_round, error, failure_kind, extraction_rule).
Returns:
    pass_rate: tasks passed on the first try / all tasks (0..1), the paper's main column.
    self_debug_pass_rate: passed after the last round (0..1); only when some prediction has rounds.
    rounds: self-debug rounds K (the longest conversation less one).
    n: number of tasks. complete: False when some task ended in an environment failure.
    env_failures: tasks the environment could not render (counted as not passed, as in the harness).
    pass_rate_excluding_env_failures: passed after the last round / tasks without environment failures.
    pass_rate_<language>, self_debug_pass_rate_<language>, n_<language>: per language present.
    status_<status>: how many tasks' last attempts ended with each status (ok, error, timeout,
        no_output, blank, env_failure, no_code, generation_failed, bad_task), only those that occurred.
    ssim, edge_f1 (0..1) and ssim_<language>, edge_f1_<language>: image similarity of the last attempt's
        first image to the task's reference image; an attempt without an image scores 0; only tasks
        that have a reference image count (the keys are absent when none has).
    task_score, visual_score (0..100), their _<language> means, _good (share of tasks >= 75),
        _unparsed and _failed (judge replies without a score / requests that failed; both count 0):
        with a judge only.
Examples:
    >>> import evaluate, visplotbench
    >>> metric = evaluate.load(visplotbench.metric_path())
    >>> svg = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80"><rect x="10" y="10" width="100" height="60" fill="steelblue"/></svg>'
    >>> replies = ["Here is the chart:\n```svg\n" + svg + "\n```", "<svg><rect"]
    >>> results = metric.compute(predictions=replies, references=["svg_1", "svg_2"], allow_code_execution=True, cache_dir="")
    >>> results["pass_rate"], results["n"], results["status_ok"], results["status_error"], results["complete"]
    (0.5, 2, 1, 1, True)
    >>> 0.0 <= results["ssim"] <= 1.0 and 0.0 <= results["edge_f1"] <= 1.0
    True

    A self-debug conversation (the first reply fails, the second fixes it):
    >>> results = metric.compute(predictions=[["```svg\n<svg><rect\n```", svg]], references=["svg_1"], allow_code_execution=True, cache_dir="")
    >>> results["pass_rate"], results["self_debug_pass_rate"], results["rounds"]
    (0.0, 1.0, 1)

    Tasks of your own, with their data, and the per-prediction details:
    >>> spec = '{"data": {"url": "data.csv"}, "mark": "bar", "encoding": {"x": {"field": "a", "type": "nominal"}, "y": {"field": "b", "type": "quantitative"}}}'
    >>> task = {"id": "my_bars", "language": "vegalite", "data": "a,b\nx,1\ny,3\n"}
    >>> results = metric.compute(predictions=[spec], references=[task], allow_code_execution=True, return_details=True, cache_dir="")
    >>> results["pass_rate_vegalite"], results["details"][0]["status"], "ssim" in results
    (1.0, 'ok', False)

    Without the opt-in nothing is executed:
    >>> metric.compute(predictions=[svg], references=["svg_1"])
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

_TASK_FIELDS = ("id", "language", "data", "task__plot_description", "task__plot_style", "files")


def _env_opt_in():
    return os.environ.get("VISPLOTBENCH_ALLOW_CODE_EXECUTION", "").strip().lower() in ("1", "true", "yes")


def _as_replies(prediction):
    """A reply becomes a one-round conversation; a list of replies stays a list."""
    replies = [prediction] if isinstance(prediction, str) else prediction
    if not isinstance(replies, (list, tuple)) or not replies or not all(isinstance(r, str) for r in replies):
        raise ValueError(
            "A prediction must be a reply (str) or a non-empty list of replies (rounds 0, 1, ... of a "
            f"self-debug conversation), not {prediction!r:.80}."
        )
    return list(replies)


def _as_column(reference):
    """A task dict or ``Task`` as the dict the metric's features store; task ids pass through."""
    if isinstance(reference, str) or reference is None:
        return reference
    if isinstance(reference, Task):
        get = lambda key: getattr(reference, key, None)  # noqa: E731
    elif isinstance(reference, dict):
        get = reference.get
    else:
        raise ValueError(f"A reference must be a task id, a task dict or a Task, not {reference!r:.80}.")
    column = {key: str(get(key) or "") for key in _TASK_FIELDS}
    if get("files") and not isinstance(get("files"), str):
        column["files"] = json.dumps(get("files"))
    image = get("image")
    column["image"] = bytes(image) if isinstance(image, (bytes, bytearray)) and image else None
    return column


_TASK_FEATURES = {
    **{key: datasets.Value("string") for key in _TASK_FIELDS},
    "image": datasets.Value("binary"),
}
_PREDICTIONS = datasets.List(datasets.Value("string"))


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Visplotbench(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=[
                datasets.Features({"predictions": _PREDICTIONS, "references": datasets.Value("string")}),
                datasets.Features({"predictions": _PREDICTIONS, "references": _TASK_FEATURES}),
            ],
            homepage="https://huggingface.co/datasets/TIGER-Lab/VisPlotBench",
            codebase_urls=["https://github.com/TIGER-AI-Lab/VisCoder2"],
            reference_urls=["https://arxiv.org/abs/2510.23642"],
            license="Apache-2.0",
        )

    def add_batch(self, *, predictions=None, references=None, **kwargs):
        """Add predictions (replies or lists of replies) and references (task ids or tasks)."""
        if predictions is not None and references is not None and len(predictions) != len(references):
            raise ValueError(
                f"Got {len(predictions)} predictions for {len(references)} references: give one per task."
            )
        if predictions is not None:
            predictions = [_as_replies(p) for p in predictions]
        if references is not None:
            references = [_as_column(ref) for ref in references]
        return super().add_batch(predictions=predictions, references=references, **kwargs)

    def add(self, *, prediction=None, reference=None, **kwargs):
        """Add one prediction (a reply or a list of replies) and its reference (a task id or a task)."""
        prediction = None if prediction is None else _as_replies(prediction)
        return super().add(prediction=prediction, reference=_as_column(reference), **kwargs)

    def _compute(
        self,
        predictions,
        references,
        languages=None,
        tasks="bundled",
        allow_code_execution=False,
        judge=None,
        judge_options=None,
        judge_prompts=None,
        run_dir=None,
        resume=False,
        cache_dir=None,
        progress=False,
        return_details=False,
    ):
        if not (allow_code_execution or _env_opt_in()):
            raise ValueError(_WARNING)
        references = [
            ref if isinstance(ref, str) else {k: v for k, v in ref.items() if v not in (None, "")}
            for ref in references
        ]
        result = score_replies(
            predictions,
            references,
            languages=languages,
            tasks=tasks,
            judge=judge,
            judge_options=judge_options,
            judge_prompts=judge_prompts,
            run_dir=run_dir,
            resume=resume,
            cache_dir=cache_dir,
            progress=progress,
        )
        return result.to_dict(details=return_details)
