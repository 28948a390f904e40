"""Build a tiny random Qwen2-architecture causal LM and a locally trained tokenizer, for tests.

Nothing is downloaded: the byte-level BPE tokenizer is trained on a few sentences with the
``tokenizers`` library and wrapped in ``PreTrainedTokenizerFast`` with ChatML special tokens and a
ChatML chat template (with ``{% generation %}`` markers, so trl's assistant-only loss accepts it).

    from tiny_model import build_tiny_model
    path = build_tiny_model(tmp_path / "tiny")        # a folder from_pretrained() loads
    # AutoTokenizer.from_pretrained(path), AutoModelForCausalLM.from_pretrained(path)

Building takes well under a second on CPU (hidden 64, 2 layers, 4 heads, 2 kv heads).
"""

from __future__ import annotations

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
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
_CORPUS = [
    "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [4, 5, 6])\nplt.show()",
    "import pandas as pd\ndf = pd.read_csv('data.csv')\ndf.plot(kind='bar')",
    '{"$schema": "https://vega.github.io/schema/vega-lite/v6.json", "mark": "bar"}',
    "graph TD; A-->B; B-->C;",
    '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><circle r="40"/></svg>',
    "\\documentclass{standalone}\\usepackage{pgfplots}\\begin{document}\\end{document}",
    "You are a helpful assistant. Write the code in a fenced block. The plot shows sales per month.",
    "<html><body><canvas id='c'></canvas><script>const data = [];</script></body></html>",
]


def build_tokenizer(vocab_size: int = 400) -> Any:
    """A byte-level BPE ``PreTrainedTokenizerFast`` with ChatML tokens and chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    raw.train_from_iterator(_CORPUS * 4, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=raw,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        chat_template=CHATML_TEMPLATE,
        model_max_length=2048,
    )


def build_tiny_model(path: str | Path, seed: int = 0) -> Path:
    """Write a random tiny Qwen2 model and its tokenizer to ``path``; return the folder."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer()
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    pad = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=128,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        initializer_range=0.5,
        bos_token_id=None,
        eos_token_id=eos,
        pad_token_id=pad,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(eos_token_id=eos, pad_token_id=pad)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
