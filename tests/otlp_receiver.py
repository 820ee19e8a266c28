"""A real OTLP/HTTP trace receiver on loopback, for the export tests: what a collector would get.

POST /v1/traces bodies (gzip or deflate per Content-Encoding) are decoded with the opentelemetry-proto
package's ExportTraceServiceRequest, and each span is kept with its attributes and its resource's as plain
Python values. `hang=True` accepts each request and never answers (a collector that hangs) until close.
"""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from tests.loopback import loopback_http

TRACES_PATH = "/v1/traces"


@dataclass
class Span:
    """One received span, in plain values (ids as lowercase hex, times in ns since the epoch)."""

    name: str
    kind: int  # the proto's Span.SpanKind number: 1 internal, 3 client
    trace_id: str
    span_id: str
    parent_span_id: str
    start_ns: int
    end_ns: int
    status_code: int  # 0 unset, 1 ok, 2 error
    status_message: str
    attributes: dict[str, Any]
    resource: dict[str, Any]
    scope: str


@dataclass
class Receiver:
    url: str  # the base, as OTEL_EXPORTER_OTLP_ENDPOINT takes it
    hang: bool = False
    spans: list[Span] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)  # each request's headers, lowercased
    bodies: list[bytes] = field(default_factory=list)  # each request's protobuf, decompressed
    arrived: threading.Condition = field(default_factory=threading.Condition)
    release: threading.Event = field(default_factory=threading.Event)  # ends the hanging handlers

    @property
    def traces_url(self) -> str:
        return self.url + TRACES_PATH

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Span]:
        """The spans once at least `count` arrived; AssertionError with what did arrive after `timeout` s."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.spans) >= count, timeout)
            assert len(self.spans) >= count, f"{len(self.spans)} of {count} spans arrived: {self.spans}"
            return list(self.spans)

    def wait_for_request(self, timeout: float = 15.0) -> None:
        """Until a request reached the receiver (in hang mode: it is being held)."""
        with self.arrived:
            assert self.arrived.wait_for(lambda: bool(self.requests), timeout), "no export request arrived"

    def add(self, headers: dict[str, str], body: bytes, spans: list[Span]) -> None:
        with self.arrived:
            self.requests.append(headers)
            self.bodies.append(body)
            self.spans.extend(spans)
            self.arrived.notify_all()


def value(v: AnyValue) -> Any:
    """An OTLP AnyValue as the Python value it carries (arrays as lists, maps as dicts)."""
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return attributes(v.kvlist_value.values)
    return None if kind is None else getattr(v, kind)


def attributes(pairs: Any) -> dict[str, Any]:
    return {kv.key: value(kv.value) for kv in pairs if isinstance(kv, KeyValue)}


def decompress(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    return body


def decode(body: bytes) -> list[Span]:
    """Decode one export request's (decompressed) body into its spans."""
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for rs in request.resource_spans:
        resource = attributes(rs.resource.attributes)
        for ss in rs.scope_spans:
            for s in ss.spans:
                spans.append(Span(
                    name=s.name, kind=s.kind, trace_id=s.trace_id.hex(), span_id=s.span_id.hex(),
                    parent_span_id=s.parent_span_id.hex(), start_ns=s.start_time_unix_nano,
                    end_ns=s.end_time_unix_nano, status_code=s.status.code, status_message=s.status.message,
                    attributes=attributes(s.attributes), resource=resource, scope=ss.scope.name))
    return spans


@contextmanager
def otlp_receiver(*, hang: bool = False) -> Iterator[Receiver]:
    """Serve POST /v1/traces on 127.0.0.1 and a free port until the block ends."""
    state = Receiver(url="", hang=hang)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            if self.path != TRACES_PATH:
                self._send(404, b"")
                return
            body = decompress(body, headers.get("content-encoding", ""))
            spans = decode(body)
            if state.hang:
                state.add(headers, body, [])  # seen, held, never answered
                state.release.wait()
                self.close_connection = True
                return
            state.add(headers, body, spans)
            self._send(200, ExportTraceServiceResponse().SerializeToString())

        def _send(self, status: int, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    with loopback_http(Handler) as state.url:
        try:
            yield state
        finally:
            state.release.set()  # a hanging request lets go before the server stops
