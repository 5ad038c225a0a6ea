"""The HTTP/1.1 response parser, rule by rule: exact messages, offsets, rules and events.

These tests pin what ``wire.http11`` does at every edge that mutation testing
(docs/testing.md) showed to be unguarded: each boundary of each grammar
rule, each limit at exactly N and N + 1, each state's early close, keep-alive
decisions and bytes after the end. They go through public behaviour only
(``ResponseParser``, ``parse_response``, the events, ``Response`` and the
exception's ``offset``/``rule``/``received``/``state``), so they keep guarding
the parser when its insides are rewritten.

The conformance corpus (``../shared/conformance``, outside the repository) is
also run here in-process, one test per case, so that mutation testing sees it;
tests/test_conformance.py runs the same corpus through its own runner.
"""

from __future__ import annotations

import base64
import functools
import importlib.util
import os
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from feeding import error_of, run, same_error_every_way, ways

import wire
from wire.errors import ProtocolError
from wire.http11 import (
    MAX_BODY_SIZE,
    MAX_CHUNK_LINE_BYTES,
    MAX_FIELDS,
    MAX_HEAD_BYTES,
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

ROOT = Path(__file__).resolve().parent.parent


def plain_id(value: object) -> str:
    """A test id of letters, digits and _ only (mutmut passes test ids on to pytest as arguments)."""
    return re.sub(r"[^A-Za-z0-9]+", "_", value if isinstance(value, str) else repr(value)).strip("_")[:40] or "_"


parametrize = functools.partial(pytest.mark.parametrize, ids=plain_id)
H = b"HTTP/1.1 200 OK\r\n"  # 17 bytes
CHUNKED_HEAD = H + b"Transfer-Encoding: chunked\r\n\r\n"  # 47 bytes


def merged(events: list[Event]) -> list[Event]:
    """Events with consecutive Data events joined (their split depends on the feeds)."""
    out: list[Event] = []
    for e in events:
        if isinstance(e, Data) and out and isinstance(out[-1], Data):
            out[-1] = Data(out[-1].data + e.data, out[-1].offset)
        else:
            out.append(e)
    return out


def same_events_every_way(data: bytes, **kw: Any) -> list[Event]:
    whole = merged(run(data, **kw))
    for pieces in ways(data):
        assert merged(run(data, pieces, **kw)) == whole, pieces
    return whole


# --- the conformance corpus, in-process (so mutation testing sees it) ---


def _conformance_dir() -> Path:
    env = os.environ.get("WIRE_CONFORMANCE_DIR")
    return Path(env) if env else ROOT.parent / "shared" / "conformance"


def _load_runner() -> ModuleType | None:
    path = _conformance_dir() / "run.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("wire_conformance_run", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RUNNER = _load_runner()
CASES: list[dict[str, Any]] = RUNNER._load(str(_conformance_dir() / "responses.jsonl")) if RUNNER else []
MISSING = f"the conformance corpus is not at {_conformance_dir()} (set WIRE_CONFORMANCE_DIR to its folder)"


@pytest.mark.skipif(RUNNER is None, reason=MISSING)
def test_the_corpus_has_its_110_cases() -> None:
    assert len(CASES) == 110
    assert {c["class"] for c in CASES} == {"valid", "invalid", "lenient"}


@pytest.mark.skipif(RUNNER is None, reason=MISSING)
@parametrize("case", CASES or [None], ids=[plain_id(c["id"]) for c in CASES] or ["missing"])
def test_conformance_case(case: dict[str, Any]) -> None:
    # The same rules as run.py's main(): valid must parse and match "expect" (or one of its
    # "alt"s), invalid must raise ProtocolError, lenient may do either. Anything else is a crash.
    assert RUNNER is not None
    raw = base64.b64decode(case["raw_b64"])
    cls, expect = case["class"], case["expect"]
    try:
        result = wire.parse_response(raw)
    except wire.ProtocolError as exc:
        assert cls != "valid", f"{case['id']}: rejected a valid response: {exc}"
        return
    assert cls != "invalid", f"{case['id']}: accepted, expected rejection ({expect['error']})"
    diffs = [RUNNER._compare(result, alt) for alt in [expect, *expect.get("alt", [])]]
    assert None in diffs, f"{case['id']}: {diffs[0]}"


# --- events: their repr, equality and exact sequence ---


def test_event_repr_names_every_field_offset_last() -> None:
    line = StatusLine("HTTP/1.1", 200, "OK", b"HTTP/1.1 200 OK\r\n", 0)
    assert repr(line) == "StatusLine(http_version='HTTP/1.1', status=200, reason='OK', raw=b'HTTP/1.1 200 OK\\r\\n', offset=0)"
    assert repr(Trailer("X", "1", b"X: 1\r\n", 52)) == "Trailer(name='X', value='1', raw=b'X: 1\\r\\n', offset=52)"
    assert repr(ChunkEnd(9)) == "ChunkEnd(offset=9)"
    assert repr(EndOfMessage(True, 3)) == "EndOfMessage(keep_alive=True, offset=3)"


def test_events_are_equal_only_with_the_same_type_and_every_field() -> None:
    assert Data(b"ab", 3) == Data(b"ab", 3)
    assert Data(b"ab", 3) != Data(b"ab", 4)
    assert Data(b"ab", 3) != Data(b"ac", 3)
    assert Field("X", "1", b"X: 1\r\n", 0) != Trailer("X", "1", b"X: 1\r\n", 0)
    assert Trailer("X", "1", b"X: 1\r\n", 0) != Field("X", "1", b"X: 1\r\n", 0)
    assert ChunkHeader(1, [("a", None)], b"1;a\r\n", 5) != ChunkHeader(1, [("a", "")], b"1;a\r\n", 5)
    assert EndOfMessage(True, 3) != EndOfMessage(False, 3)
    assert (Data(b"", 0) == "x") is False
    with pytest.raises(TypeError):
        hash(Data(b"", 0))


def test_a_str_fed_to_the_parser_is_a_type_error_that_says_to_encode_it() -> None:
    """A learner pastes a reply as text: the parser says it takes bytes (the wire carries bytes, not characters)."""
    with pytest.raises(TypeError) as info:
        wire.parse_response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")  # type: ignore[arg-type]
    assert str(info.value) == "feed() takes bytes, not str (a str: encode it first)"
    parser = ResponseParser()
    assert parser.feed(bytearray(b"HTTP/1.1 204 No Content\r\n\r\n"))[0] == StatusLine(
        "HTTP/1.1", 204, "No Content", b"HTTP/1.1 204 No Content\r\n", 0
    )  # a bytearray or a memoryview is bytes enough


CHUNKED = (
    CHUNKED_HEAD
    + b"5;a=1;b\r\nhello\r\n"  # 47: size line, 56: data, 61: CRLF
    + b'3 ; q = "x\\"y"\r\nabc\r\n'  # 63: size line with BWS and a quoted-string, 79: data, 82: CRLF
    + b"0\r\n"  # 84
    + b"Expires: never\r\nX-T:\t1 \r\n\r\n"  # 87: trailers, 103: second trailer, 112: end of message
)


def test_a_chunked_response_gives_these_events_whatever_the_split() -> None:
    assert same_events_every_way(CHUNKED) == [
        StatusLine("HTTP/1.1", 200, "OK", H, 0),
        Field("Transfer-Encoding", "chunked", b"Transfer-Encoding: chunked\r\n", 17),
        EndOfHead(Framing.CHUNKED, None, False, b"\r\n", 45),
        ChunkHeader(5, [("a", "1"), ("b", None)], b"5;a=1;b\r\n", 47),
        Data(b"hello", 56),
        ChunkEnd(61),
        ChunkHeader(3, [("q", '"x\\"y"')], b'3 ; q = "x\\"y"\r\n', 63),
        Data(b"abc", 79),
        ChunkEnd(82),
        ChunkHeader(0, [], b"0\r\n", 84),
        Trailer("Expires", "never", b"Expires: never\r\n", 87),
        Trailer("X-T", "1", b"X-T:\t1 \r\n", 103),
        EndOfMessage(True, 114),
    ]


def test_a_chunked_response_as_a_response() -> None:
    resp = wire.parse_response(CHUNKED)
    assert (resp.http_version, resp.status, resp.reason) == ("HTTP/1.1", 200, "OK")
    assert resp.headers == [("Transfer-Encoding", "chunked")]
    assert resp.body == b"helloabc"
    assert resp.trailers == [("Expires", "never"), ("X-T", "1")]
    assert resp.framing is Framing.CHUNKED and resp.content_length is None and resp.keep_alive
    assert resp.raw == CHUNKED and resp.head == CHUNKED[:47]
    assert (resp.head_offset, resp.head_end) == (0, 47)
    assert resp.warnings == [] and resp.informational == []
    assert [(f.size, f.extensions, f.size_line, f.offset, f.end, f.raw) for f in resp.frames] == [
        (5, [("a", "1"), ("b", None)], b"5;a=1;b\r\n", 47, 63, b"5;a=1;b\r\nhello\r\n"),
        (3, [("q", '"x\\"y"')], b'3 ; q = "x\\"y"\r\n', 63, 84, b'3 ; q = "x\\"y"\r\nabc\r\n'),
        (0, [], b"0\r\n", 84, 114, b"0\r\nExpires: never\r\nX-T:\t1 \r\n\r\n"),
    ]
    assert repr(resp.frames[0]) == "ChunkFrame(size=5, extensions=[('a', '1'), ('b', None)], offset=47)"
    assert repr(resp) == "<Response HTTP/1.1 200 'OK', 1 fields, 8 body bytes, framing=chunked>"


def test_without_the_body_a_chunked_response_keeps_only_its_head() -> None:
    parser = ResponseParser(keep_body=False)
    events = parser.feed(CHUNKED)
    assert merged(events) == same_events_every_way(CHUNKED)  # the same events...
    resp = parser.response
    assert resp is not None
    assert resp.body == b"" and resp.raw == CHUNKED[:47] and resp.frames == []  # ...but nothing kept
    assert resp.trailers == [("Expires", "never"), ("X-T", "1")]
    assert parser.feed_eof() == [] and parser.state is State.DONE


def test_a_chunk_frame_made_alone_is_its_size_line() -> None:
    frame = wire.http11.ChunkFrame(3, [], b"3\r\n", 10)
    assert (frame.end, frame.raw) == (13, b"3\r\n")
    assert wire.http11.ChunkFrame(3, [], b"3\r\n", 10, 18).end == 18


def test_response_header_lookup_ignores_case_and_joins_repeats() -> None:
    resp = wire.parse_response(H + b"Set-Cookie: a\r\nX: 1\r\nset-cookie: b\r\nContent-Length: 0\r\n\r\n")
    assert resp.header("SET-COOKIE") == "a, b"
    assert resp.header("x") == "1"
    assert resp.header("Missing") is None
    assert repr(resp) == "<Response HTTP/1.1 200 'OK', 4 fields, 0 body bytes, framing=Content-Length>"


# --- the status line (RFC 9112 §4) ---

STATUS_RULE = "RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]"
NOT_HTTP = "the status line does not start with 'HTTP/': this is not an HTTP/1.x response"


@parametrize(
    "data,offset",
    [
        (b"XTTP/1.1 200 OK\r\n\r\n", 0),
        (b"HXTP/1.1 200 OK\r\n\r\n", 1),
        (b"HTXP/1.1 200 OK\r\n\r\n", 2),
        (b"HTTX/1.1 200 OK\r\n\r\n", 3),
        (b"HTTP 1.1 200 OK\r\n\r\n", 4),
        (b"\x16\x03\x01\x02\x00", 0),  # a TLS handshake: rejected at its first byte, not at the close
    ],
)
def test_not_http_is_named_at_the_first_wrong_byte(data: bytes, offset: int) -> None:
    err = same_error_every_way(data)
    assert (err.message, err.offset, err.rule, err.state) == (NOT_HTTP, offset, STATUS_RULE, "status line")
    assert type(err) is wire.ProtocolError


def test_not_http_is_seen_before_the_close() -> None:
    parser = ResponseParser()
    with pytest.raises(wire.ProtocolError) as info:
        parser.feed(b"HTTX")
    assert info.value.offset == 3 and info.value.received == b"HTTX"
    assert parser.state is State.ERROR and parser.error is info.value
    for again in (lambda: parser.feed(b"more"), parser.feed_eof, lambda: parser.feed(b"")):
        with pytest.raises(wire.ProtocolError) as second:
            again()
        assert second.value is info.value  # a failed parser repeats its error


def test_a_status_line_split_after_http_slash_waits_for_more() -> None:
    parser = ResponseParser()
    assert parser.feed(b"HTTP/") == [] and parser.state is State.STATUS_LINE
    assert parser.feed(b"1.1 200 OK\r") == [] and parser.state is State.STATUS_LINE
    assert parser.feed(b"\n") == [] and parser.state is State.FIELDS
    assert parser.feed(b"\r\n") == [
        StatusLine("HTTP/1.1", 200, "OK", H, 0),
        EndOfHead(Framing.UNTIL_CLOSE, None, False, b"\r\n", 17),
    ]
    assert parser.state is State.BODY_UNTIL_CLOSE


BAD_STATUS_LINES = [
    # (bytes, message, offset, rule)
    (b"HTTP/2.0 200 OK\r\n\r\n", "unsupported HTTP version HTTP/2.0", 5, "RFC 9112 §2.3"),
    (b"HTTP/0.9 200 OK\r\n\r\n", "unsupported HTTP version HTTP/0.9", 5, "RFC 9112 §2.3"),
    (b"HTTP/1.1 099 Low\r\n\r\n", "status code 99 is below 100", 9, "RFC 9110 §15"),
    (b"HTTP/1.1 000 Zero\r\n\r\n", "status code 0 is below 100", 9, "RFC 9110 §15"),
    (b"HTTP/1.x 200 OK\r\n\r\n", "malformed HTTP-version: expected HTTP/DIGIT.DIGIT", 5, "RFC 9112 §2.3"),
    (b"HTTP/11 200 OK\r\n\r\n", "malformed HTTP-version: expected HTTP/DIGIT.DIGIT", 5, "RFC 9112 §2.3"),
    (b"HTTP/1.1\t200 OK\r\n\r\n", "expected SP after the HTTP-version, got b'\\t'", 8, STATUS_RULE),
    (b"HTTP/1.10 200 OK\r\n\r\n", "expected SP after the HTTP-version, got b'0'", 8, STATUS_RULE),
    (b"HTTP/1.1\r\n\r\n", "expected SP after the HTTP-version, got b''", 8, STATUS_RULE),
    (b"HTTP/1.1 20\r\n\r\n", "the status code is not 3 digits followed by SP", 9, STATUS_RULE),
    (b"HTTP/1.1 2000\r\n\r\n", "the status code is not 3 digits followed by SP", 9, STATUS_RULE),
    (b"HTTP/1.1 20x OK\r\n\r\n", "the status code is not 3 digits followed by SP", 9, STATUS_RULE),
    (b"HTTP/1.1 200\tOK\r\n\r\n", "the status code is not 3 digits followed by SP", 9, STATUS_RULE),
    (b"HTTP/1.1 200 O\x7fK\r\n\r\n", "control character b'\\x7f' in the reason phrase", 14, STATUS_RULE),
    (b"HTTP/1.1 200 OK\x00\r\n\r\n", "control character b'\\x00' in the reason phrase", 15, STATUS_RULE),
    (b"HTTP/1.1 200 \x1f\r\n\r\n", "control character b'\\x1f' in the reason phrase", 13, STATUS_RULE),
    (b"HTTP/1.1 200 O\rK\r\n\r\n", "bare CR (a CR not followed by LF)", 14, "RFC 9112 §2.2"),
    (b"\r\nHTTP/1.1 200 OK\r\n\r\n", NOT_HTTP, 0, STATUS_RULE),
]


@parametrize("data,message,offset,rule", BAD_STATUS_LINES, ids=[plain_id(c[0][:16]) for c in BAD_STATUS_LINES])
def test_a_bad_status_line_is_named_exactly(data: bytes, message: str, offset: int, rule: str) -> None:
    err = same_error_every_way(data)
    assert (err.message, err.offset, err.rule) == (message, offset, rule)
    assert err.state == "status line" and err.received == data


def test_a_bad_status_line_after_an_interim_reply_has_its_stream_offset() -> None:
    data = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 2x0 OK\r\n\r\n"
    err = same_error_every_way(data)
    assert (err.message, err.offset) == ("the status code is not 3 digits followed by SP", 34)


@parametrize(
    "line,version,status,reason",
    [
        (b"HTTP/1.1 200 OK\r\n", "HTTP/1.1", 200, "OK"),
        (b"HTTP/1.0 404 Not Found\r\n", "HTTP/1.0", 404, "Not Found"),
        (b"HTTP/1.1 100 \r\n", "HTTP/1.1", 100, ""),  # an empty reason after the SP
        (b"HTTP/1.1 999 \r\n", "HTTP/1.1", 999, ""),
        (b"HTTP/1.1 204\r\n", "HTTP/1.1", 204, ""),  # no SP: accepted as an empty reason (module docstring)
        (b"HTTP/1.1 200 \tA ~ \x80\xff \r\n", "HTTP/1.1", 200, "\tA ~ \x80\xff "),  # HTAB, SP, VCHAR, obs-text kept
        (b"HTTP/1.1 200 OK\n", "HTTP/1.1", 200, "OK"),  # a bare LF ends the line (RFC 9112 §2.2)
    ],
)
def test_a_status_line_gives_version_status_and_reason(line: bytes, version: str, status: int, reason: str) -> None:
    data = line + (b"Content-Length: 0\r\n\r\n" if status >= 200 else b"\r\n")
    events = ResponseParser().feed(data)
    assert events[0] == StatusLine(version, status, reason, line, 0)
    if status >= 200 and status != 204:
        resp = wire.parse_response(data)
        assert (resp.http_version, resp.status, resp.reason) == (version, status, reason)


# --- field lines (RFC 9112 §5, RFC 9110 §5.1 and §5.5) ---

TCHAR = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
TOKEN_RULE = "RFC 9110 §5.1: field-name = token"
VALUE_RULE = "RFC 9110 §5.5: field values hold no CR, LF, NUL or other control characters"


@parametrize("byte", [b for b in range(256) if b not in b"\r\n:"])
def test_each_byte_in_a_field_name(byte: int) -> None:
    line = b"A" + bytes([byte]) + b"B: v\r\n"
    data = H + line + b"Content-Length: 0\r\n\r\n"
    if byte in TCHAR:
        assert run(data)[1] == Field("A" + chr(byte) + "B", "v", line, 17)
        return
    err = error_of(data)
    assert (err.offset, err.rule, err.state) == (18, TOKEN_RULE, "fields")
    assert err.message == f"field name {line[:3]!r} is not a token in the header section"


@parametrize("byte", [b for b in range(256) if b not in b"\r\n"])
def test_each_byte_in_a_field_value(byte: int) -> None:
    line = b"X: a" + bytes([byte]) + b"b\r\n"
    data = H + line + b"Content-Length: 0\r\n\r\n"
    if byte in b" \t" or 0x21 <= byte <= 0x7E or byte >= 0x80:  # SP / HTAB / VCHAR / obs-text
        assert run(data)[1] == Field("X", "a" + chr(byte) + "b", line, 17)
        return
    err = error_of(data)
    what = "NUL" if byte == 0 else f"control character {bytes([byte])!r}"
    assert (err.message, err.offset, err.rule) == (f"{what} in the value of field 'X'", 21, VALUE_RULE)


@parametrize(
    "line,value",
    [
        (b"X: v\r\n", "v"),
        (b"X:v\r\n", "v"),
        (b"X:\t v \t\r\n", "v"),  # OWS on both sides is not part of the value
        (b"X: a \t b\r\n", "a \t b"),  # whitespace inside is
        (b"X:\r\n", ""),
        (b"X:  \t \r\n", ""),
        (b"X: \x80\xff\r\n", "\x80\xff"),  # obs-text, one character per byte (latin-1)
        (b"X: v\n", "v"),  # a bare LF ends the line (RFC 9112 §2.2)
    ],
)
def test_a_field_value_is_trimmed_of_ows(line: bytes, value: str) -> None:
    data = H + line + b"Content-Length: 0\r\n\r\n"
    assert run(data)[1] == Field("X", value, line, 17)
    assert wire.parse_response(data).headers == [("X", value), ("Content-Length", "0")]


LONG = b"N" * 45
BAD_FIELDS = [
    # (field lines after the status line, message, offset, rule)
    (b"A: 1\r\n\tfol\x01ded\r\n", "control character b'\\x01' in the value of field 'A'", 27, VALUE_RULE),
    (b"A: 1\r\n x\r\nB: 2\r\n \x00\r\n", "NUL in the value of field 'B'", 34, VALUE_RULE),
    (b"A: 1\r\nNo colon here\r\n", "a line with no colon in the header section: b'No colon here'", 23, "RFC 9112 §5"),
    (LONG + b"\r\n", f"a line with no colon in the header section: {LONG[:40]!r}", 17, "RFC 9112 §5"),
    (b": v\r\n", "empty field name in the header section", 17, TOKEN_RULE),
    (b"Name : v\r\n", "whitespace between field name and colon in the header section", 21,
     "RFC 9112 §5.1: no whitespace is allowed between the field name and colon"),
    (b"Name\t: v\r\n", "whitespace between field name and colon in the header section", 21,
     "RFC 9112 §5.1: no whitespace is allowed between the field name and colon"),
    (LONG + b"@: v\r\n", f"field name {LONG[:40]!r} is not a token in the header section", 62, TOKEN_RULE),
    (b"A: 1\r\nB: x\x00y\r\n", "NUL in the value of field 'B'", 27, VALUE_RULE),
    (b"A: 1\r\nB: x\x7f\r\n", "control character b'\\x7f' in the value of field 'B'", 27, VALUE_RULE),
    (b"A: 1\r\nB: x\ry\r\n", "bare CR (a CR not followed by LF)", 27, "RFC 9112 §2.2"),
    (b"A: 1\r\nB: x\r\r\n", "bare CR (a CR not followed by LF)", 27, "RFC 9112 §2.2"),
    (b"A: 1\r\nB:\x0b\r\n", "control character b'\\x0b' in the value of field 'B'", 25, VALUE_RULE),
]


@parametrize("fields,message,offset,rule", BAD_FIELDS, ids=[plain_id(c[0][:12]) for c in BAD_FIELDS])
def test_a_bad_field_line_is_named_exactly(fields: bytes, message: str, offset: int, rule: str) -> None:
    data = H + fields + b"\r\n"
    err = same_error_every_way(data)
    assert (err.message, err.offset, err.rule, err.state) == (message, offset, rule, "fields")
    assert type(err) is wire.ProtocolError and err.received == data


@parametrize("fields,message,offset,rule", BAD_FIELDS, ids=[plain_id(c[0][:12]) for c in BAD_FIELDS])
def test_a_bad_trailer_line_is_named_exactly(fields: bytes, message: str, offset: int, rule: str) -> None:
    # The same line as a trailer: the same words, "trailer section", at its offset in the stream.
    data = CHUNKED_HEAD + b"0\r\n" + fields + b"\r\n"
    err = same_error_every_way(data)
    assert err.message == message.replace("header section", "trailer section")
    assert (err.offset, err.rule, err.state) == (offset - 17 + 50, rule, "trailer fields")


def test_the_first_bad_field_line_is_the_one_named() -> None:
    err = same_error_every_way(H + b"A: 1\r\nB : 2\r\nC\r\n\r\n")
    assert (err.message, err.offset) == ("whitespace between field name and colon in the header section", 24)


# --- limits: exactly N is accepted, N + 1 is not, whatever the split ---


def test_the_default_limits() -> None:
    assert (MAX_HEAD_BYTES, MAX_FIELDS, MAX_CHUNK_LINE_BYTES, MAX_BODY_SIZE) == (65536, 100, 4096, 2**63 - 1)
    parser = ResponseParser()
    assert (parser.max_head_bytes, parser.max_fields, parser.max_chunk_line_bytes, parser.max_body_size) == (
        65536, 100, 4096, 2**63 - 1,
    )
    assert parser.keep_body is True and parser.request_method == "POST"
    assert ResponseParser(request_method="head").request_method == "HEAD"


def head_of(size: int) -> bytes:
    """A head of exactly ``size`` bytes, its final empty line included (size >= 24)."""
    return H + b"X: " + b"a" * (size - 24) + b"\r\n\r\n"


def test_a_head_of_max_head_bytes_plus_its_empty_line_is_accepted() -> None:
    data = head_of(66)
    assert same_events_every_way(data, max_head_bytes=64)[-1] == EndOfMessage(False, 66)


def test_one_byte_more_is_rejected_at_the_limit() -> None:
    err = same_error_every_way(head_of(67), max_head_bytes=64)
    assert (err.message, err.offset, err.rule) == (
        "the header section is larger than 64 bytes (max_head_bytes)", 64, "limit: MAX_HEAD_BYTES",
    )
    assert error_of(head_of(67), [head_of(67)[:20], head_of(67)[20:]], max_head_bytes=64).state == "fields"
    err = error_of(b"HTTP/1.1 200 " + b"a" * 60, max_head_bytes=64)  # no line end yet
    assert (err.offset, err.state, err.received) == (64, "status line", b"HTTP/1.1 200 " + b"a" * 60)


def test_the_default_head_limit_is_64_kib() -> None:
    ok = head_of(65536 + 2)
    assert run(ok)[-1] == EndOfMessage(False, 65538)
    for pieces in ([head_of(65539)], [head_of(65539)[:30000], head_of(65539)[30000:]]):
        err = error_of(head_of(65539), pieces)
        assert (err.offset, err.message) == (65536, "the header section is larger than 65536 bytes (max_head_bytes)")


def test_the_head_limit_counts_from_the_final_head_after_an_interim_one() -> None:
    interim = b"HTTP/1.1 100 Continue\r\n\r\n"  # 25 bytes
    assert run(interim + head_of(66), max_head_bytes=64)[-1] == EndOfMessage(False, 91)
    err = same_error_every_way(interim + head_of(67), max_head_bytes=64)
    assert err.offset == 25 + 64


def fields(n: int) -> bytes:
    return b"".join(b"F%d: %d\r\n" % (i, i) for i in range(n))


def test_max_fields_are_accepted_one_more_is_not() -> None:
    data = H + fields(3) + b"\r\n"
    assert [type(e) for e in run(data, max_fields=3)].count(Field) == 3
    err = same_error_every_way(H + fields(4) + b"\r\n", max_fields=3)
    assert (err.message, err.offset, err.rule) == (
        "more than 3 header fields (max_fields)", 17 + len(fields(3)), "limit: MAX_FIELDS",
    )
    # A bad line after the limit is not reached; a bad line at or before it is named instead.
    err = same_error_every_way(H + fields(4) + b"bad\r\n\r\n", max_fields=3)
    assert (err.message, err.offset) == ("more than 3 header fields (max_fields)", 17 + len(fields(3)))
    err = same_error_every_way(H + fields(3) + b"bad\r\n\r\n", max_fields=3)
    assert (err.message, err.offset) == ("a line with no colon in the header section: b'bad'", 17 + len(fields(3)))


def test_the_default_field_limit_is_100() -> None:
    assert [type(e) for e in run(H + fields(100) + b"\r\n")].count(Field) == 100
    err = error_of(H + fields(101) + b"\r\n")
    assert (err.message, err.offset) == ("more than 100 header fields (max_fields)", 17 + len(fields(100)))


def test_max_fields_applies_to_trailers_on_their_own() -> None:
    data = CHUNKED_HEAD + b"0\r\n" + fields(3) + b"\r\n"
    assert [type(e) for e in run(data, max_fields=3)].count(Trailer) == 3
    err = same_error_every_way(CHUNKED_HEAD + b"0\r\n" + fields(4) + b"\r\n", max_fields=3)
    assert (err.message, err.offset, err.rule, err.state) == (
        "more than 3 trailer fields (max_fields)", 50 + len(fields(3)), "limit: MAX_FIELDS", "trailer fields",
    )
    err = same_error_every_way(CHUNKED_HEAD + b"0\r\n" + fields(4) + b"x\r\n\r\n", max_fields=3)
    assert err.message == "more than 3 trailer fields (max_fields)"


def test_the_trailer_section_has_the_head_limit() -> None:
    # 50 bytes of head and last chunk, then trailers: "X: aaa...\r\n" + the final CRLF.
    ok = CHUNKED_HEAD + b"0\r\nX: " + b"a" * (64 - 5) + b"\r\n\r\n"
    assert run(ok, max_head_bytes=64)[-1] == EndOfMessage(True, len(ok))
    bad = CHUNKED_HEAD + b"0\r\nX: " + b"a" * (64 - 4) + b"\r\n\r\n"
    err = same_error_every_way(bad, max_head_bytes=64)
    assert (err.message, err.offset, err.rule, err.state) == (
        "the trailer section is larger than 64 bytes (max_head_bytes)", 50 + 64, "limit: MAX_HEAD_BYTES",
        "trailer fields",
    )


def test_an_endless_trailer_section_fails_at_the_limit_not_at_the_close() -> None:
    """A server that never ends its trailers is stopped once max_head_bytes are buffered (memory stays bounded)."""
    parser = ResponseParser(max_head_bytes=64)
    parser.feed(CHUNKED_HEAD + b"0\r\nX: ")
    with pytest.raises(ProtocolError) as info:
        for _ in range(100):  # bounded: the limit must fire long before
            parser.feed(b"a" * 16)
    assert (info.value.message, info.value.offset, info.value.rule) == (
        "the trailer section is larger than 64 bytes (max_head_bytes)", 50 + 64, "limit: MAX_HEAD_BYTES",
    )


def test_a_chunk_size_line_of_max_chunk_line_bytes_is_accepted() -> None:
    line = b"5;" + b"e" * 5 + b"\r\n"  # 9 bytes
    data = CHUNKED_HEAD + line + b"hello\r\n0\r\n\r\n"
    assert run(data, max_chunk_line_bytes=9)[3] == ChunkHeader(5, [("eeeee", None)], line, 47)
    err = same_error_every_way(CHUNKED_HEAD + b"5;" + b"e" * 6 + b"\r\nhello\r\n0\r\n\r\n", max_chunk_line_bytes=9)
    assert (err.message, err.offset, err.rule, err.state) == (
        "a chunk size line longer than 9 bytes (max_chunk_line_bytes)", 47 + 9, "limit: MAX_CHUNK_LINE_BYTES",
        "chunk size line",
    )


def test_the_default_chunk_line_limit_is_4_kib() -> None:
    line = b"0" * 4094 + b"\r\n"
    assert run(CHUNKED_HEAD + line + b"\r\n")[3] == ChunkHeader(0, [], line, 47)
    err = error_of(CHUNKED_HEAD + b"0" + line + b"\r\n")
    assert (err.offset, err.message) == (47 + 4096, "a chunk size line longer than 4096 bytes (max_chunk_line_bytes)")


def test_content_length_up_to_max_body_size() -> None:
    assert run(H + b"Content-Length: 10\r\n\r\n" + b"x" * 10, max_body_size=10)[-1] == EndOfMessage(True, 49)
    assert run(H + b"Content-Length: 0010\r\n\r\n" + b"x" * 10, max_body_size=10)[-1] == EndOfMessage(True, 51)
    err = same_error_every_way(H + b"X: 1\r\nContent-Length: 11\r\n\r\n", max_body_size=10)
    assert (err.message, err.offset, err.rule) == (
        "Content-Length 11 is larger than 10 (max_body_size)", 23, "limit: MAX_BODY_SIZE",
    )
    err = same_error_every_way(H + b"X: 1\r\nContent-Length: 99\r\n\r\n", max_body_size=10)
    assert err.message == "Content-Length 99 is larger than 10 (max_body_size)"  # as many digits: compared
    err = same_error_every_way(H + b"X: 1\r\nContent-Length: 151\r\n\r\n", max_body_size=150)
    assert err.message == "Content-Length 151 is larger than 150 (max_body_size)"
    err = same_error_every_way(H + b"X: 1\r\nContent-Length: 100\r\n\r\n", max_body_size=10)
    assert (err.message, err.offset, err.rule) == (
        "Content-Length of 3 digits is larger than 10 (max_body_size)", 23, "limit: MAX_BODY_SIZE",
    )


def test_the_default_max_body_size_is_the_largest_signed_64_bit_integer() -> None:
    parser = ResponseParser()
    events = parser.feed(H + b"Content-Length: 9223372036854775807\r\n\r\n")
    assert events[-1] == EndOfHead(Framing.CONTENT_LENGTH, 2**63 - 1, False, b"\r\n", 54)
    err = error_of(H + b"Content-Length: 9223372036854775808\r\n\r\n")
    assert err.message == "Content-Length 9223372036854775808 is larger than 9223372036854775807 (max_body_size)"
    err = error_of(H + b"Content-Length: " + b"9" * 5000 + b"\r\n\r\n")  # int() would refuse 5000 digits
    assert err.message == "Content-Length of 5000 digits is larger than 9223372036854775807 (max_body_size)"
    parser = ResponseParser()
    assert parser.feed(CHUNKED_HEAD + b"7fffffffffffffff\r\n")[-1].size == 2**63 - 1  # type: ignore[attr-defined]
    err = error_of(CHUNKED_HEAD + b"8000000000000000\r\n")
    assert (err.message, err.offset, err.rule) == (
        "chunk size 0x8000000000000000 is larger than 9223372036854775807 (max_body_size)", 47,
        "limit: MAX_BODY_SIZE",
    )


def test_a_chunk_size_over_max_body_size() -> None:
    assert run(CHUNKED_HEAD + b"a\r\n0123456789\r\n0\r\n\r\n", max_body_size=10)[4] == Data(b"0123456789", 50)
    err = same_error_every_way(CHUNKED_HEAD + b"00000000000000000000000b\r\n", max_body_size=10)
    assert (err.message, err.offset, err.state) == (
        "chunk size 0x00000000000000000000 is larger than 10 (max_body_size)", 47, "chunk size line",
    )


# --- the close: what each state says when the peer closes early (RFC 9112 §8) ---

EARLY_CLOSES = [
    # (bytes before the close, message, state)
    (b"", "the connection closed before any response byte arrived", "status line"),
    (b"HTTP/1.1 2", "the connection closed inside the header section (10 bytes of head so far)", "status line"),
    (H + b"X: 1\r\n", "the connection closed inside the header section (23 bytes of head so far)", "fields"),
    (b"HTTP/1.1 100 Continue\r\n\r\n", "the connection closed inside the header section (0 bytes of head so far)",
     "status line"),
    (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n",
     "the connection closed inside the header section (17 bytes of head so far)", "fields"),
    (H + b"Content-Length: 10\r\n\r\nabc", "the connection closed after 3 of 10 body bytes (Content-Length)",
     "body (Content-Length)"),
    (H + b"Content-Length: 10\r\n\r\n", "the connection closed after 0 of 10 body bytes (Content-Length)",
     "body (Content-Length)"),
    (CHUNKED_HEAD, "the connection closed inside the chunked body (in the chunk size line)", "chunk size line"),
    (CHUNKED_HEAD + b"1", "the connection closed inside the chunked body (in the chunk size line)", "chunk size line"),
    (CHUNKED_HEAD + b"5\r\nhe", "the connection closed inside chunk data (3 bytes of the chunk missing)", "chunk data"),
    (CHUNKED_HEAD + b"5\r\n", "the connection closed inside chunk data (5 bytes of the chunk missing)", "chunk data"),
    (CHUNKED_HEAD + b"5\r\nhello", "the connection closed inside the chunked body (in the CRLF after chunk data)",
     "CRLF after chunk data"),
    (CHUNKED_HEAD + b"5\r\nhello\r", "the connection closed inside the chunked body (in the CRLF after chunk data)",
     "CRLF after chunk data"),
    (CHUNKED_HEAD + b"0\r\n", "the connection closed inside the chunked body (in the trailer fields)",
     "trailer fields"),
    (CHUNKED_HEAD + b"0\r\n\r", "the connection closed inside the chunked body (in the trailer fields)",
     "trailer fields"),
    (CHUNKED_HEAD + b"0\r\nX: 1\r\n", "the connection closed inside the chunked body (in the trailer fields)",
     "trailer fields"),
]


@parametrize("data,message,state", EARLY_CLOSES, ids=[plain_id(c[0][-12:]) for c in EARLY_CLOSES])
@parametrize("keep_body", [True, False])
def test_an_early_close_says_where(data: bytes, message: str, state: str, keep_body: bool) -> None:
    for pieces in ways(data) if data else [[]]:
        parser = ResponseParser(keep_body=keep_body)
        for piece in pieces:
            parser.feed(piece)
        assert parser.state.value == state
        with pytest.raises(wire.IncompleteMessage) as info:
            parser.feed_eof()
        err = info.value
        assert (err.message, err.offset, err.rule, err.state) == (
            message, len(data), "RFC 9112 §8: incomplete message", state,
        )
        assert parser.state is State.ERROR and parser.error is err
        if keep_body:
            assert err.received == data
    with pytest.raises(wire.IncompleteMessage):
        wire.parse_response(data)


def test_without_the_body_an_early_close_keeps_the_head_and_the_unread_bytes() -> None:
    parser = ResponseParser(keep_body=False)
    parser.feed(CHUNKED_HEAD + b"5\r\nhello\r\n3;x\r\nab")
    with pytest.raises(wire.IncompleteMessage) as info:
        parser.feed_eof()
    assert info.value.received == CHUNKED_HEAD  # the body bytes were handed on, not kept
    parser = ResponseParser(keep_body=False)
    parser.feed(CHUNKED_HEAD + b"5\r\nhello\r\n3;x")  # a size line still being read
    with pytest.raises(wire.IncompleteMessage) as info:
        parser.feed_eof()
    assert info.value.received == CHUNKED_HEAD + b"3;x"


def test_a_body_until_close_ends_at_the_close() -> None:
    data = H + b"X: 1\r\n\r\nsome body"
    assert same_events_every_way(data) == [
        StatusLine("HTTP/1.1", 200, "OK", H, 0),
        Field("X", "1", b"X: 1\r\n", 17),
        EndOfHead(Framing.UNTIL_CLOSE, None, False, b"\r\n", 23),
        Data(b"some body", 25),
        EndOfMessage(False, 34),
    ]
    parser = ResponseParser()
    parser.feed(data)
    assert parser.state is State.BODY_UNTIL_CLOSE and parser.response is None
    assert parser.feed(b"") == []
    assert parser.feed_eof() == [EndOfMessage(False, 34)]
    assert parser.feed_eof() == []  # done: a second close adds nothing
    resp = parser.response
    assert resp is not None and resp.body == b"some body" and resp.raw == data and not resp.keep_alive
    assert resp.framing is Framing.UNTIL_CLOSE


# --- after the end of a response ---


def test_bytes_after_a_kept_alive_response_are_kept_for_the_next_one() -> None:
    data = H + b"Content-Length: 2\r\n\r\nok"
    for extra in ([b"HTTP/1.1 2"], [b"HTTP", b"/1.1 2"]):
        parser = ResponseParser()
        assert parser.feed(data + extra[0])[-1] == EndOfMessage(True, 40)
        for piece in extra[1:]:
            assert parser.feed(piece) == []
        assert parser.trailing_data == b"HTTP/1.1 2" and parser.state is State.DONE
        assert parser.response is not None and parser.response.raw == data and parser.response.body == b"ok"
        assert parser.feed_eof() == []


@parametrize(
    "data",
    [
        H + b"Connection: close\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ],
)
def test_bytes_after_the_last_response_on_a_closing_connection_are_an_error(data: bytes) -> None:
    for pieces in ([data + b"XY"], [data, b"XY"], [data + b"X", b"Y"]):
        parser = ResponseParser()
        with pytest.raises(wire.ProtocolError) as info:
            for piece in pieces:
                parser.feed(piece)
        err = info.value
        assert (err.message, err.offset, err.rule, err.state) == (
            "bytes arrived after the end of a response on a closing connection (the first: b'X')",
            len(data),
            "RFC 9112 §9.6: nothing follows the last response on a connection being closed",
            "done",
        )
        assert err.received in (data + b"XY", data + b"X")  # the response, then what came after it in that feed
        assert parser.state is State.ERROR and parser.error is err
        with pytest.raises(wire.ProtocolError) as again:
            parser.feed_eof()
        assert again.value is err


def test_parse_response_refuses_bytes_after_the_response() -> None:
    data = H + b"Content-Length: 2\r\n\r\nokHTTP"
    with pytest.raises(wire.ProtocolError) as info:
        wire.parse_response(data)
    err = info.value
    assert (err.message, err.offset, err.rule, err.received) == (
        "4 bytes follow the end of the response", 40, "RFC 9112 §9.6: one request, one response", data,
    )
    assert type(err) is wire.ProtocolError


# --- keep-alive (RFC 9112 §9.3) ---


@parametrize(
    "head,keep_alive",
    [
        (H, True),
        (H + b"Connection: close\r\n", False),
        (H + b"Connection: Close\r\n", False),
        (H + b"Connection: keep-alive, close\r\n", False),
        (H + b"Connection: upgrade\r\nConnection: close\r\n", False),
        (H + b"Connection: ,\t close ,\r\n", False),
        (H + b"Connection: closed\r\n", True),
        (H + b"Connection:\r\n", True),
        (H + b"Connection: upgrade\r\n", True),
        (b"HTTP/1.0 200 OK\r\n", False),
        (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n", True),
        (b"HTTP/1.0 200 OK\r\nconnection: Keep-Alive\r\n", True),
        (b"HTTP/1.0 200 OK\r\nConnection: foo, keep-alive\r\n", True),
        (b"HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\n", False),
        (b"HTTP/1.0 200 OK\r\nConnection: keep-alive-x\r\n", False),
        (b"HTTP/1.0 200 OK\r\nConnection:\r\n", False),
        (b"HTTP/1.0 200 OK\r\nKeep-Alive: timeout=5\r\n", False),
    ],
)
def test_keep_alive_follows_connection_and_version(head: bytes, keep_alive: bool) -> None:
    data = head + b"Content-Length: 2\r\n\r\nok"
    assert run(data)[-1] == EndOfMessage(keep_alive, len(data))
    assert wire.parse_response(data).keep_alive is keep_alive


@parametrize(
    "data,method",
    [
        (H + b"X: 1\r\n\r\nbody", "POST"),  # until close: the close ends it
        (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n", "GET"),
        (H + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", "POST"),  # flagged
    ],
)
def test_no_reuse_after_a_body_until_close_a_101_or_a_warning(data: bytes, method: str) -> None:
    events = run(data, request_method=method)
    assert events[-1] == EndOfMessage(False, len(data))
    assert wire.parse_response(data, request_method=method).keep_alive is False


# --- framing (RFC 9112 §6) ---


@parametrize(
    "status,method,framing",
    [
        (b"204 No Content", "POST", Framing.NONE),
        (b"304 Not Modified", "GET", Framing.NONE),
        (b"200 OK", "HEAD", Framing.NONE),
        (b"200 OK", "head", Framing.NONE),
        (b"200 Connection established", "CONNECT", Framing.NONE),
        (b"299 Odd", "CONNECT", Framing.NONE),
        (b"300 Multiple", "CONNECT", Framing.CONTENT_LENGTH),
        (b"407 Proxy Authentication Required", "CONNECT", Framing.CONTENT_LENGTH),
        (b"199 Odd", "CONNECT", Framing.NONE),
        (b"205 Reset Content", "POST", Framing.CONTENT_LENGTH),
        (b"200 OK", "GET", Framing.CONTENT_LENGTH),
        (b"303 See Other", "POST", Framing.CONTENT_LENGTH),
    ],
)
def test_which_replies_have_a_body(status: bytes, method: str, framing: Framing) -> None:
    no_length = status < b"200" or status.startswith(b"204")  # a server must not send one (RFC 9110 §8.6)
    head = b"HTTP/1.1 " + status + (b"\r\nX: 2\r\n\r\n" if no_length else b"\r\nContent-Length: 2\r\n\r\n")
    parser = ResponseParser(request_method=method)
    if framing is Framing.NONE:
        events = parser.feed(head)
        if status < b"200":
            assert events[-1] == EndOfHead(Framing.NONE, None, True, b"\r\n", len(head) - 2)
            assert parser.state is State.STATUS_LINE and parser.response is None
        else:
            assert events[-2:] == [
                EndOfHead(Framing.NONE, None, False, b"\r\n", len(head) - 2), EndOfMessage(True, len(head))
            ]
            assert parser.feed(b"ok") == [] and parser.trailing_data == b"ok"
    else:
        events = parser.feed(head + b"ok")
        assert events[-3:] == [
            EndOfHead(Framing.CONTENT_LENGTH, 2, False, b"\r\n", len(head) - 2),
            Data(b"ok", len(head)),
            EndOfMessage(True, len(head) + 2),
        ]
        assert parser.response is not None and parser.response.body == b"ok"


def test_content_length_zero_ends_the_message_at_its_head() -> None:
    data = H + b"Content-Length: 0\r\n\r\n"
    assert run(data)[-2:] == [EndOfHead(Framing.CONTENT_LENGTH, 0, False, b"\r\n", 36), EndOfMessage(True, 38)]
    resp = wire.parse_response(data)
    assert (resp.framing, resp.content_length, resp.body) == (Framing.CONTENT_LENGTH, 0, b"")


@parametrize(
    "value,length",
    [(b"5", 5), (b"005", 5), (b"5, 5", 5), (b"5,5", 5), (b"5 ,\t05", 5), (b"0", 0), (b"000", 0)],
)
def test_content_length_values_that_are_one_number(value: bytes, length: int) -> None:
    data = H + b"Content-Length: " + value + b"\r\n\r\n" + b"x" * length
    resp = wire.parse_response(data)
    assert (resp.content_length, resp.body) == (length, b"x" * length)


@parametrize("value", [b"+5", b"-1", b"5.0", b"0x5", b"", b"5,", b"\xb2", b"\xd9\xa3", b"5 5", b"1_0"])
def test_content_length_values_that_are_not_a_number(value: bytes) -> None:
    data = H + b"X: 1\r\nContent-Length: " + value + b"\r\n\r\n"
    err = same_error_every_way(data)
    assert err.message == f"Content-Length {value.decode('latin-1').strip()!r} is not a non-negative decimal number"
    assert (err.offset, err.rule) == (23, "RFC 9110 §8.6: Content-Length = 1*DIGIT")


def test_differing_content_lengths_are_fatal() -> None:
    err = same_error_every_way(H + b"Content-Length: 3\r\nX: 1\r\nContent-Length: 03, 2\r\n\r\n")
    assert (err.message, err.offset, err.rule) == (
        "conflicting Content-Length values [2, 3]", 42,
        "RFC 9110 §8.6: Content-Length = 1*DIGIT; RFC 9112 §6.3 rule 5: an unrecoverable framing error",
    )


def test_transfer_encoding_with_content_length_is_chunked_and_flagged() -> None:
    data = H + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    resp = wire.parse_response(data)
    assert (resp.framing, resp.content_length, resp.keep_alive) == (Framing.CHUNKED, None, False)
    assert resp.warnings == [
        "both Transfer-Encoding and Content-Length were sent; Transfer-Encoding wins and the connection will not be "
        "reused (RFC 9112 §6.3 rule 3)"
    ]


@parametrize("value", [b"chunked", b"Chunked", b", chunked", b"chunked ,", b"CHUNKED"])
def test_chunked_spelled_any_way(value: bytes) -> None:
    data = H + b"Transfer-Encoding: " + value + b"\r\n\r\n2\r\nok\r\n0\r\n\r\n"
    resp = wire.parse_response(data)
    assert (resp.framing, resp.body, resp.warnings, resp.keep_alive) == (Framing.CHUNKED, b"ok", [], True)


TE_RULE = "RFC 9112 §7.4: without a TE field in the request, chunked is the only acceptable transfer coding"
BAD_TRANSFER_ENCODINGS = [
    # (fields, message, offset, rule)
    (b"Transfer-Encoding: gzip\r\n", "the final transfer coding is not chunked (gzip)", 17,
     TE_RULE),
    (b"Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", "the final transfer coding is not chunked "
     "(chunked, gzip)", 45, TE_RULE),
    (b"Transfer-Encoding:\r\n", "the final transfer coding is not chunked (empty)", 17,
     TE_RULE),
    (b"Transfer-Encoding: ,\r\n", "the final transfer coding is not chunked (empty)", 17,
     TE_RULE),
    (b"Transfer-Encoding: gzip, chunked\r\n", "unsupported transfer coding 'gzip': wire sends no TE field, so only "
     "chunked may be used", 17, TE_RULE),
    (b"X: 1\r\nTransfer-Encoding: Deflate\r\nTransfer-Encoding: chunked\r\n", "unsupported transfer coding "
     "'deflate': wire sends no TE field, so only chunked may be used", 23, TE_RULE),
]


@parametrize("fields,message,offset,rule", BAD_TRANSFER_ENCODINGS)
def test_a_bad_transfer_encoding_is_named(fields: bytes, message: str, offset: int, rule: str) -> None:
    err = same_error_every_way(H + fields + b"\r\n0\r\n\r\n")
    assert (err.message, err.offset, err.rule) == (message, offset, rule)


def test_transfer_encoding_in_an_http_1_0_response_is_faulty() -> None:
    err = same_error_every_way(b"HTTP/1.0 200 OK\r\nX: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    assert (err.message, err.offset, err.rule) == (
        "Transfer-Encoding in an HTTP/1.0 response", 23, "RFC 9112 §6.1: treat the framing as faulty",
    )


@parametrize("status", [b"100 Continue", b"101 Switching Protocols", b"204 No Content", b"199 X"])
def test_framing_fields_on_1xx_and_204_are_flagged_with_the_first_field(status: bytes) -> None:
    code = int(status[:3])
    head = b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\nContent-Length: 0\r\nTransfer-Encoding: a\r\n\r\n"
    parser = ResponseParser()
    parser.feed(head)
    resp = parser.response if code >= 200 or code == 101 else None
    if resp is None:
        parser.feed(H + b"Content-Length: 0\r\n\r\n")
        resp = parser.response
    assert resp is not None and resp.keep_alive is False
    assert resp.warnings == [
        f"a {code} reply carries Content-Length: 0, which a server must not send with this status; the reply has no "
        "body and the connection will not be reused (RFC 9110 §8.6)",
        f"a {code} reply carries Transfer-Encoding: a, which a server must not send with this status; the reply has "
        "no body and the connection will not be reused (RFC 9112 §6.1)",
    ]


@parametrize("status", [b"200 OK", b"205 Reset", b"304 Not Modified"])
def test_framing_fields_on_other_replies_without_a_body_are_not_flagged(status: bytes) -> None:
    data = b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\n\r\n"
    resp = wire.parse_response(data, request_method="HEAD")
    assert resp.warnings == [] and resp.keep_alive is True


# --- chunked framing (RFC 9112 §7.1) ---

CHUNK_RULE = "RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF"
EXT_RULE = 'RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] )'


@parametrize("byte", range(256))
def test_each_byte_as_a_chunk_size(byte: int) -> None:
    data = CHUNKED_HEAD + b"1" + bytes([byte]) + b"\r\n" + b"x" * 32 + b"\r\n0\r\n\r\n"
    if byte in b"0123456789abcdefABCDEF":
        size = int(b"1" + bytes([byte]), 16)
        events = run(CHUNKED_HEAD + b"1" + bytes([byte]) + b"\r\n" + b"x" * size + b"\r\n0\r\n\r\n")
        assert events[3] == ChunkHeader(size, [], b"1" + bytes([byte]) + b"\r\n", 47)
        return
    if byte in b" \t;\r":
        return  # BWS, an extension, or the line end: see the tests below
    err = error_of(data)
    if byte == 0x0A:
        assert (err.message, err.offset, err.rule) == ("the chunk size line ends in a bare LF, not CRLF", 48, CHUNK_RULE)
    else:
        got = bytes([byte]) + b"\r\n"
        assert err.message == f"invalid chunk extension after the chunk size (got {got!r})"
        assert (err.offset, err.rule, err.state) == (48, EXT_RULE, "chunk size line")


@parametrize(
    "line,message,offset,rule",
    [
        (b"x\r\n", "the chunk size is not a hexadecimal number (got b'x\\r\\n')", 47, CHUNK_RULE),
        (b"-1\r\n", "the chunk size is not a hexadecimal number (got b'-1\\r\\n')", 47, CHUNK_RULE),
        (b" 1\r\n", "the chunk size is not a hexadecimal number (got b' 1\\r\\n')", 47, CHUNK_RULE),
        (b"\r\n", "the chunk size is not a hexadecimal number (got b'\\r\\n')", 47, CHUNK_RULE),
        (b"0x" + b"1" * 30 + b"\r\n", "invalid chunk extension after the chunk size (got b'x" + "1" * 29 + "')", 48,
         EXT_RULE),
        (b"g" * 30 + b"\r\n", "the chunk size is not a hexadecimal number (got b'" + "g" * 20 + "')", 47, CHUNK_RULE),
        (b"1\n", "the chunk size line ends in a bare LF, not CRLF", 48, CHUNK_RULE),
        (b"1;a=1\n", "the chunk size line ends in a bare LF, not CRLF", 52, CHUNK_RULE),
        (b"1\r\r\n", "invalid chunk extension after the chunk size (got b'\\r\\r\\n')", 48, EXT_RULE),
        (b"1;\r\n", "invalid chunk extension after the chunk size (got b';\\r\\n')", 48, EXT_RULE),
        (b"1;a=\r\n", "invalid chunk extension after the chunk size (got b';a=\\r\\n')", 48, EXT_RULE),
        (b"1;a=\"x\r\n", "invalid chunk extension after the chunk size (got b';a=\"x\\r\\n')", 48, EXT_RULE),
        (b"1;a b\r\n", "invalid chunk extension after the chunk size (got b';a b\\r\\n')", 48, EXT_RULE),
        (b"1;@\r\n", "invalid chunk extension after the chunk size (got b';@\\r\\n')", 48, EXT_RULE),
        (b"1 \r\n", "invalid chunk extension after the chunk size (got b' \\r\\n')", 48, EXT_RULE),
    ],
)
def test_a_bad_chunk_size_line_is_named(line: bytes, message: str, offset: int, rule: str) -> None:
    err = same_error_every_way(CHUNKED_HEAD + line + b"x\r\n0\r\n\r\n")
    assert (err.message, err.offset, err.rule) == (message, offset, rule)


@parametrize(
    "line,extensions",
    [
        (b"1;a\r\n", [("a", None)]),
        (b"1 ;a\r\n", [("a", None)]),
        (b"1\t; \ta \t= \tb\r\n", [("a", "b")]),
        (b"1;a=b;c;d=\"e;f\"\r\n", [("a", "b"), ("c", None), ("d", '"e;f"')]),
        (b'1;q=""\r\n', [("q", '""')]),
        (b'1;q="\\\\\\"\t\x80"\r\n', [("q", '"\\\\\\"\t\x80"')]),  # quoted-pairs, HTAB and obs-text
        (b"1;" + TCHAR + b"=" + TCHAR + b"\r\n", [(TCHAR.decode(), TCHAR.decode())]),
        (b"A;x\r\n", [("x", None)]),
    ],
)
def test_chunk_extensions_are_kept_in_order(line: bytes, extensions: list[tuple[str, str | None]]) -> None:
    size = int(line[:1], 16)
    data = CHUNKED_HEAD + line + b"x" * size + b"\r\n0\r\n\r\n"
    events = same_events_every_way(data)
    assert events[3] == ChunkHeader(size, extensions, line, 47)
    assert events[4:6] == [Data(b"x" * size, 47 + len(line)), ChunkEnd(47 + len(line) + size)]


@parametrize(
    "after,message,offset",
    [
        (b"X\r\n0\r\n\r\n", "chunk data not followed by CRLF (got b'X' where CR belongs)", 51),
        (b"\n0\r\n\r\n", "chunk data not followed by CRLF (got b'\\n' where CR belongs)", 51),
        (b"\rX0\r\n\r\n", "chunk data not followed by CRLF (got b'\\rX')", 52),
        (b"\r\r\n0\r\n\r\n", "chunk data not followed by CRLF (got b'\\r\\r')", 52),
    ],
)
def test_chunk_data_must_end_in_crlf(after: bytes, message: str, offset: int) -> None:
    err = same_error_every_way(CHUNKED_HEAD + b"1\r\nx" + after)
    assert (err.message, err.offset, err.rule, err.state) == (
        message, offset, "RFC 9112 §7.1: chunk-data CRLF", "CRLF after chunk data",
    )


@parametrize(
    "end",
    [b"\r\n", b"\n", b"X: 1\r\n\r\n", b"X: 1\n\n", b"X: 1\r\n\n", b"X:1\nY: 2 \r\n\r\n"],
)
def test_the_trailer_section_ends_with_an_empty_line_crlf_or_lf(end: bytes) -> None:
    data = CHUNKED_HEAD + b"0\r\n" + end
    events = same_events_every_way(data)
    assert events[-1] == EndOfMessage(True, len(data))
    trailers = [e for e in events if isinstance(e, Trailer)]
    assert [(t.name, t.value) for t in trailers] == [("X", "1"), ("Y", "2")][: len(trailers)]
    assert len(trailers) == end.count(b":")
    resp = wire.parse_response(data)
    assert resp.raw == data and resp.trailers == [(t.name, t.value) for t in trailers]


def test_a_trailer_section_split_after_its_cr_waits_for_the_lf() -> None:
    parser = ResponseParser()
    assert parser.feed(CHUNKED_HEAD + b"0\r\n\r")[-1] == ChunkHeader(0, [], b"0\r\n", 47)
    assert parser.state is State.TRAILERS
    assert parser.feed(b"\n") == [EndOfMessage(True, 52)]


def test_a_bare_cr_ends_no_trailer_section() -> None:
    err = same_error_every_way(CHUNKED_HEAD + b"0\r\n\rX\r\n\r\n")
    assert (err.message, err.offset, err.rule) == ("bare CR (a CR not followed by LF)", 50, "RFC 9112 §2.2")


# --- interim (1xx) replies (RFC 9110 §15.2) ---


def test_interim_replies_come_before_the_final_one() -> None:
    one = b"HTTP/1.1 100 Continue\r\n\r\n"  # 25 bytes
    two = b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"  # 40 bytes
    final = H + b"Content-Length: 2\r\n\r\nok"
    data = one + two + final
    events = same_events_every_way(data)
    assert events[:2] == [
        StatusLine("HTTP/1.1", 100, "Continue", one[:-2], 0), EndOfHead(Framing.NONE, None, True, b"\r\n", 23)
    ]
    assert events[2:5] == [
        StatusLine("HTTP/1.1", 103, "Early Hints", two[:26], 25),
        Field("Link", "</a>", b"Link: </a>\r\n", 51),
        EndOfHead(Framing.NONE, None, True, b"\r\n", 63),
    ]
    assert events[-1] == EndOfMessage(True, len(data))
    for keep_body in (True, False):
        parser = ResponseParser(keep_body=keep_body)
        parser.feed(data)
        resp = parser.response
        assert resp is not None and resp.status == 200 and resp.body == (b"ok" if keep_body else b"")
        assert resp.raw == (data if keep_body else one + two + final[:-2])
        assert (resp.head, resp.head_offset, resp.head_end) == (final[:-2], 65, 65 + 38)
        assert [(r.status, r.raw, r.head_offset, r.headers, r.framing) for r in resp.informational] == [
            (100, one, 0, [], Framing.NONE),
            (103, two, 25, [("Link", "</a>")], Framing.NONE),
        ]
        assert [r.informational for r in resp.informational] == [[], []]


# --- more exact diagnostics ---


@parametrize(
    "fields,message,offset",
    [
        (b"A@: a:b\r\n", "field name b'A@' is not a token in the header section", 18),  # the first colon ends the name
        (b"ab@c: v\r\n", "field name b'ab@c' is not a token in the header section", 19),  # lower case is tchar
        (b"zz\x7f: v\r\n", "field name b'zz\\x7f' is not a token in the header section", 19),
        (b"B:\x01x\x02\r\n", "control character b'\\x01' in the value of field 'B'", 19),  # the first bad byte
        (b"B: x:\x00\r\n", "NUL in the value of field 'B'", 22),
        (b"B: x\ry\rz\r\n", "bare CR (a CR not followed by LF)", 21),  # the first of two bare CRs
    ],
)
def test_the_first_bad_byte_of_a_field_line_is_named(fields: bytes, message: str, offset: int) -> None:
    err = same_error_every_way(H + fields + b"\r\n")
    assert (err.message, err.offset) == (message, offset)


@parametrize(
    "line,message,offset",
    [
        (b"A\n", "the chunk size line ends in a bare LF, not CRLF", 48),
        (b"a\n", "the chunk size line ends in a bare LF, not CRLF", 48),
        (b"Fg\r\n", "invalid chunk extension after the chunk size (got b'g\\r\\n')", 48),
        (b"fG\r\n", "invalid chunk extension after the chunk size (got b'G\\r\\n')", 48),
    ],
)
def test_upper_and_lower_case_hex_digits_in_a_bad_chunk_size_line(line: bytes, message: str, offset: int) -> None:
    err = same_error_every_way(CHUNKED_HEAD + line + b"x\r\n0\r\n\r\n")
    assert (err.message, err.offset) == (message, offset)


def test_the_first_framing_trailer_by_position_is_named() -> None:
    data = CHUNKED_HEAD + b"0\r\nX: 1\r\nContent-Length: 1\r\nTransfer-Encoding: x\r\n\r\n"
    err = same_error_every_way(data)
    assert (err.message, err.offset) == (
        "Content-Length in the trailer section: a field that frames the message cannot come after the body", 56,
    )


def test_only_sp_and_htab_are_trimmed_from_a_field_value() -> None:
    """OWS is SP and HTAB (RFC 9110 §5.6.3); obs-text such as NEL (0x85) and NBSP (0xA0) is part of the value,
    though Python's str.strip() would take both."""
    data = b"HTTP/1.1 200 OK\r\nX-A: \t\xa0a\x85 \r\nX-B:\x85\r\nContent-Length: 0\r\n\r\n"
    response = wire.parse_response(data)
    assert response.headers == [("X-A", "\xa0a\x85"), ("X-B", "\x85"), ("Content-Length", "0")]
