"""HTML renderer: statuses, error excerpts with the user's line, determinism, data injection,
offline CDN libraries, and one sandbox property per test (real Chromium, real npm assets)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from visplotbench.engine import Limits, RenderJob, RenderStatus
from visplotbench.engine.renderers.html import csv_rows, inject_data, script_safe_json

CDN_FIXTURES = sorted((Path(__file__).parent / "fixtures" / "html" / "cdn").glob("*.html"))
DRAW = "<h1 style='font-size:60px'>drawn</h1>"


@pytest.fixture(scope="module", autouse=True)
def _assets():
    """Install the pinned JS libraries if they are missing (idempotent, fast when present)."""
    from visplotbench.engine import _cdn
    from visplotbench.engine.assets import install_assets

    install_assets(quiet=True)
    _cdn.clear_cache()


def page(body: str) -> str:
    return f"<!DOCTYPE html>\n<html>\n<body>\n{DRAW}\n{body}\n</body>\n</html>\n"


def test_syntax_error_names_problem_and_line(render_fixture, need):
    need("html")
    result = render_fixture("html", "syntax_error")
    assert result.status is RenderStatus.ERROR
    assert "SyntaxError" in result.error and "line 9" in result.error, result.error
    assert "vpb.invalid" not in result.error


def test_runtime_error_names_exception_and_line(render_fixture, need):
    need("html")
    result = render_fixture("html", "runtime_error")
    assert result.status is RenderStatus.ERROR
    assert "ReferenceError: salesRows is not defined" in result.error
    assert "line 13" in result.error and "index.html:13" in result.error, result.error


def test_random_and_date_are_fixed(pool, need):
    need("html")
    html = page("<script>console.log(Math.random(), new Date().toISOString().slice(0, 10));</script>")
    first, second = (pool.render(RenderJob("html", html)) for _ in range(2))
    assert first.status is RenderStatus.OK, first.error
    assert first.stdout == second.stdout and "2024-01-15" in first.stdout


def test_animations_have_finished_at_capture(pool, need):
    """A transition of 2 s (page time) is complete when the screenshot is taken."""
    need("html")
    html = page("""<div id="box" style="width:300px;height:10px;background:#c00"></div>
<script>
  const start = performance.now();
  function grow(now) {
    const t = Math.min((now - start) / 2000, 1);
    document.getElementById('box').style.height = (10 + 290 * t) + 'px';
    if (t < 1) requestAnimationFrame(grow); else console.log('done');
  }
  requestAnimationFrame(grow);
</script>""")
    result = pool.render(RenderJob("html", html))
    assert result.status is RenderStatus.OK, result.error
    assert "done" in result.stdout


def test_force_layout_settles_and_is_deterministic(pool, need):
    """A D3 force simulation (advanced per animation frame) runs to its end before the capture."""
    need("html")
    html = page("""<script src="https://d3js.org/d3.v7.min.js"></script>
<svg width="500" height="300"></svg>
<script>
  const nodes = d3.range(40).map(i => ({ id: i }));
  const links = d3.range(39).map(i => ({ source: i + 1, target: Math.floor(Math.random() * (i + 1)) }));
  const svg = d3.select('svg');
  const line = svg.selectAll('line').data(links).join('line').attr('stroke', '#999');
  const dot = svg.selectAll('circle').data(nodes).join('circle').attr('r', 5).attr('fill', 'steelblue');
  d3.forceSimulation(nodes).force('link', d3.forceLink(links)).force('charge', d3.forceManyBody())
    .force('center', d3.forceCenter(250, 150))
    .on('tick', () => {
      line.attr('x1', d => d.source.x).attr('y1', d => d.source.y).attr('x2', d => d.target.x).attr('y2', d => d.target.y);
      dot.attr('cx', d => d.x).attr('cy', d => d.y);
    })
    .on('end', () => console.log('simulation ended'));
</script>""")
    first, second = (pool.render(RenderJob("html", html)) for _ in range(2))
    assert first.status is RenderStatus.OK, first.error
    assert "simulation ended" in first.stdout
    assert first.images == second.images


# --- data injection ---------------------------------------------------------------------------


@pytest.fixture
def own_pool(need):
    """The shared browser and a getter for a one-page TabPool of this test's own (loop thread only)."""
    need("html")
    from visplotbench.engine._browser import shared_browser
    from visplotbench.engine._tabs import TabPool

    host = shared_browser().acquire()
    key = ("test-own-pool", id(host))
    try:
        yield host, lambda: host.pool(key, lambda: TabPool(host, 1))
    finally:
        host.release_pool(key)
        host.release()


