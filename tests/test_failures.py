"""When the network or the API misbehaves: clear wire errors, timeouts by phase, visible retries."""

from __future__ import annotations

import email.utils
import socket
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from rawserver import TIMEOUT, RawServer, raises_within

import wire
from wire.client import Client
from wire.fake import FakeServer, Scenario
from wire.retry import NOT_RESENT
from wire.trace import TraceEvent
from wire.transport import Timeouts

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"
PROMPT = "Hi"
OK_BODY = (
    b'{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,'
    b'"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}'
)


def client(url: str, **kw: object) -> Client:
    kw.setdefault("timeout", 5)
    kw.setdefault("sleep", lambda seconds: None)
    return Client(base_url=url, api_key=KEY, **kw)  # type: ignore[arg-type]


def reply(status: int, *fields: str, body: bytes = b'{"error":{"message":"nope"}}') -> bytes:
    head = f"HTTP/1.1 {status} X\r\n" + "".join(f"{f}\r\n" for f in fields)
    return head.encode() + b"content-length: %d\r\n\r\n" % len(body) + body


# --- API errors ---


def test_api_error_with_only_some_fields_and_non_json_body() -> None:
    with RawServer(reply(400, "x-request-id: req_1", body=b'{"error":{"message":"bad model","param":"model"}}')) as s:
        with pytest.raises(wire.APIError) as info:
            client(s.base_url).chat(PROMPT)
    err = info.value
    assert (err.status, err.message, err.param, err.type, err.code, err.request_id) == (
        400, "bad model", "model", None, None, "req_1")
    with RawServer(reply(502, body=b"<html>Bad Gateway</html>")) as s:
        with pytest.raises(wire.APIError) as info:
            client(s.base_url, max_retries=0).chat(PROMPT)
    assert info.value.message == "<html>Bad Gateway</html>" and str(info.value) == "Error 502: <html>Bad Gateway</html>"


# --- retries ---


@pytest.mark.parametrize(
    "fields,expected",
    [
        (("retry-after-ms: 250",), 0.25),
        (("retry-after: 2",), 2.0),
        (("retry-after: 120",), 120.0),  # the longest wait wire accepts (the SDK 3.57.0's)
        (("retry-after: soon",), 0.5),  # not a number or date: backoff
    ],
)
def test_retry_delay_follows_the_server_within_a_cap(fields: tuple[str, ...], expected: float) -> None:
    asked = dict(f.split(": ", 1) for f in fields)
    first = Scenario(status=429, retry_after=asked.get("retry-after", ""), retry_after_ms=asked.get("retry-after-ms"))
    waits: list[float] = []
    with FakeServer([first, Scenario()]) as server:
        exchange = client(server.base_url, sleep=waits.append, rng=lambda: 0.0).chat(PROMPT)
    assert waits == [expected]
    assert [a.response.status for a in exchange.attempts if a.response] == [429, 200]


def test_a_retry_after_beyond_two_minutes_is_not_retried() -> None:
    waits: list[float] = []
    with FakeServer([Scenario(status=429, retry_after="600"), Scenario()]) as server:
        with pytest.raises(wire.APIError) as info:
            client(server.base_url, sleep=waits.append).chat(PROMPT)
    assert info.value.status == 429 and waits == [] and len(info.value.exchange.attempts) == 1


def test_retry_after_as_an_http_date() -> None:
    when = email.utils.formatdate(time.time() + 3, usegmt=True)
    waits: list[float] = []
    with FakeServer([Scenario(status=503, retry_after=when), Scenario()]) as server:
        client(server.base_url, sleep=waits.append).chat(PROMPT)
    assert len(waits) == 1 and 1.0 < waits[0] <= 3.0


def test_x_should_retry_overrides_the_status() -> None:
    waits: list[float] = []
    with FakeServer([Scenario(status=400, should_retry="true"), Scenario()]) as server:
        exchange = client(server.base_url, sleep=waits.append, rng=lambda: 0.0).chat(PROMPT)
    assert len(exchange.attempts) == 2 and waits == [0.5]
    with FakeServer(status=500, should_retry="false") as server:
        with pytest.raises(wire.APIError) as info:
            client(server.base_url, sleep=waits.append).chat(PROMPT)
    assert len(info.value.exchange.attempts) == 1


