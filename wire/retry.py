"""The retry policy: which failures are tried again, and how long to wait first.

Pure functions: no sockets, no clock, no random numbers of their own (the
caller passes the time and a random fraction), so every rule can be tested
with exact numbers. ``wire.client`` asks ``retry_delay()`` after each failed
attempt and sleeps for what it returns.

The rules are those of the official openai-python SDK, version 3.57.0 (the
one installed with wire's test extra): ``_base_client.py`` (``_should_retry``,
``_calculate_retry_timeout``, ``_parse_retry_after_header``, and the retry
loop in ``request``) and ``_constants.py``. What is retried:

- a reply whose ``x-should-retry`` field says ``true`` (``false``: never);
  otherwise the statuses 408 (request timeout), 409 (lock timeout), 429
  (rate limit) and every 5xx;
- a network failure before the request went out: DNS failed, the TCP
  connect was refused, failed or timed out, a proxy dropped the connection
  before its tunnel was open. No byte of the request had been handed to
  the socket, so the server cannot have seen it.

The wait is the server's ``retry-after-ms`` or ``retry-after`` (seconds, or
an HTTP-date: RFC 9110 §10.2.3) when it is above 0; otherwise an
exponential backoff from ``INITIAL_RETRY_DELAY``, at most
``MAX_RETRY_DELAY``, less up to 25 % jitter. A server that asks for more
than ``MAX_RETRY_AFTER`` (120 s) is not retried at all: the reply is the
error. (This is 3.57.0's rule; the SDK's 1.x releases honoured 60 s at most
and used their backoff above it, which retries sooner than the server
asked.)

Where wire differs from the SDK (3.57.0), on purpose:

- A network failure after the request went out is never retried: a read
  timeout, or a reset or close before any byte of the reply (also on a
  kept-alive connection found closed after the write). The SDK retries
  these as connection errors and timeouts. The server may well have
  received and processed the POST, and POST is not idempotent: RFC 9110
  §9.2.2 says a client "SHOULD NOT automatically retry a request with a
  non-idempotent method unless it has some means to know that the request
  semantics are actually idempotent, regardless of the method, or some
  means to detect that the original request was never applied". wire has
  no such means (it sends no idempotency key, and neither does the SDK),
  and a Chat Completions call is billed. The error says so
  (``NOT_RESENT``); a caller who accepts the risk calls again.
- A reply that broke off after some bytes arrived (a reset or a timeout
  mid-body) is not retried; the SDK retries any transport error while it
  reads a non-streamed reply (a streamed body is read after its retry loop).
  Chat Completions calls are billed and the server has shown it did the
  work, so sending again would repeat it.
- A request the server cut short (it closed or reset the connection while
  the body was still going out, usually after an early 413) is not retried,
  even when its reply could not be read: the server saw the request and
  refused it. ``wire.client`` stops before asking ``retry_delay()``; the SDK
  retries such a write error as a connection error.
- TLS and proxy errors are not retried: a certificate or a proxy refusal does
  not heal in a second (the SDK retries them as connection errors).
- ``retry-after-ms`` is used only when it is a delay above 0; otherwise
  ``retry-after`` is read (the SDK stops at the first header that is a
  number, even ``0``).
- ``x-should-retry`` is compared without case or surrounding spaces.
- A delay that is not finite (``inf``, or a number too large for a float)
  is ignored and the backoff used; the SDK refuses to retry on an overflow.
"""

from __future__ import annotations

import email.utils

from wire.errors import APIError, NetworkError, ProxyError, TLSError, WireError
from wire.http11 import Response

# How many times a failed call is sent again by default (the SDK's DEFAULT_MAX_RETRIES).
DEFAULT_MAX_RETRIES = 2
# Seconds before the first retry when the server names no delay; each retry doubles it.
INITIAL_RETRY_DELAY = 0.5
# The backoff never waits longer than this, however many retries came before.
MAX_RETRY_DELAY = 8.0
# A server that asks for a longer wait than this many seconds is not retried (its reply is the error),
# as in openai-python 3.57.0 (MAX_RETRY_AFTER_DELAY = 2 * 60).
MAX_RETRY_AFTER = 120.0
# The jitter takes up to this fraction off a backoff, so that many clients do not retry in step.
JITTER = 0.25
# Statuses worth trying again: request timeout, lock timeout, rate limit (plus every 5xx, the server's trouble).
RETRY_STATUSES = frozenset({408, 409, 429})
# The hint on an error that ended a call after its request went out, before any reply byte.
NOT_RESENT = (
    "the request was sent and may have been processed, so wire did not send it again (a call is billed; "
    "max_retries covers only failures before sending and replies that ask for a retry); to retry anyway, call again"
)


