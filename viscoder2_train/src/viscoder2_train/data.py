"""Chat samples for SFT: load, mix languages, tokenize with assistant masks, drop over-long samples.

    raw = load_chat_dataset(DataConfig(dataset_name="bundled"))     # columns: language, messages
    mixed = mix_languages(raw, {"python": 2.0, "svg": 0.5}, seed=0)
    train, report = tokenize_chats(mixed, tokenizer, max_length=16384)

``tokenize_chats`` renders each conversation once with the tokenizer's chat template and keeps the
assistant-token mask the template marks with ``{% generation %}`` (when the template has no markers,
trl's training version of it is used, as ``SFTTrainer`` itself does). Assistant messages flagged
``"loss": false`` are unmasked, so only the other assistant turns are learned. The result keeps
``messages`` next to ``input_ids`` and ``assistant_masks``: ``SFTTrainer`` then skips its own
tokenization, turns the mask into labels (``-100`` elsewhere) and packs. Tokenizing here, once, is what
lets over-long samples be dropped (the original's ``truncation_strategy delete``) rather than cut by
packing, and counted.
"""

from __future__ import annotations

import collections
import logging
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from viscoder2_train.config import DataConfig

logger = logging.getLogger(__name__)
REQUIRED_COLUMNS = ("language", "messages")


@dataclass
class DataReport:
    """What happened to the samples on their way to the trainer.

    Attributes:
        source: the dataset that was read (``DataConfig.dataset_name``).
        read: language -> samples read (after the ``languages`` filter).
        mixed: language -> samples after the language weights and ``max_samples``.
        dropped_overlong: language -> samples dropped because they exceed ``max_length`` tokens.
        dropped_no_assistant: language -> samples dropped because no token would carry loss.
        trained: language -> samples handed to the trainer.
        max_length: the token limit used (``None``: none).
        tokens: tokens in the trained samples.
        assistant_tokens: of those, tokens that carry loss.
        weights: the language weights applied.
    """

    source: str
    read: dict[str, int] = field(default_factory=dict)
    mixed: dict[str, int] = field(default_factory=dict)
    dropped_overlong: dict[str, int] = field(default_factory=dict)
    dropped_no_assistant: dict[str, int] = field(default_factory=dict)
    trained: dict[str, int] = field(default_factory=dict)
    max_length: int | None = None
    tokens: int = 0
    assistant_tokens: int = 0
    weights: dict[str, float] = field(default_factory=dict)

    @property
    def total_dropped_overlong(self) -> int:
        return sum(self.dropped_overlong.values())

    @property
    def total_trained(self) -> int:
        return sum(self.trained.values())

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "total_dropped_overlong": self.total_dropped_overlong,
            "total_trained": self.total_trained,
        }

    def summary(self) -> str:
        """One line per language, for the log."""
        lines = [
            f"data from {self.source}: {self.total_trained} samples to train, "
            f"{self.total_dropped_overlong} dropped as longer than {self.max_length} tokens"
        ]
        for lang in sorted(set(self.read) | set(self.mixed)):
            lines.append(
                f"  {lang}: read {self.read.get(lang, 0)}, mixed {self.mixed.get(lang, 0)}, "
                f"over-long {self.dropped_overlong.get(lang, 0)}, trained {self.trained.get(lang, 0)}"
            )
        return "\n".join(lines)


def _counts(languages: list[str]) -> dict[str, int]:
    return dict(sorted(collections.Counter(languages).items()))


