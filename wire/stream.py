"""A streamed reply, read as it arrives: the layers of ``Client.stream()`` below the request.

    bytes in -> HTTP/1.1 events -> body bytes -> (content coding undone)
             -> Server-Sent Events -> completion chunks -> text deltas

``read_stream`` feeds each read through the layers at once and yields the
text each chunk adds as soon as its read is in; ``Client`` runs it inside an
attempt (``wire/client.py``). Everything read lands on the ``Exchange``: the
parser's events, the Server-Sent Events, the chunks and when each delta arrived,
each list cut back to its first and latest items unless the capture is full
(``wire/capture.py``). A reply that is not a 2xx is not an event stream: its
body is read whole and kept, for the ``APIError`` its JSON makes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from wire import hints, transport
from wire.capture import MAX_STREAM_BODY_BYTES, Kept
from wire.chat import StreamAssembler, decode_stream_data
from wire.coding import ACCEPT_ENCODING, BodyDecoder
from wire.errors import StreamError, Timeout
from wire.exchange import Attempt, Exchange
from wire.http11 import ChunkHeader, Data, EndOfHead, EndOfMessage, Event, Field, Response, ResponseParser, StatusLine
from wire.show import secrets_of
from wire.sse import Comment, ServerSentEvent, SSEDecoder


def read_stream(
    reads: Iterator[bytes],
    parser: ResponseParser,
    exchange: Exchange,
    attempt: Attempt,
    clock: Callable[[], float],
    *,
    read_timeout: float | None,
    compressed: bool,
) -> Iterator[str]:
    """Feed bytes -> HTTP events -> (content coding) -> SSE events -> completion chunks, yielding each delta.

    ``reads`` gives the reply's bytes read by read (``b""`` when the peer
    closed); ``clock`` the moment a read returned. ``read_timeout`` (seconds,
    or None) also bounds the wait for the next event: keep-alive comments do
    not reset it. With ``compressed``, wire asked for a content coding and
    undoes the one the reply names. Fills ``exchange`` as the layers go: its
    events, Server-Sent Events, chunks, the pace of the deltas and at last the
    completion; what is kept of each follows ``exchange.capture``.
    """
    exchange.delta_times = []
    coding: BodyDecoder | None = None  # set at the end of the head when the reply is decoded
    content_encoding: list[str] = []
    decoder = SSEDecoder()
    kept_comments: Kept[Comment] = Kept.for_capture(exchange.capture)
    decoder.comments = kept_comments
    assembler = StreamAssembler()
    assembler.chunks = Kept.for_capture(exchange.capture)
    exchange.sse_decoder = decoder
    exchange.sse_events = Kept.for_capture(exchange.capture)
    exchange.completion_chunks = assembler.chunks
    events = exchange.events
    trace = exchange.tracer
    comments = 0  # comments seen so far (kept or dropped)
    body = None if parser.keep_body else _BodyKeeper(attempt, exchange.capture)
    done = False
    ok = False  # a 2xx reply: its body is an event stream (an error body is read whole)
    in_head = True  # until the end of the final response's head (after any interim 1xx replies)
    idle_limit = read_timeout
    last_event = time.monotonic()
    while parser.response is None:
        data = next(reads)
        arrived = clock()  # the moment this read returned: each delta it completes arrived then
        new = parser.feed(data) if data else parser.feed_eof()
        events += new
        trace.parser_events(new)
        now = time.monotonic()
        if idle_limit is not None and ok and not done and now - last_event > idle_limit:
            # Keep-alive comments keep the socket busy but carry no answer: they do not reset the clock.
            raise Timeout(
                f"no event for {now - last_event:.1f}s (read limit {idle_limit}s); the server sent only "
                f"{comments} keep-alive comment(s)",
                phase="read",
                received=attempt.response_bytes,
                limit=idle_limit,
            )
        for ev in new if in_head else ():  # the head's events: the status and the content coding
            if isinstance(ev, StatusLine):
                ok = 200 <= ev.status < 300
                content_encoding = []
            elif isinstance(ev, Field) and ev.name.lower() == "content-encoding":
                content_encoding.append(ev.value)
            elif isinstance(ev, EndOfHead) and not ev.informational:
                in_head = False
                if ok:
                    named = ", ".join(content_encoding) if content_encoding else None
                    coding = BodyDecoder(named, asked=ACCEPT_ENCODING) if compressed else None
                    exchange.coding = coding.record if coding is not None else None
                break
        datas = [ev.data for ev in new if type(ev) is Data]  # the body bytes this read brought
        if body is not None:
            body.add(new, datas, ok)
        if not ok:
            continue
        # The body bytes in one piece (the decoder's events and offsets do not depend on how
        # the bytes are split; one feed a read costs less than one a frame).
        body_data = b"".join(datas)
        if coding is not None and body_data:
            body_data = coding.feed(body_data)  # the content coding undone, piece by piece (wire.coding)
        if not body_data:
            continue
        for sse in decoder.feed(body_data):
            exchange.sse_events.append(sse)
            last_event = now
            if done:
                trace.stream_event(sse, None)
                continue
            chunk: dict[str, Any] | None = None
            delta: str | None = None  # the text the chunk carries; None for [DONE] or a chunk that failed
            try:
                chunk = decode_stream_data(sse.data)
                if chunk is not None:
                    delta = assembler.add(chunk)
            except StreamError as exc:
                raise _stream_error(exc, sse, exchange, assembler, attempt) from None
            finally:
                trace.stream_event(sse, delta)
            if chunk is None:  # data: [DONE]
                done = True
            elif delta:
                exchange.delta_times.append(arrived)
                yield delta
        exchange.sse_events.trim()  # Kept lists are cut back once per read (wire/capture.py)
        assembler.chunks.trim()
        total = len(kept_comments) + kept_comments.dropped
        new_comments = kept_comments[len(kept_comments) - (total - comments) :] if total > comments else []
        for comment in new_comments:
            trace.record("sse.comment", "complete", {"text": comment.text, "offset": comment.offset})
        comments = total
        kept_comments.trim()
    exchange.response = parser.response
    if body is not None:
        body.fill(exchange.response, exchange)
    if coding is not None:
        exchange.coding = coding.finish()
        trace.content_coding(exchange.coding)
    if ok:
        exchange.sse_events += decoder.flush()
        exchange.done_received = done
        if not done and not assembler.added:
            # No chunk at all: nothing to assemble (the SDK's Stream would yield nothing). With chunks,
            # a body that ended properly without [DONE] was ended by the server, and the SDK takes it:
            # [DONE] is OpenAI's end mark, not SSE's (openai-python 3.57.0, Stream.__stream__).
            why = None if coding is not None else hints.unreadable_body(exchange.response, secrets_of(exchange))
            raise StreamError(
                "the stream ended without 'data: [DONE]'" + (f"; {why}" if why else ""),
                sse_events=exchange.sse_events,
                completion_chunks=assembler.chunks,
                received=attempt.response_bytes,
            )
        exchange.completion = assembler.completion()


def _stream_error(
    exc: StreamError, sse: ServerSentEvent, exchange: Exchange, assembler: StreamAssembler, attempt: Attempt
) -> StreamError:
    """A chunk that cannot be read or added up: the error, with what came so far and where."""
    return StreamError(
        exc.message,
        sse_events=exchange.sse_events,
        completion_chunks=assembler.chunks,
        offset=sse.offset,
        rule=exc.rule,
        received=attempt.response_bytes,
        event=sse.raw,
    )


class _BodyKeeper:
    """A streamed reply's body and chunk frames, kept while they fit its budget (wire/capture.py).

    The parser runs without keeping the body (``keep_body=False``) unless the
    capture is full; this keeps what a short stream or an error reply needs
    (the views, an error's JSON). If all of it fit, the response gets its body,
    raw bytes and frames as if the parser had kept them; else ``dropped``
    counts the body bytes left out and the response keeps only its head.
    """

    def __init__(self, attempt: Attempt, capture: str) -> None:
        self.attempt = attempt
        self.budget = 0 if capture == "off" else min(transport.MAX_CAPTURE_BYTES, MAX_STREAM_BODY_BYTES)
        self.parts: list[bytes] = []
        self.frames: list[ChunkHeader] = []
        self.kept = 0
        self.dropped = 0
        self.end: int | None = None

    def add(self, events: list[Event], datas: list[bytes], ok: bool) -> None:
        """Keep the body bytes (``datas``) and chunk frames of one read's events while they fit the budget.

        ``ok``: the reply (its final head, once read) is a 2xx, whose body is an event stream.
        """
        if events and type(events[-1]) is EndOfMessage:  # the end of the message is the last event
            self.end = events[-1].offset
        size = sum(map(len, datas))
        # An error reply's body is kept whatever the capture: its JSON says what went wrong.
        if self.dropped == 0 and (self.kept + size <= self.budget or not ok):
            self.parts += datas
            self.frames += [ev for ev in events if type(ev) is ChunkHeader]
            self.kept += size
        else:  # the body will not be whole: keep none of it, and count all of it
            self.dropped += self.kept + size
            self.kept = 0
            self.parts, self.frames = [], []

    def fill(self, response: Response | None, exchange: Exchange) -> None:
        exchange.body_dropped = self.dropped
        if response is None or self.dropped:
            return
        response.body = b"".join(self.parts)
        received = self.attempt.response_bytes
        if self.end is not None and len(received) >= self.end:
            response.raw = received[: self.end]
            response._chunk_headers = self.frames  # frames are cut from the raw bytes (wire/http11/response.py)