def test_a_pooled_page_stops_animating_between_jobs_and_resumes_for_the_next(own_pool):
    """A page that animates forever must not spin a core while it waits in its pool."""
    import asyncio

    host, get_pool = own_pool
    loop = "<script>window.n = 0; (function f() { n++; requestAnimationFrame(f); })();</script>"

    async def work(tab) -> bytes:
        await tab.load_html(page(loop))
        return b""

    async def frames_while_idle_then_after_resume() -> tuple[int, int]:
        pool = get_pool()
        await pool.run(work, 20)
        (tab,) = pool.idle
        assert tab.paused
        before = await tab.evaluate("n")
        await asyncio.sleep(0.3)
        idle = await tab.evaluate("n") - before
        assert await tab.animate(True)
        await asyncio.sleep(0.3)
        return idle, await tab.evaluate("n") - before

    idle, resumed = host.call(frames_while_idle_then_after_resume, 30)
    assert idle == 0 and resumed > 0


def test_a_paused_page_runs_again_when_its_pool_does_not_navigate(own_pool):
    """Warm pages that draw without a navigation (plotly from Python) must get frames again."""
    import asyncio

    host, get_pool = own_pool
    next_frame = "() => new Promise(done => requestAnimationFrame(() => done(true)))"

    async def load(tab) -> bool:
        await tab.load_html(page(""))
        return True

    async def draw(tab) -> bool:
        return await asyncio.wait_for(tab.evaluate(next_frame), 2)

    async def jobs() -> tuple[bool, bool]:
        pool = get_pool()
        await pool.run(load, 20)
        paused = pool.idle[0].paused
        return paused, (await pool.run(draw, 10)).value

    paused, drawn = host.call(jobs, 30)
    assert paused and drawn is True


def test_libraries_come_from_the_http_cache_on_later_jobs(own_pool):
    """Nothing is intercepted, so a tab's second page gets its chart library from Chromium's cache."""
    host, get_pool = own_pool
    lib = "https://cdn.jsdelivr.net/npm/chart.js@4.4.1/dist/chart.umd.min.js"
    probe = "() => performance.getEntriesByType('resource').map(e => [e.name, e.transferSize])"

    async def work(tab) -> list:
        await tab.load_html(page(f'<script src="{lib}"></script>'))
        return await tab.evaluate(probe)

    async def two_jobs() -> tuple[list, list]:
        pool = get_pool()
        first, second = await pool.run(work, 20), await pool.run(work, 20)
        return first.value, second.value

    if not host.call(lambda: host.browser(), 60) or not host.direct:
        pytest.skip("needs the in-sandbox asset server (bubblewrap and openssl)")
    first, second = host.call(two_jobs, 60)
    assert first == [[lib, first[0][1]]] and first[0][1] > 100_000  # downloaded
    assert second == [[lib, 0]]  # from the cache


def test_csv_values_are_typed():
    rows = csv_rows("name,count,share,zip,empty\nA,3,0.25,007,\nB,-12,1e3,10115,x\n")
    assert rows == [
        {"name": "A", "count": 3, "share": 0.25, "zip": "007", "empty": None},
        {"name": "B", "count": -12, "share": 1000.0, "zip": 10115, "empty": "x"},
    ]


def test_placeholder_spacing_and_semicolon_are_flexible():
    for placeholder in (
        "const data = [{html.csv}];",
        "const  data=[ { html.csv } ]",
        "const data = [{html.csv}]  ;",
    ):
        html, _ = inject_data(f"<script>{placeholder}\nx()</script>", "a\n1\n")
        assert 'const data = [{"a": 1}];' in html
        assert html.count("\n") == 1  # one line in, one line out: error line numbers stay true


def test_injected_json_cannot_end_the_script():
    value = 'say "hi" \\ </script><script>alert(1)</script> <!-- \u2028'
    literal = script_safe_json([{"v": value}])
    assert "</script" not in literal and "<!--" not in literal and "\u2028" not in literal
    assert json.loads(literal) == [{"v": value}]