def should_retry_status(status: int, x_should_retry: str | None = None) -> bool:
    """Whether a reply with this status is worth sending again.

    ``x_should_retry`` is the value of the server's ``x-should-retry`` field
    (not a standard field; the OpenAI API sends it): ``true`` or ``false``
    overrides the status.
    """
    verdict = (x_should_retry or "").strip().lower()
    if verdict == "true":
        return True
    if verdict == "false":
        return False
    return status in RETRY_STATUSES or status >= 500


def may_retry_failure(error: WireError, *, sent: bool) -> bool:
    """Whether a failure without a complete reply may be tried again.

    Only when the request provably never left: ``sent`` is False (no byte
    of it was handed to the socket; ``wire.client`` sets
    ``Attempt.request_sent`` just before the write). Once written, the
    request may have been processed though no reply came (RFC 9110 §9.2.2).
    TLS and proxy failures are final.
    """
    if sent:
        return False
    if isinstance(error, (TLSError, ProxyError)):
        return False
    return isinstance(error, NetworkError)


def parse_retry_after(retry_after_ms: str | None, retry_after: str | None, *, now: float) -> float | None:
    """The delay the server asks for, in seconds, when it is one (a finite number above 0).

    ``retry_after_ms`` (milliseconds, an OpenAI field) wins over
    ``retry_after``, which is delay-seconds or an HTTP-date (RFC 9110
    §10.2.3: ``Retry-After = HTTP-date / delay-seconds``); ``now`` is the
    current Unix time, for the date. None when neither gives a usable delay.
    """
    if retry_after_ms is not None:
        ms = _number(retry_after_ms)
        if ms is not None and _usable(ms / 1000):
            return ms / 1000
    if retry_after is None:
        return None
    delay = _number(retry_after)
    if delay is None:
        try:
            when = email.utils.parsedate_to_datetime(retry_after)
        except (TypeError, ValueError, OverflowError):  # a year or an offset too large for a datetime: overflow
            return None  # neither seconds nor an HTTP-date: ignore it
        delay = when.timestamp() - now
    return delay if _usable(delay) else None


def backoff_delay(retry: int, random_fraction: float) -> float:
    """Seconds to wait before retry number ``retry`` (1 for the first) when the server named no delay.

    ``INITIAL_RETRY_DELAY * 2 ** (retry - 1)``, at most ``MAX_RETRY_DELAY``,
    less ``JITTER * random_fraction`` of it (``random_fraction`` in [0, 1)).
    """
    backoff = min(INITIAL_RETRY_DELAY * 2.0 ** (retry - 1), MAX_RETRY_DELAY)
    return backoff * (1 - JITTER * random_fraction)


def retry_delay(
    error: WireError,
    *,
    number: int,
    max_retries: int,
    response: Response | None,
    sent: bool,
    random_fraction: float,
    now: float,
) -> float | None:
    """Seconds to wait before sending again after attempt ``number`` failed, or None when the failure is final.

    ``response`` is the attempt's complete reply (for an ``APIError``);
    ``sent`` says whether any byte of the request was handed to the socket.
    """
    if number > max_retries:
        return None
    if isinstance(error, APIError) and response is not None:
        if not should_retry_status(response.status, response.header("x-should-retry")):
            return None
        asked = parse_retry_after(response.header("retry-after-ms"), response.header("retry-after"), now=now)
        if asked is not None:
            # Asked to wait longer than wire waits: the server will not be ready soon; do not retry.
            return asked if asked <= MAX_RETRY_AFTER else None
    elif not may_retry_failure(error, sent=sent):
        return None
    return backoff_delay(number, random_fraction)


def _number(value: str) -> float | None:
    """A header value as a number (``float()`` also takes ``1.5`` and spaces, as the SDK does), or None."""
    try:
        return float(value)
    except ValueError:
        return None


def _usable(delay: float) -> bool:
    return 0 < delay < float("inf")  # NaN fails both comparisons
