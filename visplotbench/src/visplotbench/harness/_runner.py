"""Run VisPlotBench: generate, extract, render, record; then self-debug the failures for K rounds.

Rounds run one after another; within a round, replies are rendered as they arrive (generation and
rendering overlap) and every attempt is appended to ``results.jsonl`` the moment it is finished.
``resume=True`` skips what is already recorded, so a run killed at any point and resumed ends with
the same numbers and no duplicate rows.
"""

from __future__ import annotations

import dataclasses
import platform
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from visplotbench.backends import GenerationRequest, GenerationResult, make_backend
from visplotbench.engine import InvalidJob, RenderJob, RenderPool, RenderResult
from visplotbench.engine.assets import js_versions
from visplotbench.engine.registry import data_files
from visplotbench.extract import extract_code
from visplotbench.harness._cache import (
    Cache,
    default_cache_dir,
    digest,
    render_key,
    result_from_cache,
    result_to_cache,
)
from visplotbench.harness._metrics import RunSummary, failure_kind, summarize
from visplotbench.harness._progress import Progress
from visplotbench.harness._records import RECORD_VERSION, AttemptRecord
from visplotbench.harness._selfdebug import SELF_DEBUG_VERSION, next_messages
from visplotbench.harness._store import RunStore
from visplotbench.prompts import build_messages, load_prompts
from visplotbench.tasks import Task, load_tasks


@dataclass
class RunConfig:
    """Everything that defines a benchmark run (the CLI fills it; ``config.json`` records it).

    Attributes:
        model: ``<backend>:<target>``, e.g. ``openai:gpt-4.1``, ``transformers:./ckpt``, ``gold``.
        out: the run folder.
        languages: language keys (all when empty).
        tasks: ``bundled``, ``hub``, a Hub repo id, a local Hub-layout folder or a parquet file.
        limit: keep the first N tasks per language.
        self_debug: rounds of self-debugging after the first attempt (K).
        prompts: a prompt file in the original ``instructs.json`` format (our v1 texts when None).
        descriptor: data descriptor (head, describe, datalore, pycharm, lida, empty).
        backend_options: backend settings (see each backend's config class).
        cache_dir: content-addressed caches; None: the user cache dir; "" disables caching.
        resume: continue an existing run folder.
        progress: show progress bars.
        offline_metrics: compute the offline visual metrics (SSIM, edge F1) at the end of the run.
    """

    model: str
    out: str
    languages: list[str] = field(default_factory=list)
    tasks: str = "bundled"
    limit: int | None = None
    self_debug: int = 3
    prompts: str | None = None
    descriptor: str = "head"
    backend_options: dict[str, Any] = field(default_factory=dict)
    cache_dir: str | None = None
    resume: bool = False
    progress: bool = True
    offline_metrics: bool = True


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": sys.version.split()[0], "platform": platform.platform()}
    for dist in (
        "visplotbench",
        "matplotlib",
        "seaborn",
        "plotly",
        "pandas",
        "numpy",
        "vl-convert-python",
        "cairosvg",
        "openai",
        "transformers",
        "torch",
        "datasets",
    ):
        try:
            found[dist] = version(dist)
        except PackageNotFoundError:
            pass
    return found


def _task_digest(task: Task) -> str:
    extra = [task.files] if task.files else []  # absent from older runs' fingerprints
    return digest(
        [task.id, task.task__plot_description, task.task__plot_style, task.data, task.used_lib, *extra]
    )


