"""Field events made when asked for (issue 17): ``ResponseParser(field_events=False)``.

The Client reads a reply that is not streamed with a parser that makes no
``Field`` event per field line: they cost more than the rest of a head.
``add_field_events`` cuts them from the kept bytes when someone looks, and
they must be the very events the parser would have handed back, however the
bytes were split, for every kind of head: folded, interim 1xx, no fields,
a reply cut short.
"""

from __future__ import annotations

import pytest
from feeding import ways
from rawserver import RawServer

import wire
from wire.client import Client
from wire.http11 import EndOfHead, Event, Field, ResponseParser, StatusLine, Trailer

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"

REPLIES = {
    "content-length": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A:  spaced  \r\nContent-Length: 5\r\n\r\nhello",
    "chunked with trailers": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nx-id: 7\r\n\r\n5\r\nhello\r\n0\r\nx-checksum: abc\r\n\r\n"
    ),
    "bare LF and a fold": b"HTTP/1.1 200 OK\nX-Long: one\n  two\nConnection: close\nContent-Length: 2\n\nok",
    "interim 103, then 200": (
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
        b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n"
    ),
    "no fields": b"HTTP/1.1 204 No Content\r\n\r\n",
    "until close": b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\nthe rest",
}


def feed(pieces: list[bytes], **kw: bool) -> tuple[ResponseParser, list[Event]]:
    parser = ResponseParser(**kw)
    events: list[Event] = []
    for piece in pieces:
        events += parser.feed(piece)
    events += parser.feed_eof()
    return parser, events


@pytest.mark.parametrize("name", REPLIES)
def test_the_field_events_come_back_the_same_however_the_bytes_were_split(name: str) -> None:
    data = REPLIES[name]
    for pieces in ways(data):
        full, expected = feed(pieces)
        lean, events = feed(pieces, field_events=False)
        assert [e for e in events if type(e) is Field] == []
        assert [e for e in events if type(e) is Trailer] == [e for e in expected if type(e) is Trailer]
        assert events == [e for e in expected if type(e) is not Field]
        assert full.response is not None and lean.response is not None
        assert lean.response.headers == full.response.headers
        assert (lean.response.status, lean.response.body, lean.response.raw, lean.response.trailers) == (
            full.response.status,
            full.response.body,
            full.response.raw,
            full.response.trailers,
        )
        lean.add_field_events(events)
        assert events == expected
        lean.add_field_events(events)  # a list that has them already stays as it is
        assert events == expected


def test_the_fields_of_every_head_are_cut_in_place() -> None:
    data = REPLIES["interim 103, then 200"]
    parser, events = feed([data], field_events=False)
    assert [type(e) for e in events] == [StatusLine, EndOfHead, StatusLine, EndOfHead, wire.http11.EndOfMessage]
    parser.add_field_events(events)
    assert [(type(e), getattr(e, "name", None)) for e in events[:6]] == [
        (StatusLine, None),
        (Field, "Link"),
        (EndOfHead, None),
        (StatusLine, None),
        (Field, "content-length"),
        (Field, "connection"),
    ]
    assert events[1] == Field("Link", "</a.css>; rel=preload", b"Link: </a.css>; rel=preload\r\n", 26)
    assert events[4].offset == data.index(b"content-length")


def test_a_reply_cut_short_still_gives_its_fields() -> None:
    data = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nhel"
    parser = ResponseParser(field_events=False)
    events = parser.feed(data)
    with pytest.raises(wire.IncompleteMessage):
        parser.feed_eof()
    parser.add_field_events(events)
    assert [e for e in events if type(e) is Field] == [
        Field("Content-Type", "text/plain", b"Content-Type: text/plain\r\n", 17),
        Field("Content-Length", "10", b"Content-Length: 10\r\n", 43),
    ]


def test_field_events_off_needs_the_body_kept() -> None:
    with pytest.raises(ValueError, match=r"^field_events=False needs keep_body=True"):
        ResponseParser(keep_body=False, field_events=False)


def test_a_call_reads_without_field_events_and_shows_them_all() -> None:
    body = (
        b'{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}]}'
    )
    reply = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-A:  spaced  \r\nContent-Length: %d\r\n\r\n" % len(
        body
    )
    with RawServer(reply + body) as server:
        exchange = Client(base_url=server.base_url, api_key=KEY, max_retries=0).chat("hi")
    # Nobody has looked yet: the Field events are still to be made.
    assert exchange._add_field_events is not None
    assert not any(type(e) is Field for e in exchange._events)
    fields = [e for e in exchange.events if type(e) is Field]
    assert fields == [
        Field("Content-Type", "application/json", b"Content-Type: application/json\r\n", 17),
        Field("X-A", "spaced", b"X-A:  spaced  \r\n", 49),
        Field("Content-Length", str(len(body)), b"Content-Length: %d\r\n" % len(body), 65),
    ]
    assert exchange._add_field_events is None and exchange.events is exchange.events
    steps = [e.info for e in exchange.trace if e.name == "http11.field"]
    assert steps == [{"name": f.name, "value": f.value, "offset": f.offset} for f in fields]


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nServer: x\r\nDate: y\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nServer: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
    ],
    ids=["two lengths", "not chunked", "both"],
)
def test_a_framing_error_is_the_same_without_field_events(data: bytes) -> None:
    """The framing fields picked without events carry the offsets the errors name."""
    for pieces in ways(data):
        with pytest.raises(wire.ProtocolError) as full:
            feed(pieces)
        with pytest.raises(wire.ProtocolError) as lean:
            feed(pieces, field_events=False)
        assert (lean.value.message, lean.value.offset, lean.value.rule) == (
            full.value.message,
            full.value.offset,
            full.value.rule,
        )
        assert full.value.offset is not None and full.value.offset > data.index(b"Server")


def test_parse_response_makes_no_field_event(monkeypatch: pytest.MonkeyPatch) -> None:
    """It hands back the Response only: the fields go to ``headers``, no event per field line is made."""
    from wire.http11 import parser

    events = parser.FieldLines.events

    def refuse(self: parser.FieldLines, kind: type[Field]) -> list[Field]:
        assert kind is Trailer, "parse_response made Field events nobody asked for"
        return events(self, kind)

    monkeypatch.setattr(parser.FieldLines, "events", refuse)
    response = wire.parse_response(REPLIES["chunked with trailers"])
    assert response.headers == [("Transfer-Encoding", "chunked"), ("x-id", "7")]
    assert (response.body, response.trailers) == (b"hello", [("x-checksum", "abc")])
