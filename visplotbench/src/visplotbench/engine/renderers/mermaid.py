"""Mermaid: ``mermaid.render()`` in warm pages of the shared offline Chromium, then an element screenshot.

Two pages with ``mermaid.min.js`` (the pinned current Mermaid, ``assets.MERMAID_MAJOR``, or the
major ``VISPLOTBENCH_MERMAID_MAJOR`` pins) stay loaded;
a job resets the page's seeded random generator and clock, passes the diagram to
``mermaid.render`` as an ARGUMENT of ``page.evaluate`` (never spliced into script text), inserts
the SVG into an 800 px wide container (Mermaid CLI's default width: wider diagrams are scaled down
to it) and screenshots ``#out > svg`` at 2 device pixels per CSS pixel.

``mermaid.render`` throws the real parser error ("Parse error on line 3: ..."), which becomes the
excerpt without stack frames; unlike ``mmdc``, a broken diagram never yields the "Syntax error"
bomb image. Config: ``securityLevel: 'strict'`` (no click callbacks or scripts, labels sanitised;
a diagram's ``%%{init}%%`` cannot change it), ``deterministicIds``, ``suppressErrorRendering``.
"""

from __future__ import annotations

import re
from typing import Any

from visplotbench.engine._browser import shared_browser
from visplotbench.engine._chromium import check_browser, chromium_version
from visplotbench.engine._tabs import Tab, TabPool
from visplotbench.engine._types import Limits, RenderJob, RenderResult
from visplotbench.engine.assets import mermaid_js, mermaid_major
from visplotbench.engine.renderers._base import Renderer, env_failure, finish