def test_data_injection_in_the_page(pool, need):
    """Numbers arrive as numbers; a value with quotes, a backslash and </script> stays one string."""
    need("html")
    tricky = 'He said "hi" \\ </script><script>console.error("escaped")</script>'
    csv_text = 'label,value,ratio\n"' + tricky.replace('"', '""') + '",42,0.5\nplain,-7,\n'
    html = page("""<script>
  const data = [{html.csv}];
  console.log(JSON.stringify(data.map(r => [typeof r.value, typeof r.ratio, r.ratio === null])));
  console.log('LABEL=' + data[0].label);
</script>""")
    result = pool.render(RenderJob("html", html, {"html.csv": csv_text}))
    assert result.status is RenderStatus.OK, result.error
    assert '[["number","number",false],["number","object",true]]' in result.stdout
    assert "LABEL=" + tricky in result.stdout


# --- offline CDN libraries --------------------------------------------------------------------


@pytest.mark.parametrize("fixture", CDN_FIXTURES, ids=[p.stem for p in CDN_FIXTURES])
def test_library_loads_offline_from_its_cdn_url(pool, need, fixture):
    need("html")
    result = pool.render(RenderJob("html", fixture.read_text(encoding="utf-8")))
    assert result.status is RenderStatus.OK, result.error  # OK also means: not blank, no blocked request
    assert result.error == ""


def test_major_version_pinned_by_the_url_is_served(pool, need):
    need("html")
    html = page("""<script src="https://cdnjs.cloudflare.com/ajax/libs/Chart.js/2.9.4/Chart.min.js"></script>
<script src="https://d3js.org/d3.v5.min.js"></script>
<script src="https://cdn.plot.ly/plotly-latest.min.js"></script>
<script>console.log('versions', Chart.defaults.global ? 'chart2' : 'other', d3.version, Plotly.version);</script>""")
    result = pool.render(RenderJob("html", html))
    assert result.status is RenderStatus.OK, result.error
    assert "versions chart2 5.16.0 1.58.5" in result.stdout  # Chart.js 2 alone has defaults.global


def test_unknown_remote_url_is_reported(pool, need):
    need("html")
    html = page('<script src="https://cdn.example.com/lib/chart-magic.min.js"></script>')
    result = pool.render(RenderJob("html", html))
    assert result.status is RenderStatus.ERROR
    assert "https://cdn.example.com/lib/chart-magic.min.js" in result.error and "offline" in result.error


def test_google_charts_is_reported_as_unsupported(pool, need):
    need("html")
    result = pool.render(
        RenderJob("html", page('<script src="https://www.gstatic.com/charts/loader.js"></script>'))
    )
    assert result.status is RenderStatus.ERROR
    assert "Google Charts cannot be loaded offline" in result.error


def test_relative_url_is_reported(pool, need):
    need("html")
    result = pool.render(RenderJob("html", page("<script>fetch('data.csv');</script>")))
    assert result.status is RenderStatus.ERROR
    assert "'data.csv'" in result.error and "relative URL" in result.error


# --- sandbox: one property per test -----------------------------------------------------------


def test_local_file_cannot_be_read(pool, need, secret):
    need("html")
    url = secret.as_uri()
    html = page(f"""<iframe src="{url}"></iframe><img src="{url}">
<script>
  fetch('{url}').then(r => r.text()).then(t => console.log('READ ' + t)).catch(e => console.log('DENIED'));
  const x = new XMLHttpRequest();
  try {{ x.open('GET', '{url}', false); x.send(); console.log('XHR ' + x.responseText); }} catch (e) {{ console.log('XHR DENIED'); }}
</script>""")
    result = pool.render(RenderJob("html", html))
    assert "TOP-SECRET" not in result.stdout + result.error
    assert result.status is RenderStatus.ERROR
    assert f"local file: {url}" in result.error


def test_localhost_is_not_reached(pool, need, listener):
    need("html")
    base = f"127.0.0.1:{listener.port}"
    html = page(f"""<img src="http://{base}/pixel.png">
<script>
  fetch('http://{base}/x').catch(() => {{}});
  const ws = new WebSocket('ws://{base}/socket');
</script>""")
    result = pool.render(RenderJob("html", html))
    time.sleep(0.3)
    assert listener.connections == 0
    assert result.status is RenderStatus.ERROR
    assert f"http://{base}/x" in result.error and f"ws://{base}/socket" in result.error


