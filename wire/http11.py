"""HTTP/1.1 responses, parsed from bytes as they arrive (RFC 9112).

A response crosses the wire in this order, and the parser reads it in the
same order, one state at a time::

    status line     HTTP/1.1 200 OK CRLF                       (RFC 9112 §4)
    fields          content-type: application/json CRLF        (RFC 9112 §5)
                    ...
    end of head     CRLF
    body, framed one of three ways                             (RFC 9112 §6.3)
      Content-Length: exactly N bytes
      chunked:        1a;ext=v CRLF <26 bytes> CRLF ... 0 CRLF [trailers] CRLF  (§7.1)
      until close:    everything until the server closes the connection

The parser is *sans-I/O*: it never touches a socket. ``feed(data)`` takes
whatever bytes arrived and returns the events they complete; ``feed_eof()``
says the peer closed. Any way of splitting the same bytes gives the same
events (only ``Data`` events may be cut differently), so the same parser
serves the client, the tests and the examples.

Choices this parser makes where RFC 9112 lets a recipient choose:
- A bare LF ends a line in the status line and fields (§2.2 "MAY recognize
  a single LF"), as h11 and llhttp do. A bare CR is rejected (§2.2). Chunk
  size lines and the CRLF after chunk data must be CRLF exactly.
- Obsolete line folding is rejected (§5.2 allows a user agent to replace it
  with SP; strict is simpler and safer).
- A status line with no SP after the code (``HTTP/1.1 200`` CRLF) is
  accepted as an empty reason, as h11 and llhttp do; the grammar in §4 wants
  the SP, but the reason carries no meaning for a client.
- Control characters other than HTAB in a field value are rejected (RFC 9110
  §5.5 lets a recipient retain them; a client showing bytes to a learner
  should not).
- A transfer coding other than ``chunked`` is rejected: wire never asks for
  one (it sends no ``TE`` field), so a server must not use one (RFC 9112 §7).
- A ``Content-Length`` or ``Transfer-Encoding`` trailer field is rejected.
  RFC 9110 §6.5.1 says fields that describe message framing "cannot be
  processed outside the header section", and a sender must not send them as
  trailers; RFC 9112 §7.1.2 lets a recipient discard trailers instead, but a
  framing field after the body can only mislead.
- ``Content-Length`` or ``Transfer-Encoding`` on a 1xx or 204 reply, which a
  server must not send (RFC 9110 §8.6, RFC 9112 §6.1), is flagged in
  ``warnings`` and the connection is not reused, rather than rejected: RFC
  9112 §6.3 rule 1 ends such a reply at its head "regardless of the header
  fields present". A ``Content-Length`` value is still checked on every
  status but a 2xx reply to CONNECT, whose framing fields a client "MUST
  ignore" (RFC 9112 §6.3 rule 2).
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterator
from typing import Any, NoReturn

from wire.errors import IncompleteMessage, ProtocolError

# --- limits: every one a named constant with its reason, overridable per parser ---

# 64 KiB of status line + fields: the real API sends about 1 KiB; nginx's
# default large_client_header_buffers is 4 x 8 KiB, node's 16 KiB, Apache's 8 KiB per line.
MAX_HEAD_BYTES = 64 * 1024
# 100 fields, as http.client's _MAXHEADERS: far above any real API reply (about 20).
MAX_FIELDS = 100
# 4 KiB for one chunk-size line with its extensions; real servers send a few hex digits.
MAX_CHUNK_LINE_BYTES = 4 * 1024
# A chunk size or Content-Length must fit a signed 64-bit integer, as in llhttp and Go.
MAX_BODY_SIZE = 2**63 - 1


# --- the grammar, each rule above the pattern that applies it ---

# RFC 9110 §5.6.2:  token = 1*tchar
#   tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
#           "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
_TCHAR = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]"
_TOKEN = re.compile(_TCHAR + rb"+")

# RFC 9112 §4:  status-line = HTTP-version SP status-code SP [ reason-phrase ]
#   HTTP-version = "HTTP" "/" DIGIT "." DIGIT      status-code = 3DIGIT
#   reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
_STATUS_LINE = re.compile(rb"HTTP/([0-9])\.([0-9]) ([0-9]{3})(?: ([\t\x20-\x7e\x80-\xff]*))?")

# RFC 9112 §5:  field-line = field-name ":" OWS field-value OWS
# RFC 9110 §5.5:  field-value = *field-content
#   field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
#   field-vchar = VCHAR / obs-text
# The value is written as runs of field-vchar separated by runs of SP/HTAB, so no two
# parts of the pattern can match the same byte, and (?![ \t]) stops the leading OWS from
# giving spaces back: the regex never backtracks more than linearly. (A looser pattern
# backtracked quadratically on a long run of spaces before a bad byte: 64 KiB took 40 s.)
_VCHAR = rb"[\x21-\x7e\x80-\xff]"
_FIELD_LINE = re.compile(
    rb"(" + _TCHAR + rb"+):[ \t]*(?![ \t])((?:" + _VCHAR + rb"+(?:[ \t]+" + _VCHAR + rb"+)*)?)[ \t]*"
)
# The status line, matched against the head decoded as latin-1 with its line end
# included (CRLF, or a bare LF: RFC 9112 §2.2).
_STATUS_LINE_TEXT = re.compile(_STATUS_LINE.pattern.decode("latin-1") + r"\r?\n")
# A whole field section, every line at once: one regex call checks them all. "OWS
# field-value OWS" is exactly a run of SP, HTAB, VCHAR and obs-text (a field-value starts
# and ends with a field-vchar), so one character class matches it and the value is that
# run with SP/HTAB stripped. Each part's class excludes the byte that ends it (':', CR,
# LF), so a failed match backtracks only linearly.
_FIELD_LINE_ANY = _TCHAR.decode("latin-1") + r"+:[\t\x20-\x7e\x80-\xff]*\r?\n"
_FIELD_LINE_TEXT = re.compile(_FIELD_LINE_ANY)
_FIELD_SECTION_TEXT = re.compile("(?:" + _FIELD_LINE_ANY + ")*")

# RFC 9112 §7.1:  chunk-size = 1*HEXDIG
# RFC 9112 §7.1.1:  chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
#   chunk-ext-name = token      chunk-ext-val = token / quoted-string
# RFC 9110 §5.6.4:  quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
_QUOTED_STRING = rb'"(?:[\t !#-\[\]-~\x80-\xff]|\\[\t !-~\x80-\xff])*"'
_CHUNK_EXT = rb"[ \t]*;[ \t]*(" + _TCHAR + rb"+)(?:[ \t]*=[ \t]*(" + _TCHAR + rb"+|" + _QUOTED_STRING + rb"))?"
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]+)((?:" + _CHUNK_EXT + rb")*)\r\n")
_CHUNK_EXT_ONE = re.compile(_CHUNK_EXT)

# The lengths of "connection", "content-length" and "transfer-encoding".
_FRAMING_NAME_LENGTHS = frozenset({10, 14, 17})

# The hex digits: bytes.translate(None, _HEX_DIGITS) deletes them, leaving b"" for a plain size.
_HEX_DIGITS = b"0123456789abcdefABCDEF"

# A line end followed by an empty line (CRLF or a bare LF, RFC 9112 §2.2): the end of a
# head or trailer section. One regex scan finds the first of either (two bytes.find
# calls, one per spelling, would scan the section twice).
_EMPTY_LINE = re.compile(rb"\n\r?\n")

# Bytes no field value may hold: CTLs but HTAB, and DEL (RFC 9110 §5.5).
_BAD_VALUE_BYTE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


_STATUS_RULE = "RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]"
_NOT_HTTP = "the status line does not start with 'HTTP/': this is not an HTTP/1.x response"


class State(enum.Enum):
    """Where the parser is in the response; ``parser.state`` after each feed."""

    STATUS_LINE = "status line"
    FIELDS = "fields"
    BODY_LENGTH = "body (Content-Length)"
    BODY_UNTIL_CLOSE = "body (until close)"
    CHUNK_SIZE = "chunk size line"
    CHUNK_DATA = "chunk data"
    CHUNK_DATA_END = "CRLF after chunk data"
    TRAILERS = "trailer fields"
    DONE = "done"
    ERROR = "error"

    # Members are singletons, so identity is equality: hashing by identity (in C) makes the
    # _READERS lookup fast; Enum's own __hash__ is a Python method.
    __hash__ = object.__hash__


# The states as module names, which the parser uses: a module global is one cached lookup,
# while before Python 3.12 every State.X goes through EnumType.__getattr__ (about 60 ns,
# as long as a small parsing step).
STATUS_LINE, FIELDS, DONE, ERROR = State.STATUS_LINE, State.FIELDS, State.DONE, State.ERROR
BODY_LENGTH, BODY_UNTIL_CLOSE = State.BODY_LENGTH, State.BODY_UNTIL_CLOSE
CHUNK_SIZE, CHUNK_DATA, CHUNK_DATA_END = State.CHUNK_SIZE, State.CHUNK_DATA, State.CHUNK_DATA_END
TRAILERS = State.TRAILERS


class Framing(enum.Enum):
    """How the end of the body is found (RFC 9112 §6.3)."""

    NONE = "no body"
    CONTENT_LENGTH = "Content-Length"
    CHUNKED = "chunked"
    UNTIL_CLOSE = "until close"


# --- events: what the parser hands back, in wire order ---


class Event:
    """Base of the parser's events; each knows the byte offset where it began."""

    __slots__ = ("offset",)
    offset: int

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields())
        return f"{type(self).__name__}({fields})"

    def _fields(self) -> Iterator[str]:
        for cls in reversed(type(self).__mro__):
            yield from getattr(cls, "__slots__", ())

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self._fields())

    __hash__ = None  # type: ignore[assignment]


