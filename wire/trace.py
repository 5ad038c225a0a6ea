"""A trace of one call: what each layer did, in order, as ``layer.step`` events.

Every event is ``name`` (``connection.tls``, ``http11.field``, ``sse.event``, …)
plus ``step`` (``started``, ``complete`` or ``failed``), the time since the
call began, and the facts of that step. httpcore reports its steps the same
way; wire goes finer, with one event per header field, per chunk frame and
per Server-Sent Event. The client keeps them on ``Exchange.trace`` and hands
each one, as it happens, to the ``on_trace`` callback, if any.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wire.http11 import Chunk, EndOfHead, EndOfMessage, Event, Field, StatusLine, Trailer


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
    """Collects trace events for one call and passes each to ``callback`` as it happens."""

    def __init__(self, callback: TraceCallback | None = None) -> None:
        self.callback = callback
        self.events: list[TraceEvent] = []
        self._start = time.perf_counter()

    def __call__(self, name: str, step: str = "complete", /, **info: Any) -> None:
        event = TraceEvent(name, step, time.perf_counter() - self._start, info)
        self.events.append(event)
        if self.callback is not None:
            self.callback(event)

    def parser_events(self, events: list[Event]) -> None:
        """One trace event per status line, field, end of head, chunk frame, trailer and end of message."""
        for ev in events:
            if isinstance(ev, Trailer):
                self("http11.trailer", name=ev.name, value=ev.value, offset=ev.offset)
            elif isinstance(ev, Field):
                self("http11.field", name=ev.name, value=ev.value, offset=ev.offset)
            elif isinstance(ev, Chunk):
                self("http11.chunk", size=ev.size, extensions=ev.extensions, offset=ev.offset)
            elif isinstance(ev, StatusLine):
                self("http11.status_line", status=ev.status, reason=ev.reason, version=ev.http_version)
            elif isinstance(ev, EndOfHead):
                self("http11.end_of_head", framing=ev.framing.value, informational=ev.informational)
            elif isinstance(ev, EndOfMessage):
                self("http11.end_of_message", keep_alive=ev.keep_alive, offset=ev.offset)
