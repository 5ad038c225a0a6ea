"""DNS, TCP, TLS, then bytes out and bytes in, each one recorded with a timestamp.

    getaddrinfo(host, port)      DNS: a name becomes a list of addresses
    socket.connect(address)      TCP: three-way handshake with the first address that answers
    CONNECT host:port            through a proxy only: wire/proxy.py asks it for a tunnel
    context.wrap_socket(...)     TLS: handshake, certificate check, ALPN, SNI
    sendall(data) / recv(n)      application bytes, after TLS decryption

``Connection.records`` holds every ``sendall`` and every ``recv`` as it crossed
the socket API: the *plaintext* HTTP bytes. With TLS, what TCP carries is
ciphertext; set ``SSLKEYLOGFILE`` to let Wireshark decrypt a capture of it.

Through a proxy (``proxy=``, a ``wire.proxy.ProxyInfo``), DNS and TCP reach
the proxy, not the server; then the proxy's own step asks it for a tunnel
(``CONNECT``, in ``wire/proxy.py``: it speaks HTTP/1.1, which this layer does
not), and TLS runs inside the tunnel, end to end with the server. This module
only runs that step between TCP and TLS and keeps what it returns on
``Connection.tunnel``.

Each step is reported as it starts and ends to ``on_step`` (the client's
trace): ``connection.dns``, ``connection.tcp``, ``connection.tls``, each
``.started`` then ``.complete`` or ``.failed``, with its facts as a dict.

This is the only module that imports ``socket`` and ``ssl``, and
``_convert_error`` is the one place where their exceptions become wire errors
that say what failed and how to fix it (httpcore's ``map_exceptions`` idea).
No bare ``OSError`` or ``ssl.SSLError`` leaves this module.
"""

from __future__ import annotations

import errno
import functools
import math
import os
import select
import socket
import ssl
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

import certifi

from wire.errors import ConfigError, NetworkError, Timeout, TLSError, WireError

# How many bytes of one request's traffic the records keep, each way (the request and the reply
# have a budget each: a big request body leaves the reply in view). A chat reply is a few KiB
# and a long stream a few MiB; past this the bytes still flow, uncaptured. The client's
# capture setting (wire/capture.py) may lift the limit ("full") or keep nothing ("off").
MAX_CAPTURE_BYTES = 8 * 1024 * 1024

# The socket.recv size: one read takes at most this many bytes. 64 KiB holds
# a typical JSON reply in one or two reads without a large buffer per call.
RECV_SIZE = 65536

# The most one socket send takes: the plaintext of one full TLS record (RFC 8446 §5.1: 2^14 bytes).
# A TLS write is all or nothing (CPython does not turn on OpenSSL's partial writes), so bounded writes
# tell, to within one record, how much of a large body went out before a failure.
SEND_SIZE = 16384

# The peer closed (EPIPE) or reset (ECONNRESET) the connection: what it sent before may still be readable.
# Over TLS a write to a closed peer may fail as SSLEOFError instead (OpenSSL: EOF without close_notify).
PEER_CLOSED = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, ssl.SSLEOFError)


@dataclass
class Timeouts:
    """Limits in seconds for each phase; ``None`` means no limit.

    ``connect`` bounds the TCP handshake (per address tried) and, through a
    proxy, the CONNECT exchange too (the proxy connects onward), ``tls`` the TLS
    handshake, ``read`` each wait for the next bytes (an idle limit, not the
    whole body), ``total`` the whole life of the connection. DNS has no limit
    of its own: ``getaddrinfo`` cannot be interrupted. (These are settings;
    ``wire.Timeout``, one letter shorter, is the error raised when one runs out.)
    """

    connect: float | None = 10.0
    tls: float | None = 10.0
    read: float | None = 60.0
    total: float | None = None

    def __post_init__(self) -> None:
        for name in ("connect", "tls", "read", "total"):
            check_seconds(getattr(self, name), f"Timeouts.{name}")

    @classmethod
    def coerce(cls, value: float | Timeouts | None) -> Timeouts:
        """``Timeouts`` as given; a number for every phase (``total`` stays None); None for the defaults."""
        if isinstance(value, Timeouts):
            return value
        if value is None:
            return cls()
        seconds = check_seconds(value, "timeout")
        return cls(connect=seconds, tls=seconds, read=seconds, total=None)


