"""What an exchange keeps of a call: the ``capture`` setting of ``Client``.

wire keeps every layer's result so that a learner can look at it afterwards:
the bytes both ways (``records``), the parser's events, the Server-Sent
Events, the completion chunks and the trace. A chat reply is a few KiB; a
long stream is many MiB and hundreds of thousands of events, and keeping all
of it costs far more memory than the stream itself. So:

- ``"full"``: keep everything, however long the reply.
- ``"bounded"`` (the default): keep the first bytes of the request and of the
  reply, up to ``transport.MAX_CAPTURE_BYTES`` each (each direction has its own
  budget, so a big request body leaves the reply's bytes, a 413 say, in
  view), and of each
  list (events, SSE events, chunks) the first ``KEEP_FIRST`` and the
  last ``KEEP_LAST`` items; of the trace, the first and the latest steps,
  a whole read at a time (wire/trace.py). A streamed body (the same bytes as the reply's
  records, less the framing) is kept whole while it is at most
  ``MAX_STREAM_BODY_BYTES``, else not at all. Memory stays flat however
  long the stream.
- ``"off"``: keep none of the bytes, events or chunks; the response's status
  line and fields, the JSON and the completion are still there.

The lists are bounded for streamed replies, which can go on for hours; a
reply that is not streamed keeps its events and trace whole, as it keeps its
body (the JSON is read whole anyway). What was dropped is counted
(``Kept.dropped``) and the views say so. The reply is always read whole and
checked: only what is kept changes.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TypeVar

CAPTURES = ("full", "bounded", "off")
DEFAULT_CAPTURE = "bounded"

# A streamed body kept whole in "bounded" mode (an error reply's body is always kept).
MAX_STREAM_BODY_BYTES = 1024 * 1024
# Items kept of each list in "bounded" mode: the first ones and the latest ones. The first show
# how a stream begins (the role, the first pieces of text); the latest only how it ended (the
# finish_reason, the usage, [DONE]), and fewer do: an item kept for a thousand chunks outlives
# two collections of Python's garbage collector, which then walks it at each full collection
# (issue 17, P7: 1,000 latest items took about 5 ms more of collecting a 5,000-chunk call than 100).
KEEP_FIRST = 1000
KEEP_LAST = 100

T = TypeVar("T")


def check_capture(capture: str) -> str:
    """``capture`` if it is one of ``CAPTURES``, else a ``ValueError`` that lists them."""
    if capture not in CAPTURES:
        raise ValueError(f"capture must be one of {', '.join(map(repr, CAPTURES))}, got {capture!r}")
    return capture


class Kept(list[T]):
    """A list that keeps its first ``first`` items and its latest ones; ``dropped`` counts those between.

    ``first=None`` keeps everything (a plain list). Items ``[0:first]`` are the
    first ones, the rest the latest ones; ``dropped`` items were taken out
    between them (the views say so at index ``first``).

    ``append`` is list's own: a long stream appends several items per chunk,
    and a Python-level ``append`` that checks the length each time cost more
    than the rest of the bookkeeping (issue 17, P7). So whoever appends calls
    ``trim()`` once per read; ``extend`` and ``+=`` trim by themselves. A cut
    leaves the latest ``last`` items, and happens once the list holds more
    than ``first + 2 * last``: between cuts the latest ones are at least
    ``last`` and at most ``2 * last`` plus what one read brought.
    """

    def __init__(self, items: Iterable[T] = (), *, first: int | None = None, last: int = 0) -> None:
        super().__init__()
        self.first = first
        self.last = last
        self.dropped = 0
        self._most = sys.maxsize if first is None else first + 2 * last  # more than this: cut back
        if items:  # most lists start empty (an empty tuple); a generator or a list is added and cut back
            self.extend(items)

    @classmethod
    def for_capture(cls, capture: str) -> Kept[T]:
        """An empty list that keeps what ``capture`` says."""
        if capture == "full":
            return cls()
        if capture == "off":
            return cls(first=0, last=0)
        return cls(first=KEEP_FIRST, last=KEEP_LAST)

    def extend(self, items: Iterable[T]) -> None:
        super().extend(items)
        self.trim()

    def __iadd__(self, items: Iterable[T]) -> Kept[T]:  # type: ignore[override,misc]
        self.extend(items)
        return self

    def trim(self) -> None:
        """Take out the oldest items after the first ones, down to the latest ``last``, if there are too many."""
        if len(self) <= self._most:
            return
        assert self.first is not None
        cut = len(self) - self.first - self.last
        del self[self.first : self.first + cut]
        self.dropped += cut
