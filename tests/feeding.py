"""Feeding the response parser in tests: whole, one byte at a time, cut in two anywhere.

STYLE.md §6: every parser is fed three ways, and the events and errors must not
depend on how the bytes were split.
"""

from __future__ import annotations

from typing import Any

import pytest

import wire
from wire.http11 import Event, ResponseParser


def run(data: bytes, pieces: list[bytes] | None = None, **kw: Any) -> list[Event]:
    """Feed ``data`` (or its ``pieces``) then the close; return every event."""
    parser = ResponseParser(**kw)
    events: list[Event] = []
    for piece in [data] if pieces is None else pieces:
        events += parser.feed(piece)
    events += parser.feed_eof()
    return events


def ways(data: bytes) -> list[list[bytes]]:
    """Whole, one byte at a time, and cut in two at every point."""
    return [[data], [data[i : i + 1] for i in range(len(data))]] + [[data[:i], data[i:]] for i in range(1, len(data))]


def error_of(data: bytes, pieces: list[bytes] | None = None, **kw: Any) -> wire.ProtocolError:
    """The ``ProtocolError`` that feeding ``data`` (or its ``pieces``) raises."""
    with pytest.raises(wire.ProtocolError) as info:
        run(data, pieces, **kw)
    return info.value


def same_error_every_way(data: bytes, **kw: Any) -> wire.ProtocolError:
    """The error for ``data``, checked to be the same (type, message, offset, rule) however it is split."""
    errors = [error_of(data, pieces, **kw) for pieces in ways(data)]
    first = errors[0]
    assert {(type(e), e.message, e.offset, e.rule) for e in errors} == {
        (type(first), first.message, first.offset, first.rule)
    }
    return first