def check_seconds(value: object, name: str) -> float | None:
    """A time limit as a float, or None for no limit; anything else is a TypeError or ValueError.

    ``socket.settimeout`` reads 0 as "non-blocking" and refuses a negative,
    infinite or NaN value, so only a positive, finite number is a limit.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds or None (no limit), got {type(value).__name__} {value!r}")
    seconds = float(value)
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"{name} must be a positive, finite number of seconds or None (no limit), got {value!r}")
    return seconds


@dataclass
class Timings:
    """Points in time, in seconds since the connection attempt started (``time.perf_counter``).

    Each is ``None`` until reached. ``started_at`` is the wall-clock start
    (``time.time()``). ``tunnel`` is when a proxy's reply to CONNECT was in
    (None without a proxy). ``request_sent`` is the end of the latest ``sendall``;
    ``first_byte`` the first ``recv`` that returned data; ``done`` the end of
    the response (EOF, ``mark_done()`` or ``close()``, whichever came first).
    """

    started_at: float = 0.0
    dns: float | None = None
    connect: float | None = None
    tunnel: float | None = None
    tls: float | None = None
    request_sent: float | None = None
    first_byte: float | None = None
    done: float | None = None

    def phases(self) -> dict[str, float | None]:
        """How long each phase took: dns, connect, tls (handshake), send, wait (time to first byte), receive.

        Through a proxy there is one more, ``tunnel`` (the CONNECT exchange),
        right after ``connect``; ``dns`` and ``connect`` then reached the proxy.
        """

        def between(start: float | None, end: float | None) -> float | None:
            return None if start is None or end is None else end - start

        opened = self.tunnel if self.tunnel is not None else self.connect
        ready = self.tls if self.tls is not None else opened
        phases = {"dns": self.dns, "connect": between(self.dns, self.connect)}
        if self.tunnel is not None:
            phases["tunnel"] = between(self.connect, self.tunnel)
        phases["tls"] = between(opened, self.tls)
        phases["send"] = between(ready, self.request_sent)
        phases["wait"] = between(self.request_sent, self.first_byte)
        phases["receive"] = between(self.first_byte, self.done)
        return phases


@dataclass
class TLSInfo:
    """What the TLS handshake settled, as the client saw it.

    ``peer_subject`` and ``peer_issuer`` read like ``"CN=localhost, O=..."``;
    ``peer_sans`` like ``["DNS:localhost", "IP:127.0.0.1"]``. ``ca_file_used``
    is certifi's bundle (always loaded); ``extra_ca_file`` the ``ca_file``
    added to it, if any. ``verified`` is True when the handshake required the
    server's certificate chain to end at one of those roots and the
    certificate to name ``server_hostname`` (RFC 9110 §4.3.4): read from the
    SSL context that ran the handshake (``CERT_REQUIRED`` and
    ``check_hostname``), which fails the handshake otherwise. wire's own
    context always does both; False would mean a context that skipped a check.
    """

    version: str
    cipher: str
    cipher_bits: int
    alpn: str | None
    server_hostname: str
    peer_subject: str
    peer_issuer: str
    peer_sans: list[str]
    not_before: str
    not_after: str
    ca_file_used: str
    extra_ca_file: str | None
    verified: bool


@dataclass(slots=True)
class Record:
    """One ``sendall`` (``"out"``) or ``recv`` (``"in"``): seconds since start, direction, bytes."""

    time: float
    direction: str
    data: bytes

    def __repr__(self) -> str:
        # The size, not the bytes: an "out" record holds the Authorization field with the API key.
        return f"Record(time={self.time!r}, direction={self.direction!r}, data=<{len(self.data)} bytes>)"


class OnStep(Protocol):
    """Told as each step of opening starts and ends: ``("connection.tcp", "started", {"host": ...})``.

    The client passes its trace's ``record`` (``wire.trace.Tracer``); steps are
    named ``layer.step`` and ``started``, ``complete`` or ``failed``, as
    httpcore's, and their facts come as a dict.
    """

    def __call__(self, name: str, step: str, facts: dict[str, Any], /) -> None: ...


def _no_step(name: str, step: str, facts: dict[str, Any], /) -> None:
    """The ``on_step`` when nobody listens."""


class Proxy(Protocol):
    """What opening a connection needs of a proxy (``wire.proxy.ProxyInfo`` is one).

    TCP goes to ``host:port``; then ``open_tunnel`` runs on the plain TCP
    connection and asks the proxy for a tunnel to the server (before TLS).
    What it returns is kept on ``Connection.tunnel``.
    """

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...

    def open_tunnel(self, conn: Connection, host: str, port: int, on_step: OnStep) -> Any: ...


class Connection:
    """One TCP (and maybe TLS) connection that records every byte it sends and receives.

    Open it with ``Connection.open(...)``; use it as a context manager to
    close it. ``records``, ``timings``, ``tls``, ``peer``, ``local`` and
    ``addresses`` stay readable after ``close()``. Through a proxy, ``peer``
    and ``addresses`` are the proxy's and ``tunnel`` holds the CONNECT
    exchange (a ``wire.proxy.TunnelInfo``).
    """

    def __init__(
        self,
        sock: socket.socket,
        *,
        timeouts: Timeouts,
        timings: Timings,
        start: float,
        addresses: list[tuple[str, int]],
        peer: tuple[str, int],
        local: tuple[str, int],
    ) -> None:
        self.sock = sock
        self.timeouts = timeouts
        self.timings = timings
        self.addresses = addresses
        self.tls: TLSInfo | None = None
        self.tunnel: Any = None  # what the proxy's tunnel step returned (wire.proxy.TunnelInfo)
        self.records: list[Record] = []
        self.max_capture: int | None = MAX_CAPTURE_BYTES  # bytes of records kept each way; see _capture
        self.captured = {"out": 0, "in": 0}
        self.total_bytes = 0  # sent and received, captured or not
        self.capture_truncated = False
        self.peer = peer
        self.local = local
        self.closed = False
        self.cut_short_at: int | None = None  # the peer closed during the last sendall: bytes sent before
        self.reuse_count = 0  # how many requests followed the first on this connection
        self.setup_seconds = 0.0  # DNS + TCP [+ CONNECT] + TLS: what each reuse saves (set by open)
        self._start = start
        self._deadline = None if timeouts.total is None else start + timeouts.total

    @classmethod
    def open(
        cls,
        host: str,
        port: int,
        *,
        tls: bool,
        ca_file: str | None = None,
        timeouts: Timeouts | float | None = None,
        server_hostname: str | None = None,
        keylog_file: str | None = None,
        proxy: Proxy | None = None,
        on_step: OnStep | None = None,
    ) -> Connection:
        """Resolve ``host``, connect to ``port``, and (``tls=True``) do the TLS handshake.

        ``ca_file`` adds a trust root (a private CA) next to certifi's bundle;
        it never turns verification off. ``server_hostname`` is the name sent
        as SNI and checked against the certificate (default ``host``).
        ``keylog_file`` (default ``$SSLKEYLOGFILE``) receives the TLS secrets
        in NSS key log format, for Wireshark. ``proxy`` sends DNS and TCP to
        that HTTP proxy and runs its tunnel step before TLS (see the module
        docstring). ``on_step`` hears each step start and end, as it happens.
        """
        limits = Timeouts.coerce(timeouts)
        context = _tls_context(ca_file, keylog_file) if tls else None
        step = on_step or _no_step
        timings = Timings(started_at=time.time())
        start = time.perf_counter()
        deadline = None if limits.total is None else start + limits.total
        tcp_host, tcp_port = (proxy.host, proxy.port) if proxy is not None else (host, port)

        # Each step is reported as it starts, then as complete (with what it found) or failed.
        with _Step(step, "connection.dns", {"host": tcp_host, "port": tcp_port}) as facts:
            addresses = _resolve(tcp_host, tcp_port)
            timings.dns = time.perf_counter() - start
            facts["addresses"] = [ip for _, (ip, _) in addresses]
        conn = None
        try:
            with _Step(step, "connection.tcp", {"host": tcp_host, "port": tcp_port}) as facts:
                sock, peer, local = _connect_tcp(tcp_host, addresses, limits.connect, deadline)
                timings.connect = time.perf_counter() - start
                conn = cls(
                    sock,
                    timeouts=limits,
                    timings=timings,
                    start=start,
                    addresses=[address for _, address in addresses],
                    peer=peer,
                    local=local,
                )
                facts.update(peer=peer, local=local)
            if proxy is not None:
                conn.tunnel = proxy.open_tunnel(conn, host, port, step)
                timings.tunnel = time.perf_counter() - start
            if context is not None:
                sni = server_hostname or host
                with _Step(step, "connection.tls", {"server_hostname": sni}) as facts:
                    conn.sock, conn.tls = _start_tls(conn.sock, context, sni, port, ca_file, limits.tls, deadline)
                    timings.tls = time.perf_counter() - start
                    facts.update(version=conn.tls.version, cipher=conn.tls.cipher, alpn=conn.tls.alpn)
        except BaseException:
            if conn is not None:
                conn.close()  # a failed step, or an on_step that stopped the call (wire chat --step, q)
            raise
        # Ready for the request after TLS, else after the proxy's tunnel, else after TCP.
        for ready in (timings.tls, timings.tunnel, timings.connect):
            if ready is not None:
                conn.setup_seconds = ready
                break
        if deadline is None and conn.sock.gettimeout() != limits.read:
            conn.sock.settimeout(limits.read)  # fixed from now on; recv() need not reset it
        return conn

    # -- a short talk before TLS: a proxy's CONNECT (wire/proxy.py) ---------------

    def deadline_after(self, limit: float | None) -> float | None:
        """The ``time.perf_counter()`` moment ``limit`` seconds from now, cut short by the total deadline."""
        ends = [t for t in (None if limit is None else time.perf_counter() + limit, self._deadline) if t is not None]
        return min(ends) if ends else None

    def send_raw(self, data: bytes, *, until: float | None, phase: str) -> Record:
        """Send ``data`` before TLS, by the moment ``until``; not kept in ``records`` (the caller keeps it)."""
        try:
            self.sock.settimeout(_remaining(None, until))
            self.sock.sendall(data)
        except OSError as exc:
            raise self._raw_error(exc, phase) from exc
        return Record(time.perf_counter() - self._start, "out", data)

    def recv_raw(self, *, until: float | None, phase: str) -> Record:
        """Read what has arrived, before TLS, by the moment ``until``; ``data`` is ``b""`` at EOF."""
        try:
            self.sock.settimeout(_remaining(None, until))
            data = self.sock.recv(RECV_SIZE)
        except OSError as exc:
            raise self._raw_error(exc, phase) from exc
        return Record(time.perf_counter() - self._start, "in", data)

    def _raw_error(self, exc: OSError, phase: str) -> NetworkError:
        """A failed ``send_raw``/``recv_raw`` as a wire error; the step that called them says more."""
        if isinstance(exc, TimeoutError):
            total = _spent(self._deadline)
            return Timeout(
                f"{phase} did not finish in time" + (" (the total time limit ran out)" if total else ""),
                phase="total" if total else phase,
                limit=self.timeouts.total if total else None,
            )
        return _convert_error(exc, phase, host=str(self.peer[0]), port=self.peer[1])

    # -- bytes out, bytes in ---------------------------------------------------

    def sendall(self, data: bytes) -> None:
        """Write all of ``data`` to the socket (encrypted by TLS if on), and record it.

        At most ``SEND_SIZE`` bytes a send, so that a failure knows how much
        went out: the bytes taken so far are recorded, and when the peer
        closed or reset the connection, ``cut_short_at`` says how many (the
        peer may have answered before it closed: a server may reply 413 once it
        has read the head).
        """
        self.cut_short_at = None
        view = memoryview(data)
        sent = 0
        try:
            while sent < len(data):
                if self._deadline is not None:
                    self.sock.settimeout(self._limit(self.timeouts.read))
                sent += self.sock.send(view[sent : sent + SEND_SIZE])
        except (OSError, ssl.SSLError) as exc:
            if sent:
                self._capture(Record(time.perf_counter() - self._start, "out", data[:sent]))
            if isinstance(exc, PEER_CLOSED):
                self.cut_short_at = sent
            raise self._error(exc, "send") from exc
        now = time.perf_counter() - self._start
        self.timings.request_sent = now
        self._capture(Record(now, "out", data))

    def recv(self, max_bytes: int = RECV_SIZE) -> bytes:
        """Read up to ``max_bytes`` that have arrived; ``b""`` means the peer closed (EOF).

        Waits at most ``timeouts.read`` for the next bytes, and never past
        ``timeouts.total`` from the start of the connection.
        """
        try:
            if self._deadline is not None:
                self.sock.settimeout(self._limit(self.timeouts.read))
            data = self.sock.recv(max_bytes)
        except (OSError, ssl.SSLError) as exc:
            raise self._error(exc, "receive") from exc
        now = time.perf_counter() - self._start
        if data:
            if self.timings.first_byte is None:
                self.timings.first_byte = now
            self._capture(Record(now, "in", data))
        elif self.timings.done is None:
            self.timings.done = now
        return data

    def _capture(self, record: Record) -> None:
        """Keep a record while its direction is under ``max_capture`` bytes (None: no limit); count it either way."""
        size = len(record.data)
        self.total_bytes += size
        limit, kept = self.max_capture, self.captured[record.direction]
        if limit is None or kept + size <= limit:
            self.records.append(record)
            self.captured[record.direction] = kept + size
            return
        # The first record past the limit is kept in part, then nothing more that way: the records
        # stay bounded, though the reply is still read whole, and the views say where capture stopped.
        if kept < limit:
            self.records.append(Record(record.time, record.direction, record.data[: limit - kept]))
            self.captured[record.direction] = limit
        self.capture_truncated = True

    @property
    def bytes_sent(self) -> bytes:
        """Every byte written so far, in order."""
        return b"".join(r.data for r in self.records if r.direction == "out")

    @property
    def bytes_received(self) -> bytes:
        """Every byte read so far, in order."""
        return b"".join(r.data for r in self.records if r.direction == "in")

    def clock(self) -> float:
        """Seconds since this request's start: the clock of ``timings`` and of ``records``."""
        return time.perf_counter() - self._start

    def mark_done(self) -> None:
        """Note the time the response was complete (the HTTP layer knows; the socket does not)."""
        if self.timings.done is None:
            self.timings.done = time.perf_counter() - self._start

    def is_stale(self) -> bool:
        """True when the idle connection is unusable: the peer closed it or sent unasked-for bytes.

        A socket with something to read while no request is out has either an
        EOF (the server's idle timeout) or garbage waiting: either way, do not reuse.
        """
        if self.closed:
            return True
        try:
            if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
                return True
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def reuse(self) -> Timings:
        """Start the next request on this open connection (HTTP/1.1 keep-alive, RFC 9112 §9.3).

        The records and timings start afresh for the new request: no DNS, TCP or
        TLS this time. Returns the timings of the previous request, whose
        handshake phases are what reuse saves.
        """
        previous = self.timings
        self.records = []
        self.captured = {"out": 0, "in": 0}
        self.total_bytes = 0
        self.capture_truncated = False
        self.timings = Timings(started_at=time.time())
        self._start = time.perf_counter()
        self._deadline = None if self.timeouts.total is None else self._start + self.timeouts.total
        self.reuse_count += 1
        return previous

    def close(self) -> None:
        """Close the socket. TLS sends no close_notify here: HTTP framing already said where the reply ends."""
        if not self.closed:
            self.mark_done()
            self.closed = True
            self.sock.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        version = f" {self.tls.version}" if self.tls else ""
        return f"<Connection {state}{version} {self.local} -> {self.peer}, {len(self.records)} records>"

    # -- limits and errors ---------------------------------------------------

    def _limit(self, phase_limit: float | None) -> float | None:
        """The socket timeout for the next wait: the phase limit, cut short by the total deadline.

        A deadline already spent raises TimeoutError at once (``_error`` names it "total"),
        even for a send that the kernel's buffer could still have taken.
        """
        if _spent(self._deadline):
            raise TimeoutError("the total time limit has passed")
        return _remaining(phase_limit, self._deadline)

    def _error(self, exc: BaseException, phase: str) -> NetworkError:
        received = self.bytes_received
        if isinstance(exc, TimeoutError):
            read = self.timeouts.read
            if self._deadline is not None and (read is None or _spent(self._deadline)):
                return Timeout(
                    f"the connection's total time limit of {self.timeouts.total}s ran out during {phase}",
                    phase="total",
                    received=received,
                    limit=self.timeouts.total,
                )
            what = "no bytes arrived" if phase == "receive" else "the peer did not accept our bytes"
            return Timeout(
                f"{what} for {read}s ({len(received)} bytes received so far)",
                phase="read" if phase == "receive" else "send",
                received=received,
                limit=read,
            )
        return _convert_error(exc, phase, received=received, host=str(self.peer[0]), port=self.peer[1])


