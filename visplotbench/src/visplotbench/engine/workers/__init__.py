"""Job handlers that run inside warm sandboxed workers (see ``visplotbench.engine._worker``)."""
