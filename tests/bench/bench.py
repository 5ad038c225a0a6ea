"""wire against its pure-Python peers, measured side by side in one run (issue 7).

    python -m tests.bench.bench                 # the full run (about two minutes)
    python -m tests.bench.bench --quick         # small sizes, few repetitions (CI: it prints, it asserts nothing)
    python -m tests.bench.bench --only P1,P3    # some benchmarks only
    python -m tests.bench.bench --without httptools,openai   # act as if these peers were not installed
    python -m tests.bench.bench --profile P3    # wire's side of one benchmark under cProfile
    python tests/bench/bench.py ...             # the same, run as a script

What is measured (the table's rows). The "scope" column says what a row times: the parser
alone (bytes already in memory, fed to the parser), or the whole call (request bytes, socket,
parser, JSON: what a user feels):

    P1  parser. A realistic non-streamed chat reply (19 header fields as the real API sends
        them, a 1.5 KB pretty-printed JSON body in two chunks), fed whole: responses per second
        against h11, http.client and httptools (C, llhttp: the ceiling, not a target). Two rows
        for wire: the parser as ``ResponseParser()`` gives it (a Field event per field line) and
        with ``field_events=False`` (the fields only in ``Response.headers``, as h11 and
        http.client give them: what the Client uses for a reply that is not streamed).
    P2  parser. An 8 MiB body in 16 KiB chunks, fed in 64 KiB reads: MB/s (10^6 bytes of body
        per second). Two rows for wire: keep_body=False (the Data events are collected, as the
        peers' callers do) and keep_body=True (the body and the raw bytes kept: what the Client
        uses).
    P3  parser. The P1 reply fed one byte at a time: responses per second (http.client reads
        from a file object and cannot be fed bytewise: n/a).
    P4  SSE decoder. A 5,000-event chat stream in 1,000-byte reads: events per second against
        the openai SDK's SSEDecoder (``iter_bytes``, as ``openai.Stream`` uses it) and a naive
        ``buf.split(b"\\n\\n")`` loop. P4b: the same events with CRLF line ends and ``event:``
        and ``id:`` lines (P4 takes the LF-only ``data:`` path); the naive peer splits on CRLF.
    P5  whole call. Sequential calls to a local server, a fresh connection each (the server
        answers ``connection: close``): calls per CPU-second of this process for
        ``wire.Client.chat`` (request bytes, socket, parser, JSON, ChatCompletion) against
        http.client, requests and httpx, each of which also encodes the JSON payload and
        decodes the JSON reply.
    P6  whole call. The same on one kept-alive connection, against http.client's one reused
        HTTPConnection, requests.Session and httpx.Client. The server counts connections.
        P5 and P6 also time a bare socket (the floor, not a peer): the same request's bytes
        in one ``sendall``, the reply read to its last byte, no HTTP and no JSON. What it
        costs (system calls, loopback, the wait for the server) every client pays; a note
        gives each side's time a call above it.
    P7  whole call. One streamed call of 5,000 chunks (one chunk frame each, as the API sends
        them): chunks per CPU-second for ``Client.stream()`` against the openai SDK
        (``stream=True``, over httpx) and httpx with a naive SSE split (``data:`` lines +
        ``json.loads``); every contender collects the same text.
    M1  parser. The peak of Python memory (tracemalloc) while a 256 MiB chunked body (16 KiB
        chunks) streams through ``ResponseParser(keep_body=False)``, generated on the fly.
    M1b the same with 256-byte chunks, as a chat stream frames its events (32 MiB of body):
        memory that grows per chunk frame shows here.
    M2  whole call. The peak growth of Python memory (tracemalloc) during one streamed call of
        200,000 events (about 60 MiB) through ``Client.stream()`` with its default capture.

Method: every contender of a benchmark does the same work (each result is checked against
the expected status, field count and body before timing); the contenders run interleaved
(wire, peer, wire, peer, ...) in many short rounds after one warm-up round: 35 for the
parser rows, 105 for P5 and P6 (60 calls each), 31 for P7 (one streamed call each). A
contender's figure is its work over its median round. The ratio wire/peer is the median,
over the rounds, of the peer's time over wire's time in the same round: the two ran seconds
apart, so a slow spell of the machine slows both and the pair's ratio stays.
What ran just before a round moves it too: right after requests' and httpx's rounds, which
make and drop far more objects, a P6 call took about 8 % more CPU time for wire and 3 % more
for http.client. In P5 and P6 the bare socket (the floor) runs last in each round, so that
neither side of the headline follows a heavy peer.
On this project's virtual machine the CPU time of one and the same call moves by a third from
one round to the next, in spells that last seconds (it is a virtual machine, and what else runs
on its host cannot be seen from inside). An earlier version took each contender's best round:
the ratio of two minima, each set by the one round that happened to be quietest. In six runs
of the same code its P6 ratio went from 1.03x to 1.23x while the median of paired ratios
stayed within 1.14x-1.17x; three runs of P1 in 70 rounds of 200 parses gave paired medians
within 1.89x-1.90x, where best rounds had given 1.64x to 2.06x (docs/speed.md). A verdict
that flips with the run says nothing. From one run of the benchmark to the next a row still
moves by about 5 %.
Each row runs in a process of its own, started afresh ("spawn"), which imports wire, this
module and that row's peers only. What else a process has imported changes both sides' speed:
with the openai SDK imported (P4 and P7 need it) beside requests and httpx, a P6 call took
about 12 % more CPU time for wire and 7 % more for http.client, with the same instruction
counts (callgrind): the P6 ratio went from about 1.17x to 1.12x. Before, every row ran in one
process that had imported every peer.
Every client (wire.Client, requests.Session, httpx.Client, the SDK's OpenAI) is made before
its timing starts: the rows time calls, not a client's set-up (an httpx.Client loads the CA
bundle when it is made, even for an http:// URL: about 60 ms of CPU).
Every row is timed by this process's CPU time (``time.process_time``): on shared cores the
wall clock mostly measures who got scheduled. The whole-call rows print their wall-clock
ratio beside. The garbage collector stays on (as in real use) and runs before each round.
The server for P5-P7 and M2 runs in a separate process (forked), so that it shares neither
the interpreter lock nor the CPU-time count with the client: a minimal socket server (a
fixed reply, one thread per connection). With two CPUs or more, a row's process stays on one
CPU and the server processes on another (``os.sched_setaffinity``): neither is moved between
CPUs mid-round, nor waits for the other's CPU. ``--server fake`` uses wire's FakeServer (in a
thread of this process) instead, which costs several times more per call than the clients.

Each benchmark's first row is its headline: wire against the fastest peer measured
(httptools, a C parser, is named as the ceiling and the bare socket of P5 and P6 as the
floor; neither is ever the headline).

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
import multiprocessing
import os
import platform
import pstats
import re
import socket
import statistics
import sys
import threading
import time
import traceback
import tracemalloc
from collections.abc import Callable, Iterator
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
    """How much work each benchmark does, and in how many rounds (see "Method" above)."""

    reps: int  # rounds of the parser rows (P1-P4)
    call_reps: int  # rounds of P5 and P6
    p7_reps: int  # rounds of P7 (one long streamed call each)
    p1_loops: int  # parses of the P1 reply per timed round
    p2_body: int  # bytes of the P2 body
    p2_loops: int
    p3_loops: int
    p4_events: int
    p4_loops: int
    calls: int  # P5 and P6: calls per timed round
    m1_body: int
    p7_chunks: int  # chunks of the P7 streamed call
    m2_events: int  # events of the M2 streamed call


FULL = Sizes(
    reps=35,
    call_reps=105,
    p7_reps=31,
    p1_loops=400,
    p2_body=8 * MiB,
    p2_loops=1,
    p3_loops=4,
    p4_events=5000,
    p4_loops=1,
    calls=60,
    m1_body=256 * MiB,
    p7_chunks=5000,
    m2_events=200_000,
)
QUICK = Sizes(
    reps=2,
    call_reps=2,
    p7_reps=2,
    p1_loops=100,
    p2_body=1 * MiB,
    p2_loops=1,
    p3_loops=2,
    p4_events=500,
    p4_loops=1,
    calls=20,
    m1_body=16 * MiB,
    p7_chunks=500,
    m2_events=5_000,
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
    """The peer modules a row asks for, each imported when first asked for (None: not installed, or excluded
    with --without)."""

    def __init__(self, without: set[str]) -> None:
        self.without = without
        self.modules: dict[str, ModuleType | None] = {}

    def get(self, name: str) -> Any:
        if name not in self.modules:
            module = None
            if name not in self.without:
                try:
                    module = importlib.import_module(PEER_MODULES[name])
                except ImportError:
                    pass
            self.modules[name] = module
        return self.modules[name]

    def versions(self) -> str:
        """Each peer's version, or why it is missing (this imports every peer)."""
        return ", ".join(
            f"{name} {getattr(importlib.import_module(name.split('.')[0]), '__version__', '?')}"
            if self.get(name) is not None
            else f"{name} not installed"
            for name in PEER_MODULES
        )


