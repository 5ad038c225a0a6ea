"""The HTTP/1.1 response parser: exact events, every split, bad input, h11 as an oracle."""

from __future__ import annotations

import h11
import pytest
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

import wire
from wire.http11 import (
    ChunkEnd,
    ChunkHeader,
    Data,
    EndOfHead,
    EndOfMessage,
    Event,
    Field,
    Framing,
    ResponseParser,
    State,
    StatusLine,
    Trailer,
)

CHUNKED = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n"
    b"\r\n"
    b"5;name=value\r\nhello\r\n"
    b"6\r\n world\r\n"
    b"0\r\n"
    b"Expires: never\r\n"
    b"\r\n"
)


def feed_all(data: bytes, splits: list[int] | None = None, **kw: object) -> tuple[list[Event], ResponseParser]:
    """Feed data cut at the given split points, then EOF; return events with Data merged."""
    parser = ResponseParser(**kw)  # type: ignore[arg-type]
    events: list[Event] = []
    cuts = sorted(set(splits or [])) + [len(data)]
    start = 0
    for cut in cuts:
        events += parser.feed(data[start:cut])
        start = cut
    events += parser.feed_eof()
    return merge_data(events), parser


def merge_data(events: list[Event]) -> list[Event]:
    """Join adjacent Data events (only their cutting may depend on the split)."""
    out: list[Event] = []
    for ev in events:
        if isinstance(ev, Data) and out and isinstance(out[-1], Data):
            prev = out[-1]
            out[-1] = Data(prev.data + ev.data, prev.offset)
        else:
            out.append(ev)
    return out


def test_chunked_response_events_exact() -> None:
    events, parser = feed_all(CHUNKED)
    assert events == [
        StatusLine("HTTP/1.1", 200, "OK", b"HTTP/1.1 200 OK\r\n", 0),
        Field("Content-Type", "application/json", b"Content-Type: application/json\r\n", 17),
        Field("Transfer-Encoding", "chunked", b"Transfer-Encoding: chunked\r\n", 49),
        EndOfHead(Framing.CHUNKED, None, False, b"\r\n", 77),
        ChunkHeader(5, [("name", "value")], b"5;name=value\r\n", 79),
        Data(b"hello", 93),
        ChunkEnd(98),
        ChunkHeader(6, [], b"6\r\n", 100),
        Data(b" world", 103),
        ChunkEnd(109),
        ChunkHeader(0, [], b"0\r\n", 111),
        Trailer("Expires", "never", b"Expires: never\r\n", 114),
        EndOfMessage(True, 132),
    ]
    resp = parser.response
    assert resp is not None
    assert resp.body == b"hello world"
    assert resp.trailers == [("Expires", "never")]
    assert resp.raw == CHUNKED
    assert [f.raw for f in resp.frames] == [b"5;name=value\r\nhello\r\n", b"6\r\n world\r\n", b"0\r\nExpires: never\r\n\r\n"]
    assert resp.header("content-TYPE") == "application/json"
    assert parser.state is State.DONE


def test_three_ways_whole_bytewise_and_extra() -> None:
    whole, _ = feed_all(CHUNKED)
    bytewise, _ = feed_all(CHUNKED, list(range(len(CHUNKED))))
    assert whole == bytewise
    parser = ResponseParser()
    parser.feed(CHUNKED + b"HTTP/1.1 200 OK\r\n")
    assert parser.response is not None and parser.response.body == b"hello world"
    assert parser.trailing_data == b"HTTP/1.1 200 OK\r\n"


def test_parse_response_content_length_and_header_join() -> None:
    resp = wire.parse_response(b"HTTP/1.1 200 OK\r\nA: 1\r\nContent-Length: 3\r\na: 2\r\n\r\nabc")
    assert (resp.status, resp.reason, resp.body) == (200, "OK", b"abc")
    assert resp.header("A") == "1, 2"
    assert resp.framing is Framing.CONTENT_LENGTH and resp.keep_alive


def test_until_close_and_http10() -> None:
    resp = wire.parse_response(b"HTTP/1.0 200 OK\r\n\r\nasdf")
    assert resp.body == b"asdf" and resp.framing is Framing.UNTIL_CLOSE and not resp.keep_alive


