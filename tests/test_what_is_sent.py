"""What a dry run, --curl and the Python API show is what a call sends, byte for byte (issue 12).

- ``--dry-run`` prints the bytes the call sends (a streamed call asks for usage in both);
- ``client.stream()`` asks for usage by default, as the CLI does;
- ``--curl`` reads the key from ``"$OPENAI_API_KEY"``, adds ``-N`` for a stream, and after
  ``wire demo`` says that the demo's server is gone;
- an early reply (a 413 while the body is still going out) is read and reported, never resent.
"""

from __future__ import annotations

import re
import shlex
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from wire.cli import DEMO_API_KEY, main
from wire.client import Client
from wire.errors import APIError, NetworkError
from wire.fake import DEMO_CA_FILE, DEMO_CERT_FILE, DEMO_KEY_FILE, FakeServer
from wire.fake.server import ReceivedRequest
from wire.version import __version__

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyzQRST"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No .env from the developer's checkout, no colour, no proxies."""
    monkeypatch.chdir(tmp_path)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY",
                 "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


def as_sent(request: ReceivedRequest) -> bytes:
    """The request the fake server read, written back as bytes (wire sends no optional whitespace)."""
    head = f"{request.method} {request.path} {request.http_version}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in request.headers)
    return head.encode("latin-1") + b"\r\n" + request.body


# --- 1. the dry run shows the bytes the call sends --------------------------------------------------


@pytest.mark.parametrize("stream", [True, False])
def test_dry_run_bytes_are_the_bytes_the_server_receives(
    env: None, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes], stream: bool
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    flags = ["--stream"] if stream else []
    with FakeServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        assert main(["chat", "--dry-run", "--raw", "--show-secrets", *flags, "Hi"]) == 0
        dry_run = capsysbinary.readouterr().out
        assert server.requests == []  # the dry run sent nothing
        assert main(["chat", "--raw", *flags, "Hi"]) == 0
        capsysbinary.readouterr()
        [received] = server.requests
    assert dry_run == as_sent(received)
    if stream:
        assert received.json is not None and received.json["stream_options"] == {"include_usage": True}
        assert dry_run.endswith(b'"stream_options":{"include_usage":true},"stream":true}')


def test_prepare_is_what_stream_sends() -> None:
    with FakeServer() as server, Client(base_url=server.base_url, api_key=KEY, timeout=5) as client:
        prepared = client.prepare("Hi", stream=True, temperature=0)
        stream = client.stream("Hi", temperature=0)
        stream.read()
        [received] = server.requests
    assert prepared.request_bytes == stream.exchange.request_bytes == as_sent(received)


def test_curl_sends_the_same_body(env: None, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # discard port: a connect would fail
    assert main(["chat", "--curl", "--stream", "Hi"]) == 0
    words = shlex.split(capsys.readouterr().out)
    body = words[words.index("--data-raw") + 1].encode("utf-8")
    assert body == Client(api_key=KEY, base_url="http://127.0.0.1:9/v1").prepare("Hi", stream=True).request.body
    assert body == b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],' \
                   b'"stream_options":{"include_usage":true},"stream":true}'


# --- 2. client.stream() asks for usage, as the CLI does ---------------------------------------------


def test_stream_from_python_has_usage() -> None:
    with FakeServer() as server, Client(base_url=server.base_url, api_key=KEY, timeout=5) as client:
        stream = client.stream("Hi")
        text = stream.read()
        [received] = server.requests
    assert received.json is not None and received.json["stream_options"] == {"include_usage": True}
    completion = stream.exchange.completion
    assert completion is not None and completion.text == text
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens is not None and usage.completion_tokens is not None
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens > 0


@pytest.mark.parametrize(("given", "sent"), [
    ({"stream_options": None}, None),  # None: send no stream_options at all
    ({"stream_options": {"include_usage": False}}, {"include_usage": False}),  # the caller's own, as given
])
def test_stream_options_the_caller_chose_win(given: dict[str, Any], sent: object) -> None:
    with FakeServer() as server, Client(base_url=server.base_url, api_key=KEY, timeout=5) as client:
        stream = client.stream("Hi", **given)
        stream.read()
        [received] = server.requests
    assert received.json is not None and received.json.get("stream_options", "absent") == (sent or "absent")
    assert stream.exchange.completion is not None and stream.exchange.completion.usage is None


def test_chat_with_stream_true_asks_for_usage_too() -> None:
    with FakeServer() as server, Client(base_url=server.base_url, api_key=KEY, timeout=5) as client:
        exchange = client.chat("Hi", stream=True)
    assert exchange.completion is not None and exchange.completion.usage is not None


