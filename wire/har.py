"""An exchange as an HTTP Archive (HAR 1.2): the format browsers' developer tools save and open.

    har = to_har(exchange)                 # a dict, ready for json.dump
    write_har(exchange, "call.har")        # open it in Chrome / Firefox DevTools

The format is the W3C draft "HTTP Archive (HAR) format", version 1.2
(http://www.softwareishard.com/blog/har-12-spec/). One ``entries`` item per
attempt in ``exchange.attempts``, so a 429 followed by a retry shows as two
requests. HAR is made for browsers, so a few of wire's facts are mapped:

- ``timings`` are milliseconds. HAR's ``connect`` *includes* the TLS handshake,
  which is also given on its own as ``ssl`` (so HAR 1.1 readers still add up);
  ``time`` is the sum of ``blocked``, ``dns``, ``connect``, ``send``, ``wait``
  and ``receive`` (``ssl`` is not counted twice). ``-1`` means "did not
  happen": ``blocked`` always (wire has no connection pool to wait for),
  ``ssl`` for plain HTTP, every phase of an attempt that never connected.
- ``headersSize`` counts the head's bytes (status or request line, fields,
  empty line) as they crossed the wire; the response's ``bodySize`` counts the
  body as transferred (with chunked framing: size lines and CRLFs included),
  ``content.size`` the de-chunked body.
- ``connection`` is HAR's "Unique ID of the parent TCP/IP connection": the
  number of the attempt that opened it. Connections are kept alive, so one
  may carry several attempts: a 429 and its retry usually share one, and
  then both entries say ``"1"`` (``Attempt.reused`` says when an attempt
  reused a connection; the client keeps one, so an attempt that reused one
  reused the connection of the attempt before it, or, for the first attempt,
  one from an earlier call).
- Fields starting with ``_`` are wire's own (the HAR spec allows custom fields
  with a leading underscore): ``_attempt``, ``_retryDelay`` (ms waited before
  the next attempt), ``_error`` (why the attempt failed).

An attempt that failed before any response (DNS, connect, TLS, a reply that
broke off) gets a response with ``status`` 0 and the error text in
``_error``, as browsers do for a failed request.

The API key is redacted (``Bearer sk-…abcd``) everywhere in the document,
unless ``show_secrets=True``.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from wire.coding import decode_body
from wire.errors import ProtocolError
from wire.http11 import Response
from wire.secrets import Secret, redact_text
from wire.show import secrets_of
from wire.version import __version__

if TYPE_CHECKING:
    from wire.client import Attempt, Exchange

HAR_VERSION = "1.2"


def to_har(exchange: Exchange, *, show_secrets: bool = False) -> dict[str, Any]:
    """The exchange as a HAR 1.2 document (a dict): one entry per attempt, the key redacted."""
    entries = []
    connection = 0
    for attempt in exchange.attempts:
        if not (attempt.reused and connection):  # a new connection (or one kept from an earlier call)
            connection = attempt.number
        entries.append(_entry(exchange, attempt, connection))
    har: dict[str, Any] = {
        "log": {
            "version": HAR_VERSION,
            "creator": {"name": "wire", "version": __version__},
            "pages": [],
            "entries": entries,
        }
    }
    if show_secrets:
        return har
    redacted: dict[str, Any] = _redacted(har, secrets_of(exchange))
    return redacted


def write_har(exchange: Exchange, path: str | os.PathLike[str], *, show_secrets: bool = False) -> None:
    """Write ``to_har(exchange)`` to ``path`` as UTF-8 JSON (indent 2)."""
    text = json.dumps(to_har(exchange, show_secrets=show_secrets), indent=2, ensure_ascii=False)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")


# -- one entry per attempt --------------------------------------------------------


def _entry(exchange: Exchange, attempt: Attempt, connection: int) -> dict[str, Any]:
    timings = _timings(attempt)
    entry: dict[str, Any] = {
        "startedDateTime": _iso8601(attempt.timings.started_at),
        "time": round(sum(v for k, v in timings.items() if k != "ssl" and v > 0), 3),
        "request": _request(exchange),
        "response": _response(attempt),
        "cache": {},
        "timings": timings,
        "connection": str(connection),
        "_attempt": attempt.number,
    }
    if attempt.peer is not None:
        # HAR: "IP address of the server that was connected (result of DNS resolution)".
        entry["serverIPAddress"] = attempt.peer[0]
    if attempt.retry_delay is not None:
        entry["_retryDelay"] = round(attempt.retry_delay * 1000, 3)
    if attempt.error is not None:
        entry["_error"] = str(attempt.error)
    return entry


def _request(exchange: Exchange) -> dict[str, Any]:
    request = exchange.request
    base = urlsplit(exchange.base_url)
    return {
        "method": request.method,
        "url": f"{base.scheme}://{base.netloc}{request.target}",
        "httpVersion": request.http_version,
        "headers": [{"name": name, "value": value} for name, value in request.headers],
        "queryString": [],
        "cookies": [],
        "headersSize": len(exchange.request_bytes) - len(request.body),
        "bodySize": len(request.body),
        "postData": {
            "mimeType": request.header("Content-Type") or "",
            "params": [],
            "text": request.body.decode("utf-8", "replace"),
        },
    }


def _response(attempt: Attempt) -> dict[str, Any]:
    response = attempt.response
    if response is None:
        # No complete response: HAR's convention for a failed request is status 0.
        return {
            "status": 0,
            "statusText": "",
            "httpVersion": "",
            "headers": [],
            "cookies": [],
            "content": {"size": 0, "mimeType": "x-unknown"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
        }
    head_size = _head_size(response)
    return {
        "status": response.status,
        "statusText": response.reason,
        "httpVersion": response.http_version,
        "headers": [{"name": name, "value": value} for name, value in response.headers],
        "cookies": [],
        "content": _content(response),
        "redirectURL": response.header("Location") or "",
        "headersSize": head_size,
        "bodySize": len(response.raw) - head_size,
    }


def _content(response: Response) -> dict[str, Any]:
    """The de-chunked body: as text when it is UTF-8, else base64 (HAR's ``encoding`` field).

    A gzip or deflate body (``Content-Encoding``) is given decoded, as HAR 1.2
    asks ("HTTP decoded text"; ``size`` the decoded length, ``compression`` the
    bytes saved); one wire cannot decode stays as it came.
    """
    body = response.body
    content: dict[str, Any] = {"size": len(body), "mimeType": response.header("Content-Type") or ""}
    if response.header("Content-Encoding") is not None:
        try:
            body = decode_body(response.body, response.header("Content-Encoding"), asked=None).decoded
        except ProtocolError:
            pass
        else:
            content.update(size=len(body), compression=len(body) - len(response.body))
    try:
        content["text"] = body.decode("utf-8")
    except UnicodeDecodeError:
        content["text"] = base64.b64encode(body).decode("ascii")
        content["encoding"] = "base64"
    return content


def _head_size(response: Response) -> int:
    """Bytes from the first status line to the empty line that ends the final head (interim 1xx heads included)."""
    return response.head_end  # the parser's own cut: the stream starts at the first status line


def _timings(attempt: Attempt) -> dict[str, float]:
    """wire's phases (seconds, None when not reached) as HAR timings (ms, -1 when not applicable)."""
    phases = attempt.timings.phases()

    def ms(value: float | None, missing: float = -1) -> float:
        return missing if value is None else round(value * 1000, 3)

    connected = attempt.timings.connect is not None
    tcp = ms(phases["connect"])
    ssl = ms(phases["tls"])
    return {
        "blocked": -1,
        "dns": ms(phases["dns"]),
        # HAR 1.2: "connect: time required to create TCP connection", and "ssl ... time is also included
        # in the connect field (to ensure backward compatibility with HAR 1.1)".
        "connect": round(tcp + max(ssl, 0), 3) if connected else -1,
        "ssl": ssl,
        # send, wait and receive may not be -1 in HAR 1.2: a phase never reached took 0 ms.
        "send": ms(phases["send"], 0),
        "wait": ms(phases["wait"], 0),
        "receive": ms(phases["receive"], 0),
    }


def _iso8601(started_at: float) -> str:
    """``Timings.started_at`` (seconds since the epoch) as ISO 8601 in UTC, to the millisecond."""
    return datetime.fromtimestamp(started_at, timezone.utc).isoformat(timespec="milliseconds")


# -- secrets ---------------------------------------------------------------------


def _redacted(value: Any, secrets: list[Secret]) -> Any:
    """``value`` with every occurrence of a secret in any string replaced by its shown form."""
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, dict):
        return {key: _redacted(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted(item, secrets) for item in value]
    return value
