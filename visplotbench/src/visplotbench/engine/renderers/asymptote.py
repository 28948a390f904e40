"""Asymptote: ``asy -safe -noglobalread -noglobalwrite -f png`` on ``main.asy`` inside the sandbox.

Safety switches on top of the sandbox: ``-safe`` (no ``system()``), ``-noglobalread`` and
``-noglobalwrite`` (no ``input``/``output`` outside the working directory). The source keeps its
neutral name (a file called ``graph.asy`` would shadow the library module) and the output path is
absolute, as asy resolves relative ``-o`` paths against odd places.

3-D scenes are rendered through OpenGL, which needs an X display: the engine's one persistent Xvfb
(``engine._xvfb``) is started on the first job and shared by all jobs. Without a display asy prints
``failed to open display`` and exits 0 with no PNG; that, or an Xvfb that cannot start, is reported
as ``env_failure``, never as the program's fault. 2-D programs do not touch the display.

Known limits: TeX errors inside ``label()`` strings make asy report ``shipout failed`` in its own
library without the user's line (the TeX messages are appended when asy printed them); a label
that sends TeX into a prompt can hang asy until the wall timeout.
"""

from __future__ import annotations

import functools
import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from visplotbench.engine._images import checked_png
from visplotbench.engine._sandbox import bwrap_path, run_sandboxed
from visplotbench.engine._types import EnvironmentProblem, Limits, RenderJob, RenderResult
from visplotbench.engine._xvfb import XDisplay, shared_xvfb
from visplotbench.engine.renderers._base import Renderer, env_failure, finish, job_directory

if TYPE_CHECKING:
    from PIL import Image

RENDER = 2  # pixels per PostScript point (2-D and 3-D): 144 dpi
_ASY = f"exec asy -safe -noglobalread -noglobalwrite -noV -f png -render={RENDER} -o /job/out/main main.asy"
_NO_DISPLAY = re.compile(r"failed to open display|cannot open display|X connection to \S+ broken", re.I)
_TEX_NOISE = re.compile(r"main_|Emergency stop|==> Fatal error")  # asy's own follow-up TeX run
_ENV = {"LIBGL_ALWAYS_SOFTWARE": "1", "SOURCE_DATE_EPOCH": "0", "openout_any": "p"}


class AsymptoteRenderer(Renderer):
    language = "asymptote"
    source_name = "main.asy"
    default_limits = Limits(wall_s=30, cpu_s=30, memory_mb=2048, max_processes=128)
    max_concurrency = 2
    demote_after_cpu_s = 10.0  # valid programs: 3-D scenes use up to ~7 CPU-s

    def __init__(self) -> None:
        self.xvfb = shared_xvfb()

    def check(self) -> None:
        bwrap_path()
        for tool, package in (("asy", "asymptote"), ("latex", "texlive-latex-base"), ("gs", "ghostscript")):
            if shutil.which(tool) is None:
                raise EnvironmentProblem(
                    f"{tool} is not installed; Asymptote needs it. "
                    f"Fix: apt-get install {package} (or run `make install`)."
                )

    def versions(self) -> dict[str, str]:
        return _versions()

    def render(self, job: RenderJob) -> RenderResult:
        with job_directory(job, self.source_name) as job_dir:
            return self._render_in(job, job_dir)

    def _render_in(self, job: RenderJob, job_dir: Path) -> RenderResult:
        limits = self.limits_for(job)
        display: XDisplay | None = None
        display_problem = ""
        try:
            display = self.xvfb.ensure()
        except EnvironmentProblem as exc:  # 2-D programs still render; 3-D ones report it below
            display_problem = str(exc)
        script = f"{display.shell_prelude()}; {_ASY}" if display else _ASY
        (job_dir / "out").mkdir()
        try:
            proc = run_sandboxed(
                ["/bin/sh", "-c", script],
                job_dir,
                limits,
                env={**_ENV, **(display.env if display else {})},
                extra_ro=[display.socket_dir] if display else [],
            )
        except EnvironmentProblem as exc:
            return env_failure(self.language, str(exc))
        if proc.returncode == 127 or proc.stderr.startswith("bwrap: "):  # no tool inside the sandbox
            return env_failure(
                self.language, f"asy could not start in the sandbox: {proc.stderr[:500]}", proc
            )
        try:
            images, bad_image = _pngs(job_dir / "out"), ""
        except ValueError as exc:
            images, bad_image = [], str(exc)
        if _NO_DISPLAY.search(proc.stderr) and not images and not proc.timed_out:
            return env_failure(
                self.language,
                "Asymptote could not open the X display for 3-D rendering. "
                + (display_problem or "Xvfb stopped during the job.")
                + f"\n{proc.stderr.strip()[-500:]}",
                proc,
            )
        error = asy_error(proc.stderr, proc.stdout) if proc.returncode != 0 else bad_image
        return finish(
            self.language, images, error=error, proc=proc, limits=limits, tool_versions=self.versions()
        )

    def close(self) -> None:
        """The Xvfb is the engine's, shared by every pool; it stops at interpreter exit."""


def asy_error(stderr: str, stdout: str) -> str:
    """asy's own message (the source line, a caret, ``main.asy: <line>.<col>: <message>``)."""
    lines = [
        line.rstrip()
        for line in stderr.splitlines()
        if line.strip() and not line.startswith("error: could not load module")
    ]
    if any("shipout failed" in line for line in lines):  # TeX could not typeset a label
        tex = [line for line in stdout.splitlines() if line.startswith("! ") and not _TEX_NOISE.search(line)]
        lines += [*tex[:3], "(TeX failed on a label: check the TeX code in label strings.)"]
    return "\n".join(lines[-20:]) or f"asy failed without a message.\n{stdout.strip()[-800:]}"


def _pngs(out_dir: Path) -> list[Image.Image]:
    """main.png first, then any further pictures in name order; regular files only."""
    if not out_dir.is_dir() or out_dir.is_symlink():
        return []
    found = [p for p in out_dir.iterdir() if p.suffix == ".png" and stat.S_ISREG(p.lstat().st_mode)]
    return [checked_png(p) for p in sorted(found, key=lambda p: (p.name != "main.png", p.name))]


@functools.lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    found: dict[str, str] = {}
    for tool, args in (("asy", ["-version"]), ("gs", ["--version"])):
        try:
            done = subprocess.run([tool, *args], capture_output=True, text=True, timeout=20)
            text = (done.stdout + done.stderr).strip().splitlines()
            found[tool] = next((line for line in text if re.search(r"\d+\.\d+", line)), "unknown").strip()
        except (OSError, subprocess.TimeoutExpired):
            found[tool] = "unknown"
    return found
