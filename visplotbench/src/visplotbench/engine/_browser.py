"""One long-lived headless Chromium for the engine: offline, deterministic, sandboxed pages.

The Mermaid and HTML renderers (and the Python renderer, for plotly/bokeh/pyecharts/altair HTML,
through ``screenshot_html``) share one Chromium, driven over its debugging pipe with the DevTools
protocol (``_cdp``: no driver process in between) on a dedicated thread with its own event loop;
callers on any thread submit coroutines (``BrowserHost.call``). Each pooled page is a CDP session
in its own browser context.
Start-up (~1 s) is paid once; a job costs a navigation, a settle and a screenshot. The binary is
Debian's ``chromium-headless-shell`` when installed (no browser UI: a third less CPU per HTML job,
see ``chromium_path``), else the full ``chromium``. Chromium is
always started through a small launcher script that merges the ``--disable-features`` switches
(``DISABLED_FEATURES`` and any a wrapper adds: Chromium would apply only the last one); the features
turned off save CPU (a new frame host per navigation, the address bar's WebUI popup) and change
nothing a page can see. Screenshots use Chromium's fast PNG encoder (``optimizeForSpeed``): the
host re-encodes every image, so only the pixels count, and they are the same.

Covered
  * OS sandbox: Chromium runs inside bubblewrap (read-only system directories, a private tmpfs
    ``/tmp``, uid 65534, no capabilities, a NEW, EMPTY NETWORK NAMESPACE) and the engine talks to
    it over two pipes. A page that escaped the browser would find no home directory, no project files
    and no network, not even the host's 127.0.0.1. A pids cgroup and a memory cgroup cap the whole
    browser (``BROWSER_MEMORY_MB``); V8's heap is capped per page (``JS_HEAP_MB``).
  * Offline: Chromium's host-resolver rules send the job documents' hosts and the CDN hosts that
    ``_cdn`` knows to the asset server (``_assetserver``), a tiny TLS server that runs INSIDE the
    sandbox (its network namespace, read-only views of the assets and documents; its certificate
    is made per launch and pinned with ``--ignore-certificate-errors-spki-list``). Every other
    host resolves nowhere. Nothing is intercepted, so Chromium's HTTP cache keeps the chart
    libraries between jobs. What the server cannot answer (a library or major that is not pinned,
    a relative URL) is a 404, and every blocked or failed request is REPORTED as an error of the
    job with its URL; ``file://`` is refused by Chromium and reported too. WebSockets to other
    hosts fail the same way; service workers are blocked; ``data:``/``blob:`` URLs stay usable.
    Without openssl (no server), every request is intercepted (the protocol's ``Fetch`` domain)
    and Python answers CDN URLs and the document and fails the rest, with the same reports; what
    cannot be intercepted (WebSockets) goes to a proxy that does not exist and is reported.
  * Isolation between jobs: each HTML job is a navigation to its own origin
    (``https://j<N>-<random>.vpb.invalid/index.html``: a new document, no shared storage; the
    tab's cookies are deleted after each job, since one set for ``vpb.invalid`` would reach the next
    job) on a pooled page;
    pages are recycled after ``MAX_JOBS_PER_TAB`` jobs and thrown away after a timeout or a crash
    (closing a page kills its renderer process, so ``while(true){}`` cannot linger).
  * Deterministic: fixed viewport and device scale factor, UTC, en-US, reduced motion. An init
    script (``add_init_script``, never spliced into the user's source) seeds ``Math.random``,
    starts the clock at 2024-01-15 12:00 UTC and runs page time ``CLOCK_SPEED`` times faster
    (``Date``, ``performance.now``, timer delays), and serves animation frames as fast as the
    page takes them, so animations (timed or frame-counted, e.g. a D3 force layout) end before
    the capture; CSS/Web animations are finished. Readiness = load event + no request in flight +
    at least ``SETTLE_VIRTUAL_MS`` of page time + no DOM change for ``QUIET_MS`` (at most
    ``SETTLE_MAX_S``), not a fixed sleep.
  * Failures: a renderer crash (a page out of memory) is the page's fault and reported as such;
    a browser crash, a failed launch or a silent asset server restart the browser and make the
    job an ``env_failure`` with the fix. Console output is capped in the page (``CONSOLE_CAP``).

Not covered
  * Pages that animate forever or draw wall-clock seconds differ between renders.
  * A page flooding thousands of requests or exceptions slows the shared event loop until its
    wall-clock limit ends it.
  * Without bubblewrap the browser does not start (``EnvironmentProblem``); with
    ``VISPLOTBENCH_BROWSER_SANDBOX=0`` Chromium runs unsandboxed (only request interception keeps
    pages offline, and the assets are fulfilled from Python; its HOME is the launcher's temporary
    folder, removed when the browser stops).
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import concurrent.futures
import contextlib
import functools
import itertools
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from visplotbench.engine import _cdn
from visplotbench.engine._assetserver import (
    ASSETS,
    DOC_DOMAIN,
    DOC_HOST,
    DOCS,
    SRV,
    AssetServer,
    host_rules,
    served_by_server,
)
from visplotbench.engine._assetserver import prepare as prepare_asset_server
from visplotbench.engine._cdp import Connection, ProtocolError, launch
from visplotbench.engine._images import MAX_SIDE
from visplotbench.engine._sandbox import ProcessResult, scratch_dir
from visplotbench.engine._types import EnvironmentProblem
from visplotbench.engine.assets import assets_dir, missing_assets

T = TypeVar("T")

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
JS_HEAP_MB = 2048
BROWSER_MEMORY_MB = 6144
BROWSER_MAX_PROCESSES = 4096  # the pids cgroup counts threads; Chromium runs many
_HTML_TYPE = "text/html; charset=utf-8"
_NO_ARG: Any = object()
# What Tab.evaluate calls instead of evaluating: a function expression.
_FUNCTION = re.compile(
    r"^\s*(?:async\s+)?(?:function\b|\([^)]*\)\s*=>|\[[^\]]*\]\s*=>|[A-Za-z_$][\w$]*\s*=>)"
)
_SERVER_DOWN = "the browser's asset server did not answer"
# Request failures that mean the asset server is gone (not the page's doing).
_SERVER_FAILURES = (
    "ERR_CONNECTION_REFUSED", "ERR_CONNECTION_RESET", "ERR_CONNECTION_CLOSED", "ERR_CONNECTION_FAILED",
    "ERR_EMPTY_RESPONSE", "ERR_SSL_", "ERR_CERT_",
)  # fmt: skip
FLAGS = (
    "--headless --disable-gpu --disable-quic --no-first-run --disable-background-networking "
    "--disable-component-update --disable-sync --disable-dev-shm-usage --disable-extensions --disable-breakpad "
    "--disable-crash-reporter --mute-audio --hide-scrollbars --force-color-profile=srgb --font-render-hinting=none "
    "--disable-lcd-text --force-webrtc-ip-handling-policy=disable_non_proxied_udp "
    f"--js-flags=--max-old-space-size={JS_HEAP_MB} "
    # Pooled pages in separate contexts count as background windows: without these their timers
    # would be throttled (the settle wait polls every 10 ms) and their renderers deprioritised.
    "--disable-background-timer-throttling --disable-backgrounding-occluded-windows --disable-renderer-backgrounding "
    # The page a job leaves must not live on in the back-forward cache; no hang dialogs, no flood
    # protection slowing a chatty page's messages, no field trials changing behaviour between runs.
    "--disable-back-forward-cache --disable-hang-monitor --disable-ipc-flooding-protection --disable-field-trial-config "
    # WebGL (3-D plotly) on the CPU; a mouse-like pointer for (hover:hover) media queries; the
    # screenshot path these settings were measured with. Playwright, which drove the browser
    # before, passed the same, so pages render as they did.
    "--enable-unsafe-swiftshader --enable-features=CDPScreenshotNewSurface "
    "--blink-settings=primaryHoverType=2,availableHoverTypes=2,primaryPointerType=4,availablePointerTypes=4 "
    "--disable-client-side-phishing-detection --disable-component-extensions-with-background-pages "
    "--disable-default-apps --no-default-browser-check --metrics-recording-only --password-store=basic "
    "--use-mock-keychain --no-service-autorun "
    # Chromium's own sandbox stays off, as Playwright ran it: it needs user namespaces inside
    # bubblewrap's, which not every machine allows; the whole browser is in bubblewrap instead.
    "--no-sandbox"
).split()
# Chromium features turned off (CPU per job, measured on the bundled HTML pages):
#   RenderDocument: a new frame host, widget and compositor for every navigation; each job is a
#     navigation, and reusing them saves about a tenth of an HTML job's CPU. Every job still gets a
#     new document at a new origin.
#   WebUIOmniboxPopup*: the address bar's popup is a WebUI page that every new window (= every new
#     tab of ours) loads in an extra renderer (about 0.25 CPU-s each); headless pages never show it.
DISABLED_FEATURES = (
    "RenderDocument", "WebUIOmniboxPopup", "WebUIOmniboxAimPopup", "WebUIOmniboxFullPopup",
    # Background network and behaviour that a test browser does without (as Playwright had them).
    "PaintHolding", "HttpsUpgrades", "OptimizationHints", "MediaRouter", "NetworkTimeServiceQuerying",
    "PreconnectToSearch", "AvoidUnnecessaryBeforeUnloadCheckSync", "ThirdPartyStoragePartitioning",
)  # fmt: skip
# Chromium keeps only the LAST --disable-features switch, so the launcher script merges all of them
# into one (ours and any that a VISPLOTBENCH_CHROMIUM wrapper adds both apply).
_MERGE_FEATURES = (
    'feats=""\n'
    'for a in "$@"; do shift; case "$a" in\n'
    '  --disable-features=*) feats="${feats:+$feats,}${a#--disable-features=}" ;;\n'
    '  *) set -- "$@" "$a" ;;\n'
    "esac; done\n"
)
_FIX = (
    "Fix: apt-get install chromium-headless-shell bubblewrap (or `make install`), then run `visplotbench doctor`; "
    "set VISPLOTBENCH_CHROMIUM to use another Chromium binary."
)

_INIT_TEMPLATE = """(() => {
  const K = SPEED, T0 = START_MS, SEED = RANDOM_SEED, g = globalThis;
  // Seeded Math.random (mulberry32): random data is the same on every render.
  let s = SEED >>> 0;
  Math.random = function random() {
    s = (s + 0x6D2B79F5) >>> 0; let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  // Page time starts at T0 and runs K times faster, so that animations end while the page settles.
  const realNow = performance.now.bind(performance);
  let start = realNow();
  const vnow = () => (realNow() - start) * K;
  const dateNow = () => Math.floor(T0 + vnow());
  performance.now = function now() { return vnow(); };
  const NativeDate = Date;
  g.Date = new Proxy(NativeDate, {
    construct(target, args, newTarget) { return Reflect.construct(target, args.length ? args : [dateNow()], newTarget); },
    apply() { return new NativeDate(dateNow()).toString(); },
    get(target, prop, receiver) { return prop === 'now' ? dateNow : Reflect.get(target, prop, receiver); },
  });
  // Animation frames come as fast as the page can take them (a MessageChannel, not the 60 Hz
  // compositor), so frame-counted animations such as a D3 force layout also settle quickly.
  const raf = g.requestAnimationFrame && g.requestAnimationFrame.bind(g);
  // Between jobs a pooled page is paused (__vpbPause): a page that animates forever (a WebGL
  // scene, a chart library's render loop) would otherwise spin a core while it waits in the pool.
  let paused = false, queue = [];
  const channel = new MessageChannel();
  if (raf) {
    let seq = 0;
    const cancelled = new Set();
    channel.port1.onmessage = () => {
      if (paused) return;  // the frames wait in the queue until __vpbResume
      const due = queue; queue = [];
      const now = vnow();
      for (const [id, cb] of due) {
        if (cancelled.delete(id)) continue;
        try { cb(now); } catch (e) { st(() => { throw e; }, 0); }  // report it, run the others
      }
    };
    g.requestAnimationFrame = function requestAnimationFrame(cb) {
      if (queue.length === 0 && !paused) channel.port2.postMessage(0);
      queue.push([++seq, cb]);
      return seq;
    };
    g.cancelAnimationFrame = function cancelAnimationFrame(id) { cancelled.add(id); };
  }
  // Readiness: how long the document has gone without a change (the harness waits for quiet).
  let lastChange = realNow();
  new MutationObserver(() => { lastChange = realNow(); })
    .observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  const st = g.setTimeout.bind(g), si = g.setInterval.bind(g);
  g.setTimeout = function setTimeout(fn, ms, ...a) { return st(fn, (Number(ms) || 0) / K, ...a); };
  g.setInterval = function setInterval(fn, ms, ...a) { return si(fn, (Number(ms) || 0) / K, ...a); };
  // No service workers (as Playwright's serviceWorkers: 'block' did): registering one does nothing.
  if (g.ServiceWorkerContainer) {
    ServiceWorkerContainer.prototype.register = async function register() {
      console.warn('Service worker registration blocked: pages render offline.');
    };
  }
  // Console output is capped here, before it reaches the harness.
  let budget = CONSOLE_CAP;
  for (const name of ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'dirxml', 'table', 'assert', 'count', 'timeLog']) {
    const orig = console[name];
    if (typeof orig !== 'function') continue;
    console[name] = function (...args) {
      if (budget > 0) { budget--; return orig.apply(console, args); }
      if (budget-- === 0) orig.call(console, '[further console output dropped]');
    };
  }
  // A warm page (Mermaid) resets seed and clock before each job.
  Object.defineProperty(g, '__vpbReset', { value: () => { s = SEED >>> 0; start = realNow(); budget = CONSOLE_CAP; }, enumerable: false });
  Object.defineProperty(g, '__vpbPause', { value: () => { paused = true; }, enumerable: false });
  Object.defineProperty(g, '__vpbResume', { value: () => {
    paused = false;
    if (queue.length) channel.port2.postMessage(0);
  }, enumerable: false });
  const born = realNow();
  // Resolves once the document is at least minMs old and has not changed for quietMs (or maxMs passed).
  Object.defineProperty(g, '__vpbSettle', { value: (minMs, quietMs, maxMs) => new Promise(done => {
    const t0 = realNow();
    (function check() {
      const now = realNow();
      if ((now - born >= minMs && now - lastChange >= quietMs) || now - t0 >= maxMs) return done(true);
      st(check, 10);
    })();
  }), enumerable: false });
  Object.defineProperty(g, '__vpbFrames', { value: () => new Promise(done => {
    if (!raf) return done(true);
    raf(() => raf(() => done(true)));
    st(() => done(true), 500);  // a page without frames must not hang the job
  }), enumerable: false });
})();"""
INIT_SCRIPT = (
    _INIT_TEMPLATE.replace("SPEED", str(CLOCK_SPEED))
    .replace("START_MS", str(T0_MS))
    .replace("RANDOM_SEED", str(RANDOM_SEED))
    .replace("CONSOLE_CAP", str(CONSOLE_CAP))
)


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


def _arg_text(arg: dict) -> str:
    """One console.* argument as text, as the browser's console shows it in one line."""
    if "unserializableValue" in arg:
        return str(arg["unserializableValue"])
    kind = arg.get("type")
    if kind == "string":
        return str(arg.get("value", ""))
    if kind == "undefined":
        return "undefined"
    if arg.get("subtype") == "null":
        return "null"
    if kind in ("number", "boolean"):
        return json.dumps(arg.get("value"))
    return str(arg.get("description") or arg.get("className") or kind)


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


