"""The wire command: demo, chat against a fake server, views, raw bytes, stepping through a pty."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wire.cli import DEMO_API_KEY, main
from wire.fake import FakeServer

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyzQRST"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No .env from the developer's checkout, no colour, no proxies."""
    monkeypatch.chdir(tmp_path)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY",
                 "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


def test_demo_shows_every_layer_in_wire_order(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    titles = ["1. settings", "2. payload (JSON)", "3. request bytes", "4. connection: DNS, TCP, TLS",
              "5. response head", "6. body framing: chunked", "7. JSON body", "8. answer", "9. timings"]
    positions = [out.index(t) for t in titles]
    assert positions == sorted(positions)
    assert "> POST /v1/chat/completions HTTP/1.1\\r\\n" in out
    assert "< HTTP/1.1 200 OK\\r\\n" in out
    assert "ALPN     http/1.1" in out and "SNI      localhost" in out
    assert "frame 0: size line 0x" in out and "the last chunk (size 0)" in out
    assert "usage    " in out and " tokens" in out
    assert DEMO_API_KEY not in out and "Bearer sk-…ABCD" in out
    assert "\x1b[" not in out  # NO_COLOR


def test_demo_stream_prints_the_answer_then_frames_events_and_chunks(env: None,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--stream"]) == 0
    out = capsys.readouterr().out
    assert out.index("answer, as it arrives:") < out.index("server-sent events") < out.index("completion chunks")
    assert "< data: [DONE]\\n" in out and "finish_reason=stop" in out and "usage={" in out


def test_show_picks_layers_and_rejects_unknown_ones(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--show", "request,tls"]) == 0
    out = capsys.readouterr().out
    assert "request bytes" in out and "connection: DNS, TCP, TLS" in out and "JSON body" not in out
    assert main(["demo", "--show", "nonsense"]) == 2
    assert "unknown layer(s) nonsense" in capsys.readouterr().err


def test_the_sse_view_is_named_sse_and_events_still_works(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--stream", "--show", "sse"]) == 0
    out = capsys.readouterr().out
    assert "1. server-sent events" in out and "2. completion chunks" in out and "3." not in out
    assert main(["demo", "--stream", "--show", "events"]) == 0  # the view's old name, kept as an alias
    assert "1. server-sent events" in capsys.readouterr().out


def test_chat_raw_is_the_exact_bytes_with_the_key_redacted(env: None, monkeypatch: pytest.MonkeyPatch,
                                                           capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    with FakeServer() as server:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        assert main(["chat", "--raw", "Hi"]) == 0
        raw = capsysbinary.readouterr().out
        assert main(["chat", "--raw", "--show-secrets", "Hi"]) == 0
        secret_raw = capsysbinary.readouterr().out
    assert raw.startswith(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"Authorization: Bearer sk-\xe2\x80\xa6QRST\r\n" in raw and KEY.encode() not in raw
    assert b"\r\n\r\nHTTP/1.1 200 OK\r\n" not in raw  # the body sits between the two heads
    assert b"HTTP/1.1 200 OK\r\n" in raw and raw.endswith(b"0\r\n\r\n")
    assert secret_raw.replace(KEY.encode(), "sk-…QRST".encode()) == raw


def test_api_error_prints_error_line_and_layers(env: None, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    with FakeServer(status=401) as server:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        assert main(["chat", "--base-url", server.base_url, "--max-retries", "0", "Hi"]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("Error 401: Incorrect API key provided: sk-…QRST")
    assert "< HTTP/1.1 401 Unauthorized\\r\\n" in captured.out
    assert KEY not in captured.out + captured.err


def test_missing_key_is_a_config_error_exit_2(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "Hi"]) == 2
    assert "OPENAI_API_KEY" in capsys.readouterr().err


def test_dry_run_and_curl_do_not_connect(env: None, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # discard port: a connect would fail
    assert main(["chat", "--dry-run", "Hi"]) == 0
    out = capsys.readouterr().out
    assert "> Host: 127.0.0.1:9\\r\\n" in out and "dry run: nothing was sent" in out and KEY not in out
    assert main(["chat", "--curl", "Hi"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("curl -sS --http1.1 \\\n  http://127.0.0.1:9/v1/chat/completions \\\n")
    assert '-H "Authorization: Bearer $OPENAI_API_KEY"' in out and KEY not in out
    assert """--data-raw '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}'""" in out


def test_har_file_has_every_attempt_and_no_key(env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from wire.fake import Scenario

    har = tmp_path / "call.har"
    with FakeServer([Scenario(status=429, retry_after="0.01"), Scenario()]) as server:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        assert main(["chat", "--base-url", server.base_url, "--har", str(har), "Hi"]) == 0
    text = har.read_text()
    doc = json.loads(text)
    assert [e["response"]["status"] for e in doc["log"]["entries"]] == [429, 200]
    assert KEY not in text and "HAR written to" in capsys.readouterr().out


def test_trace_prints_each_step_to_stderr(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--trace", "--show", "answer"]) == 0
    err = capsys.readouterr().err
    names = [line.split()[2] for line in err.splitlines()]
    assert names[:4] == ["payload.build.complete", "request.build.complete", "attempt.started",
                         "connection.open.started"]
    assert "http11.status_line.complete" in names and names[-1] == "attempt.complete"


def test_step_without_a_terminal_prints_steps_and_does_not_wait(env: None,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--step", "--show", "answer"]) == 0
    out = capsys.readouterr().out
    assert "[step 1] the request bytes are built" in out and "Enter to go on" not in out
    assert "[step 9] the answer is assembled" in out


def test_step_and_trace_redact_a_key_the_server_echoes(env: None, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """--step and --trace print what the server sent (a field, the answer): the key in it is redacted."""
    echo = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": KEY}, "finish_reason": "stop"}]}
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeServer(reply_json=echo) as server:
        args = ["chat", "--base-url", server.base_url, "--step", "--trace", "--show", "answer", "Hi"]
        assert main(args) == 0
        hidden = capsys.readouterr()
        assert main([*args, "--show-secrets"]) == 0
        shown = capsys.readouterr()
    step = "[step 9] the answer is assembled  (text="
    assert f"{step}'sk-…QRST'" in hidden.out and KEY not in hidden.out
    assert "chat.completion.complete  text='sk-…QRST'" in hidden.err and KEY not in hidden.err
    # --show-secrets shows the key in the views of the bytes and the answer; trace facts are
    # recorded redacted (a trace may be kept or handed to a callback), so they stay redacted.
    assert f"\n  {KEY}\n" in shown.out and f"{step}'sk-…QRST'" in shown.out and KEY not in shown.err


def _read_until(fd: int, marker: bytes, deadline: float, *, until_eof: bool = False) -> bytes:
    """Read fd until marker has arrived (until_eof: until the writer closes), bounded by deadline."""
    seen = b""
    while until_eof or marker not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out waiting for {'the end' if until_eof else marker!r}; got {seen[-300:]!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                piece = os.read(fd, 4096)
            except OSError:
                break
            if not piece:
                break
            seen += piece
    return seen


def test_step_through_a_pty_waits_for_enter_and_stops_on_q(tmp_path: Path) -> None:
    """Drive `wire demo --step` as a person would: Enter twice, then q."""
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    env["NO_COLOR"] = "1"
    controller, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "wire", "demo", "--step"], stdin=terminal, stdout=terminal,
                            stderr=terminal, cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)}, close_fds=True)
    os.close(terminal)
    deadline = time.monotonic() + 30
    try:
        first = _read_until(controller, b"q to stop: ", deadline)
        assert b"[step 1] the request bytes are built" in first and b"[step 2]" not in first
        os.write(controller, b"\n")
        second = _read_until(controller, b"q to stop: ", deadline)
        assert b"[step 2] the connection is open" in second
        os.write(controller, b"\n")
        third = _read_until(controller, b"q to stop: ", deadline)
        assert b"[step 3] the whole request is sent" in third
        os.write(controller, b"q\n")
        rest = _read_until(controller, b"stopped", deadline)
        assert b"stopped: the connection is closed" in rest and b"[step 4]" not in rest
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(controller)


def _serve(*args: str, stdout: int = subprocess.PIPE) -> subprocess.Popen[bytes]:
    """Start `wire serve` as a user would, in its own process."""
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    return subprocess.Popen([sys.executable, "-m", "wire", "serve", *args], stdout=stdout, stderr=subprocess.PIPE,
                            env={**env, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"})


def _stopped_cleanly(proc: subprocess.Popen[bytes], out: bytes) -> None:
    """The process ended on its own, said "stopped" last and exited 0 (130 is the CLI's "interrupted")."""
    assert proc.stderr is not None
    err = proc.stderr.read()
    assert proc.returncode == 0, err.decode(errors="replace")
    assert out.endswith(b"\nstopped\n") and err == b"", (out[-300:], err)


def _listening_url(proc: subprocess.Popen[bytes], deadline: float) -> tuple[str, bytes]:
    assert proc.stdout is not None
    first = _read_until(proc.stdout.fileno(), b"\n", deadline)
    assert first.startswith(b"wire fake server at http://127.0.0.1:"), first
    return first.split()[4].decode(), first


def _finish(proc: subprocess.Popen[bytes], seen: bytes, deadline: float) -> bytes:
    """Everything the process writes until it exits (bounded by deadline)."""
    assert proc.stdout is not None
    seen += _read_until(proc.stdout.fileno(), b"\x00never", deadline, until_eof=True)
    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    return seen


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=10)


def test_serve_runs_until_interrupted_and_answers_other_clients() -> None:
    """Ctrl-C while idle, with a kept-alive client connection open."""
    from wire.client import Client

    proc = _serve("--port", "0", "--framing", "length")
    deadline = time.monotonic() + 30
    try:
        base_url, seen = _listening_url(proc, deadline)
        with Client(base_url=base_url, api_key=KEY, timeout=5) as client:
            exchange = client.chat("Hi")
            assert exchange.response is not None and exchange.response.content_length is not None
            proc.send_signal(signal.SIGINT)
            _stopped_cleanly(proc, _finish(proc, seen, deadline))
    finally:
        _kill(proc)


def test_serve_stops_cleanly_when_interrupted_during_a_reply() -> None:
    """Ctrl-C while the server is in the middle of a reply (the head sent, the body stalled for 5 s)."""
    proc = _serve("--port", "0", "--fault", "stall")
    deadline = time.monotonic() + 30
    try:
        base_url, seen = _listening_url(proc, deadline)
        port = int(base_url.split(":")[2].split("/")[0])
        body = b'{"model":"m","messages":[{"role":"user","content":"Hi"}]}'
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-anything\r\n"
                         b"Content-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            head = _recv_until(sock, b"\r\n\r\n", deadline)
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
            proc.send_signal(signal.SIGINT)
            rest = _recv_until(sock, None, deadline)  # the server closes the connection without the body
        assert head.endswith(b"\r\n\r\n") and rest == b""
        _stopped_cleanly(proc, _finish(proc, seen, deadline))
    finally:
        _kill(proc)


def test_serve_stops_cleanly_when_interrupted_while_starting() -> None:
    """Ctrl-C before `wire serve` has printed where it listens.

    Its stdout is a pipe that is already full, so the server listens but is
    stuck printing its first line when the signal comes; the line goes out
    once the pipe is read, then "stopped".
    """
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # a free port (the server reuses it at once: SO_REUSEADDR)
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    filler = 0
    try:
        while True:
            filler += os.write(write_end, b"." * 65536)
    except BlockingIOError:
        pass
    os.set_blocking(write_end, True)  # the file description is shared: the server's writes must block
    proc = _serve("--port", str(port), stdout=write_end)
    os.close(write_end)
    deadline = time.monotonic() + 30
    try:
        while True:  # wait until it listens (each refused connect fails at once)
            assert time.monotonic() < deadline and proc.poll() is None, "wire serve did not start listening"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
                break
            except ConnectionRefusedError:
                time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        out = _read_until(read_end, b"\x00never", deadline, until_eof=True)
        proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        assert out[:filler] == b"." * filler
        assert out[filler:].startswith(b"wire fake server at http://127.0.0.1:%d/v1" % port)
        _stopped_cleanly(proc, out)
    finally:
        os.close(read_end)
        _kill(proc)


def _recv_until(sock: socket.socket, marker: bytes | None, deadline: float) -> bytes:
    """Receive until marker has arrived (None: until the peer closes), bounded by deadline."""
    seen = b""
    while marker is None or marker not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out waiting for {marker!r}; got {seen[-300:]!r}"
        sock.settimeout(left)
        piece = sock.recv(65536)
        if not piece:
            break
        seen += piece
    return seen


def test_serve_rejects_an_unknown_fault(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "0", "--fault", "nonsense"]) == 2
    assert "nonsense" in capsys.readouterr().err


def test_annotated_view_covers_every_reply_byte(env: None, monkeypatch: pytest.MonkeyPatch,
                                                capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeServer() as server:  # the same request twice gets the same reply, byte for byte
        assert main(["chat", "--base-url", server.base_url, "--show", "annotated", "Hi"]) == 0
        out = capsysbinary.readouterr().out.decode()
        assert main(["chat", "--base-url", server.base_url, "--raw", "Hi"]) == 0
        raw = capsysbinary.readouterr().out
    reply = raw[raw.index(b"HTTP/1.1 200 OK\r\n"):]
    rows = [line.split() for line in out.splitlines() if line.startswith("  ") and "-" in line]
    spans = [tuple(map(int, row[0].split("-"))) for row in rows if row[0][0].isdigit()]
    assert spans[0][0] == 0
    assert all(a[1] + 1 == b[0] for a, b in zip(spans, spans[1:], strict=False))  # contiguous: no byte unexplained
    assert spans[-1][1] == len(reply) - 1, (spans[-1], len(reply))  # and up to the reply's last byte
    labels = " ".join(" ".join(row[1:4]) for row in rows)
    for part in ("status line", "field", "end of head", "chunk size", "chunk data", "last chunk", "end of body"):
        assert part in labels


def test_retries_are_shown_attempt_by_attempt(env: None, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from wire.fake import Scenario

    with FakeServer([Scenario(status=429, retry_after="0.01"), Scenario(status=503, retry_after="0.01"),
                     Scenario()]) as server:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        assert main(["chat", "--base-url", server.base_url, "--show", "answer", "Hi"]) == 0
    out = capsys.readouterr().out
    first, second, third = (out.index(f"attempt {n}") for n in (1, 2, 3))
    assert first < second < third
    assert "attempt 1  429 Too Many Requests" in out and "attempt 2  503 Service Unavailable" in out
    assert "attempt 3  200 OK" in out and out.count("then waited 0.01 s") == 2


def test_capture_says_what_the_exchange_keeps(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--stream", "--capture", "off", "--show", "answer"]) == 0
    out = capsys.readouterr().out
    assert "server-sent events were not kept: none was" in out and "(capture='off';" in out
    assert main(["demo", "--stream", "--capture", "full", "--show", "answer"]) == 0
    assert "not kept" not in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main(["demo", "--capture", "some"])
    assert info.value.code == 2 and "invalid choice: 'some'" in capsys.readouterr().err
