"""The retry policy (wire/retry.py) as pure functions: exact delays, every boundary.

The integration tests (tests/test_client.py, tests/test_failures.py) check
that the client follows it over real sockets; here each rule is pinned with
exact numbers, no server and no clock.
"""

from __future__ import annotations

import email.utils

import pytest

from wire import retry
from wire.errors import (
    APIError,
    ConfigError,
    IncompleteMessage,
    NetworkError,
    ProtocolError,
    ProxyError,
    StreamError,
    Timeout,
    TLSError,
    WireError,
)
from wire.http11 import Response, parse_response
from wire.retry import (
    backoff_delay,
    may_retry_failure,
    parse_retry_after,
    retry_delay,
    should_retry_status,
)

NOW = 1_700_000_000.0  # a fixed "current time" for HTTP-dates


def test_the_limits_are_the_sdk_numbers() -> None:
    assert retry.DEFAULT_MAX_RETRIES == 2
    assert retry.INITIAL_RETRY_DELAY == 0.5
    assert retry.MAX_RETRY_DELAY == 8.0
    assert retry.MAX_RETRY_AFTER == 120.0  # openai-python 3.57.0: MAX_RETRY_AFTER_DELAY = 2 * 60
    assert retry.JITTER == 0.25
    assert retry.RETRY_STATUSES == {408, 409, 429}


# --- which statuses ---


@pytest.mark.parametrize("status", [408, 409, 429, 500, 501, 502, 503, 504, 599])
def test_statuses_that_are_retried(status: int) -> None:
    assert should_retry_status(status) is True
    assert should_retry_status(status, None) is True


@pytest.mark.parametrize("status", [200, 301, 400, 401, 403, 404, 405, 407, 410, 413, 422, 428, 430, 499])
def test_statuses_that_are_final(status: int) -> None:
    assert should_retry_status(status) is False


@pytest.mark.parametrize("header", ["true", "TRUE", " true ", "True"])
def test_x_should_retry_true_overrides_a_final_status(header: str) -> None:
    assert should_retry_status(400, header) is True
    assert should_retry_status(500, header) is True


@pytest.mark.parametrize("header", ["false", "FALSE", " false", "False "])
def test_x_should_retry_false_overrides_a_retried_status(header: str) -> None:
    assert should_retry_status(500, header) is False
    assert should_retry_status(429, header) is False
    assert should_retry_status(400, header) is False


@pytest.mark.parametrize("header", ["", "yes", "1", "maybe"])
def test_other_x_should_retry_values_leave_the_status_to_decide(header: str) -> None:
    assert should_retry_status(503, header) is True
    assert should_retry_status(404, header) is False


# --- which failures without a complete reply ---


@pytest.mark.parametrize(
    "error",
    [
        NetworkError("could not resolve 'api.example'", phase="dns"),
        NetworkError("refused", phase="connect"),
        Timeout("TCP connect did not complete", phase="connect", limit=1.0),
        Timeout("TCP connect did not complete", phase="total", limit=1.0),
        NetworkError("the proxy closed the connection before its tunnel was open", phase="tunnel"),
    ],
)
def test_network_failures_before_the_request_went_out_are_retried(error: WireError) -> None:
    assert may_retry_failure(error, sent=False) is True


@pytest.mark.parametrize(
    "error",
    [
        NetworkError("reset", phase="receive"),
        NetworkError("closed while we were sending", phase="send"),
        Timeout("no bytes arrived", phase="read", limit=1.0),
        Timeout("the total time limit ran out during receive", phase="total", limit=1.0),
        IncompleteMessage("closed before the status line", offset=0),
        IncompleteMessage("closed mid-body", offset=20),
    ],
)
def test_failures_after_the_request_went_out_are_final(error: WireError) -> None:
    """RFC 9110 §9.2.2: the server may have processed the POST (a billed call); openai-python 3.57.0 retries."""
    assert may_retry_failure(error, sent=True) is False


