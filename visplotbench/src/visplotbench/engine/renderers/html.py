"""HTML: the page loads in the shared offline Chromium and its drawn extent is screenshot.

Each job navigates a pooled page to a fresh origin whose document is the source (so error line
numbers are the lines of the user's HTML); chart libraries requested from their usual CDN URLs are
answered from pinned local copies, every other request is blocked and reported (see ``_browser``
and ``_cdn``). The page is captured once it is ready (load, no request in flight, animations run
to their end), at 1000 CSS px wide (wider when the content is wider) and as tall as its content.

Errors (any of them makes the job fail, as in the original harness): uncaught exceptions and
promise rejections (with the line), ``console.error`` messages, blocked or failed requests (with
the URL), and a page crash (out of memory).

Data: ``const data = [{html.csv}];`` (spaces and the semicolon optional) is replaced by the rows of
``job.files["html.csv"]`` as a JSON array of objects; numbers become numbers, empty cells null,
everything else stays a string, escaped so that no value can end the script element.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from typing import Any

from visplotbench.engine._browser import shared_browser
from visplotbench.engine._chromium import check_browser, chromium_version
from visplotbench.engine._tabs import Tab, TabPool
from visplotbench.engine._types import EnvironmentProblem, Limits, RenderJob, RenderResult
from visplotbench.engine.renderers._base import Renderer, env_failure, finish

DATA_FILE = "html.csv"
_PLACEHOLDER = re.compile(r"const\s+data\s*=\s*\[\s*\{\s*html\.csv\s*\}\s*\][ \t]*;?")
_INT = re.compile(r"^[+-]?(?:0|[1-9]\d*)$")
_FLOAT = re.compile(r"^[+-]?(?:(?:0|[1-9]\d*)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
# Characters that could end a <script> element or an HTML comment, or a JS line, inside the JSON.
_SCRIPT_SAFE = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


class HtmlRenderer(Renderer):
    language = "html"
    source_name = "index.html"
    default_limits = Limits(wall_s=20, memory_mb=2048)  # Plotly.js pages take seconds on a busy 2-core box
    # A job waits more than it computes (the page must be ~0.16 s old and quiet before the capture):
    # measured on the task set, 3 pages kept 2 cores 80 % busy, 5 pages 93-95 %.
    max_concurrency = 5

    def __init__(self) -> None:
        self.host = shared_browser().acquire()
        self._pool_key = ("html", id(self))
        self._closed = False

    def check(self) -> None:
        check_browser()
        from visplotbench.engine.assets import missing_assets

        missing = missing_assets()
        if missing:
            raise EnvironmentProblem(
                f"the JavaScript libraries that HTML pages load from CDNs are not installed ({', '.join(missing[:4])}"
                f"{', ...' if len(missing) > 4 else ''}). Fix: visplotbench assets install (or `make install`)."
            )

    def versions(self) -> dict[str, str]:
        from visplotbench.engine.assets import ASSETS_VERSION

        return {"chromium": chromium_version(), "js-assets": ASSETS_VERSION}

    def _tab_pool(self) -> TabPool:
        return TabPool(self.host, self.max_concurrency, navigates=True)

    def warm(self) -> None:
        """Start the browser and open the renderer's pages."""
        self.host.warm_tabs(self._pool_key, self._tab_pool, self.max_concurrency + 1)  # + a spare

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.host.release_pool(self._pool_key)

    def render(self, job: RenderJob) -> RenderResult:
        limits = self.limits_for(job)
        html, notes = inject_data(job.source, job.files.get(DATA_FILE))

        async def work(tab: Tab) -> bytes:
            await tab.load_html(html)
            return await tab.capture(await tab.page_region())

        shot = self.host.run_on_tab(  # an EnvironmentProblem is reported by render_safely
            self._pool_key,
            self._tab_pool,
            work,
            limits.wall_s,
        )
        if shot.env_problem:
            return env_failure(self.language, shot.env_problem)
        proc = shot.as_process()
        result = finish(
            self.language,
            [shot.png] if shot.png else [],
            error="\n".join(shot.errors),
            proc=proc,
            limits=limits,
            tool_versions=self.versions(),
            timings=shot.timings,
            notes=notes,
        )
        return result


def inject_data(source: str, csv_text: str | bytes | None) -> tuple[str, list[str]]:
    """Replace the data placeholder with the CSV rows as a script-safe JSON array (one line).

    Returns the page and notes about what was done (for ``RenderResult.notes``).
    """
    if not _PLACEHOLDER.search(source):
        return source, []
    if csv_text is None:
        rows: list[dict[str, Any]] = []
        notes = [
            f"the page has a `const data = [{{{DATA_FILE}}}];` placeholder but the job has no {DATA_FILE}: "
            "an empty array was injected"
        ]
    else:
        rows, notes = csv_rows(csv_text), []
    literal = script_safe_json(rows)
    # Newlines inside the placeholder are kept, so that error line numbers still match the source.
    return _PLACEHOLDER.sub(
        lambda m: f"const data = {literal};" + "\n" * m.group(0).count("\n"), source
    ), notes


def csv_rows(csv_text: str | bytes) -> list[dict[str, Any]]:
    """CSV rows as dicts, with numbers as numbers and empty cells as None."""
    if isinstance(csv_text, bytes):
        csv_text = csv_text.decode("utf-8-sig", errors="replace")
    reader = csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")))
    return [{(k or ""): _typed(v) for k, v in row.items()} for row in reader]


def _typed(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list):  # extra cells beyond the header
        return [_typed(v) for v in value]
    text = value.strip()
    if text == "":
        return None
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        number = float(text)
        return number if math.isfinite(number) else value
    return value


def script_safe_json(value: Any) -> str:
    """JSON that can sit inside a <script> element: no value can close it or open a comment."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))
    return text.translate(_SCRIPT_SAFE)