def test_backoff_is_exponential_with_jitter_and_stops_at_max_retries() -> None:
    waits: list[float] = []
    with FakeServer(status=500) as server:
        with pytest.raises(wire.APIError) as info:
            client(server.base_url, max_retries=3, sleep=waits.append, rng=lambda: 1.0).chat(PROMPT)
    assert waits == [0.375, 0.75, 1.5]  # 0.5 * 2**n, less 25 % jitter at its largest
    assert [a.retry_delay for a in info.value.exchange.attempts] == [0.375, 0.75, 1.5, None]
    assert all(a.response_bytes.startswith(b"HTTP/1.1 500 ") for a in info.value.exchange.attempts)


def test_connection_refused_is_retried_then_a_network_error_with_the_phase() -> None:
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens here now
    waits: list[float] = []
    with pytest.raises(wire.NetworkError) as info:
        client(f"http://127.0.0.1:{port}/v1", sleep=waits.append, rng=lambda: 0.0).chat(PROMPT)
    err = info.value
    assert err.phase == "connect" and not isinstance(err, wire.Timeout)
    assert len(err.exchange.attempts) == 3 and waits == [0.5, 1.0]
    assert "is the server running" in str(err)


def test_connection_refused_is_retried_up_to_max_retries() -> None:
    """The request never left (no connection): each retry is a new connect, counted from the trace."""
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens here now
    opens: list[TraceEvent] = []
    waits: list[float] = []

    def on_trace(event: TraceEvent) -> None:
        if event.name == "connection.open" and event.step == "started":
            opens.append(event)

    with pytest.raises(wire.NetworkError) as info:
        client(
            f"http://127.0.0.1:{port}/v1", max_retries=3, sleep=waits.append, rng=lambda: 0.0, on_trace=on_trace
        ).chat(PROMPT)
    err = info.value
    assert err.phase == "connect" and len(opens) == 4 and waits == [0.5, 1.0, 2.0]
    assert [a.request_sent for a in err.exchange.attempts] == [False] * 4
    assert NOT_RESENT not in str(err)


def test_a_503_is_sent_again_up_to_max_retries() -> None:
    """The server answered and asks for a retry (5xx): three requests with max_retries=2, then the APIError."""
    waits: list[float] = []
    with RawServer(reply(503, "connection: close"), connections=4) as server:
        with pytest.raises(wire.APIError) as info:
            client(server.base_url, max_retries=2, sleep=waits.append, rng=lambda: 0.0).chat(PROMPT)
        for _ in range(3):
            assert server.closed.acquire(timeout=TIMEOUT)
    err = info.value
    assert err.status == 503 and waits == [0.5, 1.0]
    assert server.requests == [err.exchange.request_bytes] * 3
    assert [a.response.status for a in err.exchange.attempts if a.response] == [503, 503, 503]


# --- sent once: no retry after the request went out (RFC 9110 §9.2.2) ---


def until_the_client_closes(saw_close: list[bool]) -> Callable[[socket.socket], None]:
    """A RawServer step: send nothing, read until the client closes (within TIMEOUT), note that it did."""

    def step(conn: socket.socket) -> None:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            conn.settimeout(max(deadline - time.monotonic(), 0.01))
            if not conn.recv(65536):
                saw_close.append(True)
                return

    return step


