"""One Chat Completions call, run through every layer, each layer's result kept.

    settings -> payload -> request bytes -> connection (DNS, TCP, TLS)
             -> bytes out -> bytes in -> HTTP/1.1 events -> body
             -> JSON (or Server-Sent Events -> completion chunks) -> ChatCompletion

``Client.chat()`` returns an ``Exchange`` (``wire.exchange``) that holds all
of it, so a learner can look at any layer after the call. ``Client.stream()``
returns a ``ChatStream`` that yields the text as it arrives and keeps the same
``Exchange`` for afterwards; ``wire.stream`` reads a streamed reply, layer by
layer.

Failures, like the official SDK: a non-2xx reply is an ``APIError``. After a
failed attempt ``wire.retry`` says whether to send the request again and how
long to wait first (408, 409, 429, 5xx, and network errors before the
request went out; ``max_retries``, default 2). Every attempt is kept on
``Exchange.attempts``. A connection the reply allows to be kept (RFC 9112
§9.3) is used again by the next call.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

from wire import hints, transport
from wire.capture import DEFAULT_CAPTURE, Kept, check_capture
from wire.chat import (
    CHAT_PATH,
    DEFAULT_MODEL,
    ChatCompletion,
    build_payload,
    decode_payload,
    decode_reply,
    encode_payload,
)
from wire.coding import ACCEPT_ENCODING, accept_encoding, decode_body
from wire.config import Settings
from wire.errors import APIError, IncompleteMessage, NetworkError, ProtocolError, TLSError, WireError
from wire.exchange import Attempt, Exchange, first_content
from wire.http11 import Response, ResponseParser
from wire.proxy import proxy_for
from wire.request import chat_request
from wire.retry import DEFAULT_MAX_RETRIES, NOT_RESENT, retry_delay
from wire.secrets import Secret
from wire.show import secrets_of
from wire.stream import read_stream
from wire.trace import TraceCallback, Tracer
from wire.transport import Connection, Timeouts

# What a streamed call asks for unless told otherwise: the usage chunk at the end of the stream.
STREAM_OPTIONS: dict[str, Any] = {"include_usage": True}

__all__ = ["CHAT_PATH", "Attempt", "ChatStream", "Client", "Exchange"]  # Attempt and Exchange: wire.exchange


class Client:
    """A Chat Completions client that keeps every byte of every call.

    ``settings`` default to ``Settings.load()`` (the environment, then
    ``.env``); ``base_url`` and ``api_key`` override them. ``ca_file`` adds a
    trust root for a private CA (it never turns verification off).
    ``timeout`` is seconds for every phase, or ``Timeouts(connect, tls,
    read, total)``. ``sleep`` and ``rng`` are injectable so tests never wait.
    ``compressed=True`` asks for a compressed reply (``Accept-Encoding: gzip,
    deflate``) and decodes it as a layer of its own (``wire.coding``).
    ``capture`` says what each exchange keeps of the bytes, events and chunks:
    ``"full"``, ``"bounded"`` (the default: memory stays flat however long
    the stream) or ``"off"`` (see ``wire/capture.py``).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        model: str | None = None,
        ca_file: str | None = None,
        timeout: float | Timeouts | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        on_trace: TraceCallback | None = None,
        compressed: bool = False,
        capture: str = DEFAULT_CAPTURE,
    ) -> None:
        if settings is not None and not isinstance(settings, Settings):
            hint = f"; pass base_url={settings!r} as a keyword" if isinstance(settings, str) else ""
            raise TypeError(
                f"Client() takes wire.Settings (or nothing) as its one positional argument, "
                f"got {type(settings).__name__}{hint}"
            )
        if isinstance(max_retries, bool) or not isinstance(max_retries, int):
            raise TypeError(f"max_retries must be an int (0 or more), got {type(max_retries).__name__}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more (0: one attempt, no retry), got {max_retries}")
        if not isinstance(compressed, bool):
            raise TypeError(f"compressed must be True or False, got {type(compressed).__name__}")
        if settings is None:
            settings = Settings.load()
        given = {"api_key": api_key, "base_url": base_url, "model": model}
        if any(value is not None for value in given.values()):
            sources = dict(settings.sources)
            sources.update({name: "Client argument" for name, value in given.items() if value is not None})
            settings = Settings(
                api_key=api_key if api_key is not None else settings.api_key,
                base_url=base_url if base_url is not None else settings.base_url,
                model=model if model is not None else settings.model,
                env_file=settings.env_file,
                sources=sources,
                proxies=dict(settings.proxies),
            )
        self.settings = settings
        self.ca_file = ca_file
        self.timeouts = Timeouts.coerce(timeout)
        self.max_retries = max_retries
        self.on_trace = on_trace  # called with each TraceEvent as it happens
        self.compressed = compressed  # send Accept-Encoding: gzip, deflate and decode the reply
        self.capture = check_capture(capture)
        self._conn: Connection | None = None  # kept alive after a reply that allows it
        self._secret: Secret | None = None  # the API key as a Secret (_key_secret)
        self._sleep = sleep
        self._rng = rng

    def __repr__(self) -> str:
        return f"<Client {self.settings!r}>"

    # -- the two calls ------------------------------------------------------

    def prepare(
        self, messages: str | list[dict[str, Any]], *, model: str | None = None, stream: bool = False, **params: Any
    ) -> Exchange:
        """Build the payload and the exact request bytes, without connecting (a dry run).

        These are the bytes ``chat()`` and ``stream()`` send, byte for byte: a
        streamed call asks for the usage chunk here (``STREAM_OPTIONS``), so a
        dry run shows it too.
        """
        _check_messages(messages)
        if stream:
            params = _with_stream_options(params)
        payload = build_payload(messages, model=model or self.settings.model or DEFAULT_MODEL, stream=stream, **params)
        return self._exchange(payload, encode_payload(payload), stream)

    def chat(
        self, messages: str | list[dict[str, Any]], *, model: str | None = None, stream: bool = False, **params: Any
    ) -> Exchange:
        """Send one chat request and return the whole ``Exchange``.

        With ``stream=True`` the reply is read as Server-Sent Events and
        assembled; the result is the same ``Exchange`` ``stream()`` leaves.
        """
        if stream:
            chat_stream = self.stream(messages, model=model, **params)
            for _ in chat_stream:
                pass
            return chat_stream.exchange
        exchange = self.prepare(messages, model=model, **params)
        for _ in self._attempts(exchange):
            pass
        return exchange

    def stream(self, messages: str | list[dict[str, Any]], *, model: str | None = None, **params: Any) -> ChatStream:
        """Send a streamed chat request; iterate the result for text deltas as they arrive.

        It asks for usage (``stream_options: {"include_usage": true}``), so
        ``.exchange.completion.usage`` is filled as after ``chat()``; pass
        ``stream_options=...`` to send your own, or ``stream_options=None`` to
        send none.
        """
        exchange = self.prepare(messages, model=model, stream=True, **params)
        return ChatStream(exchange, self._attempts(exchange))

    def prepare_body(self, body: bytes) -> Exchange:
        """A dry run for a whole request body given as bytes (``wire chat --payload FILE``).

        The body goes out byte for byte as given; it must be a JSON object
        (``ConfigError`` otherwise, saying where it breaks), and its
        ``"stream": true`` makes the call a streamed one.
        """
        payload = decode_payload(body)
        return self._exchange(payload, body, payload.get("stream") is True)

    def _exchange(self, payload: dict[str, Any], body: bytes, stream: bool) -> Exchange:
        """The request that carries ``body``, and the Exchange that will record the call (no connection yet)."""
        s = self.settings
        api_key = s.require_key()
        scheme, host, port, base_path = s.url_parts()
        request = chat_request(
            host=host,
            port=port,
            scheme=scheme,
            path=base_path + CHAT_PATH,
            api_key=api_key,
            body=body,
            accept="text/event-stream" if stream else "application/json",
        )
        if self.compressed:
            accept_encoding(request)
        # A reply that is not streamed is kept whole (its JSON is read whole anyway): the capture's
        # bounds on lists apply to streamed replies, which can go on for hours.
        trace = Tracer(self.on_trace, capture=self.capture if stream else "full")
        messages = payload.get("messages")
        count = len(messages) if isinstance(messages, list) else None
        trace.record("payload.build", "complete", {"model": payload.get("model"), "messages": count, "stream": stream})
        request_bytes = request.to_bytes()
        facts = {"method": request.method, "target": request.target, "bytes": len(request_bytes)}
        trace.record("request.build", "complete", facts)
        exchange = Exchange(
            base_url=s.base_url,
            payload=payload,
            request=request,
            request_bytes=request_bytes,
            stream=stream,
            tracer=trace,
            capture=self.capture,
        )
        # A server may echo the key: the trace never shows it. The key is all secrets_of(exchange) finds
        # before a connection (a proxy's password comes with it, in _watch); made once per key.
        trace.secrets = [self._key_secret(api_key)]
        return exchange

    def _key_secret(self, api_key: str) -> Secret:
        """The API key as a ``Secret`` (its value and the way views show it), made when the key changes."""
        if self._secret is None or self._secret.value != api_key:
            self._secret = Secret.key(api_key)
        return self._secret

    def send(self, exchange: Exchange) -> ChatStream:
        """Send an exchange made by ``prepare()`` or ``prepare_body()``; iterate the result to run the call.

        A streamed exchange yields its text deltas as they arrive, another
        yields nothing; either way ``.exchange`` holds every layer afterwards.
        """
        return ChatStream(exchange, self._attempts(exchange))

    # -- attempts and retries ---------------------------------------------

    def _attempts(self, exchange: Exchange) -> Iterator[str]:
        """Run attempts until one succeeds or the retries run out; yields streamed text deltas."""
        trace = exchange.tracer
        for number in range(1, self.max_retries + 2):
            attempt = Attempt(number=number, request_bytes=exchange.request_bytes)
            exchange.attempts.append(attempt)
            trace.record("attempt", "started", {"number": number})
            delivered = False
            try:
                for delta in self._one_attempt(exchange, attempt):
                    delivered = True
                    yield delta
                status = exchange.response.status if exchange.response else None
                trace.record("attempt", "complete", {"number": number, "status": status})
                return
            except WireError as exc:
                attempt.error = exc
                exc.exchange = exchange
                exc.redact(secrets_of(exchange))  # the server's text in the message may echo the key
                trace.record("attempt", "failed", {"number": number, "error": f"{type(exc).__name__}: {exc}"})
                if delivered:  # text already went to the caller: sending again would repeat it
                    raise
                if attempt.sent_before_close is not None:  # the server refused the request part-way: final
                    raise
                delay = retry_delay(
                    exc,
                    number=number,
                    max_retries=self.max_retries,
                    response=attempt.response,
                    sent=attempt.request_sent,
                    random_fraction=self._rng(),
                    now=time.time(),
                )
                if delay is None:
                    sent_unanswered = attempt.request_sent and not attempt.response_bytes
                    if sent_unanswered and isinstance(exc, (NetworkError, IncompleteMessage)):
                        exc.add_hint(NOT_RESENT)  # RFC 9110 §9.2.2: the server may have processed it
                    raise
                attempt.retry_delay = delay
                trace.record("attempt.retry", "started", {"number": number + 1, "delay": delay})
                self._sleep(delay)

    def _one_attempt(self, exchange: Exchange, attempt: Attempt) -> Iterator[str]:
        """Connect (or reuse the kept connection), send, read the reply; yield text deltas when streaming."""
        conn, first = self._send(exchange, attempt)
        # A reply that is not streamed keeps all its events (a plain list: nothing to cut back).
        exchange.events = Kept.for_capture(self.capture) if exchange.stream else []
        exchange.response = None
        exchange.coding = None  # this attempt's reply sets it (wire.coding)
        keep = False
        try:
            # A streamed body can be far longer than anything a reply needs kept whole: unless the
            # capture is full, _read_stream keeps what fits the reply's byte budget itself. A reply
            # read whole has its Field events made when first asked for (Exchange.events), unless a
            # trace callback wants each as it comes.
            parser = ResponseParser(
                keep_body=not exchange.stream or self.capture == "full",
                field_events=exchange.stream or exchange.tracer.callback is not None,
            )
            reads = _reads(conn, first)
            try:
                if exchange.stream:
                    yield from read_stream(
                        reads,
                        parser,
                        exchange,
                        attempt,
                        conn.clock,
                        read_timeout=self.timeouts.read,
                        compressed=self.compressed,
                    )
                else:
                    self._read_all(reads, parser, exchange)
            except ProtocolError as exc:
                raise self._explain_first_bytes(exc) from None
            attempt.response = exchange.response
            exchange.capture_truncated = conn.capture_truncated
            conn.mark_done()
            # RFC 9112 §9.3: keep the connection for the next call when the reply allows it.
            keep = bool(
                exchange.response
                and exchange.response.keep_alive
                and not parser.trailing_data
                and attempt.sent_before_close is None  # a request cut short leaves its body's rest unsent
            )
        finally:
            if keep:
                self._conn = conn
            else:
                conn.close()
        self._finish(exchange, attempt)

    def _explain_first_bytes(self, exc: ProtocolError) -> WireError:
        """A reply that is not HTTP at all often means plain HTTP was sent to a TLS port: say so."""
        if self.settings.scheme != "http" or exc.offset not in (0, None):
            return exc
        hint = f"if port {self.settings.port} speaks TLS, use https:// in the base URL"
        if exc.received[:1] in (b"\x15", b"\x16") and exc.received[1:2] == b"\x03":
            # 0x15 0x03 / 0x16 0x03: the header of a TLS alert / handshake record (RFC 8446 §5.1).
            return TLSError("the server answered plain HTTP with a TLS record", received=exc.received, hint=hint)
        if isinstance(exc, IncompleteMessage) and not exc.received:
            return IncompleteMessage(
                f"{exc.message} ({hint})", offset=exc.offset, rule=exc.rule, received=exc.received, state=exc.state
            )
        return exc

    def _send(self, exchange: Exchange, attempt: Attempt) -> tuple[Connection, bytes]:
        """Send the request; return the connection and the first bytes of the reply.

        A kept connection is checked before the request goes out: one the server
        has closed meanwhile is dropped and a new one opened (``_take_kept``), so
        the request is sent once. Once written, the request may have reached the
        server even if no answer comes back (a Chat Completions call is billed):
        a failure after the write (a kept connection that dies, a read timeout)
        ends the call; wire does not send the request again.
        """
        trace = exchange.tracer
        conn = self._take_kept()
        if conn is not None:
            trace.record("connection.reuse", "complete", partial(_reuse_facts, conn.peer, conn.setup_seconds))
        else:
            conn = self._open(trace)
        self._watch(conn, exchange, attempt)
        attempt.request_sent = True
        try:
            self._write(conn, exchange)
        except NetworkError as exc:
            if conn.cut_short_at is None:
                conn.close()
                raise
            return conn, self._early_reply(conn, exchange, attempt, exc)
        try:
            first = conn.recv()
        except WireError:
            conn.close()  # a timeout or reset before any reply byte: the socket is of no more use
            raise
        if not first and conn.reuse_count > 0:
            conn.close()
            error = "the server closed the kept connection without answering"
            trace.record("connection.reuse", "failed", {"error": error})
            raise IncompleteMessage(
                "the server closed the kept-alive connection after the request was sent, without answering",
                offset=0,
                rule="RFC 9112 §9.3.1, RFC 9110 §9.2.2: a non-idempotent request is not retried automatically",
                received=b"",
                state="status line",
            )
        return conn, first

    @staticmethod
    def _early_reply(conn: Connection, exchange: Exchange, attempt: Attempt, error: NetworkError) -> bytes:
        """The first bytes of a reply the server sent before it closed on our request (EPIPE or ECONNRESET).

        A server may answer once it has read the head, without reading the
        body, and close (RFC 9110 §15.5.14: after a 413 Content Too Large "the
        server MAY close the connection"); our next write then fails. RFC 9112
        §9.5: "A client sending a message body SHOULD monitor the network
        connection for an error response while it is transmitting the
        request." wire looks when the write fails: the reply is already on its
        way, so it is read (bounded by the read timeout) and handled as the
        reply. A reset may erase it before it is read (RFC 9112 §9.6); then the
        error says the server may have answered. The request is never sent
        again: the server saw its start and refused the rest.
        """
        trace = exchange.tracer
        sent = conn.cut_short_at
        attempt.sent_before_close = sent
        facts = {"sent": sent, "of": len(exchange.request_bytes), "error": f"{type(error).__name__}: {error.message}"}
        trace.record("http11.send_body", "failed", facts)
        try:
            first = conn.recv()
        except NetworkError:
            first = b""
        if first:
            trace.record("http11.early_reply", "complete", {"bytes": len(first)})
            return first
        conn.close()
        raise NetworkError(
            f"{error.message}: {sent} of {len(exchange.request_bytes)} request bytes had gone out; the server may "
            "have answered early (a 413 for a body too large, say), but no reply could be read "
            "(wire does not send the request again)",
            phase="send",
            received=b"",
            hint=error.hint,
        ) from error

    @staticmethod
    def _write(conn: Connection, exchange: Exchange) -> None:
        """Send the head and the body in one write, as http.client does for a small body.

        Two writes would cost a second system call and, on a busy server, a
        second wake-up; the trace still reports the head and the body as steps.
        """
        trace = exchange.tracer
        head_size = len(exchange.request_bytes) - len(exchange.request.body)
        trace.record("http11.send_head", "started", {"bytes": head_size})
        conn.sendall(exchange.request_bytes)
        trace.record("http11.send_head", "complete", {"bytes": head_size})
        if exchange.request.body:
            trace.record("http11.send_body", "complete", {"bytes": len(exchange.request.body), "same_write": True})

    def _take_kept(self) -> Connection | None:
        """The connection kept from the last call, ready for a new request, or None."""
        conn, self._conn = self._conn, None
        if conn is None or conn.closed:
            return None
        if conn.is_stale():
            conn.close()
            return None
        conn.reuse()
        return conn

    def _open(self, trace: Tracer) -> Connection:
        """A new connection: DNS, TCP, (a proxy's CONNECT,) TLS, each traced as it starts and ends."""
        scheme, host, port, _ = self.settings.url_parts()
        tls = scheme == "https"
        trace.record("connection.open", "started", {"host": host, "port": port, "tls": tls})
        proxy = proxy_for(self.settings)
        try:
            conn = Connection.open(
                host,
                port,
                tls=tls,
                ca_file=self.ca_file,
                timeouts=self.timeouts,
                proxy=proxy,
                on_step=trace.record,
            )
        except WireError as exc:
            error = hints.through_proxy(exc, proxy) if proxy is not None else exc
            trace.record("connection.open", "failed", {"error": f"{type(error).__name__}: {error}"})
            if error is exc:
                raise
            raise error from exc
        trace.record("connection.open", "complete", {"peer": conn.peer})
        return conn

    @staticmethod
    def _watch(conn: Connection, exchange: Exchange, attempt: Attempt) -> None:
        """Share the connection's records and timings with the attempt and the exchange.

        From here on even a failure part-way leaves every byte inspectable.
        """
        attempt.records, attempt.timings, attempt.tls, attempt.peer = conn.records, conn.timings, conn.tls, conn.peer
        attempt.tunnel = exchange.tunnel = conn.tunnel
        attempt.reused = conn.reuse_count > 0
        attempt.saved_seconds = conn.setup_seconds if attempt.reused else 0.0
        exchange.records, exchange.timings, exchange.tls, exchange.peer = (
            conn.records,
            conn.timings,
            conn.tls,
            conn.peer,
        )
        exchange.reused, exchange.saved_seconds = attempt.reused, attempt.saved_seconds
        budgets = {"full": None, "off": 0}  # "bounded": transport.MAX_CAPTURE_BYTES each way
        conn.max_capture = budgets.get(exchange.capture, transport.MAX_CAPTURE_BYTES)
        if conn.tunnel is not None:
            exchange.tracer.secrets = secrets_of(exchange)  # now with the proxy's password, if any

    def close(self) -> None:
        """Close the kept connection, if any."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Client:
        return self

    def __del__(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _read_all(self, reads: Iterator[bytes], parser: ResponseParser, exchange: Exchange) -> None:
        """Feed the parser until the response is complete (or the peer closes)."""
        events = exchange.events
        trace = exchange.tracer
        add_fields = None if parser.field_events else parser.add_field_events
        if add_fields is not None:
            exchange.field_events_from(add_fields)
        while parser.response is None:
            data = next(reads)
            new = parser.feed(data) if data else parser.feed_eof()
            events += new
            trace.parser_events(new, add_fields)
        exchange.response = parser.response

    def _decode(self, exchange: Exchange, response: Response) -> None:
        """A reply read whole: undo its content coding at once (a 2xx stream was decoded as it came)."""
        if not self.compressed or exchange.coding is not None:
            return
        try:
            exchange.coding = decode_body(response.body, response.header("Content-Encoding"), asked=ACCEPT_ENCODING)
        except ProtocolError:
            if 200 <= response.status < 300:
                raise
            # An error reply that cannot be decoded is still an APIError (retried as its status says).
            return
        exchange.tracer.content_coding(exchange.coding)

    def _finish(self, exchange: Exchange, attempt: Attempt) -> None:
        """Turn the complete response into JSON and a ChatCompletion, or an APIError."""
        response = exchange.response
        assert response is not None
        self._decode(exchange, response)
        if not 200 <= response.status < 300:
            raise _api_error(response, exchange)
        trace = exchange.tracer
        if exchange.stream:
            completion = exchange.completion
            text = trace.shown(completion.text if completion else "", 60)
            trace.record("chat.completion", "complete", {"text": text, "chunks": len(exchange.completion_chunks)})
            return
        body = exchange.decoded_body
        try:
            exchange.json = decode_reply(body)
        except ValueError as exc:
            why = None if exchange.coding is not None else hints.unreadable_body(response, secrets_of(exchange))
            raise ProtocolError(
                f"the reply body is not JSON ({exc})" + (f"; {why}" if why else ""),
                received=body,
                rule="Chat Completions reply format",
            ) from None
        except RecursionError:  # json gives up on values nested thousands deep
            raise ProtocolError(
                "the reply body is nested too deeply to read as JSON",
                received=body,
                rule="Chat Completions reply format",
            ) from None
        trace.record("json.parse", "complete", {"bytes": len(body)})
        # The typed views are read from the JSON when first asked for (Exchange.completion), by the
        # trace too: a call nobody traces never builds them. A reply that is not the usual one (no
        # text at choices[0].message.content) is read at once, so that one without the parts the
        # views need fails the call with a ProtocolError that names the part.
        if first_content(exchange.json) is None:
            exchange.completion = ChatCompletion.from_dict(exchange.json)  # a ProtocolError names the part
        trace.record("chat.completion", "complete", partial(_completion_facts, exchange.json))


def _reuse_facts(peer: tuple[str, int], setup_seconds: float, trace: Tracer) -> dict[str, Any]:
    """The ``connection.reuse`` trace step's facts (made when the trace is read: ``round`` of a float is not free)."""
    return {"peer": peer, "saved_ms": round(setup_seconds * 1000, 3)}