@pytest.mark.parametrize(
    "error",
    [
        TLSError("bad certificate"),
        ProxyError("407 from the proxy", proxy="http://127.0.0.1:3128", status=407),
        ProtocolError("not HTTP", offset=0),
        IncompleteMessage("closed", offset=0),
        StreamError("no [DONE]"),
        ConfigError("no key"),
        WireError("anything else"),
    ],
)
def test_tls_proxy_protocol_and_other_failures_are_final(error: WireError) -> None:
    assert may_retry_failure(error, sent=False) is False


def test_the_not_resent_hint_says_what_happened_and_what_to_do() -> None:
    assert retry.NOT_RESENT == (
        "the request was sent and may have been processed, so wire did not send it again (a call is billed; "
        "max_retries covers only failures before sending and replies that ask for a retry); to retry anyway, "
        "call again"
    )


# --- the delay the server asks for ---


@pytest.mark.parametrize(
    "ms,after,expected",
    [
        ("250", None, 0.25),
        ("1", None, 0.001),
        ("120000", None, 120.0),
        ("600000", None, 600.0),  # above the cap: parsed; retry_delay() then refuses to retry
        ("1500.5", None, 1.5005),
        ("250", "7", 0.25),  # retry-after-ms wins
        ("0", "7", 7.0),  # an unusable ms value falls back to retry-after
        ("-5", "7", 7.0),
        ("60001", "7", 60.001),
        ("inf", "7", 7.0),
        ("soon", "7", 7.0),
        ("soon", None, None),
        ("0", None, None),
        (None, "2", 2.0),
        (None, "0.5", 0.5),
        (None, " 3 ", 3.0),
        (None, "60", 60.0),
        (None, "600", 600.0),
        (None, "1e400", None),  # not finite: ignored
        (None, "0", None),  # retry-after: 0 is ignored, as the SDK does
        (None, "-1", None),
        (None, "soon", None),  # neither a number nor an HTTP-date
        # HTTP-dates that email.utils reads into numbers too large for a datetime: an OverflowError, not a ValueError
        (None, "Mon, 01 Jan 99999999999 00:00:00 GMT", None),
        (None, "01 Jan 2020 00:00:00 -999999999999999999", None),
        (None, "", None),
        (None, "nan", None),
        (None, "inf", None),
        (None, None, None),
    ],
)
def test_parse_retry_after(ms: str | None, after: str | None, expected: float | None) -> None:
    assert parse_retry_after(ms, after, now=NOW) == expected


@pytest.mark.parametrize(
    "seconds_ahead,expected",
    [(3, 3.0), (60, 60.0), (121, 121.0), (0, None), (-10, None)],
)
def test_retry_after_as_an_http_date(seconds_ahead: int, expected: float | None) -> None:
    when = email.utils.formatdate(NOW + seconds_ahead, usegmt=True)  # RFC 9110 §5.6.7 IMF-fixdate
    assert parse_retry_after(None, when, now=NOW) == expected


def test_an_unusable_ms_value_with_an_http_date_uses_the_date() -> None:
    when = email.utils.formatdate(NOW + 5, usegmt=True)
    assert parse_retry_after("0", when, now=NOW) == 5.0


# --- the backoff ---


@pytest.mark.parametrize(
    "retry_number,no_jitter,most_jitter",
    [(1, 0.5, 0.375), (2, 1.0, 0.75), (3, 2.0, 1.5), (4, 4.0, 3.0), (5, 8.0, 6.0), (6, 8.0, 6.0), (20, 8.0, 6.0)],
)
def test_backoff_doubles_up_to_the_cap_less_up_to_a_quarter(
    retry_number: int, no_jitter: float, most_jitter: float
) -> None:
    assert backoff_delay(retry_number, 0.0) == no_jitter
    assert backoff_delay(retry_number, 1.0) == most_jitter
    assert backoff_delay(retry_number, 0.5) == no_jitter * 0.875


# --- the whole decision ---


def reply(status: int, *fields: str) -> Response:
    head = f"HTTP/1.1 {status} X\r\n" + "".join(f"{f}\r\n" for f in fields) + "Content-Length: 0\r\n\r\n"
    return parse_response(head.encode())


