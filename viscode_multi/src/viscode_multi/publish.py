"""The dataset folder (the one owner of its on-disk format): parquet shards + a dataset card.

Layout (the Hub's, so ``load_dataset("<folder>")`` and ``push`` need nothing else)::

    <out>/README.md                                  card: configs, features, statistics, licences, build
    <out>/data/<language>/train-0000i-of-0000n.parquet
    <out>/data/dialogues/train-0000i-of-0000n.parquet

Configs: one per language, ``all`` (every language; the default) and ``dialogues``. Images are PNG
bytes in an ``Image`` feature; ``messages`` is the list of chat turns ``viscoder2-train`` reads.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROWS_PER_SHARD = 500
_NS = uuid.UUID("6f1f5d2e-3a7b-4c1e-9f0a-5c3d2b1a0e9f")
_STR: dict[str, Any] = {"dtype": "string", "_type": "Value"}


def features() -> Any:
    """The ``datasets.Features`` of a sample row (dialogue rows use the same)."""
    from datasets import Features, Image, List, Value

    turn = {"role": Value("string"), "content": Value("string"), "loss": Value("bool")}
    parts = ["setup", "data_description", "data", "output_description", "style"]
    prov = ["source", "package", "version", "path", "license", "corpus"]
    return Features(
        {
            "uuid": Value("string"),
            "id": Value("string"),
            "language": Value("string"),
            "messages": List(turn),
            "code": Value("string"),
            "image": Image(),
            "instruction": {p: Value("string") for p in parts},
            "instruction_writer": Value("string"),
            "description": Value("string"),
            "provenance": {p: Value("string") for p in prov},
            "license": Value("string"),
            "extractor": Value("string"),
            "filter_rule": Value("string"),
            "render": {
                "status": Value("string"),
                "seconds": Value("float32"),
                "image_bytes": Value("int64"),
                "width": Value("int32"),
                "height": Value("int32"),
                "colors": Value("int32"),
                "tool_versions": Value("string"),
            },
            "kind": Value("string"),
            "fixer": Value("string"),
            "broken_code": Value("string"),
            "error": Value("string"),
            "failure_kind": Value("string"),
        }
    )


def read_jsonl_folder(folder: Path) -> Iterator[dict[str, Any]]:
    for path in sorted(folder.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)


def to_row(doc: dict[str, Any], images_dir: Path) -> dict[str, Any]:
    meta = doc["metadata"]
    render = meta.get("render") or {}
    broken = meta.get("broken_render") or {}
    sha = render.get("image_sha256")
    image_path = images_dir / sha[:2] / f"{sha}.png" if sha else None
    instruction = meta.get("instruction") or {}
    prov = {k: str(v) for k, v in (meta.get("provenance") or {}).items()}
    return {
        "uuid": str(uuid.uuid5(_NS, doc["id"])),
        "id": doc["id"],
        "language": meta.get("language", ""),
        "messages": meta.get("messages") or [],
        "code": doc["text"],
        "image": {"bytes": image_path.read_bytes(), "path": None} if image_path and image_path.exists() else None,
        "instruction": {k: instruction.get(k, "") for k in ("setup", "data_description", "data", "output_description", "style")},
        "instruction_writer": instruction.get("writer", ""),
        "description": meta.get("description") or "",
        "provenance": prov,
        "license": prov.get("license", ""),
        "extractor": meta.get("extractor") or "",
        "filter_rule": meta.get("filter_rule") or "",
        "render": {
            "status": render.get("status", ""),
            "seconds": render.get("seconds"),
            "image_bytes": render.get("image_bytes"),
            "width": render.get("width"),
            "height": render.get("height"),
            "colors": render.get("colors"),
            "tool_versions": json.dumps(render.get("tool_versions") or {}, sort_keys=True),
        },
        "kind": meta.get("kind") or "sample",
        "fixer": meta.get("fixer") or "",
        "broken_code": meta.get("broken_code") or "",
        "error": broken.get("error", ""),
        "failure_kind": broken.get("failure_kind", ""),
    }  # fmt: skip


def cap_rows(rows: list[dict[str, Any]], cap: int | None) -> tuple[list[dict[str, Any]], int]:
    """At most ``cap`` rows, chosen by a stable hash of the id (so a cap does not favour one folder)."""
    if cap is None or len(rows) <= cap:
        return rows, 0
    chosen = sorted(rows, key=lambda r: hashlib.sha1(r["id"].encode()).hexdigest())[:cap]
    keep = {r["id"] for r in chosen}
    return [r for r in rows if r["id"] in keep], len(rows) - cap


def write_shards(rows: list[dict[str, Any]], folder: Path) -> list[str]:
    from datasets import Dataset

    folder.mkdir(parents=True, exist_ok=True)
    n = max(1, -(-len(rows) // ROWS_PER_SHARD))
    names = []
    for i in range(n):
        name = f"train-{i:05d}-of-{n:05d}.parquet"
        Dataset.from_list(
            rows[i * ROWS_PER_SHARD : (i + 1) * ROWS_PER_SHARD], features=features()
        ).to_parquet(str(folder / name))
        names.append(name)
    return names


def publish(
    samples_dir: Path,
    dialogues_dir: Path,
    images_dir: Path,
    out: Path,
    cap: int | None,
    card_stats: dict[str, Any],
) -> dict[str, Any]:
    """Write the dataset folder from the final stage outputs; returns what was written per config."""
    from viscode_multi.card import write_card

    by_language: dict[str, list[dict[str, Any]]] = {}
    for doc in read_jsonl_folder(samples_dir):
        row = to_row(doc, images_dir)
        by_language.setdefault(row["language"], []).append(row)
    dialogues = (
        [to_row(doc, images_dir) for doc in read_jsonl_folder(dialogues_dir)]
        if dialogues_dir.exists()
        else []
    )
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    written: dict[str, Any] = {"languages": {}, "capped": {}, "dialogues": 0}
    for lang in sorted(by_language):
        rows = sorted(by_language[lang], key=lambda r: r["id"])
        rows, dropped = cap_rows(rows, cap)
        written["capped"][lang] = dropped
        write_shards(rows, tmp / "data" / lang)
        written["languages"][lang] = len(rows)
    if dialogues:
        dialogues.sort(key=lambda r: r["id"])
        write_shards(dialogues, tmp / "data" / "dialogues")
        written["dialogues"] = len(dialogues)
        written["dialogue_languages"] = dict(sorted(Counter(r["language"] for r in dialogues).items()))
        written["dialogue_fixers"] = dict(
            sorted(Counter(r["fixer"].split(":")[0] for r in dialogues).items())
        )
    all_rows = [r for rows in by_language.values() for r in rows]
    written["writers"] = dict(
        sorted(Counter(r["instruction_writer"].split(":")[0] for r in all_rows).items())
    )
    written["licenses"] = dict(
        sorted(Counter((r["language"], r["license"]) for r in all_rows).items(), key=str)
    )
    written["licenses"] = {f"{k[0]}|{k[1]}": v for k, v in written["licenses"].items()}
    write_card(tmp, written, card_stats)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return written
