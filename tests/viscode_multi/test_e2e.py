"""End to end on a small real corpus (all 8 languages from the registries) plus planted programs.

One build (the session fixture ``e2e``) runs every stage with the LLM stages on a local
OpenAI-compatible stub; each test checks one claim about what came out.
"""

from __future__ import annotations

import json

import pytest
from conftest import FIXED_MERMAID, LLM_PROGRAM, docs

pytestmark = pytest.mark.slow
LANGUAGES = ["asymptote", "html", "latex", "lilypond", "mermaid", "python", "svg", "vegalite"]


def _by_name(items, name):
    found = [d for d in items if d["id"].endswith("/" + name)]
    assert found, f"{name} not found among {[d['id'] for d in items]}"
    return found[0]


def test_filter_counts_add_up_per_rule(e2e):
    sources = e2e.summaries["sources"]["per_language"]
    filtered = e2e.summaries["filter"]["per_language"]
    for lang in LANGUAGES:
        assert sources[lang]["candidates"] >= 3, lang
        kept = sum(v for k, v in filtered[lang].items() if k.startswith("kept:"))
        dropped = sum(v for k, v in filtered[lang].items() if k.startswith("dropped:"))
        assert kept >= 1, (lang, filtered[lang])
        assert kept + dropped <= sources[lang]["candidates"] + 12, lang  # + planted programs
    # every kept record names its rule, every dropped one its reason
    assert all(d["metadata"]["filter_rule"] for d in docs(e2e.work / "filtered"))
    assert all(d["metadata"]["filter_reason"] for d in docs(e2e.work / "dropped/filter"))


def test_every_record_has_provenance_and_a_licence(e2e):
    for d in docs(e2e.work / "verified"):
        prov = d["metadata"]["provenance"]
        assert prov["source"] in ("pypi", "debian", "npm", "local"), prov
        assert prov["package"] and prov["path"] and prov["license"], prov
        if prov["source"] != "local":
            assert prov["version"], prov


def test_verification_keeps_good_programs_of_every_language(e2e):
    kept = docs(e2e.work / "verified")
    languages = {d["metadata"]["language"] for d in kept}
    assert set(LANGUAGES) <= languages, languages
    for d in kept:
        render = d["metadata"]["render"]
        assert render["status"] == "ok" and render["kept"]
        assert render["image_bytes"] >= e2e.config.verify.min_image_bytes
        assert render["colors"] >= 2
        assert (e2e.work / "images" / render["image_sha256"][:2] / f"{render['image_sha256']}.png").exists()


def test_verification_drops_broken_programs_with_their_failure_kind(e2e):
    failed = docs(e2e.work / "failed")
    name = _by_name(failed, "e_broken_name.py")["metadata"]["render"]
    assert (name["status"], name["failure_kind"]) == ("error", "NameError")
    assert "xs" in name["error"]
    numpy = _by_name(failed, "f_old_numpy.py")["metadata"]["render"]
    assert numpy["failure_kind"] == "AttributeError" and "float" in numpy["error"]
    mermaid = _by_name(failed, "h_broken.mmd")["metadata"]["render"]
    assert mermaid["status"] == "error" and mermaid["error"]
    lily = _by_name(failed, "g_old.ly")["metadata"]["render"]
    assert lily["status"] == "error" and "partcombine" in lily["error"]
    # the size rule's drops are reported as such, with the image facts
    small = [d for d in failed if d["metadata"]["render"]["failure_kind"] == "image-too-small"]
    assert all(d["metadata"]["render"]["image_bytes"] < e2e.config.verify.min_image_bytes for d in small)
    kinds = e2e.summaries["verify"]["failure_kinds"]
    assert kinds["python"]["error:NameError"] >= 1


def test_llm_extraction_through_the_endpoint(e2e):
    extracted = docs(e2e.work / "extracted")
    raw = [d for d in extracted if d["metadata"]["form"] == "raw"]
    assert len(raw) == 1
    assert raw[0]["text"].strip() == LLM_PROGRAM.strip()
    assert raw[0]["metadata"]["extractor"].startswith("llm:stub-model:prompts-v1-")
    systems = [r["messages"][0]["content"] for r in e2e.stub_requests]
    assert any(s.startswith("You turn code found in the wild") for s in systems)
    # the LLM's program renders and is kept
    assert any(d["metadata"]["form"] == "raw" for d in docs(e2e.work / "verified"))


def test_instructions_come_from_the_vision_endpoint_with_the_image(e2e):
    instructed = docs(e2e.work / "instructed")
    assert instructed
    for d in instructed:
        instruction = d["metadata"]["instruction"]
        assert instruction["writer"].startswith("llm:stub-model:prompts-v1-")
        assert instruction["output_description"] == "Create the chart shown."
        assert instruction["data"] == ""  # "None" means no data block
        messages = d["metadata"]["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant"]
        assert messages[1]["content"].startswith(f"```{d['metadata']['language']}\n")
    image_requests = [
        r for r in e2e.stub_requests if r["messages"][0]["content"].startswith("You write the instruction")
    ]
    assert len(image_requests) == len(instructed)
    content = image_requests[0]["messages"][1]["content"]
    assert content[1]["image_url"]["url"].startswith("data:image/png;base64,")


