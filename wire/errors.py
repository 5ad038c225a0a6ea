"""Every way a call can fail, as one hierarchy of exceptions.

    WireError                      anything wire raises on purpose
    ├── ProtocolError              the peer's bytes break HTTP/1.1 or SSE rules
    │   ├── IncompleteMessage      the bytes stopped before the message ended
    │   └── StreamError            a streamed reply's events make no sense
    ├── InvalidRequest             we were asked to *send* a request line we must not
    │   └── InvalidHeader          ... or a header field we must not
    ├── NetworkError               DNS, connect, send or receive failed
    │   ├── TLSError               the TLS handshake or a TLS record failed
    │   ├── Timeout                a phase took longer than its limit
    │   └── ProxyError             the proxy would not open a CONNECT tunnel
    ├── APIError                   the server answered, but with an error
    └── ConfigError                settings are missing or malformed

Each exception keeps its evidence (``received``, ``offset``, ``phase``,
``exchange``) as attributes, so a learner can inspect what arrived before
things went wrong, the way ``http.client.IncompleteRead.partial`` does.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable
from typing import Any

from wire.secrets import Secret, redact_part, redact_text


class WireError(Exception):
    """Base class of every error wire raises on purpose.

    ``exchange`` is set by the client when the error ends a call: the partial
    ``Exchange`` with every byte and layer result it had reached.
    """

    exchange: Any = None

    def redact(self, secrets: Iterable[str | Secret]) -> None:
        """Replace every secret in this error's text (``str``, ``repr``, ``message``, ``hint``) by its shown form.

        A server can echo the API key back: in a field, the reason phrase, an
        error body. The client calls this on each error that ends an attempt,
        so no message repeats a key it received. The evidence (``received``,
        ``body``) stays as it arrived; the errors it was raised from are
        redacted too.
        """
        secrets = list(secrets)
        for name in ("message", "hint"):
            value = getattr(self, name, None)
            if isinstance(value, str):
                setattr(self, name, redact_text(value, secrets))
        self.args = tuple(redact_text(a, secrets) if isinstance(a, str) else a for a in self.args)
        cause = self.__cause__ or self.__context__
        if isinstance(cause, WireError) and cause is not self:
            cause.redact(secrets)

    def _repr_html_(self) -> str:
        """The error and the exchange it ended as HTML, for Jupyter (wire/notebook.py)."""
        # Imported by name when first shown: the views come after every layer (tests/test_imports.py).
        shown: str = importlib.import_module("wire.notebook").html(self)
        return shown

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """The same as text in IPython's terminal."""
        importlib.import_module("wire.notebook").repr_pretty(self, printer, cycle)


class ProtocolError(WireError):
    """The peer sent bytes that break a protocol rule.

    ``rule`` names the rule (with its RFC 9112 / RFC 9110 / WHATWG section),
    ``offset`` is the byte offset in the stream where the fault was seen, and
    ``received`` holds the bytes that had arrived up to that point;
    ``hint``, when set, says what to do.
    """

    hint: str | None = None

    def __init__(
        self,
        message: str,
        *,
        offset: int | None = None,
        rule: str | None = None,
        received: bytes = b"",
        state: str | None = None,
        received_offset: int = 0,
    ) -> None:
        self.message = message
        self.offset = offset
        self.rule = rule
        self.received = bytes(received)
        self.received_offset = received_offset  # the stream offset of received[0]
        self.state = state
        super().__init__(self._text())

    def redact(self, secrets: Iterable[str | Secret]) -> None:
        """As ``WireError.redact``; the bytes quoted near the fault are redacted before they are cut."""
        secrets = list(secrets)
        super().redact(secrets)
        self.args = (self._text(secrets),)

    def add_hint(self, hint: str) -> None:
        """Add ``hint`` after the error's own one, in ``hint`` and in the text (the client says why it stopped)."""
        self.hint = f"{self.hint}; {hint}" if self.hint else hint
        self.args = (self._text(),)

    def _text(self, secrets: Iterable[str | Secret] = ()) -> str:
        text = self.message + self._where(secrets)
        if self.hint:
            text += f" — {self.hint}"
        return text

    def _where(self, secrets: Iterable[str | Secret]) -> str:
        """Where the fault is: its offset, the rule, and the bytes near it."""
        text = ""
        if self.offset is not None:
            text += f" at byte {self.offset}"
        if self.rule:
            text += f" ({self.rule})"
        if self.offset is not None and self.received:
            at = self.offset - self.received_offset
            # The message quotes at most 40 bytes, 20 either side of the fault; ``received`` keeps them all.
            near = redact_part(self.received, max(0, at - 20), at + 20, secrets)
            if near:
                text += f"; bytes near it: {near!r}"
        return text