# --------------------------------------------------------------------------- racing


# The seconds one round took: (CPU time of this process, wall clock).
Seconds = tuple[float, float]


# A Contender's ``reference`` for the sides that are not peers: never the headline.
CEILING = "C ceiling"  # httptools: what a parser in C does
FLOOR = "the floor: bytes only"  # P5/P6's bare socket: what every client pays


@dataclass
class Contender:
    """One side of a benchmark: ``run()`` does one round and returns the seconds it took."""

    name: str  # as the table shows it
    run: Callable[[], Seconds] | None  # None: cannot run (see note)
    note: str = ""
    target: float | None = None  # the wire/peer ratio issue 7 asks for
    reference: str = ""  # why this peer is in the table, when it has no target


@dataclass
class Bench:
    id: str
    title: str
    unit: str
    work: float  # units of work per round (the figure is work / the median seconds of a round)
    wire: Contender
    peers: list[Contender]
    check: Callable[[], None] | None = None  # before timing: every contender gets the same result
    after: Callable[[dict[str, float]], list[str]] | None = None  # notes once the figures are known
    label: str = "wire"  # how the table names wire's side (P6 says when it had no keep-alive)
    scope: str = "parser"  # what a row times: "parser" (bytes in memory) or "call" (the whole call)
    variants: list[Contender] = field(default_factory=list)  # more of wire's sides (P1: no field events; P2: keep_body=True)
    reps: int = 0  # rounds, when the row has its own number (P7: a round is one long call); 0: the Sizes'


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
    scope: str = ""
    wall_ratio: float | None = None  # the same ratio by the wall clock (whole-call rows)
    role: str = ""  # "fastest peer" (the headline), "C ceiling"


@dataclass
class Result:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Stopwatch:
    """CPU time of this process and wall-clock time, both from ``start()`` to ``stop()``."""

    def start(self) -> None:
        self.cpu, self.wall = time.process_time(), time.perf_counter()

    def stop(self) -> Seconds:
        return time.process_time() - self.cpu, time.perf_counter() - self.wall


def timed(fn: Callable[[], object], loops: int) -> Callable[[], Seconds]:
    def run() -> Seconds:
        watch = Stopwatch()
        watch.start()
        for _ in range(loops):
            fn()
        return watch.stop()

    return run


