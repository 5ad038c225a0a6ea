"""Coverage-guided fuzz targets for the two parsers: ``ResponseParser`` and ``SSEDecoder``.

One command runs one target for a while (from the repository root)::

    python tests/fuzz.py http11 --seconds 60
    python tests/fuzz.py sse --seconds 60

With atheris installed (``pip install atheris``: libFuzzer, coverage-guided)
the target runs under it; without it, hypothesis drives the same target
through ``fuzz_one_input`` with random buffers (``--engine hypothesis`` forces
that). Either way the run starts from seed responses and event streams, and
the first failure stops it with the input that caused it (atheris also
writes it to ``crash-*``; replay a saved input with ``--replay FILE``).

Each target checks invariants, not only "no crash":

- the only exception is ``ProtocolError`` (``IncompleteMessage`` included);
- the same bytes fed whole, in a few random pieces and one byte at a time
  give the same events, or the same error at the same byte offset;
- an error keeps the bytes received (a prefix of the input) and names a rule;
- a parsed response's ``raw`` is the bytes it was made of and its ``body``
  the joined ``Data`` events; ``keep_body=False`` gives the same events;
- one input never takes longer than ``TIME_LIMIT`` seconds (a regex that
  backtracks quadratically fails here, not in production).

``tests/test_fuzz.py`` runs both targets for a few hundred inputs in the
ordinary test suite, without atheris.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from wire.errors import ProtocolError  # noqa: E402
from wire.http11 import Data, Event, ResponseParser  # noqa: E402
from wire.sse import SSEDecoder  # noqa: E402

# One input (at most MAX_INPUT bytes) must be handled in this many seconds, every way it is fed.
TIME_LIMIT = 2.0
# Longer inputs are cut: the limits under test are made small (see _limits) so short inputs reach them.
MAX_INPUT = 16 * 1024
# One-byte-at-a-time feeding is quadratic in Python overhead; do it for inputs up to this size.
BYTEWISE_MAX = 2048

SEEDS_HTTP11 = [
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n6\r\n world\r\n0\r\n"
    b"Expires: never\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nA: b\r\n\r\n",
    b"HTTP/1.0 200 OK\nConnection: keep-alive\nContent-Length: 1\n\nx",
    b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close",
    b'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n1;a="q\\""\r\nx\r\n0\r\n\r\n',
    b"HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n",
]

SEEDS_SSE = [
    b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk"}\n\ndata: [DONE]\n\n',
    b"\xef\xbb\xbfevent: delta\r\nid: 7\r\nretry: 100\r\ndata: a\r\ndata: b\r\n\r\n: ping\r\r",
    b"data:x\rdata: y\n\nid: a\x00b\nretry: 1x\nfoo\n\ndata: unterminated",
]


# -- the invariants ------------------------------------------------------------------------


def _cuts(data: bytes, count: int = 6) -> list[int]:
    """A few split points derived from the input itself, so a failure replays exactly."""
    rng = random.Random(zlib.crc32(data))
    return sorted({rng.randrange(len(data) + 1) for _ in range(count)}) if data else []


def _pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def _merge(events: list[Event]) -> list[Event]:
    out: list[Event] = []
    for ev in events:
        if isinstance(ev, Data) and out and isinstance(out[-1], Data):
            out[-1] = Data(out[-1].data + ev.data, out[-1].offset)
        else:
            out.append(ev)
    return out


def _limits(data: bytes) -> dict[str, int]:
    """Small limits for some inputs (chosen by the first byte), so short inputs reach each one."""
    if not data or data[0] & 1 == 0:
        return {}
    return {"max_head_bytes": 200, "max_fields": 4, "max_chunk_line_bytes": 16, "max_body_size": 1000}


def _feed_http11(pieces: list[bytes], keep_body: bool, limits: dict[str, int]) -> tuple[Any, ...]:
    parser = ResponseParser(keep_body=keep_body, **limits)
    events: list[Event] = []
    try:
        for piece in pieces:
            events += parser.feed(piece)
        events += parser.feed_eof()
    except ProtocolError as exc:
        if not exc.rule:
            raise AssertionError(f"a ProtocolError without a rule: {exc}") from exc
        if exc.offset is None or not 0 <= exc.offset <= sum(map(len, pieces)):
            raise AssertionError(f"offset {exc.offset} outside the input: {exc}") from exc
        if keep_body and not b"".join(pieces).startswith(exc.received):
            raise AssertionError(f"received is not a prefix of the input: {exc.received!r}") from exc
        return ("error", type(exc).__name__, exc.offset, exc.message, _merge(events))
    response = parser.response
    assert response is not None, "feed_eof returned without a response or an error"
    if keep_body:
        body = b"".join(ev.data for ev in events if isinstance(ev, Data))
        assert response.body == body, "body differs from the Data events"
        assert b"".join(pieces).startswith(response.raw), "raw is not the start of the input"
    return ("ok", _merge(events), response.status, response.headers, response.trailers, parser.trailing_data)


def _same_error_prefix(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Two outcomes agree: same result, or the same error after events that are one a prefix of the other.

    When a feed raises, the events it had completed are lost with it, so a
    split feed may report more of them than a whole feed; the error is the same.
    """
    if a[0] != b[0] or a[0] == "ok":
        return a == b
    short, long = sorted((a[4], b[4]), key=len)
    if a[:4] != b[:4]:
        return False
    if not short:
        return True
    if long[: len(short) - 1] != short[:-1]:
        return False
    if short and isinstance(short[-1], Data):  # the last Data may have been cut shorter by the error
        return isinstance(long[len(short) - 1], Data) and long[len(short) - 1].data.startswith(short[-1].data)
    return long[len(short) - 1] == short[-1]


