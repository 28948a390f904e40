"""A small OpenAI-compatible HTTP server for tests: real HTTP on 127.0.0.1, replies from a script.

    from stub_openai import StubOpenAI

    def script(body, call):                      # body: the request JSON; call: 0, 1, 2... in arrival order
        if call == 0:
            return 429, {"error": {"message": "slow down"}}, {"Retry-After": "1"}
        return "```python\\nprint(1)\\n```"

    with StubOpenAI(script) as stub:
        client = OpenAI(base_url=stub.base_url, api_key="x")   # stub.base_url ends in /v1
        ...
        stub.requests        # every POST /v1/chat/completions body (dicts), in arrival order
        stub.headers         # their headers (dicts with lower-case names), same order
        stub.max_concurrent  # the most chat requests that were in flight at once

A script returns one of:
  * ``str``: the assistant's reply text (``finish_reason`` "stop");
  * ``dict``: the assistant message itself, e.g. ``{"content": "...", "reasoning_content": "..."}``,
    optionally with ``"finish_reason"``;
  * ``(status, body)`` or ``(status, body, headers)``: an HTTP error (``body`` a dict or text).
A script may sleep (each request is served on its own thread). A script that raises answers 500 with
the exception text. Without a script the stub echoes the last user message.
``GET /v1/models`` lists one model, ``stub-model``. Streaming is not supported (answers 400).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Script = Callable[[dict[str, Any], int], Any]


def echo(body: dict[str, Any], call: int) -> str:
    """The default script: reply with the last user message."""
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    content = users[-1]["content"] if users else ""
    return content if isinstance(content, str) else json.dumps(content)


class StubOpenAI:
    """An OpenAI-compatible chat-completions server in a background thread (see the module docstring)."""

    def __init__(self, script: Script | None = None, model: str = "stub-model") -> None:
        self.script: Script = script or echo
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.max_concurrent = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> StubOpenAI:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> StubOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _chat(self, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            call = len(self.requests)
            self.requests.append(body)
            self.headers.append(headers)
            self._in_flight += 1
            self.max_concurrent = max(self.max_concurrent, self._in_flight)
        try:
            if body.get("stream"):
                return 400, {"error": {"message": "the stub does not stream"}}, {}
            try:
                answer = self.script(body, call)
            except Exception as exc:
                return 500, {"error": {"message": f"stub script raised {exc!r}"}}, {}
            if isinstance(answer, tuple):
                status, payload, *rest = answer
                return status, payload, dict(rest[0]) if rest else {}
            message = {"content": answer} if isinstance(answer, str) else dict(answer)
            finish = message.pop("finish_reason", "stop")
            message.setdefault("role", "assistant")
            completion = {
                "id": f"chatcmpl-stub-{call}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", self.model),
                "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }
            return 200, completion, {}
        finally:
            with self._lock:
                self._in_flight -= 1


def _handler_for(stub: StubOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                pass

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                self._send(
                    200,
                    {
                        "object": "list",
                        "data": [{"id": stub.model, "object": "model", "created": 0, "owned_by": "stub"}],
                    },
                )
            else:
                self._send(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError as exc:
                self._send(400, {"error": {"message": f"invalid JSON: {exc}"}})
                return
            headers = {name.lower(): value for name, value in self.headers.items()}
            self._send(*stub._chat(body, headers))

    return Handler