def _completion_facts(reply: Any, trace: Tracer) -> dict[str, Any]:
    """The ``chat.completion`` trace step's facts: the answer's start and the tokens (or why they are missing).

    Read from the reply's JSON, not from the exchange: the trace holds no reference to it.
    """
    try:
        completion = ChatCompletion.from_dict(reply)
    except ProtocolError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    usage = completion.usage
    return {"text": trace.shown(completion.text, 60), "tokens": usage.total_tokens if usage else None}


def _reads(conn: Connection, first: bytes) -> Iterator[bytes]:
    """The reply's bytes read by read: the first read (already made), then the next ones."""
    yield first
    while True:
        yield conn.recv()


class ChatStream:
    """The text deltas of a streamed reply, as they arrive; ``.exchange`` holds the rest.

    Iterate it once. After the loop (or ``read()``), ``exchange.completion``
    is the assembled reply.
    """

    def __init__(self, exchange: Exchange, deltas: Iterator[str]) -> None:
        self.exchange = exchange
        self._deltas = deltas

    def __iter__(self) -> Iterator[str]:
        return self._deltas

    def read(self) -> str:
        """Consume the whole stream and return its text."""
        return "".join(self._deltas)

    def _ipython_display_(self) -> None:
        """A notebook cell that ends with a stream shows it live, in one output (``wire.notebook.live``)."""
        from wire.notebook import live

        live(self)


