"""The response parser: a state loop with one reader per state.

``ResponseParser.feed(data)`` adds the bytes to the receive buffer, then
runs the reader of the current state until one needs more bytes. A reader
reads what it can, appends the events it completes, moves the parser to
its next state and returns True; or returns False to wait for the next
feed; or raises a ``Fault`` when the bytes break a rule, which the parser
turns into a ``ProtocolError`` carrying the bytes received so far.
``READERS``, at the end of this file, maps each ``State`` to its reader.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable
from typing import NamedTuple, NoReturn

from wire import grammar
from wire.errors import IncompleteMessage, ProtocolError
from wire.http11 import diagnose, framing
from wire.http11.diagnose import Fault
from wire.http11.events import (
    ChunkEnd,
    ChunkHeader,
    Data,
    EndOfHead,
    EndOfMessage,
    Event,
    Field,
    Framing,
    StatusLine,
    Trailer,
)
from wire.http11.receivebuffer import ReceiveBuffer
from wire.http11.response import Response

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


class State(str, enum.Enum):
    """Where the parser is in the response; ``parser.state`` after each feed."""

    # A str-valued Enum, so READERS[state] hashes in C (str's hash), not with Enum's Python
    # __hash__: measured 11 % on P3 (one byte per feed: one lookup per byte).

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

    With ``field_events=False`` (it needs ``keep_body``) the head's fields are
    checked, framed and kept in ``Response.headers`` as ever, but not handed
    back as ``Field`` events: making them costs more than the rest of a head
    together. ``add_field_events(events)`` cuts them from the kept bytes when
    they are wanted (the Client's way: most calls are never looked at).
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
        field_events: bool = True,
    ) -> None:
        if not (field_events or keep_body):
            raise ValueError("field_events=False needs keep_body=True: the fields are cut from the kept bytes")
        self.keep_body = keep_body
        self.field_events = field_events
        self.request_method = request_method.upper()
        self.max_head_bytes = max_head_bytes
        self.max_fields = max_fields
        self.max_chunk_line_bytes = max_chunk_line_bytes
        self.max_body_size = max_body_size

        self.state = State.STATUS_LINE
        self.response: Response | None = None  # set when the message is complete
        self.trailing_data = b""  # bytes after the end of a response on a persistent connection
        self.error: ProtocolError | None = None

        self._buffer = ReceiveBuffer()
        self._received_any = False
        self._raw_parts: list[bytes] = []  # every byte as fed, when keep_body (joined once, at the end)
        self._head_raw = bytearray()  # the head(s), when not keep_body (else _raw_parts has them)
        self._body_parts: list[bytes] = []
        self._remaining = 0  # bytes left in a Content-Length body or in the current chunk
        self._resp = Response()  # the response being read

    # -- public --

    def feed(self, data: bytes) -> list[Event]:
        """Take the next bytes from the peer; return the events they complete."""
        if self.error is not None:
            raise self.error
        if not data:
            return []
        if self.state is State.DONE:
            return self._after_done(bytes(data), self._buffer.end)
        self._received_any = True
        try:
            data = bytes(data)  # no copy when it is bytes already
        except TypeError:  # a str, most likely: the wire carries bytes, and which encoding is not ours to guess
            raise TypeError(f"feed() takes bytes, not {type(data).__name__} (a str: encode it first)") from None
        if self.keep_body:
            self._raw_parts.append(data)
        self._buffer.add(data)
        events: list[Event] = []
        try:
            while READERS[self.state](self, events):
                pass
        except Fault as fault:
            error = ProtocolError(
                fault.message,
                offset=fault.offset,
                rule=fault.rule,
                received=self._received(),
                state=fault.state or self.state.value,
            )
        except ProtocolError as exc:
            error = exc
        else:
            return events
        self._fail(error)

    def feed_eof(self) -> list[Event]:
        """The peer closed the connection: finish the message or raise ``IncompleteMessage``."""
        if self.error is not None:
            raise self.error
        state = self.state
        if state is State.DONE:
            return []
        if state is State.BODY_UNTIL_CLOSE:
            # RFC 9112 §6.3 rule 8: the close is the end of this body.
            events: list[Event] = []
            self._finish(events, self._buffer.end, keep_alive=False)
            return events
        if state is State.STATUS_LINE and not self._received_any:
            message = "the connection closed before any response byte arrived"
        elif state in (State.STATUS_LINE, State.FIELDS):
            message = f"the connection closed inside the header section ({len(self._buffer)} bytes of head so far)"
        elif state is State.BODY_LENGTH:
            got = (self._resp.content_length or 0) - self._remaining
            message = f"the connection closed after {got} of {self._resp.content_length} body bytes (Content-Length)"
        elif state is State.CHUNK_DATA:
            message = f"the connection closed inside chunk data ({self._remaining} bytes of the chunk missing)"
        else:
            message = f"the connection closed inside the chunked body (in the {state.value})"
        self._fail(
            IncompleteMessage(
                message,
                offset=self._buffer.end,
                rule="RFC 9112 §8: incomplete message",
                received=self._received(),
                state=state.value,
            )
        )

    def add_field_events(self, events: list[Event]) -> None:
        """Put back into ``events``, in place, the ``Field`` events that ``field_events=False`` left out.

        ``events`` is what ``feed()`` and ``feed_eof()`` returned (all of it, or
        one feed's list). Each head's field lines are the bytes between its
        ``StatusLine`` and its ``EndOfHead``: they are cut again, by the same
        code, into the events the parser would have handed back. A head whose
        events are there already is left as it is.
        """
        raw = self.response.raw if self.response is not None else self._received()
        index = 1
        while index < len(events):
            status, end = events[index - 1], events[index]
            if type(status) is StatusLine and type(end) is EndOfHead:
                start = status.offset + len(status.raw)
                section = raw[start : end.offset]
                lines = _field_lines(section.decode("latin-1"), section, 0, len(section), start)
                assert lines is not None  # the parser accepted this head
                events[index:index] = lines.events(Field)
                index += len(lines.pairs)
            index += 1

    # -- the head: status line, fields, empty line --

    def _read_head(self, events: list[Event]) -> bool:
        buffer = self._buffer
        base = buffer.offset
        length = buffer.section_length()
        if length < 0 or length > self.max_head_bytes + 2:
            # Not the whole head yet, or too big. A server speaking something else (TLS, SSH,
            # garbage) fails at its first bytes, not after 64 KiB or at the close.
            if self.state is State.STATUS_LINE:
                diagnose.check_start(buffer.peek(5), base)
            # The empty line that ends the head (up to 2 bytes) does not count toward the limit;
            # checking "more than limit + 2 buffered" while the end is not yet found gives the
            # same verdict however the bytes were split.
            if (len(buffer) if length < 0 else length) > self.max_head_bytes + 2:
                raise Fault(
                    f"the header section is larger than {self.max_head_bytes} bytes (max_head_bytes)",
                    base + self.max_head_bytes,
                    "limit: MAX_HEAD_BYTES",
                )
            if self.state is State.STATUS_LINE and buffer.has_line():
                self.state = State.FIELDS  # the status line is in; it is checked with the whole head
            return False
        head = buffer.extract(length)
        if not self.keep_body:
            self._head_raw += head
        self._resp.head, self._resp.head_offset = head, base
        self._parse_head(head, base, events)
        return True

    def _parse_head(self, head: bytes, base: int, events: list[Event]) -> None:
        """Check a whole head against the grammar, and cut it into events."""
        self.state = State.STATUS_LINE
        # Decode once: latin-1 maps each byte to one character, so offsets stay byte offsets
        # and each field's name and value come out as str.
        text = head.decode("latin-1")
        status_end = text.index("\n") + 1
        end = len(head) - (2 if head.endswith(b"\r\n") else 1)  # where the empty line starts
        status = grammar.STATUS_LINE_END_RE.match(text)
        lines = _field_lines(text, head, status_end, end, base) if status else None
        if status is None or lines is None:
            diagnose.diagnose_head(head, base, self.max_fields)
        events.append(self._status_line(status.group(1, 2, 3, 4), head[:status_end], base))
        self.state = State.FIELDS
        self._check_count(lines, "header")
        fields = lines.events(Field) if self.field_events else None
        if fields is not None:
            events.extend(fields)
        self._end_of_head(lines, fields, events, head[end:], base + end)

    def _status_line(self, groups: tuple[str, ...], raw: bytes, offset: int) -> StatusLine:
        major, minor, code, reason = groups
        if major != "1":
            raise Fault(f"unsupported HTTP version HTTP/{major}.{minor}", offset + 5, "RFC 9112 §2.3")
        status = int(code)
        if status < 100:
            raise Fault(f"status code {status} is below 100", offset + 9, "RFC 9110 §15")
        event = StatusLine(f"HTTP/{major}.{minor}", status, reason or "", raw, offset)
        resp = self._resp
        resp.http_version, resp.status, resp.reason = event.http_version, status, event.reason
        return event

    def _check_count(self, lines: FieldLines, section: str) -> None:
        """At most max_fields fields in the header (or trailer) section."""
        if len(lines.pairs) > self.max_fields:
            raise diagnose.too_many_fields(self.max_fields, lines.offset(self.max_fields), section)

    def _end_of_head(
        self, lines: FieldLines, fields: list[Field] | None, events: list[Event], raw: bytes, offset: int
    ) -> None:
        """Decide the framing of the body (RFC 9112 §6.3) and move to its state.

        ``fields`` are the head's Field events, None when the parser makes none (field_events=False).
        """
        resp = self._resp
        resp.headers = lines.pairs
        # The three fields that decide framing and reuse, as events (their offsets go into errors).
        picked: dict[str, list[Field]] = {"transfer-encoding": [], "content-length": [], "connection": []}
        for index, (name, _) in enumerate(lines.pairs):
            bucket = picked.get(name.lower())
            if bucket is not None:
                bucket.append(fields[index] if fields is not None else lines.field(index))
        status = resp.status
        informational = 100 <= status < 200 and status != 101
        body_framing, length = framing.body_framing(
            status,
            request_method=self.request_method,
            http_version=resp.http_version,
            te_fields=picked["transfer-encoding"],
            cl_fields=picked["content-length"],
            max_body_size=self.max_body_size,
            warnings=resp.warnings,
        )
        events.append(EndOfHead(body_framing, length, informational, raw, offset))
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
            self.state = State.STATUS_LINE
            return
        resp.framing, resp.content_length = body_framing, length
        resp.keep_alive = framing.keep_alive(
            body_framing, status, resp.http_version, picked["connection"], resp.warnings
        )
        if body_framing is Framing.CHUNKED:
            self.state = State.CHUNK_SIZE
        elif body_framing is Framing.UNTIL_CLOSE:
            self.state = State.BODY_UNTIL_CLOSE
        elif length:
            self._remaining = length
            self.state = State.BODY_LENGTH
        else:  # no body, or Content-Length: 0
            self._finish(events, offset + len(raw), keep_alive=resp.keep_alive)

    # -- bodies --

    def _read_counted_data(self, events: list[Event]) -> bool:
        """A Content-Length body or one chunk's data: a known number of bytes, as Data events."""
        offset = self._buffer.offset
        data = self._buffer.extract(self._remaining)
        if not data:
            return False
        if self.keep_body:
            self._body_parts.append(data)
        events.append(Data(data, offset))
        self._remaining -= len(data)
        if self._remaining == 0:
            if self.state is State.CHUNK_DATA:
                self.state = State.CHUNK_DATA_END
            else:
                self._finish(events, offset + len(data), keep_alive=self._resp.keep_alive)
        return True

    def _read_until_close(self, events: list[Event]) -> bool:
        """A body that ends when the connection closes (RFC 9112 §6.3 rule 8): all there is."""
        offset = self._buffer.offset
        data = self._buffer.extract(len(self._buffer))
        if not data:
            return False
        if self.keep_body:
            self._body_parts.append(data)
        events.append(Data(data, offset))
        return True

    def _read_chunk_size(self, events: list[Event]) -> bool:
        buffer = self._buffer
        offset = buffer.offset
        # Most size lines arrive whole and valid: one match reads them. Else the line is looked at
        # closer: not all there yet, too long, or breaking the grammar somewhere (diagnose says where).
        m = buffer.extract_match(grammar.CHUNK_LINE_RE, self.max_chunk_line_bytes)
        if m is None:
            line = buffer.extract_line(self.max_chunk_line_bytes)
            if line is None:
                if len(buffer) >= self.max_chunk_line_bytes:
                    raise Fault(
                        f"a chunk size line longer than {self.max_chunk_line_bytes} bytes (max_chunk_line_bytes)",
                        offset + self.max_chunk_line_bytes,
                        "limit: MAX_CHUNK_LINE_BYTES",
                    )
                return False
            diagnose.diagnose_chunk_line(line, offset)
        line, digits, ext_text = m.group(0, 1, 2)
        size = int(digits, 16)  # at most MAX_CHUNK_LINE_BYTES digits: hex parsing is linear
        if size > self.max_body_size:
            raise Fault(
                f"chunk size 0x{digits[:20].decode()} is larger than {self.max_body_size} (max_body_size)",
                offset,
                "limit: MAX_BODY_SIZE",
            )
        extensions: list[tuple[str, str | None]] = []
        if ext_text:  # most chunks have no extensions
            for em in grammar.CHUNK_EXT_ELEMENT_RE.finditer(ext_text):
                name, value = em.group(1, 2)
                extensions.append((name.decode("ascii"), None if value is None else value.decode("latin-1")))
        header = ChunkHeader(size, extensions, line, offset)
        events.append(header)
        if self.keep_body:  # without the body, keeping one per chunk would grow without bound
            self._resp._chunk_headers.append(header)
        if size == 0:
            self.state = State.TRAILERS
            return True
        # Most frames arrive whole (a chat stream's are a few hundred bytes): then the data and
        # the CRLF after it are read here, at once; else the next two readers take them as they come.
        here = buffer.offset
        data = buffer.extract_chunk_data(size)
        if data is None:
            self._remaining = size
            self.state = State.CHUNK_DATA
            return True
        if self.keep_body:
            self._body_parts.append(data)
        events.append(Data(data, here))
        events.append(ChunkEnd(here + size))
        return True  # the state stays CHUNK_SIZE: the next frame's size line

    def _read_chunk_data_end(self, events: list[Event]) -> bool:
        buffer = self._buffer
        here = buffer.offset
        if buffer.extract_prefix(b"\r\n"):
            events.append(ChunkEnd(here))
            self.state = State.CHUNK_SIZE
            return True
        crlf = buffer.peek(2)
        # Check byte by byte so the error names the same offset however the input was split.
        if crlf[:1] not in (b"", b"\r"):
            raise Fault(
                f"chunk data not followed by CRLF (got {crlf[:1]!r} where CR belongs)",
                here,
                "RFC 9112 §7.1: chunk-data CRLF",
            )
        if len(crlf) < 2:
            return False  # nothing yet, or a CR whose LF may come in the next feed
        raise Fault(f"chunk data not followed by CRLF (got {crlf!r})", here + 1, "RFC 9112 §7.1: chunk-data CRLF")

    def _read_trailers(self, events: list[Event]) -> bool:
        buffer = self._buffer
        base = buffer.offset
        # Most chunked bodies have no trailer fields: just the final empty line.
        if buffer.extract_prefix(b"\r\n") or buffer.extract_prefix(b"\n"):
            self._finish(events, buffer.offset, keep_alive=self._resp.keep_alive)
            return True
        if buffer.peek(2) in (b"", b"\r"):
            return False  # nothing yet, or a CR whose LF may come in the next feed
        length = buffer.section_length()
        # As for the head: the same verdict whether the end is found in this feed or not.
        if (len(buffer) if length < 0 else length) - 2 > self.max_head_bytes:
            raise Fault(
                f"the trailer section is larger than {self.max_head_bytes} bytes (max_head_bytes)",
                base + self.max_head_bytes,
                "limit: MAX_HEAD_BYTES",
            )
        if length < 0:
            return False
        self._trailer_fields(events, buffer.extract(length), base)
        self._finish(events, base + length, keep_alive=self._resp.keep_alive)
        return True

    def _trailer_fields(self, events: list[Event], section: bytes, base: int) -> None:
        text = section.decode("latin-1")
        end = len(section) - (2 if section.endswith(b"\r\n") else 1)  # where the empty line starts
        lines = _field_lines(text, section, 0, end, base)
        if lines is None:
            diagnose.diagnose_trailers(section, base, self.max_fields)
        self._check_count(lines, "trailer")
        trailers = lines.events(Trailer)
        framing_fields = [t for t in trailers if t.name.lower() in ("transfer-encoding", "content-length")]
        if framing_fields:
            # The sender broke a MUST NOT (RFC 9110 §6.5.1), and a framing field after the body
            # can only mislead; a recipient may discard trailers (RFC 9112 §7.1.2), wire rejects.
            first = framing_fields[0]
            raise Fault(
                f"{first.name} in the trailer section: a field that frames the message cannot come after the body",
                first.offset,
                "RFC 9110 §6.5.1: fields that describe message framing cannot be processed outside the header section",
            )
        events.extend(trailers)
        self._resp.trailers = lines.pairs

    # -- the end --

    def _finish(self, events: list[Event], offset: int, *, keep_alive: bool) -> None:
        resp = self._resp
        resp.keep_alive = keep_alive
        if self.keep_body:
            resp._raw_parts, resp._raw_end = self._raw_parts, offset  # raw is joined on first use
            resp.body = b"".join(self._body_parts)
        else:
            resp.raw = bytes(self._head_raw)
        self._body_parts = []
        self._raw_parts = []
        self.response = resp
        self.state = State.DONE
        events.append(EndOfMessage(keep_alive, offset))

    def _read_after_done(self, events: list[Event]) -> bool:
        if len(self._buffer):
            offset = self._buffer.offset
            self._after_done(self._buffer.extract(len(self._buffer)), offset)
        return False

    def _after_done(self, rest: bytes, offset: int) -> list[Event]:
        """Bytes after a complete response: the start of another, or a protocol violation."""
        if self._resp.keep_alive:
            self.trailing_data += rest
            return []
        self._fail(
            ProtocolError(
                # (The message names only the first extra byte: how many arrive with it depends on the split.)
                f"bytes arrived after the end of a response on a closing connection (the first: {rest[:1]!r})",
                offset=offset,
                rule="RFC 9112 §9.6: nothing follows the last response on a connection being closed",
                received=bytes(self._resp.raw) + rest,
                state=State.DONE.value,
            )
        )

    # -- errors --

    def _received(self) -> bytes:
        """What arrived so far, for an error's evidence."""
        if self.keep_body:
            return b"".join(self._raw_parts)
        return bytes(self._head_raw) + self._buffer.rest()

    def _fail(self, error: ProtocolError) -> NoReturn:
        self.state = State.ERROR
        self.error = error
        raise error


class FieldLines(NamedTuple):
    """A header or trailer section cut into its field lines, in wire order.

    ``pairs`` are the (name, value) pairs, each value without the OWS around
    it (a folded field's value unfolded); ``raws`` each field's line as it
    arrived, line end included (a folded field's lines together); ``start``
    the stream offset of the first. The lines follow each other with nothing
    between.
    """

    pairs: list[tuple[str, str]]
    raws: list[bytes]
    start: int

    def offset(self, index: int) -> int:
        """The stream offset of field ``index``: the section's, plus the lengths of the lines before."""
        return self.start + sum(map(len, self.raws[:index]))

    def field(self, index: int) -> Field:
        """Field ``index`` as an event."""
        name, value = self.pairs[index]
        return Field(name, value, self.raws[index], self.offset(index))

    def events(self, kind: type[Field]) -> list[Field]:
        """One event per field: ``Field`` for the head, ``Trailer`` after a chunked body."""
        offsets = itertools.accumulate(map(len, self.raws), initial=self.start)
        # (one more offset than lines, hence strict=False: the last is where the section ends)
        return [
            kind(name, value, raw, offset)
            for (name, value), raw, offset in zip(self.pairs, self.raws, offsets, strict=False)
        ]


def _field_lines(text: str, section: bytes, start: int, end: int, base: int) -> FieldLines | None:
    """The field lines in ``section[start:end]`` (``text`` is its latin-1 decoding); None when one breaks the grammar.

    ``base`` is the stream offset of ``section``.
    """
    # One findall checks every line and cuts it into name and value, the loop running in C
    # (this took a quarter less than a match of the whole head, then a split and a
    # partition per line). A match is one whole line, with no CR but one before its LF.
    # bytes.splitlines cuts the raw lines at each LF, CRLF and lone CR: every line matched
    # when there are as many matches as raw lines.
    parts = grammar.FIELD_LINE_PARTS_RE.findall(text, start, end)
    raws = section[start:end].splitlines(keepends=True)
    if len(parts) != len(raws):
        # Some line is no field line. The grammar lets a line start with SP or HTAB as an
        # obs-fold, which nearly no section has: checked only here.
        if "\n " in text or "\n\t" in text:
            return _folded_field_lines(text, section, start, end, base)
        return None
    return FieldLines([(name, value.strip(" \t")) for name, value in parts], raws, base + start)


def _folded_field_lines(text: str, section: bytes, start: int, end: int, base: int) -> FieldLines | None:
    """The field lines in ``section[start:end]``, some folded; None when one breaks the grammar."""
    if grammar.FIELD_SECTION_RE.fullmatch(text, start, end) is None:
        return None
    # Every line is valid, so a CR can only come just before an LF: bytes.splitlines cuts the
    # raw lines where str.split("\n") cuts the text.
    lines = text[start:end].split("\n")[:-1]
    raws = section[start:end].splitlines(keepends=True)
    fields: list[Field] = []
    offset = base + start
    for line, raw in zip(lines, raws, strict=True):
        name, _, value = line.partition(":")
        fields.append(Field(name, value.strip(" \t\r"), raw, offset))  # strip OWS, and the CR of a CRLF
        offset += len(raw)
    unfolded = _unfold(fields)
    return FieldLines([(f.name, f.value) for f in unfolded], [f.raw for f in unfolded], base + start)


def _unfold(lines: list[Field]) -> list[Field]:
    """The fields with each obs-fold line joined to the field before it (RFC 9112 §5.2).

    A continuation line (one that starts with SP or HTAB) continues the field before it; a user
    agent "MUST replace each received obs-fold with one or more SP octets". wire puts one SP in
    place of the fold and its surrounding whitespace; ``raw`` keeps the lines as they came.
    """
    fields: list[Field] = []
    for line in lines:
        if line.raw[:1] in (b" ", b"\t"):
            last = fields[-1]
            more = line.raw.decode("latin-1").strip(" \t\r\n")
            value = " ".join(part for part in (last.value, more) if part)
            fields[-1] = Field(last.name, value, last.raw + line.raw, last.offset)
        else:
            fields.append(line)
    return fields


# Each state's reader: it reads what it can of the buffer and returns True when it made
# progress (then the reader of the new state runs), False when it needs more bytes.
READERS: dict[State, Callable[[ResponseParser, list[Event]], bool]] = {
    State.STATUS_LINE: ResponseParser._read_head,
    State.FIELDS: ResponseParser._read_head,
    State.BODY_LENGTH: ResponseParser._read_counted_data,
    State.BODY_UNTIL_CLOSE: ResponseParser._read_until_close,
    State.CHUNK_SIZE: ResponseParser._read_chunk_size,
    State.CHUNK_DATA: ResponseParser._read_counted_data,
    State.CHUNK_DATA_END: ResponseParser._read_chunk_data_end,
    State.TRAILERS: ResponseParser._read_trailers,
    State.DONE: ResponseParser._read_after_done,
}


def parse_response(data: bytes, *, request_method: str = "POST") -> Response:
    """Parse one whole response, as if the peer closed right after ``data``.

    Raises ``ProtocolError`` for malformed bytes and ``IncompleteMessage``
    when ``data`` ends before the response does. Bytes after the end of the
    response are an error too: one request gets one response.
    """
    # Only the Response is handed back, so the parser makes no Field event per field line.
    parser = ResponseParser(request_method=request_method, field_events=False)
    parser.feed(data)
    parser.feed_eof()
    if parser.trailing_data:
        raise trailing_data_error(parser, data)
    assert parser.response is not None
    return parser.response


def trailing_data_error(parser: ResponseParser, data: bytes) -> ProtocolError:
    """The error for bytes after the end of the one response ``data`` was to hold."""
    return ProtocolError(
        f"{len(parser.trailing_data)} bytes follow the end of the response",
        offset=len(data) - len(parser.trailing_data),
        rule="RFC 9112 §9.6: one request, one response",
        received=bytes(data),
    )
