"""The client against the fake server over real loopback sockets, plain and TLS."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import trustme

import wire
from wire.client import Client
from wire.fake import DEMO_CA_FILE, FakeServer, Scenario
from wire.http11 import Framing

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"
PROMPT = "Tell me a fun fact about HTTP."


def client_for(server: FakeServer, **kw: object) -> Client:
    return Client(base_url=server.base_url, api_key=KEY, ca_file=server.ca_file, timeout=5, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_files(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    d = tmp_path_factory.mktemp("tls")
    cert = ca.issue_cert("localhost", "127.0.0.1")
    chain, key, ca_file = d / "chain.pem", d / "key.pem", d / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(chain))
    cert.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_file))
    yield str(chain), str(key), str(ca_file)


def test_plain_chunked_call_keeps_every_layer() -> None:
    with FakeServer() as server:
        exchange = client_for(server).chat(PROMPT)
        sent = server.requests[0]
    assert exchange.request_bytes.startswith(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:")
    assert sent.body == exchange.request.body
    assert json.loads(sent.body) == {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": PROMPT}]}
    assert sent.header("authorization") == f"Bearer {KEY}"
    response = exchange.response
    assert response is not None and response.status == 200
    assert response.framing is Framing.CHUNKED and len(response.frames) == 3  # two halves + the last chunk
    assert exchange.response_bytes == response.raw
    assert exchange.json["object"] == "chat.completion"
    assert exchange.completion is not None
    assert exchange.completion.text == exchange.json["choices"][0]["message"]["content"] != ""
    assert exchange.completion.usage is not None and exchange.completion.usage.total_tokens > 0
    assert exchange.tls is None
    assert len(exchange.attempts) == 1 and exchange.attempts[0].error is None
    t = exchange.timings
    assert t.dns is not None and t.connect is not None and t.request_sent is not None
    assert t.first_byte is not None and t.done is not None
    assert t.dns <= t.connect <= t.request_sent <= t.first_byte <= t.done


@pytest.mark.parametrize("framing", ["chunked", "length"])
@pytest.mark.parametrize("write_size", [None, 1])
def test_framings_and_one_byte_writes_give_the_same_answer(framing: str, write_size: int | None) -> None:
    with FakeServer() as reference:
        expected = client_for(reference).chat(PROMPT).json
    with FakeServer(framing=framing, write_size=write_size, chunk_size=7) as server:
        exchange = client_for(server).chat(PROMPT)
    assert exchange.json == expected
    assert exchange.response is not None
    assert exchange.response.framing is (Framing.CHUNKED if framing == "chunked" else Framing.CONTENT_LENGTH)
    # (How many recv() calls the reply took is up to the scheduler: a busy machine may hand the
    # one-byte writes over in one piece, so the count is not asserted. Every split of the same
    # bytes is covered by the parser's property tests.)


def test_tls_with_the_demo_ca() -> None:
    with FakeServer(tls=True) as server:
        assert server.base_url.startswith("https://localhost:")
        exchange = Client(base_url=server.base_url, api_key=KEY, ca_file=DEMO_CA_FILE, timeout=5).chat(PROMPT)
    tls = exchange.tls
    assert tls is not None
    assert tls.version in ("TLSv1.2", "TLSv1.3") and tls.alpn == "http/1.1" and tls.server_hostname == "localhost"
    assert "DNS:localhost" in tls.peer_sans and tls.verified is True
    assert exchange.completion is not None and exchange.completion.text


def test_tls_with_a_trustme_ca(tls_files: tuple[str, str, str]) -> None:
    chain, key, ca_file = tls_files
    with FakeServer(certfile=chain, keyfile=key, ca_file=ca_file) as server:
        exchange = Client(base_url=server.base_url, api_key=KEY, ca_file=ca_file, timeout=5).chat(PROMPT)
    assert exchange.tls is not None and exchange.response is not None and exchange.response.status == 200


def test_untrusted_certificate_is_a_tls_error(tls_files: tuple[str, str, str]) -> None:
    chain, key, ca_file = tls_files
    with FakeServer(certfile=chain, keyfile=key, ca_file=ca_file) as server:
        with pytest.raises(wire.TLSError) as info:
            Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=0).chat(PROMPT)
    assert "ca_file" in str(info.value)
    assert info.value.exchange is not None


def test_api_error_carries_body_fields_and_exchange() -> None:
    with FakeServer(status=401) as server:
        with pytest.raises(wire.APIError) as info:
            client_for(server, max_retries=0).chat(PROMPT)
    err = info.value
    assert err.status == 401 and err.code == "invalid_api_key" and err.type == "invalid_request_error"
    assert str(err).startswith("Error 401: Incorrect API key provided")
    assert err.request_id and err.request_id.startswith("req_")
    assert err.exchange is not None and err.exchange.response.status == 401
    assert KEY not in str(err)


def test_retry_after_429_then_success_keeps_every_attempt() -> None:
    waits: list[float] = []
    with FakeServer([Scenario(status=429, retry_after="0.25"), Scenario(status=503, retry_after=""), Scenario()]) as s:
        exchange = client_for(s, sleep=waits.append, rng=lambda: 0.0).chat(PROMPT)
    assert [a.response.status for a in exchange.attempts if a.response] == [429, 503, 200]
    assert waits == [0.25, 1.0]  # the server's retry-after, then backoff 0.5 * 2**1 with no jitter
    assert [a.retry_delay for a in exchange.attempts] == [0.25, 1.0, None]
    assert isinstance(exchange.attempts[0].error, wire.APIError)
    assert exchange.attempts[0].response_bytes.startswith(b"HTTP/1.1 429 ")


def test_no_retry_when_max_retries_is_zero() -> None:
    waits: list[float] = []
    with FakeServer([Scenario(status=500), Scenario()]) as server:
        with pytest.raises(wire.APIError) as info:
            client_for(server, max_retries=0, sleep=waits.append).chat(PROMPT)
        assert len(server.requests) == 1
    assert waits == [] and len(info.value.exchange.attempts) == 1 and info.value.status == 500


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_a_client_error_is_never_retried(status: int) -> None:
    """The request itself is wrong: sending it again cannot help (and a call is billed). A retry would succeed here."""
    waits: list[float] = []
    with FakeServer([Scenario(status=status), Scenario()]) as server:
        with pytest.raises(wire.APIError) as info:
            client_for(server, max_retries=3, sleep=waits.append).chat(PROMPT)
        assert len(server.requests) == 1
    assert info.value.status == status and waits == [] and len(info.value.exchange.attempts) == 1


def test_early_close_is_incomplete_message_with_partial_bytes() -> None:
    with FakeServer(fault="close_mid_body") as server:
        with pytest.raises(wire.IncompleteMessage) as info:
            client_for(server, max_retries=0).chat(PROMPT)
    assert info.value.partial.startswith(b"HTTP/1.1 200 OK\r\n")
    assert info.value.exchange.response_bytes == info.value.partial


def test_garbage_is_a_protocol_error_at_byte_zero() -> None:
    with FakeServer(fault="garbage") as server:
        with pytest.raises(wire.ProtocolError) as info:
            client_for(server, max_retries=0).chat(PROMPT)
    assert info.value.offset == 0 and "HTTP/" in str(info.value)


def test_key_with_stray_cr_is_invalid_header_without_the_key() -> None:
    bad = KEY + "\r"
    with pytest.raises(wire.InvalidHeader) as info:
        Client(base_url="http://127.0.0.1:9/v1", api_key=bad).prepare(PROMPT)
    assert KEY not in str(info.value) and KEY[-8:] not in str(info.value)


def test_missing_key_is_config_error_naming_where_it_looked(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    with pytest.raises(wire.ConfigError) as info:
        Client().prepare(PROMPT)
    assert "OPENAI_API_KEY" in str(info.value) and ".env" in str(info.value)


def test_repr_of_client_and_exchange_hide_the_key() -> None:
    with FakeServer() as server:
        client = client_for(server)
        exchange = client.chat(PROMPT)
    for text in (repr(client), repr(exchange), repr(exchange.request), repr(client.settings)):
        assert KEY not in text


def test_client_arguments_override_settings_and_say_so() -> None:
    from wire.config import Settings

    base = Settings(api_key="sk-env-0123456789abcdefgh", base_url="https://api.openai.com/v1",
                    sources={"api_key": "environment", "base_url": "default", "model": "default"})
    client = Client(base, base_url="http://127.0.0.1:9/v1")
    assert client.settings.base_url == "http://127.0.0.1:9/v1" and client.settings.api_key == base.api_key
    assert client.settings.sources == {"api_key": "environment", "base_url": "Client argument", "model": "default"}
    assert base.base_url == "https://api.openai.com/v1"  # the caller's settings are not changed
