"""Obsolete line folding in a response: unfolded, as RFC 9112 §5.2 requires of a user agent.

"A user agent that receives an obs-fold in a response message that is not
within a "message/http" container MUST replace each received obs-fold with
one or more SP octets prior to interpreting the field value." wire puts one
SP in place of each fold (with the whitespace around it), in the head and in
the trailers; the raw bytes stay as they came, and the annotated view says a
field was folded. A line that starts with whitespace right after the status
line folds nothing: RFC 9112 §2.2 lets a recipient reject it, and wire does.
"""

from __future__ import annotations

import json
import re

import h11
from feeding import run, same_error_every_way, ways
from hypothesis import given, settings
from hypothesis import strategies as st
from rawserver import RawServer

import wire
from wire.client import Client
from wire.http11 import Field, Trailer
from wire.show import annotated_view

H = b"HTTP/1.1 200 OK\r\n"  # 17 bytes
CHUNKED_HEAD = H + b"Transfer-Encoding: chunked\r\n\r\n"  # 47 bytes
KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"


def test_a_folded_field_is_one_field_with_one_sp_per_fold() -> None:
    folded = b"X-Note: first  \r\n \t second\r\n\tthird \r\n"
    data = H + folded + b"Content-Length: 0\r\n\r\n"
    for pieces in ways(data):
        events = run(data, pieces)
        assert events[1] == Field("X-Note", "first second third", folded, 17)
        assert events[2] == Field("Content-Length", "0", b"Content-Length: 0\r\n", 17 + len(folded))
    assert events[1].folded and not events[2].folded
    resp = wire.parse_response(data)
    assert resp.headers == [("X-Note", "first second third"), ("Content-Length", "0")]
    assert resp.raw == data and resp.head == data  # the bytes as they came


def test_a_fold_may_end_in_a_bare_lf_and_may_start_an_empty_value() -> None:
    # RFC 9112 §2.2 lets a recipient take a bare LF as a line end; wire does, in a fold too.
    data = H + b"A:\n  b\nB: c\r\n \r\nContent-Length: 0\r\n\r\n"
    assert wire.parse_response(data).headers == [("A", "b"), ("B", "c"), ("Content-Length", "0")]


def test_a_folded_trailer_is_unfolded_too() -> None:
    data = CHUNKED_HEAD + b"1\r\nx\r\n0\r\nT: a\r\n b\r\nU: c\r\n\r\n"
    for pieces in ways(data):
        trailers = [e for e in run(data, pieces) if isinstance(e, Trailer)]
        assert trailers == [Trailer("T", "a b", b"T: a\r\n b\r\n", 56), Trailer("U", "c", b"U: c\r\n", 66)]
    assert wire.parse_response(data).trailers == [("T", "a b"), ("U", "c")]


def test_a_folded_framing_field_frames_the_body_by_its_unfolded_value() -> None:
    # The value is interpreted only after unfolding (§5.2): "Content-Length:" CRLF SP "3" is 3.
    resp = wire.parse_response(H + b"Content-Length:\r\n 3\r\n\r\nabc")
    assert (resp.content_length, resp.body) == (3, b"abc")
    # "chunked" CRLF SP "abc" unfolds to "chunked abc", a final coding that is not chunked.
    err = same_error_every_way(H + b"Transfer-Encoding: chunked\r\n  abc\r\n\r\n0\r\n\r\n")
    assert err.message == "the final transfer coding is not chunked (chunked abc)"


def test_whitespace_right_after_the_status_line_is_rejected() -> None:
    # RFC 9112 §2.2: "A recipient that receives whitespace between the start-line and the first
    # header field MUST either reject the message as invalid or consume each whitespace-preceded
    # line without further processing of it". There is no field before it to fold into.
    err = same_error_every_way(H + b" X: 1\r\nContent-Length: 0\r\n\r\n")
    assert (err.message, err.offset, err.rule, err.state) == (
        "a line starting with whitespace right after the status line (no field before it to continue)",
        17,
        "RFC 9112 §2.2: whitespace between the start-line and the first header field is rejected",
        "fields",
    )
    err = same_error_every_way(CHUNKED_HEAD + b"0\r\n\tT: a\r\n\r\n")
    assert (err.message, err.offset, err.rule) == (
        "a line starting with whitespace at the start of the trailer section (no field before it to continue)",
        50,
        "RFC 9112 §7.1.2: trailer-section = *( field-line CRLF )",
    )


