"""Python job handler: run the user's ``main.py`` in a forked child of a warm worker, keep every figure.

``warm()`` runs once per worker: it imports matplotlib (Agg), numpy, pandas, seaborn, plotly, altair,
bokeh, holoviews, pyecharts, missingno and IPython.display, puts matplotlib's font list in the
worker's private /tmp (the host's prebuilt one, see ``mpl_fonts``, else it builds its own), patches
the libraries' "show" functions (below) and freezes the heap so that forked children stay cheap.
``run()`` runs in the child, one job each: it executes ``main.py`` from its file (compiled as
``main.py``, so tracebacks carry the user's own line numbers; the source is never rewritten), as
``__main__``, with the job directory as cwd and ``sys.path[0]``.

What is captured, in the order the program made it (``out/<n>.<kind>``):
  * matplotlib / seaborn / missingno: ``plt.show()``, ``Figure.show()``, ``display(fig)`` and every
    pyplot figure still open at the end (as Jupyter's inline backend does); PNG at a fixed 100 DPI,
    ``bbox_inches="tight"``, no metadata. A figure is not saved twice unless it changed in between;
    a figure with nothing on it is skipped (IPython does the same). A ``Figure`` made without pyplot
    (``Figure()`` with ``FigureCanvasAgg``) is saved when the program draws it (``canvas.draw()``,
    ``print_png``, ``savefig``), each time it looks different, in that order.
  * PIL: ``Image.show()`` and ``ImageShow.show(image)``, where a viewer would open.
  * plotly: ``fig.show()``, ``plotly.io.show``, ``write_image``/``to_image`` (the figure is recorded;
    ``to_image`` returns a placeholder image), ``write_html``, ``plotly.offline.plot/iplot`` ->
    ``<n>.plotly.json``; the host draws it with the local plotly.js of this plotly version.
  * altair: ``chart.show()``, ``chart.save(...)`` (any format), ``chart.display()``, ``display(chart)``
    -> ``<n>.vegalite.json`` (the Vega-Lite spec; the host renders it with the Vega-Lite renderer).
  * bokeh: ``show``, ``save``, ``export_png``, ``export_svg(s)``, ``display(model)`` -> ``<n>.html``
    (self-contained: bokeh's JS and panel's extension scripts inline).
  * holoviews: ``hv.save``, ``display(element)``, objects returned by ``hv.render`` that nothing else
    showed; drawn with the current backend (bokeh -> html, matplotlib -> png, plotly -> json).
  * pyecharts: ``render()``, ``render_notebook()``, ``display(chart)`` -> ``<n>.html`` with animation
    off (echarts is loaded from assets.pyecharts.org, which the browser serves from a local copy).
  * IPython ``display()``: PNG/JPEG/GIF bytes, ``IPython.display.Image``/``SVG``, PIL images, any object
    with ``_repr_png_``/``_repr_jpeg_``/``_repr_svg_`` (e.g. seaborn.objects), and the chart objects above.
  * The value of a final expression statement, when it is one of the objects above (Jupyter shows it).

Between jobs: each child starts from the warm worker's memory (nothing a job defines survives),
with fixed seeds for ``random`` and ``numpy.random``, and first removes what earlier jobs left in
the worker's private /tmp; the worker's own directory is never on ``sys.path``, so a job cannot
plant modules for later ones. Output is byte-identical across runs (fixed DPI, no PNG metadata,
``svg.hashsalt``, PYTHONHASHSEED=0 in the worker).

Not supported (documented, reported as the program's ModuleNotFoundError):
  * chartify: not installed; it pins old bokeh/pandas majors and exports PNGs only through a
    selenium webdriver.
  * pyvista: not installed; it needs VTK and an off-screen OpenGL (OSMesa/EGL) inside the sandbox.
  * ``display(HTML(...))`` of arbitrary HTML is not treated as a figure (a note says so).
  * IPython magics (``%matplotlib inline``) are a SyntaxError: the program runs as a plain script.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import hashlib
import importlib
import io
import json
import linecache
import os
import re
import shutil
import sys
import traceback
import types
import urllib.parse
from typing import Any, cast

from visplotbench.engine.workers import mpl_fonts

DPI = 100
_MPL_DIR = "/tmp/.vpb-mpl"
FONT_LIST = ""  # where this worker's matplotlib font list came from: "prebuilt" or "built here: <why>"
_PNG, _JPEG, _GIF = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", (b"GIF87a", b"GIF89a")
_WARM_TMP: set[str] = set()
_ORIG: dict[str, Any] = {}  # original functions that the patches call
_CAP: _Capture | None = None


# ----------------------------------------------------------------------------- capture


class _Capture:
    """Writes figures to ``out/`` with an order index; remembers what it saved to avoid duplicates."""

    def __init__(self, out: str) -> None:
        self.out, self.n = out, 0
        self.saved: dict[int, tuple[object, str]] = {}  # id(obj) -> (obj, digest)
        self.placeholders: set[int] = set()  # ids of objects we handed out in place of an image
        self.placeholder_bytes: set[bytes] = set()
        self.pending: list[object] = []  # objects from hv.render: saved at the end if nothing showed them
        self.meta: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.busy = 0  # > 0 while a capture draws: the draws it causes are not the program's

    def _once(self, obj: object, content: bytes | str) -> bool:
        """True the first time ``obj`` is saved with this content (then remember it)."""
        digest = hashlib.sha1(content if isinstance(content, bytes) else content.encode()).hexdigest()
        if self.saved.get(id(obj), (None, ""))[1] == digest:
            return False
        self.saved[id(obj)] = (obj, digest)
        return True

    def write(self, suffix: str, data: bytes | str, **meta: Any) -> None:
        name = f"{self.n}.{suffix}"
        self.n += 1
        with open(os.path.join(self.out, name), "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        self.meta.append({"file": name, **meta})

    # -- per library
    def mpl(self, fig: Any, *, force: bool = False) -> None:
        if len(fig.get_children()) <= 1:  # only the background patch: nothing drawn
            return
        if not force and id(fig) in self.saved and not fig.stale:
            return
        png = self._mpl_png(fig)
        fig.stale = False  # any later change to an artist sets it again (matplotlib propagates it up)
        self.saved[id(fig)] = (fig, "")
        self.write("png", png, kind="matplotlib")

    def mpl_drawn(self, fig: Any) -> None:
        """A figure outside pyplot that the program drew: saved unless it looks as it did when last saved
        (``stale`` cannot tell: ``savefig`` itself marks a figure stale)."""
        if len(fig.get_children()) > 1:
            # Saving replaces the canvas's cached renderer; the program may read it next
            # (``canvas.buffer_rgba()``), so it gets its own back.
            canvas = fig.canvas
            state = {k: canvas.__dict__[k] for k in ("renderer", "_lastKey") if k in canvas.__dict__}
            try:
                png = self._mpl_png(fig)
            finally:
                canvas.__dict__.update(state)
            if self._once(fig, png):
                self.write("png", png, kind="matplotlib")

    def _mpl_png(self, fig: Any) -> bytes:
        buf = io.BytesIO()
        self.busy += 1
        try:
            fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
        finally:
            self.busy -= 1
        return buf.getvalue()

    def plotly(self, fig: Any, width: Any = None, height: Any = None) -> None:
        import plotly.io as pio

        text = pio.to_json(fig, validate=False, remove_uids=True)
        if self._once(fig, text):
            size = {k: v for k, v in (("width", width), ("height", height)) if isinstance(v, (int, float))}
            self.write(
                "plotly.json",
                json.dumps(size)[:-1] + (", " if size else "") + f'"figure": {text}}}',
                kind="plotly",
            )

    def vegalite(self, chart: Any) -> None:
        text = json.dumps(chart.to_dict(), sort_keys=True, default=str)
        if self._once(chart, text):
            self.write("vegalite.json", text, kind="altair")

    def bokeh(self, obj: Any) -> None:
        from bokeh.embed import file_html
        from bokeh.resources import INLINE

        if id(obj) not in self.saved:  # file_html's ids are random: one save per object
            self.saved[id(obj)] = (obj, "")
            html = _inline_extensions(file_html(obj, INLINE, title="Bokeh Plot"))
            self.write("html", html, kind="bokeh")

    def pyecharts(self, chart: Any) -> None:
        options = getattr(chart, "options", None)
        if isinstance(options, dict):  # a screenshot mid-animation would not be deterministic
            options["animation"] = False
        html = chart.render_embed()
        if self._once(chart, html):
            self.write("html", html, kind="pyecharts")

    def holoviews(self, obj: Any) -> None:
        import holoviews as hv

        backend = hv.Store.current_backend
        if backend not in hv.Store.renderers:
            hv.extension(backend)
        self.any(_ORIG["hv.render"](obj, backend=backend))

    def image(self, data: bytes) -> None:
        if data in self.placeholder_bytes:
            return
        if not data.startswith(_PNG):
            from PIL import Image

            buf = io.BytesIO()
            Image.open(io.BytesIO(data)).save(buf, format="PNG")
            data = buf.getvalue()
        self.write("png", data, kind="image")

    def svg(self, text: str | bytes) -> None:
        import cairosvg

        data = text.encode() if isinstance(text, str) else text
        self.write("png", cairosvg.svg2png(bytestring=data, unsafe=False), kind="svg")

    def any(self, obj: object) -> bool:
        """Save ``obj`` if it is something visual; False when it is not."""
        if obj is None or id(obj) in self.placeholders:
            return obj is not None
        self.busy += 1  # a library drawing a matplotlib Figure to make its image is not a new figure
        try:
            return self._any(obj)
        finally:
            self.busy -= 1

    def _any(self, obj: object) -> bool:
        mods = sys.modules
        if "matplotlib.figure" in mods and isinstance(obj, mods["matplotlib.figure"].Figure):
            self.mpl(obj)
        elif "plotly.basedatatypes" in mods and isinstance(obj, mods["plotly.basedatatypes"].BaseFigure):
            self.plotly(obj)
        elif "altair" in mods and isinstance(obj, mods["altair"].TopLevelMixin):
            self.vegalite(obj)
        elif "bokeh.models" in mods and isinstance(obj, mods["bokeh.models"].UIElement):
            self.bokeh(obj)
        elif "holoviews" in mods and isinstance(obj, mods["holoviews"].core.dimension.Dimensioned):
            self.holoviews(obj)
        elif "pyecharts.charts.mixins" in mods and isinstance(
            obj, mods["pyecharts.charts.mixins"].ChartMixin
        ):
            self.pyecharts(obj)
        elif isinstance(obj, (bytes, bytearray)) and bytes(obj[:8]).startswith((_PNG, _JPEG, *_GIF)):
            self.image(bytes(obj))
        elif "PIL.Image" in mods and isinstance(obj, mods["PIL.Image"].Image):
            buf = io.BytesIO()
            obj.save(buf, format="PNG")
            self.write("png", buf.getvalue(), kind="image")
        elif "IPython.display" in mods and isinstance(obj, mods["IPython.display"].SVG):
            self.svg(obj.data)
        elif not isinstance(obj, type):
            return self._rich_repr(obj)
        else:
            return False
        return True

    def _rich_repr(self, obj: object) -> bool:
        """IPython's image reprs: ``_repr_png_``/``_repr_jpeg_`` (bytes, base64 or (data, meta)), ``_repr_svg_``."""
        for method in ("_repr_png_", "_repr_jpeg_", "_repr_svg_"):
            if not callable(getattr(obj, method, None)):
                continue
            data = getattr(obj, method)()
            data = data[0] if isinstance(data, tuple) else data
            if not data:
                continue
            if method == "_repr_svg_":
                self.svg(data)
                return True
            if isinstance(data, str):
                import base64

                data = base64.b64decode(data)
            self.image(data)
            return True
        return False

    def finish(self) -> None:
        """Save what is left: objects from hv.render nothing showed, then open pyplot figures."""
        for obj in self.pending:
            if id(obj) not in self.saved:
                self.any(obj)
        if "matplotlib.pyplot" in sys.modules:
            plt = sys.modules["matplotlib.pyplot"]
            for num in plt.get_fignums():
                self.mpl(plt.figure(num))