class StatusLine(Event):
    """``HTTP/1.1 200 OK`` CRLF: the version, the status code and the reason phrase."""

    __slots__ = ("http_version", "status", "reason", "raw")

    def __init__(self, http_version: str, status: int, reason: str, raw: bytes, offset: int) -> None:
        self.http_version = http_version
        self.status = status
        self.reason = reason
        self.raw = raw
        self.offset = offset


class Field(Event):
    """One field line, ``Name: value`` CRLF, with the name's original case.

    ``value`` has its surrounding whitespace (OWS) removed; ``raw`` is the
    whole line as it arrived, line end included.
    """

    __slots__ = ("name", "value", "raw")  # ResponseParser._read_fields fills these directly too

    def __init__(self, name: str, value: str, raw: bytes, offset: int) -> None:
        self.name = name
        self.value = value
        self.raw = raw
        self.offset = offset


class Trailer(Field):
    """A field sent after the last chunk of a chunked body (RFC 9112 §7.1.2)."""

    __slots__ = ()


class EndOfHead(Event):
    """The empty line that ends the head; says how the body is framed.

    For an interim 1xx response (``informational`` is true) the parser then
    reads the next status line: the final response is still to come.
    """

    __slots__ = ("framing", "content_length", "informational", "raw")

    def __init__(
        self, framing: Framing, content_length: int | None, informational: bool, raw: bytes, offset: int
    ) -> None:
        self.framing = framing
        self.content_length = content_length
        self.informational = informational
        self.raw = raw
        self.offset = offset


class Chunk(Event):
    """The size line that starts a chunk frame: ``1a;name=value`` CRLF.

    ``size`` is the chunk's data length (0 for the last chunk), ``extensions``
    the ``;name[=value]`` pairs in order, ``raw`` the line as it arrived.
    """

    __slots__ = ("size", "extensions", "raw")

    def __init__(self, size: int, extensions: list[tuple[str, str | None]], raw: bytes, offset: int) -> None:
        self.size = size
        self.extensions = extensions
        self.raw = raw
        self.offset = offset


class Data(Event):
    """Body bytes (chunk data already unwrapped from its frame)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes, offset: int) -> None:
        self.data = data
        self.offset = offset


class ChunkEnd(Event):
    """The CRLF that closes a chunk's data."""

    __slots__ = ()

    def __init__(self, offset: int) -> None:
        self.offset = offset


class EndOfMessage(Event):
    """The response is complete; ``keep_alive`` says if the connection may be reused."""

    __slots__ = ("keep_alive",)

    def __init__(self, keep_alive: bool, offset: int) -> None:
        self.keep_alive = keep_alive
        self.offset = offset


