"""The trace: one event per layer step, in wire order, pinned for a TLS call."""

from __future__ import annotations

from wire.client import Client
from wire.fake import DEMO_CA_FILE, FakeServer
from wire.trace import TraceEvent

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"

FIELDS = ["date", "content-type", "transfer-encoding", "connection", "access-control-expose-headers",
          "openai-organization", "openai-processing-ms", "openai-version", "x-ratelimit-limit-requests",
          "x-ratelimit-limit-tokens", "x-ratelimit-remaining-requests", "x-ratelimit-remaining-tokens",
          "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens", "x-request-id", "server"]


def test_exact_event_order_of_a_tls_call() -> None:
    seen: list[TraceEvent] = []
    with FakeServer(tls=True) as server:
        with Client(base_url=server.base_url, api_key=KEY, ca_file=DEMO_CA_FILE, timeout=5,
                    on_trace=seen.append) as client:
            exchange = client.chat("Tell me a fun fact about HTTP.")
    steps = [f"{e.name}.{e.step}" for e in exchange.trace]
    assert steps == [
        "payload.build.complete",
        "request.build.complete",
        "attempt.started",
        "connection.open.started",
        "connection.dns.complete",
        "connection.tcp.complete",
        "connection.tls.complete",
        "connection.open.complete",
        "http11.send_head.started",
        "http11.send_head.complete",
        "http11.send_body.complete",
        "http11.status_line.complete",
        *["http11.field.complete"] * len(FIELDS),
        "http11.end_of_head.complete",
        "http11.chunk.complete",
        "http11.chunk.complete",
        "http11.chunk.complete",
        "http11.end_of_message.complete",
        "json.parse.complete",
        "chat.completion.complete",
        "attempt.complete",
    ]
    assert seen == exchange.trace  # the callback saw each event, in the same order
    assert [e.info["name"] for e in exchange.trace if e.name == "http11.field"] == FIELDS
    assert [e.info["size"] for e in exchange.trace if e.name == "http11.chunk"][-1] == 0
    tls = next(e for e in exchange.trace if e.name == "connection.tls")
    assert tls.info["alpn"] == "http/1.1" and tls.info["version"] in ("TLSv1.2", "TLSv1.3")
    times = [e.time for e in exchange.trace]
    assert times == sorted(times)


def test_stream_trace_has_one_event_per_sse_event_and_comment() -> None:
    with FakeServer(keepalive_comments=True) as server:
        with Client(base_url=server.base_url, api_key=KEY, timeout=5) as client:
            exchange = client.chat("Hi", stream=True)
    events = [e for e in exchange.trace if e.name == "sse.event"]
    comments = [e for e in exchange.trace if e.name == "sse.comment"]
    assert len(events) == len(exchange.sse_events) and events[-1].info["data"] == "[DONE]"
    assert exchange.sse_decoder is not None and len(comments) == len(exchange.sse_decoder.comments) > 0
    assert [e.info["offset"] for e in events] == [e.offset for e in exchange.sse_events]


def test_failed_attempt_and_retry_are_traced() -> None:
    from wire.fake import Scenario

    with FakeServer([Scenario(status=503, retry_after="0.01"), Scenario()]) as server:
        with Client(base_url=server.base_url, api_key=KEY, timeout=5, sleep=lambda s: None) as client:
            exchange = client.chat("Hi")
    steps = [(e.name, e.step) for e in exchange.trace if e.name.startswith("attempt")]
    assert steps == [("attempt", "started"), ("attempt", "failed"), ("attempt.retry", "started"),
                     ("attempt", "started"), ("attempt", "complete")]
    failed = next(e for e in exchange.trace if e.step == "failed")
    assert failed.info["error"].startswith("APIError: Error 503")


RESPONSE = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Check\r\n\r\n"
    b"3;x=1\r\nabc\r\n0\r\nX-Check: ok\r\n\r\n"
)
PARSER_STEPS = [
    ("http11.status_line", {"status": 200, "reason": "OK", "version": "HTTP/1.1"}),
    ("http11.field", {"name": "Transfer-Encoding", "value": "chunked", "offset": 17}),
    ("http11.field", {"name": "Trailer", "value": "X-Check", "offset": 45}),
    ("http11.end_of_head", {"framing": "chunked", "informational": False}),
    ("http11.chunk", {"size": 3, "extensions": [("x", "1")], "offset": 65}),
    ("http11.chunk", {"size": 0, "extensions": [], "offset": 77}),
    ("http11.trailer", {"name": "X-Check", "value": "ok", "offset": 80}),
    ("http11.end_of_message", {"keep_alive": True, "offset": 95}),
]


def test_parser_events_become_one_trace_event_each_with_or_without_a_callback() -> None:
    from wire.http11 import ResponseParser
    from wire.trace import Tracer

    events = ResponseParser().feed(RESPONSE)
    seen: list[TraceEvent] = []
    live, lazy = Tracer(seen.append), Tracer()
    live.parser_events(events)
    lazy.parser_events(events)
    live.parser_events([])  # nothing arrived: nothing traced
    for tracer in (live, lazy):
        assert [(e.name, e.step, e.info) for e in tracer.events] == [(n, "complete", i) for n, i in PARSER_STEPS]
    assert seen == live.events
    assert lazy.events == lazy.events  # expanded once, the same on every read


def test_trace_event_text() -> None:
    assert str(TraceEvent("request.build", "complete", 0.0123456, {"bytes": 42, "host": "h"})) == (
        "   12.35 ms  request.build.complete  bytes=42, host='h'"
    )
    assert str(TraceEvent("attempt", "started", 1.5)) == " 1500.00 ms  attempt.started"
