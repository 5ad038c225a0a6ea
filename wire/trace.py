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
  whole head gives every field the same time;
- a stream's events (``sse.event``, then ``chat.chunk`` with the text the
  chunk carried) after the chunk frames of the read that brought them.

Most calls are never traced by anyone. So without a callback, a step is
kept as it was reported (its name, time and facts) and becomes a redacted
``TraceEvent`` only when someone reads ``events``; a read's events are kept
as the layers handed them on, and a stream's steps then get the time of
their read, as the parser's do. A fact that costs something to work out
(the answer's text) can be given as a function, called then.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import wire.capture
from wire.coding import ContentCoding
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
# or a function that gives them, called with the tracer), one read of the reply (``_Read``), or
# an event already made (when there is a callback). A function of facts is handed the tracer
# rather than holding it (or the exchange that holds the tracer): no reference cycle, so a
# call's records are freed as soon as the exchange is dropped, without waiting for the garbage
# collector.
Facts = dict[str, Any] | Callable[["Tracer"], dict[str, Any]]


@dataclass(slots=True)
class _Read:
    """One read of the reply, kept as it came, made into steps when the trace is read.

    ``events`` is the parser's list for the read, as it was handed on (when the
    parser left out the Field events, ``add_fields`` puts them in before the
    steps are made: see ``ResponseParser.add_field_events``); for a
    stream, ``sse_events`` are the Server-Sent Events the read completed and
    ``deltas`` the text each one's chunk carried (None for an event that was
    not a chunk). A long stream brings hundreds of events a read: keeping the
    lists the layers made anyway, rather than a record per step, allocates
    nothing per event, and objects that stay alive a while are what make the
    garbage collector run (issue 17, P7: it took a fifth of a streamed call).
    """

    time: float
    events: list[Event]
    sse_events: list[ServerSentEvent] = field(default_factory=list)
    deltas: list[str | None] = field(default_factory=list)
    steps: int | None = None  # counted when the capture is cut back, once the read is over
    add_fields: Callable[[list[Event]], None] | None = None

    def parser_events(self) -> list[Event]:
        """The read's parser events, Field events included."""
        if self.add_fields is not None:
            self.add_fields(self.events)
            self.add_fields = None
        return self.events


_Entry = TraceEvent | tuple[str, str, float, Facts] | _Read


class Tracer:
    """Collects trace events for one call and passes each to ``callback`` when it is recorded.

    With no callback, the parser's events are kept as they came and turned into
    trace events only when someone reads ``events``: most calls are never traced
    by anyone, and a reply's twenty-odd field events then cost nothing.

    Unless the capture is full, the tracer keeps the first steps and the latest
    (wire/capture.py), a whole read at a time: the first entries until they
    hold ``KEEP_FIRST`` steps, and the latest ones holding at least
    ``KEEP_LAST``. ``dropped`` counts the steps cut out between them.

    ``secrets`` (the API key, a proxy's password) are redacted in every text
    fact as it is recorded, even in what the server sent: a server can echo
    the key back in a field, the reason phrase or an event.
    """

    def __init__(
        self, callback: TraceCallback | None = None, *, secrets: list[Secret] | None = None, capture: str = "full"
    ) -> None:
        self.callback = callback
        self.secrets: list[Secret] = list(secrets or [])
        self._entries: list[_Entry] = []
        # The bounds (first, latest) unless the capture is full ("off" keeps the trace bounded too).
        self._keep = None if capture == "full" else (wire.capture.KEEP_FIRST, wire.capture.KEEP_LAST)
        self._first = 0  # the entries [0:_first] are the first ones, kept for good
        self._first_steps = 0  # the steps they hold
        self._dropped = 0
        self._read: _Read | None = None  # the read whose Server-Sent Events are being traced
        self._start = time.perf_counter()

    @property
    def events(self) -> list[TraceEvent]:
        """Every trace event so far, in order."""
        entries = self._entries
        if not entries or isinstance(entries[-1], TraceEvent):  # all made already (with a callback, always)
            return list(entries)  # type: ignore[arg-type]
        self._trim()
        expanded: list[TraceEvent] = []
        for entry in self._entries:
            if isinstance(entry, TraceEvent):
                expanded.append(entry)
            elif isinstance(entry, _Read):
                expanded.extend(self._read_steps(entry))
            else:
                expanded.append(self._made(*entry))
        self._entries[:] = expanded  # expand each entry once: the first entries are now their steps
        self._first = self._first_steps
        self._read = None  # events of the read under way that come later make an entry of their own
        return expanded

    @property
    def dropped(self) -> int:
        """How many steps the capture left out (between the first ones and the latest; see wire/capture.py)."""
        return self._dropped

    def record(self, name: str, step: str, facts: Facts) -> None:
        """Record step ``name`` as ``started``, ``complete`` or ``failed``, with its facts.

        ``facts`` is a dict, or a function of the tracer that gives one: called when the
        trace is read (or at once, with a callback), for a fact that costs something to
        work out. A dict rather than keywords: packing keywords into a new dict costs
        CPython 3.11 about 2,300 instructions a step, as much as the rest of it.
        """
        now = time.perf_counter() - self._start
        if self.callback is None:
            self._entries.append((name, step, now, facts))  # made into a TraceEvent when read
            return
        self._emit(self._made(name, step, now, facts))

    def _emit(self, event: TraceEvent) -> None:
        """Keep a step made at once (there is a callback) and hand it to the callback."""
        assert self.callback is not None
        self._entries.append(event)
        self.callback(event)

    def _made(self, name: str, step: str, now: float, facts: Facts) -> TraceEvent:
        return self._redacted(TraceEvent(name, step, now, facts(self) if callable(facts) else facts))

    def parser_events(self, events: list[Event], add_fields: Callable[[list[Event]], None] | None = None) -> None:
        """One trace event per status line, field, end of head, chunk frame, trailer and end of message.

        Without a callback the read's list is kept as it is (``_Read``) and
        made into steps when the trace is read. ``add_fields`` is given when
        the parser left out the Field events (it has no callback to hand them
        to at once): it puts them in then.
        """
        if not events:
            return
        now = time.perf_counter() - self._start
        if self.callback is None:
            self._trim()  # once a read, before the new one: the reads kept so far are over
            self._read = _Read(now, events, add_fields=add_fields)
            self._entries.append(self._read)
            return
        if add_fields is not None:
            add_fields(events)
        for event in _from_parser(now, events):
            self._emit(self._redacted(event))
        self._trim()

    def content_coding(self, coding: ContentCoding) -> None:
        """The ``coding.decode`` step: which codings were undone, and the sizes before and after."""
        facts = {"codings": coding.codings, "compressed": coding.compressed_size, "decoded": coding.decoded_size}
        self.record("coding.decode", "complete", facts)

    def stream_event(self, sse: ServerSentEvent, delta: str | None) -> None:
        """The ``sse.event`` step of one event of a stream, then its ``chat.chunk`` step if it was a chunk.

        ``delta`` is the text the chunk carried ("" for none), or None for an event that was not
        a chunk (``[DONE]``). Without a callback the event and its delta join the entry of the
        read that brought them (``_Read``), and have its time: a long stream calls this once per
        event, and a record per step would be made for nobody.
        """
        if self.callback is None:
            read = self._read
            if read is None:  # no read traced yet (or the trace was read since): an entry of its own
                read = self._read = _Read(time.perf_counter() - self._start, [])
                self._entries.append(read)
            read.sse_events.append(sse)
            read.deltas.append(delta)
            return
        now = time.perf_counter() - self._start
        self._emit(self._sse_step(now, sse))
        if delta is not None:
            self._emit(self._made("chat.chunk", "complete", now, {"delta": delta}))

    def _read_steps(self, read: _Read) -> list[TraceEvent]:
        """The steps of one read: its parser events, then each Server-Sent Event and its chunk's delta."""
        steps = [self._redacted(event) for event in _from_parser(read.time, read.parser_events())]
        for sse, delta in zip(read.sse_events, read.deltas, strict=True):  # appended together
            steps.append(self._sse_step(read.time, sse))
            if delta is not None:
                steps.append(self._made("chat.chunk", "complete", read.time, {"delta": delta}))
        return steps

    def _trim(self) -> None:
        """Cut out the entries between the first ones and the latest, if the capture is bounded."""
        if self._keep is None:
            return
        keep_first, keep_last = self._keep
        entries = self._entries
        while self._first < len(entries) and self._first_steps < keep_first:
            self._first_steps += _steps(entries[self._first])
            self._first += 1
        start, latest = len(entries), 0
        while start > self._first and latest < keep_last:
            start -= 1
            latest += _steps(entries[start])
        if start > self._first:
            self._dropped += sum(_steps(entry) for entry in entries[self._first : start])
            del entries[self._first : start]

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


def _steps(entry: _Entry) -> int:
    """How many trace steps an entry makes (a read: counted once, and kept)."""
    if not isinstance(entry, _Read):
        return 1
    if entry.steps is None:
        made = sum(type(event) not in _NO_STEP for event in entry.parser_events())
        entry.steps = made + len(entry.sse_events) + sum(delta is not None for delta in entry.deltas)
    return entry.steps


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