def blocked_message(url: str) -> str:
    """The error a page gets for a request that offline rendering cannot answer."""
    if DOC_HOST.match(url):
        rel = DOC_HOST.sub("", url)
        return (
            f"Blocked request to '{rel}': a relative URL, but the page has no files next to it "
            "(inline the data instead)."
        )
    if url.startswith("file:"):
        return f"Blocked request to a local file: {url} (pages cannot read local files)"
    if "gstatic.com/charts" in url:
        return (
            f"Blocked request to {url}: Google Charts cannot be loaded offline; use Chart.js, D3, "
            "ECharts, Plotly.js or Vega-Lite."
        )
    short = url if len(url) <= 200 else url[:200] + "..."
    return (
        f"Blocked request to {short}: pages render offline; only the usual CDN URLs of Chart.js, D3, "
        "ECharts, Plotly.js, Vega/Vega-Lite/Vega-Embed and Mermaid are served (from pinned local copies)."
    )


def format_exception(details: dict, doc_url: str) -> str:
    """An uncaught exception as the model should see it: message, the user's line, the user's frames."""
    text = details.get("text") or "Uncaught"
    desc = (details.get("exception") or {}).get("description") or ""
    if desc and not text.endswith(desc.split("\n")[0]):
        lines = desc.split("\n")
        head = f"{text} {lines[0]}" if text.startswith("Uncaught") else lines[0]
        frames = [ln for ln in lines[1:] if doc_url and doc_url in ln]
    else:
        head, frames = text, []
    if details.get("url") == doc_url and "lineNumber" in details:
        head += f" (line {details['lineNumber'] + 1})"
    return "\n".join([head, *frames])


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

    async def run(self, work: Callable[[Tab], Awaitable[Any]], timeout_s: float) -> PageShot:
        """Run ``work`` on a tab within ``timeout_s``; the tab is recycled when the job went wrong."""
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.size)
        async with self._sem:
            start = time.monotonic()
            if self.host.assets_moved():  # the asset server serves the folder it was started with
                await self.host.restart()
            try:
                tab = await self._acquire()
            except EnvironmentProblem as exc:
                return PageShot(env_problem=str(exc))
            shot = PageShot(timings={"browser": time.monotonic() - start})
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
                await self._release(tab, healthy=False)  # a bug of ours: never blamed on the page
                raise
            tab.end()
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


