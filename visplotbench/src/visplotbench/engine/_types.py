"""Typed inputs and outputs of the render engine."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace


class RenderStatus(str, enum.Enum):
    """What became of one render job.

    Only ``OK`` counts as an execution pass. ``ENV_FAILURE`` is the environment's fault
    (missing binary, browser crash, Xvfb down) and must never be counted against a model.
    """

    OK = "ok"
    ERROR = "error"  # the program or the tool reported an error
    TIMEOUT = "timeout"  # the wall-clock or CPU limit was hit
    NO_OUTPUT = "no_output"  # ran cleanly but produced no image
    BLANK = "blank"  # produced only images where one colour covers >= 98 % of the pixels
    ENV_FAILURE = "env_failure"  # the renderer itself could not run

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Limits:
    """Resource limits for one job. Every field applies to the whole job (all its processes).

    Attributes:
        wall_s: wall-clock seconds before the whole process group is killed.
        cpu_s: CPU seconds per process (RLIMIT_CPU).
        memory_mb: address-space cap per process (RLIMIT_AS), in MiB.
        max_processes: processes/threads the job may have alive at once (pids cgroup).
        file_size_mb: largest file the job may write (RLIMIT_FSIZE), in MiB.
        output_bytes: stdout and stderr are each truncated to this many bytes.
    """

    wall_s: float = 30.0
    cpu_s: int = 60
    memory_mb: int = 2048
    max_processes: int = 64
    file_size_mb: int = 64
    output_bytes: int = 64_000

    def with_(self, **changes: object) -> Limits:
        """Return a copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class RenderJob:
    """One program to render.

    Attributes:
        language: a registered language key (``visplotbench.engine.LANGUAGES``).
        source: the program text exactly as the model wrote it; never rewritten.
        files: data files placed next to the program, name -> content (e.g. ``{"data.csv": "..."}``).
        limits: resource limits; ``None`` takes the language's defaults.
        all_pages: LaTeX only: return every page instead of the first.
    """

    language: str
    source: str
    files: dict[str, str | bytes] = field(default_factory=dict)
    limits: Limits | None = None
    all_pages: bool = False


@dataclass
class RenderResult:
    """The typed outcome of one render job.

    Attributes:
        language: the language key.
        status: see ``RenderStatus``.
        images: PNG bytes of every page / figure, in order (empty unless something was drawn).
        error: an excerpt fit to show a model: the tool's own message, line numbers that refer to
            the user's source, no harness frames, no temp paths, no ANSI codes, repeated lines
            folded, bounded length. Empty when ``status`` is ``ok``.
        stdout: raw standard output (capped, temp paths left as they were).
        stderr: raw standard error (capped).
        timings: seconds spent per phase (e.g. ``{"run": 0.8, "total": 0.9}``).
        tool_versions: versions of the tools that rendered this job.
        notes: non-fatal remarks (e.g. a library that the renderer cannot capture).
    """

    language: str
    status: RenderStatus
    images: list[bytes] = field(default_factory=list)
    error: str = ""
    stdout: str = ""
    stderr: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    tool_versions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the job rendered at least one non-blank image without error."""
        return self.status is RenderStatus.OK


class EnvironmentProblem(RuntimeError):
    """A renderer cannot run on this machine. The message says how to fix it."""
