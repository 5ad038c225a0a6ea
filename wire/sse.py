"""Server-Sent Events: an incremental decoder for ``text/event-stream`` bodies.

A streamed Chat Completions reply is a body of type ``text/event-stream``: UTF-8
text in lines, where a blank line ends an *event block*::

    data: {"id":"chatcmpl-1","object":"chat.completion.chunk",...}
    <blank line>
    : keep-alive comments start with a colon
    data: [DONE]
    <blank line>

The stream's grammar is WHATWG HTML §9.2.5 "Parsing an event stream"; the
rules a client follows, line by line, are §9.2.6 "Interpreting an event
stream", and the code below quotes each rule above the lines that apply it.
Comments exist for proxies: "Legacy proxy servers are known to, in certain
cases, drop HTTP connections after a short timeout" (§9.2.7), so a server
sends a comment line now and then. ``data: [DONE]`` is not SSE at all, but
OpenAI's end marker: ``wire.chat`` reads it. The decoder is
*sans-I/O*: it never touches a socket. ``feed()`` takes whatever bytes arrived
(any split, even one byte at a time) and returns the messages those bytes
completed; ``flush()`` says what the end of the stream means.

    decoder = SSEDecoder()
    for piece in body_pieces:
        for event in decoder.feed(piece):
            print(event.data)
    decoder.flush()          # the end of the stream: completes or drops the rest
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any

from wire.errors import ProtocolError
from wire.secrets import key_shaped, redact_text

RULE = "WHATWG HTML 9.2.6"

# The spec sets no limit; 1 MiB is thousands of chunk lines long, yet bounds what a broken peer makes us buffer.
MAX_LINE_BYTES = 1024 * 1024

_BOM = b"\xef\xbb\xbf"  # U+FEFF encoded in UTF-8
_LINE_END_BYTES = b"\r\n"  # `byte in _LINE_END_BYTES` tests for CR or LF
# One `data: ` line, then a blank line (for the fast path; LF only). In a bytes pattern `.` is any byte but LF.
_DATA_BLOCK = re.compile(rb"data: .*\n\n")


@dataclass(slots=True)
class ServerSentEvent:
    """One message the stream dispatched.

    ``event`` is the type ("message" when the block had no ``event:`` field),
    ``data`` the ``data:`` lines joined with ``\\n``, ``id`` the last event ID
    at the time of dispatch (it carries over from earlier blocks; None if the
    stream never set one), ``retry`` the reconnection time (ms) set by a
    ``retry:`` field *in this block*, else None. For the showing layer,
    ``offset`` is the byte offset in the stream of the block's first line and
    ``raw`` the exact bytes of the block, its terminating blank line included.

    Treat it as read-only. It is not ``frozen=True`` on purpose: a frozen
    dataclass takes three times as long to build, and the decoder builds one
    per event (see the speed note in ``SSEDecoder._read_data_blocks``).
    """

    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None
    offset: int = 0
    raw: bytes = b""

    def __repr__(self) -> str:
        shown = (
            f"ServerSentEvent(event={self.event!r}, data={self.data!r}, id={self.id!r}, "
            f"retry={self.retry!r}, offset={self.offset}, raw=<{len(self.raw)} bytes>)"
        )
        return redact_text(shown, key_shaped(shown))  # a server that echoes the key: never shown whole

    def _repr_html_(self) -> str:
        """The event's fields and bytes as HTML, for Jupyter (wire/notebook.py)."""
        # Imported by name when first shown: the views come after every layer (tests/test_imports.py).
        shown: str = importlib.import_module("wire.notebook").html(self)
        return shown

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """The same as text in IPython's terminal."""
        importlib.import_module("wire.notebook").repr_pretty(self, printer, cycle)


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment line (``: ping``): not a message, but worth showing in a trace.

    ``text`` is the line after the colon, one leading space removed (as for
    field values); ``offset`` is the line's byte offset in the stream and
    ``raw`` its exact bytes, line end included.
    """

    text: str
    offset: int
    raw: bytes


class SSEDecoder:
    """Turns the bytes of a ``text/event-stream`` body into ``ServerSentEvent``s.

    ``feed(data)`` returns the messages that ``data`` completed; ``flush()``
    (once, at the end of the stream) returns what the end completes and drops
    an unterminated event. Splitting the same bytes differently never changes
    the events. Inspectable state, for the showing layer:

    - ``comments``: every comment line, in order, as ``Comment``.
    - ``last_event_id``: the spec's "last event ID buffer" (None until set).
    - ``retry``: the stream's reconnection time in ms, from the last valid
      ``retry:`` field (None until set).
    - ``dropped``: after ``flush()``, the exact bytes of the event block that
      the stream ended inside (lines after the last blank line, including an
      unterminated last line); ``b""`` if the stream ended cleanly.
    - ``events_before_error``: if ``feed()`` raised, the messages that the same
      call had completed before the faulty line (they were not returned).
    - ``offset``: how many bytes of the stream have been split into lines.

    A line longer than ``max_line`` bytes (line end not counted) raises
    ``ProtocolError``, whatever the split of the input; after that the decoder
    raises the same error again, and after ``flush()`` ``feed()`` raises
    ``RuntimeError`` (a second ``flush()`` returns ``[]``).
    """

    def __init__(self, *, max_line: int = MAX_LINE_BYTES) -> None:
        if max_line < 1:
            raise ValueError("max_line must be at least 1")
        self.max_line = max_line
        self.comments: list[Comment] = []
        self.last_event_id: str | None = None
        self.retry: int | None = None
        self.dropped = b""
        self.events_before_error: list[ServerSentEvent] = []
        # Where the stream is: `offset` is the stream offset of the first byte of `_partial`.
        self.offset = 0
        self._bom_head: bytes | None = b""  # the first bytes while they may still be a BOM; None once decided
        self._partial: list[bytes] = []  # an unfinished line, in the pieces it arrived in
        self._partial_len = 0
        self._held_cr = False  # `_partial` is a line that ended in CR at the end of the input: maybe half a CRLF
        self._closed = False
        self._error: ProtocolError | None = None
        # The event block being read (the spec's buffers, plus what the showing layer needs).
        self._data: list[str] = []  # the data buffer, one item per `data` line
        self._event_type = ""  # the event type buffer
        self._block_retry: int | None = None
        self._block_offset = 0  # stream offset of the block's first line
        self._block_raw: list[bytes] = []  # the block's bytes from earlier feeds

    # -- input ---------------------------------------------------------------

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        """Take the next bytes of the stream; return the messages they completed."""
        if self._error is not None or self._closed:
            self._check_open()
        if self._bom_head is not None:
            data = self._skip_bom(data)
        if not data:
            return []
        events: list[ServerSentEvent] = []
        try:
            # "Lines must be separated by either a U+000D CARRIAGE RETURN U+000A LINE FEED
            # (CRLF) character pair, a single U+000A LINE FEED (LF) character, or a single
            # U+000D CARRIAGE RETURN (CR) character." (`_partial` holds no CR, except a held one.)
            has_cr = self._held_cr or b"\r" in data
            lines_end = data.rfind(b"\n") + 1  # complete lines end here (for LF-only input)
            if not lines_end and not has_cr:
                self._extend_line(data)  # no line end: the current line goes on
                return events
            # 1. The held tail of the last feed (an unfinished line) and the new bytes, as one buffer.
            if self._partial:
                self._partial.append(data)
                buf = b"".join(self._partial)
            else:
                buf = data
            # 2. Where its complete lines end. A CR as the very last byte may be half a CRLF whose
            # LF is in the next feed: the line it ends is held until that byte says.
            if has_cr:
                last = len(buf) - 1 if buf[-1] == 13 else len(buf)  # 13: CR
                lines_end = max(buf.rfind(b"\n", 0, last), buf.rfind(b"\r", 0, last)) + 1
            else:
                lines_end += len(buf) - len(data)
            # 3. The lines. LF only, as OpenAI sends: whole `data:` blocks go the fast way first.
            start = 0
            if not has_cr and not self._block_raw and buf[:6] == b"data: ":
                blocks_end = buf.rfind(b"\n\n", 0, lines_end) + 2  # whole blocks end here (1: none)
                if 1 < blocks_end <= self.max_line:  # a run this short cannot hold an over-long line
                    start = self._read_data_blocks(buf, blocks_end, events)
            if start < lines_end:
                # bytes.splitlines() breaks at exactly CRLF, LF and CR (str.splitlines also breaks at \x0b, \x1c, ...).
                self._read_lines(buf, buf[start:lines_end].splitlines(keepends=True), events, start)
            # 4. Hold the rest (an unfinished line, or one that ended in CR) for the next feed.
            tail = buf[lines_end:]
            self._held_cr = tail[-1:] == b"\r"
            if len(tail) - self._held_cr > self.max_line:  # the line end does not count toward the limit
                raise self._line_too_long(self.offset)
            self._partial = [tail] if tail else []
            self._partial_len = len(tail)
        except ProtocolError as exc:
            self._fail(exc, events)
        return events

    def flush(self) -> list[ServerSentEvent]:
        """Say the stream ended; return the messages the end completes.

        A last line that ended in CR is complete now (no LF can follow), so a
        blank line held that way dispatches its event here. "Once the end of
        the file is reached, any pending data must be discarded. (If the file
        ends in the middle of an event, before the final empty line, the
        incomplete event is not dispatched.)": those bytes go to ``dropped``.
        """
        if self._error is not None:
            raise self._error
        if self._closed:
            return []
        self._closed = True
        events: list[ServerSentEvent] = []
        partial = b"".join(self._partial)
        if self._bom_head:  # the stream was too short to tell whether it began with a BOM
            partial = self._bom_head
        if self._held_cr:
            try:
                self._read_lines(partial, [partial], events)
            except ProtocolError as exc:  # pragma: no cover - feed() already checked this line's length
                self._fail(exc, events)
            partial = b""
        self.dropped = b"".join(self._block_raw) + partial
        self._partial = []
        self._partial_len = 0
        self._held_cr = False
        self._data = []
        self._block_raw = []
        return events

    # -- the steps ------------------------------------------------------------

    def _skip_bom(self, data: bytes) -> bytes:
        if isinstance(data, str):  # the first feed: where a stream pasted as text shows up
            raise TypeError("feed() takes bytes, not str (a str: encode it first, as UTF-8)")
        # "One leading U+FEFF BYTE ORDER MARK character must be ignored if any are present."
        head = (self._bom_head or b"") + data
        if len(head) < len(_BOM) and _BOM.startswith(head):
            self._bom_head = head  # too short to tell yet; wait for more
            return b""
        self._bom_head = None
        if head.startswith(_BOM):
            self.offset = self._block_offset = len(_BOM)
            return head[len(_BOM) :]
        return head

    def _read_lines(self, buf: bytes, lines: list[bytes], events: list[ServerSentEvent], start: int = 0) -> None:
        """Apply the spec to each complete line; ``lines`` are the lines of ``buf`` from ``buf[start]`` on."""
        base = self.offset - start  # stream offset of buf[0]
        too_long = None
        if len(buf) > self.max_line:  # a buffer no longer than the limit cannot hold a line over it: skip the checks
            too_long = self._first_long_line(lines)
            if too_long is not None:
                lines = lines[:too_long]  # read the lines before it, then raise
        # Hot loop: the buffers live in locals, written back at the end.
        data = self._data
        event_type = self._event_type
        block_retry = self._block_retry
        last_id = self.last_event_id
        block_offset = self._block_offset
        block_start = start  # where the block begins in buf (`start`: there or earlier)
        pos = start  # where the current line begins in buf
        for line in lines:
            end = pos + len(line)
            if line[0] in _LINE_END_BYTES:
                # "If the line is empty (a blank line): Dispatch the event."
                # "If the data buffer is an empty string, set the data buffer and the event
                # type buffer to the empty string and return." Otherwise the event fires with
                # type "message" if the event type buffer is empty, and the last event ID.
                if data:
                    if self._block_raw:
                        raw = b"".join(self._block_raw) + buf[block_start:end]
                    else:
                        raw = buf[block_start:end]
                    message = "\n".join(data)
                    event = ServerSentEvent(event_type or "message", message, last_id, block_retry, block_offset, raw)
                    events.append(event)
                    data = []
                self._block_raw = []
                event_type = ""
                block_retry = None
                block_start = end
                block_offset = base + end
                pos = end
                continue
            # Decode one whole line: a UTF-8 sequence never contains CR or LF bytes, so no character
            # is ever cut by a line end; bad bytes become U+FFFD, as the spec's "UTF-8 decode" does.
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            # "If the line contains a U+003A COLON character (:): Collect the characters on
            # the line before the first colon, and let field be that string. Collect the
            # characters on the line after the first colon, and let value be that string.
            # If value starts with a U+0020 SPACE character, remove it from value."
            # "Otherwise, the string is not empty but does not contain a U+003A COLON
            # character: process the field using the whole line as the field name, and the
            # empty string as the field value." (str.partition gives exactly that.)
            name, _, value = text.partition(":")
            if value[:1] == " ":
                value = value[1:]
            if name == "data":
                # "Append the field value to the data buffer, then append a single U+000A
                # LINE FEED (LF) character to the data buffer." (Joining with LF at dispatch
                # and dropping the last LF, as the spec does, is the same thing.)
                data.append(value)
            elif not name:
                # "If the line starts with a U+003A COLON character (:): Ignore the line."
                self.comments.append(Comment(value, base + pos, line))
            elif name == "event":
                # "Set the event type buffer to the field value."
                event_type = value
            elif name == "id":
                # "If the field value does not contain U+0000 NULL, then set the last event
                # ID buffer to the field value. Otherwise, ignore the field."
                if "\0" not in value:
                    last_id = value
            elif name == "retry":
                # "If the field value consists of only ASCII digits, then interpret the field
                # value as an integer in base ten, and set the event stream's reconnection
                # time to that integer. Otherwise, ignore the field."
                if value.isascii() and value.isdigit():
                    try:
                        block_retry = self.retry = int(value)
                    except ValueError:  # Python refuses to convert more than 4300 digits; no sane value has them
                        pass
            # "Otherwise: The field is ignored."
            pos = end
        if block_start < pos:  # the block goes on into the next feed: keep its bytes for `raw`
            self._block_raw.append(buf[block_start:pos])
        self._data = data
        self._event_type = event_type
        self._block_retry = block_retry
        self.last_event_id = last_id
        self._block_offset = block_offset
        self.offset = base + pos
        if too_long is not None:
            raise self._line_too_long(self.offset)

    def _read_data_blocks(self, buf: bytes, end: int, events: list[ServerSentEvent]) -> int:
        """The fast path: dispatch ``buf[:end]`` if it is nothing but ``data: ...`` blocks; return where it stopped.

        Every chunk that OpenAI streams is one such block, ``data: {...}`` LF LF.
        Speed note: reading them line by line in Python costs about as much as
        the openai SDK's decoder does; one regex call that finds them all, and
        a plain loop over what it found, take half the time. Each block becomes
        exactly the event that ``_read_lines`` would make of it (a data buffer
        holding one value, type "message", the last event ID, no retry). If the
        blocks found do not cover ``buf[:end]`` end to end, some other line is
        there: nothing is dispatched and 0 is returned, so that ``_read_lines``
        reads it all.
        """
        found: list[ServerSentEvent] = []
        offset = self.offset
        last_id = self.last_event_id
        for raw in _DATA_BLOCK.findall(buf, 0, end):
            value = raw[6:-2].decode("utf-8", "replace")  # between "data: " and LF LF
            found.append(ServerSentEvent("message", value, last_id, None, offset, raw))
            offset += len(raw)
        if offset != self.offset + end:  # findall skips what does not match: a gap means another kind of line
            return 0
        events += found
        self.offset = self._block_offset = offset
        return end

    def _extend_line(self, data: bytes) -> None:
        """Keep a piece of a line that has not ended yet; join the pieces once, when it ends."""
        self._partial.append(data)
        self._partial_len += len(data)
        if self._partial_len > self.max_line:
            raise self._line_too_long(self.offset)

    def _first_long_line(self, lines: list[bytes]) -> int | None:
        """The index of the first line over ``max_line`` (its line end not counted), if any."""
        for index, line in enumerate(lines):
            if len(line) > self.max_line and len(line.rstrip(b"\r\n")) > self.max_line:
                return index
        return None

    def _line_too_long(self, offset: int) -> ProtocolError:
        # The same error whatever the split of the input: it names where the line starts, not how much had come.
        return ProtocolError(
            f"event stream line is longer than max_line={self.max_line} bytes",
            offset=offset,
            rule=f"{RULE}: lines end in CRLF, LF or CR; wire refuses lines over max_line",
        )

    def _fail(self, exc: ProtocolError, events: list[ServerSentEvent]) -> None:
        self._error = exc
        self.events_before_error = events
        raise exc

    def _check_open(self) -> None:
        if self._error is not None:
            raise self._error
        if self._closed:
            raise RuntimeError("SSEDecoder: the stream was already flushed")


# -- the other direction: for tests and the fake server ---------------------


def encode_event(
    data: str,
    event: str | None = None,
    id: str | None = None,
    retry: int | None = None,
    *,
    line_end: str = "\n",
) -> bytes:
    """The bytes of one event block: ``event:``, ``id:``, ``retry:``, ``data:`` lines, blank line.

    ``data`` may hold LFs (one ``data:`` line each). CR cannot be sent inside a
    value (a decoder would read it as a line end), and neither can LF outside
    ``data`` or NUL in ``id``: those raise ``ValueError``.
    """
    if line_end not in ("\n", "\r\n", "\r"):
        raise ValueError(f"line_end must be LF, CRLF or CR, not {line_end!r}")
    lines: list[str] = []
    if event:
        lines.append("event: " + _check_value("event", event))
    if id is not None:
        if "\0" in id:
            raise ValueError("an id with NUL would be ignored by the decoder")
        lines.append("id: " + _check_value("id", id))
    if retry is not None:
        if retry < 0:
            raise ValueError("retry must be a non-negative integer")
        lines.append(f"retry: {retry}")
    if "\r" in data:
        raise ValueError("data cannot hold CR: the decoder would read it as a line end")
    lines.extend("data: " + part for part in data.split("\n"))
    return (line_end.join(lines) + line_end + line_end).encode("utf-8")


def encode_comment(text: str, *, line_end: str = "\n") -> bytes:
    """The bytes of one comment line, such as the keep-alive ``: ping``."""
    return (": " + _check_value("comment", text) + line_end).encode("utf-8")


def _check_value(what: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"{what} cannot hold CR or LF")
    return value