def api_error(response: Response) -> APIError:
    return APIError.from_body(response.body, status=response.status, reason=response.reason)


def decide(
    error: WireError,
    response: Response | None = None,
    *,
    number: int = 1,
    max_retries: int = 2,
    sent: bool = True,
    random_fraction: float = 0.0,
) -> float | None:
    return retry_delay(
        error,
        number=number,
        max_retries=max_retries,
        response=response,
        sent=sent,
        random_fraction=random_fraction,
        now=NOW,
    )


def test_a_429_waits_what_the_server_asks_else_backs_off() -> None:
    asked = reply(429, "retry-after: 2")
    assert decide(api_error(asked), asked) == 2.0
    plain = reply(429)
    assert decide(api_error(plain), plain) == 0.5
    assert decide(api_error(plain), plain, number=2, random_fraction=1.0) == 0.75


@pytest.mark.parametrize(
    "fields,expected",
    [
        (("retry-after: 120",), 120.0),
        (("retry-after: 121",), None),  # longer than MAX_RETRY_AFTER: not retried (openai-python 3.57.0)
        (("retry-after-ms: 120001",), None),
        (("retry-after: 600", "x-should-retry: true"), None),  # the SDK checks the wait first too
    ],
)
def test_a_wait_longer_than_the_cap_is_not_retried(fields: tuple[str, ...], expected: float | None) -> None:
    response = reply(429, *fields)
    assert decide(api_error(response), response) == expected


def test_a_final_status_is_not_retried_even_when_the_server_names_a_delay() -> None:
    response = reply(400, "retry-after: 2")
    assert decide(api_error(response), response) is None


def test_x_should_retry_reaches_the_decision() -> None:
    yes = reply(400, "x-should-retry: true")
    assert decide(api_error(yes), yes) == 0.5
    no = reply(503, "x-should-retry: false", "retry-after: 1")
    assert decide(api_error(no), no) is None


def test_retry_after_ms_reaches_the_decision() -> None:
    response = reply(503, "retry-after-ms: 1250", "retry-after: 9")
    assert decide(api_error(response), response) == 1.25


@pytest.mark.parametrize("max_retries,last_retried", [(0, 0), (1, 1), (2, 2), (5, 5)])
def test_attempt_numbers_stop_at_max_retries(max_retries: int, last_retried: int) -> None:
    error = NetworkError("refused", phase="connect")
    for number in range(1, last_retried + 1):
        assert decide(error, number=number, max_retries=max_retries, sent=False) == backoff_delay(number, 0.0)
    assert decide(error, number=last_retried + 1, max_retries=max_retries, sent=False) is None
    response = reply(500)
    assert decide(api_error(response), response, number=max_retries + 1, max_retries=max_retries) is None


def test_network_failures_follow_whether_the_request_went_out() -> None:
    refused = NetworkError("refused", phase="connect")
    assert decide(refused, number=2, random_fraction=1.0, sent=False) == 0.75
    assert decide(NetworkError("reset", phase="receive"), sent=True) is None
    assert decide(Timeout("no bytes arrived", phase="read", limit=1.0), sent=True) is None
    assert decide(TLSError("bad certificate"), sent=False) is None


def test_a_status_is_retried_though_the_request_went_out() -> None:
    """The server answered: it says whether to send again (the request was sent, as every reply's was)."""
    response = reply(503)
    assert decide(api_error(response), response, sent=True) == 0.5


def test_an_api_error_without_its_response_is_final() -> None:
    assert decide(APIError("no reply kept", status=500)) is None


def test_the_policy_reads_no_client_socket_or_clock() -> None:
    """wire/retry.py is pure: it imports only the errors and the parsed response, and no time or random."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(retry.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported = {m for m in imported if m and not m.startswith("mutmut")}  # (mutmut's copy adds its trampoline)
    assert imported == {"__future__", "email.utils", "wire.errors", "wire.http11"}