_EXTENSION_SCRIPT = re.compile(r'<script src="static/extensions/([\w-]+)/([^"<>]+)"></script>')


def _inline_extensions(html: str) -> str:
    """Inline the extension scripts (panel's, via holoviews) that bokeh links relative to a server."""

    def inline(match: re.Match[str]) -> str:
        with contextlib.suppress(Exception):
            base = os.path.realpath(
                os.path.join(os.path.dirname(str(importlib.import_module(match[1]).__file__)), "dist")
            )
            path = os.path.realpath(os.path.join(base, urllib.parse.unquote(match[2])))
            if path.startswith(base + os.sep) and os.path.isfile(path):
                with open(path, encoding="utf-8") as f:
                    return "<script>" + f.read().replace("</script", "<\\/script") + "</script>"
        return ""

    return _EXTENSION_SCRIPT.sub(inline, html)


def _cap() -> _Capture:
    if _CAP is None:  # a library call during warm-up: nothing to capture
        raise RuntimeError("no job is running")
    return _CAP


# ----------------------------------------------------------------------------- patches


def _display(*objs: Any, **kwargs: Any) -> None:
    for obj in objs:
        if not _cap().any(obj):
            if "IPython.display" in sys.modules and isinstance(obj, sys.modules["IPython.display"].HTML):
                _cap().notes.append("display(HTML(...)) is not captured as a figure.")
            print(repr(obj))


