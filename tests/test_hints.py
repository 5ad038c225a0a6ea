"""Errors that say what to do, and server text that cannot act on the terminal (issue 12).

Each reply comes from a small raw server on loopback, byte for byte: control
characters in the answer and in an error, an unreachable proxy, a gzip body
nobody asked for, a captive portal's HTML page, a redirect, a base URL one
segment off, a reply that breaks off mid-body.
"""

from __future__ import annotations

import gzip
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rawserver import SSE_HEAD, RawServer, chunked
from test_secrets import keys

import wire
from wire import show
from wire.cli import main
from wire.client import Client
from wire.config import Settings
from wire.errors import ProtocolError
from wire.hints import api_error, through_proxy, unreadable_body
from wire.proxy import ProxyInfo
from wire.secrets import StreamRedactor, redact_text

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"
PROXY_VARS = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY")
# Terminal escape sequences (ECMA-48): OSC 0 sets the window title, CSI 31 m turns text red, CSI 2 J clears.
TITLE, RED, CLEAR = "\x1b]0;pwned\x07", "\x1b[31m", "\x1b[2J"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("OPENAI_MODEL", raising=False)
    yield


def client(base_url: str) -> Client:
    return Client(base_url=base_url, api_key=KEY, timeout=5, max_retries=0)


def reply(status: str, body: bytes, *fields: str) -> bytes:
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{f}\r\n" for f in fields)
    return head.encode("latin-1") + b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body) + body


def completion(content: str) -> bytes:
    message = {"role": "assistant", "content": content}
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    return json.dumps({"id": "c1", "object": "chat.completion", "model": "m", "choices": [choice]}).encode()