# --- the parsed response ---


class ChunkFrame:
    """One chunk frame of a chunked body: its size line, data and closing CRLF."""

    __slots__ = ("size", "extensions", "size_line", "offset", "end", "_source")

    def __init__(
        self,
        size: int,
        extensions: list[tuple[str, str | None]],
        size_line: bytes,
        offset: int,
        end: int | None = None,
        source: bytes | None = None,
    ) -> None:
        self.size = size
        self.extensions = extensions
        self.size_line = size_line
        self.offset = offset  # stream offset of the size line's first byte
        self.end = offset + len(size_line) if end is None else end  # one past the frame's last byte
        self._source = source  # the response's raw bytes, when the body was kept

    @property
    def raw(self) -> bytes:
        """The frame's exact bytes (size line, data, CRLF); only the size line when the body was not kept."""
        if self._source is None:
            return self.size_line
        return self._source[self.offset : self.end]

    def __repr__(self) -> str:
        return f"ChunkFrame(size={self.size}, extensions={self.extensions!r}, offset={self.offset})"


class Response:
    """A whole HTTP/1.1 response as parsed: status line, fields, body, trailers.

    ``headers`` keeps the fields in wire order with their original case;
    ``header(name)`` looks one up ignoring case and joins repeats with ", "
    (RFC 9110 §5.3). ``body`` is de-chunked.

    ``raw`` is every byte that arrived, from the first byte of the stream, so
    an event's offset indexes it: interim 1xx heads first, when there were
    any (each is also in ``informational``, with its own head as its
    ``raw``), then this response. Only the head(s) when the body was not kept.

    ``head`` is this response's own head as the parser cut it: status line,
    field lines and the empty line that ends them. It starts at stream offset
    ``head_offset`` and ends at ``head_end``, where the body begins.
    """

    def __init__(self) -> None:
        self.http_version = ""
        self.status = 0
        self.reason = ""
        self.headers: list[tuple[str, str]] = []
        self.trailers: list[tuple[str, str]] = []
        self.body = b""
        self.raw = b""
        self.head = b""
        self.head_offset = 0
        self._chunks: list[Chunk] = []  # the Chunk events of a kept chunked body, for frames
        self.framing = Framing.UNTIL_CLOSE
        self.content_length: int | None = None
        self.keep_alive = False
        self.informational: list[Response] = []
        self.warnings: list[str] = []

    @functools.cached_property
    def frames(self) -> list[ChunkFrame]:
        """The chunk frames of a chunked body, in order (none when the body was not kept)."""
        # Built on first use from the Chunk events, not one object per chunk while parsing:
        # most callers never look. Frames sit end to end, so each ends where the next
        # begins, and the last (size 0, with the trailers) where the message ends.
        chunks = self._chunks
        ends = [c.offset for c in chunks[1:]] + [len(self.raw)] if chunks else []
        return [
            ChunkFrame(c.size, c.extensions, c.raw, c.offset, end, self.raw)
            for c, end in zip(chunks, ends, strict=True)
        ]

    @property
    def head_end(self) -> int:
        """Stream offset one past the empty line that ends the head (where the body begins)."""
        return self.head_offset + len(self.head)

    def header(self, name: str) -> str | None:
        """The value of field ``name`` (any case), repeats joined with ", "; None when absent."""
        lname = name.lower()
        values = [v for n, v in self.headers if n.lower() == lname]
        return ", ".join(values) if values else None

    def __repr__(self) -> str:
        return (
            f"<Response {self.http_version} {self.status} {self.reason!r}, {len(self.headers)} fields, "
            f"{len(self.body)} body bytes, framing={self.framing.value}>"
        )


def _list_elements(fields: list[Field]) -> list[str]:
    """The elements of list-valued fields, lower-cased (RFC 9110 §5.6.1): commas, OWS, empty elements ignored."""
    elements = []
    for f in fields:
        value = f.value.lower()
        if "," not in value:  # one element, the common case (a field value has no OWS around it)
            elements += [value] if value else []
        else:
            elements += [item.strip(" \t") for item in value.split(",") if item.strip(" \t")]
    return elements


