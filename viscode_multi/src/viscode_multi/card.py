"""The dataset card (README.md): ``configs:`` front matter, features, statistics, licences, how it was built."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_FEATURES_DOC = """| field | type | what |
|---|---|---|
| uuid | string | stable UUID (uuid5 of `id`) |
| id | string | `corpus/path#n` of the source program (`repair/...` for dialogues) |
| language | string | python, vegalite, html, latex, asymptote, lilypond, mermaid, svg |
| messages | list of {role, content, loss} | the chat turns `viscoder2-train` reads; `loss: false` marks a turn not to learn (the failing program of a repair) |
| code | string | the verified program |
| image | Image | its rendering by the visplotbench engine (PNG) |
| instruction | {setup, data_description, data, output_description, style} | the five parts |
| instruction_writer | string | `deterministic-v1` or `llm:<model>:prompts-v1-<hash>` |
| description | string | human text that came with the source (docstring, texidoc, title) |
| provenance | {source, package, version, path, license, corpus} | where the program came from |
| license | string | SPDX expression (LicenseRef-... where SPDX has none) |
| extractor | string | the extraction rule or model |
| filter_rule | string | the library rule that kept the candidate |
| render | {status, seconds, image_bytes, width, height, colors, tool_versions} | engine metadata |
| kind | string | `sample`, `repair` or `imported` |
| fixer / broken_code / error / failure_kind | string | dialogues: how the failure was fixed, the failing program, the engine's error excerpt and its kind |
"""


def _yaml_configs(languages: list[str], dialogues: bool) -> str:
    lines = [
        "configs:",
        "- config_name: all",
        "  default: true",
        "  data_files:",
        "  - split: train",
        "    path:",
    ]
    lines += [f"    - data/{lang}/train-*.parquet" for lang in languages]
    for lang in languages:
        lines += [
            f"- config_name: {lang}",
            "  data_files:",
            "  - split: train",
            f"    path: data/{lang}/train-*.parquet",
        ]
    if dialogues:
        lines += [
            "- config_name: dialogues",
            "  data_files:",
            "  - split: train",
            "    path: data/dialogues/train-*.parquet",
        ]
    return "\n".join(lines)


def _table(rows: list[list[Any]], header: list[str]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def write_card(folder: Path, written: dict[str, Any], stats: dict[str, Any]) -> Path:
    languages = sorted(written["languages"])
    total = sum(written["languages"].values())
    licences = sorted({k.split("|", 1)[1] for k in written["licenses"]})
    front = "\n".join(
        [
            "---",
            "license: other",
            "license_details: per-sample SPDX licences in the `license` column (see Licences)",
            "pretty_name: VisCode-Multi (registry build)",
            "language:",
            "- en",
            "tags:",
            "- code",
            "- visualization",
            "- execution-verified",
            "task_categories:",
            "- text-generation",
            "size_categories:",
            f"- {'n<1K' if total < 1000 else '1K<n<10K' if total < 10000 else '10K<n<100K' if total < 100000 else '100K<n<1M'}",
            _yaml_configs(languages, written.get("dialogues", 0) > 0),
            "---",
        ]
    )
    per_lang = [[lang, written["languages"][lang], written["capped"].get(lang, 0)] for lang in languages]
    stage_rows = [
        [stage, json.dumps(counts, sort_keys=True)] for stage, counts in (stats.get("stages") or {}).items()
    ]
    body = f"""
# VisCode-Multi (registry build)

Execution-verified visualization programs in {len(languages)} languages, each with its rendered image,
a five-part instruction and chat `messages`, plus multi-turn repair dialogues built from real failures
and engine-verified fixes. Built by the `viscode-multi` pipeline (datatrove; renders through the
visplotbench engine) from real programs written by people, fetched from the package registries.

```python
from datasets import load_dataset
ds = load_dataset("{folder.name.removesuffix(".tmp")}")               # all languages (default config)
py = load_dataset("{folder.name.removesuffix(".tmp")}", "python")     # one language
dlg = load_dataset("{folder.name.removesuffix(".tmp")}", "dialogues") # repair dialogues
```

## Samples per language

{_table(per_lang, ["language", "samples", "removed by the balance cap"])}

Total: {total} samples; {written.get("dialogues", 0)} dialogues
(languages {json.dumps(written.get("dialogue_languages", {}))}, fixers {json.dumps(written.get("dialogue_fixers", {}))}).

Instruction writers: {json.dumps(written.get("writers", {}))}. The deterministic writer states only what it
reads from the program (language, libraries, chart kinds, title, labels, data lines, colours) and the
human description that came with the source; an endpoint writer is used when one is configured.

## Pipeline statistics (kept and dropped per stage)

{_table(stage_rows, ["stage", "counters"])}

## Features

{_FEATURES_DOC}

## Licences

Each sample carries its source's licence (`license`, SPDX): {", ".join(licences)}.
Counts per language and licence: {json.dumps(written["licenses"])}.

## How it was built

Sources -> library filter -> snippet extraction -> runtime verification (non-monochrome PNG of at least
the configured size, rendered in the visplotbench sandbox) -> instructions -> repair dialogues ->
exact / same-image / MinHash dedup -> decontamination against VisPlotBench -> balance caps -> this folder.
Build configuration: `{json.dumps(stats.get("config", {}), sort_keys=True)[:2000]}`
"""
    path = folder / "README.md"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(front + "\n" + body)
    return path
