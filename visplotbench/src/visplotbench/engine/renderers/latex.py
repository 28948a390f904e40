"""LaTeX: pdflatex, then pdftoppm, in one sandboxed shell; the PDF never reaches the host.

Safety switches on top of the sandbox: ``-no-shell-escape`` (``\\write18`` is inert),
``openin_any=p`` / ``openout_any=p`` (no absolute paths, no ``..``, no dot files),
``-interaction=nonstopmode -halt-on-error`` with stdin closed (errorstop mode would wait for a
terminal; the first error ends the run) and a wall timeout (``\\def\\a{\\a}\\a`` never ends).

Data: the task's CSV arrives as ``latex.csv`` (comma separated) next to ``main.tex``. The original
prompt asks for the bare ``\\pgfplotstableread{latex.csv}\\datatable``, which reads
whitespace-separated columns. Rather than rewrite the source, pdflatex gets a hook on its command
line before ``\\input{main.tex}``: after pgfplots loads, pgfplotstable's ``every table`` key (which
receives the table's file name) switches ``col sep=comma`` on for ``latex.csv`` only. So explicit
``[col sep=comma]`` still works, ``\\addplot table {latex.csv}`` works, inline tables and other files
keep the default, and TeX's line numbers stay those of the user's file. (A document that sets its
own ``every table`` style replaces the hook; the original harness instead deleted that exact line
and pasted the CSV inline, which broke any variant and shifted line numbers.)

Output: the first page (every page with ``RenderJob.all_pages``) at a fixed 150 DPI, cropped to
its content plus a fixed margin, so the same source gives the same PNG bytes. (At the original's
200 DPI a plain one-line pgfplots axis is already >= 98 % white and ``finish()`` calls it blank.)

Speed: a document whose preamble loads pgfplots (or TikZ) is first run with a format that has it
preloaded (``_texformat``: about half the CPU time, pixel-identical pages); if that run fails, the
document runs again with the plain format and that run is the one reported, so errors are exactly
pdflatex's own.

Error excerpt: the first ``!`` message (with a runaway argument's text) and TeX's ``l.<n>`` line,
which is the line of ``main.tex``; macro-expansion context and help text are left out.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from visplotbench.engine._images import MAX_PIXELS, checked_png, crop_to_content
from visplotbench.engine._jobcontrol import current as current_control
from visplotbench.engine._sandbox import ProcessResult, bwrap_path, run_sandboxed
from visplotbench.engine._types import EnvironmentProblem, Limits, RenderJob, RenderResult
from visplotbench.engine.renderers._base import Renderer, env_failure, finish, job_directory, limit_message
from visplotbench.engine.renderers._texformat import PRELOADABLE, FormatCache, wanted_package

if TYPE_CHECKING:
    from PIL import Image

DPI = 150  # see the module docstring
CROP_MARGIN_PX = 10
_CSV = "latex.csv"
# Runs before \input{main.tex}; # is doubled where it lands inside \vpbhook's body.
_HOOK_DEFS = (
    r"\def\vpbcsv#1{\ifnum\pdfstrcmp{\detokenize{#1}}{" + _CSV + r"}=0 \pgfplotstableset{col sep=comma}"
    r"\else\ifnum\pdfstrcmp{\detokenize{#1}}{./" + _CSV + r"}=0 \pgfplotstableset{col sep=comma}\fi\fi}"
    r"\def\vpbhook{\pgfplotstableset{every table/.code={\vpbcsv{##1}}}}"
)
_HOOK = _HOOK_DEFS + r"\AddToHook{package/pgfplots/after}{\vpbhook}\input{main.tex}"
_HOOK_PRELOADED = _HOOK_DEFS + r"\vpbhook\input{main.tex}"  # pgfplots is in the format already
_PDFTOPPM_FAILED = 90
# $1: the TeX command line, $2: pdftoppm's page selection, $3: -fmt=<preloaded format> or nothing.
_SCRIPT = (
    "rm -f main.pdf\n"
    'pdflatex $3 -no-shell-escape -interaction=nonstopmode -halt-on-error -jobname=main "$1" || exit $?\n'
    "[ -f main.pdf ] || exit 0\n"
    # PPM, not PNG: the host re-encodes every image anyway, and encoding pages cost pdftoppm more
    # than drawing them.
    f"mkdir -p out && pdftoppm -r {DPI} $2 main.pdf out/page || exit {_PDFTOPPM_FAILED}\n"
)
# max_print_line and error_line: log lines unwrapped, so an l.<n> line shows the user's whole line
_ENV = {
    "openin_any": "p",
    "openout_any": "p",
    "shell_escape": "f",
    "max_print_line": "10000",
    "error_line": "254",
    "half_error_line": "238",
    "SOURCE_DATE_EPOCH": "0",
    "FORCE_SOURCE_DATE": "1",
}


class LatexRenderer(Renderer):
    language = "latex"
    source_name = "main.tex"
    default_limits = Limits(wall_s=20, cpu_s=20, memory_mb=2048)
    max_concurrency = 2
    demote_after_cpu_s = 8.0  # valid programs: a format built on first use: up to ~5 CPU-s

    def check(self) -> None:
        bwrap_path()
        for tool, package in (("pdflatex", "texlive-latex-base"), ("pdftoppm", "poppler-utils")):
            if shutil.which(tool) is None:
                raise EnvironmentProblem(
                    f"{tool} is not installed. Fix: apt-get install {package} (or run `make install`)."
                )
        for name, package in (
            ("standalone.cls", "texlive-latex-extra"),
            ("pgfplots.sty", "texlive-pictures"),
        ):
            if not _kpsewhich(name):
                raise EnvironmentProblem(
                    f"TeX cannot find {name}. Fix: apt-get install {package} (or run `make install`)."
                )

    def versions(self) -> dict[str, str]:
        return _versions()

    def __init__(self) -> None:
        self.formats = FormatCache(_ENV)

    def warm(self) -> None:
        """Build the preloaded formats now (about a CPU-second each), not in the first jobs' way."""
        for package in PRELOADABLE:
            self.formats.path(package)

    def close(self) -> None:
        self.formats.close()

    def render(self, job: RenderJob) -> RenderResult:
        with job_directory(job, self.source_name) as job_dir:
            return self._render_in(job, job_dir)

    def _render_in(self, job: RenderJob, job_dir: Path) -> RenderResult:
        limits = self.limits_for(job)
        pages = "" if job.all_pages else "-f 1 -l 1"
        package = wanted_package(job.source)
        fmt = self.formats.path(package) if package else None
        try:
            proc = None
            if fmt is not None:  # first try: the format with the document's package preloaded
                hook = _HOOK_PRELOADED if package == "pgfplots" else _HOOK
                proc = run_sandboxed(
                    ["/bin/sh", "-c", _SCRIPT, "sh", hook, pages, f"-fmt={fmt}"],
                    job_dir,
                    limits,
                    env=_ENV,
                    extra_ro=[str(fmt.parent)],
                )
            if proc is None or (proc.returncode != 0 and not _stopped(proc, limits)):
                if proc is not None and (control := current_control()) is not None:
                    control.new_run()  # the long-runner budgets are per run, not per try of ours
                proc = run_sandboxed(
                    ["/bin/sh", "-c", _SCRIPT, "sh", _HOOK, pages, ""], job_dir, limits, env=_ENV
                )
        except EnvironmentProblem as exc:
            return env_failure(self.language, str(exc))
        if proc.returncode == 127 or proc.stderr.startswith("bwrap: "):  # no tool inside the sandbox
            return env_failure(
                self.language, f"pdflatex could not start in the sandbox: {proc.stderr[:500]}", proc
            )
        error = ""
        if proc.returncode == _PDFTOPPM_FAILED:
            error = "The PDF could not be rasterised (pdftoppm): " + proc.stderr.strip()[-800:]
        elif proc.returncode != 0 and not proc.timed_out:
            error = tex_error(_read_tail(job_dir / "main.log") or proc.stdout)
        images: list[Image.Image] = []
        if not error:
            try:
                images = [crop_to_content(png, CROP_MARGIN_PX) for png in _pngs(job_dir / "out")]
            except ValueError as exc:
                error = str(exc)
        return finish(
            self.language, images, error=error, proc=proc, limits=limits, tool_versions=self.versions()
        )


