"""Prompts for RL: VisPlotBench tasks (bundled, Hub, local copy) or VisCode-Multi instructions.

    ds = load_prompt_dataset(PromptConfig(prompt_source="bundled", prompt_languages=["svg", "vegalite"]))
    ds.column_names   # prompt, language, task_id, data, reference_image, task_text

Every row becomes one trl conversational prompt plus the columns the rewards read
(``viscoder2_train.rewards``): ``language``, ``data`` (the task's data payload, placed as the benchmark
places it), ``reference_image`` (PNG bytes, None when absent: the ``visual`` reward then does not apply)
and ``task_text`` (what the judge is shown).

Sources (``prompt_source``):
  * ``bundled``: the task set shipped with visplotbench (offline), prompts assembled by the benchmark's own
    prompt builder, so training prompts are evaluation prompts;
  * ``hub`` (``TIGER-Lab/VisPlotBench``), a VisPlotBench-layout folder or a ``.parquet`` of tasks: the same,
    through visplotbench's task loader (``prompt_format: tasks``, chosen by itself for these);
  * an instruction dataset (``prompt_format: chat``): a local folder in the Hub layout (parquet shards +
    README ``configs:``, what the VisCode-Multi pipeline writes), a ``.jsonl``/``.json``/``.parquet`` file, or
    a Hub id. Rows need ``language`` and either ``messages`` (the prompt is every turn before the first
    assistant turn) or ``instruction`` (one user turn, after a ``system`` column's text when there is one).
    Optional: ``data``, ``image`` (reference PNG: bytes or ``{"bytes": ...}``), ``id``.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)
PROMPT_COLUMNS = ("prompt", "language", "task_id", "data", "reference_image", "task_text")
_TASK_SOURCES = ("bundled", "hub", "TIGER-Lab/VisPlotBench")


def _help(text: str) -> dict[str, Any]:
    return {"help": text}


@dataclass
class PromptConfig:
    """Where RL prompts come from.

    Attributes:
        prompt_source: ``bundled``, ``hub``, a VisPlotBench folder/parquet, or an instruction dataset
            (folder in the Hub layout, JSONL/JSON/parquet file, Hub id); see the module docstring.
        prompt_format: ``auto``, ``tasks`` (VisPlotBench rows) or ``chat`` (``messages``/``instruction`` rows).
        prompt_config: dataset config name (chat datasets with several).
        prompt_split: dataset split (chat datasets).
        prompt_languages: keep only these languages (all when empty).
        max_prompts: keep a random sample of at most this many prompts.
        require_reference: keep only prompts that have a reference image (for a ``visual``-only reward).
    """

    prompt_source: str = field(default="bundled", metadata=_help("bundled, hub, folder, file or Hub id"))
    prompt_format: str = field(default="auto", metadata=_help("auto, tasks or chat"))
    prompt_config: str | None = field(default=None, metadata=_help("dataset config name"))
    prompt_split: str = field(default="train", metadata=_help("dataset split"))
    prompt_languages: list[str] | None = field(default=None, metadata=_help("keep only these languages"))
    max_prompts: int | None = field(default=None, metadata=_help("random cap on prompts"))
    require_reference: bool = field(default=False, metadata=_help("keep only prompts with a reference image"))

    def __post_init__(self) -> None:
        if self.prompt_format not in ("auto", "tasks", "chat"):
            raise ValueError(f"prompt_format must be auto, tasks or chat, not {self.prompt_format!r}.")
        if self.max_prompts is not None and self.max_prompts < 1:
            raise ValueError(f"max_prompts must be >= 1 (or unset), not {self.max_prompts}.")


def _is_task_source(config: PromptConfig) -> bool:
    if config.prompt_format != "auto":
        return config.prompt_format == "tasks"
    source = config.prompt_source
    if source in _TASK_SOURCES:
        return True
    path = Path(source).expanduser()
    if path.suffix == ".parquet" and path.is_file():
        import pyarrow.parquet as pq

        return "task__plot_description" in pq.read_schema(path).names
    if path.is_dir():
        shards = sorted(path.rglob("*.parquet"))
        if shards:
            import pyarrow.parquet as pq

            return "task__plot_description" in pq.read_schema(shards[0]).names
    return False


def _task_rows(config: PromptConfig) -> list[dict[str, Any]]:
    from visplotbench.prompts import build_messages, load_prompts
    from visplotbench.tasks import load_tasks

    prompts = load_prompts()
    rows = []
    for task in load_tasks(config.prompt_source, config.prompt_languages):
        rows.append(
            {
                "prompt": build_messages(task, prompts),
                "language": task.language,
                "task_id": task.id,
                "data": task.data or "",
                "reference_image": task.image or None,
                "task_text": f"{task.task__plot_description}\n{task.task__plot_style}",
            }
        )
    return rows


def _image_bytes(value: Any) -> bytes | None:
    if isinstance(value, dict):
        value = value.get("bytes")
    return bytes(value) if value else None


def _chat_row(row: dict[str, Any], index: int, source: str) -> dict[str, Any]:
    if row.get("messages"):
        prompt = []
        for message in row["messages"]:
            if message["role"] == "assistant":
                break
            prompt.append({"role": message["role"], "content": message["content"]})
    elif row.get("instruction"):
        prompt = [{"role": "system", "content": row["system"]}] if row.get("system") else []
        prompt.append({"role": "user", "content": row["instruction"]})
    else:
        raise ValueError(f"{source}: row {index} has neither `messages` nor `instruction`.")
    users = [m["content"] for m in prompt if m["role"] == "user"]
    if not users:
        raise ValueError(f"{source}: row {index} has no user turn before the first assistant turn.")
    return {
        "prompt": prompt,
        "language": row["language"],
        "task_id": str(row.get("id") or f"{row['language']}_{index}"),
        "data": row.get("data") or "",
        "reference_image": _image_bytes(row.get("image")),
        "task_text": users[0],
    }


def _chat_rows(config: PromptConfig) -> list[dict[str, Any]]:
    import datasets

    source = config.prompt_source
    path = Path(source).expanduser()
    if path.is_file():
        kind = {".jsonl": "json", ".json": "json", ".parquet": "parquet"}.get(path.suffix)
        if kind is None:
            raise ValueError(f"prompt_source {source!r}: read .jsonl, .json or .parquet files, or a folder.")
        ds = datasets.load_dataset(kind, data_files=str(path), split="train")
    elif path.is_dir():
        ds = datasets.load_dataset(str(path), name=config.prompt_config, split=config.prompt_split)
    elif source.startswith((".", "/", "~")):
        raise FileNotFoundError(f"prompt_source {source!r}: no such file or folder.")
    else:
        try:
            ds = datasets.load_dataset(source, name=config.prompt_config, split=config.prompt_split)
        except Exception as exc:  # offline, not found, gated...
            raise RuntimeError(
                f"Could not load {source!r} from the Hugging Face Hub: {type(exc).__name__}: {exc}\n"
                "Without Hub access, pass a local copy (a folder in the Hub layout, or a JSONL/parquet file "
                "with language and messages or instruction), or prompt_source: bundled."
            ) from exc
    if "language" not in ds.column_names or not {"messages", "instruction"} & set(ds.column_names):
        raise ValueError(
            f"{source}: RL prompts need a `language` column and `messages` or `instruction` "
            f"(columns found: {', '.join(ds.column_names)})."
        )
    if "image" in ds.column_names:
        ds = ds.cast_column("image", datasets.Image(decode=False))
    wanted = set(config.prompt_languages or [])
    return [_chat_row(row, i, source) for i, row in enumerate(ds) if not wanted or row["language"] in wanted]


def load_prompt_dataset(config: PromptConfig, seed: int = 0) -> Any:
    """The prompts of ``config`` as a ``datasets.Dataset`` with ``PROMPT_COLUMNS``."""
    import datasets

    rows = _task_rows(config) if _is_task_source(config) else _chat_rows(config)
    if config.require_reference:
        rows = [r for r in rows if r["reference_image"]]
    if not rows:
        raise ValueError(
            f"{config.prompt_source}: no prompts left (languages {config.prompt_languages or 'all'}, "
            f"require_reference={config.require_reference})."
        )
    if config.max_prompts is not None and len(rows) > config.max_prompts:
        keep = sorted(random.Random(seed).sample(range(len(rows)), config.max_prompts))
        rows = [rows[i] for i in keep]
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["language"]] = counts.get(row["language"], 0) + 1
    logger.info("RL prompts from %s: %d (%s)", config.prompt_source, len(rows), counts)
    features = datasets.Features(
        {
            "prompt": [{"role": datasets.Value("string"), "content": datasets.Value("string")}],
            "language": datasets.Value("string"),
            "task_id": datasets.Value("string"),
            "data": datasets.Value("string"),
            "reference_image": datasets.Value("binary"),
            "task_text": datasets.Value("string"),
        }
    )
    return datasets.Dataset.from_list(rows, features=features)
