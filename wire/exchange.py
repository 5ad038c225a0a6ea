"""The record of one call: ``Exchange``, and an ``Attempt`` for each time the request was sent.

Data only. ``wire.client`` fills them in as the call goes through the
layers; the views (``wire.show``, ``wire.har``) and a learner read them
afterwards. An ``Exchange`` keeps every layer's result of the last attempt
at its top level; ``Exchange.attempts`` keeps each attempt's own bytes,
timings, reply and error, retries included.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wire.chat import CHAT_PATH, ChatCompletion
from wire.coding import ContentCoding
from wire.errors import ProtocolError, WireError
from wire.http11 import Event, Response
from wire.pace import StreamTimings, stream_timings
from wire.proxy import TunnelInfo
from wire.request import Request
from wire.sse import Comment, ServerSentEvent, SSEDecoder
from wire.trace import TraceEvent, Tracer
from wire.transport import Record, Timings, TLSInfo


@dataclass
class Attempt:
    """One try at the call: the bytes both ways, the timings, and how it ended."""

    number: int
    request_bytes: bytes = b""
    records: list[Record] = field(default_factory=list)
    timings: Timings = field(default_factory=Timings)
    tls: TLSInfo | None = None
    tunnel: TunnelInfo | None = None  # the CONNECT exchange with a proxy, when one was used
    peer: tuple[str, int] | None = None
    response: Response | None = None
    error: WireError | None = None
    retry_delay: float | None = None  # seconds waited before the next attempt, if there was one
    reused: bool = False  # sent on a connection kept from an earlier call (no DNS, TCP, TLS)
    saved_seconds: float = 0.0  # DNS + TCP + TLS time that reusing the connection saved
    # The server closed or reset the connection while the request was still going out: how many of
    # the request's bytes had been sent by then (None: the request went out whole).
    sent_before_close: int | None = None
    # The request's first byte was handed to the socket: from then on the server may have it, and a
    # failure is not retried (wire.retry, RFC 9110 §9.2.2).
    request_sent: bool = False

    @property
    def response_bytes(self) -> bytes:
        """Every byte received in this attempt, in order."""
        return b"".join(r.data for r in self.records if r.direction == "in")

    def __repr__(self) -> str:
        # Sizes, not bytes: the request bytes carry the API key (shown only by wire.show, redacted).
        status = self.response.status if self.response is not None else None
        error = type(self.error).__name__ if self.error is not None else None
        return (
            f"<Attempt {self.number}: {len(self.request_bytes)} bytes out, {len(self.response_bytes)} bytes in, "
            f"status {status}, error {error}, retry_delay {self.retry_delay}>"
        )


@dataclass
class Exchange:
    """Everything one call did, layer by layer (the last attempt's results at top level)."""

    base_url: str
    payload: dict[str, Any]
    request: Request
    request_bytes: bytes
    stream: bool = False
    tls: TLSInfo | None = None
    tunnel: TunnelInfo | None = None  # the CONNECT exchange with a proxy, when one was used
    timings: Timings = field(default_factory=Timings)
    records: list[Record] = field(default_factory=list)
    peer: tuple[str, int] | None = None
    response: Response | None = None
    json: Any = None
    sse_events: list[ServerSentEvent] = field(default_factory=list)
    sse_decoder: SSEDecoder | None = None
    completion_chunks: list[dict[str, Any]] = field(default_factory=list)  # the chat.completion.chunk objects
    attempts: list[Attempt] = field(default_factory=list)
    tracer: Tracer = field(default_factory=Tracer, repr=False)
    reused: bool = False  # the last attempt reused a kept-alive connection
    capture_truncated: bool = False  # the records stopped at transport.MAX_CAPTURE_BYTES; the reply went on
    saved_seconds: float = 0.0  # what the reuse saved: the original connection's DNS + TCP + TLS time
    # A streamed call: when each content delta's bytes were read, seconds on the clock of ``timings``.
    delta_times: list[float] = field(default_factory=list)
    # The content-coding layer (wire.coding): set when wire asked for compression or the reply was encoded.
    coding: ContentCoding | None = None
    capture: str = "full"  # what the exchange keeps: "full", "bounded" or "off" (wire/capture.py)
    body_dropped: int = 0  # bytes of a streamed body not kept (capture bounded or off); 0: all kept
    # A streamed call: whether ``data: [DONE]`` arrived. A stream whose body ended properly without it
    # still gives its completion (as in the SDK); the answer view says it was missing.
    done_received: bool = False
    _completion: ChatCompletion | None = field(default=None, repr=False)  # see ``completion``
    _events: list[Event] = field(default_factory=list, repr=False)  # see ``events``
    _add_field_events: Callable[[list[Event]], None] | None = field(default=None, repr=False)
    _readable: bool = field(default=True, repr=False)  # False: ``json`` is not a completion the views read

    @property
    def completion(self) -> ChatCompletion | None:
        """The reply as typed views (``wire.chat``): read from ``json`` on first use, then kept.

        A streamed reply's completion is assembled as the chunks arrive and set
        here. Reading the views costs more than the JSON itself, so a call that
        only wants ``json`` never pays for them. JSON the views cannot read
        (no ``choices``: an error body, a saved reply of another API) gives
        None here; a call fails on it at once (``Client._finish``).
        """
        if self._completion is None and self.json is not None and not self.stream and self._readable:
            try:
                self._completion = ChatCompletion.from_dict(self.json)
            except ProtocolError:
                self._readable = False  # not a chat completion: asked again, the answer is the same
        return self._completion

    @completion.setter
    def completion(self, value: ChatCompletion | None) -> None:
        self._completion = value

    @property
    def events(self) -> list[Event]:
        """The HTTP/1.1 parser's events for the reply of the last attempt, in wire order.

        The Client's parser leaves out the ``Field`` events of a reply that is
        not streamed (they cost more than the rest of its head, and most calls
        are never looked at): they are cut from the reply's bytes on first use
        (``ResponseParser.add_field_events``), the same events either way.
        """
        if self._add_field_events is not None:
            self._add_field_events(self._events)
            self._add_field_events = None
        return self._events

    @events.setter
    def events(self, events: list[Event]) -> None:
        self._events = events
        self._add_field_events = None

    def field_events_from(self, add: Callable[[list[Event]], None]) -> None:
        """``events`` lack the Field events: ``add`` (``ResponseParser.add_field_events``) puts them in when read."""
        self._add_field_events = add

    @property
    def response_bytes(self) -> bytes:
        """Every byte received in the last attempt, in order."""
        return b"".join(r.data for r in self.records if r.direction == "in")

    @property
    def decoded_body(self) -> bytes:
        """The body with its content coding undone (``response.body`` stays the bytes as framed)."""
        if self.coding is not None:
            return self.coding.decoded
        return self.response.body if self.response is not None else b""

    @property
    def stream_timings(self) -> StreamTimings | None:
        """The pace of a streamed answer (``wire.pace``): first byte, first delta, the gaps; None if not streamed."""
        if not self.stream:
            return None
        usage = self.completion.usage if self.completion is not None else None
        return stream_timings(self.timings, self.delta_times, usage)

    @property
    def sse_comments(self) -> list[Comment]:
        """The comment lines of a streamed reply (keep-alives such as ``: ping``): not events, but kept."""
        return list(self.sse_decoder.comments) if self.sse_decoder is not None else []

    @property
    def trace(self) -> list[TraceEvent]:
        """What each layer did, in order (``layer.step`` events; see ``wire.trace``)."""
        return self.tracer.events

    @property
    def text(self) -> str:
        """The answer's text (first choice), or "" when there is none."""
        if self._completion is None:
            # The usual reply has the text at choices[0].message.content: read it there, without
            # building the typed views. Anything else (content parts, no choices) goes through them.
            content = first_content(self.json)
            if content is not None:
                return content
        return self.completion.text if self.completion is not None else ""

    def __repr__(self) -> str:
        status = self.response.status if self.response is not None else None
        return (
            f"<Exchange {self.request.method} {self.base_url}{CHAT_PATH} -> {status}, "
            f"{len(self.request_bytes)} bytes out, {len(self.response_bytes)} bytes in, "
            f"{len(self.attempts)} attempt(s)>"
        )

    def _repr_html_(self) -> str:
        """Every layer of the call as HTML, for Jupyter (wire/notebook.py)."""
        # Imported by name when first shown: the views come after every layer (tests/test_imports.py).
        shown: str = importlib.import_module("wire.notebook").html(self)
        return shown

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """The same as text in IPython's terminal."""
        importlib.import_module("wire.notebook").repr_pretty(self, printer, cycle)


def first_content(reply: Any, part: str = "message") -> str | None:
    """``reply["choices"][0][part]["content"]`` when each step is there with its JSON type, else None.

    ``part`` is ``"message"`` in a reply, ``"delta"`` in a stream's chunk.
    """
    choices = reply.get("choices") if isinstance(reply, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    message = choices[0].get(part)
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, str) else None