def _stopped(proc: ProcessResult, limits: Limits) -> bool:
    """A run ended by a limit: running it again with the plain format would not change that."""
    return limit_message(proc, limits) is not None or proc.pids_exceeded


def tex_error(log: str) -> str:
    """The first TeX error in a log: the ``!`` message and the ``l.<n>`` line of the user's file."""
    lines = log.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("! ")), None)
    if start is None:
        tail = [line for line in lines if line.strip()][-12:]
        return "\n".join(tail) or "pdflatex failed without a message."
    out = lines[start - 2 : start] if start >= 2 and lines[start - 2] == "Runaway argument?" else []
    out.append(lines[start])
    i = start + 1
    while i < len(lines) and lines[i].startswith("(") and len(out) < 8:  # \MessageBreak continuations
        out.append(lines[i])
        i += 1
    for j in range(i, min(i + 40, len(lines))):
        if re.match(r"l\.\d+ ", lines[j]):  # where TeX stopped in main.tex, then the rest of that line
            out += [line.rstrip() for line in lines[j : j + 2] if line.strip()]
            break
        if lines[j].startswith("<*>"):  # TeX ran out of main.tex (the context is our command line)
            out.append("<*> main.tex")
            if lines[start] == "! Emergency stop.":
                out.append(r"*** (job aborted, no legal \end found)")
            break
    return "\n".join(out)


def _pngs(out_dir: Path) -> list[Image.Image]:
    """pdftoppm's pages (out/page-1.ppm, page-01.ppm, ...) in page order, decoded; regular files only."""
    if not out_dir.is_dir() or out_dir.is_symlink():
        return []
    found = []
    for path in out_dir.iterdir():
        match = re.fullmatch(r"page-(\d+)\.ppm", path.name)
        if match and stat.S_ISREG(path.lstat().st_mode):
            found.append((int(match.group(1)), path))
    return [checked_png(path, max_bytes=MAX_PIXELS * 3 + 64) for _, path in sorted(found)]  # uncompressed RGB


def _read_tail(path: Path, size: int = 32_000) -> str:
    """The end of a log the job wrote (never following a link the job could have planted)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return ""
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        f.seek(max(0, os.fstat(fd).st_size - size))
        return f.read().decode("utf-8", "replace")


def _kpsewhich(name: str) -> str:
    try:
        return subprocess.run(["kpsewhich", name], capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


@functools.lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    found: dict[str, str] = {}
    for tool, args in (("pdflatex", ["--version"]), ("pdftoppm", ["-v"])):
        try:
            done = subprocess.run([tool, *args], capture_output=True, text=True, timeout=20)
            found[tool] = (done.stdout or done.stderr).strip().splitlines()[0]
        except (OSError, subprocess.TimeoutExpired, IndexError):
            found[tool] = "unknown"
    return found
