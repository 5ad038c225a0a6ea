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

Most calls are never traced by anyone. So without a callback, a step is
kept as it was reported (its name, time and facts) and becomes a redacted
``TraceEvent`` only when someone reads ``events``; a fact that costs
something to work out (the answer's text) can be given as a function, called
then.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wire.capture import Kept
from wire.http11 import ChunkEnd, ChunkHeader, Data, EndOfHead, EndOfMessage, Event, Field, StatusLine, Trailer
from wire.secrets import Secret, redact_text
from wire.sse import ServerSentEvent


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

# What the tracer keeps until its events are read: a step as reported (name, step, time, facts
# or a function that gives them, called with the tracer), the parser events of one read (or,
# when the capture may drop some, one of them) with the time they arrived, or an event already
# made (when there is a callback). A function of facts is handed
# the tracer rather than holding it (or the exchange that holds the tracer): no reference
# cycle, so a call's records are freed as soon as the exchange is dropped, without waiting
# for the garbage collector.
Facts = dict[str, Any] | Callable[["Tracer"], dict[str, Any]]
_Entry = TraceEvent | tuple[str, str, float, Facts] | tuple[float, Event | list[Event] | ServerSentEvent]


class Tracer:
    """Collects trace events for one call and passes each to ``callback`` when it is recorded.

    With no callback, the parser's events are kept as they came and turned into
    trace events only when someone reads ``events``: most calls are never traced
    by anyone, and a reply's twenty-odd field events then cost nothing.

    ``secrets`` (the API key, a proxy's password) are redacted in every text
    fact as it is recorded, even in what the server sent: a server can echo
    the key back in a field, the reason phrase or an event.
    """

    def __init__(
        self, callback: TraceCallback | None = None, *, secrets: list[Secret] | None = None, capture: str = "full"
    ) -> None:
        self.callback = callback
        self.secrets: list[Secret] = list(secrets or [])
        # Unless the capture is full, the first and the latest steps (wire/capture.py; "off" keeps the trace too).
        self._entries: Kept[_Entry] = Kept.for_capture("full" if capture == "full" else "bounded")
        self._start = time.perf_counter()

    @property
    def events(self) -> list[TraceEvent]:
        """Every trace event so far, in order."""
        self._entries.trim()
        expanded: list[TraceEvent] = []
        for entry in self._entries:
            if isinstance(entry, TraceEvent):
                expanded.append(entry)
            elif len(entry) == 2:
                now, parsed = entry
                if isinstance(parsed, ServerSentEvent):
                    expanded.append(self._sse_step(now, parsed))
                else:
                    batch = parsed if isinstance(parsed, list) else [parsed]
                    expanded.extend(self._redacted(e) for e in _from_parser(now, batch))
            else:
                expanded.append(self._made(*entry))
        dropped = self._entries.dropped
        self._entries[:] = expanded  # expand each entry once
        self._entries.dropped = dropped
        return expanded

    @property
    def dropped(self) -> int:
        """How many steps the capture left out (between the first ones and the latest; see wire/capture.py)."""
        return self._entries.dropped

    def __call__(self, name: str, step: str = "complete", /, **info: Any) -> None:
        now = time.perf_counter() - self._start
        if self.callback is None:
            self._entries.append((name, step, now, info))  # made into a TraceEvent when read
            return
        self._emit(self._made(name, step, now, info))

    def later(self, name: str, step: str, facts: Facts) -> None:
        """Record a step whose facts may be a function of the tracer, called when the trace is read (or at once)."""
        now = time.perf_counter() - self._start
        if self.callback is None:
            self._entries.append((name, step, now, facts))
            return
        self._emit(self._made(name, step, now, facts))

    def _emit(self, event: TraceEvent) -> None:
        """Keep a step made at once (there is a callback) and hand it to the callback."""
        assert self.callback is not None
        self._entries.append(event)
        self.callback(event)

    def _made(self, name: str, step: str, now: float, facts: Facts) -> TraceEvent:
        return self._redacted(TraceEvent(name, step, now, facts(self) if callable(facts) else facts))

    def parser_events(self, events: list[Event]) -> None:
        """One trace event per status line, field, end of head, chunk frame, trailer and end of message."""
        if not events:
            return
        now = time.perf_counter() - self._start
        if self.callback is None:
            if self._entries.first is None:  # everything is kept: one entry for the read
                self._entries.append((now, events))
            else:  # one entry per event that becomes a step (body data and chunk ends do not), so old ones can go
                self._entries.extend([(now, e) for e in events if type(e) not in _NO_STEP])  # and trims
            return
        for event in _from_parser(now, events):
            self._emit(self._redacted(event))
        self._entries.trim()

    def stream_event(self, sse: ServerSentEvent, delta: str | None) -> None:
        """The ``sse.event`` step of one event of a stream, then its ``chat.chunk`` step if it was a chunk.

        ``delta`` is the text the chunk carried ("" for none), or None for an event that was not
        a chunk (``[DONE]``). A long stream calls this once per event, so without a callback the
        steps are kept as they came and made when the trace is read; the list of steps is cut
        back (``Kept.trim``) once per read, in ``parser_events``.
        """
        now = time.perf_counter() - self._start
        if self.callback is None:
            self._entries.append((now, sse))
            if delta is not None:
                self._entries.append(("chat.chunk", "complete", now, {"delta": delta}))
            return
        self._emit(self._sse_step(now, sse))
        if delta is not None:
            self._emit(self._made("chat.chunk", "complete", now, {"delta": delta}))

    def _sse_step(self, now: float, sse: ServerSentEvent) -> TraceEvent:
        """The ``sse.event`` step, redacted: a server can echo a secret in the event's type as in its data."""
        facts = {"event": sse.event, "data": self.shown(sse.data, 60), "offset": sse.offset}
        return self._made("sse.event", "complete", now, facts)

    def shown(self, text: str, limit: int) -> str:
        """``text`` redacted, then cut to ``limit`` characters (cut first, a piece of a secret could stay)."""
        return redact_text(text, self.secrets)[:limit]

    def _redacted(self, event: TraceEvent) -> TraceEvent:
        if self.secrets:
            event.info = {name: self._redact(value) for name, value in event.info.items()}
        return event

    def _redact(self, value: Any) -> Any:
        """A fact with every secret redacted: a text, or the texts inside a list or tuple (chunk extensions)."""
        if isinstance(value, str):
            return redact_text(value, self.secrets)
        if isinstance(value, (list, tuple)):
            return type(value)(self._redact(item) for item in value)
        return value


# Parser events that make no trace step: body bytes, and the CRLF after a chunk's data.
_NO_STEP = (Data, ChunkEnd)


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