SCALE = 2.0
WIDTH = 800
CONFIG: dict[str, Any] = {
    "startOnLoad": False,
    "securityLevel": "strict",
    "deterministicIds": True,
    "deterministicIDSeed": "vpb",
    "suppressErrorRendering": True,
    "logLevel": 5,
    "theme": "default",
}
_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8">
<style>html, body {{ margin: 0; padding: 0; background: #fff; }} #out {{ width: {width}px; }}</style>
</head><body><div id="out"></div>
<script src="https://cdn.jsdelivr.net/npm/mermaid@{major}/dist/mermaid.min.js"></script>
</body></html>"""
_RENDER = """async ({ source, config }) => {
  globalThis.__vpbReset();
  const out = document.getElementById('out');
  out.replaceChildren();
  mermaid.initialize(config);
  try {
    const { svg } = await mermaid.render('vpb-diagram', source);
    out.innerHTML = svg;
  } catch (e) {
    const message = e && (e.message || e.str) ? String(e.message || e.str) : String(e);
    return { ok: false, name: (e && e.name) || 'Error', message };
  } finally {
    for (const el of Array.from(document.body.children)) if (el !== out && el.tagName !== 'SCRIPT') el.remove();
  }
  const svg = out.querySelector(':scope > svg');
  if (!svg) return { ok: false, name: 'Error', message: 'Mermaid produced no SVG.' };
  const r = svg.getBoundingClientRect();
  return { ok: true, clip: { x: r.x, y: r.y, width: Math.max(r.width, 1), height: Math.max(r.height, 1) } };
}"""


async def _setup(tab: Tab, major: int) -> None:
    await tab.load_html(_PAGE.format(width=WIDTH, major=major))
    if not await tab.evaluate("() => typeof mermaid !== 'undefined' && typeof __vpbReset === 'function'"):
        raise RuntimeError(
            "mermaid.min.js did not load: " + "; ".join(tab.errors) + " (run: visplotbench assets install)"
        )


class MermaidRenderer(Renderer):
    language = "mermaid"
    source_name = "diagram.mmd"
    default_limits = Limits(wall_s=15, memory_mb=2048)
    max_concurrency = 2

    def __init__(self) -> None:
        self.host = shared_browser().acquire()
        self._pool_key = ("mermaid", id(self))
        self._closed = False
        self.major = mermaid_major()  # fixed for the renderer's life: its pages have it loaded
        self._versions: dict[str, str] | None = None

    def check(self) -> None:
        check_browser()
        mermaid_js(self.major)

    def versions(self) -> dict[str, str]:
        # Once per renderer (every result carries them): its major, and so its version, is fixed.
        if self._versions is None:
            import json

            package = mermaid_js(self.major).parent.parent / "package.json"
            meta = json.loads(package.read_text(encoding="utf-8"))
            self._versions = {"mermaid": meta["version"], "chromium": chromium_version()}
        return self._versions

    def _tab_pool(self) -> TabPool:
        # A diagram is a static SVG (no scripts run under securityLevel strict): nothing animates,
        # so the page is not paused between jobs (two round trips saved).
        return TabPool(
            self.host, self.max_concurrency, setup=lambda tab: _setup(tab, self.major), pause_idle=False
        )

    def warm(self) -> None:
        """Start the browser and open the renderer's pages with Mermaid loaded."""
        self.host.warm_tabs(self._pool_key, self._tab_pool, self.max_concurrency + 1)  # + a spare

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.host.release_pool(self._pool_key)

    def render(self, job: RenderJob) -> RenderResult:
        limits = self.limits_for(job)
        failure: dict[str, str] = {}

        async def work(tab: Tab) -> bytes | None:
            outcome = await tab.evaluate(_RENDER, {"source": job.source, "config": CONFIG})
            if not outcome["ok"]:
                failure.update(outcome)
                return None
            return await tab.capture(outcome["clip"], SCALE)

        try:
            shot = self.host.run_on_tab(
                self._pool_key,
                self._tab_pool,
                work,
                limits.wall_s,
            )
        except Exception as exc:
            return env_failure(self.language, str(exc))
        if shot.env_problem:
            return env_failure(self.language, shot.env_problem)
        errors = [_diagram_error(failure, job.source)] if failure else []
        # Mermaid's own console.error chatter is not a failure; a thrown error, a blocked request
        # or a crash is.
        errors += [e for e in shot.errors if not e.startswith("console.error")]
        proc = shot.as_process()
        result = finish(
            self.language,
            [shot.png] if shot.png else [],
            error="\n".join(errors),
            proc=proc,
            limits=limits,
            tool_versions=self.versions(),
            timings=shot.timings,
        )
        return result


def _diagram_error(failure: dict[str, str], source: str) -> str:
    """Mermaid's own message without stack frames, its line numbers mapped back to the user's source."""
    message = _map_lines(failure.get("message", "").strip(), source)
    lines = [ln for ln in message.split("\n") if not ln.lstrip().startswith("at ")]
    name = failure.get("name") or "Error"
    head = lines[0] if lines else "the diagram could not be rendered"
    if name not in ("Error", "") and not head.startswith(name):
        head = f"{name}: {head}"
    return "\n".join([head, *lines[1:]])


# Mermaid parses the source only after removing the front matter, %%{directives}%%, %% comment
# lines and leading blank lines, so its line numbers count from there. These mirror the regular
# expressions of Mermaid's preprocess step (mermaid/src/preprocess.ts and its helpers).
_FRONT_MATTER = re.compile(r"^-{3}\s*[\n\r](.*?)[\n\r]-{3}\s*[\n\r]+", re.S)
_DIRECTIVE = re.compile(
    r"%{2}{\s*(?:(\w+)\s*:|(\w+))\s*(?:(\w+)|((?:(?!}%{2}).|\r?\n)*))?\s*(?:}%{2})?", re.I
)
_COMMENT = re.compile(r"^\s*%%(?!{)[^\n]+\n?", re.M)
_LINE_REF = re.compile(r"\b(line )(\d+)")


def _map_lines(message: str, source: str) -> str:
    """Rewrite "line N" in Mermaid's message into the line of the user's source."""
    text = source.replace("\r\n", "\n").replace("\r", "\n")
    origin = [0] * len(text)  # original line (0-based) of every character still present
    line = 0
    for i, ch in enumerate(text):
        origin[i] = line
        line += ch == "\n"

    def remove(pattern: re.Pattern[str], count: int = 0) -> None:
        nonlocal text, origin
        keep_text, keep_origin, last = [], [], 0
        for n, m in enumerate(pattern.finditer(text)):
            if count and n >= count:
                break
            keep_text.append(text[last : m.start()])
            keep_origin.extend(origin[last : m.start()])
            last = m.end()
        keep_text.append(text[last:])
        keep_origin.extend(origin[last:])
        text, origin = "".join(keep_text), keep_origin

    remove(_FRONT_MATTER, 1)
    remove(_DIRECTIVE)
    remove(_COMMENT)
    stripped = len(text) - len(text.lstrip())
    text, origin = text[stripped:], origin[stripped:]
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def to_user(m: re.Match[str]) -> str:
        k = int(m.group(2)) - 1
        if 0 <= k < len(starts) and starts[k] < len(origin):
            return f"{m.group(1)}{origin[starts[k]] + 1}"
        return m.group(0)

    return _LINE_REF.sub(to_user, message)
