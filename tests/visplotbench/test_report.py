"""Reports of a run folder: the Markdown tables' numbers, and a safe, self-contained, filterable HTML file.

The run folder is built the way the runner builds it (``RunStore.append`` with real renders from the
engine for SVG; hand-written records where only the report is under test).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from visplotbench.engine import RenderJob
from visplotbench.report import load_run, write_reports
from visplotbench.runfolder import AttemptRecord, RunManifest, RunStore, TaskCounts, failure_kind

HOSTILE = "</script><script>alert(1)</script>"
GOOD_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80">'
    '<rect x="10" y="10" width="100" height="60" fill="steelblue"/></svg>'
)
BROKEN_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80"><rect x="1"'


def _manifest(rounds: int, per_language: dict[str, int], model: str = "replay:runs/my-model") -> RunManifest:
    return RunManifest(
        fingerprint="f" * 64,
        model=model,
        rounds=rounds,
        tasks=TaskCounts("bundled", sum(per_language.values()), per_language),
        descriptor="head",
        prompts_version="v1",
        prompts_sha256="a1b2c3d4e5f6" + "0" * 52,
        self_debug_version="1",
        backend={"name": "replay", "model": "my-model", "temperature": 0.0},
        versions={"visplotbench": "0.1.0.dev0"},
        started_at="2026-01-01T00:00:00Z",
    )


def _messages(task_id: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": "You write code."},
        {"role": "user", "content": f"Draw the chart for {task_id} <b>bold</b>."},
    ]


class Run:
    """Appends attempts to a run folder as the runner does; SVG attempts are really rendered."""

    def __init__(self, folder, pool):
        self.store = RunStore(folder)
        self.store.images.mkdir(parents=True, exist_ok=True)
        self.pool = pool

    def svg(self, task_id: str, round_: int, code: str, reply: str | None = None) -> AttemptRecord:
        result = self.pool.render(RenderJob("svg", code))
        status = result.status.value
        rec = AttemptRecord(
            task_id,
            "svg",
            round_,
            _messages(task_id),
            reply or f"```svg\n{code}\n```",
            code,
            status,
            error=result.error,
            failure_kind=failure_kind("svg", status, result.error),
            passed=status == "ok",
            extraction_rule="tagged",
        )
        self.store.append(rec, result.images)
        return rec

    def fake(self, task_id: str, language: str, round_: int, status: str, error: str = "", reply: str = "x"):
        rec = AttemptRecord(
            task_id,
            language,
            round_,
            _messages(task_id),
            reply,
            reply,
            status,
            error=error,
            failure_kind=failure_kind(language, status, error),
            passed=status == "ok",
        )
        self.store.append(rec, [b"\x89PNG fake"] if status == "ok" else [])
        return rec

    def reference(self, task_id: str, code: str = GOOD_SVG) -> None:
        (self.store.folder / "images" / f"{task_id}_ref.png").write_bytes(
            self.pool.render(RenderJob("svg", code)).images[0]
        )


@pytest.fixture
def run_folder(tmp_path, pool, need):
    """svg: 4 tasks (first try 1/4, round 1 2/4, round 2 3/4); vegalite: 2 tasks (1/2 throughout)."""
    need("svg")
    folder = tmp_path / "run"
    run = Run(folder, pool)
    RunStore(folder).prepare(_manifest(2, {"vegalite": 2, "svg": 4}), resume=False)
    run.svg("svg_1", 0, GOOD_SVG)
    run.svg("svg_2", 0, BROKEN_SVG)
    run.svg("svg_2", 1, GOOD_SVG)
    run.svg("svg_4", 0, BROKEN_SVG)
    run.svg("svg_4", 1, BROKEN_SVG)
    run.svg("svg_4", 2, GOOD_SVG)
    hostile_reply = f"Here you go {HOSTILE}\n```svg\n<svg>{HOSTILE}<img src=x onerror=alert(2)>\n```"
    for k in range(3):
        run.svg("svg_3", k, f"<svg>{HOSTILE}<img src=x onerror=alert(2)>", reply=hostile_reply)
    run.fake("vegalite_1", "vegalite", 0, "ok")
    run.fake("vegalite_2", "vegalite", 0, "timeout")
    run.fake("vegalite_2", "vegalite", 1, "timeout")
    run.fake("vegalite_2", "vegalite", 2, "error", error=f"TypeError: bad mark {HOSTILE}")
    run.reference("svg_1")
    run.reference("svg_2")
    (folder / "summary.json").write_text(json.dumps({"wall_seconds": 125.0}))
    return folder


def _table(markdown: str, title: str) -> list[list[str]]:
    """The rows (header first) of the Markdown table under ``## title``."""
    section = markdown.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    rows = [[c.strip() for c in line.strip("|").split(" | ")] for line in lines]
    return [rows[0], *rows[2:]]


