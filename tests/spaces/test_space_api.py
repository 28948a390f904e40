"""The Space's API endpoints through gradio_client: the self-debug loop and the playground, no browser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gradio_client.exceptions import AppError
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
    launched,
    self_debug_args,
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
        *self_debug_args("python", task.id, 2, base_url=stub.base_url), api_name="/self_debug"
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
        *self_debug_args(
            "python", "", 0, base_url=stub.base_url, instruction="Plot sales per year as bars.", data=csv
        ),
        api_name="/self_debug",
    )
    assert "Failed** after 0 self-debug rounds" in api_value(out[SUMMARY])
    prompt = stub.requests[0]["messages"][-1]["content"]
    assert "Plot sales per year as bars." in prompt and "year" in prompt and "sales" in prompt


def test_bad_inputs_are_refused_with_a_message(client):
    out = client.predict(
        *self_debug_args("python", "", 2, base_url="http://127.0.0.1:9/v1", model="m"), api_name="/self_debug"
    )
    assert "Type an instruction" in api_value(out[MESSAGE])
    out = client.predict(
        *self_debug_args("python", "", 2, model="", instruction="Plot it.", data="a,b\n1,2\n"),
        api_name="/self_debug",
    )
    assert "base URL" in api_value(out[MESSAGE])  # no model configured: how to configure one
    too_many = self_debug_args("python", "", 9, base_url="http://127.0.0.1:9/v1", instruction="Plot it.")
    with pytest.raises(AppError, match="greater than maximum value 5"):  # the slider's own bound
        client.predict(*too_many, api_name="/self_debug")
    big = self_debug_args(
        "python", "", 1, base_url="http://127.0.0.1:9/v1", instruction="x", data="a\n" * 600_000
    )
    out = client.predict(*big, api_name="/self_debug")
    assert "larger than 1,000,000 bytes" in api_value(out[MESSAGE])


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
    from viscoder2_space import Resources, SpaceConfig
    from visplotbench.tasks import load_bundled

    stub = stub_for(fail_then_fix("svg", delay_s=2.0, always_fail=True))
    args = self_debug_args("svg", load_bundled("svg")[0].id, 0, base_url=stub.base_url)
    res = Resources(SpaceConfig(concurrency=1), sandbox=resources.sandbox)
    try:
        with launched(res) as url:
            jobs = [Client(url, verbose=False).submit(*args, api_name="/self_debug") for _ in range(2)]
            outs = [job.result(timeout=300) for job in jobs]
    finally:
        res.close()
    assert len(stub.requests) == 2 and stub.max_concurrent == 1
    assert all("Failed** after 0 self-debug rounds" in api_value(out[SUMMARY]) for out in outs)
