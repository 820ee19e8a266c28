"""Local fake model providers on a real socket, speaking the OpenAI and Anthropic wire formats.

Each server asks for one tool (get_balance) and, once it receives the tool result, answers with
a final text. It records every request (GET too: a followed redirect would show; CONNECT too: a server used
as a proxy sees the tunnels asked of it) so tests can assert on the exact wire shapes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback import loopback_http


@dataclass
class Seen:
    path: str
    headers: dict[str, str]  # lower-cased names; a repeated header keeps only one value here
    body: dict[str, Any]
    method: str = "POST"
    header_lines: list[tuple[str, str]] = field(default_factory=list)  # every header line as sent, repeats included

    def all(self, name: str) -> list[str]:
        """Every value sent under `name`, in any letter case."""
        return [v for k, v in self.header_lines if k.lower() == name.lower()]


@dataclass
class FakeServer:
    url: str
    requests: list[Seen] = field(default_factory=list)
    # (status, body) or (status, body, headers), served in order before the real replies
    fail_first: list[tuple[int, str] | tuple[int, str, dict[str, str]]] = field(default_factory=list)


Responder = Callable[[dict[str, Any]], dict[str, Any]]


def openai_reply(body: dict[str, Any]) -> dict[str, Any]:
    last = body["messages"][-1]
    if last["role"] == "tool":
        message = {"role": "assistant", "content": f"balance seen: {json.loads(last['content'])['ok']}"}
        finish = "stop"
    else:
        message = {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_abc", "type": "function", "function": {"name": "get_balance", "arguments": "{}"}}]}
        finish = "tool_calls"
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}}


def anthropic_reply(body: dict[str, Any]) -> dict[str, Any]:
    last = body["messages"][-1]
    results = [b for b in last["content"] if b.get("type") == "tool_result"] if last["role"] == "user" else []
    if results:
        content = [{"type": "text", "text": f"balance seen: {not results[0]['is_error']}"}]
        stop = "end_turn"
    else:
        content = [{"type": "text", "text": "Let me check."},
                   {"type": "tool_use", "id": "toolu_01", "name": "get_balance", "input": {}}]
        stop = "tool_use"
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": body["model"], "content": content,
            "stop_reason": stop, "usage": {"input_tokens": 200, "output_tokens": 50}}


@contextmanager
def serve(responder: Responder) -> Iterator[FakeServer]:
    server_state = FakeServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("content-length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            self._record(body)
            if server_state.fail_first:
                status, text, *headers = server_state.fail_first.pop(0)
                self._send(status, text.encode(), *headers)
                return
            self._send(200, json.dumps(responder(body)).encode())

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._record({})
            self._send(404, b"{}")

        def do_CONNECT(self) -> None:  # noqa: N802 (http.server's naming)
            self._record({})
            self._send(502, b"{}")  # recorded, never tunnelled

        def _record(self, body: dict[str, Any]) -> None:
            lines = list(self.headers.items())
            server_state.requests.append(Seen(self.path, {k.lower(): v for k, v in lines}, body, self.command, lines))

        def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    with loopback_http(Handler) as server_state.url:
        yield server_state