def test_markdown_main_table_in_paper_layout(run_folder):
    paths = write_reports(run_folder)
    assert set(paths) == {"markdown", "html"} and all(p.exists() for p in paths.values())
    md = paths["markdown"].read_text(encoding="utf-8")
    rows = _table(md, "Execution pass rate")
    assert rows[0] == ["Model", "Overall", "Vega-Lite (2)", "SVG (4)"]
    assert rows[1] == ["my-model", "33.3", "50.0", "25.0"]
    assert rows[2] == ["+ Self Debug", "66.7", "50.0", "75.0"]


def test_markdown_rounds_failures_statuses(run_folder):
    md = write_reports(run_folder)["markdown"].read_text(encoding="utf-8")
    assert _table(md, "Pass rate by self-debug round")[1:] == [
        ["First try", "33.3", "50.0", "25.0"],
        ["Round 1", "50.0", "50.0", "50.0"],
        ["Round 2", "66.7", "50.0", "75.0"],
    ]
    kinds = _table(md, "Failure kinds (tasks that never passed, last attempt)")
    assert kinds[0] == ["Language", "Failure kind", "Tasks"]
    assert ["Vega-Lite", "TypeError", "1"] in kinds[1:]
    assert [r[0] for r in kinds[1:]].count("SVG") == 1  # svg_3 is the only svg task that never passed
    statuses = _table(md, "Status of the last attempt")
    assert statuses[0] == ["Language", "ok", "error", "Tasks"]
    assert statuses[1:] == [["Vega-Lite", "1", "1", "2"], ["SVG", "3", "1", "4"], ["All", "4", "2", "6"]]


def test_markdown_header(run_folder):
    md = write_reports(run_folder)["markdown"].read_text(encoding="utf-8")
    assert md.startswith("# VisPlotBench report: my-model\n")
    for text in (
        "**Model:** replay:runs/my-model",
        "name=replay, model=my-model",
        "bundled: 6 (Vega-Lite 2, SVG 4)",
        "version v1, sha256 a1b2c3d4e5f6",
        "**Self-debug rounds:** 2",
        "**Completeness:** complete",
        "**Wall time:** 2m 05s",
    ):
        assert text in md, text
    assert HOSTILE not in md and "<script>" not in md


def test_incomplete_run_counts_missing_tasks_and_env_failures(tmp_path):
    folder = tmp_path / "partial"
    run = Run(folder, pool=None)
    RunStore(folder).prepare(_manifest(1, {"python": 4}), resume=False)
    run.fake("python_1", "python", 0, "ok")
    run.fake("python_2", "python", 0, "env_failure", error="chromium is not installed")
    run.fake("python_3", "python", 0, "error", error="Traceback ...\nValueError: x")
    md = write_reports(folder)["markdown"].read_text(encoding="utf-8")
    assert (
        "**Completeness:** incomplete: 1 environment failure, 1 task not run, "
        "1 task with self-debug rounds still due"
    ) in md
    assert _table(md, "Execution pass rate")[1] == ["my-model", "25.0", "25.0"]  # denominator: all 4 tasks
    statuses = _table(md, "Status of the last attempt")
    assert statuses[0] == ["Language", "ok", "error", "env_failure", "not_run", "Tasks"]
    assert statuses[1] == ["Python", "1", "1", "1", "1", "4"]
    assert "**Wall time:** unknown" in md
    assert load_run(folder).summary.languages["python"].failure_kinds == {"ValueError": 1}


