"""Connection over real loopback sockets: TLS details, records, timings and every failure mapped."""

from __future__ import annotations

import datetime
import http.server
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path

import certifi
import pytest
import trustme

from wire import show, transport
from wire.errors import ConfigError, NetworkError, Timeout, TLSError
from wire.transport import Connection, Record, Timeouts, Timings

# Every blocking call in these tests has a limit, so a bug fails a test instead of hanging it.
LIMIT = 5.0
REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

Handler = Callable[[socket.socket], None]


class Server:
    """A one-connection server on 127.0.0.1 running ``handler`` in a thread (TLS-wrapped if a context is given)."""

    def __init__(self, handler: Handler, context: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.context = context
        self.release = threading.Event()  # a stalling handler waits on this; set at exit
        self.errors: list[BaseException] = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.listener.settimeout(LIMIT)
        self.port: int = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError as exc:
            self.errors.append(exc)
            return
        conn.settimeout(LIMIT)
        try:
            if self.context is not None:
                conn = self.context.wrap_socket(conn, server_side=True)
            self.handler(conn)
        except (OSError, ssl.SSLError) as exc:
            self.errors.append(exc)
        finally:
            conn.close()

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.thread.join(LIMIT)
        self.listener.close()


def read_head(conn: socket.socket) -> bytes:
    """The request head (or what came of it within LIMIT seconds in all)."""
    deadline = time.monotonic() + LIMIT
    data = b""
    while b"\r\n\r\n" not in data and (left := deadline - time.monotonic()) > 0:
        conn.settimeout(left)
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def answer(conn: socket.socket) -> None:
    read_head(conn)
    conn.sendall(REPLY)


def read_all(conn: Connection) -> bytes:
    """Every byte until the peer closes; fails after LIMIT seconds in all."""
    deadline = time.monotonic() + LIMIT
    data = b""
    while chunk := conn.recv():
        data += chunk
        assert time.monotonic() < deadline, f"still receiving after {LIMIT} s"
    return data


def recv_until_it_fails(conn: Connection) -> tuple[BaseException, float]:
    """Call conn.recv() until it raises; return the error and the seconds it took.

    The servers here stall for LIMIT seconds at most, then close: a broken
    timeout then shows as an end of stream, and fails the test, instead of a hang.
    """
    start = time.monotonic()
    try:
        while time.monotonic() - start < LIMIT * 2:
            if not conn.recv():
                break
    except NetworkError as exc:
        return exc, time.monotonic() - start
    raise AssertionError(f"recv() did not fail within {time.monotonic() - start:.2f} s")


# A generous upper bound on how long after its limit a timeout may fire: far below LIMIT, the stall.
SLACK = 2.5


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def server_context(cert: trustme.LeafCert, **versions: ssl.TLSVersion) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    context.set_alpn_protocols(["http/1.1"])
    for name, version in versions.items():
        setattr(context, name, version)
    return context


@pytest.fixture(scope="module")
def good_context(ca: trustme.CA) -> ssl.SSLContext:
    return server_context(ca.issue_cert("localhost", "127.0.0.1"))


# -- success ---------------------------------------------------------------------


def test_tls_exchange_records_info_and_timings(good_context: ssl.SSLContext, ca_file: str) -> None:
    with Server(answer, good_context) as server:
        # "localhost" may resolve to ::1 first; the server is on 127.0.0.1 only, so the
        # connection must fall through to the next address.
        with Connection.open("localhost", server.port, tls=True, ca_file=ca_file, timeouts=LIMIT) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\n")
            conn.sendall(b"Host: localhost\r\n\r\n")
            assert read_all(conn) == REPLY
    assert server.errors == []

    info = conn.tls
    assert info is not None
    assert info.version in ("TLSv1.2", "TLSv1.3")
    assert info.alpn == "http/1.1"
    assert info.server_hostname == "localhost"
    assert info.cipher and info.cipher_bits >= 128
    assert "DNS:localhost" in info.peer_sans and "IP:127.0.0.1" in info.peer_sans
    assert "O=trustme" in info.peer_issuer
    assert info.not_before and info.not_after
    assert info.extra_ca_file == ca_file and info.ca_file_used == certifi.where()
    assert info.verified is True

    assert conn.peer == ("127.0.0.1", server.port)
    assert conn.local[0] == "127.0.0.1"
    assert ("127.0.0.1", server.port) in conn.addresses
    assert [r.direction for r in conn.records[:2]] == ["out", "out"]
    assert {r.direction for r in conn.records[2:]} == {"in"}
    assert conn.bytes_sent == b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
    assert conn.bytes_received == REPLY
    assert all(isinstance(r, Record) for r in conn.records)
    times = [r.time for r in conn.records]
    assert times == sorted(times)

    t = conn.timings
    points = [t.dns, t.connect, t.tls, t.request_sent, t.first_byte, t.done]
    assert all(p is not None for p in points)
    assert points == sorted(points)  # type: ignore[type-var]
    assert t.started_at > 1e9
    phases = t.phases()
    assert list(phases) == ["dns", "connect", "tls", "send", "wait", "receive"]
    assert all(v is not None and v >= 0 for v in phases.values())


@pytest.mark.parametrize("skipped", ["chain", "hostname"])
def test_verified_is_false_when_the_handshake_skipped_a_check(ca: trustme.CA, good_context: ssl.SSLContext,
                                                              skipped: str) -> None:
    """TLSInfo.verified is read from the context that ran the handshake: a context that skips a check says so."""
    context = ssl.create_default_context()
    context.check_hostname = False
    if skipped == "chain":
        context.verify_mode = ssl.CERT_NONE  # the trustme CA is not trusted here: only CERT_NONE lets it through
    else:
        ca.configure_trust(context)  # the chain is checked; the name (not in the certificate) is not
    with Server(answer, good_context) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=LIMIT) as raw:
            with context.wrap_socket(raw, server_hostname="not-the-name.example") as tls_sock:
                info = transport._tls_info(tls_sock, "not-the-name.example", None)
    assert info.verified is False and info.version in ("TLSv1.2", "TLSv1.3")
    # The view must not claim a check that did not happen.
    trusted = [line for line in show.tls_view(info).splitlines() if line.lstrip().startswith("trusted")]
    assert trusted == ["  trusted  NOT verified: the handshake did not check the certificate chain and the host name"]


