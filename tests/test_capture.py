"""The byte capture is bounded: a long reply flows through, the records stop at the limit."""

from __future__ import annotations

import json

import pytest
from rawserver import RawServer

import wire.transport
from wire.client import Client
from wire.show import exchange_view

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"


def test_long_reply_is_read_whole_but_captured_only_up_to_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire.transport, "MAX_CAPTURE_BYTES", 64 * 1024)
    body = json.dumps({"id": "c", "object": "chat.completion", "created": 1, "model": "m", "pad": "x" * 300_000,
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"},
                                    "finish_reason": "stop"}]}).encode()
    reply = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
    with RawServer(reply) as server:
        exchange = Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=0).chat("Hi")
    assert exchange.response is not None and exchange.response.body == body
    assert exchange.completion is not None and exchange.completion.text == "hi"
    assert sum(len(r.data) for r in exchange.records) == 64 * 1024
    assert exchange.capture_truncated
    assert exchange.response_bytes == (exchange.request_bytes + reply)[len(exchange.request_bytes) : 64 * 1024]
    assert "the byte capture stopped" in exchange_view(exchange, layers=["answer"])


def test_a_normal_call_is_captured_whole() -> None:
    reply = b'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}'
    with RawServer(reply) as server:
        with pytest.raises(wire.ProtocolError) as info:  # {} is no chat completion, but every byte is kept
            Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=0).chat("Hi")
    exchange = info.value.exchange
    assert exchange.response_bytes == reply and not exchange.capture_truncated
    assert b"".join(r.data for r in exchange.records) == exchange.request_bytes + reply
