"""wire against its pure-Python peers, measured side by side in one run (issue 7).

    python -m tests.bench.bench                 # the full run (about a minute)
    python -m tests.bench.bench --quick         # small sizes, few repetitions (CI: it prints, it asserts nothing)
    python -m tests.bench.bench --only P1,P3    # some benchmarks only
    python -m tests.bench.bench --without httptools,openai   # act as if these peers were not installed
    python -m tests.bench.bench --profile P3    # wire's side of one benchmark under cProfile
    python tests/bench/bench.py ...             # the same, run as a script

What is measured (the table's rows):

    P1  a realistic non-streamed chat reply (19 header fields as the real API sends them,
        a 1.5 KB pretty-printed JSON body in two chunks), fed whole: responses per second
        against h11, httptools (C, llhttp: the ceiling) and http.client.
    P2  an 8 MiB body in 16 KiB chunks, fed in 64 KiB reads: MB/s (10^6 bytes of body per
        second). wire runs with keep_body=False and collects the Data events, as the
        peers' callers do; keep_body=True is given in a note.
    P3  the P1 reply fed one byte at a time: responses per second (http.client reads from a
        file object and cannot be fed bytewise: n/a).
    P4  a 5,000-event chat stream in 1,000-byte reads: events per second against the openai
        SDK's SSEDecoder (``iter_bytes``, as ``openai.Stream`` uses it) and a naive
        ``buf.split(b"\\n\\n")`` loop.
    P5  sequential calls to a local server, a fresh connection each (the server answers
        ``connection: close``): calls per second for ``wire.Client.chat`` (request bytes,
        socket, parser, JSON, typed ChatCompletion) against http.client, requests and httpx,
        each of which also encodes the JSON payload and decodes the JSON reply.
    P6  the same on one kept-alive connection, against http.client, requests.Session and
        httpx.Client. The server counts connections, so the row says whether wire's Client
        reused its connection; until it does the wire figure is for fresh connections.
    M1  the peak of Python memory (tracemalloc) while a 256 MiB chunked body (16 KiB chunks)
        streams through ``ResponseParser(keep_body=False)``, generated on the fly.
    M1b the same with 256-byte chunks, as a chat stream frames its events (32 MiB of body):
        memory that grows per chunk frame shows here.

Method: every contender of a benchmark does the same work (each result is checked against
the expected status, field count and body before timing); the contenders run interleaved
(wire, peer, wire, peer, ...) after one warm-up round, and the best of N rounds counts.
The garbage collector stays on (as in real use) and runs before each round. The local
server for P5/P6 is a minimal socket server in a thread of this process (a fixed reply
with Content-Length, one thread per connection); ``--server fake`` uses wire's FakeServer
instead, which costs several times more per call than the clients being measured.

Nothing here is a test: pytest collects only ``test_*.py``; ``tests/test_bench.py`` runs
this in quick mode and checks that the table is printed.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import http.client
import importlib
import io
import json
import math
import platform
import pstats
import re
import socket
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

if __package__ in (None, ""):  # run as a script: python tests/bench/bench.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from wire.http11 import ChunkHeader, Data, ResponseParser  # noqa: E402
from wire.sse import SSEDecoder  # noqa: E402

KiB = 1024
MiB = 1024 * 1024

# The peers, by the name the table shows and the module to import.
PEER_MODULES = {
    "h11": "h11",
    "httptools": "httptools",
    "openai": "openai._streaming",
    "requests": "requests",
    "httpx": "httpx",
}


# --------------------------------------------------------------------------- sizes


@dataclass(frozen=True)
class Sizes:
    """How much work each benchmark does; ``reps`` is the N of best-of-N."""

    reps: int
    p1_loops: int  # parses of the P1 reply per timed round
    p2_body: int  # bytes of the P2 body
    p2_loops: int
    p3_loops: int
    p4_events: int
    p4_loops: int
    calls: int  # P5 and P6: calls per timed round
    m1_body: int


FULL = Sizes(
    reps=7,
    p1_loops=2000,
    p2_body=8 * MiB,
    p2_loops=3,
    p3_loops=20,
    p4_events=5000,
    p4_loops=3,
    calls=300,
    m1_body=256 * MiB,
)
QUICK = Sizes(
    reps=2,
    p1_loops=100,
    p2_body=1 * MiB,
    p2_loops=1,
    p3_loops=2,
    p4_events=500,
    p4_loops=1,
    calls=20,
    m1_body=16 * MiB,
)


# --------------------------------------------------------------------------- the bytes


# The header fields of a real Chat Completions reply (api.openai.com, 2025), values made up.
REPLY_FIELDS = [
    ("date", "Thu, 01 Jan 2026 12:00:00 GMT"),
    ("content-type", "application/json"),
    ("transfer-encoding", "chunked"),
    ("connection", "keep-alive"),
    ("access-control-expose-headers", "X-Request-ID"),
    ("openai-organization", "user-4kq8n2vxwzj6h3t0r5m9b1cd"),
    ("openai-processing-ms", "562"),
    ("openai-version", "2020-10-01"),
    ("x-ratelimit-limit-requests", "10000"),
    ("x-ratelimit-limit-tokens", "200000"),
    ("x-ratelimit-remaining-requests", "9999"),
    ("x-ratelimit-remaining-tokens", "199967"),
    ("x-ratelimit-reset-requests", "8.64s"),
    ("x-ratelimit-reset-tokens", "9ms"),
    ("x-request-id", "req_5f7a0e5c2d9b4e6f8a1b3c5d7e9f0a2b"),
    ("strict-transport-security", "max-age=31536000; includeSubDomains; preload"),
    ("cf-cache-status", "DYNAMIC"),
    ("server", "cloudflare"),
    ("cf-ray", "8f1e2d3c4b5a6978-AMS"),
]

ANSWER = (
    "HTTP/1.1 keeps a connection open by default, so one TCP connection can carry many requests "
    "one after another. A response says where its body ends in one of three ways: a Content-Length "
    "field, chunked transfer coding (a series of frames, each with its size in hexadecimal, ending "
    "with a frame of size zero), or by closing the connection. Chat Completions replies usually use "
    "chunked framing, and a streamed reply is a text/event-stream of data lines, one JSON chunk each, "
    "ending with data: [DONE]."
)

COMPLETION = {
    "id": "chatcmpl-BfQm3xKp0ZrT8sVn2Lw7YdJc4HaEu",
    "object": "chat.completion",
    "created": 1767268800,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": ANSWER, "refusal": None, "annotations": []},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 14,
        "completion_tokens": 96,
        "total_tokens": 110,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    },
    "service_tier": "default",
    "system_fingerprint": "fp_560af6e559",
}
COMPLETION_BODY = json.dumps(COMPLETION, indent=2).encode()


def head_bytes(fields: list[tuple[str, str]]) -> bytes:
    lines = ["HTTP/1.1 200 OK"] + [f"{name}: {value}" for name, value in fields] + ["", ""]
    return "\r\n".join(lines).encode("latin-1")


def chunked(pieces: list[bytes]) -> bytes:
    frames = [b"%x\r\n%s\r\n" % (len(p), p) for p in pieces]
    return b"".join(frames) + b"0\r\n\r\n"


def chat_reply() -> bytes:
    """P1 and P3: the head, then the JSON body in two chunks (the real API cuts it about so)."""
    half = len(COMPLETION_BODY) // 2
    return head_bytes(REPLY_FIELDS) + chunked([COMPLETION_BODY[:half], COMPLETION_BODY[half:]])


def big_reply(size: int, chunk: int = 16 * KiB) -> tuple[bytes, bytes]:
    """P2: (the whole response, its body): ``size`` bytes of body in ``chunk``-byte frames."""
    pattern = bytes(range(256)) * (chunk // 256 + 1)
    body = (pattern * (size // len(pattern) + 1))[:size]
    fields = [(n, "application/octet-stream" if n == "content-type" else v) for n, v in REPLY_FIELDS]
    return head_bytes(fields) + chunked([body[i : i + chunk] for i in range(0, size, chunk)]), body


def length_reply(*, close: bool) -> bytes:
    """P5 and P6: the chat reply framed by Content-Length, as the local server sends it."""
    fields = []
    for name, value in REPLY_FIELDS:
        if name == "transfer-encoding":
            name, value = "content-length", str(len(COMPLETION_BODY))
        elif name == "connection":
            value = "close" if close else "keep-alive"
        fields.append((name, value))
    return head_bytes(fields) + COMPLETION_BODY


WORDS = "The quick brown fox jumps over the lazy dog while HTTP frames carry every token".split()


def chat_stream(n_events: int) -> tuple[bytes, list[str]]:
    """P4: a stream of ``n_events`` events as the API sends them (the last is [DONE]); and their data."""
    base = {
        "id": "chatcmpl-BfQm3xKp0ZrT8sVn2Lw7YdJc4HaEu",
        "object": "chat.completion.chunk",
        "created": 1767268800,
        "model": "gpt-4o-mini-2024-07-18",
        "service_tier": "default",
        "system_fingerprint": "fp_560af6e559",
    }
    datas = []
    for i in range(n_events - 1):
        if i == 0:
            delta: dict[str, Any] = {"role": "assistant", "content": "", "refusal": None}
        elif i == n_events - 2:
            delta = {}
        else:
            delta = {"content": " " + WORDS[i % len(WORDS)]}
        finish = "stop" if i == n_events - 2 else None
        chunk = dict(base, choices=[{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}])
        chunk["obfuscation"] = "x" * (i % 7 + 3)
        datas.append(json.dumps(chunk, separators=(",", ":")))
    datas.append("[DONE]")
    return b"".join(b"data: " + d.encode() + b"\n\n" for d in datas), datas


def pieces_of(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


# --------------------------------------------------------------------------- peers


class Peers:
    """The peer modules that could be imported (and were not excluded with --without)."""

    def __init__(self, without: set[str]) -> None:
        self.modules: dict[str, ModuleType | None] = {}
        for name, module in PEER_MODULES.items():
            if name in without:
                self.modules[name] = None
                continue
            try:
                self.modules[name] = importlib.import_module(module)
            except ImportError:
                self.modules[name] = None

    def get(self, name: str) -> Any:
        return self.modules.get(name)


# --------------------------------------------------------------------------- racing


@dataclass
class Contender:
    """One side of a benchmark: ``run()`` does one round and returns the seconds it took."""

    name: str  # as the table shows it
    run: Callable[[], float] | None  # None: cannot run (see note)
    note: str = ""
    target: float | None = None  # the wire/peer ratio issue 7 asks for
    reference: str = ""  # why this peer is in the table, when it has no target


@dataclass
class Bench:
    id: str
    title: str
    unit: str
    work: float  # units of work per round (the figure is work / best seconds)
    wire: Contender
    peers: list[Contender]
    check: Callable[[], None] | None = None  # before timing: every contender gets the same result
    after: Callable[[dict[str, float]], list[str]] | None = None  # notes once the figures are known
    label: str = "wire"  # how the table names wire's side (P6 says when it had no keep-alive)


@dataclass
class Row:
    id: str
    title: str
    unit: str
    wire_name: str
    wire: float | None
    peer: str
    figure: float | None
    note: str = ""
    target: str = ""
    met: str = ""
    ratio: float | None = None


@dataclass
class Result:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def timed(fn: Callable[[], object], loops: int) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        return time.perf_counter() - start

    return run


def race(contenders: list[Contender], reps: int) -> dict[str, float]:
    """Best seconds per contender over ``reps`` interleaved rounds, after one warm-up round."""
    runnable = [c for c in contenders if c.run is not None]
    best = dict.fromkeys((c.name for c in runnable), math.inf)
    for c in runnable:
        assert c.run is not None
        c.run()
    for _ in range(reps):
        for c in runnable:
            assert c.run is not None
            gc.collect()
            best[c.name] = min(best[c.name], c.run())
    return best


def missing(name: str, **kw: Any) -> Contender:
    return Contender(name, None, note="not installed", **kw)


# --------------------------------------------------------------------------- the parsers, each fed the same way

Summary = tuple[int, int, bytes]  # (status, number of header fields, body)


def wire_parse(pieces: list[bytes]) -> Summary:
    parser = ResponseParser()
    for piece in pieces:
        parser.feed(piece)
    resp = parser.response
    assert resp is not None
    return resp.status, len(resp.headers), resp.body


def wire_stream(pieces: list[bytes]) -> Summary:
    """keep_body=False: the body is handed on as Data events and collected here, as h11's caller does."""
    parser = ResponseParser(keep_body=False)
    body = []
    for piece in pieces:
        for event in parser.feed(piece):
            if type(event) is Data:
                body.append(event.data)
    resp = parser.response
    assert resp is not None
    return resp.status, len(resp.headers), b"".join(body)


