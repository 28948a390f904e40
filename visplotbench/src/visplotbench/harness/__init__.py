"""The benchmark harness: one run's generate -> render -> record loop over K self-debug rounds.

It writes the run folder through ``visplotbench.runfolder`` and knows nothing of scoring or reports;
``visplotbench.run_benchmark`` runs it and then scores and reports.
"""

from visplotbench.harness._config import RunConfig, out_folder
from visplotbench.harness._runner import Runner

__all__ = ["RunConfig", "Runner", "out_folder"]
