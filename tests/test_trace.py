"""The trace: one event per layer step, in wire order, pinned for a TLS call."""

from __future__ import annotations

import socket

import pytest

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
        "connection.dns.started",
        "connection.dns.complete",
        "connection.tcp.started",
        "connection.tcp.complete",
        "connection.tls.started",
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
    tls = next(e for e in exchange.trace if e.name == "connection.tls" and e.step == "complete")
    assert tls.info["alpn"] == "http/1.1" and tls.info["version"] in ("TLSv1.2", "TLSv1.3")
    times = [e.time for e in exchange.trace]
    assert times == sorted(times)


def test_dns_tcp_and_tls_are_traced_live_each_with_its_own_times() -> None:
    """Each connection step has a start and an end of its own, in order, none at the same instant."""
    with FakeServer(tls=True) as server:
        port = server.base_url.split(":")[2].split("/")[0]
        with Client(base_url=f"https://localhost:{port}/v1", api_key=KEY, ca_file=DEMO_CA_FILE, timeout=5) as client:
            exchange = client.chat("Hi")
    steps = [e for e in exchange.trace if e.name in ("connection.dns", "connection.tcp", "connection.tls")]
    assert [f"{e.name}.{e.step}" for e in steps] == [
        "connection.dns.started",
        "connection.dns.complete",
        "connection.tcp.started",
        "connection.tcp.complete",
        "connection.tls.started",
        "connection.tls.complete",
    ]
    times = [e.time for e in steps]
    # getaddrinfo, connect() and the handshake each take time: every step ends after it starts,
    # and the next one starts after that.
    assert all(a < b for a, b in zip(times, times[1:], strict=False)), times
    dns, tcp, tls = times[1], times[3], times[5]
    t = exchange.timings
    assert t.dns is not None and t.connect is not None and t.tls is not None
    assert dns < tcp < tls
    # The same moments as the connection's own timings (another clock start, the same durations).
    assert abs((tls - dns) - (t.tls - t.dns)) < 1e-3
    assert steps[1].info["addresses"] and steps[3].info["peer"] == exchange.peer
    assert steps[4].info == {"server_hostname": "localhost"}


class Stop(Exception):
    """Raised by a trace callback: stop the call right there (as wire chat --step does on q)."""