class Runner:
    """One benchmark run over ``config``; ``run()`` returns the summary."""

    def __init__(self, config: RunConfig):
        self.config = config
        self.tasks = load_tasks(config.tasks, config.languages or None, config.limit)
        if not self.tasks:
            raise ValueError(
                f"No tasks selected from {config.tasks!r} for languages {config.languages or 'all'}."
            )
        self.by_id = {t.id: t for t in self.tasks}
        self.prompts = load_prompts(config.prompts)
        self.backend = make_backend(config.model, config.backend_options)
        cache_root = default_cache_dir() if config.cache_dir is None else (config.cache_dir or None)
        self.gen_cache = Cache(cache_root, "generations")
        self.render_cache = Cache(cache_root, "renders")
        self.store = RunStore(config.out)
        self._lock = threading.Lock()

    def settings(self) -> dict[str, Any]:
        """config.json: what produced this run, and a fingerprint of what must match on --resume."""
        identity = self.backend.identity()
        fingerprint = digest(
            [
                identity,
                self.prompts.sha256,
                self.config.descriptor,
                self.config.self_debug,
                SELF_DEBUG_VERSION,
                RECORD_VERSION,
                sorted(_task_digest(t) for t in self.tasks),
            ]
        )
        return {
            "fingerprint": fingerprint,
            "config": {
                k: v
                for k, v in dataclasses.asdict(self.config).items()
                if k not in ("resume", "progress", "offline_metrics")
            },
            "backend": identity,
            "prompts": {"version": self.prompts.version, "sha256": self.prompts.sha256},
            "self_debug": {"rounds": self.config.self_debug, "version": SELF_DEBUG_VERSION},
            "tasks": {
                "source": self.config.tasks,
                "count": len(self.tasks),
                "per_language": {
                    lang: sum(t.language == lang for t in self.tasks)
                    for lang in dict.fromkeys(t.language for t in self.tasks)
                },
            },
            "versions": _versions(),
            # The Mermaid release and every pinned chart library (part of the render cache key).
            "javascript": js_versions(),
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }

    # ------------------------------------------------------------------ one round

    def _requests(self, round_: int, done: dict[tuple[str, int], AttemptRecord]) -> list[GenerationRequest]:
        requests = []
        for task in self.tasks:
            if (task.id, round_) in done:
                continue
            if round_ == 0:
                messages = build_messages(task, self.prompts, self.config.descriptor)
            else:
                prev = done.get((task.id, round_ - 1))
                if prev is None or prev.passed or prev.status in ("env_failure", "bad_task"):
                    continue
                if any(done[(task.id, k)].passed for k in range(round_) if (task.id, k) in done):
                    continue
                messages = next_messages(prev.messages, task.language, prev.code, prev.status, prev.error)
            requests.append(GenerationRequest(task.id, round_, messages, task))
        return requests

    def _render(self, task: Task, code: str) -> tuple[RenderResult | None, Future[RenderResult] | None, str]:
        job = RenderJob(task.language, code, {**data_files(task.language, task.data), **task.files})
        try:
            versions = self.pool.renderer(task.language).versions()
        except Exception:  # the renderer cannot start: let the pool report env_failure
            return None, self.pool.submit(job), ""
        key = render_key(job, versions)
        cached = self.render_cache.get(key)
        if cached is not None:
            return result_from_cache(cached), None, key
        return None, self.pool.submit(job), key

    def _finish(
        self,
        request: GenerationRequest,
        gen: GenerationResult,
        result: RenderResult | None,
        code: str,
        rule: str,
        timings: dict[str, float],
        cache: list[str],
        bad_task: str = "",
    ) -> None:
        task = self.by_id[request.task_id]
        images: list[bytes]
        if gen.error:
            status, error, images = "generation_failed", f"The model request failed: {gen.error}", []
        elif bad_task:  # the task's own data cannot be given to any program: not the model's fault
            status, error, images = "bad_task", f"This task cannot be run as given: {bad_task}", []
        elif result is None:
            status, error, images = "no_code", "The reply contained no code.", []
        else:
            status, error, images = result.status.value, result.error, result.images
            timings.update({f"render_{k}": v for k, v in result.timings.items()})
        record = AttemptRecord(
            task_id=task.id,
            language=task.language,
            round=request.round,
            messages=request.messages,
            reply=gen.text,
            code=code,
            status=status,
            error=error,
            generation_error=gen.error,
            extraction_rule=rule,
            failure_kind=failure_kind(task.language, status, error),
            passed=status == "ok",
            timings=timings,
            cache=cache,
        )
        self.store.append(record, images)
        with self._lock:
            self.done[(task.id, request.round)] = record
            self.progress.advance(task.language, record.passed, request.round)

    def _run_round(self, round_: int) -> None:
        requests = self._requests(round_, self.done)
        if not requests:
            return
        self.progress.start_round(round_, [self.by_id[r.task_id].language for r in requests])
        identity = self.backend.identity()
        pending: list[Future[RenderResult]] = []
        to_generate: list[int] = []
        keys = [digest([identity, r.messages]) for r in requests]
        started = {i: time.monotonic() for i in range(len(requests))}

        def handle(i: int, gen: GenerationResult) -> None:
            request = requests[i]
            timings = {"generate": time.monotonic() - started[i]}
            cache = ["generation"] if gen.cached else []
            if not gen.error and not gen.cached:
                self.gen_cache.put(keys[i], dataclasses.asdict(gen))
            extraction = extract_code(gen.text, request.task.language) if not gen.error else None
            code = extraction.code if extraction else ""
            rule = extraction.rule if extraction else ""
            if gen.error or not code.strip():
                self._finish(request, gen, None, code, rule, timings, cache)
                return
            try:
                cached, future, key = self._render(request.task, code)
            except InvalidJob as exc:
                self._finish(request, gen, None, code, rule, timings, cache, bad_task=str(exc))
                return
            if cached is not None:
                self._finish(request, gen, cached, code, rule, timings, [*cache, "render"])
                return
            assert future is not None
            render_start = time.monotonic()

            def done(f: Future[RenderResult]) -> None:
                result = f.result()
                if key and result.status.value != "env_failure":
                    self.render_cache.put(key, result_to_cache(result))
                self._finish(
                    request,
                    gen,
                    result,
                    code,
                    rule,
                    {**timings, "render": time.monotonic() - render_start},
                    cache,
                )

            future.add_done_callback(done)
            pending.append(future)

        for i, key in enumerate(keys):
            hit = self.gen_cache.get(key)
            if hit is not None:
                handle(i, GenerationResult(**{**hit, "cached": True}))
            else:
                to_generate.append(i)
        if to_generate:
            sub = [requests[i] for i in to_generate]
            for j, gen in self.backend.generate(sub):
                handle(to_generate[j], gen)
        for future in pending:
            future.result()
        # Callbacks run in the pool's threads; wait until each has written its record.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with self._lock:
                if all((r.task_id, r.round) in self.done for r in requests):
                    break
            time.sleep(0.01)

    # ------------------------------------------------------------------ the whole run

    def run(self) -> RunSummary:
        start = time.monotonic()
        settings = self.settings()
        records = self.store.prepare(settings, resume=self.config.resume)
        self.done: dict[tuple[str, int], AttemptRecord] = {(r.task_id, r.round): r for r in records}
        for task in self.tasks:  # the reports show each task's reference image next to the attempts
            ref = self.store.images / f"{task.id}_ref.png"
            if task.image and not ref.exists():
                ref.write_bytes(task.image)
        self.progress = Progress(
            self.tasks, self.config.self_debug, enabled=self.config.progress, already=records
        )
        self.pool = RenderPool()
        try:
            for round_ in range(self.config.self_debug + 1):
                self._run_round(round_)
        finally:
            self.progress.close()
            self.pool.close()
            self.backend.close()
        summary = self.summary()
        self.store.write_json("summary.json", {**summary.to_json(), "wall_seconds": time.monotonic() - start})
        if self.config.offline_metrics:
            from visplotbench.judges import score_run

            # Offline image metrics against the references (no model): cheap, on by default.
            score_run(self.store.folder, tasks=self.tasks, cache_dir=self.config.cache_dir)
        from visplotbench.report import write_reports

        write_reports(self.store.folder)
        return summary

    def summary(self) -> RunSummary:
        return summarize(self.store.load(), {t.id: t.language for t in self.tasks}, self.config.self_debug)


def run_benchmark(config: RunConfig) -> RunSummary:
    """Run (or resume) a benchmark and return its summary; see ``RunConfig``."""
    return Runner(config).run()


def out_folder(model: str) -> Path:
    """A default run folder for ``model``: runs/<model with / and : replaced>."""
    return Path("runs") / model.replace("/", "_").replace(":", "_")