def test_memory_bomb_is_stopped_and_the_next_job_renders(pool, need, source):
    need("html")
    html = page("<script>const hog = []; while (true) hog.push(new Array(1e6).fill(Math.random()));</script>")
    result = pool.render(RenderJob("html", html, limits=Limits(wall_s=40)))
    assert result.status is RenderStatus.ERROR and "memory" in result.error, result.error
    assert pool.render(RenderJob("html", source("html", "ok"))).status is RenderStatus.OK


def test_console_flood_is_capped(pool, need):
    need("html")
    html = page("<script>for (let i = 0; i < 300000; i++) console.log('flood line', i);</script>")
    result = pool.render(RenderJob("html", html, limits=Limits(wall_s=20)))
    assert result.status is RenderStatus.OK, result.error
    assert len(result.stdout.splitlines()) <= 1002 and "further console output dropped" in result.stdout


def test_dialogs_do_not_block_the_page(pool, need):
    """alert/confirm/prompt are dismissed at once: the script goes on and the page renders."""
    need("html")
    html = page(
        "<script>alert('a'); const ok = confirm('b'); const text = prompt('c');"
        "console.log('AFTER', ok, text);</script>"
    )
    result = pool.render(RenderJob("html", html, limits=Limits(wall_s=20)))
    assert result.status is RenderStatus.OK, result.error
    assert result.stdout.strip() == "AFTER false null"


@pytest.mark.parametrize(
    ("script", "lines"),
    [
        pytest.param(  # console arguments read as the browser console shows them
            "console.log('a', 1, 2.5, true, null, undefined, NaN, -0, 10n, [1, 2]); console.warn('careful');",
            ["a 1 2.5 true null undefined NaN -0 10n Array(2)", "[warning] careful"],
            id="console-arguments",
        ),
        pytest.param(  # service workers are not registered
            "navigator.serviceWorker.register('sw.js').then(r => console.log('REGISTRATION', String(r)));",
            [
                "[warning] Service worker registration blocked: pages render offline.",
                "REGISTRATION undefined",
            ],
            id="service-worker",
        ),
    ],
)
def test_console_output_of_the_page(pool, need, script, lines):
    need("html")
    result = pool.render(RenderJob("html", page(f"<script>{script}</script>")))
    assert result.status is RenderStatus.OK, result.error
    assert result.stdout.splitlines() == lines


def test_state_does_not_leak_between_jobs(pool, need):
    need("html")
    writer = page(
        "<script>window.leaked = 1; localStorage.setItem('k', 'v'); document.cookie = 'c=1';"
        "document.cookie = 'd=2; domain=vpb.invalid; path=/';</script>"
    )
    reader = page(
        "<script>console.log('SEEN', typeof window.leaked, localStorage.getItem('k'), document.cookie);</script>"
    )
    assert pool.render(RenderJob("html", writer)).status is RenderStatus.OK
    results = [pool.render(RenderJob("html", reader)) for _ in range(3)]  # whichever pooled page it lands on
    for result in results:  # no global, no local storage, no cookie (not even one for the parent domain)
        assert [line.strip() for line in result.stdout.splitlines()] == ["SEEN undefined null"], result.stdout


# --- the shared browser -----------------------------------------------------------------------


def test_screenshot_html_for_other_renderers(need, pool):
    """The helper the Python renderer uses for plotly/bokeh/altair/pyecharts HTML output."""
    need("html")
    from visplotbench.engine._browser import screenshot_html

    shot = screenshot_html(page('<img src="https://example.org/logo.png">'), timeout_s=20)
    assert shot.png and shot.png.startswith(b"\x89PNG") and not shot.env_problem
    assert any("https://example.org/logo.png" in e for e in shot.errors)


def test_browser_killed_mid_job_is_an_environment_failure(pool, need, source):
    need("html")
    from visplotbench.engine._browser import shared_browser

    pool.render(RenderJob("html", source("html", "ok")))
    host = shared_browser()
    if host._cgroup is None:
        pytest.skip("needs the browser's cgroup to find its processes")
    threading.Timer(1.5, host._cgroup.kill_all).start()
    result = pool.render(RenderJob("html", source("html", "timeout"), limits=Limits(wall_s=20)))
    assert result.status is RenderStatus.ENV_FAILURE, (result.status, result.error)
    assert "Chromium" in result.error and "Fix:" in result.error
    assert pool.render(RenderJob("html", source("html", "ok"))).status is RenderStatus.OK


