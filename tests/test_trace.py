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
