"""The render engine: run untrusted visualization code in 8 languages, safely and fast."""

from visplotbench.engine._types import (
    EnvironmentProblem,
    InvalidJob,
    Limits,
    RenderJob,
    RenderResult,
    RenderStatus,
)
from visplotbench.engine.pool import RenderPool, default_pool, render
from visplotbench.engine.registry import LANGUAGES

__all__ = [
    "LANGUAGES",
    "EnvironmentProblem",
    "InvalidJob",
    "Limits",
    "RenderJob",
    "RenderPool",
    "RenderResult",
    "RenderStatus",
    "default_pool",
    "render",
]