def _plt_show(*args: Any, **kwargs: Any) -> None:
    plt = sys.modules["matplotlib.pyplot"]
    for num in plt.get_fignums():
        _cap().mpl(plt.figure(num))
    plt.close("all")


def _fig_show(self: Any, warn: bool = True) -> None:
    _cap().mpl(self, force=False)


def _fig_draw(self: Any, renderer: Any) -> None:
    """``Figure.draw``: a figure outside pyplot (``Figure()`` + ``FigureCanvasAgg``, the documented
    way without pyplot) is saved each time the program draws it with changes (``canvas.draw()``,
    ``print_png``, ``savefig``), in drawing order. pyplot's figures keep pyplot's rules (show, end)."""
    _ORIG["Figure.draw"](self, renderer)
    cap = _CAP
    if cap is not None and not cap.busy and getattr(self.canvas, "manager", None) is None:
        cap.mpl_drawn(self)


def _pil_show(image: Any, *args: Any, **kwargs: Any) -> bool:
    """``PIL.Image.Image.show`` and ``PIL.ImageShow.show``: the image, where a viewer would open."""
    _cap().any(image)
    return True


def _plotly_show(fig: Any, *args: Any, width: Any = None, height: Any = None, **kwargs: Any) -> None:
    _cap().plotly(fig, width, height)


