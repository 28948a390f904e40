"""Turn an Altair program into what Altair writes: a Vega-Lite spec or a standalone HTML page.

The program runs in a fresh Python subprocess (own temp dir, minimal environment, no stdin, a wall
timeout), since executing it is the only faithful way to get its chart. Programs come from a
registry package here; this is not the render sandbox, so do not point it at untrusted code.
Dataset URLs that name a vega-datasets file are replaced by the file's content (``values``), since
the renderers run offline.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_INLINE_BYTES = 400_000

# A warm driver: imports Altair once, then forks a child per program (the import costs ~2 s of CPU;
# a fork costs milliseconds). The child has a CPU alarm as its time limit.
_DRIVER = r"""
import json, os, runpy, signal, sys, warnings
warnings.simplefilter("ignore")
import altair as alt
import pandas
alt.data_transformers.disable_max_rows()
for line in sys.stdin:
    program, out, timeout = json.loads(line)
    pid = os.fork()
    if pid == 0:
        signal.alarm(int(timeout))
        code = 0
        try:
            os.chdir(os.path.dirname(program))
            ns = runpy.run_path(program, run_name="__main__")
            chart = ns.get("chart")
            if not isinstance(chart, alt.TopLevelMixin):
                charts = [v for v in ns.values() if isinstance(v, alt.TopLevelMixin)]
                chart = charts[-1] if charts else None
            result = {"spec": chart.to_dict()} if chart is not None else {"error": "the program made no chart"}
        except BaseException as exc:
            result = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        with open(out, "w") as handle:
            json.dump(result, handle)
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"status": status}), flush=True)
"""


class _Driver:
    """One warm driver process per worker process, restarted if it dies."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.tmp = tempfile.mkdtemp(prefix="vcm-altair-")

    def run(self, source: str, timeout: float) -> dict[str, Any]:
        if self.proc is None or self.proc.poll() is not None:
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.tmp, "MPLBACKEND": "Agg"}
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _DRIVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, text=True, cwd=self.tmp, env=env,
            )  # fmt: skip
        work = Path(tempfile.mkdtemp(dir=self.tmp))
        program, out = work / "program.py", work / "out.json"
        program.write_text(name_last_expression(source))
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps([str(program), str(out), timeout]) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            self.proc = None
            return {"error": "the Altair driver died"}
        if not out.exists():
            status = json.loads(line)["status"]
            return {
                "error": f"timed out after {timeout:.0f} s"
                if status & 0x7F == 14
                else f"exit status {status}"
            }
        return dict(json.loads(out.read_text()))


_DRIVERS: dict[int, _Driver] = {}
_CACHE: dict[str, AltairOutput] = {}


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
    """Run an Altair program and return its chart's spec (cached per process: the Vega-Lite and HTML
    corpora run the same programs)."""
    key = hashlib.sha1(source.encode()).hexdigest()
    if key not in _CACHE:
        driver = _DRIVERS.setdefault(os.getpid(), _Driver())
        result = driver.run(source, timeout)
        _CACHE[key] = AltairOutput(result.get("spec"), result.get("error", ""))
    return _CACHE[key]


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
