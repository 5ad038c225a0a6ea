"""Keep-alive: the client reuses a connection the reply allows, and only then."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from rawserver import TIMEOUT, RawServer

from wire.client import Client
from wire.errors import IncompleteMessage
from wire.fake import DEMO_CA_FILE, FakeServer
from wire.retry import NOT_RESENT
from wire.show import connection_view

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"
OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
BODY = (
    b'{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,'
    b'"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}'
)


def test_second_call_reuses_the_connection_and_says_so() -> None:
    with FakeServer(tls=True) as server, Client(base_url=server.base_url, api_key=KEY, ca_file=DEMO_CA_FILE,
                                                timeout=5) as client:
        first = client.chat("one")
        second = client.chat("two")
    assert not first.reused and second.reused
    assert first.peer == second.peer
    assert second.timings.dns is None and second.timings.connect is None and second.timings.tls is None
    assert second.saved_seconds == first.timings.tls > 0
    # records start afresh for the new request: the request (one write), then the reply
    assert second.records[0].direction == "out" and second.records[0].data == second.request_bytes
    assert {r.direction for r in second.records[1:]} == {"in"}
    view = connection_view(second)
    assert "reused connection" in view and "no TLS handshake" in view


def _what_the_client_does_next(seen: list[bytes]) -> Callable[[socket.socket], None]:
    """A server step: after the reply, keep the connection open and record the client's next bytes.

    b"" means the client closed the connection; a request means it reused it. The server
    does not close first, so a client that wrongly keeps the connection is caught.
    """

    def step(conn: socket.socket) -> None:
        conn.settimeout(TIMEOUT)
        try:
            seen.append(conn.recv(65536))
        except OSError as exc:
            seen.append(repr(exc).encode())

    return step


def test_connection_close_ends_the_connection() -> None:
    reply = b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(BODY), BODY)
    seen: list[bytes] = []
    with RawServer(reply, _what_the_client_does_next(seen), connections=2) as server, \
            Client(base_url=server.base_url, api_key=KEY, timeout=5) as c:
        c.chat("one")
        second = c.chat("two")
    assert seen[0] == b"", "the client did not close a connection the reply ended with Connection: close"
    assert not second.reused and len(server.requests) == 2


def test_close_delimited_body_is_not_reused() -> None:
    # The body ends only when the server closes: the connection cannot carry another reply.
    reply = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n" + BODY
    with RawServer(reply, connections=2) as server, Client(base_url=server.base_url, api_key=KEY, timeout=5) as c:
        first = c.chat("one")
        second = c.chat("two")
    assert first.response is not None and not first.response.keep_alive
    assert not second.reused and len(second.attempts) == 1 and len(server.requests) == 2


def test_kept_connection_closed_by_the_server_is_noticed_before_sending() -> None:
    # RawServer closes each connection after its reply, though the reply allowed keep-alive.
    with RawServer(OK % (len(BODY), BODY), connections=2) as server:
        with Client(base_url=server.base_url, api_key=KEY, timeout=5) as client:
            client.chat("one")
            assert server.closed.acquire(timeout=TIMEOUT)  # the FIN is on its way before the next call
            second = client.chat("two")
    assert not second.reused and len(second.attempts) == 1


class CloseAfterSecondRequest:
    """Connection 1: answer one request, read the next, then close without a word. Connection 2: answer.

    ``requests`` counts each request the server read in full: the second call's POST
    reached the server, so sending it again is a second (billed) call.
    """

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(TIMEOUT)
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.requests = 0
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def read_request(self, conn: socket.socket) -> None:
        deadline = time.monotonic() + TIMEOUT
        data = b""
        while b"\r\n\r\n" not in data or not data.endswith(b"}"):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            conn.settimeout(left)
            piece = conn.recv(65536)
            if not piece:
                return
            data += piece
        self.requests += 1

    def serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(TIMEOUT)
                self.read_request(conn)
                conn.sendall(OK % (len(BODY), BODY))
                self.read_request(conn)
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(TIMEOUT)
                self.read_request(conn)
                conn.sendall(OK % (len(BODY), BODY))
        except OSError:
            pass  # no second connection (the client did not send again): the listener closes

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the second accept() if no resend came: close() does not
        except OSError:
            pass
        self.sock.close()
        self.thread.join(TIMEOUT)


@pytest.mark.parametrize("max_retries", [0, 2])
def test_kept_connection_closed_after_the_request_is_a_failure_not_a_resend(max_retries: int) -> None:
    """The POST reached the server: it is not sent again, whatever max_retries says (issue 12; RFC 9110 §9.2.2)."""
    server = CloseAfterSecondRequest()
    waits: list[float] = []
    try:
        with Client(
            base_url=server.base_url, api_key=KEY, timeout=5, max_retries=max_retries, sleep=waits.append
        ) as client:
            client.chat("one")
            with pytest.raises(IncompleteMessage) as info:
                client.chat("two")
    finally:
        server.close()
    assert server.requests == 2 and waits == []
    assert str(info.value) == (
        "the server closed the kept-alive connection after the request was sent, without answering at byte 0 "
        "(RFC 9112 §9.3.1, RFC 9110 §9.2.2: a non-idempotent request is not retried automatically) — "
        + NOT_RESENT
    )
    assert info.value.received == b"" and info.value.hint == NOT_RESENT
    exchange = info.value.exchange
    assert exchange is not None and len(exchange.attempts) == 1
    assert exchange.attempts[0].reused and exchange.attempts[0].request_sent
    assert exchange.attempts[0].retry_delay is None
    troubleshooting = (Path(__file__).parents[1] / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    assert f"\nIncompleteMessage: {info.value}\n" in troubleshooting  # the message the CLI prints, quoted
