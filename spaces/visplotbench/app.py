"""The visplotbench metric Space: score a reply (or a two-round self-debug conversation) for a task.

A thin Gradio shell over the metric that ships in the installed ``visplotbench`` package
(``evaluate.load(visplotbench.metric_path())``), so the Space runs the same code as every other user.
Locally: ``python spaces/visplotbench/app.py`` (``GRADIO_SERVER_PORT`` / ``GRADIO_SERVER_NAME`` as usual).
"""

import sys
import threading
from pathlib import Path

# This folder holds the metric script visplotbench.py (for evaluate.load("<namespace>/visplotbench")),
# which would shadow the installed visplotbench package that the app and the script import.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import evaluate  # noqa: E402
import gradio as gr  # noqa: E402

import visplotbench  # noqa: E402

EXAMPLE_REPLY = (
    "Here is the chart:\n```svg\n"
    '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="100">\n'
    '  <rect x="10" y="30" width="40" height="60" fill="steelblue"/>\n'
    '  <rect x="60" y="10" width="40" height="80" fill="darkorange"/>\n'
    "</svg>\n```"
)


def _ensure_assets() -> None:
    """The pinned JavaScript libraries that HTML and Mermaid pages load offline (needs npm once)."""
    from visplotbench.engine import EnvironmentProblem
    from visplotbench.engine.assets import install_assets, missing_assets

    if missing_assets():
        try:
            install_assets()
        except EnvironmentProblem as exc:  # HTML and Mermaid tasks then end as env_failure, reported
            print(f"warning: JavaScript assets not installed: {exc}")


def score(reply: str, task_id: str, fixed_reply: str) -> dict:
    """The metric's result for one task, with the per-task details."""
    prediction = [reply, fixed_reply] if fixed_reply.strip() else reply
    try:
        return metric.compute(
            predictions=[prediction],
            references=[task_id.strip()],
            allow_code_execution=True,  # this Space exists to run the sandboxed renders
            return_details=True,
        )
    except ValueError as exc:  # unknown task id, empty reply...: shown to the user, not a stack trace
        raise gr.Error(str(exc)) from None


def build() -> gr.Interface:
    return gr.Interface(
        fn=score,
        inputs=[
            gr.Textbox(EXAMPLE_REPLY, lines=10, label="Model reply (or bare program)"),
            gr.Textbox("svg_1", label="Task id (bundled tasks: <language>_1 ... <language>_18)"),
            gr.Textbox("", lines=4, label="Optional second reply (self-debug round 1)"),
        ],
        outputs=gr.JSON(label="visplotbench"),
        title="Metric: visplotbench",
        description=metric.info.description,
        flagging_mode="never",
    )


metric = evaluate.load(visplotbench.metric_path())

if __name__ == "__main__":
    # npm may take minutes on a fresh Space: serve meanwhile (SVG, Python, LaTeX... need no assets).
    threading.Thread(target=_ensure_assets, daemon=True).start()
    build().launch()