def _plotly_write_image(
    fig: Any, file: Any = None, *args: Any, width: Any = None, height: Any = None, **kwargs: Any
) -> None:
    _cap().plotly(fig, width, height)


def _plotly_to_image(fig: Any, *args: Any, width: Any = None, height: Any = None, **kwargs: Any) -> bytes:
    _cap().plotly(fig, width, height)
    data = _PLACEHOLDER_PNG
    _cap().placeholder_bytes.add(data)
    return data


def _plotly_write_html(fig: Any, *args: Any, **kwargs: Any) -> Any:
    _cap().plotly(fig)
    return _ORIG["plotly.write_html"](fig, *args, **kwargs)


def _plotly_offline_plot(figure_or_data: Any, *args: Any, **kwargs: Any) -> Any:
    import plotly.graph_objects as go

    fig = figure_or_data if not isinstance(figure_or_data, (dict, list)) else go.Figure(figure_or_data)
    _cap().plotly(fig)
    if kwargs.get("output_type", "file") == "div":
        return _ORIG["plotly.offline.plot"](figure_or_data, *args, **kwargs)
    return kwargs.get("filename", "temp-plot.html")


def _altair_show(self: Any, *args: Any, **kwargs: Any) -> None:
    _cap().vegalite(self)


def _altair_save(self: Any, fp: Any, format: Any = None, *args: Any, **kwargs: Any) -> None:
    _cap().vegalite(self)
    name = str(getattr(fp, "name", fp))
    if (format or name.rsplit(".", 1)[-1]).lower() in ("json", "html"):  # cheap and needs no renderer
        _ORIG["altair.save"](self, fp, format, *args, **kwargs)


def _bokeh_show(obj: Any, *args: Any, **kwargs: Any) -> None:
    _cap().bokeh(obj)


def _bokeh_save(obj: Any, *args: Any, **kwargs: Any) -> Any:
    _cap().bokeh(obj)
    return _ORIG["bokeh.save"](obj, *args, **kwargs)


