"""FakeServer, checked with the standard library only (http.client, socket, ssl).

wire's own parser is deliberately not used here: these tests pin down the bytes
the fake server sends, so the client's tests can trust them.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import trustme
from rawserver import recv_until

from wire.fake import DEMO_CA_FILE, FAULTS, FakeServer, Scenario
from wire.fake.framing import Close, Wait, plan
from wire.fake.replies import FACTS, answer

TIMEOUT = 5.0
KEY = "sk-test-0123456789abcd"
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Tell me about HTTP."}]}
STREAM = {**CHAT, "stream": True}
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
            },
        },
    }
]

# ---------------------------------------------------------------- helpers (test-only, independent of wire)


def request_bytes(
    body: dict[str, Any] | bytes | None = None,
    *,
    method: str = "POST",
    path: str = "/v1/chat/completions",
    key: str | None = KEY,
    close: bool = True,
) -> bytes:
    payload = body if isinstance(body, bytes) else json.dumps(body if body is not None else CHAT).encode()
    if method == "GET":
        payload = b""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if payload:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    if key is not None:
        lines.append(f"Authorization: Bearer {key}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def read_to_eof(sock: socket.socket) -> bytes:
    """Every byte until the server closes; fails after 3 * TIMEOUT in all."""
    deadline = time.monotonic() + 3 * TIMEOUT
    received: list[bytes] = []
    while True:
        assert time.monotonic() < deadline, "the server did not close the connection in time"
        data = sock.recv(65536)
        if not data:
            return b"".join(received)
        received.append(data)


def exchange(server: FakeServer, data: bytes, *, context: ssl.SSLContext | None = None) -> bytes:
    """Send one request (with Connection: close) and read everything until the server closes."""
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as raw:
        sock = context.wrap_socket(raw, server_hostname="localhost") if context else raw
        sock.sendall(data)
        return read_to_eof(sock)


def split_head(response: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    head, sep, rest = response.partition(b"\r\n\r\n")
    assert sep, f"no end of head in {response[:200]!r}"
    status_line, *lines = head.decode("latin-1").split("\r\n")
    fields = [(name, value.strip()) for name, _, value in (line.partition(":") for line in lines)]
    return status_line, fields, rest


def dechunk(rest: bytes) -> list[bytes]:
    """The data of each chunk frame; checks sizes, CRLFs and the last chunk strictly."""
    frames: list[bytes] = []
    while True:
        size_line, sep, rest = rest.partition(b"\r\n")
        assert sep and size_line == size_line.lower() and size_line.isalnum(), size_line
        size = int(size_line, 16)
        if size == 0:
            assert rest == b"\r\n", rest  # no trailers, nothing after the message
            return frames
        frames.append(rest[:size])
        assert rest[size : size + 2] == b"\r\n"
        rest = rest[size + 2 :]


def data_events(body: bytes, eol: str = "\n") -> list[str]:
    """The data of each SSE event (comments dropped), for bodies of one-line events."""
    events = []
    for block in body.decode().split(eol + eol):
        lines = [line for line in block.split(eol) if line and not line.startswith(":")]
        if lines:
            assert len(lines) == 1 and lines[0].startswith("data: "), lines
            events.append(lines[0][len("data: ") :])
    return events


def chat(server: FakeServer, body: dict[str, Any], *, context: ssl.SSLContext | None = None) -> bytes:
    _, fields, rest = split_head(exchange(server, request_bytes(body), context=context))
    framing = dict(fields)
    return b"".join(dechunk(rest)) if framing.get("transfer-encoding") == "chunked" else rest


@pytest.fixture
def server() -> Any:
    with FakeServer() as s:
        yield s


# ---------------------------------------------------------------- JSON replies


def test_json_reply_shape_and_headers(server: FakeServer) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=TIMEOUT)
    conn.request("POST", "/v1/chat/completions", json.dumps(CHAT), {"Authorization": f"Bearer {KEY}"})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    assert (response.status, response.reason) == (200, "OK")
    assert [name for name, _ in response.getheaders()] == [
        "date",
        "content-type",
        "transfer-encoding",
        "connection",
        "access-control-expose-headers",
        "openai-organization",
        "openai-processing-ms",
        "openai-version",
        "x-ratelimit-limit-requests",
        "x-ratelimit-limit-tokens",
        "x-ratelimit-remaining-requests",
        "x-ratelimit-remaining-tokens",
        "x-ratelimit-reset-requests",
        "x-ratelimit-reset-tokens",
        "x-request-id",
        "server",
    ]
    assert response.getheader("content-type") == "application/json"
    assert response.getheader("date") == "Thu, 01 Jan 2026 12:00:00 GMT"
    assert response.getheader("x-request-id", "").startswith("req_")
    assert body.startswith(b'{\n  "id": "chatcmpl-')  # pretty-printed, indent 2
    reply = json.loads(body)
    assert list(reply) == [
        "id",
        "object",
        "created",
        "model",
        "choices",
        "usage",
        "service_tier",
        "system_fingerprint",
    ]
    assert reply["object"] == "chat.completion"
    assert reply["model"] == "gpt-4o-mini"
    assert reply["system_fingerprint"].startswith("fp_")
    (choice,) = reply["choices"]
    assert choice["finish_reason"] == "stop" and choice["logprobs"] is None
    message = choice["message"]
    assert message == {"role": "assistant", "content": message["content"], "refusal": None, "annotations": []}
    assert message["content"] in FACTS
    usage = reply["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    assert "cached_tokens" in usage["prompt_tokens_details"]
    assert "reasoning_tokens" in usage["completion_tokens_details"]


def test_same_request_gives_same_bytes() -> None:
    with FakeServer() as a, FakeServer() as b:
        first = exchange(a, request_bytes())
        assert exchange(a, request_bytes()) == first
        assert exchange(b, request_bytes()) == first
        other = exchange(a, request_bytes({**CHAT, "messages": [{"role": "user", "content": "Something else"}]}))
    assert other != first


def test_chunked_default_is_two_frames_split_mid_body(server: FakeServer) -> None:
    status_line, fields, rest = split_head(exchange(server, request_bytes()))
    assert status_line == "HTTP/1.1 200 OK"
    assert ("transfer-encoding", "chunked") in fields and ("connection", "close") in fields
    frames = dechunk(rest)
    assert len(frames) == 2
    body = b"".join(frames)
    assert len(frames[0]) == len(body) // 2
    json.loads(body)


def test_chunk_size_is_honoured() -> None:
    with FakeServer(chunk_size=100) as server:
        frames = dechunk(split_head(exchange(server, request_bytes()))[2])
    assert len(frames) > 3
    assert all(len(f) == 100 for f in frames[:-1]) and 0 < len(frames[-1]) <= 100


def test_length_framing() -> None:
    with FakeServer(framing="length") as server:
        _, fields, rest = split_head(exchange(server, request_bytes()))
    names = [name for name, _ in fields]
    assert "transfer-encoding" not in names
    assert names.index("content-length") == 2
    assert int(dict(fields)["content-length"]) == len(rest)
    assert json.loads(rest)["object"] == "chat.completion"


def test_write_size_1_sends_the_same_bytes_one_per_write(server: FakeServer) -> None:
    expected = exchange(server, request_bytes())
    with FakeServer(write_size=1) as slow:
        assert exchange(slow, request_bytes()) == expected
        steps = plan(
            answer("POST", "/v1/chat/completions", [("Authorization", "Bearer x")], b"{}", slow.scenarios[0]),
            slow.scenarios[0],
        )
    assert all(isinstance(s, bytes) and len(s) == 1 for s in steps)


def test_plan_writes_head_and_each_frame_once() -> None:
    scenario = Scenario()
    reply = answer("POST", "/v1/chat/completions", [("Authorization", "Bearer x")], json.dumps(CHAT).encode(), scenario)
    steps = plan(reply, scenario)
    assert len(steps) == 4  # head, two frames, last chunk
    assert isinstance(steps[0], bytes) and steps[0].endswith(b"\r\n\r\n")
    assert steps[-1] == b"0\r\n\r\n"


# ---------------------------------------------------------------- TLS


def test_tls_with_the_demo_ca() -> None:
    with FakeServer(tls=True) as server:
        assert server.base_url == f"https://localhost:{server.port}/v1"
        assert server.ca_file == DEMO_CA_FILE
        context = ssl.create_default_context(cafile=DEMO_CA_FILE)
        context.set_alpn_protocols(["http/1.1"])
        with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                assert tls.selected_alpn_protocol() == "http/1.1"
                tls.sendall(request_bytes())
                response = read_to_eof(tls)
    assert response.startswith(b"HTTP/1.1 200 OK\r\n")
    assert json.loads(b"".join(dechunk(split_head(response)[2])))["object"] == "chat.completion"


def test_tls_demo_cert_is_valid_for_127_0_0_1_too() -> None:
    with FakeServer(tls=True) as server:
        context = ssl.create_default_context(cafile=DEMO_CA_FILE)
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=context, timeout=TIMEOUT)
        conn.request("GET", "/v1/models", headers={"Authorization": f"Bearer {KEY}"})
        response = conn.getresponse()
        models = json.loads(response.read())
        conn.close()
    assert response.status == 200
    assert models["object"] == "list" and models["data"][0]["object"] == "model"


def test_tls_with_a_trustme_ca(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    certfile, keyfile, cafile = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(certfile))
    cert.private_key_pem.write_to_path(str(keyfile))
    ca.cert_pem.write_to_path(str(cafile))
    with FakeServer(certfile=str(certfile), keyfile=str(keyfile), ca_file=str(cafile)) as server:
        assert server.tls and server.ca_file == str(cafile)
        context = ssl.create_default_context(cafile=server.ca_file)
        assert chat(server, CHAT, context=context).startswith(b"{")
        # A client that trusts only the demo CA must refuse this server.
        demo = ssl.create_default_context(cafile=DEMO_CA_FILE)
        with pytest.raises(ssl.SSLCertVerificationError):
            exchange(server, request_bytes(), context=demo)


# ---------------------------------------------------------------- streaming


def streamed(server: FakeServer, body: dict[str, Any]) -> tuple[list[tuple[str, str]], list[bytes]]:
    _, fields, rest = split_head(exchange(server, request_bytes(body)))
    return fields, dechunk(rest)


def test_stream_event_format(server: FakeServer) -> None:
    fields, frames = streamed(server, STREAM)
    assert dict(fields)["content-type"] == "text/event-stream; charset=utf-8"
    assert dict(fields)["transfer-encoding"] == "chunked"
    assert all(f.startswith(b"data: ") and f.endswith(b"\n\n") and f.count(b"\n\n") == 1 for f in frames)
    events = data_events(b"".join(frames))
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(
        list(c) == ["id", "object", "created", "model", "service_tier", "system_fingerprint", "choices"] for c in chunks
    )  # no "usage" key without include_usage
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    assert chunks[-1]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert len(chunks) > 5
    whole = json.loads(chat(server, CHAT))
    assert text == whole["choices"][0]["message"]["content"]
    assert chunks[0]["id"] == whole["id"] and chunks[0]["system_fingerprint"] == whole["system_fingerprint"]
    assert not any(f.startswith(b":") for f in frames)  # no comments by default


def test_stream_include_usage(server: FakeServer) -> None:
    _, frames = streamed(server, {**STREAM, "stream_options": {"include_usage": True}})
    events = data_events(b"".join(frames))
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == json.loads(chat(server, CHAT))["usage"]
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"


def test_stream_crlf_and_keepalive_comments() -> None:
    with FakeServer(crlf=True, keepalive_comments=True) as server:
        _, frames = streamed(server, STREAM)
    body = b"".join(frames)
    assert body.replace(b"\r\n", b"").count(b"\n") == 0 and body.replace(b"\r\n", b"").count(b"\r") == 0
    assert frames[0].startswith(b"data: ") and frames[1] == b": keep-alive\r\n\r\n"
    events = data_events(body, "\r\n")
    assert events[-1] == "[DONE]"
    assert body.count(b": keep-alive\r\n\r\n") == len(events) - 1


def test_stream_events_per_frame_and_chunk_size() -> None:
    with FakeServer(events_per_frame=3) as server:
        _, frames = streamed(server, STREAM)
    assert all(f.count(b"\n\ndata: ") == 2 and f.endswith(b"\n\n") for f in frames[:-1])
    with FakeServer(chunk_size=50) as server:
        _, small = streamed(server, STREAM)
    assert max(len(f) for f in small) == 50
    assert b"".join(small) == b"".join(frames)


def test_stream_split_events(server: FakeServer) -> None:
    _, whole = streamed(server, STREAM)
    with FakeServer(split_events=True) as split_server:
        _, frames = streamed(split_server, STREAM)
    assert b"".join(frames) == b"".join(whole)
    assert len(frames) == len(whole) + 1
    assert not frames[1].endswith(b"\n\n") and b'"delta":{"content":' in frames[1] + frames[2]


def test_stream_tool_call(server: FakeServer) -> None:
    request = {**CHAT, "tools": TOOLS}
    reply = json.loads(chat(server, request))
    (choice,) = reply["choices"]
    assert choice["finish_reason"] == "tool_calls"
    message = choice["message"]
    assert message["content"] is None
    (call,) = message["tool_calls"]
    assert call["id"].startswith("call_") and call["type"] == "function"
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Tell me about HTTP.", "unit": "c"}

    _, frames = streamed(server, {**request, "stream": True})
    chunks = [json.loads(e) for e in data_events(b"".join(frames))[:-1]]
    first = chunks[0]["choices"][0]["delta"]
    assert first["role"] == "assistant" and first["content"] is None
    assert first["tool_calls"] == [
        {"index": 0, "id": call["id"], "type": "function", "function": {"name": "get_weather", "arguments": ""}}
    ]
    pieces = [c["choices"][0]["delta"]["tool_calls"][0] for c in chunks[1:-1]]
    assert len(pieces) > 2 and all(set(p) == {"index", "function"} for p in pieces)
    assert "".join(p["function"]["arguments"] for p in pieces) == call["function"]["arguments"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_stream_error_ends_the_stream() -> None:
    with FakeServer(stream_error=True) as server:
        _, frames = streamed(server, STREAM)  # dechunk checks the last chunk is there
    events = data_events(b"".join(frames))
    assert "[DONE]" not in events
    assert len(events) == 4  # role, two content deltas, the error
    error = json.loads(events[-1])["error"]
    assert error["type"] == "server_error" and set(error) == {"message", "type", "param", "code"}


def test_stream_gate_holds_the_rest_until_set() -> None:
    gate = threading.Event()
    with FakeServer(gate=gate, gate_timeout=TIMEOUT) as server:
        with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
            sock.sendall(request_bytes(STREAM))
            received = recv_until(sock, lambda got: b'"delta":{"content":' in got)
            sock.settimeout(0.2)
            with pytest.raises(socket.timeout):
                sock.recv(65536)  # the gate holds everything after the first content event
            gate.set()
            sock.settimeout(TIMEOUT)
            received += read_to_eof(sock)
    assert received.endswith(b"data: [DONE]\n\n\r\n0\r\n\r\n")


def test_stream_pause_between_frames_is_planned() -> None:
    scenario = Scenario(pause=0.5, gate=threading.Event(), gate_timeout=1.0)
    reply = answer(
        "POST", "/v1/chat/completions", [("Authorization", "Bearer x")], json.dumps(STREAM).encode(), scenario
    )
    steps = plan(reply, scenario)
    waits = [s for s in steps if isinstance(s, Wait)]
    assert [w.reason for w in waits].count("gate") == 1
    assert [w.reason for w in waits].count("pause") == len(reply.units) - 1
    # the gate comes right after the frame with the first content event
    gate_at = next(i for i, s in enumerate(steps) if isinstance(s, Wait) and s.reason == "gate")
    assert b'"delta":{"content":' in steps[gate_at - 1]  # type: ignore[operator]


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("status", "type_", "code"),
    [
        (401, "invalid_request_error", "invalid_api_key"),
        (429, "requests", "rate_limit_exceeded"),
        (500, "server_error", None),
        (503, "server_error", None),
    ],
)
def test_error_statuses(status: int, type_: str, code: str | None) -> None:
    with FakeServer(status=status) as server:
        status_line, fields, rest = split_head(exchange(server, request_bytes()))
    assert status_line.startswith(f"HTTP/1.1 {status} ")
    body = b"".join(dechunk(rest))
    assert body.startswith(b'{\n    "error": {')  # the real service's indent 4
    error = json.loads(body)["error"]
    assert list(error) == ["message", "type", "param", "code"]
    assert (error["type"], error["param"], error["code"]) == (type_, None, code)
    if status == 401:
        assert "Incorrect API key provided: sk-…abcd." in error["message"]
        assert KEY not in body.decode()
    names = dict(fields)
    assert ("retry-after" in names) == (status == 429)
    if status == 429:
        assert names["retry-after"] == "1" and "try again in 1s" in error["message"]


def test_retry_headers() -> None:
    scenario = Scenario(status=429, retry_after="0", retry_after_ms="20", should_retry="true")
    with FakeServer(scenario) as server:
        _, fields, _ = split_head(exchange(server, request_bytes()))
    names = [n for n, _ in fields]
    assert dict(fields)["retry-after"] == "0"
    assert dict(fields)["retry-after-ms"] == "20"
    assert dict(fields)["x-should-retry"] == "true"
    assert names[-1] == "server"
    with FakeServer(status=429, retry_after="") as server:
        _, fields, _ = split_head(exchange(server, request_bytes()))
    assert "retry-after" not in dict(fields)


@pytest.mark.parametrize("key", [None, "", "   "])
def test_missing_api_key(server: FakeServer, key: str | None) -> None:
    data = request_bytes(key=None)
    if key is not None:
        data = data.replace(b"Connection: close", f"Authorization: {key}\r\nConnection: close".encode())
    status_line, _, rest = split_head(exchange(server, data))
    assert status_line == "HTTP/1.1 401 Unauthorized"
    assert json.loads(b"".join(dechunk(rest)))["error"]["message"].startswith("You didn't provide an API key.")


def test_unknown_path_and_bad_json(server: FakeServer) -> None:
    status_line, _, rest = split_head(exchange(server, request_bytes(path="/v1/nope")))
    assert status_line == "HTTP/1.1 404 Not Found"
    assert json.loads(b"".join(dechunk(rest)))["error"]["message"] == "Invalid URL (POST /v1/nope)"
    for body in (b"{not json", b"[" * 100_000):  # the second is too deep for json: RecursionError, not ValueError
        status_line, _, rest = split_head(exchange(server, request_bytes(body)))
        assert status_line == "HTTP/1.1 400 Bad Request"
        assert "could not parse the JSON body" in json.loads(b"".join(dechunk(rest)))["error"]["message"]
    status_line, _, rest = split_head(exchange(server, request_bytes({"model": "m"})))
    assert status_line == "HTTP/1.1 400 Bad Request"
    assert json.loads(b"".join(dechunk(rest)))["error"]["param"] == "messages"


def test_fail_then_succeed() -> None:
    with FakeServer([Scenario(status=500), Scenario(status=429, retry_after="0"), Scenario()]) as server:
        statuses = [exchange(server, request_bytes())[:12] for _ in range(4)]
    assert statuses == [b"HTTP/1.1 500", b"HTTP/1.1 429", b"HTTP/1.1 200", b"HTTP/1.1 200"]


# ---------------------------------------------------------------- faults


def faulty(fault: str, body: dict[str, Any] | None = None, **fields: Any) -> bytes:
    with FakeServer(fault=fault, **fields) as server:
        return exchange(server, request_bytes(body))


def test_every_fault_is_known() -> None:
    assert set(FAULTS) == {
        "close_mid_head",
        "close_mid_body",
        "close_mid_chunk",
        "stall",
        "garbage",
        "bad_chunk_size",
        "oversized_head",
        "slow_drip",
    }
    with pytest.raises(ValueError):
        Scenario(fault="nope")


def test_fault_close_mid_head(server: FakeServer) -> None:
    whole = exchange(server, request_bytes())
    cut = faulty("close_mid_head")
    assert whole.startswith(cut) and b"\r\n\r\n" not in cut and len(cut) > 20


def test_fault_close_mid_body() -> None:
    _, _, rest = split_head(faulty("close_mid_body"))
    size_line, _, data = rest.partition(b"\r\n")
    assert len(data) == int(size_line, 16) + 2 and data.endswith(b"\r\n")  # one whole frame, then nothing
    _, fields, rest = split_head(faulty("close_mid_body", framing="length"))
    assert len(rest) == int(dict(fields)["content-length"]) // 2


def test_fault_close_mid_chunk() -> None:
    _, _, rest = split_head(faulty("close_mid_chunk"))
    size_line, _, data = rest.partition(b"\r\n")
    assert 0 < len(data) == int(size_line, 16) // 2


def test_fault_stall_and_stop_cuts_it_short() -> None:
    server = FakeServer(fault="stall", stall_seconds=30).start()
    try:
        with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
            sock.sendall(request_bytes())
            received = recv_until(sock, lambda got: b"\r\n\r\n" in got)
            assert received.endswith(b"\r\n\r\n")  # the head, and nothing after it
            sock.settimeout(0.2)
            with pytest.raises(socket.timeout):
                sock.recv(65536)
            started = time.monotonic()
            server.stop()
            assert time.monotonic() - started < 1.5
            sock.settimeout(TIMEOUT)
            assert read_to_eof(sock) == b""  # stop() closed the stalled connection
    finally:
        server.stop()


def test_fault_stall_then_the_rest(server: FakeServer) -> None:
    assert faulty("stall", stall_seconds=0.05) == exchange(server, request_bytes())


def test_fault_garbage() -> None:
    data = faulty("garbage")
    assert data.startswith(b"SSH-2.0-") and not data.startswith(b"HTTP/")


def test_fault_bad_chunk_size() -> None:
    for framing in ("chunked", "length"):
        _, fields, rest = split_head(faulty("bad_chunk_size", framing=framing))
        assert dict(fields)["transfer-encoding"] == "chunked"
        assert rest.startswith(b"zz\r\n{")


def test_fault_oversized_head() -> None:
    with FakeServer(fault="oversized_head") as server:
        raw = exchange(server, request_bytes())
        conn = http.client.HTTPConnection(server.host, server.port, timeout=TIMEOUT)
        conn.request("POST", "/v1/chat/completions", json.dumps(CHAT), {"Authorization": f"Bearer {KEY}"})
        response = conn.getresponse()  # well-formed, only big: http.client still reads it
        assert json.loads(response.read())["object"] == "chat.completion"
        conn.close()
    head = raw.partition(b"\r\n\r\n")[0]
    assert len(head) > 70 * 1024
    assert max(len(line) for line in head.split(b"\r\n")) < 4096


def test_fault_slow_drip(server: FakeServer) -> None:
    assert faulty("slow_drip", drip_delay=0.0) == exchange(server, request_bytes())
    scenario = Scenario(fault="slow_drip", drip_delay=0.01)
    steps = plan(answer("GET", "/v1/models", [("Authorization", "Bearer x")], b"", scenario), scenario)
    writes = [s for s in steps if isinstance(s, bytes)]
    assert all(len(w) == 1 for w in writes)
    assert sum(1 for s in steps if isinstance(s, Wait) and s.reason == "drip") == len(writes) - 1


def test_faults_that_close_end_the_plan_with_close() -> None:
    for fault in ("close_mid_head", "close_mid_body", "close_mid_chunk", "garbage", "bad_chunk_size"):
        scenario = Scenario(fault=fault)
        steps = plan(answer("GET", "/v1/models", [("Authorization", "Bearer x")], b"", scenario), scenario)
        assert isinstance(steps[-1], Close), fault


# ---------------------------------------------------------------- connections and the request log


def test_keep_alive_two_requests_on_one_connection(server: FakeServer) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=TIMEOUT)
    conn.request("POST", "/v1/chat/completions", json.dumps(CHAT), {"Authorization": f"Bearer {KEY}"})
    first = conn.getresponse()
    assert first.getheader("connection") == "keep-alive"
    first.read()
    sock = conn.sock
    conn.request("POST", "/v1/chat/completions", json.dumps(STREAM), {"Authorization": f"Bearer {KEY}"})
    second = conn.getresponse()
    assert data_events(second.read())[-1] == "[DONE]"
    assert conn.sock is sock  # http.client did not reconnect
    conn.close()
    assert len(server.requests) == 2


def test_keep_alive_on_a_raw_socket_with_length_framing() -> None:
    with FakeServer(framing="length") as server:
        with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
            for _ in range(2):
                sock.sendall(request_bytes(close=False))
                received = recv_until(sock, lambda got: b"\r\n\r\n" in got)
                _, fields, rest = split_head(received)
                length = int(dict(fields)["content-length"])
                if len(rest) < length:
                    rest += recv_until(sock, lambda got: len(rest) + len(got) >= length)  # noqa: B023
                assert json.loads(rest)["object"] == "chat.completion"


def test_requests_log(server: FakeServer) -> None:
    exchange(server, request_bytes())
    exchange(server, request_bytes(method="GET", path="/v1/models"))
    first, second = server.requests
    assert (first.method, first.path, first.http_version) == ("POST", "/v1/chat/completions", "HTTP/1.1")
    assert first.headers[0] == ("Host", "127.0.0.1")
    assert [n for n, _ in first.headers] == ["Host", "Content-Type", "Content-Length", "Authorization", "Connection"]
    assert first.header("authorization") == f"Bearer {KEY}"
    assert first.body == json.dumps(CHAT).encode() and first.json == CHAT
    assert (second.method, second.body, second.json) == ("GET", b"", None)


def test_stop_is_bounded_with_a_gate_never_set() -> None:
    server = FakeServer(gate=threading.Event(), gate_timeout=30).start()
    sock = socket.create_connection((server.host, server.port), timeout=TIMEOUT)
    try:
        sock.sendall(request_bytes(STREAM))
        recv_until(sock, lambda got: b'"delta":{"content":' in got)
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 1.5
        assert b"[DONE]" not in read_to_eof(sock)
    finally:
        sock.close()
        server.stop()


def test_construction_rules() -> None:
    server = FakeServer(framing="length")
    assert server.scenarios == [Scenario(framing="length")]
    with pytest.raises(RuntimeError):
        server.base_url  # noqa: B018 - the port is unknown before start()
    with pytest.raises(TypeError):
        FakeServer(Scenario(), framing="length")
    with pytest.raises(ValueError):
        Scenario(framing="gzip")
    with pytest.raises(ValueError):
        Scenario(write_size=0)
    with FakeServer() as plain:
        assert plain.base_url == f"http://127.0.0.1:{plain.port}/v1"
        assert plain.ca_file is None and not plain.tls
        assert plain.running
    assert not plain.running


def test_stop_is_bounded_with_an_idle_tls_connection() -> None:
    server = FakeServer(tls=True).start()
    context = ssl.create_default_context(cafile=DEMO_CA_FILE)
    conn = http.client.HTTPSConnection("localhost", server.port, context=context, timeout=TIMEOUT)
    try:
        conn.request("GET", "/v1/models", headers={"Authorization": f"Bearer {KEY}"})
        conn.getresponse().read()  # the connection stays open, its server thread waits for a request
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 1.5
    finally:
        conn.close()
        server.stop()


def test_http_1_0_gets_content_length(server: FakeServer) -> None:
    data = request_bytes().replace(b" HTTP/1.1\r\n", b" HTTP/1.0\r\n", 1)
    status_line, fields, rest = split_head(exchange(server, data))
    assert status_line == "HTTP/1.1 200 OK"
    assert int(dict(fields)["content-length"]) == len(rest)