class IncompleteMessage(ProtocolError):
    """The input ended (the peer closed) before the message was complete.

    ``partial`` is what had arrived, as ``http.client.IncompleteRead.partial``.
    """

    @property
    def partial(self) -> bytes:
        return self.received


class StreamError(ProtocolError):
    """A streamed reply broke the Chat Completions stream format.

    Examples: a ``data:`` payload that is not JSON, a chunk without
    ``choices``, a stream that ends with no chunk and no ``data: [DONE]``. ``sse_events``
    keeps the Server-Sent Events received so far and ``completion_chunks`` the
    decoded ``chat.completion.chunk`` objects (the names ``Exchange`` uses), so
    what did arrive stays inspectable.

    ``offset`` counts bytes of the event stream (the body, de-chunked and
    decoded), where the faulty event begins, and ``event`` holds that event's
    bytes; ``received`` is the whole reply as it arrived, so the offset does
    not index it.
    """

    def __init__(
        self,
        message: str,
        *,
        sse_events: list[Any] | None = None,
        completion_chunks: list[Any] | None = None,
        offset: int | None = None,
        rule: str | None = None,
        received: bytes = b"",
        event: bytes = b"",
    ) -> None:
        self.sse_events = list(sse_events or [])
        self.completion_chunks = list(completion_chunks or [])
        self.event = bytes(event)
        super().__init__(message, offset=offset, rule=rule, received=received)

    def _where(self, secrets: Iterable[str | Secret]) -> str:
        text = "" if self.offset is None else f" at byte {self.offset} of the event stream"
        if self.rule:
            text += f" ({self.rule})"
        if self.event:
            text += f"; the event: {redact_part(self.event, 0, 60, secrets)!r}"  # its start, as the message quotes
        return text


class InvalidRequest(WireError, ValueError):
    """A request we were asked to send is not valid HTTP/1.1: its method, request-target or version.

    Raised before a byte is sent; the parent of ``InvalidHeader``, so one
    ``except InvalidRequest`` catches every refusal of the request writer.
    """


class InvalidHeader(InvalidRequest):
    """A header field we were asked to send is not valid HTTP.

    The message names the field and the rule, never the value of a secret
    field (``Authorization``, ``Proxy-Authorization``, API keys).
    """

    def __init__(self, message: str, *, name: str | None = None) -> None:
        self.name = name
        super().__init__(message)


class NetworkError(WireError):
    """The network failed in one ``phase``: dns, connect, tunnel, tls, send or receive.

    ``received`` keeps the bytes that had arrived before the failure.
    """

    def __init__(self, message: str, *, phase: str, received: bytes = b"", hint: str | None = None) -> None:
        self.message = message  # what failed, without the phase and the hint
        self.phase = phase
        self.received = bytes(received)
        self.hint = hint
        super().__init__(self._text())

    def add_hint(self, hint: str) -> None:
        """Add ``hint`` after the error's own one, in ``hint`` and in the text (the client says why it stopped)."""
        self.hint = f"{self.hint}; {hint}" if self.hint else hint
        self.args = (self._text(),)

    def _text(self) -> str:
        text = f"{self.phase}: {self.message}"
        if self.hint:
            text += f" — {self.hint}"
        return text


