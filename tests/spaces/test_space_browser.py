"""The Space in a real headless Chromium (Playwright driving Debian's /usr/bin/chromium) against the
app served on 127.0.0.1, with scripted stub models: the self-debug loop round by round, the stop
button, an unreachable endpoint, the playground in all 8 languages, two visitors at once. The test
also takes the screenshots shown in the READMEs (docs/space-selfdebug.png, docs/space-playground.png)."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from space_helpers import ROOT, fail_then_fix

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
DOCS = ROOT / "docs"
WAIT_MS = 180_000  # the machine is shared and loaded: generous, never a speed claim


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (make install does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        yield browser
        browser.close()


@pytest.fixture()
def page(browser: Any, served: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(served.url, wait_until="domcontentloaded")  # never networkidle: the queue keeps a stream open
    page.locator("#sd-run").wait_for()
    yield page
    context.close()


def choose(page: Any, elem_id: str, value: str) -> None:
    """Pick the option labelled ``value`` (or ``value: ...`` for tasks) in a Gradio dropdown."""
    box = page.locator(f"#{elem_id} input")
    box.click()
    box.fill(value)
    name = re.compile(rf"^{re.escape(value)}(:.*)?$")
    page.get_by_role("option", name=name).first.click()


def fill(page: Any, elem_id: str, text: str) -> None:
    page.locator(f"#{elem_id} textarea, #{elem_id} input").first.fill(text)


def start_self_debug(
    page: Any, language: str, task_id: str, base_url: str, rounds: int | None = None
) -> None:
    choose(page, "sd-language", language)
    choose(page, "sd-task", task_id)
    page.wait_for_function("() => document.querySelector('#sd-instruction textarea').value.length > 0")
    fill(page, "sd-base-url", base_url)
    fill(page, "sd-model", "stub-model")
    if rounds is not None:
        page.locator("input[type='number']").first.fill(str(rounds))
        page.locator("input[type='number']").first.press("Enter")
    page.locator("#sd-run").click()


def code_text(page: Any, round_: int) -> str:
    return page.locator(f"#round-{round_} .cm-content").first.inner_text()


def test_self_debug_round_by_round(page, stub_for):
    from visplotbench.tasks import load_bundled

    task = load_bundled("vegalite")[0]
    stub = stub_for(fail_then_fix("vegalite"))
    start_self_debug(page, "vegalite", task.id, stub.base_url)
    error = page.locator("#round-0-error textarea")
    error.wait_for(state="visible")
    page.wait_for_function("() => document.querySelector('#round-0-error textarea').value.length > 0")
    assert error.input_value().strip()
    page.locator("#round-1-images img").first.wait_for(state="visible")
    summary = page.locator("#sd-summary")
    summary.get_by_text(re.compile("Passed at round 1")).wait_for()
    assert "error" in page.locator("#round-0-head").inner_text()
    assert '"mark"' in code_text(page, 1)
    copy = page.locator("#round-1-code").get_by_role("button", name=re.compile("copy", re.I))
    assert copy.count() >= 1  # the extracted code is one click from the clipboard
    page.locator("#sd-reference img").wait_for(state="visible")
    page.locator("#sd-metrics").get_by_text(re.compile("ssim")).wait_for()
    assert not page.locator("#round-2").is_visible()
    DOCS.mkdir(exist_ok=True)
    # A viewport as tall as the page: the code editors draw only the lines inside the viewport, and a
    # full-page screenshot does not scroll them into it.
    height = page.evaluate("() => document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1400, "height": height})
    page.wait_for_timeout(500)
    page.screenshot(path=str(DOCS / "space-selfdebug.png"), full_page=True)


def test_stop_button_stops_the_run(page, stub_for):
    from visplotbench.tasks import load_bundled

    task = load_bundled("svg")[0]
    stub = stub_for(fail_then_fix("svg", delay_s=2.0, always_fail=True))
    start_self_debug(page, "svg", task.id, stub.base_url)
    page.locator("#round-0-head").get_by_text(re.compile("Round 0")).wait_for()
    page.locator("#sd-stop").click()
    page.locator("#sd-summary").get_by_text(re.compile("Stopped")).wait_for()
    requests_at_stop = len(stub.requests)
    page.wait_for_timeout(7000)  # three more rounds' worth of the stub's delay
    assert len(stub.requests) <= max(requests_at_stop, 2)
    assert not page.locator("#round-2").is_visible()


def test_unreachable_endpoint_message(page):
    from visplotbench.tasks import load_bundled

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start_self_debug(page, "svg", load_bundled("svg")[0].id, f"http://127.0.0.1:{port}/v1")
    page.locator("#sd-message").get_by_text(re.compile("could not be reached")).wait_for()
    assert "Traceback" not in page.locator("#sd-message").inner_text()


def test_playground_renders_every_language(page):
    from visplotbench.engine import LANGUAGES

    page.get_by_role("tab", name="Playground").click()
    for language in [*reversed(list(LANGUAGES))]:  # python last: its chart is the screenshot
        page.locator(f"#pg-example-{language}").click()
        page.wait_for_function(
            "lang => document.querySelector('#pg-language input').value === lang", arg=language
        )
        page.locator("#pg-render").click()
        status = page.locator("#pg-status")
        status.get_by_text(re.compile(rf"^{language}: ")).wait_for()
        detail = status.inner_text() + " " + page.locator("#pg-error textarea").input_value()
        assert f"{language}: ok" in status.inner_text().replace("`", ""), detail
        page.locator("#pg-images img").first.wait_for(state="visible")
    page.screenshot(path=str(DOCS / "space-playground.png"), full_page=True)

    page.locator("#pg-code .cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3]\n")
    page.locator("#pg-render").click()
    page.locator("#pg-status").get_by_text(re.compile("python: `?error")).wait_for()
    error = page.locator("#pg-error textarea").input_value()
    assert "SyntaxError" in error and "Traceback" not in error
    assert "/tmp/" not in error and "/job" not in error


def test_two_visitors_get_their_own_rounds(browser, served, stub_for):
    from visplotbench.tasks import load_bundled

    pages = []
    for language in ("svg", "vegalite"):
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(served.url, wait_until="domcontentloaded")
        page.locator("#sd-run").wait_for()
        stub = stub_for(fail_then_fix(language, delay_s=1.0))
        pages.append((language, page, stub))
    for language, page, stub in pages:
        start_self_debug(page, language, load_bundled(language)[0].id, stub.base_url)
    for language, page, stub in pages:
        page.locator("#sd-summary").get_by_text(re.compile("Passed at round 1")).wait_for()
        code = code_text(page, 0)  # the short broken program: all of it is on screen
        assert ("<rect>" in code) == (language == "svg") and ('"mark"' in code) == (language == "vegalite")
        error = page.locator("#round-0-error textarea").input_value()
        assert ("JSON" in error) == (language == "vegalite"), error
        assert len(stub.requests) == 2  # each visitor's rounds went to their own model only
    for _, page, _ in pages:
        page.context.close()


def test_a_visitor_who_leaves_cancels_their_run(browser, served, resources, stub_for, monkeypatch):
    """Closing the page mid-run cancels the run: no further model request, no further render, and the
    app serves the next visitor."""
    from visplotbench.tasks import load_bundled

    delay_s = 5.0  # each reply: long enough that the page is closed while round 1 is being written
    renders: list[str] = []
    real_render = resources.pool.render

    def counted_render(job: Any) -> Any:  # counts, then renders for real
        renders.append(job.language)
        return real_render(job)

    monkeypatch.setattr(resources.pool, "render", counted_render)
    stub = stub_for(fail_then_fix("svg", delay_s=delay_s, always_fail=True))
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(served.url, wait_until="domcontentloaded")
    page.locator("#sd-run").wait_for()
    sessions_before = set(served.demo.work_root.iterdir())
    start_self_debug(page, "svg", load_bundled("svg")[0].id, stub.base_url, rounds=5)
    page.locator("#round-0-head").get_by_text(re.compile("Round 0")).wait_for()
    deadline = time.monotonic() + WAIT_MS / 1000
    while len(stub.requests) < 2 and time.monotonic() < deadline:  # round 1's request is in flight
        time.sleep(0.05)
    assert len(stub.requests) == 2 and renders == ["svg"]
    assert not page.locator("#round-1").is_visible()  # round 0 was shown while round 1 is being written
    session = set(served.demo.work_root.iterdir()) - sessions_before
    assert len(session) == 1  # this visitor's own folder (downloads)
    context.close()  # the visitor leaves while the model writes round 1

    time.sleep(3 * delay_s)  # round 1's reply comes back; round 2 would have been rendered by now
    assert len(stub.requests) == 2, "the run went on asking the model after the visitor left"
    assert renders == ["svg"], "the run went on rendering after the visitor left"
    assert not any(folder.exists() for folder in session)  # the session's state went with the visitor

    # The next visitor is served as usual.
    page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(served.url, wait_until="domcontentloaded")
    page.locator("#sd-run").wait_for()
    fresh = stub_for(fail_then_fix("vegalite"))
    start_self_debug(page, "vegalite", load_bundled("vegalite")[0].id, fresh.base_url)
    page.locator("#sd-summary").get_by_text(re.compile("Passed at round 1")).wait_for()
    assert len(fresh.requests) == 2 and len(stub.requests) == 2
    page.context.close()


def test_uploads_fill_the_data_and_the_program(page, tmp_path):
    """A CSV uploaded in the Self-debug tab becomes the task's data (the preview is the benchmark's prompt
    with its data descriptor); a program and a data file uploaded in the Playground render together."""
    csv = tmp_path / "sales.csv"
    csv.write_text("year,sales\n2020,3\n2021,5\n2022,4\n")
    fill(page, "sd-instruction", "Plot sales per year as bars.")
    page.locator("#sd-data-file input[type=file]").set_input_files(str(csv))
    page.wait_for_function("() => document.querySelector('#sd-data textarea').value.includes('2021,5')")
    page.wait_for_function("() => document.querySelector('#sd-preview textarea').value.includes('sales')")
    preview = page.locator("#sd-preview textarea").input_value()
    assert "Plot sales per year as bars." in preview and "year" in preview

    page.get_by_role("tab", name="Playground").click()
    program = tmp_path / "bars.py"
    program.write_text(
        "import matplotlib.pyplot as plt\nimport pandas as pd\n"
        "df = pd.read_csv('data.csv')\nplt.bar(df['year'].astype(str), df['sales'])\n"
        "assert list(df['sales']) == [3, 5, 4]\nplt.show()\n"
    )
    page.locator("#pg-upload input[type=file]").set_input_files(str(program))
    page.locator("#pg-code").get_by_text("read_csv").wait_for()
    page.locator("#pg-data-upload input[type=file]").set_input_files(str(csv))
    page.wait_for_function("() => document.querySelector('#pg-data textarea').value.includes('2022,4')")
    page.locator("#pg-render").click()
    page.locator("#pg-status").get_by_text(re.compile("^python: ")).wait_for()
    assert "python: ok" in page.locator("#pg-status").inner_text().replace("`", ""), page.locator(
        "#pg-error textarea"
    ).input_value()
    page.locator("#pg-images img").first.wait_for(state="visible")