def h11_connection(h11: Any) -> Any:
    """A client connection that has sent its request (not timed: the parse is)."""
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="POST", target="/v1/chat/completions", headers=[("Host", "api.openai.com")]))
    conn.send(h11.EndOfMessage())
    return conn


def h11_parse(h11: Any, conn: Any, pieces: list[bytes]) -> Summary:
    need_data, response_t, data_t, end_t = h11.NEED_DATA, h11.Response, h11.Data, h11.EndOfMessage
    status, headers, body = 0, [], []
    for piece in pieces:
        conn.receive_data(piece)
        while True:
            event = conn.next_event()
            if event is need_data:
                break
            kind = type(event)
            if kind is data_t:
                body.append(event.data)
            elif kind is response_t:
                status, headers = event.status_code, event.headers
            elif kind is end_t:
                return status, len(headers), b"".join(body)
    raise AssertionError("h11 did not finish the response")


def h11_runner(h11: Any, pieces: list[bytes], loops: int) -> Callable[[], float]:
    def run() -> float:
        conns = [h11_connection(h11) for _ in range(loops)]
        start = time.perf_counter()
        for conn in conns:
            h11_parse(h11, conn, pieces)
        return time.perf_counter() - start

    return run


class _Collector:
    """httptools callbacks that keep what a client needs: the fields and the body."""

    __slots__ = ("headers", "body", "done")

    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.done = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.done = True