def test_plain_tcp_connection(good_context: ssl.SSLContext) -> None:
    with Server(answer) as server:
        with Connection.open("127.0.0.1", server.port, tls=False, timeouts=LIMIT) as conn:
            assert conn.tls is None
            conn.sendall(b"GET / HTTP/1.1\r\n\r\n")
            assert read_all(conn) == REPLY
    assert conn.closed
    assert conn.timings.tls is None and conn.timings.phases()["tls"] is None
    assert conn.timings.phases()["send"] is not None


def test_keylog_file_is_written(good_context: ssl.SSLContext, ca_file: str, tmp_path: Path) -> None:
    keylog = tmp_path / "keys.log"
    with Server(answer, good_context) as server:
        with Connection.open(
            "127.0.0.1",
            server.port,
            tls=True,
            ca_file=ca_file,
            timeouts=LIMIT,
            server_hostname="localhost",
            keylog_file=str(keylog),
        ) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\n\r\n")
            read_all(conn)
    text = keylog.read_text()
    assert "CLIENT_RANDOM" in text or "CLIENT_TRAFFIC_SECRET_0" in text


def test_sslkeylogfile_environment_is_honoured(
    good_context: ssl.SSLContext, ca_file: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keylog = tmp_path / "env-keys.log"
    monkeypatch.setenv("SSLKEYLOGFILE", str(keylog))
    with Server(answer, good_context) as server:
        with Connection.open("127.0.0.1", server.port, tls=True, ca_file=ca_file, timeouts=LIMIT) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\n\r\n")
            read_all(conn)
    assert keylog.stat().st_size > 0


def test_timeouts_coerce() -> None:
    assert Timeouts.coerce(None) == Timeouts()
    assert Timeouts.coerce(2) == Timeouts(connect=2.0, tls=2.0, read=2.0, total=None)
    custom = Timeouts(read=1.0, total=3.0)
    assert Timeouts.coerce(custom) is custom


def test_timings_phases_missing_points_are_none() -> None:
    t = Timings(dns=0.001, connect=0.003)
    assert t.phases()["connect"] == pytest.approx(0.002)
    assert t.phases()["tls"] is None and t.phases()["wait"] is None


# -- certificate failures ----------------------------------------------------------


def test_untrusted_ca(good_context: ssl.SSLContext) -> None:
    with Server(answer, good_context) as server:
        with pytest.raises(TLSError) as info:
            Connection.open("127.0.0.1", server.port, tls=True, timeouts=LIMIT, server_hostname="localhost")
    assert info.value.phase == "tls"
    assert "ca_file" in str(info.value) and "not signed by a CA wire trusts" in str(info.value)


def test_wrong_hostname(ca: trustme.CA, ca_file: str) -> None:
    context = server_context(ca.issue_cert("other.example"))
    with Server(answer, context) as server:
        with pytest.raises(TLSError) as info:
            Connection.open(
                "127.0.0.1", server.port, tls=True, ca_file=ca_file, timeouts=LIMIT, server_hostname="localhost"
            )
    assert "not valid for the name 'localhost'" in str(info.value)
    assert "server_hostname" in str(info.value)


def test_expired_certificate(ca: trustme.CA, ca_file: str) -> None:
    past = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    cert = ca.issue_cert("localhost", not_before=past - datetime.timedelta(days=30), not_after=past)
    with Server(answer, server_context(cert)) as server:
        with pytest.raises(TLSError) as info:
            Connection.open("localhost", server.port, tls=True, ca_file=ca_file, timeouts=LIMIT)
    assert "expired" in str(info.value)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_server_limited_to_tls_1_1(ca: trustme.CA, ca_file: str) -> None:
    # Modern OpenSSL may refuse TLS 1.1 even on the server side; either way the
    # client must fail with a TLSError, never connect below TLS 1.2.
    context = server_context(ca.issue_cert("localhost"), maximum_version=ssl.TLSVersion.TLSv1_1)
    with Server(answer, context) as server:
        with pytest.raises(TLSError):
            Connection.open("localhost", server.port, tls=True, ca_file=ca_file, timeouts=LIMIT)


def test_bad_ca_file_is_a_config_error(tmp_path: Path) -> None:
    # Settings are checked before any packet is sent, so no server is needed.
    with pytest.raises(ConfigError, match="ca_file"):
        Connection.open("127.0.0.1", 1, tls=True, ca_file=str(tmp_path / "missing.pem"), timeouts=LIMIT)


# -- TLS spoken to something that is not TLS ------------------------------------------------


class _Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def test_plain_http_server_on_a_tls_connection() -> None:
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Quiet)
    httpd.timeout = LIMIT
    thread = threading.Thread(target=httpd.handle_request, daemon=True)
    thread.start()
    try:
        with pytest.raises(TLSError) as info:
            Connection.open("127.0.0.1", httpd.server_address[1], tls=True, timeouts=LIMIT)
        assert "plain HTTP" in str(info.value)
    finally:
        thread.join(LIMIT)
        httpd.server_close()


