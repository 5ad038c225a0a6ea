"""What the official SDK asks for and decodes: Accept-Encoding, checked against the fake server (issue 15 §4).

The openai package sends its requests through its HTTP library's client
(httpx's API; ``openai._base_client`` imports it), whose default headers
include ``Accept-Encoding``: the decoders it has, ``gzip, deflate`` always,
``br`` when brotli is installed, ``zstd`` when a zstd decoder is (zstandard;
for httpx2 also Python 3.14's compression.zstd) (``_client.py``:
``ACCEPT_ENCODING``, from ``_decoders.SUPPORTED_DECODERS``).
With neither installed, the SDK asks for exactly what ``wire --compressed``
asks for, and both decode the fake server's gzip to the same answer.
"""

from __future__ import annotations

from typing import Any

import pytest

openai = pytest.importorskip("openai")

from wire.client import Client  # noqa: E402
from wire.coding import ACCEPT_ENCODING  # noqa: E402
from wire.fake import FakeServer  # noqa: E402

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"
MODEL = "gpt-4o-mini"
MESSAGES: list[dict[str, Any]] = [{"role": "user", "content": "Tell me a fun fact about HTTP."}]


def sdk_accept_encoding() -> str:
    """The Accept-Encoding of the HTTP library the installed SDK uses, from that library's own constant."""
    import importlib

    base = importlib.import_module("openai._base_client")
    library = next(m for m in ("httpx2", "httpx") if m in vars(base))  # the one the SDK imported
    value: str = importlib.import_module(f"{library}._client").ACCEPT_ENCODING
    return value


def test_the_sdk_asks_for_gzip_and_deflate_and_decodes_the_fakes_gzip() -> None:
    with FakeServer(coding="auto") as server:
        with openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0, timeout=10) as client:
            completion = client.chat.completions.create(model=MODEL, messages=MESSAGES)  # type: ignore[arg-type]
            chunks = list(client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True))  # type: ignore[call-overload]
        wire_client = Client(base_url=server.base_url, api_key=KEY, timeout=10, max_retries=0, compressed=True)
        exchange = wire_client.chat(MESSAGES, model=MODEL)
        wire_stream = wire_client.stream(MESSAGES, model=MODEL)
        wire_text = wire_stream.read()
        requests = server.requests
    asked = requests[0].header("Accept-Encoding")
    assert asked == sdk_accept_encoding()
    assert asked is not None and asked.split(", ")[:2] == ["gzip", "deflate"]  # br, zstd follow when installed
    assert requests[2].header("Accept-Encoding") == ACCEPT_ENCODING == "gzip, deflate"
    assert exchange.response is not None and exchange.response.header("Content-Encoding") == "gzip"
    assert completion.choices[0].message.content == exchange.text != ""
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == wire_text == exchange.text
