"""wire.har: an exchange as an HTTP Archive 1.2 document, against the fake server on loopback."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from rawserver import RawServer

import wire
from wire.client import Client, Exchange
from wire.fake import FakeServer, Scenario
from wire.har import to_har, write_har

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"
PROMPT = "Tell me a fun fact about HTTP."

# HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/): the required fields of each object.
ENTRY_FIELDS = {"startedDateTime", "time", "request", "response", "cache", "timings"}
REQUEST_FIELDS = {"method", "url", "httpVersion", "cookies", "headers", "queryString", "headersSize", "bodySize"}
RESPONSE_FIELDS = {
    "status",
    "statusText",
    "httpVersion",
    "cookies",
    "headers",
    "content",
    "redirectURL",
    "headersSize",
    "bodySize",
}
TIMING_FIELDS = {"blocked", "dns", "connect", "ssl", "send", "wait", "receive"}


def client_for(server: FakeServer, **kw: Any) -> Client:
    return Client(base_url=server.base_url, api_key=KEY, ca_file=server.ca_file, timeout=5, **kw)


def pairs(headers: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(h["name"], h["value"]) for h in headers]


@pytest.fixture(scope="module")
def tls_exchange() -> Exchange:
    with FakeServer(tls=True) as server:
        return client_for(server).chat(PROMPT)


def test_log_has_version_creator_and_one_entry(tls_exchange: Exchange) -> None:
    har = to_har(tls_exchange)
    assert set(har) == {"log"}
    log = har["log"]
    assert log["version"] == "1.2"
    assert log["creator"] == {"name": "wire", "version": wire.__version__}
    assert len(log["entries"]) == 1


def test_required_fields_are_present(tls_exchange: Exchange) -> None:
    entry = to_har(tls_exchange)["log"]["entries"][0]
    assert ENTRY_FIELDS <= set(entry)
    assert REQUEST_FIELDS <= set(entry["request"])
    assert RESPONSE_FIELDS <= set(entry["response"])
    assert TIMING_FIELDS == set(entry["timings"])
    assert {"size", "mimeType"} <= set(entry["response"]["content"])
    assert entry["cache"] == {}
    assert entry["request"]["cookies"] == entry["request"]["queryString"] == entry["response"]["cookies"] == []
    assert entry["response"]["redirectURL"] == ""
    # ISO 8601 with a time zone, and the same instant as the attempt's wall-clock start.
    started = datetime.fromisoformat(entry["startedDateTime"])
    assert started.utcoffset() is not None
    assert abs(started.timestamp() - tls_exchange.timings.started_at) < 0.001


def test_request_values_equal_the_exchange(tls_exchange: Exchange) -> None:
    request = to_har(tls_exchange, show_secrets=True)["log"]["entries"][0]["request"]
    assert request["method"] == "POST"
    assert request["url"] == tls_exchange.base_url + "/chat/completions"
    assert request["httpVersion"] == "HTTP/1.1"
    assert pairs(request["headers"]) == tls_exchange.request.headers
    assert request["bodySize"] == len(tls_exchange.request.body)
    assert request["headersSize"] + request["bodySize"] == len(tls_exchange.request_bytes)
    assert request["postData"]["mimeType"] == "application/json"
    assert request["postData"]["text"] == tls_exchange.request.body.decode()


def test_response_values_equal_the_exchange(tls_exchange: Exchange) -> None:
    entry = to_har(tls_exchange)["log"]["entries"][0]
    response = tls_exchange.response
    assert response is not None
    har_response = entry["response"]
    assert har_response["status"] == 200
    assert har_response["statusText"] == "OK"
    assert har_response["httpVersion"] == "HTTP/1.1"
    assert pairs(har_response["headers"]) == response.headers
    assert har_response["content"]["text"] == response.body.decode()
    assert har_response["content"]["size"] == len(response.body)
    assert har_response["content"]["mimeType"] == "application/json"
    assert "encoding" not in har_response["content"]
    # Head + body as transferred (chunk frames included) = every byte received.
    assert har_response["headersSize"] + har_response["bodySize"] == len(tls_exchange.response_bytes)
    assert tls_exchange.response_bytes[har_response["headersSize"] - 4 : har_response["headersSize"]] == b"\r\n\r\n"
    assert entry["serverIPAddress"] == "127.0.0.1"
    assert entry["connection"] == "1"
    assert "_error" not in entry


def test_timings_map_wire_phases_to_milliseconds(tls_exchange: Exchange) -> None:
    entry = to_har(tls_exchange)["log"]["entries"][0]
    timings = entry["timings"]
    phases = tls_exchange.timings.phases()

    def ms(seconds: float | None) -> float:
        assert seconds is not None
        return round(seconds * 1000, 3)

    assert timings["blocked"] == -1
    assert timings["dns"] == ms(phases["dns"])
    assert timings["ssl"] == ms(phases["tls"])
    assert timings["connect"] == round(ms(phases["connect"]) + ms(phases["tls"]), 3)  # HAR: connect includes ssl
    assert (timings["send"], timings["wait"], timings["receive"]) == (
        ms(phases["send"]),
        ms(phases["wait"]),
        ms(phases["receive"]),
    )
    parts = [timings[k] for k in ("dns", "connect", "send", "wait", "receive")]
    assert entry["time"] == round(sum(parts), 3)


def test_plain_http_has_no_ssl_phase() -> None:
    with FakeServer(framing="length") as server:
        exchange = client_for(server).chat(PROMPT)
    entry = to_har(exchange)["log"]["entries"][0]
    assert entry["timings"]["ssl"] == -1
    assert entry["request"]["url"].startswith("http://127.0.0.1:")
    assert entry["response"]["bodySize"] == entry["response"]["content"]["size"]  # no framing bytes with length


def test_key_is_redacted_unless_asked(tls_exchange: Exchange) -> None:
    redacted = json.dumps(to_har(tls_exchange), ensure_ascii=False)
    assert KEY not in redacted
    assert KEY[-8:] not in redacted
    headers = dict(pairs(to_har(tls_exchange)["log"]["entries"][0]["request"]["headers"]))
    assert headers["Authorization"] == "Bearer sk-…wxyz"
    shown = dict(pairs(to_har(tls_exchange, show_secrets=True)["log"]["entries"][0]["request"]["headers"]))
    assert shown["Authorization"] == f"Bearer {KEY}"


def test_every_attempt_of_a_retried_call_is_an_entry() -> None:
    waits: list[float] = []
    with FakeServer([Scenario(status=429, retry_after="0"), Scenario()]) as server:
        exchange = client_for(server, sleep=waits.append, rng=lambda: 0.0).chat(PROMPT)
    har = to_har(exchange)
    entries = har["log"]["entries"]
    assert [e["response"]["status"] for e in entries] == [429, 200]
    assert [e["_attempt"] for e in entries] == [1, 2]
    # HAR's connection is the TCP connection's id: the 429 kept it open and the retry reused it.
    assert [a.reused for a in exchange.attempts] == [False, True]
    assert [e["connection"] for e in entries] == ["1", "1"]
    first, second = entries
    assert first["_error"].startswith("Error 429: Rate limit reached")
    assert first["_retryDelay"] == round(waits[0] * 1000, 3) == 500.0
    assert json.loads(first["response"]["content"]["text"])["error"]["code"] == "rate_limit_exceeded"
    assert ("retry-after", "0") in pairs(first["response"]["headers"])
    assert "_error" not in second and "_retryDelay" not in second
    assert second["response"]["content"]["text"] == exchange.response.body.decode()  # type: ignore[union-attr]
    assert KEY not in json.dumps(har, ensure_ascii=False)


def test_401_error_body_is_kept_and_key_absent() -> None:
    with FakeServer(status=401) as server:
        with pytest.raises(wire.APIError) as info:
            client_for(server).chat(PROMPT)
    exchange = info.value.exchange
    har = to_har(exchange)
    (entry,) = har["log"]["entries"]
    assert entry["response"]["status"] == 401
    assert entry["_error"].startswith("Error 401: Incorrect API key provided")
    assert KEY not in json.dumps(har, ensure_ascii=False)


def test_failed_attempt_without_response_gets_status_0() -> None:
    with FakeServer(fault="close_mid_head") as server:
        with pytest.raises(wire.ProtocolError) as info:
            client_for(server, max_retries=0).chat(PROMPT)
    (entry,) = to_har(info.value.exchange)["log"]["entries"]
    response = entry["response"]
    assert response["status"] == 0
    assert response["headers"] == []
    assert (response["headersSize"], response["bodySize"]) == (-1, -1)
    assert entry["_error"] == str(info.value)
    assert "closed inside the header section" in entry["_error"]


def test_write_har_writes_the_same_json(tls_exchange: Exchange, tmp_path: Path) -> None:
    path = tmp_path / "call.har"
    write_har(tls_exchange, path)
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == to_har(tls_exchange)
    assert KEY not in text
    write_har(tls_exchange, path, show_secrets=True)
    assert KEY in path.read_text(encoding="utf-8")


def test_an_attempt_on_a_new_connection_has_a_new_connection_id() -> None:
    # The server closes after each 503 (Connection: close): the retry opens a second connection.
    reply = b"HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}"
    with RawServer(reply, connections=2) as server:
        retrying = Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=1, sleep=lambda _: None)
        with pytest.raises(wire.APIError) as info:
            retrying.chat(PROMPT)
    exchange = info.value.exchange
    assert [a.reused for a in exchange.attempts] == [False, False]
    assert [e["connection"] for e in to_har(exchange)["log"]["entries"]] == ["1", "2"]
