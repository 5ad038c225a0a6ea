"""Strict, bounded and safe: the parsers against bad input (issue 4).

tests/test_http11.py has the main table of invalid responses; this file fills
the gaps: more invalid examples, errors that are the same whatever the split,
limits (named, overridable, split-independent), time and memory bounds, and
a wider generated-response oracle against h11.
"""

from __future__ import annotations

import time
import tracemalloc

import h11
import pytest
from feeding import error_of, run, ways
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wire
from wire import http11, sse
from wire.http11 import Data, EndOfMessage, Framing, ResponseParser, State
from wire.sse import SSEDecoder

H = b"HTTP/1.1 200 OK\r\n"
CHUNKED_HEAD = H + b"Transfer-Encoding: chunked\r\n\r\n"  # 47 bytes


# --- more invalid examples: the rule, the offset and the evidence, whatever the split ---

INVALID = [
    # (name, bytes, error offset, words in the message, words in the rule)
    ("lower-case version", b"http/1.1 200 OK\r\n\r\n", 0, "does not start with 'HTTP/'", "RFC 9112 §4"),
    ("version letter", b"HTTP/1.x 200 OK\r\n\r\n", 5, "malformed HTTP-version", "RFC 9112 §2.3"),
    ("four digit status", b"HTTP/1.1 2000 OK\r\n\r\n", 9, "3 digits", "RFC 9112 §4"),
    ("letter in status", b"HTTP/1.1 20a OK\r\n\r\n", 9, "3 digits", "RFC 9112 §4"),
    ("two SP before status", b"HTTP/1.1  200 OK\r\n\r\n", 9, "3 digits", "RFC 9112 §4"),
    ("tab after status", b"HTTP/1.1 200\tOK\r\n\r\n", 9, "3 digits", "RFC 9112 §4"),
    ("status below 100", b"HTTP/1.1 099 Odd\r\n\r\n", 9, "below 100", "RFC 9110 §15"),
    ("DEL in reason", b"HTTP/1.1 200 O\x7fK\r\n\r\n", 14, "control character", "RFC 9112 §4"),
    ("tab before colon", H + b"Foo\t: bar\r\n\r\n", 20, "whitespace between field name and colon", "RFC 9112 §5.1"),
    ("non-ASCII name", H + b"F\xf6o: bar\r\n\r\n", 18, "not a token", "RFC 9110 §5.1"),
    ("HTAB after status line", H + b"\tA: b\r\n\r\n", 17, "whitespace right after the status line", "RFC 9112 §2.2"),
    ("DEL in a folded line", H + b"A: b\r\n\tc\x7f\r\n\r\n", 25, "control character", "RFC 9110 §5.5"),
    ("CR at end of value", H + b"A: b\r\r\n\r\n", 21, "bare CR", "RFC 9112 §2.2"),
    ("DEL in value", H + b"A: b\x7fc\r\n\r\n", 21, "control character", "RFC 9110 §5.5"),
    ("ESC in value", H + b"A: \x1b[31m\r\n\r\n", 20, "control character", "RFC 9110 §5.5"),
    ("CL list conflicting", H + b"Content-Length: 1, 2\r\n\r\nx", 17, "conflicting", "RFC 9112 §6.3"),
    ("CL negative", H + b"Content-Length: -1\r\n\r\n", 17, "not a non-negative decimal", "RFC 9110 §8.6"),
    ("CL empty", H + b"Content-Length: \r\n\r\n", 17, "not a non-negative decimal", "RFC 9110 §8.6"),
    ("CL hex", H + b"Content-Length: 0x10\r\n\r\n", 17, "not a non-negative decimal", "RFC 9110 §8.6"),
    ("CL unicode digit", H + b"Content-Length: \xb2\r\n\r\n", 17, "not a non-negative decimal", "RFC 9110 §8.6"),
    ("CL 5000 digits", H + b"Content-Length: " + b"9" * 5000 + b"\r\n\r\n", 17, "larger than", "MAX_BODY_SIZE"),
    ("TE identity", H + b"Transfer-Encoding: identity\r\n\r\n", 17, "not chunked", "RFC 9112 §7.4"),
    ("TE empty", H + b"Transfer-Encoding: \r\n\r\n", 17, "not chunked (empty)", "RFC 9112 §7.4"),
    ("TE gzip, chunked", H + b"Transfer-Encoding: gzip, chunked\r\n\r\n", 17, "unsupported transfer coding", "RFC 9112 §7.4"),
    ("TE in two fields", H + b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 17, "unsupported", "RFC 9112 §7.4"),
    ("chunk size 0x", CHUNKED_HEAD + b"0x1\r\n", 48, "chunk extension", "RFC 9112 §7.1.1"),
    ("chunk size SP first", CHUNKED_HEAD + b" 1\r\nx\r\n", 47, "not a hexadecimal", "RFC 9112 §7.1"),
    ("chunk size plus", CHUNKED_HEAD + b"+1\r\nx\r\n", 47, "not a hexadecimal", "RFC 9112 §7.1"),
    ("chunk size 17 digits", CHUNKED_HEAD + b"F" * 17 + b"\r\n", 47, "larger", "MAX_BODY_SIZE"),
    ("chunk line bare LF", CHUNKED_HEAD + b"1\nx\r\n", 48, "bare LF", "RFC 9112 §7.1"),
    ("chunk ext no name", CHUNKED_HEAD + b"1;=v\r\nx\r\n", 48, "chunk extension", "RFC 9112 §7.1.1"),
    ("chunk ext open quote", CHUNKED_HEAD + b'1;a="v\r\nx\r\n', 48, "chunk extension", "RFC 9112 §7.1.1"),
    ("LF only after data", CHUNKED_HEAD + b"1\r\nx\n0\r\n\r\n", 51, "not followed by CRLF", "RFC 9112 §7.1"),
    ("CR then junk after data", CHUNKED_HEAD + b"1\r\nx\rX0\r\n\r\n", 52, "not followed by CRLF", "RFC 9112 §7.1"),
    ("data past the chunk", CHUNKED_HEAD + b"1\r\nxyz\r\n", 51, "not followed by CRLF", "RFC 9112 §7.1"),
    ("trailer SP first", CHUNKED_HEAD + b"0\r\n c\r\n\r\n", 50, "at the start of the trailer section", "RFC 9112 §7.1.2"),
    ("trailer fold NUL", CHUNKED_HEAD + b"0\r\nA: b\r\n c\x00\r\n\r\n", 58, "NUL in the value of field 'A'", "RFC 9110 §5.5"),
    ("trailer SP before colon", CHUNKED_HEAD + b"0\r\nA : b\r\n\r\n", 51, "whitespace between", "RFC 9112 §5.1"),
    ("trailer NUL", CHUNKED_HEAD + b"0\r\nA: \x00\r\n\r\n", 53, "NUL", "RFC 9110 §5.5"),
    ("after HTTP/1.0 close", b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nxy", 39, "after the end", "RFC 9112 §9.6"),
    (
        "after chunked close",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX",
        71,
        "after the end",
        "RFC 9112 §9.6",
    ),
    ("after 101", b"HTTP/1.1 101 Switching Protocols\r\n\r\nX", 36, "after the end", "RFC 9112 §9.6"),
]


@pytest.mark.parametrize("name,data,offset,words,rule", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_input_same_error_whatever_the_split(
    name: str, data: bytes, offset: int, words: str, rule: str
) -> None:
    first = error_of(data)
    assert not isinstance(first, wire.IncompleteMessage), first
    assert words in first.message, first
    assert rule in (first.rule or ""), first.rule
    assert first.offset == offset, str(first)
    assert first.received and data.startswith(first.received)
    assert f"at byte {offset}" in str(first) and first.rule in str(first)
    for pieces in ways(data) if len(data) < 200 else [[data], [data[:100], data[100:]]]:
        err = error_of(data, pieces)
        assert (type(err), err.offset, err.message, err.rule) == (type(first), offset, first.message, first.rule)


def test_leading_and_trailing_ows_stripped_from_values() -> None:
    resp = wire.parse_response(H + b"A:  \t b c \t \r\nB:\r\nC:x\r\nContent-Length: 0\r\n\r\n")
    assert resp.headers == [("A", "b c"), ("B", ""), ("C", "x"), ("Content-Length", "0")]


def test_content_length_leading_zeros_and_identical_repeats() -> None:
    resp = wire.parse_response(H + b"Content-Length: " + b"0" * 5000 + b"2\r\nContent-Length: 2, 02\r\n\r\nok")
    assert resp.body == b"ok" and resp.content_length == 2


def test_max_body_size_is_overridable_for_both_framings() -> None:
    assert run(H + b"Content-Length: 5\r\n\r\nhello", max_body_size=5)[-1] == EndOfMessage(True, 43)
    assert "max_body_size" in str(error_of(H + b"Content-Length: 6\r\n\r\nhello!", max_body_size=5))
    assert "max_body_size" in str(error_of(CHUNKED_HEAD + b"6\r\nhello!\r\n0\r\n\r\n", max_body_size=5))


# --- early ends: IncompleteMessage in every state ---

EARLY = [
    ("status line", b"HTTP/1.1 20", State.STATUS_LINE),
    ("between interim and final", b"HTTP/1.1 100 Continue\r\n\r\n", State.STATUS_LINE),
    ("fields after interim", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", State.FIELDS),
    ("empty length body", H + b"Content-Length: 1\r\n\r\n", State.BODY_LENGTH),
    ("first chunk size", CHUNKED_HEAD, State.CHUNK_SIZE),
    ("chunk CR of CRLF", CHUNKED_HEAD + b"1\r\nx\r", State.CHUNK_DATA_END),
    ("trailers: nothing after last chunk", CHUNKED_HEAD + b"0\r\n", State.TRAILERS),
    ("trailers: half the final CRLF", CHUNKED_HEAD + b"0\r\n\r", State.TRAILERS),
]


@pytest.mark.parametrize("name,data,state", EARLY, ids=[c[0] for c in EARLY])
def test_early_end_is_incomplete_message_whatever_the_split(name: str, data: bytes, state: State) -> None:
    for pieces in ways(data):
        parser = ResponseParser()
        for piece in pieces:
            parser.feed(piece)
        assert parser.state is state
        with pytest.raises(wire.IncompleteMessage) as info:
            parser.feed_eof()
        assert info.value.partial == data and info.value.offset == len(data)
        assert info.value.rule == "RFC 9112 §8: incomplete message" and info.value.state == state.value


# --- limits: named, with a reason, overridable, split-independent ---


def test_limits_are_named_constants_and_the_defaults() -> None:
    assert http11.MAX_HEAD_BYTES == 64 * 1024
    assert http11.MAX_FIELDS == 100
    assert http11.MAX_CHUNK_LINE_BYTES == 4 * 1024
    assert http11.MAX_BODY_SIZE == 2**63 - 1
    assert sse.MAX_LINE_BYTES == 1024 * 1024
    parser = ResponseParser()
    assert (parser.max_head_bytes, parser.max_fields, parser.max_chunk_line_bytes, parser.max_body_size) == (
        http11.MAX_HEAD_BYTES,
        http11.MAX_FIELDS,
        http11.MAX_CHUNK_LINE_BYTES,
        http11.MAX_BODY_SIZE,
    )
    assert SSEDecoder().max_line == sse.MAX_LINE_BYTES


def test_default_head_limit_is_enforced() -> None:
    head = H + b"X: " + b"a" * (64 * 1024) + b"\r\n\r\n"
    err = error_of(head)
    assert err.rule == "limit: MAX_HEAD_BYTES" and err.offset == 64 * 1024


def test_default_field_limit_is_enforced() -> None:
    ok = H + b"A: b\r\n" * 100 + b"Content-Length: 0\r\n\r\n"
    with pytest.raises(wire.ProtocolError, match="more than 100 header fields"):
        run(ok)
    assert len(wire.parse_response(H + b"A: b\r\n" * 99 + b"Content-Length: 0\r\n\r\n").headers) == 100


def test_field_limit_same_whatever_the_split() -> None:
    data = H + b"A: b\r\n" * 4 + b"\r\n"
    for pieces in ways(data):
        assert isinstance(run(data, pieces, max_fields=4)[-1], EndOfMessage)
        err = error_of(data, pieces, max_fields=3)
        assert (err.offset, err.rule) == (17 + 18, "limit: MAX_FIELDS")


def test_trailer_limits_same_whatever_the_split() -> None:
    trailer = b"T: " + b"v" * 30 + b"\r\n"  # 35 bytes
    data = CHUNKED_HEAD + b"0\r\n" + trailer * 3 + b"\r\n"
    for pieces in ways(data):
        assert isinstance(run(data, pieces, max_fields=3, max_head_bytes=105)[-1], EndOfMessage)
        err = error_of(data, pieces, max_fields=2)
        assert (err.offset, err.rule) == (50 + 70, "limit: MAX_FIELDS")
        err = error_of(data, pieces, max_head_bytes=104)  # the trailer section has the head's limit
        assert (err.offset, err.rule) == (50 + 104, "limit: MAX_HEAD_BYTES")


def test_chunk_line_limit_boundary_same_whatever_the_split() -> None:
    line = b"1;name=value"  # 12 bytes + CRLF
    data = CHUNKED_HEAD + line + b"\r\nx\r\n0\r\n\r\n"
    for pieces in ways(data):
        assert isinstance(run(data, pieces, max_chunk_line_bytes=14)[-1], EndOfMessage)
        err = error_of(data, pieces, max_chunk_line_bytes=13)
        assert (err.offset, err.rule) == (47 + 13, "limit: MAX_CHUNK_LINE_BYTES")


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"])
def test_sse_line_limit_boundary_same_whatever_the_split(end: bytes) -> None:
    def outcome(pieces: list[bytes], max_line: int) -> tuple[object, ...]:
        decoder = SSEDecoder(max_line=max_line)
        got: list[sse.ServerSentEvent] = []
        try:
            for piece in pieces:
                got += decoder.feed(piece)
            return ("ok", got + decoder.flush())
        except wire.ProtocolError as exc:
            return ("error", exc.offset, exc.rule, got + decoder.events_before_error)

    stream = b"data: a" + end + end + b"data: 123456" + end + end  # second line: 12 bytes of content
    whole_ok = outcome([stream], 12)
    whole_bad = outcome([stream], 11)
    assert whole_ok[0] == "ok" and [e.data for e in whole_ok[1]] == ["a", "123456"]  # type: ignore[attr-defined]
    assert whole_bad[:2] == ("error", 7 + 2 * len(end))
    for pieces in ways(stream):
        assert outcome(pieces, 12) == whole_ok
        assert outcome(pieces, 11) == whole_bad


# --- bounded time and memory ---


def test_long_whitespace_runs_are_linear_not_quadratic() -> None:
    # A regex with two ways to match a space backtracked quadratically: 64 KiB took ~40 s.
    for data in (
        H + b"A:" + b" " * 60_000 + b"\x00\r\n\r\n",
        H + b"A:" + b" \t" * 30_000 + b"\x01\r\n\r\n",
        b"HTTP/1.1 200 " + b" " * 60_000 + b"\x00\r\n\r\n",
        CHUNKED_HEAD + b"1" + b" ;a" * 1300 + b"\x00\r\n",
    ):
        start = time.perf_counter()
        with pytest.raises(wire.ProtocolError):
            run(data)
        assert time.perf_counter() - start < 1.0


def test_long_body_streams_through_keep_body_false_in_constant_memory() -> None:
    piece = b"x" * 65536
    frame = b"10000\r\n" + piece + b"\r\n"
    total = 0
    tracemalloc.start()
    try:
        parser = ResponseParser(keep_body=False)
        parser.feed(CHUNKED_HEAD)
        for _ in range(256):  # 16 MiB of chunk data, then 16 MiB more as one Content-Length body
            for ev in parser.feed(frame):
                if isinstance(ev, Data):
                    total += len(ev.data)
        parser.feed(b"0\r\n\r\n")
        assert parser.response is not None and parser.response.body == b""
        length = ResponseParser(keep_body=False)
        length.feed(H + b"Content-Length: %d\r\n\r\n" % (256 * len(piece)))
        for _ in range(256):
            for ev in length.feed(piece):
                total += len(ev.data) if isinstance(ev, Data) else 0
        assert length.response is not None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 2 * 256 * 65536
    assert peak < 1024 * 1024, f"peak {peak} bytes for 32 MiB of body"


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=20_000))
def test_arbitrary_long_input_bounded_time_and_memory(data: bytes) -> None:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        try:
            run(b"HTTP/1.1 200 OK\r\n" + data)
        except wire.ProtocolError:
            pass
        try:
            decoder = SSEDecoder(max_line=1000)
            decoder.feed(data)
            decoder.flush()
        except wire.ProtocolError:
            pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 2.0
    assert peak < 40 * (len(data) + 1024)  # linear in the input, with a generous constant


# --- h11 as an oracle on a wider range of valid responses ---

_TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_FRAMING = {"content-length", "transfer-encoding", "connection", "trailer"}
names = st.text(_TCHARS, min_size=1, max_size=10).filter(lambda n: n.lower() not in _FRAMING)
values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=16).map(lambda v: v.strip(" "))


