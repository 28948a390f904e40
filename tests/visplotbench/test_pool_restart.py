"""A renderer that could not start is tried again later: a long-lived pool (the Space's) must not lose
a language for good to one failed start. Real renderer, real assets: the failure is a missing asset
folder, then the real one is put back."""

from __future__ import annotations

import os

import pytest
from visplotbench.engine import RenderJob, RenderPool, RenderStatus
from visplotbench.engine import pool as pool_module

PAGE = "<html><body><h1>back</h1><svg width='80' height='40'><rect width='60' height='30' fill='teal'/></svg></body></html>"


def test_a_renderer_that_failed_to_start_is_tried_again(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    original = os.environ.get("VISPLOTBENCH_ASSETS")
    with RenderPool() as pool:
        monkeypatch.setenv("VISPLOTBENCH_ASSETS", str(tmp_path / "nothing-here"))
        first = pool.render(RenderJob("html", PAGE))
        assert first.status is RenderStatus.ENV_FAILURE and "assets install" in first.error
        if original is None:  # the trouble is gone
            monkeypatch.delenv("VISPLOTBENCH_ASSETS")
        else:
            monkeypatch.setenv("VISPLOTBENCH_ASSETS", original)
        # Within the retry delay the start-up error is given at once, without a new attempt...
        assert pool.render(RenderJob("html", PAGE)).status is RenderStatus.ENV_FAILURE
        # ...after it, the renderer is made again and renders.
        monkeypatch.setattr(pool_module, "RETRY_START_S", 0.0)
        again = pool.render(RenderJob("html", PAGE))
        assert again.status is RenderStatus.OK, again.error