class ResponseParser:
    """Incremental HTTP/1.1 response parser (sans-I/O).

    ``feed(data)`` returns the events the new bytes complete; ``feed_eof()``
    the events the peer's close completes (or raises ``IncompleteMessage``).
    ``state`` tells where the parser is; ``response`` is set once the
    message is complete. With ``keep_body=False`` body bytes are handed on as
    ``Data`` events only and never kept, so a long body streams through in
    constant memory.

    ``request_method`` matters for framing: a reply to HEAD has no body, and a
    2xx reply to CONNECT ends with its head (the tunnel follows).
    """

    def __init__(
        self,
        *,
        keep_body: bool = True,
        request_method: str = "POST",
        max_head_bytes: int = MAX_HEAD_BYTES,
        max_fields: int = MAX_FIELDS,
        max_chunk_line_bytes: int = MAX_CHUNK_LINE_BYTES,
        max_body_size: int = MAX_BODY_SIZE,
    ) -> None:
        self.keep_body = keep_body
        self.request_method = request_method.upper()
        self.max_head_bytes = max_head_bytes
        self.max_fields = max_fields
        self.max_chunk_line_bytes = max_chunk_line_bytes
        self.max_body_size = max_body_size

        self.state = STATUS_LINE
        self.response: Response | None = None  # set when the message is complete
        self.trailing_data = b""  # bytes after the end of a response on a persistent connection
        self.error: ProtocolError | None = None

        # The receive buffer: _buf[_pos:] is received and not yet consumed. Readers move
        # _pos forward instead of deleting from the front (which would copy the rest each
        # time); what is left over is kept once per feed. When nothing is left over, the
        # next feed's bytes are used as they are, without copying them into a buffer.
        self._buf: bytes | bytearray = b""
        self._pos = 0
        self._base = 0  # stream offset of _buf[0]
        self._scan = 0  # stream offset where the search for the end of a head / trailers resumes
        self._received_any = False
        self._raw_parts: list[bytes] = []  # every byte as fed, when keep_body (joined once, at the end)
        self._head_raw = bytearray()  # the head(s), when not keep_body (else _raw_parts has them)
        self._body_parts: list[bytes] = []
        self._remaining = 0  # bytes left in a Content-Length body or in the current chunk
        self._resp = Response()
        self._fields: list[Field] = []
        self._picked: dict[str, list[Field]] = {}  # framing fields of the head being read, by lower-case name

    # -- public --

    def feed(self, data: bytes) -> list[Event]:
        """Take the next bytes from the peer; return the events they complete."""
        if self.error is not None:
            raise self.error
        if not data:
            return []
        if self.state is DONE:
            return self._after_done(bytes(data), self._base + len(self._buf))
        self._received_any = True
        if type(data) is not bytes:
            data = bytes(data)
        if self.keep_body:
            self._raw_parts.append(data)
        if self._buf:
            self._buf += data  # a bytearray holding the last feed's leftover
        else:
            self._buf = data
        events: list[Event] = []
        try:
            self._run(events)
        except ProtocolError as exc:
            self._fail(exc)
        self._keep_leftover()
        return events

    def _keep_leftover(self) -> None:
        """After a feed: keep the unconsumed bytes (a copy only when there are any)."""
        buf, pos = self._buf, self._pos
        if pos >= len(buf):
            self._base += len(buf)
            self._buf = b""
        elif isinstance(buf, bytearray):
            del buf[:pos]
            self._base += pos
        else:
            self._buf = bytearray(buf[pos:])
            self._base += pos
        self._pos = 0

    def feed_eof(self) -> list[Event]:
        """The peer closed the connection: finish the message or raise ``IncompleteMessage``."""
        if self.error is not None:
            raise self.error
        state = self.state
        if state is DONE:
            return []
        if state is BODY_UNTIL_CLOSE:
            # RFC 9112 §6.3 rule 8: the close is the end of this body.
            events: list[Event] = []
            self._finish(events, self._base + len(self._buf), keep_alive=False)
            return events
        end = self._base + len(self._buf)
        pending = len(self._buf) - self._pos
        if state is STATUS_LINE and not self._received_any:
            message = "the connection closed before any response byte arrived"
        elif state in (STATUS_LINE, FIELDS):
            message = f"the connection closed inside the header section ({pending} bytes of head so far)"
        elif state is BODY_LENGTH:
            got = (self._resp.content_length or 0) - self._remaining
            message = f"the connection closed after {got} of {self._resp.content_length} body bytes (Content-Length)"
        elif state is CHUNK_DATA:
            message = f"the connection closed inside chunk data ({self._remaining} bytes of the chunk missing)"
        else:
            message = f"the connection closed inside the chunked body (in the {state.value})"
        exc = IncompleteMessage(
            message, offset=end, rule="RFC 9112 §8: incomplete message", received=self._received(), state=state.value
        )
        self._fail(exc)
        raise exc

    # -- the loop: each state has a reader that consumes what it can --

    def _run(self, events: list[Event]) -> None:
        # One dict lookup per step (see _READERS, after the class), not a chain of comparisons.
        while _READERS[self.state](self, events):
            pass

    def _read_after_done(self, events: list[Event]) -> bool:
        if self._pos < len(self._buf):
            rest = bytes(self._buf[self._pos :])
            self._after_done(rest, self._base + self._pos)
            self._pos = len(self._buf)
        return False

    def _find_section_end(self) -> int:
        """Index in _buf just past the empty line ending a head or trailer section, or -1.

        The empty line is CRLF, or a bare LF (RFC 9112 §2.2), right after a line end.
        """
        buf = self._buf
        m = _EMPTY_LINE.search(buf, max(self._pos, self._scan - self._base))
        if m is not None:
            return m.end()
        # Resume two bytes back next time: the end may straddle this feed and the next.
        self._scan = self._base + max(self._pos, len(buf) - 2)
        return -1

    def _read_head(self, events: list[Event]) -> bool:
        if self.state is STATUS_LINE:
            # Check the first bytes at once: a server speaking something else
            # (TLS, SSH, garbage) fails here, not after 64 KiB or at the close.
            start = bytes(self._buf[self._pos : self._pos + 5])
            if not b"HTTP/".startswith(start):
                bad = next(i for i, b in enumerate(start) if b != b"HTTP/"[i])
                self._error(_NOT_HTTP, self._base + self._pos + bad, _STATUS_RULE)
        pos = self._pos
        base = self._base + pos
        end = self._find_section_end()
        limit = self.max_head_bytes
        # The empty line that ends the head (up to 2 bytes) does not count toward the
        # limit; checking "more than limit + 2 buffered" when the end is not yet
        # found gives the same verdict however the bytes were split.
        if end < 0:
            if len(self._buf) - pos > limit + 2:
                self._too_big_head(base + limit)
            if self.state is STATUS_LINE and self._buf.find(b"\n", pos) >= 0:
                self.state = FIELDS  # the status line is in; it is checked with the whole head
            return False
        if end - pos > limit + 2:
            self._too_big_head(base + limit)
        head = bytes(self._buf[pos:end])
        self._pos = end
        if not self.keep_body:
            self._head_raw += head
        self._resp.head, self._resp.head_offset = head, base
        self._parse_head(head, base, events)
        return True

    def _too_big_head(self, offset: int) -> NoReturn:
        raise ProtocolError(
            f"the header section is larger than {self.max_head_bytes} bytes (max_head_bytes)",
            offset=offset,
            rule="limit: MAX_HEAD_BYTES",
            received=self._received(),
            state=self.state.value,
        )

    def _lines(self, section: bytes, base: int) -> list[tuple[bytes, bytes, int]]:
        """Split a head or trailer section into (line, line with its end, offset), dropping the empty line."""
        out = []
        pos = 0
        for piece in section.split(b"\n")[:-2]:
            line = piece[:-1] if piece[-1:] == b"\r" else piece
            if b"\r" in line:
                # RFC 9112 §2.2: a bare CR is not a line end; reject the element.
                self._error("bare CR (a CR not followed by LF)", base + pos + line.index(b"\r"), "RFC 9112 §2.2")
            out.append((line, piece + b"\n", base + pos))
            pos += len(piece) + 1
        return out

    def _parse_head(self, head: bytes, base: int, events: list[Event]) -> None:
        """Check and split a whole head: status line, fields, empty line."""
        self.state = STATUS_LINE
        # Decode once: latin-1 maps each byte to one character, so offsets stay byte
        # offsets and each field's name and value come out as str (fast).
        text = head.decode("latin-1")
        m = _STATUS_LINE_TEXT.match(text)
        if m is None:
            self._diagnose_head(head, base)
        pos = m.end()
        events.append(self._status_line(m.group(1, 2, 3, 4), head[:pos], base))
        self.state = FIELDS
        end = len(head) - (2 if head.endswith(b"\r\n") else 1)
        self._picked = {"transfer-encoding": [], "content-length": [], "connection": []}
        fields = self._read_fields(text, head, pos, end, base, Field)
        events.extend(fields)
        self._fields = fields
        self._end_of_head(events, head[end:], base + end)

    def _read_fields(self, text: str, section: bytes, pos: int, end: int, base: int, kind: type[Field]) -> list[Field]:
        """The field lines in text[pos:end], as Field (or Trailer) events."""
        if _FIELD_SECTION_TEXT.fullmatch(text, pos, end) is None:
            self._diagnose_fields(text, section, pos, end, base, kind)
        # Every line is valid: split them in C. Only CR-LF ends a line's bytes here (a bare CR
        # fails the match above), so bytes.splitlines cuts the raw lines where split("\n") does.
        lines = text[pos:end].split("\n")[:-1]
        raws = section[pos:end].splitlines(keepends=True)
        if len(lines) > self.max_fields:
            self._too_many_fields(base + pos + sum(map(len, raws[: self.max_fields])), kind)
        fields: list[Field] = []
        picked = self._picked
        new = object.__new__  # looked up once, not per field
        offset = base + pos
        for line, raw in zip(lines, raws, strict=True):
            name, _, value = line.partition(":")
            # kind(name, value, raw, offset), written out: filling the slots of a bare object
            # skips type.__call__'s round trip from C into __init__ (about 50 ns a field).
            field = new(kind)
            field.name = name
            field.value = value.strip(" \t\r")  # the OWS, and the CR of a CRLF
            field.raw = raw
            field.offset = offset
            fields.append(field)
            offset += len(raw)
            if len(name) in _FRAMING_NAME_LENGTHS:  # a cheap test before the lower-case comparison
                bucket = picked.get(name.lower())
                if bucket is not None:
                    bucket.append(field)
        return fields

    def _too_many_fields(self, offset: int, kind: type[Field]) -> NoReturn:
        what = "header" if kind is Field else "trailer"
        self._error(f"more than {self.max_fields} {what} fields (max_fields)", offset, "limit: MAX_FIELDS")

    def _diagnose_fields(self, text: str, section: bytes, pos: int, end: int, base: int, kind: type[Field]) -> NoReturn:
        """Some field line is bad: read line by line to report the first problem (a bad line, or the limit)."""
        for _ in range(self.max_fields):
            m = _FIELD_LINE_TEXT.match(text, pos, end)
            if m is None:
                self._diagnose_section(section, base, pos, kind)
            pos = m.end()
        # max_fields good lines: the next one is a field too many, unless it is the bad line.
        if _FIELD_LINE_TEXT.match(text, pos, end) is None:
            self._diagnose_section(section, base, pos, kind)
        self._too_many_fields(base + pos, kind)

    def _diagnose_head(self, head: bytes, base: int) -> NoReturn:
        """The head did not match: find its first bad line and say what is wrong with it."""
        lines = self._lines(head, base)
        if not lines:
            self._error("expected a status line, got an empty line", base, "RFC 9112 §4")
        self._diagnose_status_line(lines[0][0], lines[0][2])

    def _diagnose_section(self, section: bytes, base: int, pos: int, kind: type[Field]) -> NoReturn:
        """A field line from ``pos`` on did not match: say exactly what is wrong with it."""
        name = "header section" if kind is Field else "trailer section"
        for line, _raw, offset in self._lines(section[pos:], base + pos):
            if _FIELD_LINE.fullmatch(line) is None:
                self._diagnose_field(line, offset, name)
        raise AssertionError("a field line failed the fast match but passed the slow one")  # pragma: no cover

    def _status_line(self, groups: tuple[str | Any, ...], raw: bytes, offset: int) -> StatusLine:
        major, minor, code, reason = groups
        if major != "1":
            self._error(f"unsupported HTTP version HTTP/{major}.{minor}", offset + 5, "RFC 9112 §2.3")
        status = int(code)
        if status < 100:
            self._error(f"status code {status} is below 100", offset + 9, "RFC 9110 §15")
        event = StatusLine(f"HTTP/{major}.{minor}", status, reason or "", raw, offset)
        resp = self._resp
        resp.http_version, resp.status, resp.reason = event.http_version, status, event.reason
        return event

    def _diagnose_status_line(self, line: bytes, offset: int) -> NoReturn:
        """Name exactly what is wrong with a status line that did not match."""
        rule = _STATUS_RULE
        if not line.startswith(b"HTTP/"):
            bad = next((i for i, b in enumerate(line[:5]) if b != b"HTTP/"[i]), len(line))
            self._error(_NOT_HTTP, offset + bad, rule)
        if not re.match(rb"HTTP/[0-9]\.[0-9]", line):
            self._error("malformed HTTP-version: expected HTTP/DIGIT.DIGIT", offset + 5, "RFC 9112 §2.3")
        if line[8:9] != b" ":
            self._error(f"expected SP after the HTTP-version, got {line[8:9]!r}", offset + 8, rule)
        if not re.match(rb"[0-9]{3}(?: |$)", line[9:]):
            self._error("the status code is not 3 digits followed by SP", offset + 9, rule)
        ctl = _BAD_VALUE_BYTE.search(line, 13)
        where = ctl.start() if ctl else 13
        self._error(f"control character {line[where : where + 1]!r} in the reason phrase", offset + where, rule)

    def _diagnose_field(self, line: bytes, offset: int, section: str) -> NoReturn:
        """Name exactly what is wrong with a field line that did not match."""
        if line[:1] in (b" ", b"\t"):
            self._error(
                f"obsolete line folding (a line starting with whitespace) in the {section}",
                offset,
                "RFC 9112 §5.2: obs-fold is rejected",
            )
        colon = line.find(b":")
        if colon < 0:
            self._error(f"a line with no colon in the {section}: {line[:40]!r}", offset, "RFC 9112 §5")
        if colon == 0:
            self._error(f"empty field name in the {section}", offset, "RFC 9110 §5.1: field-name = token")
        name = line[:colon]
        if name[-1:] in (b" ", b"\t"):
            self._error(
                f"whitespace between field name and colon in the {section}",
                offset + colon - 1,
                "RFC 9112 §5.1: no whitespace is allowed between the field name and colon",
            )
        bad_name = re.search(rb"[^-!#$%&'*+.^_`|~0-9A-Za-z]", name)
        if bad_name is not None:
            self._error(
                f"field name {name[:40]!r} is not a token in the {section}",
                offset + bad_name.start(),
                "RFC 9110 §5.1: field-name = token",
            )
        bad = _BAD_VALUE_BYTE.search(line, colon + 1)
        where = bad.start() if bad else colon + 1
        what = {0: "NUL", 0x0D: "CR"}.get(line[where], f"control character {line[where : where + 1]!r}")
        self._error(
            f"{what} in the value of field {name.decode('ascii')!r}",
            offset + where,
            "RFC 9110 §5.5: field values hold no CR, LF, NUL or other control characters",
        )

    def _end_of_head(self, events: list[Event], raw: bytes, offset: int) -> None:
        """Decide the framing of the body (RFC 9112 §6.3) and move to its state."""
        resp = self._resp
        status = resp.status
        resp.headers = [(f.name, f.value) for f in self._fields]
        picked = self._picked  # the three fields that decide framing and reuse, picked out by _read_fields
        informational = 100 <= status < 200 and status != 101
        framing, length = self._framing(status, picked["transfer-encoding"], picked["content-length"])
        events.append(EndOfHead(framing, length, informational, raw, offset))
        if informational:
            # RFC 9110 §15.2: a client must parse any number of 1xx replies before the final one.
            interim = resp
            self._resp = Response()
            self._resp.informational = interim.informational + [interim]
            interim.informational = []
            interim.framing = Framing.NONE
            interim.raw = interim.head  # an interim reply is all head: it has no body
            self._resp.warnings = interim.warnings  # they concern the connection the final reply is on
            interim.warnings = []
            self.state = STATUS_LINE
            return
        resp.framing, resp.content_length = framing, length
        resp.keep_alive = self._keep_alive(framing, picked["connection"])
        if framing is Framing.NONE:
            self._finish(events, offset + len(raw), keep_alive=resp.keep_alive)
        elif framing is Framing.CONTENT_LENGTH:
            self._remaining = length or 0
            self.state = BODY_LENGTH
            if not length:
                self._finish(events, offset + len(raw), keep_alive=resp.keep_alive)
        elif framing is Framing.CHUNKED:
            self.state = CHUNK_SIZE
        else:
            self.state = BODY_UNTIL_CLOSE

    def _framing(self, status: int, te_fields: list[Field], cl_fields: list[Field]) -> tuple[Framing, int | None]:
        resp = self._resp
        # RFC 9112 §6.3 rule 2: a 2xx reply to CONNECT turns the connection into a tunnel, and
        # "A client MUST ignore any Content-Length or Transfer-Encoding header fields" in it.
        if self.request_method == "CONNECT" and 200 <= status < 300:
            return Framing.NONE, None
        # RFC 9112 §6.3 rule 1: these replies end with their head "regardless of the header
        # fields present", but the fields are still checked.
        if status < 200 or status in (204, 304) or self.request_method == "HEAD":
            self._check_fields_without_body(status, te_fields, cl_fields)
            return Framing.NONE, None
        if te_fields:
            if resp.http_version == "HTTP/1.0":
                self._error(
                    "Transfer-Encoding in an HTTP/1.0 response",
                    te_fields[0].offset,
                    "RFC 9112 §6.1: treat the framing as faulty",
                )
            codings = _list_elements(te_fields)
            if not codings or codings[-1] != "chunked":
                self._error(
                    f"the final transfer coding is not chunked ({', '.join(codings) or 'empty'})",
                    te_fields[-1].offset,
                    "RFC 9112 §6.3 rule 4: the length cannot be determined",
                )
            if "chunked" in codings[:-1]:
                self._error(
                    "chunked is applied more than once (Transfer-Encoding lists it "
                    f"{codings.count('chunked')} times: {', '.join(codings)})",
                    te_fields[-1].offset,
                    "RFC 9112 §6.1: a sender MUST NOT apply the chunked transfer coding more than once",
                )
            if len(codings) > 1:
                self._error(
                    f"unsupported transfer coding {codings[0]!r}: wire sends no TE field, so only chunked may be used",
                    te_fields[0].offset,
                    "RFC 9112 §6.1 and §7",
                )
            if cl_fields:
                # RFC 9112 §6.3 rule 3: Transfer-Encoding overrides Content-Length; the
                # pair can signal request smuggling, so the connection is not reused.
                resp.warnings.append(
                    "both Transfer-Encoding and Content-Length were sent; Transfer-Encoding "
                    "wins and the connection will not be reused (RFC 9112 §6.3 rule 3)"
                )
            return Framing.CHUNKED, None
        if cl_fields:
            return Framing.CONTENT_LENGTH, self._content_length(cl_fields)
        return Framing.UNTIL_CLOSE, None

    def _check_fields_without_body(self, status: int, te_fields: list[Field], cl_fields: list[Field]) -> None:
        """Framing fields on a reply that has no body: they frame nothing, but they are checked.

        Content-Length must be valid whatever the status (RFC 9110 §8.6); a HEAD or 304
        reply may carry the length the GET or 200 body would have had. On a 1xx or 204
        neither field may be sent at all (RFC 9110 §8.6, RFC 9112 §6.1): that is flagged
        and the connection is not reused, since a server that sent one may have sent a body
        too, which would be read as the next response.
        """
        if cl_fields:
            self._content_length(cl_fields)
        if status < 200 or status == 204:
            for fields, section in ((cl_fields, "RFC 9110 §8.6"), (te_fields, "RFC 9112 §6.1")):
                if fields:
                    field = fields[0]
                    self._resp.warnings.append(
                        f"a {status} reply carries {field.name}: {field.value}, which a server must not send "
                        f"with this status; the reply has no body and the connection will not be reused ({section})"
                    )

    def _content_length(self, fields: list[Field]) -> int:
        """RFC 9110 §8.6: Content-Length = 1*DIGIT; identical repeats may be merged, differing ones are fatal."""
        values = set()
        for f in fields:
            for item in f.value.split(","):
                item = item.strip(" \t")
                if not item.isdigit() or not item.isascii():
                    self._error(
                        f"Content-Length {f.value!r} is not a non-negative decimal number",
                        f.offset,
                        "RFC 9110 §8.6: Content-Length = 1*DIGIT",
                    )
                digits = item.lstrip("0") or "0"
                # More digits than the limit has is over it; checked before int(), which
                # refuses strings of more than 4300 digits with a ValueError.
                if len(digits) > len(str(self.max_body_size)):
                    self._error(
                        f"Content-Length of {len(digits)} digits is larger than {self.max_body_size} (max_body_size)",
                        f.offset,
                        "limit: MAX_BODY_SIZE",
                    )
                values.add(int(digits))
        if len(values) > 1:
            self._error(
                f"conflicting Content-Length values {sorted(values)}",
                fields[-1].offset,
                "RFC 9110 §8.6: Content-Length = 1*DIGIT; RFC 9112 §6.3 rule 5: an unrecoverable framing error",
            )
        length = values.pop()
        if length > self.max_body_size:
            self._error(
                f"Content-Length {length} is larger than {self.max_body_size} (max_body_size)",
                fields[0].offset,
                "limit: MAX_BODY_SIZE",
            )
        return length

    def _keep_alive(self, framing: Framing, connection: list[Field]) -> bool:
        """RFC 9112 §9.3: may this connection carry another request after this response?"""
        resp = self._resp
        if framing is Framing.UNTIL_CLOSE or resp.warnings or resp.status == 101:
            return False
        tokens = _list_elements(connection)
        if "close" in tokens:
            return False
        if resp.http_version == "HTTP/1.0":
            return "keep-alive" in tokens
        return True

    # -- bodies --

    def _deliver(self, events: list[Event], n: int) -> None:
        """Hand on the next n buffered bytes as a Data event."""
        pos = self._pos
        # Slicing the feed's own bytes copies once (not at all when it takes them whole).
        data = self._buf[pos : pos + n]
        if type(data) is not bytes:
            data = bytes(data)
        self._pos = pos + n
        if self.keep_body:
            self._body_parts.append(data)
        events.append(Data(data, self._base + pos))

    def _read_length_body(self, events: list[Event]) -> bool:
        available = len(self._buf) - self._pos
        if not available:
            return False
        n = min(self._remaining, available)
        self._deliver(events, n)
        self._remaining -= n
        if self._remaining == 0:
            self._finish(events, self._base + self._pos, keep_alive=self._resp.keep_alive)
        return True

    def _read_until_close(self, events: list[Event]) -> bool:
        available = len(self._buf) - self._pos
        if not available:
            return False
        self._deliver(events, available)
        return True

    def _read_chunk_size(self, events: list[Event]) -> bool:
        buf, pos = self._buf, self._pos
        lf = buf.find(b"\n", pos, pos + self.max_chunk_line_bytes)
        offset = self._base + pos
        if lf < 0:
            if len(buf) - pos >= self.max_chunk_line_bytes:
                self._error(
                    f"a chunk size line longer than {self.max_chunk_line_bytes} bytes (max_chunk_line_bytes)",
                    offset + self.max_chunk_line_bytes,
                    "limit: MAX_CHUNK_LINE_BYTES",
                )
            return False
        line = bytes(buf[pos : lf + 1])
        digits = line[:-2]
        if line[-2:-1] == b"\r" and digits and not digits.translate(None, _HEX_DIGITS):
            ext_text = b""  # the common case, plain hex and CRLF: no regex needed (translate deletes hex digits)
        else:
            m = _CHUNK_LINE.fullmatch(line)
            if m is None:
                self._diagnose_chunk_line(line, offset)
            digits, ext_text = m.group(1, 2)
        size = int(digits, 16)  # at most MAX_CHUNK_LINE_BYTES digits: hex parsing is linear
        if size > self.max_body_size:
            self._error(
                f"chunk size 0x{digits[:20].decode()} is larger than {self.max_body_size} (max_body_size)",
                offset,
                "limit: MAX_BODY_SIZE",
            )
        extensions: list[tuple[str, str | None]] = []
        if ext_text:
            for em in _CHUNK_EXT_ONE.finditer(ext_text):
                extensions.append(
                    (em.group(1).decode("ascii"), None if em.group(2) is None else em.group(2).decode("latin-1"))
                )
        self._pos = lf + 1
        chunk = Chunk(size, extensions, line, offset)
        events.append(chunk)
        if self.keep_body:  # without the body, keeping one per chunk would grow without bound
            self._resp._chunks.append(chunk)
        if size == 0:
            self.state = TRAILERS
        else:
            self._remaining = size
            self.state = CHUNK_DATA
        return True

    def _diagnose_chunk_line(self, line: bytes, offset: int) -> NoReturn:
        rule = "RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF"
        m = re.match(rb"[0-9A-Fa-f]+", line)
        if m is None:
            self._error(f"the chunk size is not a hexadecimal number (got {line[:20]!r})", offset, rule)
        if not line.endswith(b"\r\n"):
            self._error("the chunk size line ends in a bare LF, not CRLF", offset + len(line) - 1, rule)
        self._error(
            f"invalid chunk extension after the chunk size (got {line[m.end() : m.end() + 30]!r})",
            offset + m.end(),
            'RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] )',
        )

    def _read_chunk_data(self, events: list[Event]) -> bool:
        available = len(self._buf) - self._pos
        if not available:
            return False
        n = min(self._remaining, available)
        self._deliver(events, n)
        self._remaining -= n
        if self._remaining == 0:
            self.state = CHUNK_DATA_END
        return True

    def _read_chunk_data_end(self, events: list[Event]) -> bool:
        buf, pos = self._buf, self._pos
        available = len(buf) - pos
        if not available:
            return False
        here = self._base + pos
        # Check byte by byte so the error names the same offset however the input was split.
        if buf[pos] != 0x0D:
            self._error(
                f"chunk data not followed by CRLF (got {bytes(buf[pos : pos + 1])!r} where CR belongs)",
                here,
                "RFC 9112 §7.1: chunk-data CRLF",
            )
        if available < 2:
            return False
        if buf[pos + 1] != 0x0A:
            self._error(
                f"chunk data not followed by CRLF (got {bytes(buf[pos : pos + 2])!r})",
                here + 1,
                "RFC 9112 §7.1: chunk-data CRLF",
            )
        events.append(ChunkEnd(here))
        self._pos = pos + 2
        self.state = CHUNK_SIZE
        return True

    def _read_trailers(self, events: list[Event]) -> bool:
        buf, pos = self._buf, self._pos
        available = len(buf) - pos
        if not available:
            return False
        start = bytes(buf[pos : pos + 2])
        base = self._base + pos
        if start == b"\r\n" or start[:1] == b"\n":
            end = pos + (2 if start[:1] == b"\r" else 1)  # no trailer fields: just the final empty line
        elif start == b"\r":
            return False  # a CR alone: the LF may be in the next feed
        else:
            end = self._find_section_end()
            size = (available if end < 0 else end - pos) - 2
            # As for the head: the same verdict whether the end is found in this feed or not.
            if size > self.max_head_bytes:
                self._error(
                    f"the trailer section is larger than {self.max_head_bytes} bytes (max_head_bytes)",
                    base + self.max_head_bytes,
                    "limit: MAX_HEAD_BYTES",
                )
            if end < 0:
                return False
        self._pos = end
        if end - pos > 2:  # there are trailer fields (most chunked bodies have none)
            self._read_trailer_fields(events, bytes(buf[pos:end]), base)
        self._finish(events, self._base + end, keep_alive=self._resp.keep_alive)
        return True

    def _read_trailer_fields(self, events: list[Event], section: bytes, base: int) -> None:
        fields_end = len(section) - (2 if section.endswith(b"\r\n") else 1)
        self._picked = {"transfer-encoding": [], "content-length": []}
        trailers = self._read_fields(section.decode("latin-1"), section, 0, fields_end, base, Trailer)
        framing = self._picked["transfer-encoding"] + self._picked["content-length"]
        if framing:
            # The sender broke a MUST NOT (RFC 9110 §6.5.1), and a framing field after the body
            # can only mislead; a recipient may discard trailers (RFC 9112 §7.1.2), wire rejects.
            first = min(framing, key=lambda f: f.offset)
            self._error(
                f"{first.name} in the trailer section: a field that frames the message cannot come after the body",
                first.offset,
                "RFC 9110 §6.5.1: fields that describe message framing cannot be processed outside the header section",
            )
        events.extend(trailers)
        self._resp.trailers = [(t.name, t.value) for t in trailers]

    # -- the end --

    def _finish(self, events: list[Event], offset: int, *, keep_alive: bool) -> None:
        resp = self._resp
        resp.keep_alive = keep_alive
        if self.keep_body:
            raw = b"".join(self._raw_parts)  # one part (a whole feed): no copy at all
            if len(raw) > offset:
                raw = raw[:offset]
            resp.raw = raw
            resp.body = b"".join(self._body_parts)
        else:
            resp.raw = bytes(self._head_raw)
        self._body_parts = []
        self._raw_parts = []
        self.response = resp
        self.state = DONE
        events.append(EndOfMessage(keep_alive, offset))

    def _after_done(self, rest: bytes, offset: int) -> list[Event]:
        """Bytes after a complete response: the start of another, or a protocol violation."""
        if self._resp.keep_alive:
            self.trailing_data += rest
            return []
        exc = ProtocolError(
            # (The message names only the first extra byte: how many arrive with it depends on the split.)
            f"bytes arrived after the end of a response on a closing connection (the first: {rest[:1]!r})",
            offset=offset,
            rule="RFC 9112 §9.6: nothing follows the last response on a connection being closed",
            received=bytes(self._resp.raw) + rest,
            state=DONE.value,
        )
        self._fail(exc)
        raise exc

    # -- errors --

    def _received(self) -> bytes:
        if self.keep_body:
            return b"".join(self._raw_parts)
        return bytes(self._head_raw) + bytes(self._buf[self._pos :])

    def _error(self, message: str, offset: int, rule: str) -> NoReturn:
        raise ProtocolError(message, offset=offset, rule=rule, received=self._received(), state=self.state.value)

    def _fail(self, exc: ProtocolError) -> NoReturn:
        self.state = ERROR
        self.error = exc
        raise exc