def test_informational_response_then_final() -> None:
    data = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    resp = wire.parse_response(data)
    assert resp.status == 200 and resp.body == b"ok"
    assert [r.status for r in resp.informational] == [100, 103]
    assert resp.informational[1].headers == [("Link", "</x>")]


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses(status: int) -> None:
    resp = wire.parse_response(b"HTTP/1.1 %d X\r\nContent-Length: 10\r\n\r\n" % status)
    assert resp.body == b"" and resp.framing is Framing.NONE


def test_head_request_has_no_body() -> None:
    resp = wire.parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", request_method="HEAD")
    assert resp.body == b"" and resp.content_length is None


def test_both_te_and_cl_flagged_and_not_reused() -> None:
    resp = wire.parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    assert resp.framing is Framing.CHUNKED and not resp.keep_alive
    assert resp.warnings and "RFC 9112 §6.3" in resp.warnings[0]


def test_bare_lf_in_head_is_tolerated() -> None:
    resp = wire.parse_response(b"HTTP/1.1 200 OK\nA: b\nContent-Length: 2\n\nok")
    assert resp.headers == [("A", "b"), ("Content-Length", "2")] and resp.body == b"ok"


# --- bad input: exact error type, offset and rule ---

INVALID = [
    # (name, bytes, error offset, words in the message)
    ("version", b"HTP/1.1 200 OK\r\n\r\n", 2, "does not start with 'HTTP/'"),
    ("garbage", b"SSH-2.0-OpenSSH\r\n", 0, "not an HTTP/1.x response"),
    ("version digits", b"HTTP/1.01 200 OK\r\n\r\n", 8, "expected SP"),
    ("major 2", b"HTTP/2.0 200 OK\r\n\r\n", 5, "unsupported HTTP version"),
    ("two digit status", b"HTTP/1.1 20 OK\r\n\r\n", 9, "3 digits"),
    ("tab separator", b"HTTP/1.1\t200 OK\r\n\r\n", 8, "expected SP"),
    ("NUL in reason", b"HTTP/1.1 200 O\x00K\r\n\r\n", 14, "control character"),
    ("space before colon", b"HTTP/1.1 200 OK\r\nFoo : bar\r\n\r\n", 20, "whitespace between field name and colon"),
    ("name not token", b"HTTP/1.1 200 OK\r\nF(o: bar\r\n\r\n", 18, "not a token"),
    ("empty name", b"HTTP/1.1 200 OK\r\n: bar\r\n\r\n", 17, "empty field name"),
    ("SP after status line", b"HTTP/1.1 200 OK\r\n c: d\r\n\r\n", 17, "whitespace right after the status line"),
    ("CR in value", b"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", 21, "bare CR"),
    ("NUL in value", b"HTTP/1.1 200 OK\r\nA: b\x00c\r\n\r\n", 21, "NUL in the value"),
    ("no colon", b"HTTP/1.1 200 OK\r\nnocolon\r\n\r\n", 17, "no colon"),
    ("differing CL", b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx", 36, "conflicting"),
    ("signed CL", b"HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx", 17, "not a non-negative decimal"),
    ("non-digit CL", b"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\nx", 17, "not a non-negative decimal"),
    ("huge CL", b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", 17, "larger than"),
    ("TE gzip", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nx", 17, "final transfer coding is not chunked"),
    ("chunked not last", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 17, "not chunked"),
    ("TE in 1.0", b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 17, "HTTP/1.0"),
    ("empty chunk size", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", 47, "not a hexadecimal"),
    ("signed chunk size", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", 47, "not a hexadecimal"),
    ("non-hex chunk size", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 47, "not a hexadecimal"),
    ("huge chunk size", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1" + b"0" * 16 + b"\r\n", 47, "larger"),
    ("no CRLF after data", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", 51, "not followed by CRLF"),
    ("bad extension", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;\r\na\r\n", 48, "chunk extension"),
    ("trailer not a field", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nnot a field\r\n\r\n", 50, "no colon"),
    ("data after close", b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nxy", 58, "after the end"),
]


@pytest.mark.parametrize("name,data,offset,words", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_input_raises_protocol_error_with_offset(name: str, data: bytes, offset: int, words: str) -> None:
    for splits in ([], list(range(len(data)))):
        with pytest.raises(wire.ProtocolError) as info:
            feed_all(data, splits)
        err = info.value
        assert not isinstance(err, wire.IncompleteMessage), err
        assert words in str(err)
        assert err.offset == offset, str(err)
        assert err.rule
        assert data.startswith(err.received[: len(data)]) and err.received


INCOMPLETE = [
    ("nothing", b"", "before any response byte", State.STATUS_LINE),
    ("head", b"HTTP/1.1 200 OK\r\nA: b\r\n", "inside the header section", State.FIELDS),
    ("length body", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", "after 2 of 5", State.BODY_LENGTH),
    ("chunk size", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1", "chunk size line", State.CHUNK_SIZE),
    ("chunk data", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "inside chunk data", State.CHUNK_DATA),
    ("chunk CRLF", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na", "CRLF after chunk", State.CHUNK_DATA_END),
    ("trailers", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\n", "trailer", State.TRAILERS),
]


@pytest.mark.parametrize("name,data,words,state", INCOMPLETE, ids=[c[0] for c in INCOMPLETE])
def test_early_end_in_each_state_is_incomplete(name: str, data: bytes, words: str, state: State) -> None:
    parser = ResponseParser()
    parser.feed(data)
    assert parser.state is state
    with pytest.raises(wire.IncompleteMessage) as info:
        parser.feed_eof()
    assert words in str(info.value)
    assert info.value.partial == data
    assert info.value.offset == len(data)
    with pytest.raises(wire.IncompleteMessage):  # the error sticks
        parser.feed(b"more")


def test_head_limit_same_verdict_whole_or_bytewise() -> None:
    head = b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 200 + b"\r\n"
    data = head + b"\r\n"
    ok_limit = len(head)
    for splits in ([], list(range(len(data)))):
        events, _ = feed_all(data + b"", splits, max_head_bytes=ok_limit)
        assert isinstance(events[-1], EndOfMessage)
        with pytest.raises(wire.ProtocolError) as info:
            feed_all(data, splits, max_head_bytes=ok_limit - 1)
        assert "max_head_bytes" in str(info.value) and info.value.offset == ok_limit - 1


def test_field_count_limit() -> None:
    data = b"HTTP/1.1 200 OK\r\n" + b"A: b\r\n" * 5 + b"\r\n"
    assert len(feed_all(data, max_fields=5)[1].response.headers) == 5  # type: ignore[union-attr]
    with pytest.raises(wire.ProtocolError, match="more than 4 header fields"):
        feed_all(data, max_fields=4)


def test_chunk_line_limit_is_split_independent() -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;a=" + b"b" * 100 + b"\r\nx\r\n0\r\n\r\n"
    for splits in ([], list(range(len(data)))):
        with pytest.raises(wire.ProtocolError) as info:
            feed_all(data, splits, max_chunk_line_bytes=50)
        assert info.value.offset == 47 + 50


def test_keep_body_false_keeps_nothing() -> None:
    parser = ResponseParser(keep_body=False)
    parser.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    total = 0
    for _ in range(100):
        for ev in parser.feed(b"400\r\n" + b"x" * 1024 + b"\r\n"):
            if isinstance(ev, Data):
                total += len(ev.data)
        assert len(parser._buffer) == 0 and parser._raw_parts == [] and parser.response is None
    parser.feed(b"0\r\n\r\n")
    assert total == 102400
    assert parser.response is not None and parser.response.body == b""
    assert parser.response.raw.endswith(b"chunked\r\n\r\n")


def test_raw_is_joined_on_first_use_and_a_copy_reads_the_same() -> None:
    # Response.raw is joined from the kept reads when first read; the Client's error path reads
    # a copy.copy of a response, whose raw must be the same bytes, whichever is read first.
    import copy

    data = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    parser = ResponseParser()
    for i in range(len(data)):
        parser.feed(data[i : i + 1])
    resp = parser.response
    assert resp is not None
    twin = copy.copy(resp)
    assert resp.raw == data and twin.raw == data
    twin.raw = b"replaced"
    assert resp.raw == data and twin.raw == b"replaced"


# --- generated responses: every split, and h11 as an oracle ---

_TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
field_names = st.text(_TCHARS, min_size=1, max_size=12).filter(
    lambda n: n.lower() not in {"content-length", "transfer-encoding", "connection"}
)
field_values = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=20).map(
    lambda v: v
) | st.builds(lambda a, b: f"{a} {b}", st.text("abc", min_size=1, max_size=3), st.text("xyz", min_size=1, max_size=3))


@st.composite
def responses(draw: st.DrawFn) -> tuple[bytes, int, str, list[tuple[str, str]], bytes]:
    status = draw(st.sampled_from([200, 201, 400, 401, 404, 429, 500, 503]))
    reason = draw(st.sampled_from(["OK", "Created", "Bad Request", "", "Too Many Requests", "Whatever it is"]))
    fields = draw(st.lists(st.tuples(field_names, field_values), max_size=6))
    body = draw(st.binary(max_size=300))
    framing = draw(st.sampled_from(["length", "chunked"]))
    head = f"HTTP/1.1 {status} {reason}\r\n".encode()
    for name, value in fields:
        head += f"{name}: {value}\r\n".encode()
    if framing == "length":
        all_fields = fields + [("Content-Length", str(len(body)))]
        data = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
    else:
        all_fields = fields + [("Transfer-Encoding", "chunked")]
        sizes = draw(st.lists(st.integers(1, 64), max_size=8))
        frames, pos = b"", 0
        for size in sizes:
            piece = body[pos : pos + size]
            if piece:
                frames += b"%x\r\n" % len(piece) + piece + b"\r\n"
            pos += size
        if body[pos:]:
            frames += b"%X\r\n" % len(body[pos:]) + body[pos:] + b"\r\n"
        data = head + b"Transfer-Encoding: chunked\r\n\r\n" + frames + b"0\r\n\r\n"
    return data, status, reason, all_fields, body


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(responses(), st.lists(st.integers(0, 2000), max_size=10))
def test_any_split_gives_the_same_events(case: tuple[bytes, int, str, list[tuple[str, str]], bytes], cuts: list[int]) -> None:
    data = case[0]
    whole, p1 = feed_all(data)
    split, p2 = feed_all(data, [c % (len(data) + 1) for c in cuts])
    assert whole == split
    assert p1.response is not None and p2.response is not None
    assert p1.response.body == p2.response.body == case[4]


@settings(max_examples=150, deadline=None)
@given(responses())
def test_agrees_with_h11(case: tuple[bytes, int, str, list[tuple[str, str]], bytes]) -> None:
    data, status, reason, fields, body = case
    resp = wire.parse_response(data)
    assert (resp.status, resp.reason, resp.headers, resp.body) == (status, reason, fields, body)
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="POST", target="/", headers=[("Host", "x"), ("Content-Length", "0")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(data)
    conn.receive_data(b"")
    h11_body = b""
    ev = conn.next_event()
    assert isinstance(ev, h11.Response)
    assert ev.status_code == resp.status
    assert ev.reason.decode("latin-1") == resp.reason
    assert [(n.decode(), v.decode()) for n, v in ev.headers.raw_items()] == resp.headers
    while True:
        ev = conn.next_event()
        if isinstance(ev, h11.Data):
            h11_body += ev.data
        else:
            assert isinstance(ev, h11.EndOfMessage)
            break
    assert h11_body == resp.body


# Pieces that the parser's grammar cares about: joined at random they get past the status
# line into the fields, the chunk frames, the trailers, where plain random bytes never go.
_FIELD_PIECES = [b"Name", b"x-a", b":", b" ", b"\t", b"value", b"\r\n", b"\n", b"\r", b"\x00", b"\x7f", b"\xff",
                 b"Content-Length", b"Transfer-Encoding", b"chunked", b"gzip", b",", b"5", b"-1", b"9" * 20]
_SIZES = [b"0", b"5", b"1a", b"F" * 20, b"-1", b"+5", b"0x5", b" 5", b"", b"g"]
_EXTENSIONS = [b"", b";a", b";a=b", b';a="q\xe9 \\"x"', b" ; a = b", b";", b";a=", b'";a="x', b";\xff"]
_LINE_ENDS = [b"\r\n"] * 5 + [b"\n", b"\r", b""]  # mostly right, so that the next frame is reached


def _mutate(draw: st.DrawFn, data: bytearray, times: int) -> bytes:
    for _ in range(times):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["replace", "insert", "delete"]))
        if action == "replace" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif action == "insert":
            data[at:at] = draw(st.sampled_from(_FIELD_PIECES + _SIZES + _EXTENSIONS) | st.binary(min_size=1, max_size=4))
        else:
            del data[at : at + draw(st.integers(1, 8))]
    return bytes(data)


@st.composite
def near_valid_messages(draw: st.DrawFn) -> bytes:
    """Bytes that are mostly a response: bad fields after a good status line, chunk frames with bad
    sizes, extensions and line ends after a good head, or a valid response with a few bytes
    replaced, inserted or cut out."""
    kind = draw(st.sampled_from(["fields", "chunks", "mutated"]))
    if kind == "fields":
        pieces = draw(st.lists(st.sampled_from(_FIELD_PIECES) | st.binary(max_size=4), max_size=30))
        return b"HTTP/1.1 200 OK\r\n" + b"".join(pieces)
    if kind == "chunks":
        valid = draw(st.booleans())  # half of them well-formed, with odd but legal extensions and trailers

        def pick(good: list[bytes], bad: list[bytes]) -> bytes:
            return draw(st.sampled_from(good if valid else good + bad))

        data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        for payload in draw(st.lists(st.binary(max_size=20), max_size=3)):
            data += pick([b"%x" % len(payload), b"%X" % len(payload)], _SIZES)
            data += pick(_EXTENSIONS[:5], _EXTENSIONS[5:]) + pick([b"\r\n"], _LINE_ENDS)
            data += payload + pick([b"\r\n"], _LINE_ENDS)
        data += b"0" + pick(_EXTENSIONS[:5], _EXTENSIONS[5:]) + pick([b"\r\n"], _LINE_ENDS)
        for _ in range(draw(st.integers(0, 2))):  # trailer fields
            data += pick([b"Expires", b"x-a"], [b"", b"a b", b"Content-Length"]) + b":"
            data += pick([b" v", b" \xe9t\xe9", b""], [b"\x00", b" a\rb"]) + pick([b"\r\n"], _LINE_ENDS)
        data += pick([b"\r\n"], _LINE_ENDS)
        return _mutate(draw, bytearray(data), 0 if valid else draw(st.integers(0, 1)))
    return _mutate(draw, bytearray(draw(responses())[0]), draw(st.integers(1, 4)))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_valid_messages(), st.lists(st.integers(0, 2000), max_size=4))
def test_near_valid_bytes_raise_only_protocol_error(data: bytes, cuts: list[int]) -> None:
    """Whatever comes, the parser ends in events or a ProtocolError: never another exception, never a hang."""
    try:
        feed_all(data, [c % (len(data) + 1) for c in cuts])
    except wire.ProtocolError as exc:
        assert 0 <= exc.offset <= len(data), (exc.offset, len(data))
        target(float(exc.offset), label="offset of the error")  # steer hypothesis towards the deeper states


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_protocol_error(data: bytes) -> None:
    try:
        feed_all(data)
    except wire.ProtocolError:
        pass


@settings(max_examples=300, deadline=None)
@given(responses(), st.integers(0, 10_000), st.integers(0, 255), st.lists(st.integers(0, 2000), max_size=4))
def test_one_mutated_byte_raises_only_protocol_error_and_split_agrees(
    case: tuple[bytes, int, str, list[tuple[str, str]], bytes], where: int, byte: int, cuts: list[int]
) -> None:
    data = bytearray(case[0])
    data[where % len(data)] = byte
    outcomes = []
    for splits in ([], [c % (len(data) + 1) for c in cuts]):
        try:
            events, _ = feed_all(bytes(data), splits)
            outcomes.append(("ok", events))
        except wire.ProtocolError as exc:
            outcomes.append((type(exc).__name__, (exc.offset, exc.message)))
    assert outcomes[0] == outcomes[1]
