"""Pull the program out of a model's reply, and say which rule found it.

Rules, in order (the first that applies wins; ``Extraction.rule`` records it):
  1. ``tagged``: fenced blocks whose info string names the language or an alias (```vega-lite,
     ```tex, ```asy, ```py ...). One block: it; several: the longest (models often show a snippet
     before the full program). The info string is never part of the code.
  2. ``fenced``: any other complete fenced block (the longest), info string dropped.
  3. ``unterminated``: an opening fence with no closing one (the reply hit the token limit): the text
     after it.
  4. ``raw``: no fence at all: the whole reply without chat stop tokens; for Vega-Lite, the outermost
     JSON object when there is one (``json-object``).
Reasoning blocks (``<think>...</think>``, also an unclosed leading one) are removed first. The code is
never re-serialised or otherwise rewritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ALIASES: dict[str, tuple[str, ...]] = {
    "python": ("python", "py", "python3", "py3", "ipython"),
    "vegalite": ("vegalite", "vega-lite", "vega_lite", "vl", "json", "vega", "jsonc"),
    "mermaid": ("mermaid", "mmd"),
    "lilypond": ("lilypond", "ly", "lily"),
    "svg": ("svg", "xml", "svg+xml"),
    "asymptote": ("asymptote", "asy"),
    "latex": ("latex", "tex", "pgf", "tikz"),
    "html": ("html", "htm", "xhtml"),
}
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([^\n`]*)\n(.*?)^[ \t]*\1[ \t]*$", re.S | re.M)
_OPEN = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([^\n`]*)\n", re.M)
_THINK = re.compile(r"<think>.*?</think>", re.S | re.I)
_STOP_TOKENS = (
    "<|eot_id|>",
    "<|endoftext|>",
    "<|im_end|>",
    "<EOS>",
    "</s>",
    "<|start_header_id|>",
    "<|end_header_id|>",
)


@dataclass(frozen=True)
class Extraction:
    """The code found in a reply and the rule that found it (``empty`` when the reply had nothing)."""

    code: str
    rule: str


def strip_reasoning(reply: str) -> str:
    text = _THINK.sub("", reply)
    if "</think>" in text:  # the opening tag was in the prompt or cut off
        text = text.split("</think>", 1)[1]
    return text


def extract_code(reply: str | None, language: str) -> Extraction:
    """The program in ``reply`` for ``language`` (see the module docstring for the rules)."""
    text = strip_reasoning(reply or "")
    if not text.strip():
        return Extraction("", "empty")
    aliases = ALIASES.get(language, (language,))
    blocks = [
        (m.group(2).strip().split()[0].lower() if m.group(2).strip() else "", m.group(3))
        for m in _FENCE.finditer(text)
    ]
    tagged = [body for tag, body in blocks if tag in aliases]
    if tagged:
        return Extraction(max(tagged, key=len).strip("\n"), "tagged")
    if blocks:
        return Extraction(max((body for _, body in blocks), key=len).strip("\n"), "fenced")
    opening = _OPEN.search(text)
    if opening:
        return Extraction(text[opening.end() :].strip("\n"), "unterminated")
    for token in _STOP_TOKENS:
        text = text.replace(token, "")
    text = text.strip()
    if language == "vegalite" and "{" in text and "}" in text:
        candidate = text[text.index("{") : text.rindex("}") + 1]
        if candidate != text:
            return Extraction(candidate, "json-object")
    return Extraction(text, "raw")