def test_a_folded_line_is_held_to_the_field_value_rules() -> None:
    err = same_error_every_way(H + b"A: b\r\n c\x00d\r\n\r\n")
    assert (err.message, err.offset) == ("NUL in the value of field 'A'", 25)
    err = same_error_every_way(H + b"A: b\r\n c\rd\r\n\r\n")
    assert (err.message, err.offset, err.rule) == ("bare CR (a CR not followed by LF)", 25, "RFC 9112 §2.2")


def test_a_folded_field_counts_once_toward_max_fields() -> None:
    data = H + b"A: 1\r\n 2\r\n 3\r\nB: 4\r\n\r\n"
    assert [type(e) for e in run(data, max_fields=2)].count(Field) == 2
    err = same_error_every_way(H + b"A: 1\r\n 2\r\nB: 3\r\nC: 4\r\n\r\n", max_fields=2)
    assert (err.message, err.offset) == ("more than 2 header fields (max_fields)", 17 + 16)


# --- the property: a folded value reads as the unfolded one ---

words = st.lists(st.text('abcxyz019-_.,;="/', min_size=1, max_size=6), min_size=1, max_size=6)
blank = st.text(" \t", max_size=3)  # OWS
fold = st.tuples(blank, st.sampled_from(["\r\n", "\n"]), st.text(" \t", min_size=1, max_size=3))  # OWS CRLF RWS


@settings(max_examples=200, deadline=None)
@given(words, st.data())
def test_a_folded_value_equals_the_unfolded_one(parts: list[str], data: st.DataObject) -> None:
    # Between two words: SP, or an obs-fold. Unfolding puts one SP for each fold (§5.2).
    value = parts[0]
    for word in parts[1:]:
        between = " " if not data.draw(st.booleans()) else "".join(data.draw(fold))
        value += between + word
    head = f"X-Folded: {value}\r\nContent-Length: 0\r\n\r\n".encode()
    unfolded = f"X-Folded: {' '.join(parts)}\r\nContent-Length: 0\r\n\r\n".encode()
    folded_resp, plain_resp = wire.parse_response(H + head), wire.parse_response(H + unfolded)
    assert folded_resp.headers == plain_resp.headers == [("X-Folded", " ".join(parts)), ("Content-Length", "0")]
    assert folded_resp.raw == H + head
    # In the trailers too.
    chunked = CHUNKED_HEAD + f"0\r\nX-Folded: {value}\r\n\r\n".encode()
    assert wire.parse_response(chunked).trailers == [("X-Folded", " ".join(parts))]


@settings(max_examples=100, deadline=None)
@given(words, st.data())
def test_h11_unfolds_to_the_same_words(parts: list[str], data: st.DataObject) -> None:
    # h11 (test-only) unfolds too, keeping the whitespace before each fold: equal once runs of
    # SP / HTAB are one SP (docs/h11-differences.md).
    value = parts[0] + "".join("".join(data.draw(fold)) + word for word in parts[1:])
    raw = H + f"X-Folded: {value}\r\nContent-Length: 0\r\n\r\n".encode()
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="POST", target="/", headers=[("Host", "x"), ("Content-Length", "0")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(raw)
    response = conn.next_event()
    assert isinstance(response, h11.Response)
    theirs = dict(response.headers.raw_items())[b"X-Folded"].decode()
    assert wire.parse_response(raw).header("X-Folded") == re.sub("[ \t]+", " ", theirs) == " ".join(parts)


# --- the views ---


def test_the_annotated_view_shows_the_fold_and_the_value_read() -> None:
    body = json.dumps(
        {
            "id": "c",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        }
    ).encode()
    head = H + b"X-Note: one\r\n two\r\nContent-Length: %d\r\n\r\n" % len(body)
    with RawServer(head + body) as server:
        exchange = Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=0).chat("Hi")
    assert exchange.completion is not None and exchange.completion.text == "hi"
    assert exchange.response.headers[0] == ("X-Note", "one two")
    lines = annotated_view(exchange).splitlines()
    assert lines[1] == "   17-35   folded field    X-Note: one\\r\\n two\\r\\n"
    assert lines[2] == "           (obs-fold: each fold read as one SP, RFC 9112 §5.2) X-Note: one two"
    assert lines[3].split()[1:3] == ["field", "Content-Length:"]  # not folded, not marked