def test_dialogues_from_real_failures_with_verified_fixes(e2e):
    from visplotbench.harness import feedback

    dialogues = docs(e2e.work / "dialogues")
    fixers = {d["id"].rsplit("/", 1)[-1]: d["metadata"]["fixer"] for d in dialogues}
    assert fixers["f_old_numpy.py"] == "mechanical:python-removed-names"
    assert fixers["g_old.ly"] == "mechanical:convert-ly"
    assert fixers["h_broken.mmd"].startswith("llm:stub-model")
    assert "e_broken_name.py" not in fixers  # nothing fixed it, so no dialogue
    for d in dialogues:
        meta = d["metadata"]
        assert meta["render"]["kept"] and meta["render"]["status"] == "ok"
        roles = [m["role"] for m in meta["messages"]]
        assert roles == ["user", "assistant", "user", "assistant"]
        assert meta["messages"][1]["loss"] is False  # the failing program is not learned
        broken = meta["broken_render"]
        assert meta["messages"][2]["content"] == feedback(meta["language"], broken["status"], broken["error"])
        assert broken["error"].strip() in meta["messages"][2]["content"]
    mermaid = _by_name(dialogues, "h_broken.mmd")
    assert mermaid["text"].strip() == FIXED_MERMAID.strip()
    lily = _by_name(dialogues, "g_old.ly")
    assert "\\partCombine" in lily["text"] and '\\version "2.24' in lily["text"]


def test_dedup_catches_planted_copies(e2e):
    exact = {
        d["id"].rsplit("/", 1)[-1]: d["metadata"]["filter_reason"]
        for d in docs(e2e.work / "dropped/dedup-exact")
    }
    assert exact.get("b_dup_exact.py") == "exact-code"
    assert exact.get("c_dup_image.py") == "same-image"
    near = [d["id"].rsplit("/", 1)[-1] for d in docs(e2e.work / "dropped/dedup-minhash")]
    survivors = [d["id"].rsplit("/", 1)[-1] for d in docs(e2e.work / "deduped")]
    pair = {"a_orig.py", "d_dup_near.py"}
    assert len(pair & set(near)) == 1 and len(pair & set(survivors)) == 1, (near, survivors)


def test_decontamination_removes_planted_benchmark_tasks_and_reports_them(e2e):
    report = json.loads((e2e.work / "reports/decontamination.json").read_text())
    matched = {m["id"].rsplit("/", 1)[-1]: m for m in report["matches"]}
    assert matched["i_bench_copy.py"]["task"] == "python_1"
    assert matched["j_bench_copy.mmd"]["task"] == "mermaid_1"
    assert matched["i_bench_copy.py"]["fraction"] >= 0.9  # boilerplate n-grams do not count
    clean = {d["id"].rsplit("/", 1)[-1] for d in docs(e2e.work / "clean")}
    assert not {"i_bench_copy.py", "j_bench_copy.mmd"} & clean
    # real programs are not flagged by shared boilerplate
    assert report["removed"] == 2, report["matches"]


def test_output_loads_with_declared_configs_and_features(e2e, monkeypatch):
    import datasets
    from viscode_multi.publish import features

    monkeypatch.chdir(e2e.out.parent)
    names = datasets.get_dataset_config_names("viscode-multi")
    assert set(names) >= {"all", "dialogues", *LANGUAGES}, names
    ds = datasets.load_dataset("viscode-multi", split="train")
    assert ds.features == features()
    assert set(ds["language"]) >= set(LANGUAGES)
    row = ds[0]
    assert row["uuid"] and row["messages"][0]["role"] == "user" and row["image"].size[0] > 0
    svg = datasets.load_dataset("viscode-multi", "svg", split="train")
    assert set(svg["language"]) == {"svg"}
    dialogues = datasets.load_dataset("viscode-multi", "dialogues", split="train")
    assert len(dialogues) >= 3 and set(dialogues["kind"]) == {"repair"}
    card = (e2e.out / "README.md").read_text()
    assert "configs:" in card and "## Licences" in card and "CC0-1.0" in card


def test_viscoder2_train_trains_a_tiny_model_on_the_output(e2e, tmp_path):
    from viscoder2_train.sft import run

    result = run(
        [
            "--recipe", "tiny", "--dataset_name", str(e2e.out), "--model_name_or_path", str(tmp_path / "base"),
            "--output_dir", str(tmp_path / "out"), "--max_samples", "16", "--num_train_epochs", "1",
            "--save_strategy", "no",
        ]
    )  # fmt: skip
    assert result.data is not None and result.data.total_trained > 0
    assert result.loss_curve and all(loss == loss for _, loss in result.loss_curve)  # real, finite numbers
    assert set(result.data.read) >= {"python", "svg"}
