"""Pages: ``Tab`` (one CDP session in its own browser context: load, settle, capture, errors) and ``TabPool``
(warm tabs of one renderer, recycled after ``MAX_JOBS_PER_TAB`` jobs, thrown away after a timeout or a
crash). The page-init script that makes pages deterministic is package data, ``_pageinit.js``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from visplotbench.engine import _cdn
from visplotbench.engine._assetserver import (
    DOC_DOMAIN,
    DOC_HOST,
    served_by_server,
)
from visplotbench.engine._cdp import ProtocolError
from visplotbench.engine._chromium import _FIX, JS_HEAP_MB
from visplotbench.engine._images import MAX_SIDE
from visplotbench.engine._pageerrors import (
    _SERVER_DOWN,
    _SERVER_FAILURES,
    _arg_text,
    _short,
    blocked_message,
    format_exception,
)
from visplotbench.engine._sandbox import ProcessResult
from visplotbench.engine._types import EnvironmentProblem
from visplotbench.engine.assets import missing_assets

if TYPE_CHECKING:
    from visplotbench.engine._browser import BrowserHost
    from visplotbench.engine._jobcontrol import JobControl

VIEWPORT = (1000, 700)


CLOCK_SPEED = 64


T0_MS = 1705320000000  # 2024-01-15T12:00:00Z


RANDOM_SEED = 42


CONSOLE_CAP = 1000


SETTLE_VIRTUAL_MS = 10_000  # page time granted for animations at least (~0.16 s of real time)


QUIET_MS = 60  # real milliseconds without a DOM change (~4 s of page time) that make a page ready


SETTLE_MAX_S = 2.5  # a page that never stops changing is captured after this long


MAX_CAPTURE_PX = 4000


IDLE_MAX_S = 10.0  # a request that never reports its end must not hold the page forever


MAX_JOBS_PER_TAB = 50


_HTML_TYPE = "text/html; charset=utf-8"


_NO_ARG: Any = object()


# What Tab.evaluate calls instead of evaluating: a function expression.
_FUNCTION = re.compile(
    r"^\s*(?:async\s+)?(?:function\b|\([^)]*\)\s*=>|\[[^\]]*\]\s*=>|[A-Za-z_$][\w$]*\s*=>)"
)


@functools.cache
def init_script() -> str:
    """The page-init script (package data ``_pageinit.js``) applied to this module's settings."""
    settings = {"speed": CLOCK_SPEED, "startMs": T0_MS, "seed": RANDOM_SEED, "consoleCap": CONSOLE_CAP}
    code = (Path(__file__).parent / "_pageinit.js").read_text(encoding="utf-8")
    return f"({code.strip()})({json.dumps(settings)});"


@dataclass
class PageShot:
    """What rendering one page produced.

    Attributes:
        png: the screenshot (PNG bytes), or None when nothing could be captured.
        errors: what went wrong in the page, in order: uncaught exceptions (with the line of the
            user's document), console.error messages, blocked or failed requests (with the URL).
        console: console output of the page (capped), for ``RenderResult.stdout``.
        timed_out: the wall-clock limit ended the job (the page was closed).
        crashed: the page's renderer process died (most often: it ran out of memory).
        env_problem: non-empty when the browser itself failed; the job must be ``env_failure``.
        value: what the job's coroutine returned (renderer-specific).
        timings: seconds per phase.
    """

    png: bytes | None = None
    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    timed_out: bool = False
    crashed: bool = False
    env_problem: str = ""
    value: Any = None
    timings: dict[str, float] = field(default_factory=dict)

    def as_process(self) -> ProcessResult:
        """The page seen as a finished process, for ``renderers._base.finish``."""
        return ProcessResult(
            returncode=0,
            stdout="\n".join(self.console),
            stderr="",
            timed_out=self.timed_out,
            wall_s=self.timings.get("page", 0.0),
        )