def reset(conn: socket.socket) -> None:
    """A RawServer step: close with RST (SO_LINGER 0) instead of answering."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def test_a_read_timeout_after_the_whole_request_is_not_sent_again() -> None:
    """The POST went out whole, no reply byte came: the server may be working on it, so it is sent once."""
    saw_close: list[bool] = []
    waits: list[float] = []
    with RawServer(until_the_client_closes(saw_close), connections=4) as server:
        c = client(server.base_url, timeout=Timeouts(read=0.3), max_retries=3, sleep=waits.append)
        err, elapsed = raises_within(15, lambda: c.chat(PROMPT))
        assert server.closed.acquire(timeout=TIMEOUT)  # the first connection is over: requests is complete
    assert isinstance(err, wire.Timeout), repr(err)
    assert err.phase == "read" and err.received == b"" and elapsed < 0.3 + SLACK
    assert str(err) == f"read: no bytes arrived for 0.3s (0 bytes received so far) — {NOT_RESENT}"
    assert err.hint == NOT_RESENT
    exchange = err.exchange
    assert server.requests == [exchange.request_bytes]  # all of it arrived, once
    assert saw_close == [True]  # and the client closed the socket it gave up on
    assert waits == [] and len(exchange.attempts) == 1
    assert exchange.attempts[0].request_sent and exchange.attempts[0].error is err
    # The docs quote the message as the CLI prints it with the default read limit (60 s).
    quoted = f"Timeout: {err}".replace("for 0.3s", "for 60.0s")
    for doc in ("docs/troubleshooting.md", "docs/tour/09-errors-and-retries.md"):
        assert quoted in (Path(__file__).parents[1] / doc).read_text(encoding="utf-8"), doc


@pytest.mark.parametrize("end", ["reset", "close"])
def test_a_reset_or_close_after_the_request_with_no_reply_byte_is_not_sent_again(end: str) -> None:
    waits: list[float] = []
    steps = (reset,) if end == "reset" else ()
    with RawServer(*steps, connections=4) as server:
        with pytest.raises(wire.WireError) as info:
            client(server.base_url, max_retries=3, sleep=waits.append).chat(PROMPT)
        assert server.closed.acquire(timeout=TIMEOUT)
    err = info.value
    if end == "reset":
        assert isinstance(err, wire.NetworkError) and not isinstance(err, wire.Timeout), repr(err)
        assert err.phase == "receive" and "reset" in err.message
    else:
        assert isinstance(err, wire.IncompleteMessage), repr(err)
        assert err.offset == 0 and err.state == "status line"
    assert err.received == b"" and str(err).endswith(" — " + NOT_RESENT)
    assert server.requests == [err.exchange.request_bytes]
    assert waits == [] and len(err.exchange.attempts) == 1 and err.exchange.attempts[0].request_sent


def test_no_retry_once_a_stream_has_delivered() -> None:
    with FakeServer([Scenario(fault="close_mid_body", events_per_frame=3), Scenario()]) as server:
        stream = client(server.base_url).stream(PROMPT)
        got: list[str] = []
        with pytest.raises(wire.IncompleteMessage):
            for delta in stream:
                got.append(delta)
        assert len(server.requests) == 1  # the second scenario would have answered a retry in full
    assert got and len(stream.exchange.attempts) == 1


# --- the peer closes in each parse state, or sends garbage ---


@pytest.mark.parametrize(
    "fault,state",
    [("close_mid_head", "fields"), ("close_mid_body", "chunk size line"), ("close_mid_chunk", "chunk data")],
)
def test_peer_closes_in_each_state(fault: str, state: str) -> None:
    with FakeServer(fault=fault) as server:
        with pytest.raises(wire.IncompleteMessage) as info:
            client(server.base_url, max_retries=0).chat(PROMPT)
    err = info.value
    assert err.state == state, str(err)
    assert err.partial == err.exchange.response_bytes and err.partial.startswith(b"HTTP/1.1")


def test_malformed_chunk_size_is_a_protocol_error_with_offset() -> None:
    with FakeServer(fault="bad_chunk_size") as server:
        with pytest.raises(wire.ProtocolError) as info:
            client(server.base_url, max_retries=0).chat(PROMPT)
    err = info.value
    head_end = err.received.index(b"\r\n\r\n") + 4
    assert err.offset == head_end and "hexadecimal" in str(err)


def test_oversized_head_is_rejected_at_the_limit() -> None:
    with FakeServer(fault="oversized_head") as server:
        with pytest.raises(wire.ProtocolError, match="max_head_bytes") as info:
            client(server.base_url, max_retries=0).chat(PROMPT)
    assert info.value.offset == 64 * 1024


def test_reset_mid_body_is_a_network_error_keeping_the_bytes() -> None:
    """The server sends the head and 6 of 100 body bytes, waits until the client has parsed them, then resets."""
    sent = b'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"id":'
    head_parsed = threading.Event()
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(TIMEOUT)
    url = f"http://127.0.0.1:{srv.getsockname()[1]}/v1"

    def serve() -> None:
        conn, _ = srv.accept()
        conn.settimeout(TIMEOUT)
        RawServer._read_request(conn)  # the whole request, head and body: the reset comes while receiving
        conn.sendall(sent)  # one write, one segment: the client reads the head and the 6 bytes together
        head_parsed.wait(TIMEOUT)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with RST
        conn.close()

    def on_trace(event: TraceEvent) -> None:
        if event.name == "http11.end_of_head":
            head_parsed.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with pytest.raises(wire.NetworkError) as info:
            client(url, max_retries=0, on_trace=on_trace).chat(PROMPT)
    finally:
        thread.join(TIMEOUT)
        srv.close()
    err = info.value
    assert head_parsed.is_set() and not isinstance(err, wire.Timeout)
    assert err.phase == "receive" and "reset" in str(err)
    assert err.received == sent and err.exchange.response_bytes == sent


# --- timeouts, each naming its phase ---
# Each call runs under raises_within: a broken timeout fails the test instead of hanging it. The
# elapsed time gets a generous upper bound, far above the limit and far below what a missing limit takes.
SLACK = 2.5


def test_read_timeout_when_the_server_stalls_keeps_the_head() -> None:
    with FakeServer(fault="stall", stall_seconds=5.0) as server:
        c = client(server.base_url, timeout=Timeouts(read=0.3), max_retries=0)
        err, elapsed = raises_within(10, lambda: c.chat(PROMPT))
    assert isinstance(err, wire.Timeout), repr(err)
    assert err.phase == "read" and err.limit == 0.3 and elapsed < 0.3 + SLACK
    assert err.received.startswith(b"HTTP/1.1 200 OK\r\n") and err.exchange.response_bytes == err.received


def test_total_deadline_cuts_a_slow_drip() -> None:
    with FakeServer(fault="slow_drip", drip_delay=0.01) as server:
        c = client(server.base_url, timeout=Timeouts(read=5, total=1.0), max_retries=0)
        err, elapsed = raises_within(15, lambda: c.chat(PROMPT))
    assert isinstance(err, wire.Timeout), repr(err)
    assert err.phase == "total" and elapsed < 1.0 + SLACK
    assert err.received.startswith(b"HTTP/1.1 200 OK\r\n") and err.exchange.response_bytes == err.received


def test_tls_handshake_timeout_when_the_server_never_answers_tls() -> None:
    srv = socket.create_server(("127.0.0.1", 0))  # the kernel completes TCP handshakes; nobody speaks TLS
    try:
        url = f"https://127.0.0.1:{srv.getsockname()[1]}/v1"
        c = client(url, timeout=Timeouts(tls=0.3), max_retries=0)
        err, elapsed = raises_within(10, lambda: c.chat(PROMPT))
    finally:
        srv.close()
    assert isinstance(err, wire.Timeout), repr(err)
    assert err.phase == "tls" and err.limit == 0.3 and elapsed < 0.3 + SLACK


def test_connect_timeout_when_the_server_accepts_nothing() -> None:
    """A listener whose accept queue is full: the kernel drops our SYN, and the connect limit ends the wait."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    port = srv.getsockname()[1]
    fillers = []
    for _ in range(4):  # fill the queue (Linux keeps backlog + 1 pending connections)
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    try:
        c = client(f"http://127.0.0.1:{port}/v1", timeout=Timeouts(connect=0.3), max_retries=0)
        err, elapsed = raises_within(10, lambda: c.chat(PROMPT))
    finally:
        for filler in fillers:
            filler.close()
        srv.close()
    assert isinstance(err, wire.Timeout), repr(err)
    assert err.phase == "connect" and err.limit == 0.3 and elapsed < 0.3 + SLACK
    assert err.exchange.response is None and err.exchange.records == []
