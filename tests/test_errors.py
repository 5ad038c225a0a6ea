"""wire's exceptions: the exact text each builds from its evidence, and the evidence kept whole."""

from __future__ import annotations

import pytest

from wire.errors import (
    APIError,
    IncompleteMessage,
    InvalidHeader,
    InvalidRequest,
    NetworkError,
    ProtocolError,
    ProxyError,
    StreamError,
    Timeout,
    TLSError,
    WireError,
)

ALPHABET = bytes(range(ord("A"), ord("Z") + 1))  # 26 bytes, each one different


def test_protocol_error_text_parts() -> None:
    assert str(ProtocolError("bad")) == "bad"
    assert str(ProtocolError("bad", offset=0)) == "bad at byte 0"
    assert str(ProtocolError("bad", rule="RFC 9112 §4")) == "bad (RFC 9112 §4)"
    # Without an offset there is no "near": the bytes are kept, not quoted.
    error = ProtocolError("bad", rule="R", received=b"xyz")
    assert str(error) == "bad (R)" and error.received == b"xyz"


def test_protocol_error_quotes_20_bytes_either_side_of_the_fault() -> None:
    received = ALPHABET * 4  # 104 bytes
    error = ProtocolError("bad", offset=50, rule="R", received=received)
    assert str(error) == "bad at byte 50 (R); bytes near it: " + repr(received[30:70])
    assert error.received == received  # the attribute keeps every byte


def test_protocol_error_near_the_start_and_with_a_received_offset() -> None:
    assert str(ProtocolError("bad", offset=3, received=b"0123456789")) == "bad at byte 3; bytes near it: b'0123456789'"
    # `received` began at stream offset 100: the fault at byte 105 is received[5].
    error = ProtocolError("bad", offset=105, received=ALPHABET, received_offset=100)
    assert str(error) == "bad at byte 105; bytes near it: " + repr(ALPHABET[:25])
    # A fault past the end of what was received quotes nothing.
    assert str(ProtocolError("bad", offset=200, received=b"abc")) == "bad at byte 200"


def test_hierarchy_and_evidence() -> None:
    incomplete = IncompleteMessage("ended", offset=4, received=b"HTTP")
    assert isinstance(incomplete, ProtocolError) and incomplete.partial == b"HTTP"
    stream = StreamError("no [DONE]", sse_events=["e"], completion_chunks=[{"a": 1}])
    assert isinstance(stream, ProtocolError) and stream.sse_events == ["e"] and stream.completion_chunks == [{"a": 1}]
    assert isinstance(InvalidHeader("x", name="Host"), InvalidRequest) and isinstance(InvalidRequest("x"), ValueError)
    for error in (TLSError("x"), Timeout("x", phase="read", limit=2.0), ProxyError("x", proxy="http://p:3128")):
        assert isinstance(error, NetworkError) and isinstance(error, WireError)


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (NetworkError("refused", phase="connect"), "connect: refused"),
        (NetworkError("refused", phase="connect", hint="is it running?"), "connect: refused — is it running?"),
        (TLSError("bad cert", hint="use ca_file"), "tls: bad cert — use ca_file"),
        (Timeout("too slow", phase="read", limit=1.5), "read: too slow"),
        (ProxyError("407", proxy="http://u:***@p:3128", status=407), "tunnel: 407"),
        (APIError("quota", status=429), "Error 429: quota"),
        (APIError("broken stream"), "Error: broken stream"),
    ],
)
def test_network_and_api_error_texts(error: WireError, text: str) -> None:
    assert str(error) == text


def test_add_hint_extends_the_hint_and_the_text() -> None:
    """The client adds why it did not send a request again (wire.retry.NOT_RESENT) to the error that ended the call."""
    timeout = Timeout("no bytes arrived for 1s", phase="read", limit=1.0)
    timeout.add_hint("call again")
    assert str(timeout) == "read: no bytes arrived for 1s — call again" and timeout.hint == "call again"
    reset = NetworkError("reset", phase="receive", hint="see the bytes")
    reset.add_hint("call again")
    assert str(reset) == "receive: reset — see the bytes; call again" and reset.hint == "see the bytes; call again"
    closed = IncompleteMessage("closed before the status line", offset=0, rule="R", received=b"")
    closed.add_hint("call again")
    assert str(closed) == "closed before the status line at byte 0 (R) — call again" and closed.hint == "call again"
    assert ProtocolError("bad").hint is None
    key = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"
    closed.add_hint(f"not {key}")
    closed.redact([key])
    assert key not in str(closed) and key not in (closed.hint or "")