def test_the_readme_python_example_prints_usage(env: None, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## From Python"):]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None and "print(stream.exchange.completion.usage)" in code.group(1)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        exec(compile(code.group(1), "README.md", "exec"), {})
    out = capsys.readouterr().out
    last_line = out.rstrip("\n").splitlines()[-1]
    assert re.fullmatch(r"Usage\(prompt_tokens=\d+, completion_tokens=\d+, total_tokens=\d+, .*\)", last_line)


# --- 3. --curl: the key from the environment, -N for a stream, the demo's server gone ----------------


def test_curl_reads_the_key_from_the_environment(env: None, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert main(["chat", "--curl", "Hi"]) == 0
    out = capsys.readouterr().out
    assert out == (
        "curl -sS --http1.1 \\\n"
        "  http://127.0.0.1:9/v1/chat/completions \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        "  -H 'Accept: application/json' \\\n"
        f"  -H 'User-Agent: wire/{__version__}' \\\n"
        '  -H "Authorization: Bearer $OPENAI_API_KEY" \\\n'
        """  --data-raw '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}'\n"""
    )
    # A shell expands the variable inside the double quotes: curl gets the real header.
    header = next(line for line in out.splitlines() if "Authorization" in line).strip().removesuffix(" \\")
    printed = subprocess.run(["sh", "-c", f"printf '%s' {header}"], env={"OPENAI_API_KEY": KEY},
                             capture_output=True, text=True, timeout=10, check=True).stdout
    assert printed == f"-HAuthorization: Bearer {KEY}"


def test_curl_with_show_secrets_writes_the_key(env: None, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert main(["chat", "--curl", "--show-secrets", "Hi"]) == 0
    assert f"  -H 'Authorization: Bearer {KEY}' \\\n" in capsys.readouterr().out


def test_curl_for_a_stream_has_no_buffer_flag(env: None, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert main(["chat", "--curl", "--stream", "Hi"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("curl -sS --http1.1 -N \\\n  http://127.0.0.1:9/v1/chat/completions \\\n")
    assert "  -H 'Accept: text/event-stream' \\\n" in out


def test_demo_curl_says_the_server_is_gone(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--curl"]) == 0
    out = capsys.readouterr().out
    port = re.search(r"https://localhost:(\d+)/v1/chat/completions", out)
    assert port is not None
    base_url = f"https://localhost:{port.group(1)}/v1"
    assert out == (
        "curl -sS --http1.1 \\\n"
        f"  {base_url}/chat/completions \\\n"
        f"  --cacert {DEMO_CA_FILE} \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        "  -H 'Accept: application/json' \\\n"
        f"  -H 'User-Agent: wire/{__version__}' \\\n"
        '  -H "Authorization: Bearer $OPENAI_API_KEY" \\\n'
        """  --data-raw '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Tell me a fun fact about HTTP."}]}'\n"""
        f"# the demo's fake server at {base_url} stopped when wire demo ended: nothing answers there now.\n"
        "# For a server that stays up, run `wire serve --tls` and put its URL in the command.\n"
    )
    assert DEMO_API_KEY not in out


# --- 4. an early reply: the server answers the head and closes while the body is still going out ---


EARLY_413_BODY = (
    b'{"error":{"message":"Request too large: the body is over 1 MiB","type":"invalid_request_error",'
    b'"param":null,"code":"request_too_large"}}'
)
EARLY_413 = (
    b"HTTP/1.1 413 Content Too Large\r\ncontent-type: application/json\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%s" % (len(EARLY_413_BODY), EARLY_413_BODY)
)
# Far more than the kernel buffers between the two ends can hold (the client's send buffer grows to
# 4 MiB at most, net.ipv4.tcp_wmem; the server's receive buffer is fixed small below), so the send
# cannot complete before the server closes.
BIG_PROMPT = "x" * (16 * 1024 * 1024)
SERVER_TIMEOUT = 5.0


class EarlyReplyServer:
    """One connection: read the request head only, send ``reply`` (maybe none), then close.

    The body is left unread, so the close sends a reset (RST) and the client's send fails
    (EPIPE or ECONNRESET). With ``half_close`` the server first ends its side with a FIN after
    the reply (shutdown(SHUT_WR)), as a server that answers early and stops reading does.
    RFC 9112 §9.6 warns that such a reset "might erase the client's unacknowledged input
    buffers"; Linux keeps the bytes that arrived before it readable, so the reply is there to read.
    """

    def __init__(self, reply: bytes, *, half_close: bool, tls: bool = False) -> None:
        self.reply = reply
        self.half_close = half_close
        self.context: ssl.SSLContext | None = None
        if tls:
            self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.context.load_cert_chain(DEMO_CERT_FILE, DEMO_KEY_FILE)
        self.connections = 0
        self.head = b""
        self._sock = socket.create_server(("127.0.0.1", 0))
        # A small, fixed receive buffer (inherited by the accepted socket; no autotuning).
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        self._sock.settimeout(SERVER_TIMEOUT)
        port = self._sock.getsockname()[1]
        self.base_url = f"https://localhost:{port}/v1" if tls else f"http://127.0.0.1:{port}/v1"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> EarlyReplyServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._thread.join(SERVER_TIMEOUT)
        assert not self._thread.is_alive()
        # The client is done: a connection it opened again (a resent request) is complete in the
        # listen backlog, whether or not anyone accepted it. Count those too, without waiting.
        self._sock.setblocking(False)
        while True:
            try:
                extra, _ = self._sock.accept()
            except BlockingIOError:
                break
            extra.close()
            self.connections += 1
        self._sock.close()

    def _serve(self) -> None:
        try:
            conn, _ = self._sock.accept()
        except OSError:
            return
        self.connections += 1
        deadline = time.monotonic() + SERVER_TIMEOUT
        conn.settimeout(SERVER_TIMEOUT)
        if self.context is not None:
            conn = self.context.wrap_socket(conn, server_side=True)
        with conn:
            while b"\r\n\r\n" not in self.head and time.monotonic() < deadline:
                piece = conn.recv(4096)
                if not piece:
                    break
                self.head += piece
            if self.reply:
                conn.sendall(self.reply)
            if self.half_close:
                conn.shutdown(socket.SHUT_WR)


@pytest.mark.parametrize(("half_close", "tls"), [(True, False), (False, False), (True, True)],
                         ids=["fin-then-reset", "reset", "tls"])
def test_an_early_413_is_read_and_reported_not_a_broken_pipe(half_close: bool, tls: bool) -> None:
    with EarlyReplyServer(EARLY_413, half_close=half_close, tls=tls) as server:
        client = Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=2,
                        ca_file=DEMO_CA_FILE if tls else None)
        with pytest.raises(APIError) as caught:
            client.chat(BIG_PROMPT)
        client.close()
    error = caught.value
    assert error.status == 413
    assert error.message == "Request too large: the body is over 1 MiB"
    assert error.code == "request_too_large" and error.type == "invalid_request_error"
    exchange = error.exchange
    assert exchange is not None and exchange.response is not None
    assert exchange.response.body == EARLY_413_BODY
    [attempt] = exchange.attempts  # one attempt: a 413 is final, and the request is never resent
    assert server.connections == 1
    total = len(exchange.request_bytes)
    assert attempt.sent_before_close is not None and attempt.sent_before_close < total
    if not tls:  # a plain send reports every byte the kernel took; a TLS write only whole writes
        assert attempt.sent_before_close > 0
    sent = b"".join(r.data for r in attempt.records if r.direction == "out")
    assert sent == exchange.request_bytes[: attempt.sent_before_close]  # the records say how much went out
    assert attempt.response_bytes == EARLY_413
    assert server.head == exchange.request_bytes[: len(server.head)]
    assert (exchange.tls is not None) == tls
    names = [(e.name, e.step) for e in exchange.trace]
    assert ("http11.send_body", "failed") in names and ("http11.early_reply", "complete") in names


@pytest.mark.parametrize("half_close", [True, False], ids=["fin-then-reset", "reset"])
def test_no_early_reply_keeps_the_network_error_and_says_why(half_close: bool) -> None:
    with EarlyReplyServer(b"", half_close=half_close) as server:
        client = Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=2)
        started = time.monotonic()
        with pytest.raises(NetworkError) as caught:
            client.chat(BIG_PROMPT)
        elapsed = time.monotonic() - started
        client.close()
    error = caught.value
    assert type(error) is NetworkError and error.phase == "send"
    assert "the server may have answered early" in str(error)
    assert "wire does not send the request again" in str(error)
    assert server.connections == 1  # max_retries=2, yet the request went out once
    assert error.exchange is not None and len(error.exchange.attempts) == 1
    assert error.exchange.attempts[0].sent_before_close is not None
    assert elapsed < 30  # bounded by the client's timeouts, never a hang


def test_a_connection_cut_short_is_not_kept_even_if_the_reply_allows_it() -> None:
    """RFC 9112 §9.5: after an early reply the client closes its side; the rest of the body was never sent."""
    keep_alive_413 = EARLY_413.replace(b"connection: close\r\n", b"")
    with EarlyReplyServer(keep_alive_413, half_close=True) as server:
        client = Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=0)
        with pytest.raises(APIError) as caught:
            client.chat(BIG_PROMPT)
        assert caught.value.exchange.response.keep_alive  # the reply alone would let the connection be kept
        assert client._conn is None  # but a request cut short leaves nothing to reuse
        client.close()


def test_the_cli_prints_the_early_reply_and_troubleshooting_quotes_it(
    env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    errors = []
    for reply in (EARLY_413, b""):
        with EarlyReplyServer(reply, half_close=True) as server:
            monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
            assert main(["chat", "--show", "attempts", BIG_PROMPT]) == 1
        out, err = capsys.readouterr()
        assert re.search(r"\n    the server closed the connection after \d+ of \d+ request bytes had gone out: "
                         r"the rest was never sent\n", out), out
        errors.append(err)
    assert errors[0] == "Error 413: Request too large: the body is over 1 MiB\n"
    # The port and the byte counts vary from run to run; the page shows one run's.
    shown = re.sub(r"port \d+", "port 8000", errors[1])
    shown = re.sub(r"\d+ of \d+ request bytes", "16384 of 16777522 request bytes", shown)
    for line in (errors[0], shown):
        assert f"\n{line}" in doc, line
