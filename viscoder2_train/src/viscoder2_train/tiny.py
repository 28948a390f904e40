"""A tiny randomly initialised Qwen2-architecture model and a tokenizer trained here, for CPU runs.

No weights can be downloaded on the machines this project is built on, so the ``tiny`` recipe trains a
model made on the spot: a byte-level BPE tokenizer trained (with the ``tokenizers`` library) on the
training samples themselves, wrapped with ChatML special tokens and a ChatML chat template whose
assistant turns sit inside ``{% generation %}`` markers (what trl's ``assistant_only_loss`` reads), and
a random ``Qwen2ForCausalLM`` sized to that vocabulary.

    from viscoder2_train.tiny import build_tiny_model
    build_tiny_model("runs/train/tiny-base", corpus=texts)   # a folder from_pretrained() loads

Building takes about a second on CPU. The same seed and corpus give the same weights and vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "{{ '<|im_start|>assistant\\n' }}{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{{ '\\n' }}"
    "{% else %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
# Used when no corpus is given, so that a tokenizer can always be built.
_FALLBACK_CORPUS = (
    "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [4, 5, 6])\nplt.show()",
    '{"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "mark": "bar"}',
    '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><circle r="40"/></svg>',
    "You write valid charts. Reply with exactly one program in a single code block.",
)


@dataclass(frozen=True)
class TinyModelConfig:
    """Size of the tiny model.

    Attributes:
        vocab_size: BPE vocabulary size (special tokens included); smaller when the corpus is small.
        hidden_size: width of the residual stream.
        num_hidden_layers: decoder layers.
        num_attention_heads: query heads.
        num_key_value_heads: key/value heads (grouped-query attention, as in Qwen2.5).
        intermediate_size: MLP width.
        max_position_embeddings: longest sequence the rotary embedding is set up for.
    """

    vocab_size: int = 2048
    hidden_size: int = 64
    num_hidden_layers: int = 2
    num_attention_heads: int = 2
    num_key_value_heads: int = 1
    intermediate_size: int = 128
    max_position_embeddings: int = 4096


def build_tokenizer(corpus: Iterable[str] = (), vocab_size: int = 2048) -> Any:
    """A byte-level BPE ``PreTrainedTokenizerFast`` with ChatML tokens and a chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    texts = [t for t in corpus if t] or list(_FALLBACK_CORPUS)
    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    raw.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=raw,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        chat_template=CHATML_TEMPLATE,
        model_max_length=1_000_000,
    )


def build_tiny_model(
    path: str | Path, corpus: Iterable[str] = (), seed: int = 0, config: TinyModelConfig | None = None
) -> Path:
    """Write a random tiny Qwen2 model and its tokenizer (trained on ``corpus``) to ``path``; return it."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    size = config or TinyModelConfig()
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(corpus, size.vocab_size)
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    pad = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    model_config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=size.hidden_size,
        num_hidden_layers=size.num_hidden_layers,
        num_attention_heads=size.num_attention_heads,
        num_key_value_heads=size.num_key_value_heads,
        intermediate_size=size.intermediate_size,
        max_position_embeddings=size.max_position_embeddings,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=eos,
        pad_token_id=pad,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(model_config)
    model.generation_config = GenerationConfig(eos_token_id=eos, pad_token_id=pad)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