def test_tcp_complete_is_reported_before_tls_starts() -> None:
    """Stopping at connection.tcp.complete closes the socket before any TLS byte: the event is live."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(5)
        port = listener.getsockname()[1]

        def stop_after_tcp(event: TraceEvent) -> None:
            if (event.name, event.step) == ("connection.tcp", "complete"):
                raise Stop

        client = Client(base_url=f"https://127.0.0.1:{port}/v1", api_key=KEY, timeout=5, on_trace=stop_after_tcp)
        with pytest.raises(Stop):
            client.chat("Hi")
        accepted, _ = listener.accept()
        with accepted:
            accepted.settimeout(5)
            assert accepted.recv(1024) == b""  # closed with nothing sent: no ClientHello


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


def test_a_failed_step_is_traced_as_failed_where_it_failed() -> None:
    from wire.errors import NetworkError

    seen: list[TraceEvent] = []
    client = Client(base_url="https://bad..name/v1", api_key=KEY, timeout=5, max_retries=0, on_trace=seen.append)
    with pytest.raises(NetworkError) as info:
        client.chat("Hi")
    steps = [f"{e.name}.{e.step}" for e in seen if e.name.startswith("connection.")]
    assert steps == ["connection.open.started", "connection.dns.started", "connection.dns.failed",
                     "connection.open.failed"]
    failed = next(e for e in seen if e.name == "connection.dns" and e.step == "failed")
    assert failed.info["error"] == f"NetworkError: {info.value}"



def test_a_refused_tcp_connect_and_a_failed_handshake_are_traced_as_failed_steps() -> None:
    from wire.errors import NetworkError, TLSError

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    refused = probe.getsockname()[1]
    probe.close()  # nothing listens there now: connect() is refused
    with FakeServer() as plain:  # plain HTTP: a ClientHello gets no handshake
        https_to_plain = plain.base_url.replace("http://", "https://")
        for base_url, error, failed_step in [
            (f"http://127.0.0.1:{refused}/v1", NetworkError, "connection.tcp"),
            (https_to_plain, TLSError, "connection.tls"),
        ]:
            seen: list[TraceEvent] = []
            client = Client(base_url=base_url, api_key=KEY, timeout=5, max_retries=0, on_trace=seen.append)
            with pytest.raises(error) as info:
                client.chat("Hi")
            steps = [f"{e.name}.{e.step}" for e in seen if e.name.startswith("connection.")]
            assert steps[-3:] == [f"{failed_step}.started", f"{failed_step}.failed", "connection.open.failed"]
            assert "connection.dns.complete" in steps
            assert ("connection.tcp.complete" in steps) == (failed_step == "connection.tls")
            failed = next(e for e in seen if e.name == failed_step and e.step == "failed")
            assert failed.info == {"error": f"{type(info.value).__name__}: {info.value}"}

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


def stream_read(tracer: object, offset: int, chunks: int) -> list[object]:
    """One read of a stream, traced as the client traces it: one chunk frame and one event per chunk."""
    from wire.http11 import ChunkEnd, ChunkHeader, Data
    from wire.sse import ServerSentEvent
    from wire.trace import Tracer

    assert isinstance(tracer, Tracer)
    events: list[object] = []
    for i in range(chunks):
        at = offset + 20 * i
        events += [ChunkHeader(8, [], b"8\r\n", at), Data(b"data: x\n", at + 3), ChunkEnd(at + 11)]
    tracer.parser_events(events)  # type: ignore[arg-type]
    for i in range(chunks):
        tracer.stream_event(ServerSentEvent(data=f"{offset + i}", offset=offset + 20 * i), f"d{offset + i}")
    return events


def test_a_bounded_trace_keeps_the_first_and_the_latest_steps_and_counts_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whole reads are kept or cut: the first until KEEP_FIRST steps, the latest holding KEEP_LAST; dropped counts steps."""
    import wire.capture
    from wire.trace import Tracer

    monkeypatch.setattr(wire.capture, "KEEP_FIRST", 4)
    monkeypatch.setattr(wire.capture, "KEEP_LAST", 5)
    tracer = Tracer(capture="bounded")
    tracer.record("attempt", "started", {"number": 1})  # 1 step
    for read in range(6):
        stream_read(tracer, 1000 * read, 2)  # 2 chunk steps, 2 sse.event steps, 2 chat.chunk steps
    tracer.record("attempt", "complete", {"number": 1})
    steps = tracer.events
    # The first: the attempt and the whole first read (7 steps, KEEP_FIRST 4 reached inside it). The
    # latest: the last read and the final step (7 >= 5). Between them 4 reads of 6 steps were cut.
    assert tracer.dropped == 24 and len(steps) == 1 + 6 + 6 + 1
    assert [s.info.get("offset") for s in steps if s.name == "http11.chunk"] == [0, 20, 5000, 5020]
    assert [s.info["delta"] for s in steps if s.name == "chat.chunk"] == ["d0", "d1", "d5000", "d5001"]
    assert [s.name for s in steps[1:7]] == ["http11.chunk"] * 2 + ["sse.event", "chat.chunk"] * 2
    assert tracer.events == steps and tracer.dropped == 24  # made once; reading again cuts nothing more
    # A read after the trace was read: its steps are the latest now; the steps before it are cut one by one.
    stream_read(tracer, 9000, 1)
    steps = tracer.events
    assert [s.info.get("offset") for s in steps if s.name == "sse.event"] == [0, 20, 9000]
    assert [s.name for s in steps[7:]] == ["chat.chunk", "attempt", "http11.chunk", "sse.event", "chat.chunk"]
    assert tracer.dropped == 29 and len(steps) + tracer.dropped == 1 + 36 + 1 + 3  # every step kept or counted


def test_a_full_trace_keeps_every_read_and_gives_each_step_its_reads_time() -> None:
    from wire.trace import Tracer

    tracer = Tracer(capture="full")
    for read in range(3):
        stream_read(tracer, 1000 * read, 40)
    steps = tracer.events
    assert tracer.dropped == 0 and len(steps) == 3 * 40 * 3
    times = [s.time for s in steps]
    assert times[0] < times[120] < times[240]  # three reads, three times
    assert times[:120] == [times[0]] * 120 and times[120:240] == [times[120]] * 120


def test_events_of_a_read_traced_after_the_trace_was_read_are_kept() -> None:
    """Reading the trace half-way through a read (in a loop over the deltas) loses none of the read's later steps."""
    from wire.sse import ServerSentEvent
    from wire.trace import Tracer

    tracer = Tracer()
    stream_read(tracer, 0, 1)
    assert [s.name for s in tracer.events] == ["http11.chunk", "sse.event", "chat.chunk"]
    tracer.stream_event(ServerSentEvent(data="[DONE]", offset=20), None)  # the same read's next event
    assert [s.name for s in tracer.events] == ["http11.chunk", "sse.event", "chat.chunk", "sse.event"]
    assert tracer.events[-1].info == {"event": "message", "data": "[DONE]", "offset": 20}


def test_a_live_trace_read_twice_has_the_steps_made_in_between() -> None:
    from wire.trace import Tracer

    seen: list[TraceEvent] = []
    tracer = Tracer(seen.append, capture="bounded")
    tracer.record("attempt", "started", {"number": 1})
    assert [s.name for s in tracer.events] == ["attempt"]
    stream_read(tracer, 0, 1)
    assert [s.name for s in tracer.events] == ["attempt", "http11.chunk", "sse.event", "chat.chunk"] and seen == tracer.events
