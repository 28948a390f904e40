"""A small instruction set of short programs for the CPU GRPO run (a local stand-in for VisCode-Multi).

A tiny random model cannot learn the bundled tasks' long reference programs in a test's time, so the
test's policy is first fine-tuned (the ``tiny`` SFT recipe) on these short SVG and Vega-Lite answers and
then trained with GRPO on the same instructions: sampled at temperature 1 it writes some programs that
render and some that do not, which is what a test of the reward path needs.
"""

from __future__ import annotations

import json
from pathlib import Path

_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="90">'
    '<rect x="{x}" y="10" width="{w}" height="60" fill="{fill}"/>'
    '<circle cx="{cx}" cy="45" r="{r}" fill="{dot}"/></svg>'
)
# The SVG answers share one skeleton, so a half-learned mixture of them is still a drawing (renders, looks
# more or less like its reference); the Vega-Lite one is longer and breaks more often.
PROGRAMS = {
    "Draw a red box with a small blue dot.": (
        "svg",
        _SVG.format(x=10, w=60, fill="red", cx=95, r=10, dot="blue"),
    ),
    "Draw a wide green box with a big black dot.": (
        "svg",
        _SVG.format(x=5, w=100, fill="green", cx=40, r=30, dot="black"),
    ),
    "Draw a thin orange box with a purple dot.": (
        "svg",
        _SVG.format(x=50, w=20, fill="orange", cx=25, r=18, dot="purple"),
    ),
    "Bar chart of b = 1, 3, 2.": (
        "vegalite",
        '{"data": {"values": [{"a": "x", "b": 1}, {"a": "y", "b": 3}, {"a": "z", "b": 2}]}, "mark": "bar", '
        '"encoding": {"x": {"field": "a", "type": "nominal"}, "y": {"field": "b", "type": "quantitative"}}}',
    ),
}


def write_smoke_set(folder: Path) -> tuple[Path, Path]:
    """``sft.jsonl`` (instruction + answer) and ``prompts.parquet`` (instruction + reference image)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from visplotbench import render

    folder.mkdir(parents=True, exist_ok=True)
    sft, prompts = folder / "sft.jsonl", folder / "prompts.parquet"
    rows = []
    with sft.open("w") as s:
        for instruction, (language, code) in PROGRAMS.items():
            result = render(language, code)
            assert result.ok, result.error
            answer = f"```{language}\n{code}\n```"
            messages = [{"role": "user", "content": instruction}, {"role": "assistant", "content": answer}]
            s.write(json.dumps({"language": language, "messages": messages}) + "\n")
            image = {"bytes": result.images[0], "path": None}
            rows.append({"language": language, "instruction": instruction, "image": image})
    pq.write_table(pa.Table.from_pylist(rows), prompts)
    return sft, prompts
