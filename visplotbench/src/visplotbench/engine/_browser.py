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
import concurrent.futures
import contextlib
import itertools
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from visplotbench.engine import _cdn
from visplotbench.engine._assetserver import (
    ASSETS,
    DOCS,
    SRV,
    AssetServer,
    host_rules,
)
from visplotbench.engine._assetserver import prepare as prepare_asset_server
from visplotbench.engine._cdp import Connection, ProtocolError, launch
from visplotbench.engine._cgroup import SHARES_NORMAL
from visplotbench.engine._chromium import (
    _FIX,
    DISABLED_FEATURES,
    FLAGS,
    _launch_script,
    chromium_path,
)
from visplotbench.engine._jobcontrol import current
from visplotbench.engine._pageerrors import _short
from visplotbench.engine._sandbox import scratch_dir
from visplotbench.engine._tabs import VIEWPORT, PageShot, Tab, TabPool, init_script
from visplotbench.engine._types import EnvironmentProblem
from visplotbench.engine.assets import assets_dir

T = TypeVar("T")


BROWSER_MEMORY_MB = 6144


BROWSER_MAX_PROCESSES = 4096  # the pids cgroup counts threads; Chromium runs many


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
        self._new_tab_lock: asyncio.Lock | None = None
        self._pages = 0  # pages being rendered now (``pages_changed``)
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

    def run_on_tab(
        self,
        key: object,
        make: Callable[[], TabPool],
        work: Callable[[Tab], Awaitable[bytes | None]],
        timeout_s: float,
    ) -> PageShot:
        """Run ``work`` on a tab of the pool registered under ``key`` (made by ``make`` on first use),
        from any thread; the public way for a renderer to use the browser (``release_pool(key)`` ends it).

        Raises:
            EnvironmentProblem: the browser stopped responding (it is being restarted).
        """

        control = current()  # the pool's handle on this job, read in the job's own thread

        async def run() -> PageShot:
            return await self.pool(key, make).run(work, timeout_s, control)

        return self.call(run, timeout_s)

    def warm_tabs(self, key: object, make: Callable[[], TabPool], count: int) -> None:
        """Start the browser (if needed) and open ``count`` prepared tabs in the pool under ``key``."""

        async def run() -> None:
            await self.pool(key, make).warm(count)

        self.call(run, 60)

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
                self._new_tab_lock = None  # an asyncio lock belongs to the loop it was first used on
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

    def pages_changed(self, delta: int) -> None:
        """``delta`` more (or fewer) pages are being rendered; on the loop's thread.

        The whole browser is one cpu cgroup, and every other job has one of its own: the browser's
        weight is one job's (1024 shares) per page it renders, so that a page gets the share of the
        CPU any other job gets however many pages run at once (a long runner's page no longer counts).
        """
        self._pages = max(0, self._pages + delta)
        if self._cgroup is not None:
            self._cgroup.set_cpu_weight(SHARES_NORMAL * max(1, self._pages))

    def renderer_pids(self) -> set[int]:
        """Host pids of the browser's renderer processes (one per page: each has its own context)."""
        found: set[int] = set()
        cgroup = self._cgroup
        for procs in cgroup.procs_files[:1] if cgroup else []:
            with contextlib.suppress(OSError):
                for pid in Path(procs).read_text().split():
                    with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline", "rb") as f:
                        if b"--type=renderer" in f.read():
                            found.add(int(pid))
        return found

    async def new_tab(self, *, scale: float = 1.0) -> Tab:
        """A new page in a browser context of its own; its renderer process is noted when it can be
        told apart (pages are opened one at a time for that: the process that appeared is its)."""
        if self._new_tab_lock is None:
            self._new_tab_lock = asyncio.Lock()
        async with self._new_tab_lock:
            before = self.renderer_pids()
            tab = await self._new_tab(scale)
            new = self.renderer_pids() - before
            if len(new) == 1:
                tab.renderer_pid = new.pop()
            return tab

    async def _new_tab(self, scale: float) -> Tab:
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
                tab.send("Page.addScriptToEvaluateOnNewDocument", {"source": init_script()}),
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


async def _call(coro_fn: Callable[[], Awaitable[T]]) -> T:
    return await coro_fn()


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
