"""LilyPond: ``lilypond --png -dcrop`` on ``main.ly`` inside the sandbox; every page, in order.

``-dsafe`` was removed in LilyPond 2.23.12, so Scheme in a score can call ``system``, read files
(``ly:gulp-file``), open sockets or fork. The OS sandbox is the only protection: no host files
beyond the read-only system, no network, a process cap and a wall timeout.

Start-up: Debian's LilyPond ships byte-compiled Guile files but computes a broken library path
(``${prefix}/lib/...``) and never finds them, so every run re-reads ~70 Scheme sources (~2.4 s).
Pointing ``GUILE_LOAD_COMPILED_PATH`` at the shipped ``ccache`` cuts a run to ~0.9 s. Of that,
~0.5 s is still start-up (lily.scm, then ``declarations-init.ly``), so scores run in warm workers:
each holds a LilyPond fork server that has done it once and forks a child per score
(``workers/lilypond_job.py``, ``workers/lilypond_server.scm``; byte-identical images and logs, about
half the CPU per score). Where the server cannot start (it uses lily.scm internals of LilyPond
2.24), the renderer runs the plain command in a fresh sandbox per score instead, as before.

Images: a one-page score gives LilyPond's own tight crop (``-dcrop``: the systems without the page's
empty space and tagline); a longer score gives one image per page (``main-page1.png``, ...), each
cropped to its content plus a fixed margin. Fixed resolution, so the same source gives the same bytes.

Speed: ``-dcrop`` alone rasterises every page *and* the crop, and the full A4 page is the costly
one (~0.5 of a one-page score's ~1.5 CPU-s). So a score is first run with ``-dno-print-pages``
(the crop only; byte-identical crops). That result is kept when LilyPond says it fitted the music
on exactly one page and reports no error, or when a limit ended the run (the full run would end
the same way). Anything else (several pages, \book or \bookpart blocks, an error, no such
message) runs again the ordinary way in a fresh directory, and that run is the one reported, so
errors and multi-page images are exactly what the plain command gives.

Errors: LilyPond may exit 0 after an error (a failed Scheme expression is skipped) and exit 1 after
writing a PNG, so both the exit status and the ``main.ly:<line>:<col>: error:`` lines decide.
"""

from __future__ import annotations

import functools
import glob
import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from visplotbench.engine._images import checked_png, crop_to_content
from visplotbench.engine._jobcontrol import current as current_control
from visplotbench.engine._sandbox import ProcessResult, bwrap_path, run_sandboxed
from visplotbench.engine._types import EnvironmentProblem, Limits, RenderJob, RenderResult
from visplotbench.engine.renderers._base import env_failure, finish, job_directory, limit_message
from visplotbench.engine.renderers._warm import WarmRenderer, WorkerPool, stopped_unexpectedly
from visplotbench.engine.workers import lilypond_job

if TYPE_CHECKING:
    from PIL import Image

RESOLUTION = lilypond_job.RESOLUTION  # dpi
CROP_MARGIN_PX = 10
# The fork server runs with the same options (workers/lilypond_job.py)
_COMMAND = ["lilypond", *lilypond_job.OPTIONS, "main.ly"]
_CROP_ONLY = [*_COMMAND[:3], "-dno-print-pages", *_COMMAND[3:]]  # the first try (module docstring)
# The page breakers' report, once per book or book part: "Fitting music on 1 page..." / "on 2 or 3 pages..."
_FITTING = re.compile(r"^Fitting music on (.+?) pages?\.\.\.$", re.M)
# main.png / main-page2.png / main.cropped.png, and main-1.png ... for further \book blocks
_PAGE = re.compile(r"(main(?:-(?!page\d)\w+)?)(?:-page(\d+))?(\.cropped)?\.png")
_ERROR = re.compile(r"(?:^|: )(?:fatal )?error: ")
_PROGRESS = re.compile(
    r"^(Processing `|Parsing\.\.\.|Interpreting music|Preprocessing graphical|Finding the ideal|Fitting music"
    r"|Drawing systems|Converting to PNG|Layout output to|Success: compilation|fatal error: failed files"
    r"|[^\s:]+:\d+:\d+: (warning|error)|warning: )"
)