class Tab:
    """One page in its own browser context (a CDP session), with its error collectors."""

    def __init__(
        self,
        host: BrowserHost,
        context_id: str,
        target_id: str,
        session: str,
        generation: int,
        *,
        scale: float,
    ) -> None:
        self.host, self.context_id, self.target_id, self.session = host, context_id, target_id, session
        self.generation, self.scale = generation, scale
        self.renderer_pid: int | None = None  # the host pid of the page's renderer, when known
        self.jobs = 0
        self.crashed = False
        self.broken = False
        self.paused = False  # animation frames held while the tab waits in its pool
        self.box: dict[str, float] | None = None  # the content's extent, measured when the page settled
        self.doc_url = ""
        self.doc_html = b""
        self.errors: dict[str, None] = {}  # ordered, de-duplicated
        self.console: list[str] = []
        self.pending: set[str] = set()
        self.requests: dict[str, str] = {}  # request id -> URL, for failures
        self.local_files: set[str] = set()
        self.doc_file: Path | None = None
        self.env_trouble = ""
        self.loaded: asyncio.Future | None = None  # resolved by the page's load event
        self._tasks: set[asyncio.Future] = set()

    def begin(self) -> None:
        """Clear the collectors for a new job."""
        self.errors, self.console, self.pending, self.local_files = {}, [], set(), set()
        self.requests = {}
        self.env_trouble = ""
        self.jobs += 1

    def end(self) -> None:
        """Remove the job's document from the asset server's folder."""
        if self.doc_file is not None:
            self.doc_file.unlink(missing_ok=True)
            self.doc_file = None

    def error(self, text: str) -> None:
        if len(self.errors) < 200:
            self.errors[DOC_HOST.sub("", text)] = None

    async def send(self, method: str, params: dict | None = None) -> dict:
        """A command to this page (ProtocolError when it fails, or the page crashed or closed)."""
        return await self.host.cdp(self.generation).send(method, params, self.session)

    # --- events -------------------------------------------------------------------------------
    def on_event(self, method: str, params: dict) -> None:
        """Every event of this page's session (called on the browser's loop)."""
        if method == "Network.requestWillBeSent":
            self.pending.add(params["requestId"])
            self.requests[params["requestId"]] = params["request"]["url"]
        elif method == "Network.loadingFinished":
            self.pending.discard(params["requestId"])
        elif method == "Network.loadingFailed":
            self.pending.discard(params["requestId"])
            url = self.requests.get(params["requestId"])
            if url is not None:  # else a request of the previous job's document
                failure = "net::ERR_ABORTED" if params.get("canceled") else params.get("errorText", "")
                self._on_request_failed(url, failure)
        elif method == "Network.responseReceived":
            self._on_response(params["response"])
        elif method == "Runtime.consoleAPICalled":
            frames = (params.get("stackTrace") or {}).get("callFrames") or [{}]
            text = " ".join(_arg_text(arg) for arg in params.get("args", []))
            self._on_console(params.get("type", "log"), text, frames[0])
        elif method == "Log.entryAdded":
            entry = params["entry"]
            if entry.get("source") != "console-api":  # those came as Runtime.consoleAPICalled
                self._on_console(entry.get("level", "info"), entry.get("text", ""), entry)
        elif method == "Runtime.exceptionThrown":
            self.error(format_exception(params.get("exceptionDetails") or {}, self.doc_url))
        elif method == "Page.loadEventFired":
            if self.loaded is not None and not self.loaded.done():
                self.loaded.set_result(True)
        elif method == "Page.javascriptDialogOpening":  # alert() and friends would block the page
            accept = params.get("type") == "beforeunload"
            self._spawn(self.send("Page.handleJavaScriptDialog", {"accept": accept}))
        elif method == "Network.webSocketCreated" and not self.host.direct:
            self.error(f"Blocked WebSocket connection to {params.get('url', '')}: pages render offline.")
        elif method == "Fetch.requestPaused":
            self._spawn(self._route(params))
        elif method == "Inspector.targetCrashed":
            self.on_crash()

    def on_crash(self) -> None:
        self.crashed = True
        self.host.cdp(self.generation).fail_session(self.session, "the page crashed (Target crashed)")

    def _spawn(self, coro: Awaitable[Any]) -> None:
        """Run a reply to an event (a dialog, an intercepted request) without holding the event loop."""

        async def quietly() -> None:
            with contextlib.suppress(ProtocolError):  # the page or browser closed meanwhile
                await coro

        task = asyncio.ensure_future(quietly())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _route(self, params: dict) -> None:
        """Answer one intercepted request (only without the asset server; run through ``_spawn``)."""
        ident, url = params["requestId"], params["request"]["url"]
        if url == self.doc_url and params.get("resourceType") == "Document":
            body, ctype, extra = self.doc_html, _HTML_TYPE, []
        else:
            found, ctype = self.host.asset(url)
            if found is None:
                self._blocked(url)
                await self.send("Fetch.failRequest", {"requestId": ident, "errorReason": "BlockedByClient"})
                return
            body, extra = found, [{"name": "access-control-allow-origin", "value": "*"}]
        headers = [{"name": "content-type", "value": ctype}, *extra]
        await self.send(
            "Fetch.fulfillRequest",
            {"requestId": ident, "responseCode": 200, "responseHeaders": headers,
             "body": base64.b64encode(body).decode("ascii")},
        )  # fmt: skip

    def _on_console(self, kind: str, text: str, where: dict) -> None:
        if kind == "error":
            line = (
                where["lineNumber"] + 1 if where.get("url") == self.doc_url and "lineNumber" in where else 0
            )
            if text.startswith("Failed to load resource: net::ERR_BLOCKED_BY_CLIENT"):
                pass  # already reported with its URL by the route handler
            elif text.startswith("Not allowed to load local resource: "):
                url = text.split(": ", 1)[1].strip()
                self.local_files.add(url)
                at = f"line {line}; " if line else ""
                self.error(f"Blocked request to a local file: {url} ({at}pages cannot read local files)")
            else:
                self.error(f"console.error{f' (line {line})' if line else ''}: {text}")
        if len(self.console) < CONSOLE_CAP + 1:
            self.console.append(f"[{kind}] {text}" if kind != "log" else text)

    def _blocked(self, url: str) -> None:
        """Report a request that offline rendering cannot answer (the environment's fault when the
        pinned libraries are not installed)."""
        if _cdn.is_cdn_url(url) and missing_assets():
            self.env_trouble = (
                f"{url} could not be answered because the pinned JavaScript libraries are not "
                "installed (fix: visplotbench assets install)"
            )
        else:
            self.error(blocked_message(url))

    def _on_request_failed(self, url: str, failure: str) -> None:
        if "ERR_BLOCKED_BY_CLIENT" in failure or failure.endswith("ERR_ABORTED"):
            return  # blocked by our route handler, which reported it, or cancelled by the page
        if url.startswith("file:"):
            if url not in self.local_files:
                self.error(f"Blocked request to a local file: {url} (pages cannot read local files)")
        elif not self.host.direct:
            self.error(f"Request failed: {url} ({failure})")
        elif not served_by_server(url):
            self.error(blocked_message(url))  # a host that resolves nowhere: pages render offline
        elif any(code in failure for code in _SERVER_FAILURES):
            self.env_trouble = f"{_SERVER_DOWN} {url} ({failure})"
        else:  # e.g. a cross-origin read that CORS refused
            self.error(f"Request failed: {url} ({failure})")

    def _on_response(self, response: dict) -> None:
        # The asset server answers 404 for what it cannot serve: a CDN file that is not pinned, or
        # a relative URL on the document's host (there are no files next to the document).
        if self.host.direct and response.get("status") == 404 and response.get("url") != self.doc_url:
            self._blocked(response["url"])

    # --- what jobs do ---------------------------------------------------------------------
    async def evaluate(self, expression: str, arg: Any = _NO_ARG) -> Any:
        """The JSON value of a JavaScript expression in the page, or of a function called with ``arg``
        (passed as JSON); promises are awaited. ProtocolError when it throws."""
        if arg is not _NO_ARG:
            expression = f"({expression})({json.dumps(arg)})"
        elif _FUNCTION.match(expression):
            expression = f"({expression})()"
        reply = await self.send(
            "Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True}
        )
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            text = (details.get("exception") or {}).get("description") or details.get("text", "")
            raise ProtocolError(f"Evaluation failed: {text.splitlines()[0] if text else 'an exception'}")
        return reply.get("result", {}).get("value")

    async def load_html(self, html: str) -> None:
        """Navigate to a new origin whose document is ``html`` and wait until the page is ready."""
        # A new origin per job (no shared storage); the token keeps other jobs from naming it.
        label = f"j{next(self.host.counter)}-{secrets.token_hex(6)}"
        self.doc_url = f"https://{label}.{DOC_DOMAIN}/index.html"
        self.doc_html = html.encode("utf-8")
        if self.host.direct and self.host.docs_dir is not None:
            self.doc_file = self.host.docs_dir / f"{label}.html"
            self.doc_file.write_bytes(self.doc_html)
        self.box = None
        self.loaded = asyncio.get_running_loop().create_future()
        reply = await self.send("Page.navigate", {"url": self.doc_url})
        if reply.get("errorText"):
            raise ProtocolError(f"Page.navigate: {reply['errorText']} at {self.doc_url}")
        await self.host.cdp(self.generation).wait(self.loaded, self.session, "the page's load event")
        self.paused = False  # a new document: its frames run (see TabPool's pause_idle)
        await self.settle()

    async def settle(self) -> None:
        """Wait until the page is ready.

        Ready: no request in flight (waited for up to IDLE_MAX_S), the document at least
        SETTLE_VIRTUAL_MS of page time old, and no DOM change for QUIET_MS; a page that never stops
        changing is taken after SETTLE_MAX_S. The waiting happens in the page, which then also
        measures the content (``page_region``): one round trip.
        """
        args = [SETTLE_VIRTUAL_MS / CLOCK_SPEED, QUIET_MS, SETTLE_MAX_S * 1000]
        idle_until = time.monotonic() + IDLE_MAX_S
        for _ in range(20):
            while self.pending and time.monotonic() < idle_until:
                await asyncio.sleep(0.015)
            self.box = await self.evaluate(_SETTLE_AND_MEASURE, args)
            # The evaluation is also a barrier: requests the page started before it have been
            # reported by now; if there are some, wait for them and for quiet again.
            if not self.pending or time.monotonic() >= idle_until:
                break
            args[2] = 500.0  # later rounds: quiet after the late requests, not the full budget again

    async def capture(self, clip: dict[str, float], scale: float | None = None) -> bytes:
        """A PNG of ``clip`` (CSS pixels) at ``scale`` device pixels per CSS pixel."""
        width, height = VIEWPORT
        beyond = clip["x"] + clip["width"] > width or clip["y"] + clip["height"] > height
        # A huge region is captured at a lower scale rather than cut (the PNG is capped anyway).
        scale = min(scale or self.scale, MAX_SIDE / max(clip["width"], clip["height"], 1))
        shot = await self.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": beyond,
                "fromSurface": True,
                # zlib's fastest level, no row filters: the host decodes and re-encodes every
                # image anyway, so only the pixels matter, and they are the same.
                "optimizeForSpeed": True,
                "clip": dict(clip, scale=scale),
            },
        )
        return base64.b64decode(shot["data"])

    async def page_region(self, width: int | None = None, height: int | None = None) -> dict[str, float]:
        """Finish CSS animations, then the region of the document with content: at least the
        viewport's width, as tall as the content."""
        box = self.box or await self.evaluate(_CONTENT_BOX)
        w = width or min(max(VIEWPORT[0], box["width"]), MAX_CAPTURE_PX)
        h = height or min(max(box["height"], 1), MAX_CAPTURE_PX)
        return {"x": 0, "y": 0, "width": w, "height": h}

    async def animate(self, on: bool) -> bool:
        """Resume (a job starts) or pause (the page waits in the pool) the page's animation frames.

        Measured: one Plotly 3-D page left running in the pool kept 0.9 of a core busy. False when
        the page does not answer (the caller then drops the tab).
        """
        try:
            await asyncio.wait_for(self.evaluate(f"globalThis.__vpb{'Resume' if on else 'Pause'}?.()"), 5)
        except Exception:
            return False
        self.paused = not on
        return True

    async def forget_cookies(self) -> bool:
        """Delete the cookies of this tab's context before its next job (each job has its own origin,
        but a cookie set for the parent domain ``vpb.invalid`` would reach the next job). False when
        the browser does not answer (the caller then drops the tab)."""
        try:
            await asyncio.wait_for(self.send("Network.clearBrowserCookies"), 5)
        except Exception:
            return False
        return True

    async def close(self) -> None:
        """Close the page and its context (closing kills its renderer: a hung page cannot linger)."""
        await self.host.close_tab(self)