@dataclass
class Rounds:
    """The seconds each contender took in each round (CPU time and wall clock), round by round."""

    cpu: dict[str, list[float]]
    wall: dict[str, list[float]]

    def median(self, name: str) -> float:
        """The contender's median CPU seconds per round (its figure is the work over this)."""
        return statistics.median(self.cpu[name])

    def ratio(self, name: str, peer: str, *, wall: bool = False) -> float:
        """How many times faster ``name`` is than ``peer``: the median over the rounds of the peer's
        seconds over its own in the same round."""
        times = self.wall if wall else self.cpu
        return statistics.median(p / w for w, p in zip(times[name], times[peer], strict=True))


def race(contenders: list[Contender], reps: int) -> Rounds:
    """CPU and wall seconds of every contender in each of ``reps`` interleaved rounds, after a warm-up."""
    runnable = [c for c in contenders if c.run is not None]
    rounds = Rounds({c.name: [] for c in runnable}, {c.name: [] for c in runnable})
    for c in runnable:
        assert c.run is not None
        c.run()
    for _ in range(reps):
        for c in runnable:
            assert c.run is not None
            gc.collect()
            cpu, wall = c.run()
            rounds.cpu[c.name].append(cpu)
            rounds.wall[c.name].append(wall)
    return rounds


def missing(name: str, **kw: Any) -> Contender:
    return Contender(name, None, note="not installed", **kw)


# --------------------------------------------------------------------------- the parsers, each fed the same way

Summary = tuple[int, int, bytes]  # (status, number of header fields, body)


def wire_parse(pieces: list[bytes], *, field_events: bool = True) -> Summary:
    parser = ResponseParser(field_events=field_events)
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