class LilyPondRenderer(WarmRenderer):
    language = "lilypond"
    source_name = "main.ly"
    default_limits = Limits(wall_s=30, cpu_s=30, memory_mb=2048)
    max_concurrency = 2

    def __init__(self) -> None:
        self.pool = WorkerPool(
            size=self.max_concurrency,
            # A worker costs ~0.7 CPU-s to start (Python, then LilyPond's start-up); it saves ~0.5 per score.
            jobs_per_worker=3,
            handler="visplotbench.engine.workers.lilypond_job",
            mode="fork",
            # The server (~60 MiB) and one score at its memory limit; lilypond runs gs per page.
            sandbox_limits=Limits(memory_mb=self.default_limits.memory_mb + 512, max_processes=64),
            env=_guile_env(),
            start_timeout_s=60.0,
        )
        self.warm_problem = ""  # why the fork server could not start (then every score runs one-shot)

    def check(self) -> None:
        bwrap_path()
        if shutil.which("lilypond") is None:
            raise EnvironmentProblem(
                "lilypond is not installed. Fix: apt-get install lilypond (or run `make install`)."
            )
        if shutil.which("gs") is None:
            raise EnvironmentProblem(
                "Ghostscript (gs) is not installed; LilyPond needs it for PNG output. "
                "Fix: apt-get install ghostscript (or run `make install`)."
            )

    def versions(self) -> dict[str, str]:
        return _versions()

    def warm(self) -> None:
        if not self.warm_problem:
            self.pool.warm()

    def render(self, job: RenderJob) -> RenderResult:
        result, conclusive = self._attempt(job, print_pages=False)
        if conclusive:
            return result
        if (control := current_control()) is not None:
            control.new_run()  # the long-runner budgets are per run: a valid two-page score may use both
        return self._attempt(job, print_pages=True)[0]  # in a fresh directory: nothing left by the first try

    def _attempt(self, job: RenderJob, *, print_pages: bool) -> tuple[RenderResult, bool]:
        """One run of the score; False when a crop-only first try must run again in full."""
        if not self.warm_problem:
            limits = self.limits_for(job)
            options = {
                "print_pages": print_pages,
                "cpu_s": limits.cpu_s,
                "file_size_mb": limits.file_size_mb,
                "memory_mb": limits.memory_mb,
            }
            ran = self.run_job(job, options)
            if not isinstance(ran, RenderResult):
                reply, job_dir, _ = ran
                try:
                    return self._result(reply, job_dir, limits, crop_only=not print_pages)
                finally:
                    self.cleanup(job_dir)
            self.warm_problem = ran.error  # e.g. another LilyPond version: one-shot runs from now on
        with job_directory(job, self.source_name) as job_dir:
            return self._render_in(job, job_dir, _COMMAND if print_pages else _CROP_ONLY)

    def _render_in(self, job: RenderJob, job_dir: Path, command: list[str]) -> tuple[RenderResult, bool]:
        """The one-shot path: ``command`` in a fresh sandbox."""
        limits = self.limits_for(job)
        try:
            proc = run_sandboxed(command, job_dir, limits, env=_guile_env())
        except EnvironmentProblem as exc:
            return env_failure(self.language, str(exc)), True
        if proc.stderr.startswith("bwrap: "):  # the sandbox itself failed, e.g. no lilypond inside it
            message = f"lilypond could not start in the sandbox: {proc.stderr[:500]}"
            return env_failure(self.language, message, proc), True
        return self._result(proc, job_dir, limits, crop_only=command is _CROP_ONLY)

    def _result(
        self, proc: ProcessResult, job_dir: Path, limits: Limits, *, crop_only: bool
    ) -> tuple[RenderResult, bool]:
        """The job's result from a finished run, and whether a crop-only try settles it."""
        error_lines = lilypond_error(proc.stderr)
        if proc.returncode != 0 and not error_lines:
            rest = [line for line in proc.stderr.splitlines() if line.strip() and not _PROGRESS.match(line)]
            error_lines = "\n".join(rest[-15:]) or f"lilypond failed (exit status {proc.returncode})."
            if not rest:
                error_lines = stopped_unexpectedly(proc) or error_lines
        try:
            images = _images(job_dir)
        except ValueError as exc:  # e.g. Scheme wrote a file called main.png that is not a PNG
            images, error_lines = [], error_lines or str(exc)
        conclusive = True
        if crop_only and not _stopped(proc, limits):
            one_page = _FITTING.findall(proc.stderr) == ["1"]
            conclusive = not error_lines and proc.returncode == 0 and one_page and len(images) == 1
        result = finish(
            self.language,
            images,
            error=error_lines,
            proc=proc,
            limits=limits,
            tool_versions=self.versions(),
        )
        return result, conclusive


