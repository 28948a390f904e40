"""The VisCoder2 Space: a Gradio page over ``visplotbench``'s self-debug loop and render engine.

``build_app(Resources(SpaceConfig.from_env()))`` makes the page; ``app.py`` serves it. The logic is
in plain modules testable without a browser: ``run_self_debug`` / ``replay`` (``_selfdebug``),
``render_program`` (``_playground``), ``check_sandbox`` (``_sandbox``).
"""

from typing import Any

from viscoder2_space._config import SpaceConfig
from viscoder2_space._models import MODEL_KINDS, ModelChoice, ModelError
from viscoder2_space._playground import PlaygroundView, example, render_program
from viscoder2_space._resources import Resources
from viscoder2_space._sandbox import SandboxCheck, check_sandbox
from viscoder2_space._selfdebug import RoundView, RunView, replay, run_self_debug

__all__ = [
    "MODEL_KINDS",
    "ModelChoice",
    "ModelError",
    "PlaygroundView",
    "Resources",
    "RoundView",
    "RunView",
    "SandboxCheck",
    "SpaceConfig",
    "build_app",
    "check_sandbox",
    "example",
    "render_program",
    "replay",
    "run_self_debug",
]


def build_app(resources: Resources) -> Any:
    """The Gradio Blocks of the Space (gradio is imported only here)."""
    from viscoder2_space._ui import build_app as _build

    return _build(resources)
