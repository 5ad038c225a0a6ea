"""The parsed response: status line, fields, body, trailers, and the chunk frames."""

from __future__ import annotations

import functools
import importlib
from typing import Any

from wire.http11.events import ChunkHeader, Framing
from wire.secrets import key_shaped, redact_text


class ChunkFrame:
    """One chunk frame of a chunked body: its size line, data and closing CRLF (RFC 9112 §7.1)."""

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
    (RFC 9110 §5.3), which is right for list-based fields only: read a
    ``Set-Cookie`` (which "cannot be combined into a single field value",
    RFC 9110 §5.3) from ``headers``. ``body`` is de-chunked.

    ``raw`` is every byte that arrived, from the first byte of the stream, so
    an event's offset indexes it: interim 1xx heads first, when there were
    any (each is also in ``informational``, with its own head as its
    ``raw``), then this response. Only the head(s) when the body was not kept.
    The parser keeps the reads as they came and ``raw`` joins them on first use.

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
        self._raw = b""
        # The reads the parser kept, joined into raw on first use, up to stream offset _raw_end.
        self._raw_parts: list[bytes] = []
        self._raw_end = 0
        self.head = b""
        self.head_offset = 0
        self._chunk_headers: list[ChunkHeader] = []  # of a kept chunked body: frames are built from them
        self.framing = Framing.UNTIL_CLOSE
        self.content_length: int | None = None
        self.keep_alive = False
        self.informational: list[Response] = []
        self.warnings: list[str] = []

    @property
    def raw(self) -> bytes:
        """Every byte of the response(s) as it arrived (see the class's docstring)."""
        # Joined here, not when the message ends: the Client reads the body and keeps the bytes it
        # received anyway; only a view reads raw. Joining a large body at the end cost P2
        # (keep_body=True) 2.5x its time: 8 MiB of fresh memory per response beside the body's.
        if self._raw_parts:
            raw = b"".join(self._raw_parts)  # one part (a whole feed): no copy at all
            self._raw = raw[: self._raw_end] if len(raw) > self._raw_end else raw
            self._raw_parts = []  # rebound, not cleared: a copy.copy of this response shares the list
        return self._raw

    @raw.setter
    def raw(self, value: bytes) -> None:
        self._raw, self._raw_parts = value, []

    @functools.cached_property
    def frames(self) -> list[ChunkFrame]:
        """The chunk frames of a chunked body, in order (none when the body was not kept)."""
        # Built on first use from the ChunkHeader events: most callers never look. Frames
        # sit end to end, so each ends where the next begins, and the last (size 0, with
        # the trailers) where the message ends.
        headers = self._chunk_headers
        ends = [c.offset for c in headers[1:]] + [len(self.raw)] if headers else []
        return [
            ChunkFrame(c.size, c.extensions, c.raw, c.offset, end, self.raw)
            for c, end in zip(headers, ends, strict=True)
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
        shown = (
            f"<Response {self.http_version} {self.status} {self.reason!r}, {len(self.headers)} fields, "
            f"{len(self.body)} body bytes, framing={self.framing.value}>"
        )
        return redact_text(shown, key_shaped(shown))  # a reason phrase that echoes the key: never shown whole

    def _repr_html_(self) -> str:
        """The head and the body framing as HTML, for Jupyter (wire/notebook.py)."""
        # Imported by name when first shown: the views come after every layer (tests/test_imports.py).
        shown: str = importlib.import_module("wire.notebook").html(self)
        return shown

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """The same as text in IPython's terminal."""
        importlib.import_module("wire.notebook").repr_pretty(self, printer, cycle)
