"""The Space's API endpoints through gradio_client: the self-debug loop and the playground, no browser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from space_helpers import (
    CODES,
    DOWNLOAD_CODE,
    DOWNLOAD_JSON,
    ERRORS,
    GALLERIES,
    HEADS,
    MESSAGE,
    METRICS,
    SECRET,
    SUMMARY,
    api_value,
    fail_then_fix,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(served):
    from gradio_client import Client

    return Client(served.url, verbose=False)


def test_api_lists_the_endpoints(client):
    api = client.view_api(print_info=False, return_format="dict")
    names = set(api["named_endpoints"])
    assert {"/self_debug", "/render", "/task", "/stop"} <= names


def test_self_debug_over_the_api(client, stub_for):
    from visplotbench.tasks import load_bundled

    task = load_bundled("python")[0]
    stub = stub_for(fail_then_fix("python"))
    out = client.predict(
        "python",
        task.id,
        "",
        "",
        2,
        "OpenAI-compatible endpoint",
        stub.base_url,
        "stub-model",
        None,
        None,
        None,
        api_name="/self_debug",
    )
    assert "Passed** at round 1" in api_value(out[SUMMARY])
    assert "error" in api_value(out[HEADS]) and "ok" in api_value(out[HEADS + 1])
    assert "undefined_name_here" in api_value(out[ERRORS])  # the error excerpt the model saw in round 1
    assert "undefined_name_here" in stub.requests[1]["messages"][-1]["content"]
    assert api_value(out[CODES + 1]).strip() == task.code.strip()
    images = api_value(out[GALLERIES + 1])
    assert images and len(images) >= 1
    metrics = api_value(out[METRICS])
    assert "ssim" in metrics and "edge_f1" in metrics
    jsonl = Path(api_value(out[DOWNLOAD_JSON]))
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [r["round"] for r in records] == [0, 1] and [r["status"] for r in records] == ["error", "ok"]
    assert records[1]["messages"] == stub.requests[1]["messages"]
    assert Path(api_value(out[DOWNLOAD_CODE])).read_text() == api_value(out[CODES + 1])
    assert SECRET not in jsonl.read_text()


def test_custom_instruction_with_data(client, stub_for):
    stub = stub_for(fail_then_fix("python"))
    csv = "year,sales\n2020,3\n2021,5\n"
    out = client.predict(
        "python",
        "",
        "Plot sales per year as bars.",
        csv,
        0,
        "OpenAI-compatible endpoint",
        stub.base_url,
        "stub-model",
        None,
        None,
        None,
        api_name="/self_debug",
    )
    assert "Failed** after 0 self-debug rounds" in api_value(out[SUMMARY])
    prompt = stub.requests[0]["messages"][-1]["content"]
    assert "Plot sales per year as bars." in prompt and "year" in prompt and "sales" in prompt


def test_bad_inputs_are_refused_with_a_message(client):
    out = client.predict(
        "python",
        "",
        "",
        "",
        2,
        "OpenAI-compatible endpoint",
        "http://127.0.0.1:9/v1",
        "m",
        None,
        None,
        None,
        api_name="/self_debug",
    )
    assert "Type an instruction" in api_value(out[MESSAGE])
    out = client.predict(
        "python",
        "",
        "Plot it.",
        "a,b\n1,2\n",
        2,
        "OpenAI-compatible endpoint",
        "",
        "",
        None,
        None,
        None,
        api_name="/self_debug",
    )
    assert "base URL" in api_value(out[MESSAGE])  # no model configured: how to configure one


def test_playground_over_the_api(client):
    status, error, images = client.predict(
        "svg",
        "<svg xmlns='http://www.w3.org/2000/svg' width='40' height='40'><circle cx='20' cy='20' r='15'/></svg>",
        "",
        api_name="/render",
    )
    assert "svg: `ok`" in status and not error and len(images) == 1
    status, error, images = client.predict("vegalite", '{"mark": "bar",, }', "", api_name="/render")
    assert "vegalite: `error`" in status and error.strip() and not images


def test_task_endpoint_fills_the_task(client):
    from visplotbench.tasks import load_bundled

    task = load_bundled("svg")[0]
    instruction, _data, preview, reference = client.predict("svg", task.id, api_name="/task")
    assert task.task__plot_description.strip()[:40] in instruction
    assert task.task__plot_description.strip()[:40] in preview
    assert reference  # the reference image


def test_the_queue_serves_at_most_the_concurrency_limit(resources, stub_for):
    """With VISCODER2_CONCURRENCY=1, two visitors' runs submitted at once take turns: the model never
    sees two requests at the same time, and both runs finish."""
    from gradio_client import Client
    from viscoder2_space import Resources, SpaceConfig, build_app
    from visplotbench.tasks import load_bundled

    res = Resources(SpaceConfig(concurrency=1), sandbox=resources.sandbox)
    demo = build_app(res)
    _, url, _ = demo.launch(
        server_name="127.0.0.1", prevent_thread_lock=True, allowed_paths=[str(demo.work_root)], quiet=True
    )
    try:
        stub = stub_for(fail_then_fix("svg", delay_s=2.0, always_fail=True))
        task = load_bundled("svg")[0]
        args = (
            "svg",
            task.id,
            "",
            "",
            0,
            "OpenAI-compatible endpoint",
            stub.base_url,
            "stub-model",
            None,
            None,
            None,
        )
        jobs = [Client(url, verbose=False).submit(*args, api_name="/self_debug") for _ in range(2)]
        outs = [job.result(timeout=300) for job in jobs]
    finally:
        demo.close()
        res.close()
    assert len(stub.requests) == 2 and stub.max_concurrent == 1
    assert all("Failed** after 0 self-debug rounds" in api_value(out[SUMMARY]) for out in outs)