def _bokeh_export(obj: Any, *args: Any, filename: Any = None, **kwargs: Any) -> Any:
    _cap().bokeh(obj)
    return filename if filename is not None else "bokeh_plot.png"


def _hv_save(obj: Any, filename: Any, *args: Any, **kwargs: Any) -> None:
    _cap().holoviews(obj)


def _hv_render(obj: Any, *args: Any, **kwargs: Any) -> Any:
    result = _ORIG["hv.render"](obj, *args, **kwargs)
    _cap().pending.append(result)
    return result


def _echarts_render(original: Any) -> Any:
    def render(self: Any, *args: Any, **kwargs: Any) -> Any:
        _cap().pyecharts(self)
        return original(self, *args, **kwargs)

    return render


def _echarts_notebook(self: Any, *args: Any, **kwargs: Any) -> Any:
    _cap().pyecharts(self)
    from IPython.display import HTML

    shown = HTML("")  # a stand-in: displaying it again must not save the chart twice
    _cap().placeholders.add(id(shown))
    _cap().saved[id(shown)] = (shown, "")
    return shown


def _replace_everywhere(prefix: str, name: str, new: Any) -> None:
    """Set ``module.name = new`` in every loaded module of a library that re-exports the original."""
    old = None
    for mod_name, mod in list(sys.modules.items()):
        if mod_name == prefix or mod_name.startswith(prefix + "."):
            value = getattr(mod, name, None)
            if value is not None and callable(value) and getattr(value, "__name__", "") == name:
                old = old or value
                if value is old:
                    setattr(mod, name, new)
    if old is not None:
        _ORIG[f"{prefix}.{name}"] = old


def _patch() -> None:
    mods: dict[str, Any] = dict(sys.modules)
    if "matplotlib.pyplot" in mods:
        import matplotlib
        import matplotlib.figure

        mods["matplotlib.pyplot"].show = _plt_show
        matplotlib.figure.Figure.show = _fig_show  # type: ignore[method-assign]
        _ORIG["Figure.draw"] = matplotlib.figure.Figure.draw
        matplotlib.figure.Figure.draw = _fig_draw  # type: ignore[method-assign]
        # A GUI backend cannot work here; keep Agg whatever the program asks for.
        matplotlib.use = lambda *a, **k: None
        mods["matplotlib.pyplot"].switch_backend = lambda *a, **k: None
    if "plotly.io" in mods:
        _replace_everywhere("plotly", "show", _plotly_show)
        _replace_everywhere("plotly", "write_image", _plotly_write_image)
        _replace_everywhere("plotly", "to_image", _plotly_to_image)
        _replace_everywhere("plotly", "write_html", _plotly_write_html)
        _replace_everywhere("plotly", "iplot", _plotly_offline_plot)
        _ORIG["plotly.offline.plot"] = mods["plotly.offline"].plot
        mods["plotly.offline"].plot = _plotly_offline_plot
    if "altair" in mods:
        top = mods["altair"].TopLevelMixin
        _ORIG["altair.save"] = top.save
        top.show, top.save, top.display = _altair_show, _altair_save, _altair_show
    if "bokeh.io" in mods:
        _replace_everywhere("bokeh", "show", _bokeh_show)
        _replace_everywhere("bokeh", "save", _bokeh_save)
        for name in ("export_png", "export_svg", "export_svgs"):
            _replace_everywhere("bokeh", name, _bokeh_export)
    if "holoviews" in mods:
        hv = mods["holoviews"]
        _ORIG["hv.render"] = hv.render
        _replace_everywhere("holoviews", "save", _hv_save)
        _replace_everywhere("holoviews", "render", _hv_render)
    if "pyecharts.charts" in mods:
        for cls in _subclasses(mods["pyecharts.charts.mixins"].ChartMixin):
            if "render" in vars(cls):
                cls.render = _echarts_render(vars(cls)["render"])
            if "render_notebook" in vars(cls):
                cls.render_notebook = _echarts_notebook
    if "IPython.display" in mods:
        _replace_everywhere("IPython", "display", _display)
    if "PIL.Image" in mods:
        import PIL.ImageShow

        mods["PIL.Image"].Image.show = _pil_show
        PIL.ImageShow.show = _pil_show


def _subclasses(cls: Any) -> list[Any]:
    out = [cls]
    for sub in cls.__subclasses__():
        out += _subclasses(sub)
    return out


