"""Stage pieces on real registry files: corpus walkers, extractors, fixers, writers, decontamination, push."""

from __future__ import annotations

import re

import pytest
from viscode_multi.corpora import CORPORA


def _walk(name, cache):
    return list(CORPORA[name].walk(cache))


def test_mermaid_examples_are_read_from_the_npm_package(corpus_cache):
    cands = _walk("mermaid-examples", corpus_cache)
    assert len(cands) >= 79
    assert all(c.provenance.source == "npm" and c.provenance.license == "MIT" for c in cands)
    assert all(c.text.split()[0] for c in cands) and cands[0].description


def test_lilypond_book_fragments_become_standalone_files(corpus_cache):
    from viscode_multi.extract import extract_deterministic

    cands = _walk("lilypond-docs", corpus_cache)
    assert len(cands) > 3000
    with_doc = [c for c in cands if c.description]
    assert len(with_doc) > 500  # texidoc grounds instructions
    out = extract_deterministic("lilypond", "lilypond-book", with_doc[0].text, with_doc[0].extra)
    assert out.code.lstrip().startswith("\\version") or "\\version" in out.code
    assert "\\sourcefilename" not in out.code and "lilypond-book-preamble" not in out.code


def test_latex_codeexamples_are_parsed_with_their_preamble(corpus_cache):
    from viscode_multi.extract import extract_deterministic

    cands = _walk("pgfplots-manual", corpus_cache) + _walk("pgf-manual", corpus_cache)
    assert len(cands) > 2500
    with_preamble = [c for c in cands if c.extra["preamble"]]
    assert with_preamble and all(
        "\\usetikzlibrary" in c.extra["preamble"] or c.extra["preamble"] for c in with_preamble
    )
    doc = extract_deterministic("latex", "codeexample", with_preamble[0].text, with_preamble[0].extra).code
    assert doc.startswith("\\documentclass") and with_preamble[0].extra["preamble"].strip() in doc
    assert doc.rstrip().endswith("\\end{document}")


def test_altair_program_gives_a_spec_with_inlined_data(corpus_cache):
    import json

    from viscode_multi.extract import extract_deterministic

    cands = [c for c in _walk("altair-gallery", corpus_cache) if c.id.endswith("/bar_chart_horizontal.py")]
    out = extract_deterministic("vegalite", "altair-program", cands[0].text, cands[0].extra)
    spec = json.loads(out.code)
    assert "url" not in json.dumps(spec.get("data", {})) and spec["mark"]
    html = extract_deterministic(
        "html", "altair-program", cands[0].text, {**cands[0].extra, "target": "html"}
    )
    assert "vegaEmbed" in html.code and "cdn.jsdelivr.net/npm/vega-lite@" in html.code


def test_python_extractor_declines_network_and_interactive_scripts():
    from viscode_multi.extract import extract_python

    assert (
        extract_python("import seaborn as sns\ndf = sns.load_dataset('tips')\n").declined
        == "needs-network-data"
    )
    assert extract_python("x = input('n?')\n").declined == "interactive"
    assert extract_python("import matplotlib.pyplot as plt\nplt.plot([1, 2])\n").code


def test_svg_fix_gives_the_root_the_viewbox_size():
    from viscode_multi.fixes import svg_size_from_viewbox

    broken = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 80"><rect width="50" height="30"/></svg>'
    )
    fixed = svg_size_from_viewbox(broken, "SVG size is undefined")
    assert fixed is not None and 'width="120" height="80"' in fixed
    assert svg_size_from_viewbox(broken, "some other error") is None


def test_python_fix_replaces_removed_numpy_aliases_only():
    from viscode_multi.fixes import python_removed_names

    code = "import numpy as np\nx = np.float(3) + np.float64(2)\n"
    fixed = python_removed_names(code, "AttributeError: module 'numpy' has no attribute 'float'")
    assert fixed == "import numpy as np\nx = float(3) + np.float64(2)\n"


