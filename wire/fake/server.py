"""``FakeServer``: a local OpenAI-compatible server on 127.0.0.1, plain or TLS.

The standard library's ``http.server`` reads each request (request line,
header fields); the body is read here, the reply is chosen by ``replies.py``,
cut into writes by ``framing.py`` and sent byte for byte with
``socket.sendall``. Nothing of wire's own request serializer or response
parser is used, so a bug there cannot hide behind the same bug here.

Threads: one daemon thread runs the accept loop, one daemon thread serves
each connection (keep-alive: many requests per connection). ``stop()`` is
bounded: it wakes every stall, pause and gate, shuts down every client socket
and waits at most ``STOP_JOIN_SECONDS`` for the connection threads.
"""

from __future__ import annotations

import dataclasses
import socket
import socketserver
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from wire.fake.coding import chosen, with_coding
from wire.fake.framing import Close, Step, Wait, plan
from wire.fake.replies import answer, parse_json
from wire.fake.scenario import Scenario

CERT_DIR = Path(__file__).resolve().parent / "certs"
DEMO_CA_FILE = str(CERT_DIR / "demo-ca.pem")  # the CA a client must trust for tls=True
DEMO_CERT_FILE = str(CERT_DIR / "localhost.pem")  # leaf for localhost, 127.0.0.1, ::1, then the CA
DEMO_KEY_FILE = str(CERT_DIR / "localhost-key.pem")  # the leaf's key: public on purpose, see scripts/

HOST = "127.0.0.1"
# How long a connection may sit idle between requests before the server drops it.
IDLE_TIMEOUT = 30.0
# How long stop() waits for connection threads after shutting their sockets down.
STOP_JOIN_SECONDS = 2.0
# The largest request body read; a Chat Completions request is a few KiB.
MAX_BODY_BYTES = 16 * 1024 * 1024
# How often a gate wait, and the accept loop, look whether stop() was called.
POLL_SECONDS = 0.02
# How many received requests (and connection errors) a server keeps: the most
# recent ones. A request costs a few KiB (its head and body), so a test sees
# every request it sent while `wire serve`, answering a class for a day, stays
# at a few MiB instead of growing without bound (issue 12).
MAX_KEPT_REQUESTS = 1000


@dataclass
class ReceivedRequest:
    """One request as the server received it."""

    method: str
    path: str
    http_version: str
    headers: list[tuple[str, str]]  # in wire order, with their original case
    body: bytes
    json: dict[str, Any] | None  # the body as a JSON object, None when it is not one
    raw: bytes = b""  # the request exactly as it arrived: request line, fields, empty line, body
    connection: int = 0  # the client's port: one number per TCP connection, the same for every request on it

    def header(self, name: str) -> str | None:
        """A field's value, looked up case-insensitively (repeats joined with ", ")."""
        values = [v for n, v in self.headers if n.lower() == name.lower()]
        return ", ".join(values) if values else None