def _api_error(response: Response, exchange: Exchange) -> APIError:
    """An APIError from a non-2xx reply: the error body's fields, or its raw text, and a hint (wire/hints.py)."""
    if exchange.coding is not None and exchange.coding.applied:
        response = copy.copy(response)  # the error body as decoded, for its message; exchange.response stays
        response.body = exchange.coding.decoded
        response.headers = [(name, value) for name, value in response.headers if name.lower() != "content-encoding"]
    return hints.api_error(response, exchange.base_url, secrets_of(exchange), exchange)


def _with_stream_options(params: dict[str, Any]) -> dict[str, Any]:
    """A streamed call's params: ``STREAM_OPTIONS`` unless the caller chose (``None``: leave the field out).

    Without it the API sends no usage in a stream (the final chunk with
    ``choices: []`` comes only with ``include_usage``); with it, the CLI and
    Python get the same reply.
    """
    if "stream_options" not in params:
        return {**params, "stream_options": dict(STREAM_OPTIONS)}
    if params["stream_options"] is None:
        return {name: value for name, value in params.items() if name != "stream_options"}
    return params


def _check_messages(messages: object) -> None:
    """A TypeError, saying what is expected, for messages that are neither a str nor a list of dicts."""
    expected = "a str (one user message) or a list of dicts like {'role': 'user', 'content': 'Hi'}"
    if isinstance(messages, str):
        return
    if isinstance(messages, (bytes, bytearray)):
        raise TypeError(f"messages must be {expected}, got {type(messages).__name__} (decode it to str first)")
    if isinstance(messages, Mapping):
        raise TypeError(f"messages must be {expected}, got one dict (put it in a list: [message])")
    if not isinstance(messages, (list, tuple)):
        raise TypeError(f"messages must be {expected}, got {type(messages).__name__}")
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise TypeError(
                f"messages[{index}] must be a dict like {{'role': 'user', 'content': 'Hi'}}, "
                f"got {type(message).__name__}"
            )
