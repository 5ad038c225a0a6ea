"""A trace of one call: what each layer did, in order, as ``layer.step`` events.

Every event is ``name`` (``connection.tls``, ``http11.field``, ``sse.event``, …)
plus ``step`` (``started``, ``complete`` or ``failed``), the time since the
call began, and the facts of that step. httpcore reports its steps the same
way; wire goes finer, with one event per header field, per chunk frame and
per Server-Sent Event. The client keeps them on ``Exchange.trace`` and hands
each one to the ``on_trace`` callback, if any, when it is recorded:

- the connection's steps (``connection.dns``, ``connection.tcp``,
  ``proxy.connect``, ``connection.tls``) live, as each starts and ends, each
  with its own time (``wire/transport.py`` reports them through ``on_step``);
- sending (``http11.send_head``, ``http11.send_body``) around the write;
- the parser's events (``http11.status_line``, ``http11.field``, ...) once
  per read, all with the time that read returned: a read that brings the
  whole head gives every field the same time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wire.http11 import ChunkHeader, EndOfHead, EndOfMessage, Event, Field, StatusLine, Trailer


@dataclass(slots=True)
class TraceEvent:
    """One step of one layer: ``name`` and ``step``, seconds since the call began, and its facts."""

    name: str
    step: str  # "started" | "complete" | "failed"
    time: float
    info: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        facts = ", ".join(f"{k}={v!r}" for k, v in self.info.items())
        return f"{self.time * 1000:8.2f} ms  {self.name}.{self.step}" + (f"  {facts}" if facts else "")


TraceCallback = Callable[[TraceEvent], None]


class Tracer:
    """Collects trace events for one call and passes each to ``callback`` when it is recorded.

    With no callback, the parser's events are kept as they came and turned into
    trace events only when someone reads ``events``: most calls are never traced
    by anyone, and a reply's twenty-odd field events then cost nothing.
    """

    def __init__(self, callback: TraceCallback | None = None) -> None:
        self.callback = callback
        self._entries: list[TraceEvent | tuple[float, list[Event]]] = []
        self._start = time.perf_counter()

    @property
    def events(self) -> list[TraceEvent]:
        """Every trace event so far, in order."""
        expanded: list[TraceEvent] = []
        for entry in self._entries:
            if isinstance(entry, TraceEvent):
                expanded.append(entry)
            else:
                expanded.extend(_from_parser(*entry))
        self._entries = list(expanded)  # expand each batch once
        return expanded

    def __call__(self, name: str, step: str = "complete", /, **info: Any) -> None:
        event = TraceEvent(name, step, time.perf_counter() - self._start, info)
        self._entries.append(event)
        if self.callback is not None:
            self.callback(event)

    def parser_events(self, events: list[Event]) -> None:
        """One trace event per status line, field, end of head, chunk frame, trailer and end of message."""
        if not events:
            return
        now = time.perf_counter() - self._start
        if self.callback is None:
            self._entries.append((now, events))
            return
        for event in _from_parser(now, events):
            self._entries.append(event)
            self.callback(event)


def _from_parser(now: float, events: list[Event]) -> list[TraceEvent]:
    """The trace events for a batch of parser events that arrived at time ``now``."""
    out = []
    for ev in events:
        if isinstance(ev, Trailer):
            out.append(
                TraceEvent("http11.trailer", "complete", now, {"name": ev.name, "value": ev.value, "offset": ev.offset})
            )
        elif isinstance(ev, Field):
            out.append(
                TraceEvent("http11.field", "complete", now, {"name": ev.name, "value": ev.value, "offset": ev.offset})
            )
        elif isinstance(ev, ChunkHeader):
            out.append(
                TraceEvent(
                    "http11.chunk", "complete", now, {"size": ev.size, "extensions": ev.extensions, "offset": ev.offset}
                )
            )
        elif isinstance(ev, StatusLine):
            out.append(
                TraceEvent(
                    "http11.status_line",
                    "complete",
                    now,
                    {"status": ev.status, "reason": ev.reason, "version": ev.http_version},
                )
            )
        elif isinstance(ev, EndOfHead):
            out.append(
                TraceEvent(
                    "http11.end_of_head",
                    "complete",
                    now,
                    {"framing": ev.framing.value, "informational": ev.informational},
                )
            )
        elif isinstance(ev, EndOfMessage):
            out.append(
                TraceEvent("http11.end_of_message", "complete", now, {"keep_alive": ev.keep_alive, "offset": ev.offset})
            )
    return out
