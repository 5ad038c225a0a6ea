"""Framing fields where no body follows, in trailers, and chunked twice (issue 10, section 4).

Each error is checked for its type, message, rule and byte offset, and to be
the same however the bytes are split into feeds.
"""

from __future__ import annotations

import pytest
from feeding import run, same_error_every_way

import wire
from wire.http11 import EndOfMessage, Framing, ResponseParser

CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"  # 47 bytes


def error_whatever_the_split(data: bytes, request_method: str = "POST") -> wire.ProtocolError:
    """The same error however ``data`` is split, and never merely an early close."""
    first = same_error_every_way(data, request_method=request_method)
    assert not isinstance(first, wire.IncompleteMessage), first
    return first


# --- Content-Length is checked whatever the status (RFC 9110 §8.6) ---

BAD_CONTENT_LENGTH = [
    # (name, bytes, request method, error offset, words in the message)
    ("204 CL x", b"HTTP/1.1 204 No Content\r\nContent-Length: x\r\n\r\n", "POST", 25, "not a non-negative decimal"),
    ("304 CL -1", b"HTTP/1.1 304 Not Modified\r\nContent-Length: -1\r\n\r\n", "GET", 27, "not a non-negative"),
    (
        "304 differing CL",
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "GET",
        46,
        "conflicting Content-Length values [1, 2]",
    ),
    ("304 CL list differing", b"HTTP/1.1 304 NM\r\nContent-Length: 7, 8\r\n\r\n", "GET", 17, "conflicting"),
    ("100 CL x", b"HTTP/1.1 100 Continue\r\nContent-Length: x\r\n\r\n", "POST", 23, "not a non-negative decimal"),
    (
        "HEAD differing CL",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nContent-Length: 11\r\n\r\n",
        "HEAD",
        37,
        "conflicting Content-Length values [10, 11]",
    ),
]


@pytest.mark.parametrize("name,data,method,offset,words", BAD_CONTENT_LENGTH, ids=[c[0] for c in BAD_CONTENT_LENGTH])
def test_invalid_content_length_is_an_error_on_replies_without_body(
    name: str, data: bytes, method: str, offset: int, words: str
) -> None:
    err = error_whatever_the_split(data, method)
    assert words in err.message and err.offset == offset, str(err)
    assert "RFC 9110 §8.6" in (err.rule or "")


@pytest.mark.parametrize(
    "data,method",
    [
        (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n", "GET"),
        (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\nContent-Length: 1234, 01234\r\n\r\n", "GET"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", "HEAD"),
        (b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "GET"),  # RFC 9112 §6.1
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "HEAD"),
    ],
)
def test_valid_framing_fields_on_304_and_head_replies_are_accepted(data: bytes, method: str) -> None:
    # RFC 9110 §8.6: a 304 may carry the Content-Length of the 200, a HEAD reply that of the GET.
    events = run(data, request_method=method)
    assert events[-1] == EndOfMessage(True, len(data))
    resp = wire.parse_response(data, request_method=method)
    assert resp.framing is Framing.NONE and resp.body == b"" and resp.warnings == [] and resp.keep_alive


@pytest.mark.parametrize(
    "data,field,section",
    [
        (b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", "Content-Length: 0", "RFC 9110 §8.6"),
        (
            b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
            "Transfer-Encoding: chunked",
            "RFC 9112 §6.1",
        ),
    ],
)
def test_framing_field_on_a_204_is_flagged_and_the_connection_not_reused(data: bytes, field: str, section: str) -> None:
    # The message still ends with its head (RFC 9112 §6.3 rule 1). A server that sends such a
    # field may send a body too ("0\r\n\r\n" here): on a connection not reused, that is an error,
    # not the start of the next response.
    parser = ResponseParser()
    assert parser.feed(data)[-1] == EndOfMessage(False, len(data))
    with pytest.raises(wire.ProtocolError, match="after the end of a response"):
        parser.feed(b"0\r\n\r\n")
    resp = parser.response
    assert resp is not None and resp.framing is Framing.NONE and not resp.keep_alive
    assert resp.warnings == [
        f"a 204 reply carries {field}, which a server must not send with this status; the reply has no body "
        f"and the connection will not be reused ({section})"
    ]


def test_content_length_on_an_interim_reply_is_flagged_on_the_final_one() -> None:
    data = b"HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    resp = wire.parse_response(data)
    assert resp.body == b"ok" and resp.informational[0].warnings == []
    assert resp.warnings == [
        "a 100 reply carries Content-Length: 0, which a server must not send with this status; the reply has no "
        "body and the connection will not be reused (RFC 9110 §8.6)"
    ]
    assert not resp.keep_alive


def test_a_tunnel_reply_to_connect_ignores_its_framing_fields() -> None:
    # RFC 9112 §6.3 rule 2: "A client MUST ignore any Content-Length or Transfer-Encoding header
    # fields received in such a message" (a 2xx reply to CONNECT).
    data = b"HTTP/1.1 200 Connection established\r\nContent-Length: x\r\nTransfer-Encoding: gzip\r\n\r\n"
    assert run(data, request_method="CONNECT")[-1] == EndOfMessage(True, len(data))


# --- framing fields in the trailer section (RFC 9110 §6.5.1) ---

BAD_TRAILERS = [
    # (the field name as sent, bytes, error offset)
    ("Content-Length", CHUNKED_HEAD + b"5\r\nhello\r\n0\r\nContent-Length: 5\r\n\r\n", 60),
    ("transfer-encoding", CHUNKED_HEAD + b"0\r\nExpires: never\r\ntransfer-encoding: chunked\r\n\r\n", 66),
    ("content-length", CHUNKED_HEAD + b"0\r\nX: 1\ncontent-length: 0\n\n", 55),  # trailer lines ending in bare LF
]


@pytest.mark.parametrize("name,data,offset", BAD_TRAILERS)
def test_framing_field_in_the_trailer_section_is_rejected(name: str, data: bytes, offset: int) -> None:
    err = error_whatever_the_split(data)
    assert err.offset == offset, str(err)
    assert err.message == f"{name} in the trailer section: a field that frames the message cannot come after the body"
    assert err.rule == (
        "RFC 9110 §6.5.1: fields that describe message framing cannot be processed outside the header section"
    )


def test_other_trailers_are_still_kept() -> None:
    resp = wire.parse_response(CHUNKED_HEAD + b"0\r\nExpires: never\r\nContent-MD5: x\r\n\r\n")
    assert resp.trailers == [("Expires", "never"), ("Content-MD5", "x")]


# --- chunked applied twice (RFC 9112 §6.1) ---


@pytest.mark.parametrize(
    "data,offset,listed",
    [
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 17, "chunked, chunked"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            45,
            "chunked, chunked",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip, chunked\r\n\r\n0\r\n\r\n",
            17,
            "chunked, gzip, chunked",
        ),
    ],
)
def test_chunked_applied_twice_names_the_rule(data: bytes, offset: int, listed: str) -> None:
    err = error_whatever_the_split(data)
    assert err.offset == offset
    assert err.message == f"chunked is applied more than once (Transfer-Encoding lists it 2 times: {listed})"
    assert err.rule == "RFC 9112 §6.1: a sender MUST NOT apply the chunked transfer coding more than once"
    assert "unsupported" not in str(err)