def test_asset_server_death_is_an_environment_failure(pool, need, source):
    """The pages' only source of documents and libraries dies: the environment's fault, then it recovers."""
    need("html")
    import os
    import signal

    from visplotbench.engine._browser import shared_browser

    assert pool.render(RenderJob("html", source("html", "ok"))).status is RenderStatus.OK
    if not shared_browser().direct:
        pytest.skip("needs the in-sandbox asset server (bubblewrap and openssl)")
    servers = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"/vpb/srv/server.py" in f.read().split(b"\0"):  # its own argv, not a launcher's script
                    servers.append(int(pid))
        except OSError:
            pass
    assert servers
    for pid in servers:
        os.kill(pid, signal.SIGKILL)
    result = pool.render(RenderJob("html", source("html", "ok")))
    assert result.status is RenderStatus.ENV_FAILURE, (result.status, result.error)
    assert "asset server" in result.error and "not the program's fault" in result.error
    assert pool.render(RenderJob("html", source("html", "ok"))).status is RenderStatus.OK


def test_launcher_merges_disable_features_switches():
    """Chromium honours only the last --disable-features: Playwright's list and ours must both apply."""
    import subprocess

    from visplotbench.engine._chromium import _MERGE_FEATURES

    script = _MERGE_FEATURES + 'printf "%s\\n" "$@" ${feats:+"--disable-features=$feats"}'
    argv = ["--a", "--disable-features=X,Y", "--b=1 2", "--disable-features=Z", "--c"]
    out = subprocess.run(["/bin/sh", "-c", script, "sh", *argv], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["--a", "--b=1 2", "--c", "--disable-features=X,Y,Z"]
    out = subprocess.run(["/bin/sh", "-c", script, "sh", "--a"], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["--a"]  # no empty switch when there is nothing to merge


def test_failed_launch_is_an_environment_failure(monkeypatch):
    from visplotbench.engine._browser import BrowserHost
    from visplotbench.engine._tabs import TabPool

    monkeypatch.setenv("VISPLOTBENCH_CHROMIUM", "/bin/false")
    monkeypatch.setenv("VISPLOTBENCH_BROWSER_SANDBOX", "0")
    host = BrowserHost()
    try:

        async def job():
            async def work(tab):
                return b""

            return await TabPool(host, 1).run(work, 10)

        shot = host.call(job, 60)
    finally:
        host.close()
    assert "Chromium could not be started" in shot.env_problem and "Fix:" in shot.env_problem


def test_missing_assets_are_the_environments_fault(need, monkeypatch, tmp_path):
    """A CDN library that is not installed here must never count against the program."""
    need("html")
    from visplotbench.engine._browser import screenshot_html

    monkeypatch.setenv("VISPLOTBENCH_ASSETS", str(tmp_path / "empty"))
    shot = screenshot_html(page('<script src="https://d3js.org/d3.v7.min.js"></script>'), timeout_s=20)
    assert "visplotbench assets install" in shot.env_problem


_FALLBACK = r"""
import json, sys
import visplotbench.engine._assetserver as server
server.prepare = lambda srv: None  # as on a machine without openssl: no in-sandbox asset server
from visplotbench.engine import RenderJob, RenderPool
from visplotbench.engine._browser import shared_browser
out = {}
with RenderPool() as pool:
    for path in sys.argv[1:]:
        r = pool.render(RenderJob("html", open(path, encoding="utf-8").read()))
        out[path] = [r.status.value, r.error]
    blocked = '<html><body><h1>x</h1><script src="https://example.com/lib.js"></script></body></html>'
    r = pool.render(RenderJob("html", blocked))
    out["blocked"] = [r.status.value, r.error]
    out["direct"] = shared_browser().direct
print(json.dumps(out))
"""


@pytest.mark.slow
def test_request_interception_fallback_serves_cdn_pages_end_to_end(need):
    """Without the asset server (no openssl), every request is intercepted and answered from Python:
    the same CDN pages render, and a request to any other host is reported as the job's error."""
    need("html")
    import json
    import subprocess
    import sys

    paths = [str(p) for p in CDN_FIXTURES]
    done = subprocess.run(
        [sys.executable, "-c", _FALLBACK, *paths], capture_output=True, text=True, timeout=600, check=True
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["direct"] is False  # the fallback really ran
    for path in paths:
        assert out[path] == ["ok", ""], (path, out[path])
    assert out["blocked"][0] == "error" and "example.com/lib.js" in out["blocked"][1]