def _short(exc: BaseException) -> str:
    text = str(exc).strip().split("\n")[0]
    return text[:300] or type(exc).__name__


class BrowserHost:
    """The shared Chromium: its thread, event loop, debugging pipe and browser process."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._start_lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._launching: asyncio.Lock | None = None
        self._generation = 0
        self._cgroup: Any = None
        self._wrapper_dir: str | None = None
        self._assets: dict[Path, bytes] = {}
        self._asset_bytes = 0
        self._server: AssetServer | None = None
        self._tabs: dict[str, Tab] = {}  # by target id
        self._closing: set[asyncio.Future] = set()  # popups being closed
        # True: pages get everything from the in-sandbox asset server (``_assetserver``), no request
        # is intercepted; False: every request is intercepted and Python answers it (slower).
        self.direct = False
        self.docs_dir: Path | None = None
        self.assets_root = assets_dir().resolve()
        self.version = ""
        self.user_agent = ""
        self.counter = itertools.count(1)
        self.pools: dict[object, TabPool] = {}
        self._users = 0

    def acquire(self) -> BrowserHost:
        """Count a renderer that uses this host (``release`` stops the browser after the last one)."""
        with self._start_lock:
            self._users += 1
        return self

    def release(self) -> None:
        with self._start_lock:
            self._users -= 1
            last = self._users <= 0
        if last:
            self.close()

    def release_pool(self, key: object) -> None:
        """Close the tab pool registered under ``key`` (if any), then release this user's hold."""

        async def drop() -> None:
            pool = self.pools.pop(key, None)
            if pool is not None:
                await pool.close()

        with contextlib.suppress(Exception):  # a dead browser has nothing left to close
            self.call(drop, 30)
        self.release()

    def pool(self, key: object, make: Callable[[], TabPool]) -> TabPool:
        """The tab pool registered under ``key`` (created by ``make`` on first use); loop thread only."""
        found = self.pools.get(key)
        if found is None:
            found = self.pools[key] = make()
        return found

    # --- thread and loop ------------------------------------------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._start_lock:
            if self._loop is None or self._thread is None or not self._thread.is_alive():
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                self._thread = threading.Thread(target=run, name="visplotbench-browser", daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def call(self, coro_fn: Callable[[], Awaitable[T]], timeout_s: float) -> T:
        """Run ``coro_fn()`` on the browser's loop from any thread and wait for its result."""
        loop = self._ensure_loop()
        future = asyncio.run_coroutine_threadsafe(_call(coro_fn), loop)
        try:
            return future.result(timeout=timeout_s + 120)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            asyncio.run_coroutine_threadsafe(self.restart(), loop)
            raise EnvironmentProblem(
                f"the browser stopped responding; it is being restarted. {_FIX}"
            ) from exc

    # --- browser --------------------------------------------------------------------------
    def connected(self, generation: int) -> bool:
        return (
            generation == self._generation
            and self._conn is not None
            and not self._conn.closed
            and self._process is not None
            and self._process.poll() is None
        )

    def cdp(self, generation: int) -> Connection:
        """The debugging connection of browser ``generation`` (ProtocolError once it is gone)."""
        if generation != self._generation or self._conn is None:
            raise ProtocolError("the browser was restarted (Target closed)")
        return self._conn

    async def browser(self) -> Connection:
        if self._launching is None:
            self._launching = asyncio.Lock()
        async with self._launching:
            if self._conn is not None and self.connected(self._generation):
                return self._conn
            await self._shutdown()
            try:
                self._conn = await self._launch()
            except EnvironmentProblem:
                await self._shutdown()
                raise
            except Exception as exc:
                await self._shutdown()
                raise EnvironmentProblem(f"Chromium could not be started: {_short(exc)}. {_FIX}") from exc
            return self._conn

    async def _launch(self) -> Connection:
        chromium = chromium_path()
        self.assets_root = assets_dir().resolve()
        args = [*FLAGS, "--no-startup-window", "--disable-features=" + ",".join(DISABLED_FEATURES)]
        if os.environ.get("VISPLOTBENCH_BROWSER_SANDBOX", "1") != "0":
            executable = self._sandbox_wrapper(chromium)
            args.append("--user-data-dir=/tmp/.vpb-profile")  # the sandbox's own tmpfs
            if self._server is not None:
                args += [
                    f"--ignore-certificate-errors-spki-list={self._server.spki}",
                    f"--host-resolver-rules={host_rules()}",
                ]
        else:
            executable = self._plain_wrapper(chromium)
            args.append(f"--user-data-dir={self._wrapper_dir}/profile")
        if self._server is None:
            # Every request is intercepted (Fetch); what is not (a WebSocket) goes to a dead proxy.
            args += ["--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]
        env = {"PATH": "/usr/bin:/bin", "HOME": self._wrapper_dir or tempfile.gettempdir(), "LANG": "C.UTF-8"}
        self._process, conn = await launch([executable, *args], env)
        self._generation += 1
        generation = self._generation
        conn.on("", lambda method, params: self._on_browser_event(generation, method, params))
        try:
            info = await asyncio.wait_for(conn.send("Browser.getVersion"), 60)
            await asyncio.wait_for(conn.send("Target.setDiscoverTargets", {"discover": True}), 60)
        except (ProtocolError, asyncio.TimeoutError) as exc:
            await asyncio.sleep(0.1)  # its last words
            tail = conn.stderr_tail.decode(errors="replace").strip().splitlines()[-3:]
            raise EnvironmentProblem(
                f"Chromium could not be started: {_short(exc)} {' | '.join(tail)}. {_FIX}".strip()
            ) from exc
        self.version = str(info.get("product", "")).split("/")[-1]
        self.user_agent = str(info.get("userAgent", ""))
        return conn

    def _on_browser_event(self, generation: int, method: str, params: dict) -> None:
        if generation != self._generation:
            return
        if method == "Target.targetCreated":
            target = params["targetInfo"]
            if target.get("type") == "page" and target.get("openerId") in self._tabs:  # a popup
                closing = asyncio.ensure_future(self._close_target(target["targetId"]))
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)
        elif method == "Target.targetCrashed":
            tab = self._tabs.get(params.get("targetId", ""))
            if tab is not None:
                tab.on_crash()
        elif method == "Target.detachedFromTarget" and self._conn is not None:
            self._conn.fail_session(params.get("sessionId", ""), "the page closed (Target closed)")

    async def _close_target(self, target_id: str) -> None:
        with contextlib.suppress(Exception):
            await self.cdp(self._generation).send("Target.closeTarget", {"targetId": target_id})

    def _plain_wrapper(self, chromium: str) -> str:
        """An executable that starts Chromium unsandboxed, with its feature switches merged."""
        self._wrapper_dir = tempfile.mkdtemp(prefix="vpb-browser-", dir=scratch_dir())
        wrapper = Path(self._wrapper_dir) / "chromium"
        wrapper.write_text(f"#!/bin/sh\n{_launch_script(chromium)}\n", encoding="utf-8")
        wrapper.chmod(0o700)
        return str(wrapper)

    def _sandbox_wrapper(self, chromium: str) -> str:
        """An executable that starts Chromium (and the asset server) in bubblewrap, in the browser's cgroups."""
        from visplotbench.engine._cgroup import create_job_cgroup
        from visplotbench.engine._sandbox import bwrap_argv

        self._wrapper_dir = tempfile.mkdtemp(prefix="vpb-browser-", dir=scratch_dir())
        base = Path(self._wrapper_dir)
        home, srv, docs = base / "home", base / "srv", base / "docs"
        for folder in (home, srv, docs):
            folder.mkdir(mode=0o700)
        launch = _launch_script(chromium)
        command = ["/bin/sh", "-c", launch, "sh"]
        binds: list[tuple[Path, str]] = []
        self._server, self.direct, self.docs_dir = None, False, None
        server = prepare_asset_server(srv) if self.assets_root.is_dir() else None
        if server is not None:
            binds = [(srv, SRV), (docs, DOCS), (self.assets_root, ASSETS)]
            ready = "/tmp/.vpb-asset-server-ready"
            start = (
                f"{server.command(ready)}\n"
                f"i=0; while [ ! -e {ready} ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done\n" + launch
            )
            command = ["/bin/sh", "-c", start, "sh"]
            self._server, self.direct, self.docs_dir = server, True, docs
        argv = bwrap_argv(
            command,
            home,
            extra_ro=server.read_only if server is not None else [],
            # Our folders get fixed paths inside (they are host temp dirs with random names).
            binds=binds,
            tmpfs_mb=2048,
            env={"XDG_CONFIG_HOME": "/tmp/.config", "XDG_CACHE_HOME": "/tmp/.cache"},
        )
        self._cgroup = create_job_cgroup(BROWSER_MAX_PROCESSES, BROWSER_MEMORY_MB)
        lines = ["#!/bin/sh"]
        for procs in self._cgroup.procs_files if self._cgroup else []:
            lines.append(f"echo $$ > {shlex.quote(procs)} || exit 125")
        lines.append(
            "exec prlimit --core=0 --nofile=8192 -- " + " ".join(shlex.quote(a) for a in argv) + ' "$@"'
        )
        wrapper = base / "chromium"
        wrapper.write_text("\n".join(lines) + "\n", encoding="utf-8")
        wrapper.chmod(0o700)
        return str(wrapper)

    async def new_tab(self, *, scale: float = 1.0) -> Tab:
        conn = await self.browser()
        generation = self._generation
        try:
            context = (await conn.send("Target.createBrowserContext", {"disposeOnDetach": True}))[
                "browserContextId"
            ]
            target = (
                await conn.send("Target.createTarget", {"url": "about:blank", "browserContextId": context})
            )["targetId"]
            session = (await conn.send("Target.attachToTarget", {"targetId": target, "flatten": True}))[
                "sessionId"
            ]
            tab = Tab(self, context, target, session, generation, scale=scale)
            self._tabs[target] = tab
            conn.on(session, tab.on_event)
            width, height = VIEWPORT
            media = [
                {"name": "prefers-reduced-motion", "value": "reduce"},
                {"name": "prefers-color-scheme", "value": "light"},
            ]
            setup = [
                conn.send("Browser.setDownloadBehavior", {"behavior": "deny", "browserContextId": context}),
                tab.send("Page.enable"),
                tab.send("Page.addScriptToEvaluateOnNewDocument", {"source": INIT_SCRIPT}),
                tab.send("Runtime.enable"),
                tab.send("Network.enable"),
                tab.send("Network.setBypassServiceWorker", {"bypass": True}),
                tab.send(
                    "Network.setUserAgentOverride", {"userAgent": self.user_agent, "acceptLanguage": "en-US"}
                ),
                tab.send("Log.enable"),
                tab.send("Inspector.enable"),
                tab.send(
                    "Emulation.setDeviceMetricsOverride",
                    {
                        "width": width,
                        "height": height,
                        "deviceScaleFactor": 1,
                        "mobile": False,
                        "screenWidth": width,
                        "screenHeight": height,
                    },
                ),
                tab.send("Emulation.setTimezoneOverride", {"timezoneId": "UTC"}),
                tab.send("Emulation.setLocaleOverride", {"locale": "en-US"}),
                tab.send("Emulation.setEmulatedMedia", {"media": "screen", "features": media}),
            ]
            if not self.direct:  # no asset server: every request is intercepted, Python answers or blocks
                setup.append(tab.send("Fetch.enable", {"patterns": [{"urlPattern": "*"}]}))
            await asyncio.gather(*setup)
            return tab
        except Exception as exc:
            if not self.connected(generation):
                raise EnvironmentProblem(
                    f"Chromium stopped while opening a page: {_short(exc)}. {_FIX}"
                ) from exc
            raise

    async def close_tab(self, tab: Tab) -> None:
        """Dispose of the tab's context (its page and renderer go with it)."""
        self._tabs.pop(tab.target_id, None)
        if tab.generation != self._generation or self._conn is None:
            return
        self._conn.fail_session(tab.session, "the page was closed (Target closed)")
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self._conn.send("Target.disposeBrowserContext", {"browserContextId": tab.context_id}), 5
            )
        self._conn.on(tab.session, None)

    def asset(self, url: str) -> tuple[bytes | None, str]:
        """The bytes and content type answering a CDN URL, or (None, '') when it must be blocked."""
        path = _cdn.resolve(url)
        if path is None:
            return None, ""
        body = self._assets.get(path)
        if body is None:
            body = path.read_bytes()
            if self._asset_bytes > 256 * 1024 * 1024:
                self._assets.clear()
                self._asset_bytes = 0
            self._assets[path] = body
            self._asset_bytes += len(body)
        return body, _cdn.content_type(path)

    def assets_moved(self) -> bool:
        """True when the browser runs and ``assets_dir()`` is no longer the folder it was started with."""
        return self._conn is not None and assets_dir().resolve() != self.assets_root

    async def restart(self) -> None:
        """Kill the browser; the next job starts a new one (its old tabs are discarded)."""
        if self._launching is None:
            self._launching = asyncio.Lock()
        async with self._launching:
            await self._shutdown()

    async def _shutdown(self) -> None:
        """Close the tabs and the browser; remove the cgroup and the wrapper folder.

        Every step runs even when an earlier one fails (this also runs at interpreter exit).
        """
        conn, process, self._conn, self._process = self._conn, self._process, None, None
        cgroup, wrapper_dir, self._cgroup, self._wrapper_dir = self._cgroup, self._wrapper_dir, None, None
        self._generation += 1
        self._server, self.direct, self.docs_dir = None, False, None
        self._tabs = {}
        try:
            for pool in list(self.pools.values()):
                with contextlib.suppress(Exception):
                    await pool.close()
            if conn is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.send("Browser.close"), 5)
                conn.close()
            if process is not None:
                for _ in range(100):  # up to 5 s for a clean exit
                    if process.poll() is not None:
                        break
                    await asyncio.sleep(0.05)
                else:
                    with contextlib.suppress(OSError):
                        os.killpg(process.pid, signal.SIGKILL)
                    with contextlib.suppress(Exception):
                        process.wait(5)
        finally:
            if cgroup is not None:
                with contextlib.suppress(Exception):
                    cgroup.remove()  # kills stragglers; a blocking call, but short and rare
            if wrapper_dir:
                shutil.rmtree(wrapper_dir, ignore_errors=True)

    def close(self) -> None:
        """Stop the browser and the loop thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._loop = self._thread = None
        self._launching = None
        self.pools = {}  # their asyncio primitives belong to the stopped loop


def _launch_script(chromium: str) -> str:
    """Shell lines that exec Chromium with its arguments, the --disable-features switches merged."""
    return _MERGE_FEATURES + f'exec {shlex.quote(chromium)} "$@" ${{feats:+"--disable-features=$feats"}}'


async def _call(coro_fn: Callable[[], Awaitable[T]]) -> T:
    return await coro_fn()


def chromium_path() -> str:
    """The Chromium binary: $VISPLOTBENCH_CHROMIUM, Debian's headless shell, Debian's full Chromium,
    or chromium on PATH.

    The headless shell (Debian's ``chromium-headless-shell``, what Playwright uses headless)
    is the same Blink without a browser UI: measured on the task set's HTML pages it needs 0.26
    CPU-s per job against 0.38 for the full browser, whose hidden window still redraws its toolbar
    and tab strip on every navigation. Pixels are the same except canvas text anti-aliasing.
    """
    candidates = [
        os.environ.get("VISPLOTBENCH_CHROMIUM", ""),
        "/usr/lib/chromium/chromium-headless-shell",
        "/usr/lib/chromium/chromium",
        shutil.which("chromium-headless-shell") or "",
        shutil.which("chromium") or "",
        shutil.which("chromium-browser") or "",
    ]
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    raise EnvironmentProblem(f"Chromium is not installed. {_FIX}")


_host: BrowserHost | None = None
_host_lock = threading.Lock()


def shared_browser() -> BrowserHost:
    """The process-wide browser host (started lazily, stopped at exit)."""
    global _host
    with _host_lock:
        if _host is None:
            _host = BrowserHost()
            atexit.register(_host.close)
        return _host


def chromium_version() -> str:
    """The version of the Chromium that ``chromium_path`` picks (``--version``), without starting it.

    Render cache keys include it, so it must be the same before and after the browser starts (the
    DevTools ``Browser.getVersion`` product string has the same number) and must follow an upgrade
    of the binary: the answer is cached per binary path and modification time.
    """
    path = chromium_path()
    return _chromium_version(path, os.stat(path).st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _chromium_version(path: str, mtime_ns: int) -> str:
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
        ).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentProblem(f"{path} --version failed: {exc}. {_FIX}") from exc
    found = re.search(r"(\d+(?:\.\d+)+)", out)
    if not found:
        raise EnvironmentProblem(f"{path} --version printed no version ({out.strip()[:80]!r}). {_FIX}")
    return found.group(1)


def check_browser() -> None:
    """Raise EnvironmentProblem (with the fix) when the browser cannot run here."""
    chromium_path()
    if os.environ.get("VISPLOTBENCH_BROWSER_SANDBOX", "1") != "0":
        from visplotbench.engine._sandbox import bwrap_path

        bwrap_path()


def screenshot_html(
    html: str,
    *,
    width: int | None = None,
    height: int | None = None,
    timeout_s: float = 30.0,
    scale: float = 1.0,
    concurrency: int = 2,
) -> PageShot:
    """Render a complete HTML page offline in the shared browser and screenshot it.

    For other renderers (plotly, bokeh, pyecharts or altair HTML from the Python renderer). The
    page loads its chart libraries from the usual CDN URLs (answered from pinned local copies);
    anything else it requests is blocked and listed in ``PageShot.errors``.

    Args:
        html: the complete document.
        width, height: the CSS-pixel region to capture; by default the content's extent, at least
            the viewport's width (1000 px) and at most 4000 px each way.
        timeout_s: wall-clock limit for loading and capturing the page.
        scale: device pixels per CSS pixel in the PNG.
        concurrency: pages of this kind rendered at once (the first call fixes it).

    Returns:
        A ``PageShot``: ``png`` (or None), ``errors``, ``console``, ``timed_out``, ``crashed`` and
        ``env_problem`` (non-empty: the browser failed, not the page).
    """
    host = shared_browser()

    async def job() -> PageShot:
        pool = host.pool(
            ("screenshot_html", scale), lambda: TabPool(host, concurrency, scale=scale, navigates=True)
        )

        async def work(tab: Tab) -> bytes:
            await tab.load_html(html)
            return await tab.capture(await tab.page_region(width, height))

        return await pool.run(work, timeout_s)

    try:
        return host.call(job, timeout_s)
    except EnvironmentProblem as exc:
        return PageShot(env_problem=str(exc))