# -- the steps of open(), one function each --------------------------------------


class _Step:
    """Report step ``name`` as started, then complete (with the facts the body adds) or failed.

    Used as ``with _Step(on_step, name, info) as facts:``, once for each step of ``open``
    (DNS, TCP, TLS). A class rather than a ``contextlib.contextmanager`` generator: the
    generator's machinery cost more than the step's own report.
    """

    __slots__ = ("on_step", "name", "facts")

    def __init__(self, on_step: OnStep, name: str, info: dict[str, Any]) -> None:
        self.on_step = on_step
        self.name = name
        self.facts: dict[str, Any] = {}
        on_step(name, "started", info)

    def __enter__(self) -> dict[str, Any]:
        return self.facts

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            self.on_step(self.name, "complete", self.facts)
        elif isinstance(exc, WireError):
            self.on_step(self.name, "failed", {"error": f"{type(exc).__name__}: {exc}"})


def _resolve(host: str, port: int) -> list[tuple[Any, tuple[str, int]]]:
    """DNS: ``getaddrinfo`` turns ``host`` into ``(family, (ip, port))`` pairs, in the order to try them."""
    try:
        infos = socket.getaddrinfo(_ascii_host(host), port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise _convert_error(exc, "dns", host=host, port=port) from exc
    return [(family, (str(sockaddr[0]), int(sockaddr[1]))) for family, _, _, _, sockaddr in infos]


@functools.lru_cache(maxsize=32)
def _ascii_host(host: str) -> bytes:
    """``host`` as ``getaddrinfo`` looks it up: IDNA-encoded (``"bücher.example"`` -> ``b"xn--bcher-kva.example"``).

    Given a str, CPython's socket module runs the "idna" codec, written in
    Python, on every lookup (Modules/socketmodule.c, ``socket_getaddrinfo``);
    given these bytes it looks up the same name. A client asks for the same
    host call after call, so each host is encoded once.
    """
    return host.encode("idna")


def _connect_tcp(
    host: str, addresses: list[tuple[Any, tuple[str, int]]], limit: float | None, deadline: float | None
) -> tuple[socket.socket, tuple[str, int], tuple[str, int]]:
    """TCP: try each address in order until one completes the handshake; return the socket, peer and local address.

    ``localhost`` often resolves to ``::1`` first while a test server listens
    on ``127.0.0.1`` only; the first refusal is then normal, not an error.
    """
    failures: list[tuple[tuple[str, int], BaseException]] = []
    for family, address in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(_remaining(limit, deadline))
            sock.connect(address)
            # Send small writes at once instead of waiting to batch them (Nagle's algorithm, RFC 896).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # The peer is the address just connected to (what getpeername() would say, one system call less).
            return sock, address, sock.getsockname()[:2]
        except OSError as exc:
            sock.close()
            failures.append((address, exc))
    tried = "; ".join(f"{ip} port {port}: {_reason(exc)}" for (ip, port), exc in failures)
    address, last = failures[-1]
    if isinstance(last, TimeoutError):
        total = _spent(deadline)
        raise Timeout(
            f"TCP connect to {host} did not complete ({tried})",
            phase="total" if total else "connect",
            limit=None if total else limit,
        ) from last
    raise _convert_error(last, "connect", host=host, port=address[1], detail=tried) from last


def _tls_context(ca_file: str | None, keylog_file: str | None) -> ssl.SSLContext:
    """The client's TLS settings, made before any packet is sent.

    certifi's CA bundle (+ ``ca_file`` as one more trust root), hostname
    checking on, TLS 1.2 at least (RFC 8996 retires 1.0 and 1.1), ALPN
    offering only ``http/1.1`` (RFC 7301).
    """
    keylog = keylog_file or os.environ.get("SSLKEYLOGFILE")
    return _cached_tls_context(ca_file, keylog)


# Parsing certifi's ~150 root certificates takes about 20 ms, far longer than a
# handshake on loopback, so each distinct set of settings is built once.
@functools.lru_cache(maxsize=8)
def _cached_tls_context(ca_file: str | None, keylog: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=certifi.where())  # CERT_REQUIRED + check_hostname
    if ca_file is not None:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"ca_file {ca_file!r} could not be loaded as PEM certificates: {_reason(exc)}") from exc
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    if keylog:
        # NSS key log format: the handshake secrets, which let Wireshark decrypt a capture.
        try:
            context.keylog_filename = keylog
        except OSError as exc:
            raise ConfigError(f"cannot write the TLS key log file {keylog!r}: {_reason(exc)}") from exc
    return context


