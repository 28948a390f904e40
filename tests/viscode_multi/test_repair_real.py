"""Repair dialogues from real stage-4 failures: registry programs that fail on the real engine for a
mechanical reason (found by `make dataset`), fixed deterministically, the fix verified by the engine.

Each program goes through the pipeline's own steps: ``ExtractStep`` -> ``VerifyStep`` (the engine; it
must fail with the recorded error) -> ``RepairStep``. The dialogue's user turns must be the
benchmark's self-debug feedback (``visplotbench.harness.feedback`` via ``next_messages``).
"""

from __future__ import annotations

import pytest
from viscode_multi.corpora import CORPORA

# corpus -> (id suffix, error the engine reports, fixer that repairs it, rounds)
REAL_FAILURES = {
    "openclipart": [
        ("signs_and_symbols/flags/america/canada.svg", "could not convert string to float: '14.1176%'",
         "mechanical:svg-percent-opacity", 1),
        ("office/floppy_frederic_moser_01.svg", "EntitiesForbidden", "mechanical:svg-inline-entities", 1),
    ],
    "matplotlib-gallery": [
        ("statistics/boxplot.py", "unexpected keyword argument 'labels'", "mechanical:python-removed-names", 1),
    ],
    "pgfplots-manual": [
        ("pgfplotstable.tex#23", "Please load \\usepackage{pgfplotstable}", "mechanical:latex-missing-package", 1),
    ],
    "pgf-manual": [
        ("pgfmanual-en-tutorial-nodes.tex.gz#23", "I do not know the key '/tikz/place'",
         "mechanical:latex-missing-libraries", 1),
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def repaired(corpus_cache, tmp_path_factory):
    from viscode_multi.config import VerifyConfig
    from viscode_multi.dialogues import RepairStep
    from viscode_multi.extract import ExtractStep
    from viscode_multi.verify import VerifyStep

    docs, expected = [], {}
    for corpus, wanted in REAL_FAILURES.items():
        for cand in CORPORA[corpus].walk(corpus_cache):
            for suffix, error, fixer, rounds in wanted:
                if cand.id.endswith("/" + suffix) or cand.id.endswith("." + suffix):
                    doc = cand.to_document()
                    assert ExtractStep(None).filter(doc) is True, doc.metadata
                    docs.append(doc)
                    expected[doc.id] = (error, fixer, rounds)
    assert len(docs) == sum(len(w) for w in REAL_FAILURES.values()), sorted(expected)
    images = tmp_path_factory.mktemp("images")
    verdicts = VerifyStep(str(images), VerifyConfig()).filter_batch(docs)
    repairs = {
        d.id.removeprefix("repair/"): d for d in RepairStep(str(images), VerifyConfig()).run(iter(docs))
    }
    return docs, verdicts, expected, repairs


def test_real_programs_fail_on_the_engine_with_the_recorded_error(repaired):
    docs, verdicts, expected, _ = repaired
    for doc, kept in zip(docs, verdicts, strict=True):
        assert kept is not True, doc.id
        render = doc.metadata["render"]
        assert render["status"] == "error" and expected[doc.id][0] in render["error"], (doc.id, render)


def test_mechanical_fixes_verified_by_the_engine_become_dialogues(repaired):
    from visplotbench.harness import feedback

    docs, _, expected, repairs = repaired
    assert set(repairs) == {d.id for d in docs}
    for doc in docs:
        dialogue = repairs[doc.id].metadata
        _, fixer, rounds = expected[doc.id]
        assert dialogue["fixer"] == fixer and dialogue["rounds"] == rounds
        assert dialogue["render"]["status"] == "ok" and dialogue["render"]["kept"]
        assert repairs[doc.id].text != doc.text
        messages = dialogue["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
        broken = doc.metadata["render"]
        lang = doc.metadata["language"]
        # the user turn is exactly what the benchmark's self-debug round sends for this failure
        assert messages[2]["content"] == feedback(lang, broken["status"], broken["error"])
        assert messages[1] == {
            "role": "assistant",
            "content": f"```{lang}\n{doc.text.rstrip()}\n```",
            "loss": False,
        }
        assert messages[3]["content"] == f"```{lang}\n{repairs[doc.id].text.rstrip()}\n```"
        assert messages[3]["loss"] is None


def test_fixers_decline_errors_they_do_not_fix():
    from viscode_multi.fixes import (
        latex_missing_libraries,
        latex_missing_package,
        python_removed_names,
        svg_inline_entities,
        svg_percent_opacity,
    )

    doc = (
        "\\documentclass{standalone}\\usepackage{tikz}\\begin{document}\\tikz\\node[place]{};\\end{document}"
    )
    assert latex_missing_package(doc, "! Undefined control sequence.") is None
    assert (
        latex_missing_libraries(doc, "I do not know the key '/tikz/shape example'") is None
    )  # a manual macro
    assert latex_missing_libraries(doc.replace("tikz}", "tikz}\\usetikzlibrary{petri}", 1),
                                   "I do not know the key '/tikz/place'") is None  # fmt: skip
    assert python_removed_names("ax.boxplot(d, labels=l)", "TypeError: unsupported operand") is None
    assert (
        python_removed_names("ax.bar(x, y, labels=l)", "bar() got an unexpected keyword argument 'labels'")
        is None
    )
    assert svg_percent_opacity('<svg width="100%">', "could not convert string to float: '100%'") is None
    assert svg_inline_entities('<svg xmlns="&ns_svg;"/>', "EntitiesForbidden") is None  # no declaration
