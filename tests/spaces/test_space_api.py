"""The Space's API endpoints through gradio_client: the self-debug loop and the playground, no browser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SECRET, fail_then_fix

pytestmark = pytest.mark.slow
MAX_ROUNDS = 5
# The values /self_debug returns, in order: summary, message, then 6 of each per-round component (the
# round boxes are layout: the client gets no value for them), then the final outputs.
N = MAX_ROUNDS + 1
SUMMARY, MESSAGE = 0, 1
HEADS, REPLIES, CODES, ERRORS, GALLERIES = (2 + N * k for k in range(5))
FINAL, REFERENCE, METRICS, DOWNLOAD_JSON, DOWNLOAD_CODE = (2 + 5 * N + i for i in range(5))


@pytest.fixture(scope="module")
def client(served):
    from gradio_client import Client

    return Client(served.url, verbose=False)


def _value(output):
    """A component's value from the client (an update dict carries it under 'value')."""
    return output.get("value") if isinstance(output, dict) and "__type__" in output else output


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
    assert "Passed** at round 1" in _value(out[SUMMARY])
    assert "error" in _value(out[HEADS]) and "ok" in _value(out[HEADS + 1])
    assert "undefined_name_here" in _value(out[ERRORS])  # the error excerpt the model saw in round 1
    assert "undefined_name_here" in stub.requests[1]["messages"][-1]["content"]
    assert _value(out[CODES + 1]).strip() == task.code.strip()
    images = _value(out[GALLERIES + 1])
    assert images and len(images) >= 1
    metrics = _value(out[METRICS])
    assert "ssim" in metrics and "edge_f1" in metrics
    jsonl = Path(_value(out[DOWNLOAD_JSON]))
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [r["round"] for r in records] == [0, 1] and [r["status"] for r in records] == ["error", "ok"]
    assert records[1]["messages"] == stub.requests[1]["messages"]
    assert Path(_value(out[DOWNLOAD_CODE])).read_text() == _value(out[CODES + 1])
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
    assert "Failed** after 0 self-debug rounds" in _value(out[SUMMARY])
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
    assert "Type an instruction" in _value(out[MESSAGE])
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
    assert "base URL" in _value(out[MESSAGE])  # no model configured: how to configure one


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