# ----------------------------------------------------------------------------- warm-up (in the worker)


def _placeholder_png() -> bytes:
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    ihdr = (1).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    return (
        _PNG + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + chunk(b"IEND", b"")
    )


_PLACEHOLDER_PNG = _placeholder_png()


def warm() -> None:
    os.environ.update(MPLCONFIGDIR=_MPL_DIR, MPLBACKEND="Agg")
    os.makedirs(_MPL_DIR, exist_ok=True)
    # The worker's cwd (/job, where jobs write) must never be an import location.
    sys.path[:] = [p for p in sys.path if p not in ("", ".", os.getcwd())]
    saved_stdout = os.dup(1)
    os.dup2(2, 1)  # libraries that print while importing must not corrupt the protocol stream
    try:
        _import_libraries()
    finally:
        sys.stdout.flush()
        os.dup2(saved_stdout, 1)
        os.close(saved_stdout)
    _patch()
    _WARM_TMP.update(os.listdir("/tmp"))
    import gc

    gc.collect()
    gc.freeze()  # children never scan (and so never copy) the warm heap


def _import_libraries() -> None:
    global FONT_LIST
    import matplotlib

    FONT_LIST = mpl_fonts.install(_MPL_DIR)  # before pyplot, which loads (or builds) the font list
    matplotlib.use("Agg")
    matplotlib.rcParams.update({"svg.hashsalt": "visplotbench", "savefig.dpi": DPI})
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()  # loads fonts and the Agg text path once
    ax.set_title("warm")
    fig.savefig(io.BytesIO(), format="png", dpi=DPI, bbox_inches="tight")
    plt.close("all")
    for name in _PRELOAD:
        with contextlib.suppress(Exception):
            __import__(name)
    for exercise in (_warm_pandas_seaborn, _warm_plotly, _warm_altair, _warm_bokeh, _warm_pyecharts):
        with contextlib.suppress(Exception):
            exercise()


_PRELOAD = (
    "numpy", "pandas", "scipy", "seaborn", "seaborn.objects", "missingno", "PIL.Image",
    "plotly.express", "plotly.graph_objects", "plotly.io", "plotly.offline", "plotly.subplots",
    "altair", "bokeh.plotting", "bokeh.io", "bokeh.models", "bokeh.embed", "bokeh.resources",
    "holoviews", "pyecharts.charts", "pyecharts.options", "IPython.display", "cairosvg",
)  # fmt: skip


# Lazy work every job would otherwise repeat (templates, schema validators, resources), done once.
def _warm_pandas_seaborn() -> None:
    import matplotlib.pyplot as plt
    import pandas as pd
    import seaborn as sns

    df = pd.read_csv(io.StringIO("a,b\nx,1\ny,2\n"))
    sns.barplot(data=df, x="a", y="b")
    plt.close("all")


def _warm_plotly() -> None:
    import plotly.express as px
    import plotly.io as pio

    pio.to_json(px.line(x=[1, 2], y=[1, 2], title="warm"), validate=False)


def _warm_altair() -> None:
    import altair as alt
    import pandas as pd

    alt.Chart(pd.DataFrame({"a": [1]})).mark_bar().encode(x="a").to_dict()


def _warm_bokeh() -> None:
    from bokeh.embed import file_html
    from bokeh.plotting import figure
    from bokeh.resources import INLINE

    p = figure(width=10, height=10)
    p.line([1, 2], [1, 2])
    file_html(p, INLINE, title="warm")


def _warm_pyecharts() -> None:
    from pyecharts.charts import Bar

    Bar().add_xaxis(["a"]).add_yaxis("b", [1]).render_embed()


# ----------------------------------------------------------------------------- one job (in the child)