# Each state's reader: it consumes what it can of the buffer and returns True when it made
# progress (then the reader of the new state runs), False when it needs more bytes.
_READERS = {
    STATUS_LINE: ResponseParser._read_head,
    FIELDS: ResponseParser._read_head,
    BODY_LENGTH: ResponseParser._read_length_body,
    BODY_UNTIL_CLOSE: ResponseParser._read_until_close,
    CHUNK_SIZE: ResponseParser._read_chunk_size,
    CHUNK_DATA: ResponseParser._read_chunk_data,
    CHUNK_DATA_END: ResponseParser._read_chunk_data_end,
    TRAILERS: ResponseParser._read_trailers,
    DONE: ResponseParser._read_after_done,
}


def parse_response(data: bytes, *, request_method: str = "POST") -> Response:
    """Parse one whole response, as if the peer closed right after ``data``.

    Raises ``ProtocolError`` for malformed bytes and ``IncompleteMessage``
    when ``data`` ends before the response does. Bytes after the end of the
    response are an error too: one request gets one response.
    """
    parser = ResponseParser(request_method=request_method)
    parser.feed(data)
    parser.feed_eof()
    if parser.trailing_data:
        raise ProtocolError(
            f"{len(parser.trailing_data)} bytes follow the end of the response",
            offset=len(data) - len(parser.trailing_data),
            rule="RFC 9112 §9.6: one request, one response",
            received=bytes(data),
        )
    assert parser.response is not None
    return parser.response
