"""Python: the program runs in a forked child of a warm sandboxed worker; every figure it makes is kept.

The worker (``workers/python_job.py``) has imported matplotlib, pandas, seaborn, plotly, altair,
bokeh, holoviews and pyecharts once; each job forks a child that runs ``main.py`` from its file as
``__main__`` in the job directory (``pd.read_csv("data.csv")`` works), under the job's limits. The
child saves matplotlib figures as PNGs itself and records the other libraries' figures as data
(plotly figure JSON, Vega-Lite JSON, self-contained HTML), each with its order index. On the host,
this renderer turns those into PNGs: plotly JSON in the browser with plotly.js, Vega-Lite with the
Vega-Lite renderer, HTML in the browser. Host-side reads never follow links the job made and only
parse JSON and PNG; the HTML runs in the offline browser, never on the host.

What the worker captures and what it does not support (chartify, pyvista) is listed in
``visplotbench.engine.workers.python_job``. Both workers start together on the first job (~5-10 s);
then a matplotlib job costs ~0.2 s of CPU, a plotly one ~0.1 s plus ~0.15 s in the browser.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from visplotbench.engine._images import crop_to_content
from visplotbench.engine._types import EnvironmentProblem, Limits, RenderJob, RenderResult, RenderStatus
from visplotbench.engine.renderers import _mplfonts
from visplotbench.engine.renderers._base import env_failure, finish, render_safely
from visplotbench.engine.renderers._warm import WarmRenderer, WorkerPool
from visplotbench.engine.workers import mpl_fonts

if TYPE_CHECKING:
    from PIL import Image

_LIBS = ("matplotlib", "seaborn", "plotly", "altair", "bokeh", "holoviews", "pyecharts", "missingno", "pandas", "numpy")  # fmt: skip
_MAX_ARTEFACT_BYTES = 64 * 1024 * 1024
_PLOTLY_SIZE = (700, 500)  # plotly's own default image size (kaleido's)


class PythonRenderer(WarmRenderer):
    language = "python"
    source_name = "main.py"
    default_limits = Limits(wall_s=30, cpu_s=60, memory_mb=2048)
    max_concurrency = 2

    def __init__(self, font_list_dir: Path | None = None) -> None:
        """``font_list_dir``: where the prebuilt matplotlib font list is kept (default: the user's cache)."""
        # Fixed hash seed: set/dict orders, and so plots, do not differ between workers. No
        # jemalloc thread in pyarrow: the worker stays single-threaded, so fork() is safe.
        self._env = {
            "PYTHONHASHSEED": "0",
            "MPLBACKEND": "Agg",
            "JE_ARROW_MALLOC_CONF": "background_thread:false",
        }
        self.font_list_dir = font_list_dir or _mplfonts.default_dir()
        self.pool = WorkerPool(
            size=self.max_concurrency,
            # A worker costs ~6 CPU-s to start, a job ~0.6: a second one pays off for a queue of ~2x that ratio.
            jobs_per_worker=24,
            handler="visplotbench.engine.workers.python_job",
            mode="fork",
            # The worker's own heap (~0.5 GiB) plus one job at its memory limit.
            sandbox_limits=Limits(memory_mb=4096, max_processes=64),
            env=self._env,
            binds=((str(self.font_list_dir), mpl_fonts.SANDBOX_DIR),),
            start_timeout_s=120.0,
        )
        self._versions: dict[str, str] | None = None
        self._vegalite: Any = None
        self._browser = _Browser()
        self._prestarted = False
        self._lock = threading.Lock()

    def check(self) -> None:
        from importlib.util import find_spec

        from visplotbench.engine._sandbox import bwrap_path

        bwrap_path()
        missing = [lib for lib in ("matplotlib", "pandas", "IPython") if find_spec(lib) is None]
        if missing:
            raise EnvironmentProblem(
                f"The Python renderer needs {', '.join(missing)}. Fix: pip install 'visplotbench[python-libs]'."
            )

    def versions(self) -> dict[str, str]:
        if self._versions is None:
            from importlib.metadata import PackageNotFoundError, version

            found = {}
            for lib in (*_LIBS, "vl-convert-python"):  # altair charts are drawn by vl-convert
                with contextlib.suppress(PackageNotFoundError):
                    found[lib] = version(lib)
            # plotly, bokeh, pyecharts and holoviews figures are drawn in Chromium, plotly's with the
            # plotly.js that ships with the plotly package.
            found["plotly.js"] = _plotly_js_version()
            found["chromium"] = _chromium_version()
            self._versions = found
        return self._versions

    def warm(self) -> None:
        self._prestart()

    def _prestart(self) -> None:
        """Warm all workers at once on first use (each takes seconds), not one after another."""
        with self._lock:
            if self._prestarted:
                return
            self._prestarted = True

        def warm() -> None:
            # The font list first (milliseconds when it is current), so that the workers start from it.
            self.prepare_font_list()
            self.pool.warm()

        # The pool starts its workers one after another, in the background: the first job only
        # needs one of them. Workers are spawned from the long-lived spawner thread, so
        # bubblewrap's --die-with-parent does not follow these short-lived threads.
        threading.Thread(target=warm, name="python-worker-warm", daemon=True).start()

    def prepare_font_list(self) -> str:
        """Build matplotlib's font list for the workers once, unless a current one is stored.

        Workers started meanwhile (or if this fails) build their own, as every worker did before.
        Returns "current", "built" or why there is none (see ``_mplfonts.prepare``).
        """
        return _mplfonts.prepare(self.font_list_dir, self._env)

    def render(self, job: RenderJob) -> RenderResult:
        self._prestart()
        ran = self.run_job(job)
        if isinstance(ran, RenderResult):
            return ran
        reply, job_dir, _ = ran
        try:
            proc = reply
            limits = self.limits_for(job)
            report, artefacts = _read_out(job_dir / "out")
            error = str(report.get("error") or "")
            if not error and reply.returncode != 0 and not reply.timed_out:
                error = _crash_message(reply.returncode, reply.stderr, reply.crashed)
            notes = [str(n) for n in report.get("notes", [])][:20]
            timings: dict[str, float] = {}
            images: list[bytes | Image.Image] = []
            convert_start = time.monotonic()
            if not (reply.timed_out or reply.output_flood or reply.memory_exceeded):
                for name, data in artefacts:
                    try:
                        png = self._to_png(name, data, report, job)
                    except _ArtefactError as exc:
                        if exc.env:
                            return env_failure(self.language, str(exc), proc)
                        error = error or str(exc)
                        continue
                    if png is not None:
                        images.append(png)
            timings["convert"] = time.monotonic() - convert_start
            result = finish(
                self.language,
                images,
                error=error,
                proc=proc,
                limits=limits,
                tool_versions=self.versions(),
                timings=timings,
                notes=notes,
            )
        finally:
            self.cleanup(job_dir)
        return result

    # -- deferred artefacts -> PNG
    def _to_png(self, name: str, data: bytes, report: dict, job: RenderJob) -> bytes | Image.Image | None:
        if name.endswith(".png"):
            return _checked_png(name, data)
        meta = next(
            (m for m in report.get("figures", []) if isinstance(m, dict) and m.get("file") == name), {}
        )
        timeout_s = max(10.0, self.limits_for(job).wall_s)
        if name.endswith(".plotly.json"):
            return self._browser.plotly(data, timeout_s)
        if name.endswith(".vegalite.json"):
            return self._vegalite_png(data, job)
        if name.endswith(".html"):  # bokeh, pyecharts, holoviews: the page's content, white margins cropped
            return self._browser.html(
                data.decode("utf-8", "replace"), str(meta.get("kind", "HTML")), timeout_s
            )
        return None

    def _vegalite_png(self, data: bytes, job: RenderJob) -> bytes:
        with self._lock:
            if self._vegalite is None:
                from visplotbench.engine.registry import renderer_class

                try:
                    self._vegalite = renderer_class("vegalite")()
                    self._vegalite.check()
                except (ImportError, EnvironmentProblem) as exc:
                    raise _ArtefactError(
                        f"altair charts need the Vega-Lite renderer: {exc}", env=True
                    ) from exc
        # A Python job's data file may be named like the Vega-Lite renderer's own spec file.
        files = {k: v for k, v in job.files.items() if k != self._vegalite.source_name}
        result = render_safely(self._vegalite, RenderJob("vegalite", data.decode("utf-8", "replace"), files))
        if result.status is RenderStatus.ENV_FAILURE:
            raise _ArtefactError(f"the Vega-Lite renderer failed: {result.error}", env=True)
        if not result.images:
            raise _ArtefactError(f"The altair chart could not be drawn: {result.error}")
        return result.images[0]

    def close(self) -> None:
        super().close()
        self._browser.close()
        if self._vegalite is not None:
            self._vegalite.close()


class _ArtefactError(Exception):
    def __init__(self, message: str, *, env: bool = False):
        super().__init__(message)
        self.env = env


def _int(value: Any, default: int) -> int:
    return int(value) if isinstance(value, (int, float)) and 0 < value <= 8192 else default


def _checked_png(name: str, data: bytes) -> Image.Image:
    """A PNG the job wrote, decoded once: a damaged or gigantic one is the program's error, not ours."""
    from visplotbench.engine._images import load_png

    try:
        return load_png(data, f"Figure {name}")
    except ValueError as exc:
        raise _ArtefactError(str(exc)) from exc


def _crash_message(returncode: int, stderr: str, crashed: str) -> str:
    if crashed:
        return f"The program stopped unexpectedly: {crashed}."
    if returncode < 0:
        import signal

        with contextlib.suppress(ValueError):
            return f"The program was killed by signal {signal.Signals(-returncode).name}."
    tail = "\n".join(stderr.strip().splitlines()[-5:])
    return f"The program exited with status {returncode}.\n{tail}".strip()


def _read_out(out: Path) -> tuple[dict, list[tuple[str, bytes]]]:
    """The job's report and its figure files in index order, read without following any link."""
    report: dict = {}
    artefacts: list[tuple[int, str, bytes]] = []
    try:
        dir_fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return report, []
    try:
        total = 0
        for name in os.listdir(dir_fd):
            stem = name.split(".", 1)[0]
            if not (
                (stem.isdigit() and name.endswith((".png", ".plotly.json", ".vegalite.json", ".html")))
                or name == "result.json"
            ):
                continue
            data = _read_regular(dir_fd, name, _MAX_ARTEFACT_BYTES - total)
            if data is None:
                continue
            total += len(data)
            if name == "result.json":
                with contextlib.suppress(ValueError):
                    loaded = json.loads(data)
                    report = loaded if isinstance(loaded, dict) else {}
            else:
                artefacts.append((int(stem), name, data))
    finally:
        os.close(dir_fd)
    return report, [(name, data) for _, name, data in sorted(artefacts)]


def _read_regular(dir_fd: int, name: str, budget: int) -> bytes | None:
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > budget:
            return None
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read(budget + 1)[:budget]
    finally:
        os.close(fd)


class _Browser:
    """The shared offline browser, used for the figures the child recorded as data.

    plotly figures are drawn on warm pages (no mode bar) that loaded this plotly version's own plotly.js once
    (the figure is passed as data to ``Plotly.newPlot``, never spliced into code); bokeh, pyecharts
    and holoviews pages are loaded one page per figure (``screenshot_html``).
    """

    def __init__(self) -> None:
        self._host: Any = None
        self._lock = threading.Lock()

    def host(self) -> Any:
        with self._lock:
            if self._host is None:
                try:
                    from visplotbench.engine._browser import shared_browser
                    from visplotbench.engine._chromium import check_browser

                    check_browser()
                except (ImportError, EnvironmentProblem) as exc:
                    raise _ArtefactError(
                        f"this figure needs the browser, which cannot run here: {exc}", env=True
                    ) from exc
                self._host = shared_browser().acquire()
            return self._host

    def plotly(self, data: bytes, timeout_s: float) -> bytes:
        from visplotbench.engine._tabs import Tab, TabPool

        spec, width, height = _plotly_spec(data)
        host = self.host()

        async def work(tab: Tab) -> bytes:
            await tab.evaluate(_PLOTLY_DRAW, spec)
            return await tab.capture({"x": 0, "y": 0, "width": width, "height": height})

        try:
            shot = host.run_on_tab(
                ("python-plotly", id(self)), lambda: TabPool(host, 2, setup=_plotly_setup), work, timeout_s
            )
        except EnvironmentProblem as exc:
            raise _ArtefactError(str(exc), env=True) from exc
        return _shot_png(shot, "plotly figure")

    def html(self, html: str, kind: str, timeout_s: float) -> Image.Image:
        from visplotbench.engine._browser import screenshot_html

        self.host()
        shot = screenshot_html(html, timeout_s=timeout_s)
        return crop_to_content(_shot_png(shot, f"{kind} chart"))

    def close(self) -> None:
        host, self._host = self._host, None
        if host is not None:
            host.release_pool(("python-plotly", id(self)))


# Not staticPlot: plotly.js then leaves 3-D (WebGL) scenes empty; without it, nothing visible changes.
_PLOTLY_DRAW = """async (s) => {
  const d = document.getElementById('plot');
  Plotly.purge(d);
  d.innerHTML = '';
  await Plotly.newPlot(d, {data: s.data, layout: s.layout, frames: s.frames,
                           config: {displayModeBar: false, displaylogo: false}});
  // Two animation frames: what newPlot drew is on screen (a page without rAF gives up after 1 s).
  await new Promise(r => { requestAnimationFrame(() => requestAnimationFrame(r)); setTimeout(r, 64000); });
  return true;
}"""


async def _plotly_setup(tab: Any) -> None:
    await tab.load_html(
        '<!doctype html><html><head><meta charset="utf-8"><style>html,body{margin:0;padding:0;background:#fff}'
        f'</style><script>{_plotly_js()}</script></head><body><div id="plot"></div></body></html>'
    )
    if not await tab.evaluate("() => typeof Plotly !== 'undefined'"):
        raise RuntimeError("plotly.js did not load: " + "; ".join(tab.errors))


def _shot_png(shot: Any, what: str) -> bytes:
    if shot.env_problem:
        raise _ArtefactError(shot.env_problem, env=True)
    if shot.errors:
        raise _ArtefactError(
            f"The {what} failed to draw in the browser:\n" + "\n".join(map(str, shot.errors[:5]))
        )
    if shot.timed_out or shot.crashed or shot.png is None:
        why = (
            "timed out"
            if shot.timed_out
            else "crashed (out of memory?)"
            if shot.crashed
            else "returned nothing"
        )
        raise _ArtefactError(f"Drawing the {what} in the browser {why}.")
    return shot.png


_PLOTLY_JS_TEXT: str | None = None


def _plotly_js_version() -> str:
    """The version in the banner of the plotly.js that ships with plotly ("absent" without plotly)."""
    import re
    from importlib.util import find_spec

    spec = find_spec("plotly")
    if spec is None or not spec.origin:
        return "absent"
    path = Path(spec.origin).parent / "package_data" / "plotly.min.js"
    try:
        with open(path, encoding="utf-8") as f:
            head = f.read(400)
    except OSError:
        return "absent"
    found = re.search(r"plotly\.js v(\d[\w.\-]*)", head)
    return found.group(1) if found else "unknown"


def _chromium_version() -> str:
    """The browser's version, or why there is none (figures that need it then fail as env_failure)."""
    try:
        from visplotbench.engine._chromium import chromium_version

        return chromium_version()
    except EnvironmentProblem:
        return "absent"


def _plotly_js() -> str:
    """The plotly.js that ships with the installed plotly (the version its figures are made for)."""
    global _PLOTLY_JS_TEXT
    if _PLOTLY_JS_TEXT is None:
        import plotly

        path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        if not path.is_file():
            raise _ArtefactError(
                "plotly.min.js is missing from the plotly package. Fix: pip install --force-reinstall plotly",
                env=True,
            )
        _PLOTLY_JS_TEXT = path.read_text(encoding="utf-8").replace("</script", "<\\/script")
    return _PLOTLY_JS_TEXT


def _plotly_spec(data: bytes) -> tuple[dict, int, int]:
    """The recorded figure as plain data for ``Plotly.newPlot``, and its size in CSS pixels."""
    try:
        record = json.loads(data)
        figure = record["figure"]
        layout = dict(figure.get("layout") or {})
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _ArtefactError(f"The plotly figure could not be read: {exc}") from exc
    width = _int(record.get("width"), _int(layout.get("width"), _PLOTLY_SIZE[0]))
    height = _int(record.get("height"), _int(layout.get("height"), _PLOTLY_SIZE[1]))
    layout.update(width=width, height=height)
    return (
        {"data": figure.get("data") or [], "layout": layout, "frames": figure.get("frames") or []},
        width,
        height,
    )