class _Handler(BaseHTTPRequestHandler):
    """Reads requests with http.server; writes every reply byte itself."""

    protocol_version = "HTTP/1.1"  # keep connections alive between requests
    server_version = "wire-fake"
    timeout = IDLE_TIMEOUT
    server: _Server

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()  # here, in the connection's thread, not in the accept loop
        self.recording = _Recording(self.rfile)  # every byte read, for ReceivedRequest.raw
        self.rfile = self.recording  # type: ignore[assignment]  # a file-like stand-in, as http.server reads it

    def log_message(self, format: str, *args: Any) -> None:
        """Silence http.server's stderr log; the requests are in FakeServer.requests."""

    def do_GET(self) -> None:
        self._respond()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _read_body(self) -> bytes:
        """The body, framed by Content-Length or chunked (RFC 9112 section 6.3)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            body = b""
            while True:
                size_line = self.rfile.readline(4096)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(4096) not in (b"\r\n", b"\n", b""):
                        pass  # trailer fields
                    return body
                body += self.rfile.read(size)
                self.rfile.readline(4096)  # the CRLF after the chunk's data
                if len(body) > MAX_BODY_BYTES:
                    raise ValueError("request body too large")
        length = int(self.headers.get("Content-Length") or "0")
        if not 0 <= length <= MAX_BODY_BYTES:
            raise ValueError(f"unacceptable Content-Length {length}")
        return self.rfile.read(length)

    def _respond(self) -> None:
        fake = self.server.fake
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True  # cannot find the next request's start: give up on the connection
            return
        headers = list(self.headers.items())
        received = ReceivedRequest(
            method=self.command,
            path=self.path,
            http_version=self.request_version,
            headers=headers,
            body=body,
            json=parse_json(body),
            raw=self.recording.take(),
            connection=self.client_address[1],
        )
        scenario = fake._record(received)
        if fake.on_request is not None:
            fake.on_request(received)
        if self.request_version == "HTTP/1.0" and scenario.framing == "chunked":
            # RFC 9112 section 7.1: chunked is HTTP/1.1; an HTTP/1.0 client gets Content-Length.
            scenario = dataclasses.replace(scenario, framing="length")
        reply = answer(self.command, self.path, headers, body, scenario)
        reply = with_coding(reply, chosen(scenario.coding, headers))
        self._send(plan(reply, scenario, close=self.close_connection))

    def _send(self, steps: list[Step]) -> None:
        fake = self.server.fake
        for step in steps:
            if fake._stopping.is_set():
                self.close_connection = True
                return
            if isinstance(step, bytes):
                try:
                    self.connection.sendall(step)
                except OSError:
                    self.close_connection = True
                    return
            elif isinstance(step, Wait):
                fake._wait(step)
            elif isinstance(step, Close):
                self.close_connection = True
                return


class _Recording:
    """The connection's read file, keeping a copy of every byte read, so a request is saved exactly as sent.

    http.server reads the request line and the fields with ``readline``; the
    body is read with ``read`` and ``readline`` (``_read_body``). ``take()``
    returns what was read since the last ``take()``: one whole request.
    """

    def __init__(self, rfile: Any) -> None:
        self._rfile = rfile
        self._read = bytearray()

    def readline(self, limit: int = -1) -> bytes:
        line: bytes = self._rfile.readline(limit)
        self._read += line
        return line

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._rfile.read(size)
        self._read += data
        return data

    def take(self) -> bytes:
        data, self._read = bytes(self._read), bytearray()
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rfile, name)  # close, closed, ...: as the file itself


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer with TLS, TCP_NODELAY, tracked connections and no stderr output."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], fake: FakeServer, context: ssl.SSLContext | None) -> None:
        self.fake = fake
        self.context = context
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would call socket.getfqdn(), a DNS lookup that can hang.
        socketserver.TCPServer.server_bind(self)
        self.server_name = HOST
        self.server_port = self.server_address[1]

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # every write goes out at once
        if self.context is not None:
            sock = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"wire-fake-{self.server_port}-{client_address[1]}",
            daemon=True,
        )
        self.fake._track(request, thread)
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        self.fake._untrack(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Keep the error for inspection (FakeServer.errors) instead of printing a traceback."""
        error = sys.exc_info()[1]
        if error is not None:
            with self.fake._lock:
                _append_bounded(self.fake.errors, error, self.fake.history)


