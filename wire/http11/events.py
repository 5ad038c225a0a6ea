"""What the parser hands back, in wire order: one event per part of a response.

Every event knows ``offset``, the stream offset of its first byte, so it can
be found in ``Response.raw``. Events are plain data: compare them with
``==``, print them, build them in tests.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Framing(enum.Enum):
    """How the end of the body is found (RFC 9112 §6.3)."""

    NONE = "no body"
    CONTENT_LENGTH = "Content-Length"
    CHUNKED = "chunked"
    UNTIL_CLOSE = "until close"


class Event:
    """Base of the parser's events; each knows the byte offset where it began."""

    __slots__ = ()
    offset: int


@dataclass(slots=True)
class StatusLine(Event):
    """``HTTP/1.1 200 OK`` CRLF: the version, the status code and the reason phrase."""

    http_version: str
    status: int
    reason: str
    raw: bytes
    offset: int


@dataclass(slots=True)
class Field(Event):
    """One field line, ``Name: value`` CRLF, with the name's original case.

    ``value`` has its surrounding whitespace (OWS) removed; ``raw`` is the
    whole line as it arrived, line end included. A field folded over several
    lines (obs-fold, RFC 9112 §5.2) is one event: ``raw`` holds all its lines,
    ``value`` has one SP where each fold was, and ``folded`` is true.
    """

    name: str
    value: str
    raw: bytes
    offset: int

    @property
    def folded(self) -> bool:
        """Did this field arrive folded over more than one line (obs-fold)?"""
        return self.raw.count(b"\n") > 1


@dataclass(slots=True)
class Trailer(Field):
    """A field sent after the last chunk of a chunked body (RFC 9112 §7.1.2)."""


@dataclass(slots=True)
class EndOfHead(Event):
    """The empty line that ends the head; says how the body is framed.

    For an interim 1xx response (``informational`` is true) the parser then
    reads the next status line: the final response is still to come.
    """

    framing: Framing
    content_length: int | None
    informational: bool
    raw: bytes
    offset: int


@dataclass(slots=True)
class ChunkHeader(Event):
    """The size line that starts a chunk frame: ``1a;name=value`` CRLF (RFC 9112 §7.1).

    ``size`` is the chunk's data length (0 for the last chunk), ``extensions``
    the ``;name[=value]`` pairs in order, ``raw`` the line as it arrived.
    """

    size: int
    extensions: list[tuple[str, str | None]]
    raw: bytes
    offset: int


@dataclass(slots=True)
class Data(Event):
    """Body bytes (chunk data already unwrapped from its frame)."""

    data: bytes
    offset: int


@dataclass(slots=True)
class ChunkEnd(Event):
    """The CRLF that closes a chunk's data."""

    offset: int


@dataclass(slots=True)
class EndOfMessage(Event):
    """The response is complete; ``keep_alive`` says if the connection may be reused."""

    keep_alive: bool
    offset: int
