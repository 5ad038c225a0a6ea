"""What to do when a reply is not one wire can read: the hints its error messages carry.

A learner meets these first: a proxy that is not running, a captive portal's
login page instead of JSON, a redirect, a base URL one segment off. Each
function here looks at what arrived and returns a sentence that names the
cause and the fix, or None when it has nothing to say. The text is made safe
to print: secrets redacted, control characters escaped (``wire.show``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from wire.coding import KNOWN, content_codings
from wire.errors import APIError, NetworkError, Timeout, WireError
from wire.http11 import Response
from wire.secrets import Secret, redact_part
from wire.show import escape

if TYPE_CHECKING:
    from wire.proxy import ProxyInfo

# How many bytes of an unreadable body a hint quotes.
FIRST_BYTES = 80
# Media types of web pages: what a captive portal or a web server's error page sends.
HTML_TYPES = ("text/html", "application/xhtml+xml")
CHAT_PATH = "/chat/completions"


def first_bytes(body: bytes, secrets: list[Secret], limit: int = FIRST_BYTES) -> str:
    """The start of ``body`` as one safe line: secrets redacted (even one cut at ``limit``), bytes escaped."""
    shown = escape(redact_part(body, 0, limit, secrets))
    return f"'{shown}'" + ("…" if len(body) > limit else "")


def unreadable_body(response: Response, secrets: list[Secret]) -> str | None:
    """Why the body is not JSON that wire can read, when the head already says it: an encoding, an HTML page."""
    encoding = (response.header("Content-Encoding") or "").strip()
    if encoding and encoding.lower() != "identity":
        # RFC 9110 §12.5.3: without Accept-Encoding a server may choose any coding; wire decodes only when it asked.
        zlib_only = all(coding in KNOWN for coding in content_codings(encoding))
        fix = (
            " (--compressed, or Client(compressed=True), asks for gzip and deflate and decodes them)"
            if zlib_only
            else ""
        )
        return (
            f"the server sent the body with Content-Encoding: {escape(encoding.encode())}, which wire did not ask "
            f"for (its request has no Accept-Encoding) and does not decode{fix}; wire shows the bytes as they came"
        )
    content_type = response.header("Content-Type") or ""
    if content_type.split(";")[0].strip().lower() in HTML_TYPES:
        return (
            f"the reply is a web page (Content-Type: {escape(content_type.encode())}), not JSON: a captive portal "
            "(a network's login page) or a base URL that points at a web site, not the API; "
            f"it begins {first_bytes(response.body, secrets)}"
        )
    return None


def reply_hint(response: Response, base_url: str, secrets: list[Secret]) -> str | None:
    """What to do about a reply wire cannot use: a redirect, a 404 from a base URL one off, a body."""
    if 300 <= response.status < 400:
        location = response.header("Location")
        if location is None:
            return "the server redirects (3xx) but names no Location; wire does not follow redirects"
        suggested = location.split("?")[0].rstrip("/").removesuffix(CHAT_PATH)
        return (
            f"the server redirects to Location: {escape(location.encode())}; wire does not follow redirects "
            f"(on a 301 or 302 a client may even turn the POST into a GET, RFC 9110 §15.4.2, §15.4.3): "
            f"if you trust it, use {escape(suggested.encode())} as the base URL"
        )
    if response.status == 404:
        path = urlsplit(base_url).path.rstrip("/")
        root = base_url.rstrip("/")
        if path.endswith(CHAT_PATH):
            return (
                f"the base URL already ends in {CHAT_PATH}, and wire adds that itself: "
                f"use {root.removesuffix(CHAT_PATH)} as the base URL"
            )
        if "/v1" not in path.split("/chat")[0] and not path.endswith("/v1"):
            return f"the base URL has no /v1, where OpenAI-compatible servers keep {CHAT_PATH}: try {root}/v1"
    return unreadable_body(response, secrets)


def api_error(response: Response, base_url: str, secrets: list[Secret], exchange: object = None) -> APIError:
    """The ``APIError`` for a non-2xx reply: the error body's fields and, when there is one, a hint.

    When the body cannot be read (an HTML page, an encoded body), the message
    is the status line's reason and the hint quotes the body's first bytes.
    """
    hint = reply_hint(response, base_url, secrets)
    request_id = response.header("x-request-id")
    if hint is not None and unreadable_body(response, secrets) is not None:
        return APIError(
            response.reason or "no readable message",
            status=response.status,
            request_id=request_id,
            body=response.body,
            exchange=exchange,
            hint=hint,
        )
    return APIError.from_body(
        response.body,
        status=response.status,
        reason=response.reason,
        request_id=request_id,
        exchange=exchange,
        hint=hint,
    )


def through_proxy(exc: WireError, proxy: ProxyInfo) -> WireError:
    """A failure to reach the proxy itself (DNS, TCP) as an error that names the proxy and its variable."""
    if not isinstance(exc, NetworkError) or exc.phase not in ("dns", "connect"):
        return exc
    variable = proxy.source or "the proxy setting"
    message = f"the proxy {proxy.url} (from {variable}): {exc.message}"
    hint = (
        f"check {variable}: is an HTTP proxy running at {proxy.address}? "
        "Unset it (or list the host in NO_PROXY) to connect directly"
    )
    if isinstance(exc, Timeout):
        return Timeout(message, phase=exc.phase, received=exc.received, limit=exc.limit, hint=hint)
    return NetworkError(message, phase=exc.phase, received=exc.received, hint=hint)