def _start_tls(
    sock: socket.socket,
    context: ssl.SSLContext,
    server_hostname: str,
    port: int,
    ca_file: str | None,
    limit: float | None,
    deadline: float | None,
) -> tuple[ssl.SSLSocket, TLSInfo]:
    """TLS: send the ClientHello with SNI ``server_hostname`` (RFC 6066 §3), finish the handshake, check the cert."""
    try:
        tls_sock = context.wrap_socket(sock, server_hostname=server_hostname, do_handshake_on_connect=False)
    except (OSError, ssl.SSLError, ValueError) as exc:
        sock.close()
        raise TLSError(f"could not start TLS with server name {server_hostname!r}: {_reason(exc)}") from exc
    try:
        tls_sock.settimeout(_remaining(limit, deadline))
        tls_sock.do_handshake()
    except TimeoutError as exc:
        tls_sock.close()
        total = _spent(deadline)
        raise Timeout(
            "the TLS handshake did not finish in time (is the server speaking TLS on this port?)",
            phase="total" if total else "tls",
            limit=None if total else limit,
        ) from exc
    except (OSError, ssl.SSLError) as exc:
        tls_sock.close()
        raise _convert_error(exc, "tls", host=server_hostname, port=port) from exc
    return tls_sock, _tls_info(tls_sock, server_hostname, ca_file)