def h11_runner(h11: Any, pieces: list[bytes], loops: int) -> Callable[[], Seconds]:
    def run() -> Seconds:
        conns = [h11_connection(h11) for _ in range(loops)]
        watch = Stopwatch()
        watch.start()
        for conn in conns:
            h11_parse(h11, conn, pieces)
        return watch.stop()

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
    if httptools is None:
        contenders.append(missing("httptools", reference=CEILING))
    else:
        contenders.append(Contender("httptools", timed(lambda: httptools_parse(httptools, pieces), loops)))
        contenders[-1].reference = CEILING
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
    bench = parser_bench(
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
    bench.label = "a Field event per line"
    lean = timed(lambda: wire_parse([data], field_events=False), sizes.p1_loops)
    bench.variants = [Contender("field_events=False, as the Client reads", lean)]
    return bench


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
    bench.label = "keep_body=False"
    bench.variants = [Contender("keep_body=True", timed(lambda: wire_parse(reads), sizes.p2_loops))]
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


def sse_bench(
    name: str,
    title: str,
    stream: bytes,
    datas: list[str],
    naive: Callable[[list[bytes]], list[str]],
    sizes: Sizes,
    peers: Peers,
) -> Bench:
    """P4 and P4b: wire's SSE decoder, the SDK's and a naive split, each checked to decode ``datas``."""
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
    baseline = Contender("naive split", timed(lambda: naive(reads), loops), reference="baseline: no SSE rules")
    checks.append(("naive split", lambda: naive(reads)))

    def check() -> None:
        for who, fn in checks:
            if fn() != datas:
                raise AssertionError(f"{name}: {who} decoded other events")

    return Bench(name, title, "events/s", loops * len(datas), wire, [sdk, baseline], check=check)


def bench_p4(sizes: Sizes, peers: Peers) -> Bench:
    stream, datas = chat_stream(sizes.p4_events)
    title = f"{sizes.p4_events:,}-event chat stream ({len(stream) / 1e6:.2f} MB), 1000 B reads"
    return sse_bench("P4", title, stream, datas, naive_sse, sizes, peers)


def crlf_stream(n_events: int) -> tuple[bytes, list[str]]:
    """P4b: the P4 events with CRLF line ends, each with an ``event:`` and an ``id:`` line."""
    _, datas = chat_stream(n_events)
    events = [b"event: message\r\nid: %d\r\ndata: %s\r\n\r\n" % (i, d.encode()) for i, d in enumerate(datas)]
    return b"".join(events), datas


def naive_sse_crlf(reads: list[bytes]) -> list[str]:
    """The naive split for CRLF events: blocks at a blank line, then the ``data:`` line of each."""
    buf = b""
    out = []
    for read in reads:
        buf += read
        blocks = buf.split(b"\r\n\r\n")
        buf = blocks.pop()
        for block in blocks:
            for line in block.split(b"\r\n"):
                if line.startswith(b"data: "):
                    out.append(line[6:].decode())
    return out


def bench_p4b(sizes: Sizes, peers: Peers) -> Bench:
    stream, datas = crlf_stream(sizes.p4_events)
    title = f"the same with CRLF, event: and id: lines ({len(stream) / 1e6:.2f} MB)"
    return sse_bench("P4b", title, stream, datas, naive_sse_crlf, sizes, peers)


# --------------------------------------------------------------------------- P5-P7, M2: a local server

# A reply: fixed bytes, or a function that gives its bytes piece by piece (M2's 60 MiB stream).
Reply = bytes | Callable[[], Iterator[bytes]]


class MiniServer:
    """A minimal HTTP/1.1 server on 127.0.0.1: reads a request, sends one fixed reply.

    One thread accepts, one thread per connection serves it. With ``close`` the reply
    says ``connection: close`` and the server closes after it; otherwise the
    connection stays open for the next request. ``connections`` counts accepts.
    """

    def __init__(self, reply: Reply, *, close: bool, shared_count: Any = None) -> None:
        self.reply = reply
        self.close = close
        self.connections = 0
        self._shared_count = shared_count  # a multiprocessing.Value, when the server runs in a process
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
            if self._shared_count is not None:
                self._shared_count.value = self.connections
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
                    if isinstance(self.reply, bytes):
                        conn.sendall(self.reply)
                    else:
                        for piece in self.reply():
                            conn.sendall(piece)
                    if self.close:
                        return
            except OSError:
                return


# Where the server processes run (set by main() when there are two CPUs or more): each process
# stays on a CPU of its own, so that neither is moved mid-round, nor waits behind the other.
SERVER_CPUS: set[int] | None = None


def cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The processor's model name and how many CPUs this process may use (``"AMD EPYC, 2 CPUs"``).

    Printed with every run: the same code gave P7 1.63x on one machine of this project's kind
    and 1.45x to 1.47x on another (docs/speed.md), so a run says which machine made it.
    """
    model = platform.processor() or "unknown processor"
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                name, sep, value = line.partition(":")
                if sep and name.strip() == "model name" and value.strip():
                    model = value.strip()
                    break
    except OSError:
        pass  # not Linux: platform.processor() is what there is
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {cpus} CPUs"


def cpu_plan() -> tuple[int, int] | None:
    """(the CPU for a row's process, the CPU for its servers): the first and last this process may use;
    None with fewer than two."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    return (allowed[0], allowed[-1]) if len(allowed) >= 2 else None


def pin_cpus() -> None:
    """Keep this process on the first CPU of ``cpu_plan()`` and the server processes on the second."""
    global SERVER_CPUS
    plan = cpu_plan()
    if plan is not None:
        os.sched_setaffinity(0, {plan[0]})
        SERVER_CPUS = {plan[1]}


def _serve_in_child(reply: Reply, close: bool, port: Any, connections: Any) -> None:
    """The server process: a MiniServer, its port sent back, its accept count in shared memory."""
    if SERVER_CPUS is not None:
        os.sched_setaffinity(0, SERVER_CPUS)
    server = MiniServer(reply, close=close, shared_count=connections)
    port.send(server.port)
    server._accept()  # until the parent ends this process


class ServerProcess:
    """MiniServer in a process of its own (forked): the client's CPU time and GIL are its own.

    ``connections`` counts the connections the server accepted, across the process boundary.
    The process is ended (SIGTERM) on exit.
    """

    def __init__(self, reply: Reply, *, close: bool) -> None:
        context = multiprocessing.get_context("fork")
        here, there = context.Pipe()
        self._connections = context.Value("l", 0)
        self._process = context.Process(
            target=_serve_in_child, args=(reply, close, there, self._connections), name="bench-server", daemon=True
        )
        self._process.start()
        if not here.poll(10):
            self._process.terminate()
            raise RuntimeError("the benchmark server process did not start within 10 s")
        self.port = here.recv()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.join(10)

    @property
    def connections(self) -> int:
        return int(self._connections.value)


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


def wire_calls(base_url: str, calls: int) -> Callable[[], Seconds]:
    from wire.client import Client

    def run() -> Seconds:
        client = Client(base_url=base_url, api_key=API_KEY, max_retries=0, timeout=10)
        watch = Stopwatch()
        watch.start()
        for _ in range(calls):
            exchange = client.chat(PROMPT, model="gpt-4o-mini")
            assert exchange.text == ANSWER
        seconds = watch.stop()
        client.close()
        return seconds

    return run


def httpclient_calls(base_url: str, calls: int, *, reuse: bool) -> Callable[[], Seconds]:
    host, port, path = _split(base_url)

    def call(conn: http.client.HTTPConnection) -> str:
        conn.request("POST", path, body=json.dumps(PAYLOAD).encode(), headers=HEADERS)
        return answer_of(json.loads(conn.getresponse().read()))

    def run() -> Seconds:
        watch = Stopwatch()
        watch.start()
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
        return watch.stop()

    return run


def bare_socket_calls(base_url: str, calls: int, *, reuse: bool, reply_size: int) -> Callable[[], Seconds]:
    """The floor of P5 and P6: the request's bytes in one ``sendall``, the reply read to its last byte.

    The same bytes as a client's call (a request with http.client's fields and JSON
    body; the server's fixed reply of ``reply_size`` bytes), on a bare socket with the
    same timeout and TCP_NODELAY: no HTTP, no JSON, no checks.
    """
    host, port, path = _split(base_url)
    body = json.dumps(PAYLOAD).encode()
    fields = "".join(f"{name}: {value}\r\n" for name, value in HEADERS.items())
    head = f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{fields}Content-Length: {len(body)}\r\n\r\n"
    request = head.encode() + body

    def connect() -> socket.socket:
        sock = socket.create_connection((host, port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def call(sock: socket.socket) -> None:
        sock.sendall(request)
        received = 0
        while received < reply_size:
            data = sock.recv(65536)
            if not data:
                raise RuntimeError(f"the server closed after {received} of the reply's {reply_size} bytes")
            received += len(data)

    def run() -> Seconds:
        watch = Stopwatch()
        watch.start()
        if reuse:
            sock = connect()
            for _ in range(calls):
                call(sock)
            sock.close()
        else:
            for _ in range(calls):
                sock = connect()
                call(sock)
                sock.close()
        return watch.stop()

    return run


def requests_calls(requests: Any, base_url: str, calls: int) -> Callable[[], Seconds]:
    url = base_url + "/chat/completions"

    def run() -> Seconds:
        with requests.Session() as session:  # made before the timing starts, as every client is
            watch = Stopwatch()
            watch.start()
            for _ in range(calls):
                reply = session.post(url, json=PAYLOAD, headers=HEADERS, timeout=10)
                reply.raise_for_status()
                answer_of(reply.json())
            return watch.stop()

    return run


def httpx_calls(httpx: Any, base_url: str, calls: int) -> Callable[[], Seconds]:
    url = base_url + "/chat/completions"

    def run() -> Seconds:
        with httpx.Client(timeout=10) as client:  # made before the timing starts: it loads a CA bundle
            watch = Stopwatch()
            watch.start()
            for _ in range(calls):
                reply = client.post(url, json=PAYLOAD, headers=HEADERS)
                reply.raise_for_status()
                answer_of(reply.json())
            return watch.stop()

    return run


def _split(base_url: str) -> tuple[str, int, str]:
    m = re.fullmatch(r"http://([^:/]+):(\d+)(/.*)?", base_url)
    assert m is not None, base_url
    return m.group(1), int(m.group(2)), (m.group(3) or "") + "/chat/completions"


def counting(server: Any, name: str, run: Callable[[], Seconds], counts: dict[str, int]) -> Callable[[], Seconds]:
    """Wrap a round to record how many connections the server accepted during it."""

    def wrapped() -> Seconds:
        before = server.connections
        seconds = run()
        counts[name] = server.connections - before
        return seconds

    return wrapped


def calls_bench(id: str, sizes: Sizes, peers: Peers, server_kind: str, *, keep_alive: bool) -> Bench:
    calls = sizes.calls
    server_cls = FakeServerAdapter if server_kind == "fake" else ServerProcess
    server = server_cls(length_reply(close=not keep_alive), close=not keep_alive)
    server.__enter__()
    counts: dict[str, int] = {}
    url = server.base_url
    requests, httpx = peers.get("requests"), peers.get("httpx")

    def contender(name: str, run: Callable[[], Seconds] | None, **kw: Any) -> Contender:
        if run is None:
            return missing(name, **kw)
        return Contender(name, counting(server, name, run, counts), **kw)

    wire = contender("wire", wire_calls(url, calls))
    reply_size = len(length_reply(close=not keep_alive))
    if keep_alive:
        contenders = [
            contender("http.client, one connection", httpclient_calls(url, calls, reuse=True), target=1.2),
            contender("requests.Session", requests and requests_calls(requests, url, calls)),
            contender("httpx.Client", httpx and httpx_calls(httpx, url, calls)),
        ]
        title = f"{calls} calls, one kept-alive connection"
    else:
        contenders = [
            contender("http.client", httpclient_calls(url, calls, reuse=False), target=1.1),
            contender("requests", requests and requests_calls(requests, url, calls)),
            contender("httpx", httpx and httpx_calls(httpx, url, calls)),
        ]
        title = f"{calls} calls, a fresh connection each"
    # The floor runs last in each round (the race keeps this order), so that wire's next round does
    # not follow httpx's, which slows it (see Method). It reads MiniServer's fixed reply: not FakeServer's.
    if server_kind == "mini":
        floor = bare_socket_calls(url, calls, reuse=keep_alive, reply_size=reply_size)
        contenders.append(contender("bare socket", floor, reference=FLOOR))
    stdlib = contenders[0].name

    def after(medians: dict[str, float]) -> list[str]:
        server.__exit__(None, None, None)
        notes = []
        if {"wire", stdlib, "bare socket"} <= medians.keys():
            # Medians of a round, per call: the floor is what no client can go under.
            bare, ours, theirs = (medians[name] / calls * 1e6 for name in ("bare socket", "wire", stdlib))
            notes.append(
                f"{id}: a bare socket took {bare:.0f} us a call (the floor: system calls, loopback, the wait "
                f"for the server); above it wire took {ours - bare:.0f} us, {stdlib} {theirs - bare:.0f} us"
            )
        if server_kind == "fake":
            return [
                f"{id}: against wire's FakeServer, which keeps connections alive whatever the row says "
                "(connections not counted): clients that pool reuse them",
                *notes,
            ]
        used = ", ".join(f"{name} {n}" for name, n in counts.items())
        notes.insert(0, f"{id}: connections opened for {calls} calls: {used}")
        if keep_alive and counts.get("wire", 0) >= calls:
            bench.label = "no keep-alive"
            notes.append(f"{id}: wire.Client did not reuse its connection; its figure is for fresh connections")
        return notes

    bench = Bench(id, title, "calls/s", calls, wire, contenders, after=after, scope="call")
    return bench


def bench_p5(sizes: Sizes, peers: Peers, server: str = "mini") -> Bench:
    return calls_bench("P5", sizes, peers, server, keep_alive=False)


def bench_p6(sizes: Sizes, peers: Peers, server: str = "mini") -> Bench:
    return calls_bench("P6", sizes, peers, server, keep_alive=True)


# --------------------------------------------------------------------------- P7: one streamed call


def stream_head() -> bytes:
    """The head of a streamed reply (chunked, one event per chunk frame, as the API sends them)."""
    fields = [(n, "text/event-stream; charset=utf-8" if n == "content-type" else v) for n, v in REPLY_FIELDS]
    return head_bytes(fields)


def sse_reply(datas: list[str]) -> bytes:
    return stream_head() + chunked([b"data: " + d.encode() + b"\n\n" for d in datas])


def text_of(datas: list[str]) -> str:
    """The answer a stream's events carry: the first choice's content pieces, joined."""
    pieces = []
    for data in datas:
        if data != "[DONE]":
            choices = json.loads(data)["choices"]
            if choices and choices[0]["delta"].get("content"):
                pieces.append(choices[0]["delta"]["content"])
    return "".join(pieces)


# P7's calls: each contender's client is made once, before any timing, and each call is one streamed
# call on it (the connection kept from the call before, for every contender). The row times the call,
# not the client's set-up: an httpx.Client loads the CA bundle when it is made, even for an http://
# URL (about 60 ms of CPU here, as much as a third of a 5,000-chunk call), and the SDK's client makes
# one; a wire.Client makes its TLS context only when it connects with TLS.


def wire_stream_call(base_url: str) -> Callable[[], str]:
    from wire.client import Client

    client = Client(base_url=base_url, api_key=API_KEY, max_retries=0, timeout=10)

    def call() -> str:
        return client.stream(PROMPT, model="gpt-4o-mini").read()

    return call


def sdk_stream_call(openai: Any, base_url: str) -> Callable[[], str]:
    client = openai.OpenAI(base_url=base_url, api_key=API_KEY, max_retries=0, timeout=10)

    def call() -> str:
        pieces = []
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=PAYLOAD["messages"], stream=True)
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                pieces.append(chunk.choices[0].delta.content)
        return "".join(pieces)

    return call


def httpx_naive_stream_call(httpx: Any, base_url: str) -> Callable[[], str]:
    """httpx with the split most hand-written readers use: blank-line blocks, ``data: `` lines, json.loads."""
    url = base_url + "/chat/completions"
    payload = dict(PAYLOAD, stream=True)
    client = httpx.Client(timeout=10)

    def call() -> str:
        pieces = []
        with client.stream("POST", url, json=payload, headers=HEADERS) as reply:
            reply.raise_for_status()
            buf = b""
            for read in reply.iter_bytes():
                buf += read
                blocks = buf.split(b"\n\n")
                buf = blocks.pop()
                for block in blocks:
                    if block.startswith(b"data: ") and block != b"data: [DONE]":
                        choices = json.loads(block[6:])["choices"]
                        if choices and choices[0]["delta"].get("content"):
                            pieces.append(choices[0]["delta"]["content"])
        return "".join(pieces)

    return call


def bench_p7(sizes: Sizes, peers: Peers, server_kind: str = "mini") -> Bench:
    _, datas = chat_stream(sizes.p7_chunks)
    reply = sse_reply(datas)
    expected = text_of(datas)
    server = ServerProcess(reply, close=False)
    url = server.base_url
    calls: list[tuple[str, Callable[[], str]]] = [("wire", wire_stream_call(url))]
    openai, httpx = peers.get("openai"), peers.get("httpx")
    if openai is not None:
        openai = importlib.import_module("openai")
        calls.append(("openai SDK, stream=True", sdk_stream_call(openai, url)))
    if httpx is not None:
        calls.append(("httpx, naive SSE split", httpx_naive_stream_call(httpx, url)))
    runs = {name: Contender(name, timed(call, 1)) for name, call in calls}
    targets = {"openai SDK, stream=True": 3.0, "httpx, naive SSE split": 1.5}
    peers_ = [runs.get(name) or missing(name, target=target) for name, target in targets.items()]
    for peer in peers_:
        peer.target = targets[peer.name]

    def check() -> None:
        for name, call in calls:
            got = call()
            if got != expected:
                raise AssertionError(f"P7: {name} collected {len(got)} characters of text, not {len(expected)}")

    def after(medians: dict[str, float]) -> list[str]:
        server.__exit__(None, None, None)
        return []

    title = f"one streamed call, {sizes.p7_chunks:,} chunks ({len(reply) / 1e6:.2f} MB)"
    return Bench(
        "P7",
        title,
        "chunks/s",
        sizes.p7_chunks,
        runs["wire"],
        peers_,
        check=check,
        after=after,
        scope="call",
        reps=sizes.p7_reps,
    )


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
        scope="parser",
    )
    note = (
        f"{id}: {seen / MiB:,.0f} MiB in {frames:,} chunk frames of {size} went through at "
        f"{seen / 1e6 / seconds:,.0f} MB/s under tracemalloc; peak {peak / MiB:.2f} MiB ({peak / frames:,.0f} B per frame)"
    )
    return row, [note]


def m1b(sizes: Sizes) -> tuple[Row, list[str]]:
    """M1 with the chunks a chat stream has (one SSE event, about 256 B, per chunk): does memory stay flat?"""
    return m1(sizes, id="M1b", total=sizes.m1_body // 8, chunk=256)


M2_LIMIT = 32 * MiB


def long_stream(n_events: int) -> Callable[[], Iterator[bytes]]:
    """M2's reply, made as it is sent: ``n_events`` chunks (one frame each), then [DONE]."""

    def pieces() -> Iterator[bytes]:
        yield stream_head()
        _, datas = chat_stream(1000)  # 998 content chunks, repeated: the stream never ends early
        frames = [b"%x\r\n%s\r\n" % (len(e), e) for e in (b"data: " + d.encode() + b"\n\n" for d in datas[1:-2])]
        sent = 0
        while sent < n_events:
            batch = frames[: n_events - sent]
            sent += len(batch)
            yield b"".join(batch)
        done = b"data: [DONE]\n\n"
        yield b"%x\r\n%s\r\n0\r\n\r\n" % (len(done), done)

    return pieces


def m2(sizes: Sizes) -> tuple[Row, list[str]]:
    """Peak memory growth of one long streamed call through Client.stream() (default capture)."""
    from wire.client import Client

    n = sizes.m2_events
    with ServerProcess(long_stream(n), close=False) as server:
        client = Client(base_url=server.base_url, api_key=API_KEY, max_retries=0, timeout=30)
        gc.collect()
        tracemalloc.start()
        base, _ = tracemalloc.get_traced_memory()
        start = time.perf_counter()
        stream = client.stream(PROMPT, model="gpt-4o-mini")
        deltas = sum(1 for _ in stream)
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        client.close()
    growth = (peak - base) / MiB
    assert deltas == n, (deltas, n)
    row = Row(
        "M2",
        f"peak memory growth, one streamed call of {n:,} events, default capture",
        "MiB",
        "wire",
        growth,
        "-",
        None,
        target=f"<= {M2_LIMIT // MiB} MiB",
        met="yes" if growth <= M2_LIMIT / MiB else "NO",
        scope="call",
    )
    note = f"M2: {n:,} events went through Client.stream() in {seconds:.1f} s under tracemalloc; peak growth {growth:.1f} MiB"
    return row, [note]


# --------------------------------------------------------------------------- running and printing


BENCHES: dict[str, Callable[..., Bench]] = {
    "P1": bench_p1,
    "P2": bench_p2,
    "P3": bench_p3,
    "P4": bench_p4,
    "P4b": bench_p4b,
    "P5": bench_p5,
    "P6": bench_p6,
    "P7": bench_p7,
}
MEMORY = {"M1": m1, "M1b": m1b, "M2": m2}
ALL = [*BENCHES, *MEMORY]


def run_bench(bench: Bench, sizes: Sizes) -> Result:
    """Race wire's sides and the peers; one row per (wire side, peer), the fastest peer first."""
    if bench.check is not None:
        bench.check()
    contenders = [bench.wire, *bench.variants, *bench.peers]
    try:
        rounds = race(contenders, bench.reps or (sizes.call_reps if bench.scope == "call" else sizes.reps))
    except BaseException:
        if bench.after is not None:
            bench.after({})  # stop the server
        raise
    measured = rounds.cpu.keys()
    notes = bench.after({name: rounds.median(name) for name in measured}) if bench.after is not None else []
    result = Result(notes=notes)

    def speed(name: str) -> float | None:
        return bench.work / rounds.median(name) if name in measured else None

    # The headline peer: the fastest one measured, C parsers (the ceiling) and bare sockets (the floor) aside.
    ranked = sorted(
        (p for p in bench.peers if p.name in measured),
        key=lambda p: (p.reference in (CEILING, FLOOR), rounds.median(p.name)),
    )
    order = ranked + [p for p in bench.peers if p.name not in measured]
    for side in [bench.wire, *bench.variants]:
        label = bench.label if side is bench.wire else side.name
        wire = speed(side.name)
        for peer in order:
            figure = speed(peer.name)
            both = side.name in measured and peer.name in measured
            ratio = rounds.ratio(side.name, peer.name) if both else None
            wall_ratio = rounds.ratio(side.name, peer.name, wall=True) if both and bench.scope == "call" else None
            if peer.target is not None:
                target = f">= {peer.target:g}x"
                met = "-" if ratio is None else ("yes" if ratio >= peer.target else "NO")
                if met == "NO" and f"{ratio:.2f}" == f"{peer.target:.2f}":
                    # The table's two decimals would show the target itself: three, cut rather than rounded.
                    met = f"NO ({int(ratio * 1000) / 1000:.3f}x)"
            else:
                target, met = (f"({peer.reference})" if peer.reference else ""), "-"
            roles = {CEILING: "the ceiling", FLOOR: "the floor"}
            role = roles.get(peer.reference, "fastest" if peer is order[0] else "")
            result.rows.append(
                Row(
                    bench.id,
                    bench.title,
                    bench.unit,
                    label,
                    wire,
                    peer.name,
                    figure,
                    peer.note,
                    target,
                    met,
                    ratio,
                    bench.scope,
                    wall_ratio,
                    role,
                )
            )
    headline = next((r for r in result.rows if r.role == "fastest" and r.ratio), None)
    if headline is not None:
        result.notes.insert(0, f"{bench.id}: wire is {headline.ratio:.2f}x {headline.peer}, the fastest peer measured")
    ceiling = next((r for r in result.rows if r.role == "the ceiling" and r.ratio), None)
    if ceiling is not None and ceiling.ratio:
        result.notes.append(
            f"{bench.id}: wire runs at {ceiling.ratio:.0%} of httptools' speed "
            f"(httptools, in C, is {1 / ceiling.ratio:.1f}x faster: the ceiling)"
        )
    return result


def fmt(value: float | None) -> str:
    if value is None:
        return ""
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def table(rows: list[Row]) -> str:
    header = [
        "bench",
        "scope",
        "what",
        "unit",
        "wire",
        "peer",
        "peer is",
        "peer figure",
        "wire/peer",
        "wall",
        "target",
        "met?",
    ]
    lines = []
    last = None
    for r in rows:
        first = (r.id, r.wire_name) != last
        last = (r.id, r.wire_name)
        figure = fmt(r.figure) if r.figure is not None else r.note
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
        wall = f"{r.wall_ratio:.2f}x" if r.wall_ratio is not None else ""
        wire = fmt(r.wire) + ("" if r.wire_name == "wire" else f" [{r.wire_name}]")
        lines.append(
            [
                r.id,
                r.scope if first else "",
                r.title if first else "",
                r.unit if first else "",
                wire if first else "",
                r.peer,
                r.role,
                figure,
                ratio,
                wall,
                r.target,
                r.met,
            ]
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    right = {4, 7, 8, 9}

    def join(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    out = [join(header), join(["-" * w for w in widths])]
    out += [join(line).rstrip() for line in lines]
    return "\n".join(out)


def markdown(rows: list[Row]) -> str:
    """The same rows as a Markdown table, as the README's speed section shows them (``--markdown``)."""
    out = [
        "| bench | scope | what | wire | peer | wire/peer (CPU) | wall-clock ratio | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    last = None
    for r in rows:
        first = (r.id, r.wire_name) != last
        last = (r.id, r.wire_name)
        wire = f"{fmt(r.wire)} {r.unit}" + ("" if r.wire_name == "wire" else f" [{r.wire_name}]")
        peer = r.peer
        if r.role:
            peer += f" ({r.role.replace(' peer', '')})"
        if r.figure is not None:
            peer += f" {fmt(r.figure)}"
        elif r.note and r.peer != "-":
            peer += f" {r.note}"
        ratio = f"{r.ratio:.2f}×" if r.ratio is not None else ""
        wall = f"{r.wall_ratio:.2f}×" if r.wall_ratio is not None else ""
        target = (
            r.target.replace(">=", "≥").replace("<=", "≤").replace("x", "×")
            if r.target.startswith(("<", ">"))
            else r.target
        )
        if r.met == "yes":
            target += " ✓"
        elif r.met.startswith("NO"):
            target += " ✗ not met" + r.met[2:].replace("x)", "×)")
        cells = [
            r.id,
            r.scope if first else "",
            r.title if first else "",
            wire if first else "",
            peer,
            ratio,
            wall,
            target,
        ]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m tests.bench.bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few repetitions (under 20 s)")
    ap.add_argument("--only", default="", help="comma-separated benchmark ids, e.g. P1,P3 (default: all)")
    ap.add_argument("--without", default="", help="comma-separated peers to treat as not installed")
    ap.add_argument("--server", choices=["mini", "fake"], default="mini", help="P5/P6 server (default: mini)")
    ap.add_argument(
        "--reps",
        type=int,
        default=None,
        help="N rounds for every row (default: 35, P5 and P6 105, P7 31; 2 with --quick)",
    )
    ap.add_argument("--profile", default="", metavar="ID", help="run wire's side of one benchmark under cProfile")
    ap.add_argument("--markdown", action="store_true", help="also print the table in Markdown, as the README shows it")
    args = ap.parse_args(argv)
    known = {id.upper(): id for id in ALL}
    asked = [x.strip() for x in args.only.split(",") if x.strip()]
    unknown = [x for x in asked if x.upper() not in known]
    if unknown:
        ap.error(f"unknown benchmark {', '.join(unknown)} (known: {', '.join(ALL)})")
    args.wanted = [known[x.upper()] for x in asked] or ALL
    args.without = {x.strip() for x in args.without.split(",") if x.strip()}
    return args


def run_row(id: str, sizes: Sizes, without: set[str], server: str) -> tuple[list[Row], list[str]]:
    """One row's table rows and notes (main() runs this in a fresh process per row)."""
    pin_cpus()
    if id in MEMORY:
        row, notes = MEMORY[id](sizes)
        return [row], notes
    result = run_bench(build(id, sizes, Peers(without), server), sizes)
    return result.rows, result.notes


def _row_in_child(out: Any, id: str, sizes: Sizes, without: set[str], server: str) -> None:
    try:
        out.send(("rows", run_row(id, sizes, without, server)))
    except BaseException:
        out.send(("error", traceback.format_exc()))
        raise


def run_row_in_child(id: str, sizes: Sizes, without: set[str], server: str) -> tuple[list[Row], list[str]]:
    """``run_row`` in a process started afresh ("spawn"): it imports wire, the benchmark and the row's peers only."""
    context = multiprocessing.get_context("spawn")
    here, there = context.Pipe(duplex=False)
    process = context.Process(target=_row_in_child, args=(there, id, sizes, without, server), name=f"bench-{id}")
    process.start()
    there.close()
    kind, value = here.recv()
    process.join()
    if kind == "error":
        raise RuntimeError(f"benchmark {id} failed in its process:\n{value}")
    rows, notes = value
    return rows, notes


def build(id: str, sizes: Sizes, peers: Peers, server: str) -> Bench:
    if id in ("P5", "P6", "P7"):
        return BENCHES[id](sizes, peers, server)
    return BENCHES[id](sizes, peers)


def profile(id: str, sizes: Sizes, peers: Peers, server: str) -> None:
    if id not in BENCHES:
        raise SystemExit(f"--profile takes one of {', '.join(BENCHES)}")
    bench = build(id, sizes, peers, server)
    assert bench.wire.run is not None
    profiler = cProfile.Profile(time.process_time)  # CPU time, as the table: not the time spent waiting
    profiler.enable()
    for _ in range(max(1, sizes.reps // 2)):
        bench.wire.run()
    profiler.disable()
    if bench.after is not None:
        bench.after({})
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(int(__import__("os").environ.get("ROWS", "18")))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.reps is not None:
        sizes = Sizes(**{**sizes.__dict__, "reps": args.reps, "call_reps": args.reps, "p7_reps": args.reps})
    peers = Peers(args.without)
    if args.profile:
        pin_cpus()
        profile(args.profile.upper(), sizes, peers, args.server)
        return 0
    versions = peers.versions()
    print(
        f"wire benchmark ({'quick' if args.quick else 'full'}; medians of {sizes.reps} interleaved rounds, "
        f"P5 and P6 {sizes.call_reps}, P7 {sizes.p7_reps})"
    )
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}) on {platform.machine()} "
        f"({cpu_model()}); {versions}"
    )
    plan = cpu_plan()
    if plan is not None:
        print(f"each row's process runs on CPU {plan[0]}, the benchmark servers on CPU {plan[1]}")
    started = time.perf_counter()
    rows: list[Row] = []
    notes: list[str] = []
    # Each row runs in a process of its own, started afresh, which imports only that row's peers.
    # What else a process holds changes both sides' speed: with the openai SDK imported (P4 and P7
    # need it), a P6 call took 12 % more CPU time for wire and 7 % more for http.client, with the
    # same instruction counts (callgrind).
    for id in args.wanted:
        row_rows, row_notes = run_row_in_child(id, sizes, args.without, args.server)
        rows += row_rows
        notes += row_notes
    print()
    print(table(rows))
    print()
    if args.markdown:
        print(markdown(rows))
        print()
    for note in notes:
        print(f"- {note}")
    print(f"\n({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
