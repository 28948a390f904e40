"""The judge through a local OpenAI-compatible stub: what is sent (system prompt, text, image order),
how replies parse, retries, the cache, scoring a run folder (``score_run`` and ``visplotbench score``),
the statistics, and the reports that show the scores."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image, ImageDraw
from stub_openai import StubOpenAI
from visplotbench.cli import main
from visplotbench.judges import (
    JudgeItem,
    load_judge_prompts,
    make_judge,
    parse_score,
    score_run,
    summarize_scores,
)
from visplotbench.prompts import load_prompts
from visplotbench.runfolder import AttemptRecord, RunManifest, RunStore, ScoreRecord, ScoreStore, TaskCounts
from visplotbench.tasks import Task

# ---------------------------------------------------------------------------------------- helpers


def png(color, size=(120, 80), bar=True) -> bytes:
    img = Image.new("RGB", size, "white")
    if bar:
        ImageDraw.Draw(img).rectangle([20, 20, 100, 70], fill=color)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def decoded_colors(content: list[dict]) -> list[tuple[int, int, int]]:
    """The colour at the centre of each image_url part, in order."""
    colors = []
    for part in content:
        if part["type"] == "image_url":
            url = part["image_url"]["url"]
            assert url.startswith("data:image/png;base64,")
            img = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB")
            colors.append(img.getpixel((img.width // 2, img.height // 2)))
    return colors


def user_text(body: dict) -> str:
    user = next(m for m in body["messages"] if m["role"] == "user")
    return next(p["text"] for p in user["content"] if p["type"] == "text")


def judge_for(stub, **options):
    return make_judge("openai:judge-model", {"base_url": stub.base_url, "retries": 0, **options})


RED, BLUE, GREEN = (220, 30, 30), (30, 30, 220), (30, 160, 30)
TASKS = {
    "svg_1": Task("svg_1", "Draw one red bar.", "Flat style, white background.", "", [], "bar", "bar"),
    "svg_2": Task("svg_2", "Draw one blue bar.", "Thin outline.", "", [], "bar", "bar"),
    "vegalite_1": Task("vegalite_1", "UNPARSABLE green bar.", "No legend.", "", [], "bar", "bar"),
}


def make_run(folder):
    """svg_1 passes first try; svg_2 draws nothing, then passes in round 1; vegalite_1 passes first try.

    Reference images: red for svg_1, blue for svg_2; vegalite_1 has none.
    """
    store = RunStore(folder)
    manifest = RunManifest(
        fingerprint="0" * 64,
        model="openai:coder",
        rounds=1,
        tasks=TaskCounts("bundled", 3, {"svg": 2, "vegalite": 1}),
        prompts_version="v1",
        prompts_sha256="0" * 64,
    )
    store.prepare(manifest, resume=False)

    def attempt(task_id, round_, status, images):
        messages = [
            {"role": "system", "content": "code"},
            {"role": "user", "content": f"Instruction for {task_id}"},
        ]
        rec = AttemptRecord(
            task_id,
            task_id.rsplit("_", 1)[0],
            round_,
            messages,
            "reply",
            "code",
            status,
            passed=status == "ok",
            error="" if status == "ok" else "boom",
        )
        store.append(rec, images)

    attempt("svg_1", 0, "ok", [png(RED)])
    attempt("svg_2", 0, "error", [])
    attempt("svg_2", 1, "ok", [png(BLUE)])
    attempt("vegalite_1", 0, "ok", [png(GREEN), png(RED)])
    (store.images / "svg_1_ref.png").write_bytes(png(RED))
    (store.images / "svg_2_ref.png").write_bytes(png(BLUE))
    return folder


def scripted(body, call):
    """vis -> 80; task -> 60, except the UNPARSABLE task, which never gives a score."""
    text = user_text(body)
    if "[PLOT TASK]" not in text:
        return "The two charts match closely.\n[FINAL SCORE]: 80"
    if "UNPARSABLE" in text:
        return "A nice chart, I would say quite good."
    return "It follows the task.\n[FINAL SCORE]: 60"


# ---------------------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("reply", "score", "clamped"),
    [
        ("[FINAL SCORE]: 40", 40, False),
        ("Final score 40", None, False),
        ("The chart is fine but has no score.", None, False),
        ("", None, False),
        ("[FINAL SCORE]: 140", 100, True),
        ("[FINAL SCORE]: -5", 0, True),
        ("40", 40, False),
        ("**[FINAL SCORE]:** 85", 85, False),
        ("First [FINAL SCORE]: 10, on reflection\n[final score] = 72.5", 72.5, False),
        ("[FINAL SCORE]: N/A", None, False),
    ],
)
def test_parse_score(reply, score, clamped):
    parsed = parse_score(reply)
    assert parsed.score == score and parsed.clamped == clamped and parsed.parsed == (score is not None)


# ---------------------------------------------------------------------------------------- prompts


def test_our_judge_prompts_are_versioned_and_not_the_codegen_prompt():
    prompts = load_judge_prompts()
    assert prompts.version == "judge-v1" and len(prompts.sha256) == 64
    assert all("[FINAL SCORE]" in text for text in (prompts.system, prompts.vis, prompts.task, prompts.retry))
    codegen = {lp.system_prompt for lp in load_prompts().languages.values()}
    assert prompts.system not in codegen


def test_judge_prompts_from_an_instructs_json_file(tmp_path):
    """The original file format: judge_instruct_vis / judge_instruct_task in every language entry."""
    entry = {
        "system_prompt": "S",
        "setup_instruct": "",
        "plot_instruct": "",
        "data_instruct": "",
        "judge_instruct_vis": "VIS-TEXT compare.",
        "judge_instruct_task": "TASK-TEXT judge.",
    }
    odd = {**entry, "judge_instruct_vis": "LILY-VIS"}
    path = tmp_path / "instructs.json"
    path.write_text(json.dumps({"python": entry, "svg": entry, "lilypond": odd}))
    prompts = load_judge_prompts(path)
    assert prompts.version == "file:instructs.json" and prompts.sha256 != load_judge_prompts().sha256
    assert prompts.instruction("vis", "svg") == "VIS-TEXT compare."
    assert prompts.instruction("task", "python") == "TASK-TEXT judge."
    assert prompts.instruction("vis", "lilypond") == "LILY-VIS"
    assert prompts.system == load_judge_prompts().system  # never the code-generation system prompt "S"
    (tmp_path / "bad.json").write_text(json.dumps({"python": {"system_prompt": "S"}}))
    with pytest.raises(ValueError, match="judge_instruct_vis"):
        load_judge_prompts(tmp_path / "bad.json")


# ---------------------------------------------------------------------------------------- requests


def test_vis_request_sends_generated_image_first_then_reference():
    with StubOpenAI(lambda body, call: "[FINAL SCORE]: 55") as stub:
        judge = judge_for(stub)
        item = JudgeItem("vis", "svg", [png(RED), png(GREEN)], reference=png(BLUE))
        [(index, outcome)] = list(judge.judge([item]))
        body = stub.requests[0]
    assert index == 0 and outcome.status == "scored" and outcome.score == 55 and outcome.requests == 1
    assert body["model"] == "judge-model" and body["temperature"] == 0 and body["max_tokens"] == 3000
    system, user = body["messages"]
    assert system == {"role": "system", "content": load_judge_prompts().system}
    assert user["role"] == "user" and user["content"][0] == {"type": "text", "text": load_judge_prompts().vis}
    assert [p["type"] for p in user["content"]] == ["text", "image_url", "image_url"]
    assert decoded_colors(user["content"]) == [RED, BLUE]  # first generated image, then the reference
    assert user["content"][1]["image_url"]["detail"] == "auto"


def test_task_request_sends_task_text_and_all_images():
    with StubOpenAI(lambda body, call: "[FINAL SCORE]: 70") as stub:
        judge = judge_for(stub, detail="none", max_images=2)
        item = JudgeItem(
            "task", "svg", [png(RED), png(GREEN), png(BLUE)], task_text="Draw bars.\nFlat style."
        )
        [(_, outcome)] = list(judge.judge([item]))
        content = stub.requests[0]["messages"][1]["content"]
    assert outcome.score == 70
    assert content[0]["text"] == load_judge_prompts().task + "\n[PLOT TASK]:\nDraw bars.\nFlat style."
    assert decoded_colors(content) == [RED, GREEN]  # max_images=2
    assert "detail" not in content[1]["image_url"]


def test_large_images_are_shrunk_alike():
    with StubOpenAI(lambda body, call: "[FINAL SCORE]: 50") as stub:
        judge = judge_for(stub, image_max_side=100)
        list(judge.judge([JudgeItem("vis", "svg", [png(RED, (400, 200))], reference=png(BLUE, (300, 600)))]))
        parts = [p for p in stub.requests[0]["messages"][1]["content"] if p["type"] == "image_url"]
    sizes = [
        Image.open(io.BytesIO(base64.b64decode(p["image_url"]["url"].split(",")[1]))).size for p in parts
    ]
    assert sizes == [(100, 50), (50, 100)]


def test_failed_request_is_retried_once():
    with StubOpenAI(
        lambda body, call: (500, {"error": {"message": "boom"}}) if call == 0 else "[FINAL SCORE]: 64"
    ) as stub:
        [(_, outcome)] = list(judge_for(stub).judge([JudgeItem("task", "svg", [png(RED)], task_text="t")]))
        assert len(stub.requests) == 2 and stub.requests[0] == stub.requests[1]
    assert outcome.status == "scored" and outcome.score == 64 and outcome.requests == 2


def test_unparsed_reply_is_retried_once_with_a_reminder():
    replies = ["Final score 40", "[FINAL SCORE]: 40"]
    with StubOpenAI(lambda body, call: replies[call]) as stub:
        [(_, outcome)] = list(judge_for(stub).judge([JudgeItem("task", "svg", [png(RED)], task_text="t")]))
        retry = stub.requests[1]["messages"]
    assert outcome.status == "scored" and outcome.score == 40 and outcome.replies == replies
    assert retry[:2] == stub.requests[0]["messages"]
    assert retry[2:] == [
        {"role": "assistant", "content": "Final score 40"},
        {"role": "user", "content": load_judge_prompts().retry},
    ]


def test_reply_without_score_twice_is_unparsed_and_a_dead_endpoint_is_failed():
    with StubOpenAI(lambda body, call: "no score") as stub:
        [(_, outcome)] = list(judge_for(stub).judge([JudgeItem("task", "svg", [png(RED)], task_text="t")]))
        assert len(stub.requests) == 2
    assert outcome.status == "unparsed" and outcome.score is None and outcome.replies == ["no score"] * 2
    with StubOpenAI(lambda body, call: (503, {"error": {"message": "down"}})) as stub:
        [(_, outcome)] = list(judge_for(stub).judge([JudgeItem("task", "svg", [png(RED)], task_text="t")]))
        assert len(stub.requests) == 2
    assert outcome.status == "failed" and outcome.score is None and "503" in outcome.error


def test_unknown_options_name_the_valid_ones():
    with pytest.raises(ValueError, match="max_images"):
        make_judge("openai:m", {"base_url": "http://127.0.0.1:9/v1", "colour": 1})
    with pytest.raises(ValueError, match="openai"):
        make_judge("replay:m")


# ---------------------------------------------------------------------------------------- a run folder


def test_score_run_judges_each_attempt_once_and_resumes_from_file_and_cache(tmp_path):
    folder = make_run(tmp_path / "run")
    cache = str(tmp_path / "cache")
    with StubOpenAI(scripted) as stub:
        summary = score_run(folder, judge_for(stub), tasks=list(TASKS.values()), cache_dir=cache)
        # 3 attempts with images: vis for the 2 with a reference, task for all 3 (+1 retry for UNPARSABLE)
        assert len(stub.requests) == 2 + 3 + 1
        lines = ScoreStore(folder).load()
        # no request ever carries the no-image attempt; every line names judge model and prompts
        judged = [line for line in lines if line.kind in ("vis", "task")]
        assert all(
            line.model == "judge-model"
            and line.prompt_version == "judge-v1"
            and len(line.prompt_sha256) == 64
            for line in judged
        )
        by = {(line.task_id, line.round, line.kind): line for line in lines}
        assert by[("svg_2", 0, "vis")].status == "no_image" and by[("svg_2", 0, "vis")].score == 0
        assert by[("svg_2", 0, "vis")].requests == 0
        assert by[("vegalite_1", 0, "vis")].status == "no_reference"
        assert (
            by[("vegalite_1", 0, "task")].status == "unparsed" and by[("vegalite_1", 0, "task")].requests == 2
        )
        assert by[("svg_1", 0, "vis")].score == 80 and by[("svg_1", 0, "task")].score == 60
        assert by[("svg_1", 0, "ssim")].score == pytest.approx(1.0)  # same image as the reference
        task_texts = [user_text(b) for b in stub.requests if "[PLOT TASK]" in user_text(b)]
        assert any(
            t.endswith("[PLOT TASK]:\nDraw one red bar.\nFlat style, white background.") for t in task_texts
        )

        # round 0: svg_2 drew nothing (0); round 1: its new attempt scores; svg_1 keeps its round-0 score
        vis = summary.kinds["vis"]
        assert [s.mean for s in vis.languages["svg"]] == [40, 80]
        assert vis.languages["svg"][0].no_image == 1 and vis.languages["vegalite"][0].no_reference == 1
        task = summary.kinds["task"]
        assert task.languages["vegalite"][1].unparsed == 1 and task.languages["vegalite"][1].mean == 0
        assert task.overall[1].mean == pytest.approx(40) and task.overall[1].good == 0

        # again: nothing new is asked (the lines are there)
        score_run(folder, judge_for(stub), tasks=list(TASKS.values()), cache_dir=cache)
        assert len(stub.requests) == 6
        # without scores.jsonl: the cache answers everything that got a reply
        (folder / "scores.jsonl").unlink()
        again = score_run(folder, judge_for(stub), tasks=list(TASKS.values()), cache_dir=cache)
        assert len(stub.requests) == 6
    cached = [
        line
        for line in ScoreStore(folder).load()
        if line.requests == 0 and line.kind in ("vis", "task") and line.status in ("scored", "unparsed")
    ]
    assert len(cached) == 5 and all(line.cached for line in cached)
    assert again.to_json() == summary.to_json()
    saved = json.loads((folder / "scores_summary.json").read_text())
    assert saved["judge"]["backend"]["model"] == "judge-model" and saved["scorers"]["vis"]
    assert saved["kinds"]["vis"]["languages"]["svg"][1]["mean"] == 80


def test_failed_requests_are_asked_again_on_the_next_run(tmp_path):
    folder = make_run(tmp_path / "run")
    with StubOpenAI(lambda body, call: (500, {"error": {"message": "down"}})) as stub:
        summary = score_run(folder, judge_for(stub), tasks=list(TASKS.values()), cache_dir="", offline=False)
        assert summary.kinds["vis"].overall[1].failed == 2 and summary.kinds["vis"].overall[1].mean == 0
    with StubOpenAI(scripted) as stub:
        summary = score_run(folder, judge_for(stub), tasks=list(TASKS.values()), cache_dir="", offline=False)
        assert len(stub.requests) == 6  # the 5 failed judgements again (+1 retry), nothing else
    assert summary.kinds["vis"].overall[1].failed == 0 and summary.kinds["vis"].languages["svg"][1].mean == 80
    assert "ssim" not in summary.kinds


def test_task_text_falls_back_to_the_instruction(tmp_path, caplog, monkeypatch):
    import visplotbench.tasks

    def unreachable(*args, **kwargs):
        raise RuntimeError("the Hub is unreachable")

    monkeypatch.setattr(visplotbench.tasks, "load_tasks", unreachable)
    folder = make_run(tmp_path / "run")
    with StubOpenAI(scripted) as stub, caplog.at_level("WARNING"):
        score_run(folder, judge_for(stub), cache_dir="", offline=False)
        texts = [user_text(b) for b in stub.requests if "[PLOT TASK]" in user_text(b)]
    assert "[PLOT TASK]:\nInstruction for svg_1" in "\n".join(texts)
    assert "task texts" in caplog.text or "task scores" in caplog.text


def test_offline_metrics_only_by_default(tmp_path):
    folder = make_run(tmp_path / "run")
    summary = score_run(folder, tasks=list(TASKS.values()))  # given tasks: none has an image of its own
    assert set(summary.kinds) == {"ssim", "edge_f1"}
    lines = ScoreStore(folder).load()
    assert len(lines) == 4 * 2 and {line.scorer for line in lines} == {"offline"}
    assert [s.mean for s in summary.kinds["edge_f1"].languages["svg"]] == [
        pytest.approx(0.5),
        pytest.approx(1.0),
    ]
    assert summary.kinds["ssim"].languages["vegalite"][0].no_reference == 1
    assert summary.kinds["ssim"].overall[0].good is None  # no good/bad thresholds for 0..1 metrics


def test_statistics_bootstrap_and_rounds():
    attempts = [AttemptRecord(f"svg_{i}", "svg", 0, [], "", "", "ok", images=["x.png"]) for i in range(20)]
    attempts.append(AttemptRecord("svg_0", "svg", 1, [], "", "", "ok", images=["y.png"]))
    attempts.append(AttemptRecord("svg_1", "svg", 1, [], "", "", "env_failure"))

    def line(i, round_, score, status="scored"):
        return ScoreRecord(f"svg_{i}", "svg", round_, "vis", score, status, "openai:j", "k")

    lines = [line(i, 0, float(5 * i)) for i in range(19)] + [line(19, 0, None, "unparsed"), line(0, 1, 100.0)]
    ids = {f"svg_{i}": "svg" for i in range(20)} | {"svg_missing": "svg"}
    summary = summarize_scores(attempts, lines, ids, 1)
    r0, r1 = summary.kinds["vis"].languages["svg"]
    assert r0.tasks == 21 and r0.unparsed == 1 and r0.missing == 1 and r0.scored == 19
    assert r0.mean == pytest.approx(sum(5 * i for i in range(19)) / 21)
    assert r0.good == pytest.approx(4 / 21) and r0.bad == pytest.approx(6 / 21 + 2 / 21)  # 0..25 and the 0s
    assert r1.mean == pytest.approx(r0.mean + 100 / 21)  # svg_0: round 1 replaces 0; env failure ignored
    low, high = r0.ci["mean"]
    assert (
        low < r0.mean < high
        and r0.ci == summarize_scores(attempts, lines, ids, 1).kinds["vis"].languages["svg"][0].ci
    )


# ---------------------------------------------------------------------------------------- CLI and reports


@pytest.mark.slow
def test_cli_scores_an_existing_run_and_report_shows_them(tmp_path, monkeypatch, capsys, need):
    """A real run (2 SVG tasks rendered by the engine), then `visplotbench score`, then `visplotbench report`."""
    from visplotbench import RunConfig, run_benchmark

    need("svg")
    from visplotbench.tasks import load_tasks

    tasks = load_tasks("bundled", ["svg"], limit=2)
    gold = {t.task__plot_description: t.code for t in tasks}

    def coder(body, call):
        first = next(m["content"] for m in body["messages"] if m["role"] == "user")
        return "```svg\n" + next(code for d, code in gold.items() if d in first) + "\n```"

    out = tmp_path / "run"
    with StubOpenAI(coder) as stub:
        run_benchmark(
            RunConfig(
                model="openai:coder",
                out=str(out),
                languages=["svg"],
                limit=2,
                self_debug=0,
                backend_options={"base_url": stub.base_url, "retries": 0},
                cache_dir="",
                progress=False,
            )
        )
    results = (out / "results.jsonl").read_bytes()
    images = {p.name: p.read_bytes() for p in (out / "images").iterdir()}

    import visplotbench.engine

    def no_render(*args, **kwargs):
        raise AssertionError("scoring must not render")

    monkeypatch.setattr(visplotbench.engine.RenderPool, "submit", no_render)
    monkeypatch.setattr(visplotbench.engine.RenderPool, "render", no_render)
    prompts = tmp_path / "instructs.json"
    entry = {"judge_instruct_vis": "ORIGINAL VIS TEXT", "judge_instruct_task": "ORIGINAL TASK TEXT"}
    prompts.write_text(json.dumps({"svg": entry, "python": entry}))
    with StubOpenAI(lambda body, call: "Close match.\n[FINAL SCORE]: 90") as judge:
        code = main(
            [
                "score",
                str(out),
                "--judge",
                "openai:judge-model",
                "--judge-option",
                f"base_url={judge.base_url}",
                "--judge-option",
                "concurrency=2",
                "--judge-prompts",
                str(prompts),
                "--cache-dir",
                str(tmp_path / "cache"),
                "--no-progress",
            ]
        )
        sent = [user_text(b) for b in judge.requests]
    assert code == 0
    assert len(sent) == 4 and sum(t == "ORIGINAL VIS TEXT" for t in sent) == 2
    assert sum(t.startswith("ORIGINAL TASK TEXT\n[PLOT TASK]:\n") for t in sent) == 2
    assert "overall" in capsys.readouterr().out
    assert (out / "results.jsonl").read_bytes() == results  # nothing re-rendered or rewritten
    assert {p.name: p.read_bytes() for p in (out / "images").iterdir()} == images
    lines = ScoreStore(out).load()
    assert {line.prompt_version for line in lines if line.kind == "vis"} == {"file:instructs.json"}

    assert main(["report", str(out)]) == 0
    md = (out / "report.md").read_text(encoding="utf-8")
    rows = [
        line
        for line in md.split("## Task and visual scores\n", 1)[1].split("\n## ", 1)[0].splitlines()
        if line.startswith("| coder")
    ]
    assert rows == ["| coder | 100.0/90/90/100/100 | 100.0/90/90/100/100 |"]
    assert "## Judge scores by round" in md and "## Offline image metrics" in md
    assert "openai:judge-model, prompts file:instructs.json" in md
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Close match." in html and "visual <b>90</b>" in html and "SSIM <b>" in html


def test_score_command_errors(tmp_path, capsys):
    assert main(["score", str(tmp_path / "nothing")]) == 2
    assert "no results.jsonl" in capsys.readouterr().err
    assert main(["score", str(tmp_path), "--judge-prompts", "x.json"]) == 2


def test_scores_written_during_the_run_are_the_ones_score_run_writes(tmp_path):
    """``OnlineScorer`` scores attempts as the harness records them (what ``run_benchmark`` does):
    every attempt is scored before the run returns, with exactly the lines that scoring the run
    folder from scratch afterwards gives."""
    from visplotbench.harness import RunConfig, Runner
    from visplotbench.judges import OnlineScorer

    out = tmp_path / "run"
    runner = Runner(
        RunConfig(
            model="gold", out=str(out), languages=["svg", "vegalite"], limit=3, cache_dir="", progress=False
        )
    )
    scorer = OnlineScorer(out)
    runner.listeners.append(scorer.submit)
    runner.run()
    scorer.close()
    during = sorted((out / "scores.jsonl").read_text().splitlines())
    assert scorer.scored == 6 and len(during) == 2 * 6  # ssim and edge_f1 of every attempt, once
    (out / "scores.jsonl").rename(out / "scores.during.jsonl")
    score_run(out, cache_dir="")
    assert sorted((out / "scores.jsonl").read_text().splitlines()) == during