def _tls_info(tls_sock: ssl.SSLSocket, server_hostname: str, ca_file: str | None) -> TLSInfo:
    """Read the settled handshake: version, cipher, ALPN, and the server's certificate."""
    cert: dict[str, Any] = dict(tls_sock.getpeercert() or {})
    cipher_name, _, bits = tls_sock.cipher() or ("", "", 0)
    return TLSInfo(
        version=tls_sock.version() or "",
        cipher=cipher_name,
        cipher_bits=int(bits or 0),
        alpn=tls_sock.selected_alpn_protocol(),
        server_hostname=server_hostname,
        peer_subject=_name(cert.get("subject", ())),
        peer_issuer=_name(cert.get("issuer", ())),
        peer_sans=[
            f"{'IP' if kind == 'IP Address' else kind}:{value.strip()}"
            for kind, value in cert.get("subjectAltName", ())
        ],
        not_before=str(cert.get("notBefore", "")),
        not_after=str(cert.get("notAfter", "")),
        ca_file_used=certifi.where(),
        extra_ca_file=ca_file,
        verified=tls_sock.context.verify_mode == ssl.CERT_REQUIRED and tls_sock.context.check_hostname,
    )


_SHORT_NAMES = {
    "commonName": "CN",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "countryName": "C",
    "stateOrProvinceName": "ST",
    "localityName": "L",
    "emailAddress": "E",
}


