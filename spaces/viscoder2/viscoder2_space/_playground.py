"""The Playground tab's logic: render one program, in any language, with the engine and its sandbox."""

from __future__ import annotations

from dataclasses import dataclass, field

from viscoder2_space._resources import Resources


@dataclass
class PlaygroundView:
    """One render as the page shows it.

    Attributes:
        status: the engine's ``RenderStatus`` value, or ``refused`` (input out of bounds, rendering
            disabled).
        message: one Markdown line: the status and the seconds, or why nothing was rendered.
        error: the engine's error excerpt ("" when it rendered).
        images: the PNGs drawn.
    """

    status: str
    message: str
    error: str = ""
    images: list[bytes] = field(default_factory=list)


def example(language: str) -> tuple[str, str]:
    """The engine's bundled example of ``language``: (source, data text or "")."""
    from visplotbench.engine.examples import example_job

    job = example_job(language)
    data = next((c for c in job.files.values()), "")
    return job.source, data.decode("utf-8", "replace") if isinstance(data, bytes) else data


def render_program(resources: Resources, language: str, code: str, data: str = "") -> PlaygroundView:
    """Render ``code`` (with ``data`` as the language's data file) in the sandbox."""
    from visplotbench.engine import LANGUAGES, RenderJob
    from visplotbench.engine.registry import data_files

    config = resources.config
    if language not in LANGUAGES:
        return PlaygroundView(
            "refused", f"Unknown language {language!r}; choose one of {', '.join(LANGUAGES)}."
        )
    if not resources.sandbox.ok:
        return PlaygroundView("refused", f"Rendering is disabled: {resources.sandbox.message}")
    if not code.strip():
        return PlaygroundView("refused", "Paste or upload a program first.")
    if len(code) > config.max_code_chars:
        return PlaygroundView(
            "refused",
            f"The program is {len(code):,} characters; the limit here is {config.max_code_chars:,}.",
        )
    if len(data.encode("utf-8")) > config.max_data_bytes:
        return PlaygroundView(
            "refused", f"The data is larger than the limit of {config.max_data_bytes:,} bytes."
        )
    result = resources.pool.render(RenderJob(language, code, data_files(language, data)))
    seconds = result.timings.get("total", 0.0)
    message = f"{language}: `{result.status.value}` in {seconds:.1f} s" + (
        f" · {len(result.images)} image{'s' if len(result.images) != 1 else ''}" if result.images else ""
    )
    return PlaygroundView(result.status.value, message, result.error, list(result.images))