def load_chat_dataset(config: DataConfig) -> Any:
    """The samples of ``config`` as a ``datasets.Dataset`` with exactly the columns language, messages."""
    import datasets

    name = config.dataset_name
    path = Path(name).expanduser()
    if name == "bundled":
        from viscoder2_train.bundled import make_bundled_samples

        rows = make_bundled_samples(config.languages, repair_turns=config.repair_turns)
        ds = datasets.Dataset.from_list(
            [{"language": r["language"], "messages": r["messages"]} for r in rows]
        )
    elif path.is_file() and path.suffix in (".jsonl", ".json"):
        ds = datasets.load_dataset("json", data_files=str(path), split="train")
    elif path.is_dir():
        # a local folder is rebuilt in place (`make dataset`): never serve a cached copy of an older build
        ds = datasets.load_dataset(
            str(path.resolve()),
            name=config.dataset_config,
            split=config.dataset_split,
            download_mode="force_redownload",
            verification_mode="no_checks",
        )
    elif name.startswith((".", "/", "~")) or name.endswith((".jsonl", ".json")):
        raise FileNotFoundError(f"dataset_name {name!r}: no such file or folder.")
    else:
        try:
            ds = datasets.load_dataset(name, name=config.dataset_config, split=config.dataset_split)
        except Exception as exc:  # offline, not found, gated...
            raise RuntimeError(
                f"Could not load the dataset {name!r} from the Hugging Face Hub: {type(exc).__name__}: {exc}\n"
                "Without Hub access, pass a local copy: a folder in the dataset's Hub layout "
                "(--dataset_name /path/to/VisCode-Multi-679K), a JSONL file with language and messages "
                "(--dataset_name data.jsonl), or --dataset_name bundled for the small bundled sample set."
            ) from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in ds.column_names]
    if missing:
        raise ValueError(
            f"{name}: the dataset lacks the column(s) {', '.join(missing)} (it has "
            f"{', '.join(ds.column_names)}); VisCode-Multi rows have language and messages."
        )
    ds = ds.select_columns(list(REQUIRED_COLUMNS))
    if config.languages:
        wanted = set(config.languages)
        ds = ds.filter(lambda lang: lang in wanted, input_columns="language")
        if len(ds) == 0:
            raise ValueError(f"{name}: no samples in the languages {', '.join(sorted(wanted))}.")
    return ds


def mix_languages(
    dataset: Any, weights: dict[str, float], seed: int = 0, max_samples: int | None = None
) -> Any:
    """Resample each language by its weight (see ``DataConfig.language_weights``), then cap at ``max_samples``."""
    by_language: dict[str, list[int]] = collections.defaultdict(list)
    for index, lang in enumerate(dataset["language"]):
        by_language[lang].append(index)
    unknown = sorted(set(weights) - set(by_language))
    if unknown:
        logger.warning(
            "language_weights names languages with no samples: %s (present: %s)",
            ", ".join(unknown),
            ", ".join(sorted(by_language)),
        )
    rng = random.Random(seed)
    chosen: list[int] = []
    for lang in sorted(by_language):
        indices = by_language[lang]
        weight = weights.get(lang, 1.0)
        whole = int(weight)
        chosen += indices * whole
        extra = round((weight - whole) * len(indices))
        chosen += sorted(rng.sample(indices, extra))
    if max_samples is not None and len(chosen) > max_samples:
        chosen = rng.sample(chosen, max_samples)
    chosen.sort()  # the dataset's own order (the trainer shuffles); a repeated sample's copies sit together
    if not chosen:
        raise ValueError("The language weights leave no samples to train on.")
    if chosen == list(range(len(dataset))):
        return dataset
    return dataset.select(chosen)


def training_chat_template(tokenizer: Any) -> str | None:
    """``None`` when the tokenizer's template marks assistant turns; else trl's training version of it."""
    from trl.chat_template_utils import has_generation_markers

    template = getattr(tokenizer, "chat_template", None)
    if not template:
        raise ValueError(
            "The tokenizer has no chat template; SFT over messages needs one (set chat_template_path)."
        )
    if has_generation_markers(template):
        return None
    from trl import get_training_chat_template

    patched = get_training_chat_template(tokenizer)
    if patched is None or not has_generation_markers(patched):
        raise ValueError(
            "The tokenizer's chat template has no {% generation %} markers and trl has no training "
            "version of it, so assistant-only loss cannot be computed. Give a template with the "
            "markers (chat_template_path) or set assistant_only_loss: false."
        )
    return str(patched)


def _spans(mask: list[int]) -> list[tuple[int, int]]:
    spans, start = [], None
    for i, bit in enumerate([*mask, 0]):
        if bit and start is None:
            start = i
        elif not bit and start is not None:
            spans.append((start, i))
            start = None
    return spans


