"""Content coding: a compressed body, decoded with zlib, as a layer between the body framing and the JSON.

    body framing (chunked / length)  ->  content coding (gzip, deflate)  ->  JSON or SSE

Two different codings live in HTTP/1.1. A *transfer* coding (``chunked``,
RFC 9112 §7) is a property of one hop and is removed by the framing layer. A
*content* coding (RFC 9110 §8.4) belongs to the representation itself: the
server compressed the JSON, and ``Content-Encoding`` says how. A client asks
for it with ``Accept-Encoding`` (RFC 9110 §12.5.3); wire sends that field only
when asked (``Client(compressed=True)``, ``--compressed``), and then decodes:

    Accept-Encoding: gzip, deflate          what wire offers (the codings zlib decodes)
    Content-Encoding: gzip                  what the server applied, in the order applied

RFC 9110 §8.4: "If one or more encodings have been applied to a
representation, the sender that applied the encodings MUST generate a
Content-Encoding header field that lists the content codings in the order in
which they were applied." So ``gzip, deflate`` is undone deflate first.

The codings zlib decodes (RFC 9110 §8.4.1):

- ``gzip`` (§8.4.1.3): the gzip file format, RFC 1952; "A recipient SHOULD
  consider "x-gzip" to be equivalent to "gzip"". A gzip stream may hold several
  members one after another (RFC 1952 §2.2); each is decoded.
- ``deflate`` (§8.4.1.2): "a "zlib" data format [RFC1950] containing a
  "deflate" compressed data stream [RFC1951]". The same section notes: "Some
  non-conformant implementations send the "deflate" compressed data without
  the zlib wrapper." wire accepts both, as curl (``lib/content_encoding.c``)
  and httpx (``_decoders.py``, ``DeflateDecoder``) do. They try zlib and fall
  back to raw deflate on a data error; wire looks at the first two bytes
  instead: when they are not a zlib header (RFC 1950 §2.2: compression method
  8 and ``CMF * 256 + FLG`` a multiple of 31), the data is read as raw deflate,
  and ``ContentCoding.raw_deflate`` says so.
- ``identity`` (§12.5.3) means no coding; it is skipped.

Anything else (``br``, ``zstd``, ``compress``, a name wire does not know) is a
``ProtocolError`` that names it: the standard library has no decoder for it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import NoReturn

from wire.errors import ProtocolError
from wire.request import Request

# What wire asks for: the two codings the standard library's zlib decodes.
ACCEPT_ENCODING = "gzip, deflate"
# The largest decoded body wire keeps. A chat reply is a few KiB (a long stream a few MiB) but a
# few KiB of gzip can decode to gigabytes (a "zip bomb"): past this the reply is refused.
MAX_DECODED_BYTES = 64 * 1024 * 1024

RULE = "RFC 9110 §8.4: Content-Encoding"
# The names of a content coding wire decodes (case-insensitive, RFC 9110 §8.4.1), and what each is.
KNOWN = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate"}
# zlib's wbits for each format (zlib.decompressobj): gzip wrapper (16 + 15), zlib wrapper (15), none (-15).
GZIP_WBITS = 16 + zlib.MAX_WBITS
ZLIB_WBITS = zlib.MAX_WBITS
RAW_DEFLATE_WBITS = -zlib.MAX_WBITS


@dataclass
class ContentCoding:
    """The content-coding layer of one reply: what was asked, what was applied, the sizes, the decoded bytes.

    ``codings`` are the reply's ``Content-Encoding`` values in the order the
    server applied them (empty: the body came as it is). ``compressed_size``
    counts the body bytes as framed, ``decoded`` holds the body once decoded.
    """

    asked: str | None  # the Accept-Encoding wire sent, or None
    codings: list[str]
    compressed_size: int = 0
    decoded: bytes = b""
    raw_deflate: bool = False  # "deflate" came without its zlib wrapper (non-conformant, accepted)

    @property
    def decoded_size(self) -> int:
        return len(self.decoded)

    @property
    def applied(self) -> bool:
        """True when the body was encoded (and so decoded here)."""
        return bool(self.codings)


def accept_encoding(request: Request) -> None:
    """Add ``Accept-Encoding: gzip, deflate`` to ``request``, right after its ``Accept`` field."""
    names = [name.lower() for name, _ in request.headers]
    at = names.index("accept") + 1 if "accept" in names else len(names)
    request.headers.insert(at, ("Accept-Encoding", ACCEPT_ENCODING))


def content_codings(value: str | None) -> list[str]:
    """The codings a ``Content-Encoding`` value lists, lower-cased, ``identity`` left out.

    RFC 9110 §8.4: ``Content-Encoding = #content-coding``, a comma-separated
    list (§5.6.1.2: a recipient ignores empty elements); ``content-coding = token``.
    """
    if value is None:
        return []
    codings = [part.strip().lower() for part in value.split(",")]
    return [c for c in codings if c and c != "identity"]


class _Decoder:
    """One coding undone incrementally: zlib with the right wrapper; for gzip, member after member."""

    def __init__(self, coding: str) -> None:
        self.coding = KNOWN[coding]
        self.name = coding
        self.raw_deflate = False
        self.seen = b""  # the first bytes, until the wrapper is known (deflate needs two)
        self.zlib: zlib._Decompress | None = None
        if self.coding == "gzip":
            self.zlib = zlib.decompressobj(GZIP_WBITS)

    def feed(self, data: bytes, limit: int) -> bytes:
        """Decode what ``data`` completes, at most ``limit`` bytes of output (more raises ``_TooBig``)."""
        if self.zlib is None:  # deflate: look at the first two bytes to choose the wrapper
            self.seen += data
            if len(self.seen) < 2:
                return b""
            data, self.seen = self.seen, b""
            self.raw_deflate = not _zlib_header(data[0], data[1])
            self.zlib = zlib.decompressobj(RAW_DEFLATE_WBITS if self.raw_deflate else ZLIB_WBITS)
        out = b""
        while data:
            if self.zlib.eof:
                if self.coding != "gzip":
                    raise zlib.error(f"{len(data)} byte(s) after the end of the deflate data")
                self.zlib = zlib.decompressobj(GZIP_WBITS)  # the next gzip member (RFC 1952 §2.2)
            out += self.zlib.decompress(data, limit - len(out) + 1)
            if len(out) > limit:
                raise _TooBig
            data = self.zlib.unconsumed_tail or self.zlib.unused_data
        return out

    def finish(self) -> None:
        """The end of the body: the coded data must have ended too (a gzip trailer, a final deflate block)."""
        if self.zlib is None:
            raise zlib.error(f"the body ended after {len(self.seen)} byte(s), before any {self.coding} data")
        if not self.zlib.eof:
            raise zlib.error(f"the {self.coding} data is cut short: the body ended before its end")


class _TooBig(Exception):
    """The decoded body passed ``MAX_DECODED_BYTES``."""


def _zlib_header(cmf: int, flg: int) -> bool:
    """RFC 1950 §2.2: CM (the low 4 bits of CMF) is 8 for deflate, and CMF*256 + FLG is a multiple of 31."""
    return cmf & 0x0F == 8 and (cmf * 256 + flg) % 31 == 0


class BodyDecoder:
    """Undo a reply's content codings, piece by piece as the body arrives (so a stream's events come at once).

    ``feed(data)`` takes body bytes as framed and returns the decoded bytes
    they complete; ``finish()`` checks that the coded data ended with the
    body and returns the ``ContentCoding`` record. A fault is a
    ``ProtocolError`` whose offset is the body byte decoding had reached.
    """

    def __init__(self, content_encoding: str | None, *, asked: str | None, limit: int = MAX_DECODED_BYTES) -> None:
        self.record = ContentCoding(asked=asked, codings=content_codings(content_encoding))
        self.limit = limit
        unknown = [c for c in self.record.codings if c not in KNOWN]
        if unknown:
            wanted = f"wire asked for Accept-Encoding: {asked}" if asked else "wire sent no Accept-Encoding"
            raise ProtocolError(
                f"the reply's Content-Encoding is {content_encoding}: wire cannot decode {', '.join(unknown)} "
                f"(it decodes gzip and deflate, with zlib; {wanted})",
                rule=RULE,
            )
        # Applied in the listed order, so undone in reverse: the last coding applied is the first undone.
        self.decoders = [_Decoder(c) for c in reversed(self.record.codings)]
        self.received = bytearray()  # the body as framed, so far
        self.decoded = bytearray()  # the body decoded, so far

    def feed(self, data: bytes) -> bytes:
        """The decoded bytes that ``data`` (the next body bytes as framed) completes."""
        self.received += data
        piece = data
        for decoder in self.decoders:
            try:
                piece = decoder.feed(piece, self.limit - len(self.decoded))
            except _TooBig:
                self._fail(f"the decoded body is larger than {self.limit} bytes (MAX_DECODED_BYTES)", None)
            except zlib.error as exc:
                self._fail(f"the {decoder.coding} data is not valid ({exc})", decoder)
        self.decoded += piece
        return piece

    def finish(self) -> ContentCoding:
        """Check that every coding's data ended with the body; return the layer's record."""
        for decoder in self.decoders:
            try:
                decoder.finish()
            except zlib.error as exc:
                self._fail(str(exc), decoder)
        return self._record()

    def _record(self) -> ContentCoding:
        record = self.record
        record.compressed_size = len(self.received)
        record.decoded = bytes(self.decoded)
        record.raw_deflate = any(d.raw_deflate for d in self.decoders)
        return record

    def _fail(self, why: str, decoder: _Decoder | None) -> NoReturn:
        self._record()  # what was decoded before the fault stays readable
        coding = f"Content-Encoding {decoder.name}: " if decoder is not None else ""
        raise ProtocolError(
            f"{coding}{why}, in the body",
            offset=len(self.received),
            rule=RULE,
            received=bytes(self.received),
        )


def decode_body(body: bytes, content_encoding: str | None, *, asked: str | None) -> ContentCoding:
    """A whole body decoded at once: the same layer as for a stream, fed in one piece."""
    decoder = BodyDecoder(content_encoding, asked=asked)
    decoder.feed(body)
    return decoder.finish()
