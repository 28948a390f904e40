"""Stage 5, instructions in the paper's five parts, and the chat ``messages`` of a sample.

Two writers; every record names the one that wrote it (``instruction_writer``):
  * the endpoint writer (``llm:<model>:prompts-v1-<hash>``): code + rendered image to an
    OpenAI-compatible vision endpoint, our prompt ``prompts/v1.json#instruct``;
  * the deterministic writer (``deterministic-v1``), used when no endpoint is configured: it states
    only what ``describe.program_facts`` reads from the program, plus the human description that came
    with the source (docstring, ``texidoc``, example title), which grounds part 2.
The final instruction follows the paper's order: output, setup, data/visual description, data
("The data is shown below:" + the lines, when there are any), style.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline.base import PipelineStep

from viscode_multi.describe import ProgramFacts, program_facts
from viscode_multi.images import load_png
from viscode_multi.llm import LLM, LLMConfig, load_prompts
from viscode_multi.record import language_of

DETERMINISTIC_WRITER = "deterministic-v1"
LANGUAGE_NAMES = {
    "python": "Python", "vegalite": "Vega-Lite", "html": "HTML", "latex": "LaTeX", "asymptote": "Asymptote",
    "lilypond": "LilyPond", "mermaid": "Mermaid", "svg": "SVG",
}  # fmt: skip
_DRAWING = {"asymptote", "svg", "lilypond", "mermaid"}  # languages without a data table


@dataclass
class Instruction:
    """The five parts (empty ``data`` means None) and the writer."""

    setup: str
    data_description: str
    data: str
    output_description: str
    style: str
    writer: str

    def text(self) -> str:
        parts = [self.output_description, self.setup, self.data_description]
        parts.append(f"The data is shown below:\n{self.data}" if self.data.strip() else "")
        parts.append(self.style)
        return "\n\n".join(p.strip() for p in parts if p.strip())


def _clip(text: str, limit: int = 600) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def deterministic_instruction(language: str, code: str, description: str) -> Instruction:
    facts: ProgramFacts = program_facts(language, code)
    name = LANGUAGE_NAMES.get(language, language)
    libs = [lib for lib in facts.libraries if lib.lower() != name.lower()]
    setup = f"Use {name}" + (f" with {', '.join(libs[:4])}." if libs else ".")
    what = ", ".join(facts.kinds[:4]) or ("drawing" if language in _DRAWING else "chart")
    article = "an" if name[0] in "AEIOU" else "a"
    output = (
        f"Create {article} {name} {'picture' if language in _DRAWING else 'visualization'} showing: {what}"
    )
    output += f', titled "{facts.title}".' if facts.title else "."
    described = _clip(description) if description else ""
    if language in _DRAWING:
        data_description = f"It shows {described}" if described else f"It consists of {what}."
    else:
        names = f" The data uses {', '.join(facts.data_names[:8])}." if facts.data_names else ""
        data_description = (described + names).strip() or f"The chart plots data defined in the {name} code."
    style = []
    if facts.labels:
        style.append("Text and labels: " + "; ".join(f'"{label}"' for label in facts.labels[:6]) + ".")
    if facts.colors:
        style.append("Colours: " + ", ".join(facts.colors[:6]) + ".")
    if facts.panels > 1:
        style.append(f"Arrange it in {facts.panels} panels.")
    return Instruction(
        setup=setup,
        data_description=data_description,
        data="\n".join(facts.data_lines),
        output_description=output,
        style=" ".join(style) or "Keep the default style of the tool.",
        writer=DETERMINISTIC_WRITER,
    )


_PART = re.compile(r"^\s*(\d)\.\s*(?:[A-Za-z/ ]+:)?\s*", re.M)


def parse_five_parts(reply: str) -> list[str] | None:
    """The five numbered parts of an endpoint's reply, or None when it did not give them."""
    marks = list(_PART.finditer(reply))
    numbers = [int(m.group(1)) for m in marks]
    if numbers[:5] != [1, 2, 3, 4, 5]:
        return None
    bounds = [m.end() for m in marks[:5]] + [len(reply)]
    starts = [m.start() for m in marks[1:5]] + [len(reply)]
    return [reply[bounds[i] : starts[i]].strip() for i in range(5)]


def llm_instruction(
    llm: LLM, language: str, code: str, description: str, image: bytes | None
) -> Instruction | None:
    prompts = load_prompts()["instruct"]
    name = LANGUAGE_NAMES.get(language, language)
    user = prompts["user"].format(
        language=language,
        code=code,
        description=f"Description from the source: {description}" if description else "",
    )
    try:
        reply = llm.chat(prompts["system"].format(language=name), user, image_png=image)
    except Exception:
        return None
    parts = parse_five_parts(reply)
    if parts is None:
        return None
    data = "" if parts[2].strip().lower() in ("none", "none.", "") else parts[2]
    return Instruction(parts[0], parts[1], data, parts[3], parts[4], llm.config.label)


def chat_messages(language: str, instruction: str, code: str) -> list[dict[str, object]]:
    """The sample as chat turns, the original's shape (first assistant turn = the code, fenced)."""
    return [
        {"role": "user", "content": instruction, "loss": None},
        {"role": "assistant", "content": f"```{language}\n{code.rstrip()}\n```", "loss": None},
    ]


class InstructStep(PipelineStep):
    """Adds ``instruction`` (the parts and the writer) and ``messages`` to every verified sample."""

    name = "instruction generation"
    type = "✍️ - INSTRUCT"

    def __init__(self, images_dir: str, vlm_config: LLMConfig | None = None):
        super().__init__()
        self.images_dir = images_dir
        self.vlm_config = vlm_config
        self._llm: LLM | None = None

    def instruct(self, doc: Document) -> Instruction:
        lang = language_of(doc)
        description = str(doc.metadata.get("description") or "")
        if self.vlm_config is not None:
            self._llm = self._llm or LLM(self.vlm_config)
            sha = (doc.metadata.get("render") or {}).get("image_sha256")
            image = load_png(Path(self.images_dir), sha) if sha else None
            found = llm_instruction(self._llm, lang, doc.text, description, image)
            if found is not None:
                return found
            self.stat_update(f"{lang}/llm-fallback")
        return deterministic_instruction(lang, doc.text, description)

    def run(self, data, rank: int = 0, world_size: int = 1):
        for doc in data:
            with self.track_time():
                lang = language_of(doc)
                instruction = self.instruct(doc)
                doc.metadata["instruction"] = asdict(instruction)
                doc.metadata["messages"] = chat_messages(lang, instruction.text(), doc.text)
                self.stat_update(f"{lang}/writer:{instruction.writer.split(':')[0]}")
            yield doc