def _encode(example: dict[str, Any], tokenizer: Any, chat_template: str | None) -> dict[str, Any]:
    messages = example["messages"]
    clean = [{"role": m["role"], "content": m["content"]} for m in messages]
    out = tokenizer.apply_chat_template(
        clean, tokenize=True, return_dict=True, return_assistant_tokens_mask=True, chat_template=chat_template
    )
    ids, mask = list(out["input_ids"]), list(out["assistant_masks"])
    assistants = [m for m in messages if m["role"] == "assistant"]
    if any(m.get("loss") is False for m in assistants):
        spans = _spans(mask)
        if len(spans) != len(assistants):
            raise ValueError(
                f"The chat template marked {len(spans)} assistant spans for {len(assistants)} "
                "assistant messages; cannot tell which turn has loss: false."
            )
        for (start, end), message in zip(spans, assistants, strict=True):
            if message.get("loss") is False:
                mask[start:end] = [0] * (end - start)
    return {"input_ids": ids, "assistant_masks": mask, "length": len(ids), "trained_tokens": sum(mask)}


def tokenize_chats(
    dataset: Any,
    tokenizer: Any,
    max_length: int | None,
    drop_overlong: bool = True,
    num_proc: int | None = None,
    report: DataReport | None = None,
) -> tuple[Any, DataReport]:
    """Tokenize, mask, drop over-long and loss-free samples; return the trainer's dataset and the report."""
    report = report or DataReport(source="?")
    report.max_length = max_length
    template = training_chat_template(tokenizer)
    encoded = dataset.map(
        _encode,
        fn_kwargs={"tokenizer": tokenizer, "chat_template": template},
        num_proc=num_proc,
        desc="Tokenizing chats",
    )
    languages, lengths, trained = encoded["language"], encoded["length"], encoded["trained_tokens"]
    over = [max_length is not None and drop_overlong and n > max_length for n in lengths]
    empty = [t == 0 and not o for t, o in zip(trained, over, strict=True)]
    report.dropped_overlong = _counts([lang for lang, o in zip(languages, over, strict=True) if o])
    report.dropped_no_assistant = _counts([lang for lang, e in zip(languages, empty, strict=True) if e])
    keep = [i for i, (o, e) in enumerate(zip(over, empty, strict=True)) if not o and not e]
    if not keep:
        raise ValueError(
            f"Every sample was dropped ({sum(over)} longer than max_length={max_length} tokens, "
            f"{sum(empty)} without assistant tokens): raise max_length or check the data."
        )
    if len(keep) < len(encoded):
        encoded = encoded.select(keep)
    report.trained = _counts([languages[i] for i in keep])
    report.tokens = sum(lengths[i] for i in keep)
    report.assistant_tokens = sum(trained[i] for i in keep)
    if report.total_dropped_overlong:
        logger.warning(
            "Dropped %d of %d samples longer than max_length=%s tokens: %s",
            report.total_dropped_overlong,
            len(lengths),
            max_length,
            report.dropped_overlong,
        )
    return encoded.select_columns(["messages", "input_ids", "assistant_masks"]), report


def prepare_training_data(
    config: DataConfig,
    tokenizer: Any,
    max_length: int | None,
    seed: int = 0,
    num_proc: int | None = None,
    raw: Any = None,
) -> tuple[Any, DataReport]:
    """``load_chat_dataset`` -> ``mix_languages`` -> ``tokenize_chats``, with the report filled in."""
    raw = raw if raw is not None else load_chat_dataset(config)
    weights = config.language_weights if isinstance(config.language_weights, dict) else {}
    report = DataReport(source=config.dataset_name, weights=dict(weights))
    report.read = _counts(raw["language"])
    mixed = mix_languages(raw, weights, seed=seed, max_samples=config.max_samples)
    report.mixed = _counts(mixed["language"])
    return tokenize_chats(mixed, tokenizer, max_length, config.drop_overlong, num_proc, report)