def test_tls_client_to_plain_server_answering_http_bytes() -> None:
    def http_bytes(conn: socket.socket) -> None:
        conn.recv(4096)  # the ClientHello, unread as TLS
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    with Server(http_bytes) as server:
        with pytest.raises(TLSError) as info:
            Connection.open("127.0.0.1", server.port, tls=True, timeouts=LIMIT)
    assert "not TLS" in str(info.value) and "http://" in str(info.value)


def test_tls_client_to_server_that_closes() -> None:
    with Server(lambda conn: None) as server:
        with pytest.raises(TLSError) as info:
            Connection.open("127.0.0.1", server.port, tls=True, timeouts=LIMIT)
    assert info.value.phase == "tls"


# -- network failures and timeouts ---------------------------------------------------


def test_refused_port() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    with pytest.raises(NetworkError) as info:
        Connection.open("127.0.0.1", port, tls=False, timeouts=LIMIT)
    assert type(info.value) is NetworkError
    assert info.value.phase == "connect"
    assert "is the server running on that port?" in str(info.value)


def test_dns_failure() -> None:
    # An empty label cannot be encoded for DNS, so this fails before any packet is sent.
    with pytest.raises(NetworkError) as info:
        Connection.open("bad..name", 443, tls=True, timeouts=LIMIT)
    assert info.value.phase == "dns"