def check_http11(data: bytes) -> None:
    """The invariants for ResponseParser on one input (raises AssertionError, or anything unexpected)."""
    data = data[:MAX_INPUT]
    limits = _limits(data)
    start = time.perf_counter()
    whole = _feed_http11([data], True, limits)
    outcomes = [("split", _feed_http11(_pieces(data, _cuts(data)), True, limits))]
    outcomes.append(("keep_body=False", _feed_http11(_pieces(data, _cuts(data, 3)), False, limits)))
    if len(data) <= BYTEWISE_MAX:
        outcomes.append(("bytewise", _feed_http11([data[i : i + 1] for i in range(len(data))], True, limits)))
    for how, outcome in outcomes:
        assert _same_error_prefix(whole, outcome), f"{how} feed differs:\n  whole: {whole!r}\n  {how}: {outcome!r}"
    took = time.perf_counter() - start
    assert took < TIME_LIMIT, f"{len(data)} bytes took {took:.2f} s"


def _feed_sse(pieces: list[bytes], max_line: int) -> tuple[Any, ...]:
    decoder = SSEDecoder(max_line=max_line)
    events: list[Any] = []
    try:
        for piece in pieces:
            events += decoder.feed(piece)
        events += decoder.flush()
    except ProtocolError as exc:
        assert exc.rule and exc.offset is not None, f"a ProtocolError without rule or offset: {exc}"
        return ("error", exc.offset, exc.message, events + decoder.events_before_error)
    for event in events:
        assert b"".join(pieces)[event.offset : event.offset + len(event.raw)] == event.raw, "raw is not at offset"
    return ("ok", events, decoder.comments, decoder.dropped, decoder.last_event_id, decoder.retry)


def check_sse(data: bytes) -> None:
    """The invariants for SSEDecoder on one input."""
    data = data[:MAX_INPUT]
    max_line = 1 + data[0] % 32 if data and data[0] & 1 else 1024 * 1024
    start = time.perf_counter()
    whole = _feed_sse([data], max_line)
    ways = [("split", _pieces(data, _cuts(data)))]
    if len(data) <= BYTEWISE_MAX:
        ways.append(("bytewise", [data[i : i + 1] for i in range(len(data))]))
    for how, pieces in ways:
        outcome = _feed_sse(pieces, max_line)
        assert outcome == whole, f"{how} feed differs:\n  whole: {whole!r}\n  {how}: {outcome!r}"
    took = time.perf_counter() - start
    assert took < TIME_LIMIT, f"{len(data)} bytes took {took:.2f} s"


