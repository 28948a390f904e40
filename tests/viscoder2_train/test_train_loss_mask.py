"""Only assistant tokens carry loss, through the whole path: our masks -> trl labels -> packed batches."""

from __future__ import annotations

import pytest

SAMPLES = [
    {
        "language": "svg",
        "messages": [
            {"role": "system", "content": "You write valid SVG images."},
            {"role": "user", "content": "Draw a red circle."},
            {
                "role": "assistant",
                "content": '```svg\n<svg width="10" height="10"><circle r="4"/></svg>\n```',
            },
        ],
    },
    {
        "language": "vegalite",
        "messages": [  # a repair dialogue: the broken first attempt must not be learned
            {"role": "user", "content": "Plot a bar chart of a and b."},
            {"role": "assistant", "content": '```vegalite\n{"mark": "bar"\n```', "loss": False},
            {"role": "user", "content": "Running the code failed with this error:\nExpecting ',' delimiter"},
            {"role": "assistant", "content": '```vegalite\n{"mark": "bar"}\n```'},
        ],
    },
    {
        "language": "python",
        "messages": [  # two learned assistant turns
            {"role": "user", "content": "Plot y = x."},
            {
                "role": "assistant",
                "content": "```python\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\n```",
            },
            {"role": "user", "content": "Add a title."},
            {"role": "assistant", "content": "```python\nplt.title('y = x')\n```"},
        ],
    },
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from viscoder2_train.tiny import build_tiny_model

    corpus = [m["content"] for s in SAMPLES for m in s["messages"]]
    return build_tiny_model(tmp_path_factory.mktemp("mask") / "base", corpus=corpus * 4)


def _dataset():
    import datasets

    return datasets.Dataset.from_list(SAMPLES)


def _expected_spans() -> list[str]:
    return sorted(
        m["content"] + "<|im_end|>"
        for s in SAMPLES
        for m in s["messages"]
        if m["role"] == "assistant" and m.get("loss") is not False
    )


def _labelled_spans(tok, ids, labels) -> list[str]:
    spans, current = [], []
    for token, label in zip(ids, labels, strict=True):
        if label != -100:
            assert label == token
            current.append(token)
        elif current:
            spans.append(tok.decode(current))
            current = []
    if current:
        spans.append(tok.decode(current))
    return spans


def test_tokenize_chats_masks_exactly_the_learned_assistant_turns(tiny):
    from transformers import AutoTokenizer
    from viscoder2_train.data import tokenize_chats

    tok = AutoTokenizer.from_pretrained(tiny)
    ds, report = tokenize_chats(_dataset(), tok, max_length=4096)
    spans = []
    for row in ds:
        labels = [t if m else -100 for t, m in zip(row["input_ids"], row["assistant_masks"], strict=True)]
        spans += _labelled_spans(tok, row["input_ids"], labels)
    assert sorted(spans) == _expected_spans()
    assert report.assistant_tokens < report.tokens
    assert report.trained == {"python": 1, "svg": 1, "vegalite": 1}


def test_packed_training_batches_carry_loss_only_on_assistant_tokens(tiny, tmp_path):
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer
    from viscoder2_train.data import tokenize_chats

    tok = AutoTokenizer.from_pretrained(tiny)
    ds, _ = tokenize_chats(_dataset(), tok, max_length=512)
    args = SFTConfig(
        output_dir=str(tmp_path),
        max_length=512,
        packing=True,
        assistant_only_loss=True,
        per_device_train_batch_size=2,
        activation_checkpointing=False,
        bf16=False,
        use_cpu=True,
        report_to="none",
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    trainer = SFTTrainer(model=str(tiny), args=args, train_dataset=ds, processing_class=tok)
    spans = []
    for batch in trainer.get_train_dataloader():
        ids, labels = batch["input_ids"].flatten().tolist(), batch["labels"].flatten().tolist()
        spans += _labelled_spans(tok, ids, labels)
    assert sorted(spans) == _expected_spans()
    # the broken first attempt and every system/user text are in the inputs but never in the labels
    text = "".join(spans)
    assert (
        '{"mark": "bar"\n```' not in text and "Plot a bar chart" not in text and "You write valid" not in text
    )


def test_a_template_without_generation_markers_gets_trls_training_template(tiny):
    """Qwen2.5's own template has no {% generation %} markers; trl's training version of it is used."""
    from pathlib import Path

    import trl
    from transformers import AutoTokenizer
    from viscoder2_train.data import tokenize_chats, training_chat_template

    qwen = (Path(trl.__file__).parent / "chat_templates" / "qwen2_5.jinja").read_text()
    tok = AutoTokenizer.from_pretrained(tiny)
    tok.chat_template = qwen
    assert training_chat_template(tok) is not None
    ds, _ = tokenize_chats(_dataset(), tok, max_length=4096)
    spans = []
    for row in ds:
        labels = [t if m else -100 for t, m in zip(row["input_ids"], row["assistant_masks"], strict=True)]
        spans += _labelled_spans(tok, row["input_ids"], labels)
    # trl's Qwen2.5 training template also marks the newlines around the reply
    assert sorted(s.strip() for s in spans) == [s.strip() for s in _expected_spans()]
