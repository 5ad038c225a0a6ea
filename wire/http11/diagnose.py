"""When bytes break the grammar: which rule, at which byte, and what was wrong.

The parser checks a whole head with two regexes (``grammar.STATUS_LINE_END_RE``
for the status line, one findall of ``grammar.FIELD_LINE_PARTS_RE`` for the
field lines), which answer only yes or no. When the answer is no, the
functions here read the head again line by line to find the first line that
breaks a rule, and raise a ``Fault`` naming the rule, the stream offset and
the problem. They run once per bad message, so they are written to be read,
not to be fast.

A ``Fault`` is the readers' own exception: the parser turns it into a
``ProtocolError`` that also carries the evidence (the bytes received so far
and the parser's state).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NoReturn

from wire import grammar


class Fault(Exception):
    """A rule the peer broke: ``message``, the stream ``offset`` where it shows, and the ``rule``."""

    def __init__(self, message: str, offset: int, rule: str, state: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.rule = rule
        self.state = state  # the part of the message the fault is in, when not the parser's state


STATUS_RULE = "RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]"
NOT_HTTP = "the status line does not start with 'HTTP/': this is not an HTTP/1.x response"

# The grammar's rules, matched against the bytes of one line (latin-1 keeps them one to one).
_STATUS_LINE = re.compile(grammar.STATUS_LINE.encode("latin-1"))
_HTTP_VERSION = re.compile(grammar.HTTP_VERSION.encode("latin-1"))
_FIELD_LINE = re.compile(grammar.FIELD_LINE.encode("latin-1"))
_NOT_TCHAR = re.compile(grammar.NOT_TCHAR.encode("latin-1"))
_CHUNK_SIZE = re.compile(grammar.CHUNK_SIZE.encode("latin-1"))
# Bytes no field value or reason phrase may hold: CTLs but HTAB, and DEL (RFC 9110 §5.5).
_BAD_VALUE_BYTE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


def check_start(start: bytes, offset: int) -> None:
    """The first bytes of a response must begin "HTTP/": a server speaking something else
    (TLS, SSH, garbage) fails here, not after 64 KiB or at the close."""
    if not b"HTTP/".startswith(start):
        bad = next(i for i, b in enumerate(start) if b != b"HTTP/"[i])
        raise Fault(NOT_HTTP, offset + bad, STATUS_RULE)


def too_many_fields(max_fields: int, offset: int, kind: str) -> Fault:
    """More than ``max_fields`` lines in a head or trailer section (``kind``: "header" or "trailer")."""
    return Fault(f"more than {max_fields} {kind} fields (max_fields)", offset, "limit: MAX_FIELDS")


def diagnose_head(head: bytes, base: int, max_fields: int) -> NoReturn:
    """The head starting at stream offset ``base`` failed the grammar: raise its first fault."""
    check_start(head[:5], base)  # first, as when the head arrives a byte at a time
    lines = _lines(head, base)
    first = next(lines, None)
    if first is None:
        raise Fault("expected a status line, got an empty line", base, "RFC 9112 §4")
    line, offset = first
    if _STATUS_LINE.fullmatch(line) is None:
        _diagnose_status_line(line, offset)
    try:
        diagnose_fields(lines, max_fields, "header section")
    except Fault as fault:
        fault.state = "fields"  # the whole head is checked at once: the fault is past the status line
        raise


def diagnose_trailers(section: bytes, base: int, max_fields: int) -> NoReturn:
    """The trailer section failed the grammar: raise its first fault."""
    diagnose_fields(_lines(section, base), max_fields, "trailer section")


def diagnose_fields(lines: Iterator[tuple[bytes, int]], max_fields: int, section: str) -> NoReturn:
    count = 0  # field lines so far; a folded field is one
    name = b""  # the field an obs-fold would continue
    for line, offset in lines:
        if line[:1] in (b" ", b"\t"):
            if not name:
                _diagnose_leading_whitespace(offset, section)
            # RFC 9112 §5.2: an obs-fold continues the field before it; its bytes are a value's.
            bad = _BAD_VALUE_BYTE.search(line)
            if bad is not None:
                _bad_value_byte(line, bad.start(), offset, name)
            continue
        if _FIELD_LINE.fullmatch(line) is None:  # a bad line is named as such, even past the limit
            _diagnose_field_line(line, offset, section)
        if count == max_fields:
            raise too_many_fields(max_fields, offset, section.split()[0])
        count += 1
        name = line[: line.index(b":")]
    raise AssertionError("the section failed the grammar, but no line did")  # pragma: no cover


def _diagnose_leading_whitespace(offset: int, section: str) -> NoReturn:
    """A line starting with SP or HTAB where no field line comes before it to continue."""
    if section == "header section":
        raise Fault(
            "a line starting with whitespace right after the status line (no field before it to continue)",
            offset,
            "RFC 9112 §2.2: whitespace between the start-line and the first header field is rejected",
        )
    raise Fault(
        f"a line starting with whitespace at the start of the {section} (no field before it to continue)",
        offset,
        "RFC 9112 §7.1.2: trailer-section = *( field-line CRLF )",
    )


def _lines(section: bytes, base: int) -> Iterator[tuple[bytes, int]]:
    """Each line of a head or trailer section without its line end, with its stream offset;
    the empty line that ends the section is left out."""
    pos = 0
    for piece in section.split(b"\n")[:-2]:
        line = piece[:-1] if piece.endswith(b"\r") else piece
        if b"\r" in line:
            # RFC 9112 §2.2: a bare CR is not a line end; the element is rejected.
            raise Fault("bare CR (a CR not followed by LF)", base + pos + line.index(b"\r"), "RFC 9112 §2.2")
        yield line, base + pos
        pos += len(piece) + 1


def _diagnose_status_line(line: bytes, offset: int) -> NoReturn:
    rule = STATUS_RULE
    if not line.startswith(b"HTTP/"):
        bad = next((i for i, b in enumerate(line[:5]) if b != b"HTTP/"[i]), len(line))
        raise Fault(NOT_HTTP, offset + bad, rule)
    if not _HTTP_VERSION.match(line):
        raise Fault("malformed HTTP-version: expected HTTP/DIGIT.DIGIT", offset + 5, "RFC 9112 §2.3")
    if line[8:9] != b" ":
        raise Fault(f"expected SP after the HTTP-version, got {line[8:9]!r}", offset + 8, rule)
    if not re.match(rb"[0-9]{3}(?: |$)", line[9:]):
        raise Fault("the status code is not 3 digits followed by SP", offset + 9, rule)
    ctl = _BAD_VALUE_BYTE.search(line, 13)
    where = ctl.start() if ctl else 13
    raise Fault(f"control character {line[where : where + 1]!r} in the reason phrase", offset + where, rule)


def _diagnose_field_line(line: bytes, offset: int, section: str) -> NoReturn:
    colon = line.find(b":")
    if colon < 0:
        raise Fault(f"a line with no colon in the {section}: {line[:40]!r}", offset, "RFC 9112 §5")
    if colon == 0:
        raise Fault(f"empty field name in the {section}", offset, "RFC 9110 §5.1: field-name = token")
    name = line[:colon]
    if name[-1:] in (b" ", b"\t"):
        raise Fault(
            f"whitespace between field name and colon in the {section}",
            offset + colon - 1,
            "RFC 9112 §5.1: no whitespace is allowed between the field name and colon",
        )
    bad_name = _NOT_TCHAR.search(name)
    if bad_name is not None:
        raise Fault(
            f"field name {name[:40]!r} is not a token in the {section}",
            offset + bad_name.start(),
            "RFC 9110 §5.1: field-name = token",
        )
    bad = _BAD_VALUE_BYTE.search(line, colon + 1)
    _bad_value_byte(line, bad.start() if bad else colon + 1, offset, name)


def _bad_value_byte(line: bytes, where: int, offset: int, name: bytes) -> NoReturn:
    what = {0: "NUL", 0x0D: "CR"}.get(line[where], f"control character {line[where : where + 1]!r}")
    raise Fault(
        f"{what} in the value of field {name.decode('ascii')!r}",
        offset + where,
        "RFC 9110 §5.5: field values hold no CR, LF, NUL or other control characters",
    )


def diagnose_chunk_line(line: bytes, offset: int) -> NoReturn:
    """A chunk size line that failed ``CHUNK_LINE_RE``: say what is wrong with it."""
    rule = "RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF"
    m = _CHUNK_SIZE.match(line)
    if m is None:
        raise Fault(f"the chunk size is not a hexadecimal number (got {line[:20]!r})", offset, rule)
    if not line.endswith(b"\r\n"):
        raise Fault("the chunk size line ends in a bare LF, not CRLF", offset + len(line) - 1, rule)
    raise Fault(
        f"invalid chunk extension after the chunk size (got {line[m.end() : m.end() + 30]!r})",
        offset + m.end(),
        'RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] )',
    )
