"""Stage 1 inputs: registry corpora (``corpora``), plus pluggable sources given as strings.

    hub:<dataset id>[:<config>]?code=<col>&language=<col or value>&license=<SPDX>&form=<form>
        streamed with datatrove's HuggingFaceDatasetReader (e.g. ``hub:allenai/CoSyn-400K:chart?code=code&language=python&form=program``;
        ``bigcode/the-stack-v2-train-smol-ids`` holds Software Heritage blob ids only: its contents need
        Software Heritage access, see the README);
    jsonl:<path or folder>?code=...&language=...  /  parquet:<path or folder>?...   local files, same mapping;
    folder:<path>   every file whose extension names a language (.py .ly .asy .tex .svg .mmd .html .vl.json).

Every record gets provenance (``source``, ``package`` = the dataset id or path, ``path`` = row or file)
and a licence (the ``license`` option, else ``NOASSERTION``). Candidates are written as
``candidates/<shard>.jsonl.gz``; the shard (``metadata["shard"]``) follows a record to the end.
"""

from __future__ import annotations

import functools
import shutil
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from viscode_multi.corpora._common import named_files
from viscode_multi.record import Candidate, Provenance

if TYPE_CHECKING:
    from viscode_multi.pipeline import Build

EXTENSIONS = {
    ".py": "python", ".ly": "lilypond", ".asy": "asymptote", ".tex": "latex", ".svg": "svg", ".mmd": "mermaid",
    ".mermaid": "mermaid", ".html": "html", ".htm": "html", ".vl.json": "vegalite", ".vl": "vegalite",
}  # fmt: skip


def write_candidates(cands: list[Candidate], folder: Path, shards: int) -> Counter[str]:
    """Write candidates round-robin into ``shards`` files (a fresh folder each time: no half-written shard)."""
    from datatrove.pipeline.writers import JsonlWriter

    shutil.rmtree(folder, ignore_errors=True)
    written: Counter[str] = Counter()
    with JsonlWriter(str(folder), output_filename="${shard}.jsonl.gz") as writer:
        for i, cand in enumerate(cands):
            doc = cand.to_document()
            doc.metadata["shard"] = f"{i % shards:05d}"
            writer.write(doc)
            written[cand.language] += 1
    return written


def parse_source(spec: str) -> tuple[str, str, dict[str, str]]:
    """``kind:target?options`` -> (kind, target, options)."""
    kind, _, rest = spec.partition(":")
    target, _, query = rest.partition("?")
    if kind not in ("hub", "jsonl", "parquet", "folder") or not target:
        raise ValueError(
            f"Unknown source {spec!r}: use hub:<id>[:config]?code=<col>&language=<col|value>, "
            "jsonl:<path>?..., parquet:<path>?... or folder:<path>."
        )
    return kind, target, dict(parse_qsl(query))


def _adapter(
    options: dict[str, str], source: str, package: str, reader: Any, data: dict, path: str, index: Any
) -> dict:
    code_col = options.get("code", "code")
    lang_opt = options.get("language", "language")
    language = str(data.get(lang_opt) or lang_opt).lower()
    text = str(data.get(code_col) or "")
    row = f"{path}#{index}"
    prov = Provenance(
        source, package, options.get("revision", ""), row, options.get("license", "NOASSERTION"), package
    )
    cand = Candidate(id=f"{package}/{row}", language=language, text=text, form=options.get("form", "raw"),
                     provenance=prov, description=str(data.get(options.get("description", "description")) or ""))  # fmt: skip
    doc = cand.to_document()
    return {"text": doc.text, "id": doc.id, "metadata": doc.metadata}


def _tag_shard(shards: int, data: Any, rank: int = 0, world_size: int = 1) -> Any:
    for i, doc in enumerate(data):
        doc.metadata["shard"] = f"{(rank + i * world_size) % shards:05d}"
        yield doc


def folder_candidates(root: Path, license_: str = "NOASSERTION") -> list[Candidate]:
    out = []
    for path in sorted(root.rglob("*")):
        suffix = ".vl.json" if path.name.endswith(".vl.json") else path.suffix
        if not path.is_file() or suffix not in EXTENSIONS:
            continue
        rel = str(path.relative_to(root))
        prov = Provenance("local", str(root), "", rel, license_, f"folder:{root.name}")
        text = path.read_text(encoding="utf-8", errors="replace")
        files = named_files(text, path.parent)
        out.append(
            Candidate(f"folder:{root.name}/{rel}", EXTENSIONS[suffix], text, "file", prov, files=files)
        )
    return out


def read_extra_sources(build: Build, specs: list[str]) -> Counter[str]:
    """Add the configured sources' candidates to ``candidates/``; returns ``candidates/<lang>`` counts."""
    from datatrove.pipeline.readers import HuggingFaceDatasetReader, JsonlReader, ParquetReader
    from datatrove.pipeline.writers import JsonlWriter

    counts: Counter[str] = Counter()
    folder = build.work / "candidates"
    for n, spec in enumerate(specs):
        kind, target, options = parse_source(spec)
        if kind == "folder":
            cands = folder_candidates(Path(target), options.get("license", "NOASSERTION"))
            with JsonlWriter(str(folder), output_filename=f"src{n}-" + "${shard}.jsonl.gz") as writer:
                for i, cand in enumerate(cands):
                    doc = cand.to_document()
                    doc.metadata["shard"] = f"{i % build.config.shards:05d}"
                    writer.write(doc)
                    counts[f"candidates/{cand.language}"] += 1
            continue
        source = "hub" if kind == "hub" else "local"
        dataset, _, config_name = target.partition(":")
        adapter = functools.partial(_adapter, options, source, dataset)
        reader: Any
        if kind == "hub":
            dataset_options = {
                "split": options.get("split", "train"),
                **({"name": config_name} if config_name else {}),
            }
            reader = HuggingFaceDatasetReader(dataset, dataset_options=dataset_options, streaming=True, adapter=adapter,
                                              limit=int(options.get("limit", -1)))  # fmt: skip
        elif kind == "jsonl":
            path = Path(target)
            reader = JsonlReader(str(path.parent if path.is_file() else path), glob_pattern=path.name if path.is_file() else None,
                                 adapter=adapter)  # fmt: skip
        else:
            path = Path(target)
            reader = ParquetReader(str(path.parent if path.is_file() else path), glob_pattern=path.name if path.is_file() else None,
                                   adapter=adapter)  # fmt: skip
        stats = build._pipeline(f"sources-{n}", [
            reader, functools.partial(_tag_shard, build.config.shards),
            JsonlWriter(str(folder), output_filename=f"src{n}-" + "${shard}.jsonl.gz"),
        ], tasks=1)  # fmt: skip
        counts[f"candidates/{spec}"] += int(sum(v for k, v in stats.items() if k.endswith("/documents")))
    return counts