def _name(rdns: Any) -> str:
    """``(( ("commonName", "x"),), ...)`` from ``getpeercert()`` as ``"CN=x, O=y"``."""
    return ", ".join(f"{_SHORT_NAMES.get(key, key)}={value}" for rdn in rdns for key, value in rdn)


def _spent(deadline: float | None) -> bool:
    """Has the total ``deadline`` passed? Within 1 ms counts: a wait it cut short ends just before it.

    This is how a timeout is told apart: the phase's own limit ran out, or the total did.
    """
    return deadline is not None and time.perf_counter() + 1e-3 >= deadline


def _remaining(limit: float | None, deadline: float | None) -> float | None:
    """The smaller of a phase ``limit`` and the time left before ``deadline``.

    Never 0: ``settimeout(0)`` would make the socket non-blocking (an operation then
    fails with EAGAIN instead of timing out), so a spent deadline becomes a wait of
    one microsecond, which times out at once.
    """
    if deadline is None:
        return limit
    left = max(1e-6, deadline - time.perf_counter())
    return left if limit is None else min(limit, left)


def _reason(exc: BaseException) -> str:
    """The short reason inside an OS or OpenSSL error, without Python's noise."""
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return str(exc.verify_message)
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason).replace("_", " ").lower()
    if isinstance(exc, OSError) and exc.strerror:
        return str(exc.strerror)
    return str(exc) or type(exc).__name__


