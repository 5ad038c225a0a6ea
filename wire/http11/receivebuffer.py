"""The receive buffer: bytes that arrived and are not yet parsed, read by position.

Readers take bytes from the front with one call each (``extract*``, as in
h11's ``_receivebuffer.py``), which moves a position forward instead of
deleting the bytes from the front (that would copy everything behind them
on each step). The next feed drops what was read: when everything was, its
bytes are used as they arrived, without copying them into a buffer at all;
otherwise the unread rest is kept in a ``bytearray`` that grows in place.

``offset`` is the stream offset (counted from the first byte of the
connection) of the next unread byte: every event and every error names a
stream offset.
"""

from __future__ import annotations

import re

# A line end followed by an empty line (CRLF, or a bare LF: RFC 9112 §2.2): the end of a
# head or of a trailer section.
_EMPTY_LINE = re.compile(rb"\n\r?\n")


class ReceiveBuffer:
    """``data[pos:]`` is received and unread; its first byte is at stream offset ``offset``."""

    def __init__(self) -> None:
        self.data: bytes | bytearray = b""
        self.pos = 0
        self.offset = 0
        self._scan = 0  # stream offset where the search for an empty line resumes

    def __len__(self) -> int:
        """How many bytes are received and not yet read."""
        return len(self.data) - self.pos

    @property
    def end(self) -> int:
        """The stream offset one past the last byte received."""
        return self.offset + len(self.data) - self.pos

    def add(self, data: bytes) -> None:
        """Append the bytes of one feed, first dropping the bytes already read."""
        if self.pos == len(self.data):
            self.data = data  # everything before was read: use the new bytes as they came
        else:
            if isinstance(self.data, bytes):
                self.data = bytearray(self.data[self.pos :])  # the first leftover: one copy
            else:
                del self.data[: self.pos]
            self.data += data
        self.pos = 0

    def peek(self, n: int) -> bytes:
        """The next ``n`` unread bytes (fewer when fewer arrived), without reading them."""
        return bytes(self.data[self.pos : self.pos + n])

    def rest(self) -> bytes:
        """Every unread byte, without reading it."""
        return bytes(self.data[self.pos :])

    def extract(self, n: int) -> bytes:
        """Read the next ``n`` bytes, or as many as there are (one copy, none when a whole feed
        is taken as it came)."""
        pos = self.pos
        data = self.data[pos : pos + n]
        self.pos = pos + len(data)
        self.offset += len(data)
        return data if type(data) is bytes else bytes(data)

    def extract_chunk_data(self, size: int) -> bytes | None:
        """Read ``size`` bytes and the CRLF after them when all have arrived; else read nothing (None).

        Also None when other bytes stand where the CRLF belongs: the parser's reader for
        that place then reads them and names the fault.
        """
        pos = self.pos
        end = pos + size
        if len(self.data) < end + 2 or self.data[end : end + 2] != b"\r\n":
            return None
        data = self.data[pos:end]
        self.pos = end + 2
        self.offset += size + 2
        return data if type(data) is bytes else bytes(data)

    def extract_prefix(self, prefix: bytes) -> bool:
        """Read ``prefix`` if the unread bytes start with it; else read nothing and say so."""
        if not self.data.startswith(prefix, self.pos):
            return False
        self.pos += len(prefix)
        self.offset += len(prefix)
        return True

    def extract_line(self, limit: int) -> bytes | None:
        """Read the next line, LF included, when its LF is within ``limit`` bytes; else None."""
        pos = self.pos
        lf = self.data.find(b"\n", pos, pos + limit)
        if lf < 0:
            return None
        line = self.data[pos : lf + 1]
        self.pos = lf + 1
        self.offset += len(line)
        return line if type(line) is bytes else bytes(line)

    def extract_match(self, pattern: re.Pattern[bytes], limit: int) -> re.Match[bytes] | None:
        """Read what ``pattern`` matches at the front, within ``limit`` bytes; else read nothing (None)."""
        pos = self.pos
        m = pattern.match(self.data, pos, pos + limit)
        if m is not None:
            self.pos = m.end()
            self.offset += self.pos - pos
        return m

    def has_line(self) -> bool:
        """Has a whole line (up to an LF) arrived?"""
        return self.data.find(b"\n", self.pos) >= 0

    def section_length(self) -> int:
        """The length of the head or trailer section that starts here, up to and including
        its empty line; -1 when that empty line has not arrived yet."""
        m = _EMPTY_LINE.search(self.data, max(self.pos, self.pos + self._scan - self.offset))
        if m is not None:
            return m.end() - self.pos
        # Resume two bytes back next time: the empty line may straddle this feed and the next.
        self._scan = self.offset + max(0, len(self.data) - self.pos - 2)
        return -1
