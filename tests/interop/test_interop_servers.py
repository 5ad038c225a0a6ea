"""wire against HTTP servers nobody here wrote: uvicorn (h11, httptools), hypercorn and aiohttp.

Each serves the same small chat-completions app (``interop_apps.py``), over
plain TCP and over TLS with a throwaway trustme CA; wire must read both
framings and the event stream of every one of them exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from interop_apps import ANSWER, BODY, COMPLETION, HALVES, MODEL, USAGE, RunningServer, sse_events

from wire.client import Client
from wire.http11 import Framing

KEY = "sk-interop-0123456789abcdefghijklmnopqrstuvwxyz"
SERVERS = ["uvicorn-h11", "uvicorn-httptools", "hypercorn", "aiohttp"]


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, str]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    d: Path = tmp_path_factory.mktemp("interop-tls")
    chain, key, ca_file = d / "chain.pem", d / "key.pem", d / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(chain))
    cert.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_file))
    return str(chain), str(key), str(ca_file)


@pytest.fixture(scope="module", params=[(k, t) for k in SERVERS for t in ("plain", "tls")], ids=lambda p: "-".join(p))
def server(
    request: pytest.FixtureRequest, tls_files: tuple[str, str, str]
) -> Iterator[tuple[RunningServer, str | None]]:
    kind, transport = request.param
    chain, key, ca_file = tls_files
    running = RunningServer(kind, chain, key) if transport == "tls" else RunningServer(kind)
    running.start()
    try:
        yield running, ca_file if transport == "tls" else None
    finally:
        running.stop()


def client(server: tuple[RunningServer, str | None], framing: str) -> Client:
    running, ca_file = server
    return Client(
        base_url=running.base_url(framing), api_key=KEY, model=MODEL, ca_file=ca_file, timeout=5, max_retries=0
    )


def test_length_framed_json(server: tuple[RunningServer, str | None]) -> None:
    exchange = client(server, "length").chat("hi", temperature=0)
    response = exchange.response
    assert response is not None and response.status == 200
    assert response.framing is Framing.CONTENT_LENGTH and response.content_length == len(BODY)
    assert response.body == BODY and exchange.json == COMPLETION
    assert exchange.completion is not None and exchange.completion.text == ANSWER
    assert (exchange.tls is not None) == (server[1] is not None)
    assert server[0].seen.requests[-1] == ("POST", "/length/v1/chat/completions", exchange.payload)
    assert exchange.payload == {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "temperature": 0}


def test_chunked_json(server: tuple[RunningServer, str | None]) -> None:
    exchange = client(server, "chunked").chat("hi")
    response = exchange.response
    assert response is not None and response.status == 200
    assert response.framing is Framing.CHUNKED and response.header("content-length") is None
    assert [f.size for f in response.frames] == [len(HALVES[0]), len(HALVES[1]), 0]
    assert response.body == BODY and exchange.json == COMPLETION


@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_streamed_events(server: tuple[RunningServer, str | None], framing: str) -> None:
    stream = client(server, framing).stream("hi", stream_options={"include_usage": True})
    deltas = list(stream)
    exchange = stream.exchange
    expected = sse_events({"stream_options": {"include_usage": True}})
    assert "".join(deltas) == ANSWER
    assert deltas == ["Hello", ", ", "interop", " world", "!"]
    response = exchange.response
    assert response is not None and response.framing is Framing.CHUNKED
    assert (response.header("content-type") or "").startswith("text/event-stream")
    assert response.body == b"".join(expected)
    assert [e.data for e in exchange.sse_events] == [e[len(b"data: ") : -2].decode() for e in expected]
    assert exchange.completion is not None and exchange.completion.text == ANSWER
    assert exchange.completion.usage is not None and exchange.completion.usage.total_tokens == USAGE["total_tokens"]
    assert json.loads(exchange.sse_events[0].data)["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert server[0].seen.requests[-1][2]["stream"] is True