def stall_after(partial: bytes) -> Callable[[Server], Handler]:
    def make(server: Server) -> Handler:
        def handler(conn: socket.socket) -> None:
            read_head(conn)
            conn.sendall(partial)
            server.release.wait(LIMIT)

        return handler

    return make


def test_read_timeout_keeps_received_bytes() -> None:
    partial = b"HTTP/1.1 200 OK\r\nContent-Le"
    server = Server(lambda conn: None)
    server.handler = stall_after(partial)(server)
    with server:
        conn = Connection.open("127.0.0.1", server.port, tls=False, timeouts=Timeouts(read=0.2))
        conn.sendall(b"GET / HTTP/1.1\r\n\r\n")
        err, elapsed = recv_until_it_fails(conn)
        conn.close()
    assert isinstance(err, Timeout), repr(err)
    assert err.phase == "read" and err.limit == 0.2 and elapsed < 0.2 + SLACK
    assert err.received == partial


def test_total_deadline() -> None:
    server = Server(lambda conn: None)
    server.handler = stall_after(b"HTTP/1.1 200 OK\r\n")(server)
    with server:
        conn = Connection.open("127.0.0.1", server.port, tls=False, timeouts=Timeouts(read=LIMIT, total=0.3))
        conn.sendall(b"GET / HTTP/1.1\r\n\r\n")
        err, elapsed = recv_until_it_fails(conn)
        conn.close()
    assert isinstance(err, Timeout), repr(err)
    assert err.phase == "total" and err.limit == 0.3 and elapsed < 0.3 + SLACK
    assert err.received == b"HTTP/1.1 200 OK\r\n"


def test_tls_handshake_timeout() -> None:
    server = Server(lambda conn: None)
    server.handler = lambda conn: (server.release.wait(LIMIT), None)[1]
    with server:  # the server waits LIMIT seconds, then closes: without the tls limit, a TLSError
        start = time.monotonic()
        with pytest.raises(Timeout) as info:
            Connection.open("127.0.0.1", server.port, tls=True, timeouts=Timeouts(tls=0.2))
        elapsed = time.monotonic() - start
    assert info.value.phase == "tls" and info.value.limit == 0.2 and elapsed < 0.2 + SLACK


def test_reset_while_receiving_keeps_received_bytes() -> None:
    def reset(conn: socket.socket) -> None:
        read_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        # SO_LINGER with a zero timeout turns close() into a TCP RST.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    with Server(reset) as server:
        conn = Connection.open("127.0.0.1", server.port, tls=False, timeouts=LIMIT)
        conn.sendall(b"GET / HTTP/1.1\r\n\r\n")
        err, _ = recv_until_it_fails(conn)
        conn.close()
    assert type(err) is NetworkError and err.phase == "receive"
    assert err.received == b"HTTP/1.1 200 OK\r\n"


def test_each_address_is_tried_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    # As when "localhost" gives ::1 first and the server listens on 127.0.0.1 only.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    refused = probe.getsockname()[1]
    probe.close()
    with Server(answer) as server:

        def two_addresses(host: str, port: int, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
            tcp = (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "")
            return [(*tcp, ("127.0.0.1", refused)), (*tcp, ("127.0.0.1", server.port))]

        monkeypatch.setattr(socket, "getaddrinfo", two_addresses)
        with Connection.open("localhost", server.port, tls=False, timeouts=LIMIT) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\n\r\n")
            assert read_all(conn) == REPLY
    assert conn.addresses == [("127.0.0.1", refused), ("127.0.0.1", server.port)]
    assert conn.peer == ("127.0.0.1", server.port)


def test_a_spent_total_deadline_is_a_timeout_not_a_non_blocking_socket() -> None:
    """settimeout(0) would make recv fail with EAGAIN; a spent deadline must read as Timeout(phase="total")."""
    server = socket.create_server(("127.0.0.1", 0))
    try:
        conn = Connection.open("127.0.0.1", server.getsockname()[1], tls=False, timeouts=Timeouts(read=5, total=5))
        peer, _ = server.accept()
        with conn, peer:
            conn._deadline = 0.0  # the total limit ran out long ago (perf_counter started at boot)
            with pytest.raises(Timeout) as info:
                conn.recv()
            with pytest.raises(Timeout):
                conn.sendall(b"x")
    finally:
        server.close()
    assert info.value.phase == "total" and info.value.limit == 5
