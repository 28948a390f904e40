"""The ``Rewarder``: extract, render through one shared pool, compare, judge; cached by content."""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from viscoder2_train.rewards._config import (
    ENV_FAILURE,
    JUDGE_FAILURE,
    NO_CODE,
    CompletionScore,
    RewardConfig,
    RewardTask,
    format_score,
)

logger = logging.getLogger("viscoder2_train.rewards")
_RENDER_CACHE_VERSION = "reward-render-1"  # bump when what is cached per render changes


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class _LRU:
    """A small thread-safe LRU map (content key -> value)."""

    def __init__(self, size: int) -> None:
        self.size = max(0, size)
        self._data: collections.OrderedDict[str, Any] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return None

    def put(self, key: str, value: Any) -> None:
        if not self.size:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


@dataclass
class _Render:
    """What a reward needs of a RenderResult (this is what the cache keeps)."""

    status: str
    error: str
    image: bytes | None


class Rewarder:
    """Scores completions with the render engine (see ``viscoder2_train.rewards``).

    Args:
        config: weights and settings.
        pool: a ``visplotbench.RenderPool`` to share (e.g. with an evaluation run); by default the
            rewarder opens its own and closes it in ``close()``.
        judge: a ``visplotbench.judges.Judge`` to use instead of building one from the config.

    ``stats`` counts, over the rewarder's life: completions scored, renders run, cache hits, and
    completions per status (``env_failure`` and ``judge_failure`` among them).
    """

    def __init__(self, config: RewardConfig | None = None, pool: Any = None, judge: Any = None) -> None:
        self.config = config or RewardConfig()
        self.weights = self.config.weights
        self._own_pool = pool is None
        self._pool = pool
        self._judge = judge
        self._renders = _LRU(self.config.reward_cache_size)
        self._judgements = _LRU(self.config.reward_cache_size)
        self._references = _LRU(256)
        self._metrics = _LRU(self.config.reward_cache_size)
        self.stats: collections.Counter[str] = collections.Counter()
        self.last_batch_seconds = 0.0

    # --- resources -------------------------------------------------------------------------------
    @property
    def pool(self) -> Any:
        if self._pool is None:
            from visplotbench import RenderPool

            self._pool = RenderPool(max_workers=self.config.reward_workers)
        return self._pool

    @property
    def judge(self) -> Any:
        if self._judge is None and "judge" in self.weights:
            from visplotbench.judges import make_judge

            assert self.config.reward_judge_model is not None  # RewardConfig checked it
            options = self.config.reward_judge_options
            self._judge = make_judge(
                self.config.reward_judge_model, options if isinstance(options, dict) else {}
            )
        return self._judge

    def close(self) -> None:
        if self._own_pool and self._pool is not None:
            self._pool.close()
        self._pool = None
        if self._judge is not None:
            self._judge.close()
            self._judge = None

    def __enter__(self) -> Rewarder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- scoring ---------------------------------------------------------------------------------
    def _job(self, task: RewardTask, code: str) -> Any:
        from visplotbench.engine.registry import data_files

        from visplotbench import Limits, RenderJob

        limits = Limits(wall_s=self.config.reward_render_timeout_s)
        return RenderJob(task.language, code, data_files(task.language, task.data), limits)

    def _render_all(self, jobs: dict[str, Any]) -> tuple[dict[str, _Render], set[str]]:
        """Render every distinct job (key -> job) not in the cache, all at once through the pool."""
        found: dict[str, _Render] = {}
        hits: set[str] = set()
        futures: dict[str, Future[Any]] = {}
        for key, job in jobs.items():
            cached = self._renders.get(key)
            if cached is not None:
                found[key] = cached
                hits.add(key)
            else:
                futures[key] = self.pool.submit(job)
        for key, future in futures.items():
            result = future.result()
            status = result.status.value
            entry = _Render(status, result.error, result.images[0] if result.ok and result.images else None)
            if status != ENV_FAILURE:  # the environment may recover: never cache its failures
                self._renders.put(key, entry)
            found[key] = entry
        self.stats["renders"] += len(futures)
        self.stats["render_cache_hits"] += sum(1 for k in jobs if k in hits)
        return found, hits

    def _prepared_reference(self, png: bytes) -> Any:
        from visplotbench.judges import prepare

        key = hashlib.sha256(png).hexdigest()
        found = self._references.get(key)
        if found is None:
            found = prepare(png)
            self._references.put(key, found)
        return found

    def _visual(self, image: bytes, reference: bytes) -> tuple[float, dict[str, float]]:
        from visplotbench.judges import compare_images

        key = _digest("visual", hashlib.sha256(image).hexdigest(), hashlib.sha256(reference).hexdigest())
        metrics = self._metrics.get(key)
        if metrics is None:
            metrics = compare_images(image, self._prepared_reference(reference))
            self._metrics.put(key, metrics)
        name = self.config.reward_visual_metric
        value = (metrics["ssim"] + metrics["edge_f1"]) / 2 if name == "mean" else metrics[name]
        return float(value), metrics

    def score(self, replies: Sequence[str], tasks: Sequence[RewardTask]) -> list[CompletionScore]:
        """Score ``replies[i]`` against ``tasks[i]``; renders run in parallel, identical ones once."""
        from visplotbench.extract import extract_code

        if len(replies) != len(tasks):
            raise ValueError(f"{len(replies)} replies but {len(tasks)} tasks: give one task per reply.")
        start = time.monotonic()
        extractions = [extract_code(reply, task.language) for reply, task in zip(replies, tasks, strict=True)]
        keys: list[str | None] = []
        jobs: dict[str, Any] = {}
        for extraction, task in zip(extractions, tasks, strict=True):
            if not extraction.code.strip():
                keys.append(None)
                continue
            job = self._job(task, extraction.code)
            key = _digest(_RENDER_CACHE_VERSION, job.language, job.source, job.files, repr(job.limits))
            keys.append(key)
            jobs[key] = job
        renders, hits = self._render_all(jobs)
        scores = []
        for reply, task, extraction, maybe_key in zip(replies, tasks, extractions, keys, strict=True):
            render = renders[maybe_key] if maybe_key is not None else None
            scores.append(self._components(reply, task, extraction, render, maybe_key in hits))
        if "judge" in self.weights:
            self._add_judge_scores(scores, tasks, renders, keys)
        for s in scores:
            self.stats["scored"] += 1
            self.stats[f"status_{s.status}"] += 1
            if not s.scorable:
                logger.warning("Reward not computed (%s, not the model's fault): %s", s.status, s.error[:300])
        self.last_batch_seconds = time.monotonic() - start
        return scores

    def _components(
        self, reply: str, task: RewardTask, extraction: Any, render: _Render | None, cached: bool
    ) -> CompletionScore:
        out = CompletionScore(
            status=render.status if render else NO_CODE,
            code=extraction.code,
            rule=extraction.rule,
            error=render.error if render else "",
            cached=cached,
        )
        if render is not None and render.status == ENV_FAILURE:
            out.components = dict.fromkeys(self.weights)
            return out
        ok = render is not None and render.image is not None
        values: dict[str, float | None] = {}
        if "renders" in self.weights:
            values["renders"] = 1.0 if ok else 0.0
        if "visual" in self.weights:
            if task.reference_image is None:
                values["visual"] = None
            elif ok and render is not None and render.image is not None:
                values["visual"], out.metrics = self._visual(render.image, task.reference_image)
            else:
                values["visual"] = 0.0
        if "format" in self.weights:
            values["format"] = format_score(reply, task.language)
        if "judge" in self.weights:
            values["judge"] = None if ok else 0.0  # filled in by _add_judge_scores
        if "repair" in self.weights:
            values["repair"] = 0.0  # the rollout's rounds are added by the caller that knows them
        out.components = values
        return out

    def _add_judge_scores(
        self,
        scores: list[CompletionScore],
        tasks: Sequence[RewardTask],
        renders: dict[str, _Render],
        keys: list[str | None],
    ) -> None:
        from visplotbench.judges import JudgeItem

        kind = self.config.reward_judge_kind
        wanted: dict[str, tuple[JudgeItem, list[int]]] = {}
        for i, (score, task, key) in enumerate(zip(scores, tasks, keys, strict=True)):
            if score.status != "ok" or key is None:
                continue
            image = renders[key].image
            assert image is not None
            if kind == "vis" and task.reference_image is None:
                score.components["judge"] = None  # nothing to compare with: not applicable
                continue
            item = JudgeItem(kind, task.language, [image], task.reference_image, task.task_text)
            jkey = _digest(kind, hashlib.sha256(image).hexdigest(), task.task_text, _ref_hash(task))
            cached = self._judgements.get(jkey)
            if cached is not None:
                score.components["judge"] = cached
                continue
            wanted.setdefault(jkey, (item, []))[1].append(i)
        if not wanted:
            return
        order = list(wanted)
        for index, outcome in self.judge.judge([wanted[k][0] for k in order]):
            jkey = order[index]
            if outcome.score is not None:
                value = float(outcome.score) / 100.0
                self._judgements.put(jkey, value)
                for i in wanted[jkey][1]:
                    scores[i].components["judge"] = value
            else:
                for i in wanted[jkey][1]:
                    scores[i].status = JUDGE_FAILURE
                    scores[i].error = f"judge gave no score ({outcome.status}): {outcome.error}"
                    scores[i].components = dict.fromkeys(self.weights)
        self.stats["judge_requests"] += len(order)

    # --- trl -------------------------------------------------------------------------------------
    def reward_funcs(self) -> list[Any]:
        """One trl reward function per weighted component (see ``viscoder2_train.rewards._trl``)."""
        from viscoder2_train.rewards._trl import make_reward_funcs

        return make_reward_funcs(self)

    def reward_weights(self) -> list[float]:
        """trl's ``GRPOConfig.reward_weights``, in the order of ``reward_funcs()``."""
        return list(self.weights.values())


def _ref_hash(task: RewardTask) -> str:
    return hashlib.sha256(task.reference_image).hexdigest() if task.reference_image else ""
