"""Mermaid renderer: statuses, the parser's message with the user's line, determinism, timeouts,
and the diagram treated as data (real Chromium, real mermaid.min.js)."""

from __future__ import annotations

import pytest
from visplotbench.engine import Limits, RenderJob, RenderStatus


@pytest.fixture(scope="module", autouse=True)
def _assets():
    """Install the pinned JS libraries if they are missing (idempotent, fast when present)."""
    from visplotbench.engine import _cdn
    from visplotbench.engine.assets import install_assets

    install_assets(quiet=True)
    _cdn.clear_cache()


def test_ok(render_fixture, need):
    need("mermaid")
    result = render_fixture("mermaid", "ok")
    assert result.status is RenderStatus.OK, result.error
    assert len(result.images) == 1 and result.images[0].startswith(b"\x89PNG")
    assert result.tool_versions["mermaid"].startswith("12.") and result.tool_versions["chromium"]


def test_syntax_error_names_problem_and_line(render_fixture, need):
    need("mermaid")
    result = render_fixture("mermaid", "syntax_error")
    assert result.status is RenderStatus.ERROR
    assert "Parse error on line 3" in result.error and "B -->> C" in result.error
    assert "    at " not in result.error and "mermaid.min.js" not in result.error


def test_unknown_diagram_type_is_an_error(render_fixture, need):
    need("mermaid")
    result = render_fixture("mermaid", "runtime_error")
    assert result.status is RenderStatus.ERROR
    assert "No diagram type detected" in result.error and "barchart" in result.error


def test_random_layout_is_deterministic(pool, need):
    """Mindmaps are laid out with Math.random: the seed is reset for every job on a warm page."""
    need("mermaid")
    mindmap = (
        "mindmap\n  root((Plots))\n    Bar\n    Line\n      Trend\n    Pie\n    Scatter\n      Clusters\n"
    )
    images = [pool.render(RenderJob("mermaid", mindmap)).images for _ in range(3)]
    assert images[0] and images[0] == images[1] == images[2]


def test_line_numbers_count_front_matter_directives_and_comments(pool, need):
    need("mermaid")
    source = "---\ntitle: Flow\n---\n%%{init: {'theme': 'forest'}}%%\n%% a comment\nflowchart TD\n  A --> B\n  B -->> C\n"
    result = pool.render(RenderJob("mermaid", source))
    assert result.status is RenderStatus.ERROR
    assert "Parse error on line 8" in result.error, result.error


def test_timeout_and_the_next_job_renders(pool, need, source):
    need("mermaid")
    pool.render(RenderJob("mermaid", source("mermaid", "ok")))  # warm pages: time only the job
    # 450 edges (Mermaid refuses more than 500) take far longer than 0.1 s to lay out.
    big = "flowchart LR\n" + "\n".join(f"  n{i}[node {i}] --> n{(i * 7 + 3) % 450}" for i in range(450))
    result = pool.render(RenderJob("mermaid", big, limits=Limits(wall_s=0.1)))
    assert result.status is RenderStatus.TIMEOUT
    assert pool.render(RenderJob("mermaid", source("mermaid", "ok"))).status is RenderStatus.OK


def test_source_is_data_not_code(pool, need):
    """Quotes, backticks, ${...} and </script> in labels reach Mermaid verbatim and run nothing."""
    need("mermaid")
    diagram = (
        "flowchart TD\n"
        "  A[\"it's `tick` ${alert(1)} </script><script>console.log('INJECTED')</script>\"] --> B\n"
        "  click A call console.log('CLICKED')\n"
    )
    result = pool.render(RenderJob("mermaid", diagram))
    assert result.status is RenderStatus.OK, result.error
    assert "INJECTED" not in result.stdout and "CLICKED" not in result.stdout