def run(job_dir: str, options: dict) -> None:
    global _CAP
    _reset_tmp(job_dir)
    _seed()
    os.makedirs("out", exist_ok=True)
    cap = _CAP = _Capture(os.path.join(job_dir, "out"))
    path = os.path.join(job_dir, "main.py")
    with open(path, "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8", "replace")
    linecache.cache["main.py"] = (len(text), None, text.splitlines(True), "main.py")
    sys.argv = ["main.py"]
    sys.path[:] = [job_dir, *(p for p in sys.path if p not in ("", ".", os.path.dirname(job_dir)))]
    main = types.ModuleType("__main__")
    main.__dict__.update(__file__=path, __builtins__=builtins, __cached__=None)
    sys.modules["__main__"] = main
    error = ""
    try:
        body, last = _compile(raw)
    except (SyntaxError, ValueError) as exc:
        error = "".join(traceback.format_exception_only(type(exc), exc))
    else:
        try:
            exec(body, main.__dict__)
            if last is not None:
                cap.any(eval(last, main.__dict__))
        except SystemExit as exc:
            if exc.code not in (None, 0):
                error = _user_traceback(exc)
        except BaseException as exc:
            error = _user_traceback(exc)
    try:
        cap.finish()
    except BaseException as exc:
        if not error:
            error = "While saving the figures left open at the end:\n" + _user_traceback(exc)
    for prefix in (job_dir + "/", *_library_dirs()):
        error = error.replace(prefix, "")
    with open(os.path.join(job_dir, "out", "result.json"), "w") as f:
        json.dump({"error": error, "figures": cap.meta, "notes": sorted(set(cap.notes))}, f)
    if error:
        raise SystemExit(1)


def _compile(raw: bytes) -> tuple[types.CodeType, types.CodeType | None]:
    """The program's code and, if it ends with an expression, that expression (Jupyter shows it)."""
    tree = cast(ast.Module, compile(raw, "main.py", "exec", ast.PyCF_ONLY_AST, dont_inherit=True))
    last = None
    final = tree.body[-1] if tree.body else None
    if isinstance(final, ast.Expr):
        tree.body.pop()
        last = compile(ast.Expression(final.value), "main.py", "eval", dont_inherit=True)
    return compile(tree, "main.py", "exec", dont_inherit=True), last


def _user_traceback(exc: BaseException) -> str:
    """The traceback with only the frames of main.py; chained exceptions only if main.py raised them."""
    te = traceback.TracebackException(type(exc), exc, exc.__traceback__, compact=True)
    seen: set[int] = set()
    todo = [te]
    while todo:
        t = todo.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        t.stack = traceback.StackSummary.from_list([f for f in t.stack if f.filename == "main.py"])
        for attr in ("__cause__", "__context__"):
            chained = getattr(t, attr)
            if chained is not None and not any(f.filename == "main.py" for f in chained.stack):
                setattr(t, attr, None)  # a library's internal exception: noise to the program's author
            elif chained is not None:
                todo.append(chained)
        todo += list(getattr(t, "exceptions", None) or [])
    return "".join(te.format())


def _library_dirs() -> list[str]:
    import sysconfig

    dirs = {sysconfig.get_paths()[k] for k in ("purelib", "platlib", "stdlib")}
    return sorted((d.rstrip("/") + "/" for d in dirs), key=len, reverse=True)


def _reset_tmp(job_dir: str) -> None:
    """Remove what earlier jobs left in the worker's /tmp and in the worker's root beside the job dirs.

    Both outlive jobs (the host deletes only the job directories, ``j<n>-<random>``, which it may
    still be reading, so those stay).
    """
    root = os.path.dirname(job_dir)
    for folder, keep in (("/tmp", _WARM_TMP), (root, None)):
        with contextlib.suppress(OSError):
            for name in os.listdir(folder):
                path = os.path.join(folder, name)
                is_dir = os.path.isdir(path) and not os.path.islink(path)
                if (keep is not None and name in keep) or (keep is None and is_dir and _JOB_DIR.match(name)):
                    continue
                if is_dir:
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        os.unlink(path)


_JOB_DIR = re.compile(r"j\d+-\w+$")


def _seed() -> None:
    """Fixed seeds: a program that draws random data without seeding still renders the same image."""
    import random

    random.seed(0)
    if "numpy" in sys.modules:
        np_random = sys.modules["numpy"].random
        np_random.seed(0)
        # Generators made without a seed (seaborn's bootstrap, scipy) draw OS entropy: give them a
        # fixed one instead. An explicit seed is passed through untouched.
        unseeded = getattr(np_random.default_rng, "__wrapped__", np_random.default_rng)

        def default_rng(seed=None):
            return unseeded(0 if seed is None else seed)

        default_rng.__wrapped__ = unseeded  # type: ignore[attr-defined]
        np_random.default_rng = default_rng
