"""A real HTTP peer on 127.0.0.1 that records what the alert sinks send it.

Sinks are tested against a socket, not a mock: the bytes on the wire, the headers and the
status handling are the ones production sees.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback import loopback_http


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw)


@dataclass
class Receiver:
    """Answers each request with `status` (and `reply`), recording it first."""

    url: str = ""
    status: int = 200
    reply: bytes = b"ok"
    requests: list[Received] = field(default_factory=list)

    @property
    def bodies(self) -> list[Any]:
        return [r.body for r in self.requests]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            receiver.requests.append(Received("POST", self.path, headers, raw))
            self.send_response(receiver.status)
            self.send_header("Content-Length", str(len(receiver.reply)))
            self.end_headers()
            self.wfile.write(receiver.reply)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            return

    return Handler


@contextmanager
def receiving(status: int = 200, reply: bytes = b"ok") -> Iterator[Receiver]:
    """Serve on a free loopback port for the duration of the block."""
    receiver = Receiver(status=status, reply=reply)
    with loopback_http(_handler(receiver)) as receiver.url:
        yield receiver