def httptools_parse(httptools: Any, pieces: list[bytes]) -> Summary:
    collector = _Collector()
    parser = httptools.HttpResponseParser(collector)
    for piece in pieces:
        parser.feed_data(piece)
    assert collector.done
    return parser.get_status_code(), len(collector.headers), b"".join(collector.body)


class _FileSocket:
    """Just enough of a socket for http.client.HTTPResponse: makefile() gives the bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def makefile(self, mode: str, *args: Any, **kwargs: Any) -> io.BytesIO:
        return io.BytesIO(self.data)


def httpclient_parse(data: bytes) -> Summary:
    resp = http.client.HTTPResponse(_FileSocket(data), method="POST")  # type: ignore[arg-type]
    resp.begin()
    body = resp.read()
    return resp.status, len(resp.getheaders()), body


def parser_bench(
    id: str,
    title: str,
    unit: str,
    *,
    work: float,
    data: bytes,
    pieces: list[bytes],
    expected: Summary,
    loops: int,
    peers: Peers,
    targets: dict[str, float],
    streaming: bool = False,
    http_client: bool = True,
) -> Bench:
    wire_fn = wire_stream if streaming else wire_parse
    wire = Contender("wire", timed(lambda: wire_fn(pieces), loops))
    contenders = []
    checks: list[tuple[str, Callable[[], Summary]]] = [("wire", lambda: wire_fn(pieces))]
    h11 = peers.get("h11")
    if h11 is None:
        contenders.append(missing("h11", target=targets.get("h11")))
    else:
        contenders.append(Contender("h11", h11_runner(h11, pieces, loops), target=targets.get("h11")))
        checks.append(("h11", lambda: h11_parse(h11, h11_connection(h11), pieces)))
    httptools = peers.get("httptools")
    ceiling = "C ceiling"
    if httptools is None:
        contenders.append(missing("httptools", reference=ceiling))
    else:
        contenders.append(Contender("httptools", timed(lambda: httptools_parse(httptools, pieces), loops)))
        contenders[-1].reference = ceiling
        checks.append(("httptools", lambda: httptools_parse(httptools, pieces)))
    if http_client:
        contenders.append(Contender("http.client", timed(lambda: httpclient_parse(data), loops)))
        checks.append(("http.client", lambda: httpclient_parse(data)))
    else:
        contenders.append(Contender("http.client", None, note="n/a", reference="reads a file: not bytewise"))

    def check() -> None:
        for name, fn in checks:
            got = fn()
            if got != expected:
                raise AssertionError(f"{id}: {name} parsed {got[:2]} and {len(got[2])} body bytes, not {expected[:2]}")

    return Bench(id, title, unit, work, wire, contenders, check=check)


# --------------------------------------------------------------------------- P1-P4


def bench_p1(sizes: Sizes, peers: Peers) -> Bench:
    data = chat_reply()
    expected = (200, len(REPLY_FIELDS), COMPLETION_BODY)
    return parser_bench(
        "P1",
        f"chat reply ({len(data):,} B), whole",
        "resp/s",
        work=sizes.p1_loops,
        data=data,
        pieces=[data],
        expected=expected,
        loops=sizes.p1_loops,
        peers=peers,
        targets={"h11": 2.0},
    )


def bench_p2(sizes: Sizes, peers: Peers) -> Bench:
    data, body = big_reply(sizes.p2_body)
    reads = pieces_of(data, 64 * KiB)
    expected = (200, len(REPLY_FIELDS), body)
    bench = parser_bench(
        "P2",
        f"{sizes.p2_body // MiB} MiB body, 16 KiB chunks, 64 KiB reads",
        "MB/s",
        work=sizes.p2_loops * len(body) / 1e6,
        data=data,
        pieces=reads,
        expected=expected,
        loops=sizes.p2_loops,
        peers=peers,
        targets={"h11": 1.2},
        streaming=True,
    )
    keep = Contender("wire keep_body=True", timed(lambda: wire_parse(reads), sizes.p2_loops))

    def after(best: dict[str, float]) -> list[str]:
        seconds = race([keep], max(1, sizes.reps // 2))[keep.name]
        return [f"P2: wire with keep_body=True (keeps body and raw bytes): {bench.work / seconds:,.0f} MB/s"]

    bench.after = after
    return bench


def bench_p3(sizes: Sizes, peers: Peers) -> Bench:
    data = chat_reply()
    expected = (200, len(REPLY_FIELDS), COMPLETION_BODY)
    return parser_bench(
        "P3",
        "chat reply, one byte per feed",
        "resp/s",
        work=sizes.p3_loops,
        data=data,
        pieces=pieces_of(data, 1),
        expected=expected,
        loops=sizes.p3_loops,
        peers=peers,
        targets={"h11": 2.0},
        http_client=False,
    )


def wire_sse(reads: list[bytes]) -> list[str]:
    decoder = SSEDecoder()
    out = []
    for read in reads:
        for event in decoder.feed(read):
            out.append(event.data)
    for event in decoder.flush():
        out.append(event.data)
    return out


def openai_sse(streaming: Any, reads: list[bytes]) -> list[str]:
    # As openai.Stream does: SSEDecoder().iter_bytes(response.iter_bytes()).
    return [event.data for event in streaming.SSEDecoder().iter_bytes(iter(reads))]


def naive_sse(reads: list[bytes]) -> list[str]:
    buf = b""
    out = []
    for read in reads:
        buf += read
        blocks = buf.split(b"\n\n")
        buf = blocks.pop()
        for block in blocks:
            if block.startswith(b"data: "):
                out.append(block[6:].decode())
    return out


def bench_p4(sizes: Sizes, peers: Peers) -> Bench:
    stream, datas = chat_stream(sizes.p4_events)
    reads = pieces_of(stream, 1000)
    loops = sizes.p4_loops
    wire = Contender("wire", timed(lambda: wire_sse(reads), loops))
    checks: list[tuple[str, Callable[[], list[str]]]] = [("wire", lambda: wire_sse(reads))]
    streaming = peers.get("openai")
    if streaming is None or not hasattr(streaming.SSEDecoder, "iter_bytes"):
        sdk = missing("openai SDK SSEDecoder", target=2.0)
    else:
        sdk = Contender("openai SDK SSEDecoder", timed(lambda: openai_sse(streaming, reads), loops), target=2.0)
        checks.append(("openai", lambda: openai_sse(streaming, reads)))
    naive = Contender("naive split", timed(lambda: naive_sse(reads), loops), reference="baseline: no SSE rules")
    checks.append(("naive split", lambda: naive_sse(reads)))

    def check() -> None:
        for name, fn in checks:
            if fn() != datas:
                raise AssertionError(f"P4: {name} decoded other events")

    title = f"{sizes.p4_events:,}-event chat stream ({len(stream) / 1e6:.2f} MB), 1000 B reads"
    return Bench("P4", title, "events/s", loops * sizes.p4_events, wire, [sdk, naive], check=check)


# --------------------------------------------------------------------------- P5, P6: a local server


class MiniServer:
    """A minimal HTTP/1.1 server on 127.0.0.1: reads a request, sends one fixed reply.

    One thread accepts, one thread per connection serves it. With ``close`` the reply
    says ``connection: close`` and the server closes after it; otherwise the
    connection stays open for the next request. ``connections`` counts accepts.
    """

    def __init__(self, reply: bytes, *, close: bool) -> None:
        self.reply = reply
        self.close = close
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="bench-server", daemon=True)

    def __enter__(self) -> MiniServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        with conn:
            try:
                while True:
                    end = buf.find(b"\r\n\r\n")
                    while end < 0:
                        data = conn.recv(65536)
                        if not data:
                            return
                        buf += data
                        end = buf.find(b"\r\n\r\n")
                    m = re.search(rb"\r\ncontent-length:[ \t]*(\d+)", buf[:end], re.IGNORECASE)
                    need = end + 4 + (int(m.group(1)) if m else 0)
                    while len(buf) < need:
                        data = conn.recv(65536)
                        if not data:
                            return
                        buf += data
                    buf = buf[need:]
                    conn.sendall(self.reply)
                    if self.close:
                        return
            except OSError:
                return


class FakeServerAdapter:
    """wire's FakeServer (framing="length") with MiniServer's face, for --server fake."""

    def __init__(self, reply: bytes, *, close: bool) -> None:
        from wire.fake import FakeServer

        self.close = close
        self._fake = FakeServer(framing="length")
        self.base_url = ""

    def __enter__(self) -> FakeServerAdapter:
        self._fake.start()
        self.base_url = self._fake.base_url
        return self

    def __exit__(self, *exc: object) -> None:
        self._fake.stop()

    @property
    def connections(self) -> int:
        return -1  # not counted


PROMPT = "Tell me a fun fact about HTTP."
PAYLOAD = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": PROMPT}]}
API_KEY = "sk-bench-0000000000000000"
HEADERS = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json", "Accept": "application/json"}


def answer_of(reply: Any) -> str:
    return str(reply["choices"][0]["message"]["content"])


def wire_calls(base_url: str, calls: int) -> Callable[[], float]:
    from wire.client import Client

    def run() -> float:
        client = Client(base_url=base_url, api_key=API_KEY, max_retries=0, timeout=10)
        start = time.perf_counter()
        for _ in range(calls):
            exchange = client.chat(PROMPT, model="gpt-4o-mini")
            assert exchange.completion is not None and exchange.text
        seconds = time.perf_counter() - start
        close = getattr(client, "close", None)  # once Client keeps connections, it may own some
        if close is not None:
            close()
        return seconds

    return run


def httpclient_calls(base_url: str, calls: int, *, reuse: bool) -> Callable[[], float]:
    host, port, path = _split(base_url)

    def call(conn: http.client.HTTPConnection) -> str:
        conn.request("POST", path, body=json.dumps(PAYLOAD).encode(), headers=HEADERS)
        return answer_of(json.loads(conn.getresponse().read()))

    def run() -> float:
        start = time.perf_counter()
        if reuse:
            conn = http.client.HTTPConnection(host, port, timeout=10)
            for _ in range(calls):
                call(conn)
            conn.close()
        else:
            for _ in range(calls):
                conn = http.client.HTTPConnection(host, port, timeout=10)
                call(conn)
                conn.close()
        return time.perf_counter() - start

    return run


def requests_calls(requests: Any, base_url: str, calls: int) -> Callable[[], float]:
    url = base_url + "/chat/completions"

    def run() -> float:
        start = time.perf_counter()
        with requests.Session() as session:
            for _ in range(calls):
                reply = session.post(url, json=PAYLOAD, headers=HEADERS, timeout=10)
                reply.raise_for_status()
                answer_of(reply.json())
        return time.perf_counter() - start

    return run


def httpx_calls(httpx: Any, base_url: str, calls: int) -> Callable[[], float]:
    url = base_url + "/chat/completions"

    def run() -> float:
        start = time.perf_counter()
        with httpx.Client(timeout=10) as client:
            for _ in range(calls):
                reply = client.post(url, json=PAYLOAD, headers=HEADERS)
                reply.raise_for_status()
                answer_of(reply.json())
        return time.perf_counter() - start

    return run


def _split(base_url: str) -> tuple[str, int, str]:
    m = re.fullmatch(r"http://([^:/]+):(\d+)(/.*)?", base_url)
    assert m is not None, base_url
    return m.group(1), int(m.group(2)), (m.group(3) or "") + "/chat/completions"


def counting(server: Any, name: str, run: Callable[[], float], counts: dict[str, int]) -> Callable[[], float]:
    """Wrap a round to record how many connections the server accepted during it."""

    def wrapped() -> float:
        before = server.connections
        seconds = run()
        counts[name] = server.connections - before
        return seconds

    return wrapped


def calls_bench(id: str, sizes: Sizes, peers: Peers, server_kind: str, *, keep_alive: bool) -> Bench:
    calls = sizes.calls
    server_cls = FakeServerAdapter if server_kind == "fake" else MiniServer
    server = server_cls(length_reply(close=not keep_alive), close=not keep_alive)
    server.__enter__()
    counts: dict[str, int] = {}
    url = server.base_url
    requests, httpx = peers.get("requests"), peers.get("httpx")

    def contender(name: str, run: Callable[[], float] | None, **kw: Any) -> Contender:
        if run is None:
            return missing(name, **kw)
        return Contender(name, counting(server, name, run, counts), **kw)

    wire = contender("wire", wire_calls(url, calls))
    if keep_alive:
        contenders = [
            contender("http.client, one connection", httpclient_calls(url, calls, reuse=True), reference="stdlib"),
            contender("requests.Session", requests and requests_calls(requests, url, calls), target=1.5),
            contender("httpx.Client", httpx and httpx_calls(httpx, url, calls)),
        ]
        title = f"{calls} calls, one kept-alive connection"
    else:
        contenders = [
            contender("http.client", httpclient_calls(url, calls, reuse=False), target=1.0),
            contender("requests", requests and requests_calls(requests, url, calls)),
            contender("httpx", httpx and httpx_calls(httpx, url, calls)),
        ]
        title = f"{calls} calls, a fresh connection each"

    def after(best: dict[str, float]) -> list[str]:
        server.__exit__(None, None, None)
        if server_kind == "fake":
            return [
                f"{id}: against wire's FakeServer, which keeps connections alive whatever the row says "
                "(connections not counted): clients that pool reuse them"
            ]
        used = ", ".join(f"{name} {n}" for name, n in counts.items())
        notes = [f"{id}: connections opened for {calls} calls: {used}"]
        if keep_alive and counts.get("wire", 0) >= calls:
            bench.label = "no keep-alive yet"
            notes.append(f"{id}: wire.Client does not reuse connections yet; its figure is for fresh connections")
        return notes

    bench = Bench(id, title, "calls/s", calls, wire, contenders, after=after)
    return bench


def bench_p5(sizes: Sizes, peers: Peers, server: str = "mini") -> Bench:
    return calls_bench("P5", sizes, peers, server, keep_alive=False)


def bench_p6(sizes: Sizes, peers: Peers, server: str = "mini") -> Bench:
    return calls_bench("P6", sizes, peers, server, keep_alive=True)


# --------------------------------------------------------------------------- M1


M1_LIMIT = 16 * MiB


def stream_through(total: int, chunk: int = 16 * KiB, per_read: int = 4) -> tuple[int, int]:
    """Feed a ``total``-byte chunked body to ResponseParser(keep_body=False); return (body bytes seen, frames)."""
    frame = b"%x\r\n" % chunk + bytes(range(256)) * (chunk // 256) + b"\r\n"
    frames = (frame,) * per_read
    reads = total // (chunk * per_read)
    parser = ResponseParser(keep_body=False)
    seen = 0
    count = 0
    parser.feed(head_bytes(REPLY_FIELDS))
    for _ in range(reads):
        read = b"".join(frames)  # a new 64 KiB object each time, as socket.recv gives
        for event in parser.feed(read):
            if type(event) is Data:
                seen += len(event.data)
            elif type(event) is ChunkHeader:
                count += 1
    parser.feed(b"0\r\n\r\n")
    assert parser.response is not None
    return seen, count + 1


def m1(sizes: Sizes, *, id: str = "M1", total: int | None = None, chunk: int = 16 * KiB) -> tuple[Row, list[str]]:
    total = sizes.m1_body if total is None else total
    per_read = max(1, 64 * KiB // chunk)
    gc.collect()
    tracemalloc.start()
    start = time.perf_counter()
    seen, frames = stream_through(total, chunk=chunk, per_read=per_read)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert seen == total, (seen, total)
    size = f"{chunk // KiB} KiB" if chunk >= KiB else f"{chunk} B"
    row = Row(
        id,
        f"peak memory, {total // MiB} MiB body in {size} chunks, keep_body=False",
        "MiB",
        "wire",
        peak / MiB,
        "-",
        None,
        target=f"<= {M1_LIMIT // MiB} MiB",
        met="yes" if peak <= M1_LIMIT else "NO",
    )
    note = (
        f"{id}: {seen / MiB:,.0f} MiB in {frames:,} chunk frames of {size} went through at "
        f"{seen / 1e6 / seconds:,.0f} MB/s under tracemalloc; peak {peak / MiB:.2f} MiB ({peak / frames:,.0f} B per frame)"
    )
    return row, [note]


def m1b(sizes: Sizes) -> tuple[Row, list[str]]:
    """M1 with the chunks a chat stream has (one SSE event, about 256 B, per chunk): does memory stay flat?"""
    return m1(sizes, id="M1b", total=sizes.m1_body // 8, chunk=256)


# --------------------------------------------------------------------------- running and printing


BENCHES: dict[str, Callable[..., Bench]] = {
    "P1": bench_p1,
    "P2": bench_p2,
    "P3": bench_p3,
    "P4": bench_p4,
    "P5": bench_p5,
    "P6": bench_p6,
}
MEMORY = {"M1": m1, "M1b": m1b}
ALL = [*BENCHES, *MEMORY]


def run_bench(bench: Bench, sizes: Sizes) -> Result:
    if bench.check is not None:
        bench.check()
    contenders = [bench.wire] + bench.peers
    try:
        best = race(contenders, sizes.reps)
    except BaseException:
        if bench.after is not None:
            bench.after({})  # stop the server
        raise
    notes = bench.after(best) if bench.after is not None else []
    wire = bench.work / best[bench.wire.name]
    result = Result(notes=notes)
    for peer in bench.peers:
        figure = bench.work / best[peer.name] if peer.name in best else None
        ratio = wire / figure if figure else None
        if peer.target is not None:
            target = f">= {peer.target:g}x"
            met = "-" if ratio is None else ("yes" if ratio >= peer.target else "NO")
        else:
            target, met = (f"({peer.reference})" if peer.reference else ""), "-"
        result.rows.append(
            Row(bench.id, bench.title, bench.unit, bench.label, wire, peer.name, figure, peer.note, target, met, ratio)
        )
    if any(p.reference == "C ceiling" for p in bench.peers):
        ceiling = next(r for r in result.rows if r.peer == "httptools")
        if ceiling.ratio:
            result.notes.append(
                f"{bench.id}: wire runs at {ceiling.ratio:.0%} of httptools' speed "
                f"(httptools is {1 / ceiling.ratio:.1f}x faster)"
            )
    return result


def fmt(value: float | None) -> str:
    if value is None:
        return ""
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def table(rows: list[Row]) -> str:
    header = ["bench", "what", "unit", "wire", "peer", "peer figure", "wire/peer", "target", "met?"]
    lines = []
    last = None
    for r in rows:
        first = r.id != last
        last = r.id
        figure = fmt(r.figure) if r.figure is not None else r.note
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
        wire = fmt(r.wire) + ("" if r.wire_name == "wire" else f" [{r.wire_name}]")
        lines.append(
            [
                r.id,
                r.title if first else "",
                r.unit if first else "",
                wire if first else "",
                r.peer,
                figure,
                ratio,
                r.target,
                r.met,
            ]
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    right = {3, 5, 6}

    def join(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    out = [join(header), join(["-" * w for w in widths])]
    out += [join(line).rstrip() for line in lines]
    return "\n".join(out)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m tests.bench.bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few repetitions (under 20 s)")
    ap.add_argument("--only", default="", help="comma-separated benchmark ids, e.g. P1,P3 (default: all)")
    ap.add_argument("--without", default="", help="comma-separated peers to treat as not installed")
    ap.add_argument("--server", choices=["mini", "fake"], default="mini", help="P5/P6 server (default: mini)")
    ap.add_argument("--reps", type=int, default=None, help="best of N rounds (default: 7, or 2 with --quick)")
    ap.add_argument("--profile", default="", metavar="ID", help="run wire's side of one benchmark under cProfile")
    args = ap.parse_args(argv)
    known = {id.upper(): id for id in ALL}
    asked = [x.strip() for x in args.only.split(",") if x.strip()]
    unknown = [x for x in asked if x.upper() not in known]
    if unknown:
        ap.error(f"unknown benchmark {', '.join(unknown)} (known: {', '.join(ALL)})")
    args.wanted = [known[x.upper()] for x in asked] or ALL
    args.without = {x.strip() for x in args.without.split(",") if x.strip()}
    return args


def build(id: str, sizes: Sizes, peers: Peers, server: str) -> Bench:
    if id in ("P5", "P6"):
        return BENCHES[id](sizes, peers, server)
    return BENCHES[id](sizes, peers)


def profile(id: str, sizes: Sizes, peers: Peers, server: str) -> None:
    if id not in BENCHES:
        raise SystemExit(f"--profile takes one of {', '.join(BENCHES)}")
    bench = build(id, sizes, peers, server)
    assert bench.wire.run is not None
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(max(1, sizes.reps // 2)):
        bench.wire.run()
    profiler.disable()
    if bench.after is not None:
        bench.after({})
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(18)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.reps is not None:
        sizes = Sizes(**{**sizes.__dict__, "reps": args.reps})
    peers = Peers(args.without)
    if args.profile:
        profile(args.profile.upper(), sizes, peers, args.server)
        return 0
    versions = ", ".join(
        f"{name} {getattr(importlib.import_module(name.split('.')[0]), '__version__', '?')}"
        if mod is not None
        else f"{name} not installed"
        for name, mod in peers.modules.items()
    )
    print(f"wire benchmark ({'quick' if args.quick else 'full'}; best of {sizes.reps}, interleaved)")
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}) on {platform.machine()}; {versions}"
    )
    started = time.perf_counter()
    rows: list[Row] = []
    notes: list[str] = []
    for id in args.wanted:
        if id in MEMORY:
            row, more = MEMORY[id](sizes)
            rows.append(row)
            notes += more
            continue
        result = run_bench(build(id, sizes, peers, args.server), sizes)
        rows += result.rows
        notes += result.notes
    print()
    print(table(rows))
    print()
    for note in notes:
        print(f"- {note}")
    print(f"\n({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
