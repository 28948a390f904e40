"""Chat samples made from VisPlotBench's bundled task set, until the VisCode-Multi pipeline exists.

Each bundled task with a reference solution gives:
  * an instruction sample: the benchmark's own system + user messages (``visplotbench.prompts``), then
    the reference program as the assistant's reply, fenced the way the benchmark's prompts ask;
  * a repair sample, where a deterministic break of the reference can be made whose failure is known
    without running anything: the same conversation, a broken first attempt, the error fed back in the
    benchmark's self-debug wording, and the reference as the fix. The broken attempt is marked
    ``"loss": False`` so that only the fix is learned (the model must not learn to write broken code).

Breaks (one per language where a failure is certain, with the error text produced by a real parser):
  * vegalite: the final closing brace dropped -> ``json.loads``' error;
  * svg: the closing ``</svg>`` dropped -> the XML parser's error;
  * python: an aliased import (``import x as y``) whose alias is used later dropped -> ``NameError``;
  * latex: ``\\end{document}`` dropped -> TeX's "no legal \\end found" stop.
Other languages get instruction samples only. Samples are plain dicts ``{"language", "messages",
"source"}``, the VisCode-Multi layout plus where the sample came from.

Evaluating a model trained on these samples on the same bundled tasks measures memorisation, not skill:
this data exists to exercise the training code, nothing more.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

_ALIAS_IMPORT = re.compile(r"^import\s+([\w.]+)\s+as\s+(\w+)\s*$", re.M)


def _fence(language: str, code: str) -> str:
    return f"```{language}\n{code.strip()}\n```"


def _break_vegalite(code: str) -> tuple[str, str] | None:
    text = code.rstrip()
    if not text.endswith("}"):
        return None
    broken = text[:-1].rstrip()
    try:
        json.loads(broken)
    except json.JSONDecodeError as exc:
        return broken, f"JSONDecodeError: {exc}"
    return None


def _break_svg(code: str) -> tuple[str, str] | None:
    text = code.rstrip()
    if not text.endswith("</svg>"):
        return None
    broken = text[: -len("</svg>")].rstrip()
    try:
        ET.fromstring(broken)
    except ET.ParseError as exc:
        return broken, f"XML parse error: {exc}"
    return None


def _break_python(code: str) -> tuple[str, str] | None:
    for match in _ALIAS_IMPORT.finditer(code):
        alias = match.group(2)
        rest = code[match.end() :]
        if re.search(rf"\b{re.escape(alias)}\.", rest) and not re.search(
            rf"\bas\s+{re.escape(alias)}\b", rest
        ):
            broken = code[: match.start()] + code[match.end() + 1 :]
            return broken, f"NameError: name '{alias}' is not defined"
    return None


def _break_latex(code: str) -> tuple[str, str] | None:
    if "\\end{document}" not in code:
        return None
    broken = code.replace("\\end{document}", "").rstrip()
    return broken, "! Emergency stop.\n<*> main.tex\n*** (job aborted, no legal \\end found)"


_BREAKS = {"vegalite": _break_vegalite, "svg": _break_svg, "python": _break_python, "latex": _break_latex}


def _feedback(language: str, error: str) -> str:
    """The benchmark's self-debug turn for a failed attempt, so that training matches evaluation."""
    try:
        from visplotbench.harness import feedback  # one wording for benchmark and training data
    except ImportError:  # pragma: no cover - visplotbench without the harness
        return (
            f"Running the code failed with this error:\n{error}\nReply with the complete corrected program."
        )
    return feedback(language, "error", error)


def bundled_languages() -> list[str]:
    """Languages the installed visplotbench ships bundled tasks for."""
    from visplotbench.tasks import BUNDLED_DIR

    return sorted(p.name for p in BUNDLED_DIR.iterdir() if (p / "test-00000-of-00001.parquet").exists())


def make_bundled_samples(
    languages: list[str] | None = None, repair_turns: bool = True
) -> list[dict[str, Any]]:
    """Instruction (and repair) chat samples from the bundled tasks of ``languages`` (all bundled: None)."""
    from visplotbench.prompts import build_messages, load_prompts
    from visplotbench.tasks import load_tasks

    available = bundled_languages()
    wanted = languages or available
    missing = [lang for lang in wanted if lang not in available]
    if missing:
        raise ValueError(
            f"No bundled tasks for {', '.join(missing)}; bundled languages: {', '.join(available)}."
        )
    prompts = load_prompts()
    samples: list[dict[str, Any]] = []
    for task in load_tasks("bundled", wanted):
        if not task.code.strip():
            continue
        prompt = build_messages(task, prompts)
        reply = {"role": "assistant", "content": _fence(task.language, task.code)}
        samples.append(
            {"language": task.language, "messages": [*prompt, reply], "source": f"{task.id}:instruction"}
        )
        breaker = _BREAKS.get(task.language)
        broken = breaker(task.code) if breaker and repair_turns else None
        if broken is not None:
            code, error = broken
            samples.append(
                {
                    "language": task.language,
                    "source": f"{task.id}:repair",
                    "messages": [
                        *prompt,
                        {"role": "assistant", "content": _fence(task.language, code), "loss": False},
                        {"role": "user", "content": _feedback(task.language, error)},
                        reply,
                    ],
                }
            )
    return samples
