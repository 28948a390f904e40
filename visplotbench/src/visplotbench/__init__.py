"""visplotbench: a safe, fast render engine for visualization code in 8 languages, and VisPlotBench."""

from visplotbench.engine import (
    LANGUAGES,
    EnvironmentProblem,
    Limits,
    RenderJob,
    RenderPool,
    RenderResult,
    RenderStatus,
    render,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "LANGUAGES",
    "EnvironmentProblem",
    "Limits",
    "RenderJob",
    "RenderPool",
    "RenderResult",
    "RenderStatus",
    "__version__",
    "render",
]
