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


# The names ``RenderResult.limit`` takes, one per field of ``Limits``.
LIMITS = ("wall_time", "cpu_time", "memory", "processes", "file_size", "output")


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


# The folder inside a job directory where renderers collect the images: a data file may not be it.
OUTPUT_FOLDER = "out"
_MAX_NAME_BYTES = 255  # one path component (the filesystems' NAME_MAX)
_MAX_DEPTH = 8


class InvalidJob(ValueError):
    """A render job that cannot be run as given (a bad data file name): the caller's input is wrong,
    not the program and not the machine. The message names the file and the rule."""


def check_file_names(language: str, names: list[str], source_name: str | None = None) -> None:
    """Raise ``InvalidJob`` unless every name is a legal data file name for a job.

    A legal name is a relative path inside the job directory: one or more components joined by
    ``/`` (sub-folders are created), each non-empty, not ``.`` or ``..``, at most 255 bytes in
    UTF-8, without control characters (NUL included), at most 8 levels deep. It may not be the
    program's own file (``source_name``) nor the renderers' output folder ``out`` (or inside it),
    and no name may be a folder of another (``a`` and ``a/b.csv``).
    """
    rule = (
        "a data file name must be a relative path inside the job directory (e.g. 'data.csv' or "
        "'data/sales.csv'): no leading '/', no '.' or '..' or empty parts, no control characters"
    )
    for name in names:
        if not isinstance(name, str):
            raise InvalidJob(f"{language} job: data file name {name!r} is not a string; {rule}.")
        parts = name.split("/")
        bad = (
            not name
            or any(part in ("", ".", "..") for part in parts)
            or any(ord(ch) < 32 or ord(ch) == 127 for ch in name)
        )
        if bad:
            raise InvalidJob(f"{language} job: data file name {name!r} is not allowed; {rule}.")
        if len(parts) > _MAX_DEPTH or any(
            len(part.encode("utf-8", "surrogatepass")) > _MAX_NAME_BYTES for part in parts
        ):
            raise InvalidJob(
                f"{language} job: data file name {name!r} is too long (at most {_MAX_DEPTH} levels of "
                f"at most {_MAX_NAME_BYTES} bytes each)."
            )
        if parts[0] == OUTPUT_FOLDER:
            raise InvalidJob(
                f"{language} job: data file name {name!r} is inside {OUTPUT_FOLDER!r}, the folder the "
                "renderer collects images from; rename it."
            )
        if name == source_name:
            raise InvalidJob(
                f"{language} job: data file name {name!r} is the program's own file name; rename it."
            )
    folders = {"/".join(name.split("/")[:depth]) for name in names for depth in range(1, name.count("/") + 1)}
    clash = sorted(folders.intersection(names))
    if clash:
        raise InvalidJob(
            f"{language} job: {clash[0]!r} is both a data file and a folder of other data files."
        )


@dataclass(frozen=True)
class RenderJob:
    """One program to render.

    Attributes:
        language: a registered language key (``visplotbench.engine.LANGUAGES``).
        source: the program text exactly as the model wrote it; never rewritten.
        files: data files placed next to the program, name -> content (e.g. ``{"data.csv": "..."}``);
            a name may have sub-folders (``data/sales.csv``), see ``check_file_names`` for the
            rules. A job with an illegal name is refused here with ``InvalidJob``.
        limits: resource limits; ``None`` takes the language's defaults.
        all_pages: LaTeX only: return every page instead of the first.
    """

    language: str
    source: str
    files: dict[str, str | bytes] = field(default_factory=dict)
    limits: Limits | None = None
    all_pages: bool = False

    def __post_init__(self) -> None:
        check_file_names(self.language, list(self.files), _source_name(self.language))
        for name, content in self.files.items():
            if not isinstance(content, (str, bytes)):
                raise InvalidJob(
                    f"{self.language} job: data file {name!r} holds a {type(content).__name__}; "
                    "give its content as str or bytes."
                )


def _source_name(language: str) -> str | None:
    """The file a language's renderer writes the program to (None for an unknown language)."""
    from visplotbench.engine.registry import LANGUAGES, renderer_class

    if language not in LANGUAGES:
        return None  # the pool reports the unknown language
    try:
        return renderer_class(language).source_name
    except ImportError:
        return None  # the pool reports the missing dependency


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
        limit: the limit that stopped the job or refused it something, one of ``LIMITS``
            (``wall_time``, ``cpu_time``, ``memory``, ``output``, ``file_size``, ``processes``);
            empty when none did. ``error`` names it with its figure.
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
    limit: str = ""

    @property
    def ok(self) -> bool:
        """True when the job rendered at least one non-blank image without error."""
        return self.status is RenderStatus.OK


class EnvironmentProblem(RuntimeError):
    """A renderer cannot run on this machine. The message says how to fix it."""