def test_first_try_only_run_has_no_self_debug_row(tmp_path):
    folder = tmp_path / "k0"
    run = Run(folder, pool=None)
    RunStore(folder).prepare(_manifest(0, {"latex": 2, "html": 1}), resume=False)
    run.fake("latex_1", "latex", 0, "ok")
    run.fake("latex_2", "latex", 0, "error", error="! Undefined control sequence.")
    run.fake("html_1", "html", 0, "blank")
    paths = write_reports(folder)
    rows = _table(paths["markdown"].read_text(encoding="utf-8"), "Execution pass rate")
    assert rows == [["Model", "Overall", "LaTeX (2)", "HTML (1)"], ["my-model", "33.3", "50.0", "0.0"]]
    assert '<svg class="chart"' in paths["html"].read_text(encoding="utf-8")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _parse(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def test_html_has_tasks_filters_charts_and_linked_images(run_folder):
    html = write_reports(run_folder)["html"].read_text(encoding="utf-8")
    tags = _parse(html)
    articles = [a for t, a in tags if t == "article"]
    assert [a["data-id"] for a in articles] == [
        "vegalite_1",
        "vegalite_2",
        "svg_1",
        "svg_2",
        "svg_3",
        "svg_4",
    ]
    assert {a["data-id"]: a["data-outcome"] for a in articles}["svg_4"] == "self_debug"
    # filters: a checkbox per language, per status and a round select with every round
    boxes = {(a["name"], a["value"]) for t, a in tags if t == "input" and a.get("type") == "checkbox"}
    assert {
        ("language", "svg"),
        ("language", "vegalite"),
        ("status", "ok"),
        ("status", "error"),
        ("status", "timeout"),
    } <= boxes
    assert [a["value"] for t, a in tags if t == "option"] == ["all", "0", "1", "2"]
    # the charts: one line per language + overall, and bars per language (and overall) per round
    assert html.count('<g class="series"') == 3 and html.count("<polyline") == 3
    assert html.count('<g class="bars"') == 3 and 'aria-label="Pass rate per language and round"' in html
    # images: every attempt image and the two reference images, as the run folder's own files,
    # lazily loaded, each a link to the full image
    images = [a["src"] for t, a in tags if t == "img"]
    n_attempt_images = sum(len(r.images) for r in load_run(run_folder).records)
    assert len(images) == n_attempt_images + 2
    assert all(src.startswith("images/") and (run_folder / src).is_file() for src in images)
    assert all(a.get("loading") == "lazy" for t, a in tags if t == "img")
    links = [a["href"] for t, a in tags if t == "a"]
    assert sorted(links) == sorted(images)
    assert 'alt="svg_1 reference"' in html
    assert len(html) < 60_000  # no image bytes inside
    # instructions are shown (escaped)
    assert "Draw the chart for svg_3 &lt;b&gt;bold&lt;/b&gt;." in html


def test_html_links_only_files_inside_its_folder(run_folder):
    html = write_reports(run_folder)["html"].read_text(encoding="utf-8")
    tags = _parse(html)
    for tag, attrs in tags:
        for name in ("src", "href", "action", "data", "srcset"):
            value = attrs.get(name)
            if value is not None:
                assert ":" not in value and not value.startswith(("/", "..")), (tag, name, value)
                assert (run_folder / value).resolve().is_relative_to(run_folder.resolve())
    assert not [t for t, _ in tags if t in ("link", "iframe", "object", "embed", "base")]
    assert "default-src 'none'" in html and "img-src 'self' file: data:;" in html


def test_html_with_inline_images_is_self_contained(run_folder):
    html = write_reports(run_folder, inline_images=True)["html"].read_text(encoding="utf-8")
    tags = _parse(html)
    for tag, attrs in tags:
        for name in ("src", "href", "action", "data", "srcset"):
            value = attrs.get(name)
            assert value is None or value.startswith("data:"), (tag, name, value)
    assert "img-src data:;" in html


def test_html_escapes_hostile_model_output(run_folder):
    html = write_reports(run_folder)["html"].read_text(encoding="utf-8")
    assert HOSTILE not in html
    assert "alert(1)" in html  # shown, but only as text
    assert html.count("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;") >= 4  # code, reply, error
    tags = _parse(html)
    assert [t for t, _ in tags].count("script") == 1
    assert not [a for t, a in tags if t == "img" and "onerror" in a]
    assert not re.search(r"<img src=x", html)
    script = html.rsplit("<script>", 1)[1].split("</script>", 1)[0]
    assert "svg_" not in script and "alert" not in script  # no run data inside the script


def test_reference_image_outside_run_folder_is_not_read(tmp_path):
    folder = tmp_path / "run"
    run = Run(folder, pool=None)
    RunStore(folder).prepare(_manifest(0, {"svg": 1}), resume=False)
    (tmp_path / "secret.png").write_bytes(b"SECRET-BYTES")
    rec = run.fake("svg_1", "svg", 0, "ok")
    rec.images = ["../secret.png"]
    lines = [json.dumps(rec.to_json())]
    (folder / "results.jsonl").write_text("\n".join(lines) + "\n")
    html = write_reports(folder)["html"].read_text(encoding="utf-8")
    import base64

    assert base64.b64encode(b"SECRET-BYTES").decode() not in html
    assert "image missing" in html


def test_reports_rebuild_from_results_without_summary(run_folder):
    (run_folder / "summary.json").unlink()
    md = write_reports(run_folder)["markdown"].read_text(encoding="utf-8")
    assert _table(md, "Execution pass rate")[2] == ["+ Self Debug", "66.7", "50.0", "75.0"]


@pytest.mark.slow
def test_html_filters_work_in_a_browser(run_folder):
    """Open the report from file:// in headless Chromium: the script runs under the CSP and filters."""
    import os
    import shutil

    playwright = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(chromium):
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI")
        pytest.skip("chromium is not installed")
    path = write_reports(run_folder)["html"]
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(path.as_uri())

        def visible() -> list[str]:
            return page.eval_on_selector_all("article.task:not(.hidden)", "els => els.map(e => e.dataset.id)")

        assert page.text_content("#count") == "Showing 6 of 6 tasks"
        # the linked image files load from disk under the report's CSP (scrolled into view: lazy)
        for image in page.query_selector_all("img"):
            image.scroll_into_view_if_needed()
        page.wait_for_function("() => [...document.images].every(i => i.complete)")
        sizes = page.eval_on_selector_all("img", "els => els.map(e => [e.alt, e.naturalWidth])")
        real = [(alt, width) for alt, width in sizes if "vegalite" not in alt]  # vegalite's are fake bytes
        assert real and all(width > 0 for _, width in real), sizes
        page.uncheck('input[name="language"][value="vegalite"]')
        assert visible() == ["svg_1", "svg_2", "svg_3", "svg_4"]
        page.uncheck('input[name="status"][value="ok"]')
        assert visible() == ["svg_3"]
        page.check('input[name="status"][value="ok"]')
        page.select_option('select[name="round"]', "2")
        assert visible() == ["svg_3", "svg_4"]
        shown_rounds = page.eval_on_selector_all(
            "#task-svg_4 .attempt:not(.hidden)", "els => els.map(e => e.dataset.round)"
        )
        assert shown_rounds == ["2"]
        page.fill('input[name="search"]', "svg_4")
        assert visible() == ["svg_4"]
        assert page.text_content("#count") == "Showing 1 of 6 tasks"
        assert dialogs == []  # the hostile alert() never ran
        browser.close()


def test_a_real_run_writes_both_reports(tmp_path, need):
    """The runner (replay backend, bundled SVG tasks) ends by writing the reports from its own run folder."""
    need("svg")
    from visplotbench.tasks import bundled_parquet, load_tasks

    from visplotbench import RunConfig, run_benchmark

    if not bundled_parquet("svg").exists():
        pytest.skip("the bundled svg task set is not built (python scripts/build_taskset.py --languages svg)")
    tasks = load_tasks("bundled", ["svg"], limit=3)
    replies = [
        {"task_id": tasks[0].id, "round": 0, "reply": f"```svg\n{tasks[0].code}\n```"},
        {"task_id": tasks[1].id, "round": 0, "reply": "```svg\n<svg><g>\n```"},
        {"task_id": tasks[1].id, "round": 1, "reply": f"Fixed:\n```svg\n{tasks[1].code}\n```"},
        {"task_id": tasks[2].id, "round": 0, "reply": f"{HOSTILE}```svg\n<svg>{HOSTILE}\n```"},
        {"task_id": tasks[2].id, "round": 1, "reply": "no idea"},
    ]
    path = tmp_path / "replies.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in replies))
    out = tmp_path / "run"
    config = RunConfig(
        model=f"replay:{path}",
        out=str(out),
        languages=["svg"],
        limit=3,
        self_debug=1,
        cache_dir="",
        progress=False,
    )
    run_benchmark(config)
    md = (out / "report.md").read_text(encoding="utf-8")
    assert _table(md, "Execution pass rate")[1:] == [
        ["replies.jsonl", "33.3", "33.3"],
        ["+ Self Debug", "66.7", "66.7"],
    ]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert HOSTILE not in html
    articles = [a for t, a in _parse(html) if t == "article"]
    assert [a["data-id"] for a in articles] == [t.id for t in tasks]
    instruction = html.split(f'id="task-{tasks[0].id}"', 1)[1].split("</details>", 1)[0]
    assert "Instruction" in instruction and len(instruction) > 200  # the prompt the model saw
    if (out / "images" / f"{tasks[0].id}_ref.png").exists():  # the runner saves reference images
        assert f'alt="{tasks[0].id} reference"' in html


def test_scores_as_compact_tables_and_distributions(run_folder):
    """Offline image metrics (real SSIM / edge F1 on the real renders): rounds as rows, languages as
    columns, and a histogram per score kind and language."""
    from visplotbench.judges import score_run

    score_run(run_folder, cache_dir="")
    paths = write_reports(run_folder)
    md = paths["markdown"].read_text(encoding="utf-8")
    rows = _table(md, "Offline image metrics")
    assert rows[0] == ["Round", "Overall", "Vega-Lite (2)", "SVG (4)"]
    assert [r[0] for r in rows[1:]] == ["First try", "Round 1", "Round 2"]
    assert all(re.fullmatch(r"(\d\.\d{3}|–) / (\d\.\d{3}|–)", cell) for r in rows[1:] for cell in r[1:]), rows
    html = paths["html"].read_text(encoding="utf-8")
    assert "<h2>Score distributions</h2>" in html
    hists = re.findall(r'<svg class="hist"[^>]*aria-label="([^"]+)"', html)
    assert hists.count("SVG") == 2 and hists.count("Vega-Lite") == 2  # SSIM and edge F1


def test_a_reply_that_is_only_the_fenced_code_is_not_shown_twice(run_folder):
    html = write_reports(run_folder)["html"].read_text(encoding="utf-8")
    section = html.split('id="task-svg_1"', 1)[1].split("</article>", 1)[0]
    assert "Model reply" not in section and "Code (" in section
    hostile = html.split('id="task-svg_3"', 1)[1].split("</article>", 1)[0]
    assert hostile.count("Model reply") == 3  # "Here you go ..." is more than the code
