"""The stages of a build, each a datatrove pipeline over the work folder, resumable and summarised.

Work folder (``BuildConfig.work``)::

    candidates/  filtered/  extracted/  verified/  instructed/  dialogues/  deduped/  clean/   kept, per stage
    dropped/<stage>/                     what each stage removed, with the reason (failed/ for verification)
    images/                              rendered PNGs by SHA-256
    logs/<stage>/                        datatrove logs, per-task stats and completion markers
    reports/<stage>.json                 the per-stage summary; reports/decontamination.json

A stage whose summary exists is done and is skipped; inside a stage datatrove skips finished tasks,
so a killed build, run again, redoes only the tasks that were in flight.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from viscode_multi.config import BuildConfig

logger = logging.getLogger(__name__)
STAGES = (
    "sources",
    "filter",
    "extract",
    "verify",
    "instruct",
    "dialogues",
    "dedup",
    "decontaminate",
    "publish",
)


def _reader(folder: Path) -> Any:
    from datatrove.pipeline.readers import JsonlReader

    return JsonlReader(str(folder), glob_pattern="*.jsonl.gz")


def _writer(folder: Path, name: str = "${rank}.jsonl.gz") -> Any:
    from datatrove.pipeline.writers import JsonlWriter

    return JsonlWriter(str(folder), output_filename=name)


def _per_language(stats: Counter[str]) -> dict[str, dict[str, int]]:
    """``step/<lang>/<key>`` counters as {lang: {key: n}} (datatrove's own counters left out)."""
    out: dict[str, dict[str, int]] = {}
    for key, value in stats.items():
        parts = key.split("/")
        # datatrove's own "dropped_<reason>" counters can hold a "/" (an error excerpt): not a language
        if len(parts) >= 3 and not parts[1].startswith("dropped_"):
            out.setdefault(parts[1], {})[("/".join(parts[2:]))] = int(value)
    return {lang: dict(sorted(v.items())) for lang, v in sorted(out.items())}


class Build:
    """Runs the stages of one ``BuildConfig``; ``run(stage)`` or ``run_all()``."""

    def __init__(self, config: BuildConfig, progress: Callable[[str], None] = print):
        self.config = config
        self.work = config.work_path
        self.progress = progress

    # --- bookkeeping -------------------------------------------------------------------------
    def report_path(self, stage: str) -> Path:
        return self.work / "reports" / f"{stage}.json"

    def done(self, stage: str) -> bool:
        return self.report_path(stage).exists()

    def _finish(self, stage: str, started: float, counts: dict[str, Any]) -> dict[str, Any]:
        summary = {"stage": stage, "seconds": round(time.monotonic() - started, 1), **counts}
        path = self.report_path(stage)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(summary, indent=1, sort_keys=True))
        self.progress(self.format_summary(summary))
        return summary

    @staticmethod
    def format_summary(summary: dict[str, Any]) -> str:
        lines = [f"[{summary['stage']}] done in {summary['seconds']} s"]
        for lang, counts in (summary.get("per_language") or {}).items():
            lines.append(f"  {lang:10} " + ", ".join(f"{k}={v}" for k, v in counts.items()))
        for key in ("candidates", "kept", "dropped", "written"):
            if key in summary:
                lines.append(f"  {key}: {summary[key]}")
        return "\n".join(lines)

    def _pipeline(
        self, stage: str, pipeline: list[Any], tasks: int | None = None, workers: int | None = None
    ) -> Counter[str]:
        from viscode_multi.executors import run_pipeline, stage_stats

        tasks = tasks or self.config.shards
        self.progress(f"[{stage}] {tasks} tasks on the {self.config.executor} executor")
        logging_dir = run_pipeline(self.config, stage, pipeline, tasks, workers)
        return stage_stats(logging_dir)

    # --- stages -------------------------------------------------------------------------------
    def sources(self) -> dict[str, Any]:
        from viscode_multi.corpora import load_candidates
        from viscode_multi.sources import read_extra_sources, write_candidates

        started = time.monotonic()
        counts: Counter[str] = Counter()
        cache = Path(self.config.cache) if self.config.cache else None
        cands = load_candidates(
            self.config.corpora,
            cache,
            self.config.max_per_language,
            self.config.languages,
            counts,
            self.config.language_caps,
        )
        written = write_candidates(cands, self.work / "candidates", self.config.shards)
        extra = read_extra_sources(self, self.config.sources) if self.config.sources else Counter()
        per_language: dict[str, dict[str, int]] = {}
        for key, value in {**counts, **extra}.items():
            kind, lang = key.split("/", 1)
            per_language.setdefault(lang, {})[kind] = value
        for lang, n in written.items():
            per_language.setdefault(lang, {})["candidates"] = n
        return self._finish("sources", started, {"per_language": dict(sorted(per_language.items())),
                                                 "candidates": sum(written.values())})  # fmt: skip

    def filter(self) -> dict[str, Any]:
        from viscode_multi.filters import LibraryFilter

        started = time.monotonic()
        stats = self._pipeline("filter", [
            _reader(self.work / "candidates"),
            LibraryFilter(exclusion_writer=_writer(self.work / "dropped/filter")),
            _writer(self.work / "filtered"),
        ])  # fmt: skip
        return self._finish("filter", started, {"per_language": _per_language(stats)})

    def extract(self) -> dict[str, Any]:
        from viscode_multi.extract import ExtractStep

        started = time.monotonic()
        stats = self._pipeline("extract", [
            _reader(self.work / "filtered"),
            ExtractStep(self.config.llm, exclusion_writer=_writer(self.work / "dropped/extract")),
            _writer(self.work / "extracted"),
        ])  # fmt: skip
        return self._finish("extract", started, {"per_language": _per_language(stats)})

    def verify(self) -> dict[str, Any]:
        from viscode_multi.verify import VerifyStep

        started = time.monotonic()
        # tasks finished by an earlier, killed run are skipped: their programs are not timed now
        completions = self.work / "logs" / "verify" / "completions"
        resumed = len(list(completions.iterdir())) if completions.is_dir() else 0
        stats = self._pipeline("verify", [
            _reader(self.work / "extracted"),
            VerifyStep(str(self.work / "images"), self.config.verify, exclusion_writer=_writer(self.work / "failed")),
            _writer(self.work / "verified"),
        ])  # fmt: skip
        per_language = _per_language(stats)
        programs = sum(
            v
            for lang in per_language.values()
            for k, v in lang.items()
            if k == "kept" or k.startswith("dropped:")
        )
        seconds = time.monotonic() - started
        failure_kinds = failure_kind_counts(self.work / "failed")
        rate = round(programs / max(seconds, 1e-9), 3) if not resumed else None
        return self._finish("verify", started, {
            "per_language": per_language, "programs": programs, "programs_per_s": rate,
            "resumed_tasks": resumed, "failure_kinds": failure_kinds,
        })  # fmt: skip

    def instruct(self) -> dict[str, Any]:
        from viscode_multi.instruct import InstructStep

        started = time.monotonic()
        stats = self._pipeline("instruct", [
            _reader(self.work / "verified"),
            InstructStep(str(self.work / "images"), self.config.vlm),
            _writer(self.work / "instructed"),
        ])  # fmt: skip
        return self._finish("instruct", started, {"per_language": _per_language(stats)})

    def dialogues(self) -> dict[str, Any]:
        from viscode_multi.dialogues import DialogueImport, RepairStep

        started = time.monotonic()
        llm = self.config.llm if self.config.repair_with_llm else None
        stats = self._pipeline("dialogues", [
            _reader(self.work / "failed"),
            RepairStep(str(self.work / "images"), self.config.verify, llm),
            _writer(self.work / "dialogues"),
        ])  # fmt: skip
        if self.config.dialogues_import:
            stats += self._pipeline("dialogues-import", [
                DialogueImport(self.config.dialogues_import),
                _writer(self.work / "dialogues", "imported-${rank}.jsonl.gz"),
            ], tasks=1)  # fmt: skip
        return self._finish("dialogues", started, {"per_language": _per_language(stats)})

    def dedup(self) -> dict[str, Any]:
        from datatrove.pipeline.dedup import (
            MinhashDedupBuckets,
            MinhashDedupCluster,
            MinhashDedupFilter,
            MinhashDedupSignature,
        )

        from viscode_multi.dedup import CodeTokenizer, DedupView, ExactImageDedup, minhash_config

        started = time.monotonic()
        q = self.config.quality
        stats = self._pipeline("dedup-exact", [
            _reader(self.work / "instructed"),
            ExactImageDedup(exclusion_writer=_writer(self.work / "dropped/dedup-exact")),
            _writer(self.work / "dedup-exact", "${shard}.jsonl.gz"),
        ], tasks=1)  # fmt: skip
        mh = minhash_config(q.minhash_ngrams, q.minhash_buckets, q.minhash_hashes_per_bucket)
        base = self.work / "minhash"
        exact_out = self.work / "dedup-exact"
        self._pipeline("dedup-signatures", [
            _reader(exact_out), DedupView(), MinhashDedupSignature(str(base / "signatures"), config=mh, language=CodeTokenizer()),
        ])  # fmt: skip
        self._pipeline("dedup-buckets", [
            MinhashDedupBuckets(str(base / "signatures"), str(base / "buckets"), config=mh),
        ], tasks=mh.num_buckets)  # fmt: skip
        self._pipeline("dedup-clusters", [
            MinhashDedupCluster(str(base / "buckets"), str(base / "remove_ids"), config=mh),
        ], tasks=1)  # fmt: skip
        near = self._pipeline("dedup-minhash", [
            _reader(exact_out),
            MinhashDedupFilter(str(base / "remove_ids"), exclusion_writer=_writer(self.work / "dropped/dedup-minhash")),
            _writer(self.work / "deduped", "${shard}.jsonl.gz"),
        ])  # fmt: skip
        per_language = _per_language(stats)
        for lang, n in Counter(
            d["metadata"]["language"] for d in _iter(self.work / "dropped/dedup-minhash")
        ).items():
            per_language.setdefault(lang, {})["dropped:near-duplicate"] = n
        return self._finish("dedup", started, {"per_language": per_language,
                                               "minhash": {k: int(v) for k, v in near.items() if "dropped" in k or "forwarded" in k}})  # fmt: skip

    def decontaminate(self) -> dict[str, Any]:
        from viscode_multi.decontam import Decontaminate

        started = time.monotonic()
        q = self.config.quality
        stats = self._pipeline("decontaminate", [
            _reader(self.work / "deduped"),
            Decontaminate(q.decontam_ngram, q.decontam_min_fraction, str(self.work / "reports/decontamination.json"),
                          exclusion_writer=_writer(self.work / "dropped/decontaminate")),
            _writer(self.work / "clean", "${shard}.jsonl.gz"),
        ], tasks=1)  # fmt: skip
        return self._finish("decontaminate", started, {"per_language": _per_language(stats)})

    def publish(self) -> dict[str, Any]:
        from viscode_multi.publish import publish

        started = time.monotonic()
        stages = {}
        for stage in STAGES[:-1]:
            if self.done(stage):
                report = json.loads(self.report_path(stage).read_text())
                per_language = report.get("per_language", {})
                stages[stage] = {k: v for k, v in per_language.items() if not k.startswith("dropped_")}
        written = publish(
            self.work / "clean", self.work / "dialogues", self.work / "images", Path(self.config.out),
            self.config.quality.cap_per_language, {"stages": stages, "config": self.config.to_json()},
        )  # fmt: skip
        return self._finish("publish", started, {"written": written})

    # --- driver ------------------------------------------------------------------------------
    def run(self, stage: str, force: bool = False) -> dict[str, Any]:
        if stage not in STAGES:
            raise ValueError(f"Unknown stage {stage!r}; choose from: {', '.join(STAGES)}.")
        if self.done(stage) and not force:
            summary = json.loads(self.report_path(stage).read_text())
            self.progress(f"[{stage}] already done (delete {self.report_path(stage)} to redo)")
            return summary
        self.config.save()
        result: dict[str, Any] = getattr(self, stage)()
        return result

    def run_all(self) -> dict[str, dict[str, Any]]:
        return {stage: self.run(stage) for stage in STAGES}


def _iter(folder: Path) -> Any:
    from viscode_multi.publish import read_jsonl_folder

    return read_jsonl_folder(folder) if folder.exists() else iter(())


def failure_kind_counts(folder: Path) -> dict[str, dict[str, int]]:
    """language -> failure kind -> count, over the verification stage's dropped programs."""
    out: dict[str, Counter[str]] = {}
    for doc in _iter(folder):
        render = doc["metadata"].get("render") or {}
        kind = f"{render.get('status')}:{render.get('failure_kind')}"
        out.setdefault(doc["metadata"].get("language", "?"), Counter())[kind] += 1
    return {lang: dict(c.most_common(15)) for lang, c in sorted(out.items())}
