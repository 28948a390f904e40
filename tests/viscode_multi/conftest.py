"""Fixtures for the viscode_multi tests: real registry corpora (fetched once into the cache), planted
programs, a local OpenAI-compatible stub, and one end-to-end build reused by several test files.

The corpora come from PyPI, Debian and npm through ``viscode_multi.fetch`` (the same code `make dataset`
uses) into ``$VISCODE_MULTI_CACHE`` or ~/.cache/viscode-multi, so a second run reads them from disk.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "visplotbench"))  # stub_openai

FIXED_MERMAID = "flowchart LR\n    A[Order received] --> B{In stock?}\n    B -->|yes| C[Ship it]\n    B -->|no| D[Back-order]\n"
LLM_PROGRAM = """import matplotlib.pyplot as plt

months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun"]
revenue = [12.5, 14.1, 13.2, 17.8, 19.4, 21.0]
costs = [8.1, 8.4, 9.0, 9.9, 10.2, 11.5]
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(months, revenue, marker="o", color="tab:blue", label="Revenue")
ax.bar(months, costs, color="tab:orange", alpha=0.6, label="Costs")
ax.set_title("Revenue and costs, first half-year")
ax.set_xlabel("Month")
ax.set_ylabel("Million EUR")
ax.legend()
ax.grid(alpha=0.3)
"""
FIVE_PARTS = (
    "1. Setup: {lang} with its usual tools.\n2. Data/visual description: monthly values.\n"
    "3. Data: None\n4. Output description: Create the chart shown.\n5. Style description: default colours."
)


def stub_script(body: dict[str, Any], call: int) -> str:
    """Answers the pipeline's three prompts: extraction, instructions, repairs (by the system prompt)."""
    system = body["messages"][0]["content"]
    if system.startswith("You turn code found in the wild"):
        return f"```python\n{LLM_PROGRAM}```"
    if system.startswith("You write the instruction"):
        return FIVE_PARTS.format(lang=system.split("exactly this ")[1].split(" ")[0])
    if system.startswith("You fix"):
        language = system.split("You fix ")[1].split(" ")[0]
        if language == "mermaid":
            return f"```mermaid\n{FIXED_MERMAID}```"
        return "I cannot fix this."
    return "null"


def _gallery_file(cache: Path, name: str) -> str:
    from viscode_multi.fetch import Package, fetch

    fetched = fetch(Package("pypi", "matplotlib", "3.8.4"), cache)
    (top,) = [p for p in fetched.root.iterdir() if p.is_dir()]
    return next(top.glob(f"galleries/examples/**/{name}")).read_text()


def plant(folder: Path, cache: Path) -> dict[str, str]:
    """Programs with a known fate, written next to the registry corpora (file name -> expected fate)."""
    from visplotbench.tasks import load_tasks

    folder.mkdir(parents=True, exist_ok=True)
    bar = _gallery_file(cache, "bar_colors.py")
    files = {
        "a_orig.py": bar,
        "b_dup_exact.py": "# a copy with a comment and other spacing\n" + bar.replace("\n\n", "\n\n\n"),
        "c_dup_image.py": bar + "\nunused_value = 42\n",
        "d_dup_near.py": bar.replace(
            "set_title('Fruit supply by kind and color')", "set_title('Fruit supply')"
        ),
        "e_broken_name.py": "import matplotlib.pyplot as plt\nplt.plot(xs, [1, 2, 3])\n",
        "f_old_numpy.py": "import numpy as np\nimport matplotlib.pyplot as plt\n"
        "x = np.arange(0, 10, 0.5, dtype=np.float)\nplt.plot(x, np.sin(x), color='purple')\nplt.fill_between(x, np.sin(x), alpha=0.3)\n"
        "plt.title('A sine wave')\n",
        "g_old.ly": '\\version "2.10.0"\n\\header { title = "Two voices" composer = "Planted" }\n'
        "\\new Staff \\partcombine\n  \\relative c'' { \\repeat unfold 6 { c4 d e f g2 a4 b c1 } }\n"
        "  \\relative c' { \\repeat unfold 6 { e4 f g a b2 c4 d e1 } }\n",
        "h_broken.mmd": "flowchart LR\n    A[Order received] --> B{In stock?\n    B -->|yes| C[Ship it]\n",
        "i_bench_copy.py": load_tasks("bundled", ["python"])[0].code,
        "j_bench_copy.mmd": load_tasks("bundled", ["mermaid"])[0].code,
    }
    for name, text in files.items():
        (folder / name).write_text(text)
    (folder / "data.csv").write_text(load_tasks("bundled", ["python"])[0].data)  # the copied task's data
    return files


@dataclass
class E2E:
    config: Any
    work: Path
    out: Path
    planted: dict[str, str]
    stub_requests: list[dict[str, Any]]
    summaries: dict[str, dict[str, Any]]


def docs(folder: Path) -> list[dict[str, Any]]:
    from viscode_multi.publish import read_jsonl_folder

    return list(read_jsonl_folder(folder)) if folder.exists() else []


@pytest.fixture(scope="session")
def corpus_cache() -> Path:
    from viscode_multi.fetch import default_cache

    return default_cache()


@pytest.fixture(scope="session")
def e2e(tmp_path_factory: pytest.TempPathFactory, corpus_cache: Path) -> E2E:
    """One build over all 8 languages (3 real programs each) plus planted programs, LLM stages on the stub."""
    from stub_openai import StubOpenAI
    from viscode_multi.corpora import CORPORA

    from viscode_multi import Build, BuildConfig, LLMConfig

    root = tmp_path_factory.mktemp("e2e")
    planted = plant(root / "planted", corpus_cache)
    raw = root / "hub-like.jsonl"
    snippet = "import pandas as pd\ndf = pd.read_csv('sales.csv')\ndf.plot(x='month', y='revenue')\n"
    raw.write_text(json.dumps({"content": snippet, "lang": "python"}) + "\n")
    with StubOpenAI(stub_script) as stub:
        llm = LLMConfig(stub.base_url, "stub-model")
        config = BuildConfig(
            out=str(root / "viscode-multi"), work=str(root / "work"), corpora=list(CORPORA),
            sources=[f"folder:{root / 'planted'}", f"jsonl:{raw}?code=content&language=lang&license=MIT"],
            max_per_language=3, shards=4, llm=llm, vlm=llm,
            # the slow, small-picture languages get more candidates so each keeps at least one
            language_caps={"asymptote": 8, "latex": 6, "lilypond": 6, "svg": 5},
        )  # fmt: skip
        summaries = Build(config).run_all()
        requests = list(stub.requests)
    return E2E(config, root / "work", root / "viscode-multi", planted, requests, summaries)