@st.composite
def rich_responses(draw: st.DrawFn) -> tuple[bytes, dict[str, object]]:
    interim = draw(st.lists(st.sampled_from([100, 102, 103]), max_size=2))
    status = draw(st.sampled_from([200, 201, 204, 304, 404, 500]))
    version = draw(st.sampled_from(["1.1", "1.0"]))
    fields = draw(st.lists(st.tuples(names, values), max_size=5))
    body = draw(st.binary(max_size=200))
    framing = draw(st.sampled_from(["length", "chunked", "close"] if version == "1.1" else ["length", "close"]))
    close = draw(st.booleans()) or framing == "close"
    data = b"".join(b"HTTP/1.1 %d Interim\r\n\r\n" % code for code in interim)
    head = [f"HTTP/{version} {status} Reason here\r\n"] + [f"{n}: {v}\r\n" for n, v in fields]
    if close:
        head.append("Connection: close\r\n")
    trailers: list[tuple[str, str]] = []
    if status in (204, 304):
        body = b""
        framing = "none"
    if framing == "length":
        head.append(f"Content-Length: {len(body)}\r\n")
        payload = body
    elif framing == "chunked":
        head.append("Transfer-Encoding: chunked\r\n")
        ext = draw(st.sampled_from(["", ";a", ";a=b", ';q="x y"']))
        size = draw(st.integers(1, 50))
        payload = b"".join(
            b"%x%s\r\n%s\r\n" % (len(body[i : i + size]), ext.encode(), body[i : i + size])
            for i in range(0, len(body), size)
        )
        trailers = draw(st.lists(st.tuples(names, values), max_size=2))
        payload += b"0\r\n" + b"".join(f"{n}: {v}\r\n".encode() for n, v in trailers) + b"\r\n"
    else:
        payload = body
    data += "".join(head).encode() + b"\r\n" + payload
    expected_framing = {"none": Framing.NONE, "length": Framing.CONTENT_LENGTH, "chunked": Framing.CHUNKED,
                        "close": Framing.UNTIL_CLOSE}[framing]
    return data, {"status": status, "body": body, "trailers": trailers, "interim": interim,
                  "framing": expected_framing}


