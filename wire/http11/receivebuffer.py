"""The receive buffer: bytes that arrived and are not yet parsed, read by position.

Readers move ``pos`` forward instead of deleting consumed bytes from the
front, which would copy everything behind them on each step. After a feed,
``compact()`` keeps only the unread rest (a copy only when there is one);
when nothing is left over, the next feed's bytes are used as they arrived,
without copying them into a buffer at all. h11's ``_receivebuffer.py`` does
the same.

Stream offsets (counted from the first byte of the connection) are
``base + index``: every event and every error names a stream offset.
"""

from __future__ import annotations

import re

# A line end followed by an empty line (CRLF, or a bare LF: RFC 9112 §2.2): the end of a
# head or of a trailer section.
_EMPTY_LINE = re.compile(rb"\n\r?\n")


class ReceiveBuffer:
    """``data[pos:]`` is received and unread; ``base`` is the stream offset of ``data[0]``."""

    def __init__(self) -> None:
        self.data: bytes | bytearray = b""
        self.pos = 0
        self.base = 0
        self._scan = 0  # stream offset where the search for an empty line resumes

    def __len__(self) -> int:
        """How many bytes are received and not yet read."""
        return len(self.data) - self.pos

    @property
    def offset(self) -> int:
        """The stream offset of the next unread byte."""
        return self.base + self.pos

    @property
    def end(self) -> int:
        """The stream offset one past the last byte received."""
        return self.base + len(self.data)

    def add(self, data: bytes) -> None:
        """Append the bytes of one feed (after ``compact()``, so ``pos`` is 0)."""
        if self.data:
            self.data += data  # a bytearray holding the last feed's leftover
        else:
            self.data = data

    def compact(self) -> None:
        """After a feed: keep only the unread bytes, copying them only when there are any."""
        data, pos = self.data, self.pos
        if pos >= len(data):
            self.data = b""
        elif isinstance(data, bytearray):
            del data[:pos]
        else:
            self.data = bytearray(data[pos:])
        self.base += pos
        self.pos = 0

    def peek(self, n: int) -> bytes:
        """The next ``n`` unread bytes (fewer when fewer arrived), without reading them."""
        return bytes(self.data[self.pos : self.pos + n])

    def take(self, n: int) -> bytes:
        """Read the next ``n`` bytes (one copy; none when a whole feed is taken as it came)."""
        pos = self.pos
        data = self.data[pos : pos + n]
        self.pos = pos + n
        return data if type(data) is bytes else bytes(data)

    def rest(self) -> bytes:
        """Every unread byte, without reading it."""
        return bytes(self.data[self.pos :])

    def line_length(self, limit: int) -> int:
        """The length of the next line, LF included, when its LF is within ``limit`` bytes; else -1."""
        lf = self.data.find(b"\n", self.pos, self.pos + limit)
        return -1 if lf < 0 else lf + 1 - self.pos

    def section_length(self) -> int:
        """The length of the head or trailer section that starts here, up to and including
        its empty line; -1 when the empty line has not arrived yet."""
        m = _EMPTY_LINE.search(self.data, max(self.pos, self._scan - self.base))
        if m is not None:
            return m.end() - self.pos
        # Resume two bytes back next time: the empty line may straddle this feed and the next.
        self._scan = self.base + max(self.pos, len(self.data) - 2)
        return -1
