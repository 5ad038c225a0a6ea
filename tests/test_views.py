"""The response-head view shows each head exactly as the parser cut it (issue 10, section 4).

Two bugs guarded here: an interim ``100 Continue`` hid the final head, and a
head ending in bare LFs was shown with body bytes inside it.
"""

from __future__ import annotations

import json

from rawserver import RawServer

import wire
from wire.client import Client
from wire.har import to_har
from wire.show import exchange_view, response_head_view

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
EARLY_HINTS = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
FINAL_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n"


def test_interim_and_final_heads_are_each_kept_and_shown() -> None:
    data = CONTINUE + EARLY_HINTS + FINAL_HEAD + b"ok"
    resp = wire.parse_response(data)
    first, second = resp.informational
    # Each interim reply is all head; the final response keeps every byte, so offsets index it.
    assert (first.raw, first.head, first.head_offset, first.head_end) == (CONTINUE, CONTINUE, 0, len(CONTINUE))
    assert (second.raw, second.head, second.head_offset) == (EARLY_HINTS, EARLY_HINTS, len(CONTINUE))
    assert resp.raw == data
    assert resp.head == FINAL_HEAD
    assert resp.head_offset == len(CONTINUE + EARLY_HINTS) and resp.head_end == len(data) - 2
    assert resp.raw[resp.head_end :] == resp.body == b"ok"
    assert response_head_view(resp).splitlines() == [
        "< HTTP/1.1 100 Continue\\r\\n",
        "< \\r\\n",
        "  (an interim 100 reply; the final one follows)",
        "< HTTP/1.1 103 Early Hints\\r\\n",
        "< Link: </style.css>; rel=preload\\r\\n",
        "< \\r\\n",
        "  (an interim 103 reply; the final one follows)",
        "< HTTP/1.1 200 OK\\r\\n",
        "< Content-Type: text/plain\\r\\n",
        "< Content-Length: 2\\r\\n",
        "< \\r\\n",
        "  (body framing: Content-Length; connection kept open for another request)",
    ]


def test_interim_heads_are_kept_when_the_body_is_not() -> None:
    parser = wire.ResponseParser(keep_body=False)
    parser.feed(CONTINUE + FINAL_HEAD + b"ok")
    resp = parser.response
    assert resp is not None and resp.body == b""
    assert resp.informational[0].raw == CONTINUE and resp.head == FINAL_HEAD
    assert resp.raw == CONTINUE + FINAL_HEAD


def test_head_ending_in_bare_lfs_is_shown_without_body_bytes() -> None:
    # A bare LF ends each line (RFC 9112 §2.2); the empty line is CRLF after an LF-ended field,
    # and the body holds a blank line: a view that searched for the end itself cut here.
    head = b"HTTP/1.1 200 OK\nContent-Length: 9\n\r\n"
    body = b"one\n\ntwo\n"
    resp = wire.parse_response(head + body)
    assert resp.head == head and resp.head_end == len(head) and resp.body == body
    assert response_head_view(resp).splitlines() == [
        "< HTTP/1.1 200 OK\\n",
        "< Content-Length: 9\\n",
        "< \\r\\n",
        "  (body framing: Content-Length; connection kept open for another request)",
    ]


def test_the_exchange_view_shows_the_final_head_after_a_100_continue() -> None:
    body = json.dumps(
        {
            "id": "c",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        }
    ).encode()
    final = b"HTTP/1.1 200 OK\r\nX-Final: yes\r\nContent-Length: %d\r\n\r\n" % len(body)
    with RawServer(CONTINUE + final + body) as server:
        exchange = Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=0).chat("Hi")
    assert exchange.completion is not None and exchange.completion.text == "hi"
    text = exchange_view(exchange, layers=["response"])
    assert "< HTTP/1.1 100 Continue\\r\\n" in text
    assert "< HTTP/1.1 200 OK\\r\\n\n< X-Final: yes\\r\\n" in text
    assert text.index("100 Continue") < text.index("an interim 100 reply") < text.index("200 OK")
    assert text.count("100 Continue") == 1


def test_har_headers_size_is_the_parsers_head_end() -> None:
    # HAR's headersSize counts every head (interim ones too) up to the final empty line; a
    # bare-LF head followed by a body with a blank line in it was counted into the body.
    body = b'{\n\n"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": [{"index": 0,'
    body += b' "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]}'
    heads = CONTINUE + b"HTTP/1.1 200 OK\nContent-Length: %d\n\r\n" % len(body)
    with RawServer(heads + body) as server:
        exchange = Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=0).chat("Hi")
    response = to_har(exchange)["log"]["entries"][0]["response"]
    assert (response["headersSize"], response["bodySize"]) == (len(heads), len(body))


def test_the_json_view_cuts_lines_at_lf_only() -> None:
    """U+2028 (a line separator to str.splitlines) inside a JSON string stays on its line."""
    from wire.show import _indent

    assert _indent('{\n  "a": "x\u2028y"\n}\n') == '  {\n    "a": "x\u2028y"\n  }'


def test_a_reason_or_an_event_that_echoes_a_key_is_redacted_in_its_repr() -> None:
    from wire.http11 import parse_response
    from wire.sse import ServerSentEvent

    key = "sk-proj-abcdefghijklmnop1234"
    event = ServerSentEvent(data=f"your key {key}")
    assert repr(event) == (
        "ServerSentEvent(event='message', data='your key sk-…1234', id=None, retry=None, offset=0, raw=<0 bytes>)"
    )
    response = parse_response(f"HTTP/1.1 401 {key}\r\nContent-Length: 0\r\n\r\n".encode())
    assert repr(response) == "<Response HTTP/1.1 401 'sk-…1234', 1 fields, 0 body bytes, framing=Content-Length>"