def test_deterministic_writer_states_only_what_the_program_says():
    from viscode_multi.instruct import deterministic_instruction

    code = (
        "import matplotlib.pyplot as plt\nyears = [2020, 2021, 2022]\nsales = [3, 5, 4]\n"
        "plt.bar(years, sales, color='teal')\nplt.title('Sales per year')\nplt.xlabel('Year')\n"
    )
    ins = deterministic_instruction("python", code, "Sales of the shop.")
    text = ins.text()
    assert ins.writer == "deterministic-v1"
    assert '"Sales per year"' in ins.output_description and "bar chart" in ins.output_description
    assert "years = [2020, 2021, 2022]" in ins.data and "The data is shown below:" in text
    assert "teal" in ins.style and '"Year"' in ins.style
    assert "Sales of the shop." in ins.data_description
    assert not re.search(r"line chart|pie", text)


def test_five_part_replies_are_parsed_and_bad_ones_refused():
    from viscode_multi.instruct import parse_five_parts

    parts = parse_five_parts(
        "1. Setup: Python.\n2. Data: x.\n3. Data: None\n4. Output: Create it.\n5. Style: red."
    )
    assert parts == ["Python.", "x.", "None", "Create it.", "red."]
    assert parse_five_parts("Here is an instruction without parts.") is None


def test_decontamination_flags_copies_not_shared_boilerplate():
    from datatrove.data import Document
    from viscode_multi.decontam import Decontaminate
    from visplotbench.tasks import load_tasks

    step = Decontaminate()
    task = load_tasks("bundled", ["latex"])[0]
    copy = Document(task.code, "copy", metadata={"language": "latex", "messages": [{"content": "x"}]})
    own = "\\documentclass{standalone}\\usepackage{pgfplots}\\begin{document}\\begin{tikzpicture}\\draw (0,0) -- (1,1);\\end{tikzpicture}\\end{document}"
    fresh = Document(own, "fresh", metadata={"language": "latex", "messages": [{"content": "Draw a line."}]})
    assert step.filter(copy) == (False, "contaminated-code")
    assert step.filter(fresh) is True
    assert step.matches[0]["task"] == task.id


def test_push_uploads_the_folder_through_huggingface_hub(e2e, tmp_path, monkeypatch):
    import shutil

    import datasets
    import huggingface_hub
    from viscode_multi.push import prepare_push, push

    plan = prepare_push(e2e.out, "someone/viscode-multi")
    assert "README.md" in plan.files and any(f.startswith("data/python/") for f in plan.files)
    hub = tmp_path / "hub" / "viscode-multi"

    class LocalHub:  # the Hub is unreachable here: a local folder stands in for it
        def __init__(self, *args, **kwargs):
            pass

        def create_repo(self, repo_id, repo_type, private, exist_ok):
            assert (repo_id, repo_type) == ("someone/viscode-multi", "dataset")
            hub.mkdir(parents=True)

        def upload_folder(self, folder_path, repo_id, repo_type, commit_message):
            shutil.copytree(folder_path, hub, dirs_exist_ok=True)
            return "local://" + repo_id

    monkeypatch.setattr(huggingface_hub, "HfApi", LocalHub)
    assert push(plan) == "local://someone/viscode-multi"
    monkeypatch.chdir(hub.parent)
    assert len(datasets.load_dataset("viscode-multi", "python", split="train")) > 0


def test_push_offline_fails_with_the_hubs_error(e2e, monkeypatch):
    from viscode_multi.push import prepare_push, push

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(Exception, match=r"(?i)offline"):
        push(prepare_push(e2e.out, "someone/viscode-multi"))


def test_prepare_push_refuses_a_folder_that_is_not_a_dataset(tmp_path):
    from viscode_multi.push import prepare_push

    with pytest.raises(ValueError, match="viscode-multi build"):
        prepare_push(tmp_path, "someone/x")
