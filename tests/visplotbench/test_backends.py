"""Model backends: the registry's errors, gold, replay, the OpenAI-compatible client against a real local
HTTP stub, a real tiny transformers model, and vLLM's option checking."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import random
import threading
import time

import pytest
from stub_openai import StubOpenAI
from tiny_model import build_tiny_model
from visplotbench.backends import BACKENDS, GenerationRequest, make_backend
from visplotbench.extract import extract_code
from visplotbench.tasks import Task


def request(task_id: str, text: str = "", round_: int = 0, task: Task | None = None) -> GenerationRequest:
    messages = [
        {"role": "system", "content": "You write code."},
        {"role": "user", "content": text or task_id},
    ]
    return GenerationRequest(task_id, round_, messages, task)


def task(task_id: str, code: str = "") -> Task:
    return Task(task_id, "draw it", "plainly", "", [], "Bar", "bar", code=code)


# --- registry and options -----------------------------------------------------------------------------


def test_unknown_backend_lists_the_choices():
    with pytest.raises(ValueError, match="Unknown backend 'nope'") as info:
        make_backend("nope:model")
    for name in BACKENDS:
        assert name in str(info.value)


@pytest.mark.parametrize(
    ("spec", "valid"),
    [
        ("openai:m", "concurrency"),
        ("transformers:m", "batch_size"),
        ("replay:x.jsonl", "none"),
        ("gold", "none"),
    ],
)
def test_unknown_option_lists_the_valid_ones(spec, valid, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.jsonl").write_text("")
    with pytest.raises(ValueError, match=r"Unknown option.*'bogus'.*Valid options") as info:
        make_backend(spec, {"bogus": 1})
    assert valid in str(info.value)


def test_string_options_are_read_as_their_field_types(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    backend = make_backend(
        "openai:m",
        {
            "concurrency": "3",
            "temperature": "0.5",
            "seed": "none",
            "stop": "###",
            "extra_body": '{"top_k": 20}',
        },
    )
    config = backend.config
    assert (config.concurrency, config.temperature, config.seed, config.stop) == (3, 0.5, None, ["###"])
    assert config.extra_body == {"top_k": 20}
    with pytest.raises(ValueError, match="openai option 'concurrency': cannot read 'many' as int"):
        make_backend("openai:m", {"concurrency": "many"})


# --- gold ---------------------------------------------------------------------------------------------


def test_gold_replays_the_reference_code_in_a_language_fence():
    code = "import matplotlib.pyplot as plt\nplt.plot([1, 2])"
    backend = make_backend("gold")
    results = dict(
        backend.generate(
            [request("python_1", task=task("python_1", code)), request("svg_2", task=task("svg_2"))]
        )
    )
    assert results[0].text == f"```python\n{code}\n```" and not results[0].error
    assert extract_code(results[0].text, "python").code == code
    assert "svg_2" in results[1].error and "no reference code" in results[1].error and not results[1].text
    assert backend.identity() == {"backend": "gold"}


def test_gold_fence_survives_backticks_inside_the_code():
    code = "<html><body><pre>\n```js\nx\n```\n</pre></body></html>"
    ((_, result),) = make_backend("gold").generate([request("html_1", task=task("html_1", code))])
    assert result.text.startswith("````html\n")
    assert extract_code(result.text, "html").code == code


def test_gold_on_the_bundled_tasks_extracts_every_reference_exactly():
    from visplotbench.extract import ALIASES
    from visplotbench.tasks import bundled_parquet, load_bundled

    tasks = [
        t for language in ALIASES if bundled_parquet(language).exists() for t in load_bundled(language)[:5]
    ]
    if not tasks:
        pytest.skip("no bundled task set yet")
    replies = dict(make_backend("gold").generate([request(t.id, task=t) for t in tasks]))
    for index, t in enumerate(tasks):
        assert extract_code(replies[index].text, t.language).code == t.code.strip("\n")


# --- replay -------------------------------------------------------------------------------------------


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_replay_answers_by_task_and_round_and_names_what_is_missing(tmp_path):
    path = write_jsonl(
        tmp_path / "replies.jsonl",
        [
            {"task_id": "svg_1", "reply": "first"},
            {"task_id": "svg_1", "round": 1, "reply": "fixed"},
            {"task_id": "svg_2", "round": 0, "reply": "other", "model": "ignored"},
        ],
    )
    backend = make_backend(f"replay:{path}")
    results = dict(
        backend.generate(
            [
                request("svg_1"),
                request("svg_1", round_=1),
                request("svg_2"),
                request("svg_2", round_=1),
                request("svg_9"),
            ]
        )
    )
    assert [results[i].text for i in range(3)] == ["first", "fixed", "other"]
    assert "svg_2" in results[3].error and "round 1" in results[3].error and not results[3].text
    assert "svg_9" in results[4].error and "round 0" in results[4].error
    identity = backend.identity()
    assert identity["backend"] == "replay" and len(identity["sha256"]) == 64
    write_jsonl(path, [{"task_id": "svg_1", "reply": "changed"}])
    assert make_backend(f"replay:{path}").identity()["sha256"] != identity["sha256"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "replies.jsonl:2: not a JSON line"),
        ('{"reply": "x"}', "replies.jsonl:2: each line needs a string 'task_id'"),
        ('{"task_id": "a", "reply": null}', "'reply' must be a string"),
        ('{"task_id": "a", "round": -1, "reply": "x"}', "'round' must be a whole number"),
        ('{"task_id": "svg_1", "reply": "again"}', "a second reply for task 'svg_1' round 0"),
    ],
)
def test_replay_rejects_bad_lines_with_their_line_number(tmp_path, line, message):
    path = tmp_path / "replies.jsonl"
    path.write_text(json.dumps({"task_id": "svg_1", "reply": "x"}) + "\n" + line + "\n")
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        make_backend(f"replay:{path}")


def test_replay_missing_file_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        make_backend(f"replay:{tmp_path / 'absent.jsonl'}")


# --- openai-compatible --------------------------------------------------------------------------------


def openai_backend(stub: StubOpenAI, **options):
    options = {"base_url": stub.base_url, "backoff_s": 0.01, **options}
    return make_backend("openai:stub-model", options)


def last_user(body: dict) -> str:
    return body["messages"][-1]["content"]


def test_openai_replies_come_back_by_index_with_the_request_sent_in_full():
    def script(body, call):
        time.sleep(random.uniform(0, 0.05))  # finish out of order
        return f"reply to {last_user(body)}"

    with StubOpenAI(script) as stub:
        backend = openai_backend(stub, seed=7, stop=["###"])
        requests = [request(f"svg_{i}") for i in range(12)]
        results = list(backend.generate(requests))
    assert sorted(index for index, _ in results) == list(range(12))
    for index, result in results:
        assert result.text == f"reply to svg_{index}" and not result.error
        assert result.finish_reason == "stop" and result.usage["completion_tokens"] == 5
    body = stub.requests[0]
    assert body["model"] == "stub-model" and body["temperature"] == 0.0 and body["max_tokens"] == 4096
    assert body["seed"] == 7 and body["stop"] == ["###"] and "top_p" not in body
    assert body["messages"][0] == {"role": "system", "content": "You write code."}


def test_openai_requests_overlap_up_to_the_concurrency_limit():
    with StubOpenAI(lambda body, call: time.sleep(0.3) or "ok") as stub:
        results = list(openai_backend(stub, concurrency=4).generate([request(f"svg_{i}") for i in range(8)]))
    assert len(results) == 8 and all(r.text == "ok" for _, r in results)
    assert stub.max_concurrent == 4


def test_openai_429_is_retried_after_the_servers_retry_after():
    def script(body, call):
        return (429, {"error": {"message": "rate limited"}}, {"Retry-After": "1"}) if call == 0 else "ok"

    with StubOpenAI(script) as stub:
        start = time.monotonic()
        ((_, result),) = openai_backend(stub).generate([request("svg_1")])
        elapsed = time.monotonic() - start
    assert result.text == "ok" and not result.error and len(stub.requests) == 2
    assert elapsed >= 1.0  # the 0.01 s backoff alone would have retried at once


def test_openai_500_twice_then_success():
    with StubOpenAI(lambda body, call: (500, {"error": {"message": "boom"}}) if call < 2 else "ok") as stub:
        ((_, result),) = openai_backend(stub).generate([request("svg_1")])
    assert result.text == "ok" and len(stub.requests) == 3


def test_openai_timeout_is_retried():
    with StubOpenAI(lambda body, call: time.sleep(2) or "late" if call == 0 else "ok") as stub:
        ((_, result),) = openai_backend(stub, timeout_s=0.5).generate([request("svg_1")])
    assert result.text == "ok" and len(stub.requests) == 2


def test_openai_request_that_always_fails_is_yielded_with_its_last_error_and_others_succeed():
    def script(body, call):
        if last_user(body) == "svg_bad":
            return 503, {"error": {"message": f"overloaded #{call}"}}
        return "ok"

    with StubOpenAI(script) as stub:
        results = dict(
            openai_backend(stub, retries=2).generate([request("svg_0"), request("svg_bad"), request("svg_2")])
        )
    assert results[0].text == results[2].text == "ok"
    assert not results[1].text and "HTTP 503" in results[1].error and "overloaded" in results[1].error
    assert sum(last_user(body) == "svg_bad" for body in stub.requests) == 3  # first try + 2 retries
    last_call = max(i for i, body in enumerate(stub.requests) if last_user(body) == "svg_bad")
    assert f"#{last_call}" in results[1].error


def test_openai_client_errors_are_not_retried():
    with StubOpenAI(
        lambda body, call: (400, {"error": {"message": "bad request: context too long"}})
    ) as stub:
        ((_, result),) = openai_backend(stub).generate([request("svg_1")])
    assert "HTTP 400" in result.error and "context too long" in result.error and len(stub.requests) == 1


def test_openai_keeps_only_the_content_of_a_reasoning_reply():
    reply = {"content": "```svg\n<svg/>\n```", "reasoning_content": "Let me think about circles..."}
    with StubOpenAI(lambda body, call: dict(reply)) as stub:
        ((_, result),) = openai_backend(stub).generate([request("svg_1")])
    assert result.text == reply["content"]


def test_openai_api_key_comes_from_the_named_variable_and_never_into_identity(monkeypatch):
    monkeypatch.setenv("MY_ENDPOINT_KEY", "sk-test-secret-123")
    with StubOpenAI() as stub:
        backend = openai_backend(stub, api_key_env="MY_ENDPOINT_KEY")
        list(backend.generate([request("svg_1")]))
    assert stub.headers[0]["authorization"] == "Bearer sk-test-secret-123"
    identity = json.dumps(backend.identity())
    assert "sk-test-secret-123" not in identity and "sk-test-secret-123" not in repr(backend.config)
    assert backend.identity()["model"] == "stub-model" and backend.identity()["base_url"] == stub.base_url


def test_openai_base_url_from_environment_and_no_key_needed_locally(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with StubOpenAI() as stub:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
        ((_, result),) = make_backend("openai:stub-model").generate([request("svg_1", "hello")])
    assert result.text == "hello"


def test_openai_without_a_key_for_openai_itself_says_how_to_fix(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ValueError, match="OPENAI_API_KEY is not set"):
        make_backend("openai:gpt-4.1")


def test_openai_generate_works_from_a_plain_thread_and_inside_a_running_loop():
    with StubOpenAI() as stub:
        backend = openai_backend(stub)
        from_thread: list = []
        worker = threading.Thread(
            target=lambda: from_thread.extend(backend.generate([request("svg_1", "a")]))
        )
        worker.start()
        worker.join(timeout=30)

        async def inside_loop():
            return list(backend.generate([request("svg_1", "b")]))

        from_loop = asyncio.run(inside_loop())
    assert from_thread[0][1].text == "a" and from_loop[0][1].text == "b"


def test_openai_closing_the_generator_early_does_not_hang():
    with StubOpenAI(lambda body, call: time.sleep(0.2) or "ok") as stub:
        replies = openai_backend(stub, concurrency=1).generate([request(f"svg_{i}") for i in range(20)])
        next(replies)
        replies.close()
    assert len(stub.requests) < 20


# --- transformers -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.mark.slow
def test_transformers_generates_in_batches_with_the_chat_template(tiny_checkpoint):
    requests = [
        request("svg_1", "a bar chart"),
        request("svg_2", "a long pie chart " * 6),
        request("svg_3", "x"),
    ]
    backend = make_backend(f"transformers:{tiny_checkpoint}", {"batch_size": 2, "max_new_tokens": 8})
    prompt = backend.render_prompt(requests[0].messages)
    assert prompt.endswith("<|im_start|>assistant\n") and "<|im_start|>user\na bar chart<|im_end|>" in prompt
    results = dict(backend.generate(requests))
    assert sorted(results) == [0, 1, 2]
    for result in results.values():
        assert not result.error and result.text
        assert result.usage["completion_tokens"] <= 8 and result.finish_reason in ("stop", "length")
    # left padding is right: a request gives the same greedy reply alone as in a padded batch
    alone = dict(
        make_backend(f"transformers:{tiny_checkpoint}", {"batch_size": 1, "max_new_tokens": 8}).generate(
            requests
        )
    )
    assert {i: r.text for i, r in alone.items()} == {i: r.text for i, r in results.items()}
    identity = backend.identity()
    assert identity["prompt_format"] == "chat_template" and identity["temperature"] == 0.0
    assert identity["fingerprint"] and identity["max_new_tokens"] == 8


@pytest.mark.slow
def test_transformers_llama3_headers_reproduces_the_reference_prompt(tiny_checkpoint):
    backend = make_backend(
        f"transformers:{tiny_checkpoint}", {"prompt_format": "llama3_headers", "max_new_tokens": 4}
    )
    messages = request("svg_1", "draw").messages
    assert backend.render_prompt(messages) == (
        "<|start_header_id|>system<|end_header_id|>\n\nYou write code.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\ndraw<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )
    ((_, result),) = backend.generate([request("svg_1", "draw")])
    assert not result.error
    assert backend.identity()["prompt_format"] == "llama3_headers"


def test_transformers_options_are_checked_before_loading_anything(tmp_path):
    with pytest.raises(ValueError, match="prompt_format must be one of chat_template, llama3_headers"):
        make_backend(f"transformers:{tmp_path}", {"prompt_format": "chatml"})
    with pytest.raises(ValueError, match="no such checkpoint folder"):
        make_backend(f"transformers:{tmp_path / 'absent'}")


# --- vllm ---------------------------------------------------------------------------------------------


def test_vllm_checks_options_before_needing_vllm():
    with pytest.raises(ValueError, match=r"Unknown option.*'bogus'.*tensor_parallel_size"):
        make_backend("vllm:some/model", {"bogus": 1})
    with pytest.raises(ValueError, match="prompt_format must be one of"):
        make_backend("vllm:some/model", {"prompt_format": "raw"})


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
def test_vllm_missing_says_how_to_install_it():
    with pytest.raises(ImportError, match=r"pip install 'visplotbench\[vllm\]'"):
        make_backend("vllm:some/model", {"tensor_parallel_size": "2", "max_model_len": 32768})


def test_a_missing_optional_package_names_the_extra_to_install():
    from visplotbench.backends._options import require_packages

    require_packages("openai", "openai")  # installed here: no error
    with pytest.raises(
        ImportError, match=r"needs no_such_pkg_xyz.*pip install 'visplotbench\[transformers\]'"
    ):
        require_packages("transformers", "torch", "no_such_pkg_xyz")
