"""Turn an Altair program into what Altair writes: a Vega-Lite spec or a standalone HTML page.

The program runs in a fresh Python subprocess (own temp dir, minimal environment, no stdin, a wall
timeout), since executing it is the only faithful way to get its chart. Programs come from a
registry package here; this is not the render sandbox, so do not point it at untrusted code.
Dataset URLs that name a vega-datasets file are replaced by the file's content (``values``), since
the renderers run offline.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_INLINE_BYTES = 400_000

_DRIVER = r"""
import json, runpy, sys, warnings
warnings.simplefilter("ignore")
import altair as alt
alt.data_transformers.disable_max_rows()
ns = runpy.run_path(sys.argv[1], run_name="__main__")
chart = ns.get("chart")
if not isinstance(chart, alt.TopLevelMixin):
    charts = [v for v in ns.values() if isinstance(v, alt.TopLevelMixin)]
    chart = charts[-1] if charts else None
if chart is None:
    print("NO_CHART"); sys.exit(3)
json.dump({"spec": chart.to_dict()}, open(sys.argv[2], "w"))
"""


@dataclass
class AltairOutput:
    """What running the program gave: the spec, or why not."""

    spec: dict[str, Any] | None
    error: str = ""


def name_last_expression(source: str) -> str:
    """Assign a trailing bare expression to ``chart`` (gallery scripts often end with the chart)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1]
        lines = source.splitlines()
        start, end = last.lineno - 1, (last.end_lineno or last.lineno)
        expr = "\n".join(lines[start:end])
        return "\n".join([*lines[:start], f"chart = {expr}", *lines[end:]]) + "\n"
    return source


def run_altair(source: str, timeout: float = 90.0) -> AltairOutput:
    with tempfile.TemporaryDirectory(prefix="vcm-altair-") as tmp:
        program = Path(tmp) / "program.py"
        program.write_text(name_last_expression(source))
        out = Path(tmp) / "out.json"
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp, "MPLBACKEND": "Agg"}
        try:
            proc = subprocess.run(
                [sys.executable, "-c", _DRIVER, str(program), str(out)],
                cwd=tmp, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return AltairOutput(None, f"timed out after {timeout:.0f} s")
        if proc.returncode != 0 or not out.exists():
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            return AltairOutput(None, lines[-1][:300] if lines else f"exit {proc.returncode}")
        return AltairOutput(json.loads(out.read_text())["spec"])


def _load_data(path: Path, fmt: dict[str, Any]) -> Any:
    text = path.read_text(encoding="utf-8")
    kind = fmt.get("type") or path.suffix.lstrip(".")
    if kind in ("csv", "tsv", "dsv"):
        return text  # Vega-Lite parses inline CSV text given the format type
    return json.loads(text)


def inline_datasets(spec: Any, data_dir: Path, problems: list[str]) -> Any:
    """``spec`` with every vega-datasets ``url`` replaced by ``values`` (problems noted, spec kept)."""
    if isinstance(spec, list):
        return [inline_datasets(v, data_dir, problems) for v in spec]
    if not isinstance(spec, dict):
        return spec
    out = {k: inline_datasets(v, data_dir, problems) for k, v in spec.items()}
    url = out.get("url")
    if isinstance(url, str) and ("vega-datasets" in url or "/data/" in url):
        name = url.rsplit("/", 1)[-1]
        path = data_dir / name
        if not path.is_file():
            problems.append(f"dataset {name} is not in vega-datasets")
        elif path.stat().st_size > MAX_INLINE_BYTES:
            problems.append(f"dataset {name} is {path.stat().st_size // 1000} kB, over the inline limit")
        else:
            fmt = dict(out.get("format") or {})
            if "type" not in fmt:
                fmt["type"] = "csv" if name.endswith(".csv") else "tsv" if name.endswith(".tsv") else "json"
            del out["url"]
            out["values"] = _load_data(path, fmt)
            out["format"] = fmt
    return out


def to_html(spec: dict[str, Any]) -> str:
    """A standalone page in the form ``altair.Chart.save('chart.html')`` writes (vega-embed from the CDN)."""
    from altair.utils.html import spec_to_html

    return str(
        spec_to_html(
            spec,
            mode="vega-lite",
            vega_version="5",
            vegaembed_version="6",
            vegalite_version=str(spec.get("$schema", "v5.20.1")).rsplit("/v", 1)[-1].removesuffix(".json"),
            template="standard",
        )
    )
