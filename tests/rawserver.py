"""A one-shot loopback server that answers any request with bytes the test chose.

For replies the fake server will not send on purpose (a non-JSON event, a
chunk without choices, a stream cut short): the test writes the exact bytes.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType

# Every socket operation here is bounded, so a failing test ends instead of hanging.
TIMEOUT = 5.0


class RawServer:
    """Accept connections on 127.0.0.1; for each, read one request and send ``steps``.

    A step is bytes to send, an Event to wait on (bounded), a float: a pause in
    seconds that paces the server like a slow peer (never used to win a race), or
    a function called with the connection's socket (to read what the client does next).
    """

    def __init__(
        self, *steps: bytes | threading.Event | float | Callable[[socket.socket], None], connections: int = 1
    ) -> None:
        self.steps = steps
        self.connections = connections
        self.requests: list[bytes] = []
        self.closed = threading.Semaphore(0)  # released each time the server has closed a connection
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(TIMEOUT)
        self.port = self._sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes an accept() still waiting: close() alone does not
        except OSError:
            pass
        self._sock.close()
        self._thread.join(TIMEOUT)

    def _serve(self) -> None:
        for _ in range(self.connections):
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(TIMEOUT)
                try:
                    self.requests.append(self._read_request(conn))
                    for step in self.steps:
                        if isinstance(step, threading.Event):
                            step.wait(TIMEOUT)
                        elif isinstance(step, float):
                            time.sleep(step)
                        elif isinstance(step, bytes):
                            conn.sendall(step)
                        else:
                            step(conn)
                except OSError:
                    pass  # the client went away (as tests of early ends make it): nothing more to send
            self.closed.release()

    @staticmethod
    def _read_request(conn: socket.socket) -> bytes:
        """One request, head and Content-Length body; gives up (returns what came) after TIMEOUT in all."""
        deadline = time.monotonic() + TIMEOUT
        data = b""
        while b"\r\n\r\n" not in data:
            piece = _recv_before(conn, deadline)
            if not piece:
                return data
            data += piece
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            piece = _recv_before(conn, deadline)
            if not piece:
                break
            body += piece
        return head + b"\r\n\r\n" + body


def _recv_before(conn: socket.socket, deadline: float) -> bytes:
    """conn.recv, but b"" once the deadline has passed (socket.timeout is an OSError, as the callers expect)."""
    left = deadline - time.monotonic()
    if left <= 0:
        return b""
    conn.settimeout(left)
    return conn.recv(65536)


def recv_until(sock: socket.socket, done: Callable[[bytes], bool], seconds: float = TIMEOUT) -> bytes:
    """Receive until ``done(received)``; fails if the peer closes first or ``seconds`` pass in all."""
    deadline = time.monotonic() + seconds
    received = b""
    while not done(received):
        left = deadline - time.monotonic()
        assert left > 0, f"no end after {seconds} s; got {received[-300:]!r}"
        sock.settimeout(left)
        piece = sock.recv(65536)
        assert piece, f"the peer closed first; got {received[-300:]!r}"
        received += piece
    return received


def raises_within(seconds: float, call: Callable[[], object]) -> tuple[BaseException, float]:
    """Run ``call`` in a thread; return the exception it raised and the seconds it took.

    The thread is a backstop for tests of timeouts: if the timeout under test
    is broken, the test fails after ``seconds`` instead of hanging (the call
    is left behind in a daemon thread).
    """
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test, whatever it is
            outcome.append(exc)
        else:
            outcome.append(None)

    start = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    elapsed = time.monotonic() - start
    assert outcome, f"the call was still running after {seconds} s: a timeout did not fire"
    error = outcome[0]
    assert error is not None, f"the call returned after {elapsed:.2f} s instead of raising"
    return error, elapsed


def chunked(*pieces: bytes) -> bytes:
    """A chunked body: one frame per piece, then the last chunk."""
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


SSE_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