def h11_parse(data: bytes) -> tuple[int, list[tuple[str, str]], bytes, list[tuple[str, str]], list[int]]:
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="POST", target="/", headers=[("Host", "x"), ("Content-Length", "0")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(data)
    conn.receive_data(b"")
    interim, body, trailers = [], b"", []
    while True:
        ev = conn.next_event()
        if isinstance(ev, h11.InformationalResponse):
            interim.append(ev.status_code)
        elif isinstance(ev, h11.Response):
            status = ev.status_code
            headers = [(n.decode(), v.decode("latin-1")) for n, v in ev.headers.raw_items()]
        elif isinstance(ev, h11.Data):
            body += ev.data
        elif isinstance(ev, h11.EndOfMessage):
            trailers = [(n.decode(), v.decode("latin-1")) for n, v in ev.headers.raw_items()]
            return status, headers, body, trailers, interim
        else:  # pragma: no cover - a valid response never gets here
            raise AssertionError(ev)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rich_responses())
def test_rich_valid_responses_agree_with_h11(case: tuple[bytes, dict[str, object]]) -> None:
    data, expected = case
    resp = wire.parse_response(data)
    assert resp.status == expected["status"] and resp.body == expected["body"]
    assert resp.trailers == expected["trailers"]
    assert [r.status for r in resp.informational] == expected["interim"]
    status, headers, body, trailers, interim = h11_parse(data)
    assert (status, headers, body, trailers, interim) == (
        resp.status,
        resp.headers,
        resp.body,
        resp.trailers,
        [r.status for r in resp.informational],
    )
    assert resp.framing == expected["framing"]