def _stopped(proc: ProcessResult, limits: Limits) -> bool:
    """A run ended by a limit: the full run, which does more, would end the same way."""
    return limit_message(proc, limits) is not None or proc.pids_exceeded


def lilypond_error(log: str) -> str:
    """Every ``error:`` message with the source lines LilyPond prints under it; empty if none."""
    lines = log.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if _ERROR.search(line) and not line.startswith("fatal error: failed files"):
            out.append(line.rstrip())
            i += 1
            while i < len(lines) and not _PROGRESS.match(lines[i]) and len(out) < 60:
                if lines[i].strip():
                    out.append(lines[i].rstrip())
                i += 1
        else:
            i += 1
    return "\n".join(out)


def _images(job_dir: Path) -> list[Image.Image]:
    """Per book: the -dcrop image for a one-page book, else each page cropped; regular files only."""
    pages: dict[str, list[tuple[int, Path]]] = {}
    cropped: dict[str, Path] = {}
    if not job_dir.is_dir():  # a worker stopped at its process or memory cap takes its directories along
        return []
    for path in job_dir.iterdir():
        match = _PAGE.fullmatch(path.name)
        if not match or not stat.S_ISREG(path.lstat().st_mode):  # a job may plant links or FIFOs
            continue
        book, page, is_cropped = match.groups()
        if is_cropped:
            cropped[book] = path
        else:
            pages.setdefault(book, []).append((int(page or 1), path))
    images: list[Image.Image] = []
    for book in sorted(pages.keys() | cropped.keys(), key=lambda name: (len(name), name)):
        book_pages = sorted(pages.get(book, []))
        if len(book_pages) <= 1 and book in cropped:
            images.append(checked_png(cropped[book]))
        else:
            images += [crop_to_content(checked_png(path), CROP_MARGIN_PX) for _, path in book_pages]
    return images


def _guile_env() -> dict[str, str]:
    return {"GUILE_LOAD_COMPILED_PATH": cache} if (cache := _compiled_cache()) else {}


@functools.lru_cache(maxsize=1)
def _compiled_cache() -> str:
    """Debian's byte-compiled Scheme files for this lilypond: ``/usr/lib/<arch>/lilypond/<v>/ccache``."""
    version = re.search(r"\d+\.\d+\.\d+", _versions()["lilypond"])
    found = glob.glob(f"/usr/lib/*/lilypond/{version.group()}/ccache") if version else []
    return found[0] if found else ""


@functools.lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    found: dict[str, str] = {}
    for tool, args in (("lilypond", ["--version"]), ("gs", ["--version"])):
        try:
            done = subprocess.run([tool, *args], capture_output=True, text=True, timeout=30)
            found[tool] = (done.stdout or done.stderr).strip().splitlines()[0]
        except (OSError, subprocess.TimeoutExpired, IndexError):
            found[tool] = "unknown"
    return found
