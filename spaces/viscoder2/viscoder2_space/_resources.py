"""What all visitors share: the settings, the sandbox verdict, one render pool, the prompts, the
local checkpoints, and the stop switches of the runs in flight (one per browser session)."""

from __future__ import annotations

import threading
from typing import Any

from viscoder2_space._config import SpaceConfig
from viscoder2_space._models import Checkpoints, endpoint_backend
from viscoder2_space._sandbox import SandboxCheck, check_sandbox


class Resources:
    """The app-wide resources; ``close()`` stops the render pool and unloads the checkpoints.

    Args:
        config: the operator's settings.
        sandbox: the start-up sandbox verdict (checked here when not given).
    """

    def __init__(self, config: SpaceConfig, sandbox: SandboxCheck | None = None) -> None:
        from visplotbench.engine import RenderPool
        from visplotbench.prompts import load_prompts

        self.config = config
        self.sandbox = sandbox if sandbox is not None else check_sandbox()
        self.pool = RenderPool()  # one pool: every renderer's own concurrency cap holds across visitors
        self.prompts = load_prompts()
        self.checkpoints = Checkpoints(config)
        self._stops: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def endpoint(self, base_url: str, model: str) -> Any:
        """A fresh OpenAI-compatible backend for one run (see ``endpoint_backend``)."""
        return endpoint_backend(self.config, base_url, model)

    def new_stop(self, session: str) -> threading.Event:
        """A fresh stop switch for ``session``'s next run (an older run of the session is stopped)."""
        with self._lock:
            old = self._stops.get(session)
            if old is not None:
                old.set()
            event = self._stops[session] = threading.Event()
            return event

    def stop(self, session: str) -> None:
        """Stop ``session``'s run (the stop button, or the visitor closing the page)."""
        with self._lock:
            event = self._stops.pop(session, None)
        if event is not None:
            event.set()

    def close(self) -> None:
        with self._lock:
            for event in self._stops.values():
                event.set()
            self._stops.clear()
        self.pool.close()
        self.checkpoints.close()
