"""The benchmark harness: one run's generate -> render -> record loop over K self-debug rounds.

It writes the run folder through ``visplotbench.runfolder`` and knows nothing of scoring or reports;
``visplotbench.run_benchmark`` runs it and then scores and reports. ``self_debug`` runs the same steps
(``_attempt``) for one task and yields each round as it finishes (the Space streams it).
"""

from visplotbench.harness._attempt import (
    Attempt,
    Prepared,
    attempt_record,
    first_messages,
    follow_up,
    prepare,
    render_job,
    self_debug,
)
from visplotbench.harness._config import RunConfig, out_folder
from visplotbench.harness._runner import Runner
from visplotbench.harness._selfdebug import feedback, next_messages

__all__ = [
    "Attempt",
    "Prepared",
    "RunConfig",
    "Runner",
    "attempt_record",
    "feedback",
    "first_messages",
    "follow_up",
    "next_messages",
    "out_folder",
    "prepare",
    "render_job",
    "self_debug",
]