TARGETS: dict[str, tuple[Callable[[bytes], None], list[bytes]]] = {
    "http11": (check_http11, SEEDS_HTTP11),
    "sse": (check_sse, SEEDS_SSE),
}


# -- the engines -----------------------------------------------------------------------------


def mutate(rng: random.Random, seeds: list[bytes]) -> bytes:
    """A seed with a few random byte-level edits (flip, insert, delete, duplicate, splice)."""
    data = bytearray(rng.choice(seeds))
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(5)
        at = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[min(at, len(data) - 1)] = rng.randrange(256)
        elif op == 1:
            data[at:at] = bytes([rng.choice(b'\r\n :;\t0aF\x00\x7f\x80"=,')]) * rng.randint(1, 3)
        elif op == 2:
            del data[at : at + rng.randint(1, 8)]
        elif op == 3:
            data[at:at] = data[at : at + rng.randint(1, 64)] * rng.randint(1, 4)
        else:
            other = rng.choice(seeds)
            cut = rng.randrange(len(other) + 1)
            data[at:] = other[cut:]
    return bytes(data)


def hypothesis_target(name: str) -> Callable[..., Any]:
    """The target as a hypothesis test: random bytes, or a mutated seed."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    check, seeds = TARGETS[name]
    inputs = st.binary(max_size=512) | st.builds(mutate, st.randoms(use_true_random=False), st.just(seeds))

    @settings(database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(inputs)
    def target(data: bytes) -> None:
        check(data)

    return target


def run_hypothesis(name: str, seconds: float, seed: int | None) -> int:
    """Fuzz with hypothesis' ``fuzz_one_input`` on random buffers until the time is up; 1 on a failure."""
    target = hypothesis_target(name)
    rng = random.Random(seed)
    for data in TARGETS[name][1]:  # the seeds themselves first
        TARGETS[name][0](data)
    deadline = time.monotonic() + seconds
    runs = 0
    while time.monotonic() < deadline:
        buffer = rng.randbytes(rng.choice((64, 512, 4096)))
        try:
            target.hypothesis.fuzz_one_input(buffer)  # type: ignore[attr-defined]
        except Exception:
            print(f"fuzz {name}: failure after {runs} inputs", file=sys.stderr)
            raise
        runs += 1
    print(f"fuzz {name} (hypothesis): {runs} inputs in {seconds:g} s, no failure")
    return 0


def run_atheris(name: str, seconds: float, extra: list[str]) -> int:
    import tempfile

    import atheris  # type: ignore[import-not-found]

    check, seeds = TARGETS[name]
    corpus = Path(tempfile.mkdtemp(prefix=f"wire-fuzz-{name}-"))
    for i, seed in enumerate(seeds):
        (corpus / f"seed-{i}").write_bytes(seed)
    argv = [sys.argv[0], f"-max_total_time={int(seconds)}", f"-max_len={MAX_INPUT}", *extra, str(corpus)]
    atheris.instrument_all()  # coverage feedback for every function loaded so far: wire's parsers included
    atheris.Setup(argv, check)
    atheris.Fuzz()
    return 0  # pragma: no cover - atheris.Fuzz exits the process


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=sorted(TARGETS))
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to fuzz (default 60)")
    parser.add_argument("--engine", choices=["auto", "atheris", "hypothesis"], default="auto")
    parser.add_argument("--seed", type=int, default=None, help="random seed for the hypothesis engine")
    parser.add_argument("--replay", metavar="FILE", help="run the target once on the bytes of FILE and exit")
    args, extra = parser.parse_known_args(argv)
    if args.replay:
        TARGETS[args.target][0](Path(args.replay).read_bytes())
        print("no failure")
        return 0
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # type: ignore[import-not-found]  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "hypothesis"
    if engine == "atheris":
        return run_atheris(args.target, args.seconds, extra)
    return run_hypothesis(args.target, args.seconds, args.seed)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