class TLSError(NetworkError):
    """The TLS handshake failed (untrusted certificate, wrong host, old version, ...)."""

    def __init__(self, message: str, *, received: bytes = b"", hint: str | None = None) -> None:
        super().__init__(message, phase="tls", received=received, hint=hint)


class Timeout(NetworkError):
    """A phase (connect, tls, read, total) took longer than its limit."""

    def __init__(
        self, message: str, *, phase: str, received: bytes = b"", limit: float | None = None, hint: str | None = None
    ) -> None:
        self.limit = limit
        super().__init__(message, phase=phase, received=received, hint=hint)


class ProxyError(NetworkError):
    """The proxy answered CONNECT with something other than 2xx, or with bytes that are not HTTP.

    ``proxy`` is the proxy's URL with the password as ``***``; ``status`` the
    proxy's status code (407: authentication required or refused), when it
    sent one; ``received`` its reply bytes; ``tunnel`` the ``TunnelInfo``
    with both sides of the CONNECT exchange. The message never holds the
    password or the ``Proxy-Authorization`` value.
    """

    def __init__(
        self,
        message: str,
        *,
        proxy: str,
        status: int | None = None,
        received: bytes = b"",
        hint: str | None = None,
        tunnel: Any = None,
    ) -> None:
        self.proxy = proxy
        self.status = status
        self.tunnel = tunnel
        super().__init__(message, phase="tunnel", received=received, hint=hint)


class APIError(WireError):
    """The server answered with a non-2xx status, or an error event in a stream.

    Carries the fields of the error body ``{"error": {"message", "type",
    "param", "code"}}`` when present, the raw body text otherwise, the
    ``x-request-id`` and the whole exchange. ``type``, ``param`` and ``code``
    are ``str`` or None: a value of another JSON type (some servers send
    ``"code": 429``) is turned into ``str`` as the official SDK does for
    ``code`` (openai-python ``_exceptions.py``, ``APIError.__init__``); the
    value as sent stays in ``body``. Build one with ``APIError.from_body()``.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        type: str | None = None,
        param: str | None = None,
        code: str | None = None,
        request_id: str | None = None,
        body: bytes = b"",
        exchange: Any = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.hint = hint  # what to do, when wire can tell (a redirect, a base URL one segment off)
        self.status = status
        self.type = type
        self.param = param
        self.code = code
        self.request_id = request_id
        self.body = body
        self.exchange = exchange
        prefix = f"Error {status}: " if status is not None else "Error: "
        super().__init__(prefix + message + (f" — {hint}" if hint else ""))

    @classmethod
    def from_body(
        cls,
        body: bytes,
        *,
        status: int | None = None,
        reason: str = "",
        request_id: str | None = None,
        exchange: Any = None,
        hint: str | None = None,
    ) -> APIError:
        """The error in a reply body (or a stream's error event): the one place an ``APIError`` is built.

        The message is ``error.message``; without one, the body's own text
        (an HTML page from a proxy, say), then ``reason``. ``{"error": "text"}``
        counts as a message too.
        """
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError):
            parsed = None
        error = parsed.get("error") if isinstance(parsed, dict) else None
        info: dict[str, Any] = error if isinstance(error, dict) else {}
        if isinstance(error, str):
            info = {"message": error}
        message = _text(info.get("message")) or body.decode("utf-8", "replace").strip() or reason or "no message"
        return cls(
            message,
            status=status,
            type=_text(info.get("type")),
            param=_text(info.get("param")),
            code=_text(info.get("code")),
            request_id=request_id,
            body=bytes(body),
            exchange=exchange,
            hint=hint,
        )


def _text(value: Any) -> str | None:
    """A field of an error body as ``str`` (None stays None; other JSON values as ``str()``, as the SDK's code)."""
    return None if value is None else str(value)


class ConfigError(WireError):
    """Settings are missing or malformed (say, no ``OPENAI_API_KEY`` anywhere)."""