# -- socket and ssl errors -> wire errors: the one place ---------------------------

_DOING = {"send": "sending", "receive": "receiving"}
_PLAIN_HTTP_HINT = "is this port speaking plain HTTP? use http:// (or the right port for https)"

# OpenSSL verify codes (X509_V_ERR_*) from ssl.SSLCertVerificationError.verify_code.
_UNKNOWN_CA = {2, 18, 19, 20, 21}  # issuer unknown, self-signed, unable to get/verify the issuer
_EXPIRED, _NOT_YET_VALID = 10, 9
_HOSTNAME_MISMATCH, _IP_MISMATCH = 62, 64

# OpenSSL reasons meaning "the two sides share no TLS version".
_VERSION_REASONS = {
    "UNSUPPORTED_PROTOCOL",
    "TLSV1_ALERT_PROTOCOL_VERSION",
    "NO_PROTOCOLS_AVAILABLE",
    "WRONG_SSL_VERSION",
    "VERSION_TOO_LOW",
    "TLSV1_ALERT_INSUFFICIENT_SECURITY",
}


def _convert_error(
    exc: BaseException, phase: str, *, received: bytes = b"", host: str = "", port: int = 0, detail: str = ""
) -> NetworkError:
    """Turn a socket/ssl exception raised in ``phase`` into a wire error with a reason and a fix.

    Timeouts are handled by the callers, which know the limit that ran out.
    """
    where = f"{host} port {port}" if host else "the server"
    if phase == "dns":
        return NetworkError(
            f"could not resolve {host!r}: {_reason(exc)}",
            phase="dns",
            hint="check the host name in base_url (OPENAI_BASE_URL) and your network or DNS settings",
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _certificate_error(exc, host)
    if isinstance(exc, ssl.SSLError):
        reason = str(exc.reason or "")
        if reason in _VERSION_REASONS:
            return TLSError(
                f"no TLS version both sides accept ({_reason(exc)})",
                received=received,
                hint="the server offers only TLS older than 1.2, which wire refuses (RFC 8996); upgrade the server",
            )
        if reason in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "HTTP_REQUEST"):
            return TLSError(
                f"the reply from {where} is not TLS ({_reason(exc)})", received=received, hint=_PLAIN_HTTP_HINT
            )
        if reason == "SSLV3_ALERT_HANDSHAKE_FAILURE":
            return TLSError(
                f"{where} refused the handshake ({_reason(exc)})",
                received=received,
                hint="no TLS version or cipher suite in common; wire requires TLS 1.2 or newer (RFC 8996)",
            )
        if phase != "tls":
            return TLSError(f"a TLS record failed while {_DOING[phase]} ({_reason(exc)})", received=received)
        closed = isinstance(exc, ssl.SSLEOFError) or reason == "UNEXPECTED_EOF_WHILE_READING"
        if not closed:
            return TLSError(f"the TLS handshake with {where} failed ({_reason(exc)})", received=received)
    if phase == "tls":
        # The peer closed or reset the connection instead of answering our ClientHello.
        return TLSError(
            f"{where} closed the connection during the TLS handshake ({_reason(exc)})",
            received=received,
            hint=_PLAIN_HTTP_HINT + "; or the server rejected our TLS settings",
        )
    if phase == "tunnel":
        # Only the reason: wire/proxy.py, which ran the tunnel step, says what was going on.
        return NetworkError(_reason(exc), phase="tunnel", received=received)
    if phase == "connect":
        hint = None
        if isinstance(exc, ConnectionRefusedError):
            hint = "is the server running on that port?"
        elif isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            hint = "no route to that address; check your network (or IPv6 support)"
        return NetworkError(f"could not connect to {where} ({detail or _reason(exc)})", phase="connect", hint=hint)
    if isinstance(exc, PEER_CLOSED):
        return NetworkError(
            f"{where} closed the connection while we were {_DOING[phase]} "
            f"({_reason(exc)}; {len(received)} bytes received before)",
            phase=phase,
            received=received,
            hint="the server may have rejected the request early; see the bytes received" if received else None,
        )
    return NetworkError(f"{phase} failed: {_reason(exc)}", phase=phase, received=received)


def _certificate_error(exc: ssl.SSLCertVerificationError, host: str) -> TLSError:
    """Name why the server's certificate was refused, and what to do about it."""
    code = exc.verify_code
    reason = _reason(exc)
    if code in _UNKNOWN_CA:
        hint = "the server's certificate is not signed by a CA wire trusts — pass ca_file=… for a private CA"
        return TLSError(f"certificate not trusted ({reason})", hint=hint)
    if code in (_HOSTNAME_MISMATCH, _IP_MISMATCH):
        return TLSError(
            f"the certificate is not valid for the name {host!r} (hostname mismatch, RFC 9525)",
            hint="connect with the name the certificate was issued for, or pass server_hostname=…",
        )
    if code in (_EXPIRED, _NOT_YET_VALID):
        return TLSError(
            f"the certificate is outside its validity period ({reason})",
            hint="the server must renew its certificate; also check this machine's clock",
        )
    return TLSError(f"certificate verification failed ({reason})")