class FakeServer:
    """A local OpenAI-compatible server: ``with FakeServer() as server: ... server.base_url``.

    ``scenario`` says how to answer: one Scenario for every request, or a list
    where the n-th request gets ``scenario[n]`` and the last one repeats (say,
    ``[Scenario(status=503), Scenario()]``: fail once, then succeed). Keyword
    arguments that are Scenario fields are a shortcut: ``FakeServer(framing="length")``
    is ``FakeServer(Scenario(framing="length"))``.

    ``tls=True`` serves HTTPS with the demo certificate (for localhost,
    127.0.0.1 and ::1), which clients verify with ``ca_file`` (DEMO_CA_FILE).
    ``certfile``/``keyfile`` serve another certificate instead (and imply
    TLS); pass ``ca_file`` to record which CA a client must trust for it.

    ``requests`` lists the requests received, oldest first: the last
    ``history`` of them (default ``MAX_KEPT_REQUESTS``), so a long-running
    server stays bounded in memory; ``request_count`` counts them all.
    ``errors`` keeps the same number of connection-thread exceptions.
    Each request's ``raw`` is its bytes exactly as they arrived;
    ``on_request`` is called with each one as it arrives, before the reply.
    """

    def __init__(
        self,
        scenario: Scenario | list[Scenario] | None = None,
        *,
        tls: bool = False,
        certfile: str | None = None,
        keyfile: str | None = None,
        ca_file: str | None = None,
        port: int = 0,
        history: int = MAX_KEPT_REQUESTS,
        on_request: Callable[[ReceivedRequest], None] | None = None,
        **scenario_fields: Any,
    ) -> None:
        if isinstance(history, bool) or not isinstance(history, int) or history < 1:
            raise ValueError(f"history must be a whole number of requests, 1 or more, got {history!r}")
        self.history = history
        self.on_request = on_request  # called with each request as it arrives (wire serve --record saves it)
        if scenario is not None and scenario_fields:
            raise TypeError("pass either a scenario or Scenario fields as keywords, not both")
        if scenario is None:
            scenarios = [Scenario(**scenario_fields)]
        elif isinstance(scenario, Scenario):
            scenarios = [scenario]
        else:
            scenarios = list(scenario)
            if not scenarios or not all(isinstance(s, Scenario) for s in scenarios):
                raise TypeError("scenario must be a Scenario or a non-empty list of Scenarios")
        self.scenarios: list[Scenario] = scenarios
        self.tls = tls or certfile is not None
        if keyfile is not None and certfile is None:
            raise TypeError("keyfile needs a certfile")
        demo = self.tls and certfile is None
        self.certfile = DEMO_CERT_FILE if demo else certfile
        self.keyfile = DEMO_KEY_FILE if demo else keyfile
        self.ca_file: str | None = ca_file if ca_file is not None else (DEMO_CA_FILE if demo else None)
        self.host = HOST
        self.port = port
        self.requests: list[ReceivedRequest] = []  # the last `history` requests, oldest first
        self.request_count = 0  # every request received, including those no longer kept
        self.errors: list[BaseException] = []  # exceptions in connection threads (a client hung up, ...)
        self.gate_timeouts = 0  # gate waits that ended by gate_timeout, not by the gate being set
        self._requested_port = port
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[Any] = set()
        self._threads: set[threading.Thread] = set()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``, or ``https://localhost:PORT/v1`` with TLS."""
        if self.port == 0:
            raise RuntimeError("the port is chosen when the server starts: call start() first")
        if self.tls:
            return f"https://localhost:{self.port}/v1"
        return f"http://{self.host}:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> FakeServer:
        """Bind 127.0.0.1 (an ephemeral port unless one was given) and serve in a daemon thread."""
        if self._server is not None:
            return self
        context = None
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(str(self.certfile), self.keyfile)
            context.set_alpn_protocols(["http/1.1"])
        self._stopping.clear()
        self._server = _Server((HOST, self._requested_port), self, context)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL_SECONDS},
            name=f"wire-fake-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, cut every stall/pause/gate short, close every connection. Bounded in time."""
        server = self._server
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
            threads = list(self._threads)
        for connection in connections:
            try:  # shutdown (not close) wakes a thread blocked in recv on this socket
                socket.socket.shutdown(connection, socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + STOP_JOIN_SECONDS
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        for connection in connections:
            try:
                connection.close()
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - time.monotonic()))
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self.port else "not started"
        return f"<FakeServer {where} requests={self.request_count}>"

    # ------------------------------------------------ used by the connection threads

    def _record(self, request: ReceivedRequest) -> Scenario:
        """Log a request and pick its scenario: the n-th request gets scenarios[n], the last repeats."""
        with self._lock:
            index = self.request_count
            self.request_count += 1
            _append_bounded(self.requests, request, self.history)
            return self.scenarios[min(index, len(self.scenarios) - 1)]

    def _wait(self, step: Wait) -> None:
        """Wait as a step asks; stop() ends every wait at once."""
        if step.gate is None:
            self._stopping.wait(step.seconds)
            return
        deadline = time.monotonic() + step.seconds
        while not self._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                with self._lock:
                    self.gate_timeouts += 1
                return
            if step.gate.wait(min(remaining, POLL_SECONDS)):
                return

    def _track(self, connection: Any, thread: threading.Thread) -> None:
        with self._lock:
            self._connections.add(connection)
            self._threads = {t for t in self._threads if t.is_alive()}
            self._threads.add(thread)

    def _untrack(self, connection: Any) -> None:
        with self._lock:
            self._connections.discard(connection)


def _append_bounded(items: list[Any], item: Any, limit: int) -> None:
    """Append, then drop the oldest items beyond ``limit`` (a plain list, so tests can slice and compare it)."""
    items.append(item)
    del items[: max(0, len(items) - limit)]