def delta(text: str) -> bytes:
    chunk = {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}}]}
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def closed_port() -> int:
    sock = socket.create_server(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()  # nothing listens here now
    return port


# --- control characters from the server ---


def test_the_answer_view_escapes_control_characters_but_keeps_newlines_and_tabs() -> None:
    content = f"Hi {TITLE}there {RED}red\r\nline 2\tcol\x7f\x9b"
    with RawServer(reply("200 OK", completion(content), "content-type: application/json")) as server:
        exchange = client(server.base_url).chat("Hi")
    assert show.answer_view(exchange) == (
        "  Hi \\x1b]0;pwned\\x07there \\x1b[31mred\\r\n  line 2\tcol\\x7f\\x9b\n  (role assistant, finish_reason stop)"
    )
    assert "\\u007f" in show.json_view(exchange) or "\\x7f" in show.json_view(exchange)
    assert "\x1b" not in show.exchange_view(exchange) and "\x9b" not in show.exchange_view(exchange)


def test_streamed_output_and_the_error_line_escape_control_characters(capsys: pytest.CaptureFixture[str]) -> None:
    body = chunked(delta(TITLE), delta(f"ok{RED}"), delta("\nline\tx"), b"data: [DONE]\n\n")
    with RawServer(SSE_HEAD + body) as server:
        assert main(["chat", "Hi", "--base-url", server.base_url, "--stream", "--show", "answer"]) == 0
    out, _ = capsys.readouterr()
    assert out == (
        "answer, as it arrives:\n\\x1b]0;pwned\\x07ok\\x1b[31m\nline\tx\n\n"
        "── 1. answer ─────────────────────────────────────────────── wire/chat.py\n"
        "  \\x1b]0;pwned\\x07ok\\x1b[31m\n  line\tx\n  (role assistant, finish_reason None)\n"
    )
    error = json.dumps({"error": {"message": f"{CLEAR}bad{TITLE}"}}).encode()
    # The parser refuses C0 controls in the reason phrase; obs-text lets the byte 0x9b through: C1 CSI in Latin-1.
    with RawServer(reply("400 Bad\x9b31m", error, "content-type: application/json")) as server:
        assert main(["chat", "Hi", "--base-url", server.base_url, "--max-retries", "0", "--show", "attempts"]) == 1
    out, err = capsys.readouterr()
    assert "  attempt 1  400 Bad\\x9b31m  (new connection, " in out and "\x9b" not in out
    with RawServer(reply("400 Bad\x9b31m", error, "content-type: application/json")) as server:
        assert main(["chat", "Hi", "--base-url", server.base_url, "--max-retries", "0", "--show", "response"]) == 1
    out, err = capsys.readouterr()
    assert err == "Error 400: \\x1b[2Jbad\\x1b]0;pwned\\x07\n"
    assert "< HTTP/1.1 400 Bad\\x9b31m\\r\\n" in out and "\x9b" not in out


@given(key=keys, text=st.text(max_size=30), cuts=st.lists(st.integers(0, 200), max_size=8))
def test_a_streamed_key_is_redacted_however_the_deltas_cut_it(key: str, text: str, cuts: list[int]) -> None:
    whole = text + key + text + key[:-1]  # the key, and a start of it that never completes
    points = sorted({c % (len(whole) + 1) for c in cuts})
    pieces = [whole[a:b] for a, b in zip([0, *points], [*points, len(whole)], strict=True)]
    redactor = StreamRedactor([key])
    shown = "".join(redactor.feed(piece) for piece in pieces) + redactor.flush()
    assert shown == redact_text(whole, [key])


def test_the_cli_redacts_a_key_that_arrives_over_several_deltas(capsys: pytest.CaptureFixture[str]) -> None:
    pieces = ["Your key is ", *(KEY[i : i + 3] for i in range(0, len(KEY), 3)), "."]
    body = chunked(*(delta(p) for p in pieces), b"data: [DONE]\n\n")
    with RawServer(SSE_HEAD + body) as server:
        assert main(["chat", "Hi", "--base-url", server.base_url, "--stream", "--show", "answer"]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("answer, as it arrives:\nYour key is sk-…wxyz.\n\n")
    assert KEY not in out


# --- a proxy that is not there ---


def test_a_proxy_that_does_not_answer_is_named_with_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    port = closed_port()
    monkeypatch.setenv("HTTPS_PROXY", f"http://alice:s3cret@127.0.0.1:{port}")
    with pytest.raises(wire.NetworkError) as info:
        client("https://api.example.test/v1").chat("Hi")
    error = info.value
    assert error.phase == "connect" and "s3cret" not in str(error)
    assert str(error).startswith(
        f"connect: the proxy http://alice:***@127.0.0.1:{port} (from HTTPS_PROXY): could not connect to "
        f"127.0.0.1 port {port} ("
    )
    assert str(error).endswith(
        f" — check HTTPS_PROXY: is an HTTP proxy running at 127.0.0.1:{port}? "
        "Unset it (or list the host in NO_PROXY) to connect directly"
    )
    assert "base_url" not in str(error) and "is the server running" not in str(error)
    failed = [e for e in error.exchange.trace if e.name == "connection.open" and e.step == "failed"]
    assert failed[0].info["error"].startswith("NetworkError: connect: the proxy http://alice:***@")


def test_the_settings_view_shows_the_proxy_in_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("https_proxy", "http://alice:s3cret@proxy.example.test:3128")
    settings = Settings.load(None)
    settings.base_url = "https://api.example.test/v1"
    lines = show.settings_view(settings).splitlines()
    assert lines[-1] == (
        "  proxy     http://alice:***@proxy.example.test:3128, tunnel to api.example.test:443 (CONNECT)  (https_proxy)"
    )
    monkeypatch.setenv("no_proxy", "api.example.test")
    direct = Settings.load(None)
    direct.base_url = "https://api.example.test/v1"
    assert "proxy" not in show.settings_view(direct)


# --- a body wire cannot read ---


def test_a_gzip_body_nobody_asked_for_is_named() -> None:
    body = gzip.compress(completion("Hi"))
    with RawServer(reply("200 OK", body, "content-type: application/json", "content-encoding: gzip")) as server:
        with pytest.raises(wire.ProtocolError) as info:
            client(server.base_url).chat("Hi")
        assert b"accept-encoding" not in server.requests[0].lower()
    assert str(info.value) == (
        "the reply body is not JSON ('utf-8' codec can't decode byte 0x8b in position 1: invalid start byte); "
        "the server sent the body with Content-Encoding: gzip, which wire did not ask for (its request has no "
        "Accept-Encoding) and does not decode (--compressed, or Client(compressed=True), asks for gzip and deflate "
        "and decodes them); wire shows the bytes as they came (Chat Completions reply format)"
    )


def test_a_gzip_stream_and_a_gzip_error_are_named() -> None:
    stream = SSE_HEAD.replace(b"\r\n\r\n", b"\r\ncontent-encoding: gzip\r\n\r\n") + chunked(gzip.compress(delta("x")))
    with RawServer(stream) as server:
        with pytest.raises(wire.StreamError) as info:
            client(server.base_url).chat("Hi", stream=True)
    assert str(info.value).startswith("the stream ended without 'data: [DONE]'; the server sent the body with ")
    assert "Content-Encoding: gzip, which wire did not ask for" in str(info.value)
    error = gzip.compress(b'{"error": {"message": "no"}}')
    with RawServer(reply("400 Bad Request", error, "content-encoding: gzip")) as server:
        with pytest.raises(wire.APIError) as api:
            client(server.base_url).chat("Hi")
    assert str(api.value).startswith("Error 400: Bad Request — the server sent the body with Content-Encoding: gzip")
    assert api.value.body == error and api.value.hint is not None


def test_an_html_page_is_a_captive_portal_or_a_wrong_base_url(capsys: pytest.CaptureFixture[str]) -> None:
    page = f"<html><head><title>Log in{RED}</title></head><body>Welcome to Hotel Wi-Fi, please sign in".encode()
    with RawServer(reply("200 OK", page, "content-type: text/html; charset=utf-8")) as server:
        assert main(["chat", "Hi", "--base-url", server.base_url, "--max-retries", "0", "--show", "response"]) == 1
    _, err = capsys.readouterr()
    assert err == (
        "ProtocolError: the reply body is not JSON (Expecting value: line 1 column 1 (char 0)); the reply is a "
        "web page (Content-Type: text/html; charset=utf-8), not JSON: a captive portal (a network's login page) "
        "or a base URL that points at a web site, not the API; it begins "
        "'<html><head><title>Log in\\x1b[31m</title></head><body>Welcome to Hotel Wi-Fi, pleas'… "
        "(Chat Completions reply format)\n"
    )


def test_a_redirect_shows_the_location_and_is_not_followed() -> None:
    location = "location: https://api.example.test/v1/chat/completions"
    with RawServer(reply("301 Moved Permanently", b"", location), connections=2) as server:
        with pytest.raises(wire.APIError) as info:
            client(server.base_url).chat("Hi")
        assert len(server.requests) == 1
    assert str(info.value) == (
        "Error 301: Moved Permanently — the server redirects to Location: "
        "https://api.example.test/v1/chat/completions; wire does not follow redirects (on a 301 or 302 a client "
        "may even turn the POST into a GET, RFC 9110 §15.4.2, §15.4.3): if you trust it, use "
        "https://api.example.test/v1 as the base URL"
    )
    with RawServer(reply("307 Temporary Redirect", b"")) as server:
        with pytest.raises(wire.APIError) as info:
            client(server.base_url).chat("Hi")
    assert info.value.hint == "the server redirects (3xx) but names no Location; wire does not follow redirects"


def test_a_404_from_a_base_url_without_v1_suggests_it() -> None:
    page = b"<html><body><h1>404 Not Found</h1></body></html>"
    with RawServer(reply("404 Not Found", page, "content-type: text/html")) as server:
        base = f"http://127.0.0.1:{server.port}"
        with pytest.raises(wire.APIError) as info:
            client(base).chat("Hi")
    assert str(info.value) == (
        f"Error 404: Not Found — the base URL has no /v1, where OpenAI-compatible servers keep /chat/completions: "
        f"try {base}/v1"
    )


def test_a_404_from_a_base_url_ending_in_chat_completions_suggests_the_fix() -> None:
    error = json.dumps({"error": {"message": "Unknown request URL: POST /v1/chat/completions/chat/completions."}})
    with RawServer(reply("404 Not Found", error.encode(), "content-type: application/json")) as server:
        with pytest.raises(wire.APIError) as info:
            client(server.base_url + "/chat/completions/").chat("Hi")
        assert server.requests[0].startswith(b"POST /v1/chat/completions/chat/completions HTTP/1.1\r\n")
    assert str(info.value) == (
        "Error 404: Unknown request URL: POST /v1/chat/completions/chat/completions. — the base URL already ends "
        f"in /chat/completions, and wire adds that itself: use {server.base_url} as the base URL"
    )


def test_a_404_under_v1_gets_no_base_url_hint() -> None:
    error = b'{"error": {"message": "The model `x` does not exist", "code": "model_not_found"}}'
    with RawServer(reply("404 Not Found", error, "content-type: application/json")) as server:
        with pytest.raises(wire.APIError) as info:
            client(server.base_url).chat("Hi")
    assert str(info.value) == "Error 404: The model `x` does not exist" and info.value.hint is None


# --- a reply that breaks off mid-body ---


def test_a_broken_reply_still_shows_the_layers_that_arrived(capsys: pytest.CaptureFixture[str]) -> None:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n"
    with RawServer(head + b'{"id": "c1", "obj') as server:
        args = ["chat", "Hi", "--base-url", server.base_url, "--max-retries", "0", "--show", "response,body"]
        assert main(args) == 1
    out, err = capsys.readouterr()
    assert out == (
        "── 1. response head: status line and fields ──────────────── wire/http11/parser.py\n"
        "< HTTP/1.1 200 OK\\r\\n\n"
        "< content-type: application/json\\r\\n\n"
        "< content-length: 100\\r\\n\n"
        "< \\r\\n\n"
        "  (body framing: Content-Length; connection closed after this response)\n"
        "  (the reply broke off: below is what had arrived)\n"
        "\n"
        "── 2. body framing: Content-Length ───────────────────────── wire/http11/framing.py\n"
        "  17 body bytes (Content-Length: 100)\n"
        '< {"id": "c1", "obj\n'
    )
    assert err == (
        "IncompleteMessage: the connection closed after 17 of 100 body bytes (Content-Length) at byte 89 "
        '(RFC 9112 §8: incomplete message); bytes near it: b\'\\n\\r\\n{"id": "c1", "obj\'\n'
    )


def test_a_broken_stream_ends_the_partial_answer_and_shows_its_frames_and_events(
    capsys: pytest.CaptureFixture[str],
) -> None:
    frames = b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in (delta("Hel"), delta("lo")))
    with RawServer(SSE_HEAD + frames + b"40\r\ndata: {") as server:
        args = ["chat", "Hi", "--base-url", server.base_url, "--max-retries", "0", "--stream"]
        assert main([*args, "--show", "response,body,events,answer"]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("answer, as it arrives:\nHello\n\n── 1. response head: status line and fields ──")
    assert "  (the reply broke off: below is what had arrived)\n" in out
    assert "  frame 2: size line 0x40 = 64 bytes\n< 40\\r\\n\n< data: {\n" in out
    assert "  frame 0 (111 bytes): 1 event(s)\n" in out and "  frame 1 (110 bytes): 1 event(s)\n" in out
    assert out.endswith("  Hello\n  (the answer so far: the stream broke off)\n")
    assert err.startswith("IncompleteMessage: the connection closed inside chunk data (57 bytes of the chunk missing)")


# --- docs/troubleshooting.md quotes what wire prints ---

DOC = (Path(__file__).resolve().parent.parent / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
PAGE = b"<html><head><title>Sign in to Hotel Wi-Fi</title></head><body>Welcome! Please accept the terms</body></html>"


def response(status: str, body: bytes, *fields: str) -> wire.Response:
    return wire.parse_response(reply(status, body, *fields))


def test_troubleshooting_quotes_each_message_as_wire_prints_it() -> None:
    def printed(error: BaseException) -> str:  # as the CLI's error line shows it (APIError without its class name)
        return str(error) if isinstance(error, wire.APIError) else f"{type(error).__name__}: {error}"

    refused = wire.NetworkError(
        "could not connect to 127.0.0.1 port 3128 (127.0.0.1 port 3128: Connection refused)",
        phase="connect",
        hint="is the server running on that port?",
    )
    proxy = ProxyInfo(host="127.0.0.1", port=3128, source="HTTPS_PROXY")
    html = response("200 OK", PAGE, "content-type: text/html; charset=utf-8")
    not_json = ProtocolError(
        "the reply body is not JSON (Expecting value: line 1 column 1 (char 0)); " + str(unreadable_body(html, [])),
        rule="Chat Completions reply format",
    )
    encoded = response("200 OK", gzip.compress(b"{}"), "content-encoding: gzip")
    gzip_error = ProtocolError(
        "the reply body is not JSON ('utf-8' codec can't decode byte 0x8b in position 1: invalid start byte); "
        + str(unreadable_body(encoded, [])),
        rule="Chat Completions reply format",
    )
    location = "location: https://api.example.com/v1/chat/completions"
    unknown = b'{"error": {"message": "Unknown request URL: POST /v1/chat/completions/chat/completions."}}'
    with pytest.raises(wire.IncompleteMessage) as cut:
        wire.parse_response(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n" + b'{"id": "c1", "obj'
        )
    lines = [
        printed(through_proxy(refused, proxy)),
        printed(gzip_error),
        printed(not_json),
        printed(api_error(response("301 Moved Permanently", b"", location), "http://api.example.com/v1", [])),
        printed(api_error(response("404 Not Found", b"nope!", "content-type: text/html"), "http://localhost:8000", [])),
        printed(api_error(response("404 Not Found", unknown), "http://localhost:8000/v1/chat/completions", [])),
        printed(cut.value),
    ]
    for line in lines:
        assert f"\n{line}\n" in DOC, line