# The extent of what the page drew: the union of its content (text and elements, including
# positioned ones) plus the body's bottom margin, so that a small chart is not lost in white space.
_CONTENT_BOX = """async () => {
  if (globalThis.__vpbFrames) await __vpbFrames();
  for (const a of document.getAnimations ? document.getAnimations() : []) {
    try { a.finish(); } catch (e) { try { a.cancel(); } catch (e2) {} }  // infinite ones: back to the start
  }
  const body = document.body;
  let bottom = 0, right = 0;
  const grow = (r) => { if (r.width > 0 && r.height > 0) { bottom = Math.max(bottom, r.bottom); right = Math.max(right, r.right); } };
  if (body) {
    const range = document.createRange();
    range.selectNodeContents(body);
    grow(range.getBoundingClientRect());
    const all = body.getElementsByTagName('*');
    for (let i = 0; i < all.length && i < 20000; i++) grow(all[i].getBoundingClientRect());
    const cs = getComputedStyle(body);
    bottom += parseFloat(cs.marginBottom || '0') + parseFloat(cs.paddingBottom || '0');
    right += parseFloat(cs.marginRight || '0');
  }
  return { width: Math.ceil(right + window.scrollX), height: Math.ceil(bottom + window.scrollY) };
}"""


_SETTLE_AND_MEASURE = (
    "async ([a, b, c]) => { if (globalThis.__vpbSettle) await __vpbSettle(a, b, c); "
    f"return await ({_CONTENT_BOX})(); }}"
)


