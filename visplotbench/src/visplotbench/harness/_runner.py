"""Run VisPlotBench: generate, extract, render, record; then self-debug the failures for K rounds.

Rounds run one after another; within a round, replies are rendered as they arrive (generation and
rendering overlap) and every attempt is appended to ``results.jsonl`` the moment it is finished; a
round ends when every attempt's record is durable (a failure to write one stops the run with its
error). ``resume=True`` skips what is already recorded, so a run killed at any point and resumed ends
with the same numbers and no duplicate rows. The runner only writes the run folder: scoring and the
reports are ``visplotbench.run_benchmark``'s next steps.
"""

from __future__ import annotations

import collections
import dataclasses
import platform
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

from visplotbench.backends import GenerationRequest, GenerationResult, make_backend
from visplotbench.engine import RenderJob, RenderPool, RenderResult, RenderStatus
from visplotbench.engine.assets import js_versions
from visplotbench.harness._attempt import Prepared, attempt_record, first_messages, follow_up, prepare
from visplotbench.harness._config import RunConfig
from visplotbench.harness._progress import Progress
from visplotbench.harness._selfdebug import SELF_DEBUG_VERSION
from visplotbench.prompts import load_prompts
from visplotbench.runfolder import (
    RECORD_VERSION,
    AttemptRecord,
    Cache,
    RunFolder,
    RunManifest,
    RunStore,
    RunSummary,
    TaskCounts,
    default_cache_dir,
    digest,
)
from visplotbench.runfolder._cache import render_key, result_from_cache, result_to_cache
from visplotbench.tasks import Task, load_tasks


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
        # Called with each attempt once its record is durable (e.g. ``OnlineScorer.submit``, which
        # scores while the run goes on); must return quickly and not raise.
        self.listeners: list[Callable[[AttemptRecord], None]] = []

    def manifest(self) -> RunManifest:
        """What produced this run, and a fingerprint of what must match on --resume (``config.json``)."""
        identity = self.backend.identity()
        config = self.config
        fingerprint = digest(
            [
                identity,
                self.prompts.sha256,
                config.descriptor,
                config.self_debug,
                SELF_DEBUG_VERSION,
                RECORD_VERSION,
                sorted(_task_digest(t) for t in self.tasks),
            ]
        )
        per_language: dict[str, int] = {}
        for task in self.tasks:
            per_language[task.language] = per_language.get(task.language, 0) + 1
        return RunManifest(
            fingerprint=fingerprint,
            model=config.model,
            rounds=config.self_debug,
            tasks=TaskCounts(config.tasks, len(self.tasks), per_language),
            descriptor=config.descriptor,
            languages=list(config.languages),
            limit=config.limit,
            prompts_file=config.prompts,
            prompts_version=self.prompts.version,
            prompts_sha256=self.prompts.sha256,
            self_debug_version=SELF_DEBUG_VERSION,
            backend=identity,
            backend_options=dict(config.backend_options),
            cache_dir=config.cache_dir,
            versions=_versions(),
            javascript=js_versions(),
            started_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        )

    # ------------------------------------------------------------------ one round

    def _requests(self, round_: int, done: dict[tuple[str, int], AttemptRecord]) -> list[GenerationRequest]:
        requests = []
        for task in self.tasks:
            if (task.id, round_) in done:
                continue
            if round_ == 0:
                messages = first_messages(task, self.prompts, self.config.descriptor)
            else:
                prev = done.get((task.id, round_ - 1))
                if prev is None or any(
                    done[(task.id, k)].passed for k in range(round_) if (task.id, k) in done
                ):
                    continue
                follow = follow_up(prev)
                if follow is None:
                    continue
                messages = follow
            requests.append(GenerationRequest(task.id, round_, messages, task))
        return requests

    def _render(self, job: RenderJob) -> tuple[RenderResult | None, Future[RenderResult] | None, str]:
        try:
            versions = self.pool.renderer(job.language).versions()
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
        prepared: Prepared,
        timings: dict[str, float],
        cache: list[str],
    ) -> None:
        task = self.by_id[request.task_id]
        record, images = attempt_record(
            task, request.round, request.messages, gen, prepared, result, timings, cache
        )
        self.store.append(record, images)
        with self._lock:
            self.done[(task.id, request.round)] = record
            self.progress.advance(task.language, record.passed, request.round)
        for listener in self.listeners:
            listener(record)

    def _run_round(self, round_: int) -> None:
        requests = self._requests(round_, self.done)
        if not requests:
            return
        self.progress.start_round(round_, [self.by_id[r.task_id].language for r in requests])
        identity = self.backend.identity()
        pending: list[Future[None]] = []  # one per render: done when its record is durable
        to_generate: list[int] = []
        keys = [digest([identity, r.messages]) for r in requests]
        started = {i: time.monotonic() for i in range(len(requests))}

        def handle(i: int, gen: GenerationResult) -> None:
            request = requests[i]
            timings = {"generate": time.monotonic() - started[i]}
            cache = ["generation"] if gen.cached else []
            if not gen.error and not gen.cached:
                self.gen_cache.put(keys[i], dataclasses.asdict(gen))
            prepared = prepare(request.task, gen)
            if prepared.job is None:
                self._finish(request, gen, None, prepared, timings, cache)
                return
            cached, future, key = self._render(prepared.job)
            if cached is not None:
                self._finish(request, gen, cached, prepared, timings, [*cache, "render"])
                return
            assert future is not None
            render_start = time.monotonic()
            recorded: Future[None] = Future()

            def done(f: Future[RenderResult]) -> None:
                try:
                    result = f.result()
                    if key and result.status is not RenderStatus.ENV_FAILURE:
                        self.render_cache.put(key, result_to_cache(result))
                    self._finish(
                        request,
                        gen,
                        result,
                        prepared,
                        {**timings, "render": time.monotonic() - render_start},
                        cache,
                    )
                except BaseException as exc:  # a record that cannot be written stops the run, loudly
                    recorded.set_exception(exc)
                else:
                    recorded.set_result(None)

            future.add_done_callback(done)
            pending.append(recorded)

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
            future.result()  # the record is durable (or its error is raised here)

    # ------------------------------------------------------------------ the whole run

    def run(self) -> RunSummary:
        """Generate, render and record every round; write ``summary.json``; return the summary."""
        start = time.monotonic()
        records = self.store.prepare(self.manifest(), resume=self.config.resume)
        self.done: dict[tuple[str, int], AttemptRecord] = {(r.task_id, r.round): r for r in records}
        for task in self.tasks:  # the reports show each task's reference image next to the attempts
            ref = self.store.images / f"{task.id}_ref.png"
            if task.image and not ref.exists():
                ref.write_bytes(task.image)
        self.progress = Progress(
            self.tasks, self.config.self_debug, enabled=self.config.progress, already=records
        )
        self.pool = RenderPool()
        # Start every renderer the run still needs at once (browser, warm workers), overlapping with
        # the first generations, instead of one language after another on first use.
        unfinished = collections.Counter(
            t.language for t in self.tasks if not any(r.passed for k, r in self.done.items() if k[0] == t.id)
        )
        self.pool.prestart(sorted(unfinished), jobs=unfinished)  # the counts size the warm worker pools
        try:
            for round_ in range(self.config.self_debug + 1):
                self._run_round(round_)
        finally:
            self.progress.close()
            self.pool.close()
            self.backend.close()
        summary = self.summary()
        self.store.write_summary({**summary.to_json(), "wall_seconds": time.monotonic() - start})
        return summary

    def summary(self) -> RunSummary:
        """The pass rates of the run folder as it is now (``RunFolder.summary``)."""
        return RunFolder(self.store.folder).summary()