def _leave(tab: Tab, control: JobControl | None) -> None:
    """The job is done with the tab's renderer: its CPU use is read and its priority restored."""
    if control is not None and tab.renderer_pid is not None:
        control.detach_process(tab.renderer_pid)


class _Place:
    """A job's place in a ``TabPool``, given back once: when the job ends or becomes a long runner.

    While it holds its place the page weighs as much as one job in the browser's CPU weight (see
    ``BrowserHost.pages_changed``).
    """

    def __init__(self, sem: asyncio.Semaphore, loop: asyncio.AbstractEventLoop, host: BrowserHost) -> None:
        self.sem, self.loop, self.host, self.given = sem, loop, host, False
        host.pages_changed(+1)

    def give_back(self) -> None:
        """On the loop's thread."""
        if not self.given:
            self.given = True
            self.sem.release()
            self.host.pages_changed(-1)

    def give_back_threadsafe(self) -> None:
        """From any thread (the pool's long-runner watcher)."""
        with contextlib.suppress(RuntimeError):  # the loop is closed: the browser is gone anyway
            self.loop.call_soon_threadsafe(self.give_back)


class TabPool:
    """Up to ``size`` warm tabs of one kind; ``setup`` prepares a new tab (e.g. loads Mermaid)."""

    def __init__(
        self,
        host: BrowserHost,
        size: int,
        *,
        scale: float = 1.0,
        setup: Callable[[Tab], Awaitable[None]] | None = None,
        max_jobs: int = MAX_JOBS_PER_TAB,
        pause_idle: bool = True,
        navigates: bool = False,
    ):
        self.host, self.size, self.scale, self.setup, self.max_jobs = host, size, scale, setup, max_jobs
        # Hold a page's animation frames while it waits (see Tab.animate). A paused page is resumed
        # when its next job starts, unless the pool's jobs start with a navigation (``navigates``:
        # Tab.load_html), which replaces the paused document anyway (one round trip less).
        self.pause_idle, self.navigates = pause_idle, navigates
        self._free: list[Tab] = []
        self._sem: asyncio.Semaphore | None = None

    @property
    def idle(self) -> list[Tab]:
        """The warm tabs waiting for a job (paused between jobs unless ``pause_idle`` is False)."""
        return list(self._free)

    async def warm(self, count: int) -> None:
        """Open and prepare tabs now until ``count`` wait, so that the first jobs (and the first job
        beside a long runner: one more than ``size``) find them ready."""
        missing = max(0, count - len(self._free))
        tabs = await asyncio.gather(*(self._acquire() for _ in range(missing)), return_exceptions=True)
        for tab in tabs:
            if isinstance(tab, Tab):
                await self._release(tab, healthy=True)

    async def run(
        self, work: Callable[[Tab], Awaitable[Any]], timeout_s: float, control: JobControl | None = None
    ) -> PageShot:
        """Run ``work`` on a tab within ``timeout_s``; the tab is recycled when the job went wrong.

        When ``control`` makes the job a long runner, its place is given back at once, so that the
        next job opens another tab instead of waiting for this one's timeout.
        """
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.size)
        await self._sem.acquire()
        place = _Place(self._sem, asyncio.get_running_loop(), self.host)
        if control is not None:
            control.on_release(place.give_back_threadsafe)
        try:
            return await self._run(work, timeout_s, control)
        finally:
            place.give_back()

    async def _run(
        self, work: Callable[[Tab], Awaitable[Any]], timeout_s: float, control: JobControl | None
    ) -> PageShot:
        start = time.monotonic()
        if self.host.assets_moved():  # the asset server serves the folder it was started with
            await self.host.restart()
        try:
            tab = await self._acquire()
        except EnvironmentProblem as exc:
            return PageShot(env_problem=str(exc))
        shot = PageShot(timings={"browser": time.monotonic() - start})
        if control is not None:
            control.begin()  # the page's time starts now, not while a tab was being opened
            if tab.renderer_pid is not None:  # its CPU use is measured, and it can be demoted
                control.attach_process(tab.renderer_pid)
        return await self._run_on(tab, shot, work, timeout_s, control)

    async def _run_on(
        self,
        tab: Tab,
        shot: PageShot,
        work: Callable[[Tab], Awaitable[Any]],
        timeout_s: float,
        control: JobControl | None,
    ) -> PageShot:
        tab.begin()
        start = time.monotonic()
        try:
            shot.value = await asyncio.wait_for(work(tab), timeout_s)
        except asyncio.TimeoutError:
            shot.timed_out = True
        except ProtocolError as exc:
            tab.broken = True
            if "crash" in str(exc).lower() or tab.crashed:
                await asyncio.sleep(0.3)  # a dying browser takes its pages along: who went first?
            if self.host.direct and "ERR_CONNECTION" in str(exc) and not tab.env_trouble:
                tab.env_trouble = f"{_SERVER_DOWN} ({_short(exc)})"
            if tab.env_trouble:
                pass
            elif not self.host.connected(tab.generation):
                shot.env_problem = (
                    f"Chromium stopped during the render ({_short(exc)}); it will be restarted. "
                    f"This is not the program's fault: re-run the job. {_FIX}"
                )
            elif "crash" in str(exc).lower():
                tab.crashed = True
            else:  # e.g. the page navigated away or closed itself while being captured
                tab.error(f"The page could not be captured: {_short(exc)}")
        except BaseException:
            tab.end()
            _leave(tab, control)
            await self._release(tab, healthy=False)  # a bug of ours: never blamed on the page
            raise
        tab.end()
        _leave(tab, control)  # before the tab is released: a timed-out tab is closed
        if tab.env_trouble:
            shot.env_problem = f"{tab.env_trouble}. This is not the program's fault: re-run the job."
        shot.crashed = tab.crashed and not shot.env_problem
        if shot.crashed:
            shot.errors.append(
                "The page crashed: its renderer process died, most often because the page "
                f"used too much memory (the limit is {JS_HEAP_MB} MiB of JavaScript heap)."
            )
        shot.errors[:0] = list(tab.errors)
        shot.console = list(tab.console)
        shot.timings["page"] = time.monotonic() - start
        if isinstance(shot.value, bytes):
            shot.png, shot.value = shot.value, None
        await self._release(
            tab, healthy=not (shot.timed_out or shot.crashed or tab.broken or shot.env_problem)
        )
        if tab.env_trouble.startswith(_SERVER_DOWN):
            await self.host.restart()
        return shot

    async def _acquire(self) -> Tab:
        while self._free:
            tab = self._free.pop()
            usable = self.host.connected(tab.generation) and not tab.crashed
            if usable and (not tab.paused or self.navigates or await tab.animate(True)):
                return tab
            await tab.close()
        tab = await self.host.new_tab(scale=self.scale)
        try:
            if self.setup is not None:
                await asyncio.wait_for(self.setup(tab), 60)
        except Exception as exc:
            await tab.close()
            if not self.host.connected(tab.generation):
                raise EnvironmentProblem(
                    f"Chromium stopped while preparing a page: {_short(exc)}. {_FIX}"
                ) from exc
            raise EnvironmentProblem(f"A browser page could not be prepared: {_short(exc)}") from exc
        return tab

    async def _release(self, tab: Tab, *, healthy: bool) -> None:
        if (
            healthy
            and tab.jobs < self.max_jobs
            and self.host.connected(tab.generation)
            and (not self.navigates or await tab.forget_cookies())
            and (not self.pause_idle or await tab.animate(False))
        ):
            self._free.append(tab)
            return
        closing = asyncio.ensure_future(tab.close())
        done, _ = await asyncio.wait({closing}, timeout=6)
        if not done:  # a renderer that will not die: restart the whole browser
            await self.host.restart()

    async def close(self) -> None:
        tabs, self._free = self._free, []
        for tab in tabs:
            await tab.close()
