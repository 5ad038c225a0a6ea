"""Issue 14: a conversation from the command line (stdin, --system, --messages, -o, --payload) and `wire chat -i`.

Every test talks to a FakeServer on 127.0.0.1 and checks what the server received, byte for byte
where it matters. The interactive loop runs in-process (stdin replaced), through a pipe and
through a pseudo-terminal (bounded reads, every wait with a deadline).
"""

from __future__ import annotations

import io
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
from typing import Any

import pytest

from wire.cli import main
from wire.fake import FakeServer, ReceivedRequest, Scenario
from wire.fake.replies import prompt_tokens

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyzQRST"
ROOT = Path(__file__).resolve().parent.parent
# Bounds a whole terminal session (start-up, two turns, the end). Generous: it only ends a hung test. At 30 s
# it failed once, in a run with a dozen busy processes sharing the two cores (not explained further).
DEADLINE_SECONDS = 60


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A key, no .env from the checkout, no colour, no proxies; stdin a terminal unless a test pipes it."""
    monkeypatch.chdir(tmp_path)
    for name in ("OPENAI_BASE_URL", "OPENAI_MODEL", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy",
                 "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr(sys, "stdin", _Stdin(b"", tty=True))


class _Stdin(io.TextIOWrapper):
    """A stdin with bytes in it, a terminal or not."""

    def __init__(self, data: bytes, *, tty: bool) -> None:
        super().__init__(io.BytesIO(data), encoding="utf-8")
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def pipe_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin(data, tty=False))


def sent(server: FakeServer) -> list[dict[str, Any]]:
    """The JSON bodies the server received, in order."""
    return [r.json for r in server.requests if r.json is not None]


# -- the prompt from stdin ---------------------------------------------------------------


def test_dash_reads_the_prompt_from_stdin(env: None, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    pipe_stdin(monkeypatch, "Grüße aus Köln?\nZeile zwei\n".encode())
    with FakeServer() as server:
        assert main(["chat", "--base-url", server.base_url, "-"]) == 0
    assert sent(server)[0]["messages"] == [{"role": "user", "content": "Grüße aus Köln?\nZeile zwei"}]
    assert "- " not in json.dumps(sent(server))


def test_no_prompt_and_piped_stdin_reads_stdin(env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    big = "x" * 200_000  # past what a command line can carry (about 128 KiB per argument on Linux)
    pipe_stdin(monkeypatch, big.encode() + b"\n")
    with FakeServer() as server:
        assert main(["chat", "--base-url", server.base_url, "--show", "answer"]) == 0
    assert sent(server)[0]["messages"] == [{"role": "user", "content": big}]


def test_no_prompt_at_a_terminal_is_a_usage_error(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat"]) == 2
    assert "no prompt: give one" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("data", "args", "message"),
    [
        (b"", ["-"], "the prompt from stdin (-) is empty"),
        (b"", [], "no prompt: none was given and stdin was empty"),
        (b"caf\xe9\n", ["-"], "the prompt from stdin is not valid UTF-8: the byte 0xe9 at offset 3"),
    ],
)
def test_bad_stdin_prompts_are_usage_errors(env: None, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str], data: bytes, args: list[str],
                                            message: str) -> None:
    pipe_stdin(monkeypatch, data)
    with FakeServer() as server:
        assert main(["chat", "--base-url", server.base_url, *args]) == 2
    assert server.request_count == 0
    err = capsys.readouterr().err
    assert err.startswith(f"wire: {message}") and "Traceback" not in err


# -- --system, --messages, -o -------------------------------------------------------------


HISTORY = [
    {"role": "user", "content": "My name is Ada."},
    {"role": "assistant", "content": "Hello, Ada."},
]


def test_system_messages_and_options_make_the_exact_body(env: None, tmp_path: Path) -> None:
    history = tmp_path / "history.json"
    history.write_text(json.dumps(HISTORY), encoding="utf-8")
    with FakeServer() as server:
        argv = ["chat", "--base-url", server.base_url, "-s", "Be brief.", "--messages", str(history),
                "-o", "temperature", "0.2", "-o", "max_tokens", "50", "-o", "response_format", '{"type":"json_object"}',
                "-o", "user", "alice", "-o", "seed", "NaN", "What is my name?"]
        assert main(argv) == 0
    body = server.requests[0].body
    assert body == (
        b'{"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be brief."},'
        b'{"role":"user","content":"My name is Ada."},{"role":"assistant","content":"Hello, Ada."},'
        b'{"role":"user","content":"What is my name?"}],"temperature":0.2,"max_tokens":50,'
        b'"response_format":{"type":"json_object"},"user":"alice","seed":"NaN"}'
    )


def test_messages_alone_send_the_history_as_it_is(env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    pipe_stdin(monkeypatch, json.dumps(HISTORY + [{"role": "user", "content": "And?"}]).encode())
    with FakeServer() as server:
        assert main(["chat", "--base-url", server.base_url, "--messages", "-"]) == 0
    assert sent(server)[0]["messages"] == HISTORY + [{"role": "user", "content": "And?"}]


def test_streamed_options_keep_the_usage_request(env: None) -> None:
    with FakeServer() as server:
        assert main(["chat", "--base-url", server.base_url, "--stream", "-o", "temperature", "0", "Hi"]) == 0
    assert list(sent(server)[0]) == ["model", "messages", "temperature", "stream_options", "stream"]


@pytest.mark.parametrize(
    ("argv", "files", "message"),
    [
        (["-o", "model", "gpt-4o", "Hi"], {}, "-o model: the model field has an option of its own, --model"),
        (["-o", "stream", "true", "Hi"], {}, "-o stream: the stream field has an option of its own, --stream"),
        (["-o", "messages", "[]", "Hi"], {}, "-o messages: the messages field has an option of its own"),
        (["-o", "n", "1", "-o", "n", "2", "Hi"], {}, "-o n is given twice"),
        (["-o", "n", "[" * 100_000, "Hi"], {}, "-o n VALUE is nested too deeply to read as JSON"),
        (["--messages", "h.json", "Hi"], {"h.json": b"[" * 100_000}, "--messages h.json is nested too deeply"),
        (["--messages", "h.json", "Hi"], {"h.json": b"[NaN]"}, "--messages h.json is not JSON: NaN is not a JSON value"),
        (["--messages", "h.json", "Hi"], {"h.json": b"[" + b"9" * 5000 + b"]"},
         "--messages h.json is not JSON: Exceeds the limit (4300 digits) for integer string conversion: value has "
         "5000 digits; use sys.set_int_max_str_digits() to increase the limit\n"),
        (["--payload", "p.json"], {"p.json": b"[" * 100_000}, "--payload p.json is nested too deeply"),
        (["--messages", "h.json", "Hi"], {"h.json": b'[{"role": "user"'}, "--messages h.json is not JSON: Expecting"),
        (["--messages", "h.json", "Hi"], {"h.json": b'{"role": "user"}'}, "--messages h.json must be a JSON list"),
        (["--messages", "h.json", "Hi"], {"h.json": b'[{"content": "x"}]'},
         '--messages h.json: message 0 is not an object with a "role"'),
        (["--messages", "h.json", "Hi"], {"h.json": b'[{"role": "user", "content": "\xff"}]'},
         "--messages h.json is not valid UTF-8: the byte 0xff at offset 30"),
        (["--messages", "h.json", "Hi"], {"h.json": b'[{"role": "user", "content": "\\udc80"}]'},
         "the messages cannot be sent as UTF-8 JSON"),
        (["--messages", "missing.json", "Hi"], {}, "--messages missing.json: cannot read it (No such file"),
        (["-s", "A", "--messages", "h.json", "Hi"], {"h.json": b'[{"role": "system", "content": "B"}]'},
         "--system and a system message in --messages h.json: give one of them"),
        (["--payload", "p.json", "Hi"], {"p.json": b"{}"}, "it cannot be combined with a prompt"),
        (["--payload", "p.json", "-s", "x", "-o", "n", "1", "--model", "m"], {"p.json": b"{}"},
         "it cannot be combined with --system, -o, --model (put them in the file)"),
        (["--payload", "p.json"], {"p.json": b'{"model": "m",'}, "--payload p.json is not JSON: Expecting"),
        (["--payload", "p.json"], {"p.json": b"[1, 2]"}, "--payload p.json is not a JSON object ({...}) but a JSON array: a request body is one object"),
        (["--payload", "p.json"], {"p.json": b'{"temperature": NaN}'}, "--payload p.json is not JSON: NaN is not"),
        (["--payload", "p.json", "--stream"], {"p.json": b'{"model": "m", "messages": []}'},
         '--stream with --payload p.json: the body says how to answer; put "stream": true in it'),
        (["--payload", "-", "--messages", "-"], {}, "--messages and --payload cannot both read stdin"),
        (["-i", "--dry-run"], {}, "-i reads its turns from stdin"),
        (["-i", "--payload", "p.json", "--har", "x.har"], {"p.json": b"{}"}, "it cannot take --har, --payload"),
        (["-i", "-"], {}, "it cannot take - (the prompt from stdin)"),
    ],
)
def test_conflicting_or_bad_input_is_a_usage_error_and_nothing_is_sent(
    env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], files: dict[str, bytes],
    message: str,
) -> None:
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    with FakeServer() as server:
        assert main(["chat", "--base-url", server.base_url, *argv]) == 2
    assert server.request_count == 0
    err = capsys.readouterr().err
    assert err.startswith("wire: ") and message in err, err
    assert "Traceback" not in err and err.count("\n") == 1


# -- --payload ---------------------------------------------------------------------------


PAYLOAD = b'{\n  "model": "gpt-4o-mini",\n  "messages": [{"role": "user", "content": "Hi"}],\n  "n": 1\n}\n'


def test_payload_goes_out_byte_for_byte(env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.json").write_bytes(PAYLOAD)
    with FakeServer() as server:
        assert main(["chat", "--base-url", server.base_url, "--payload", "p.json", "--show", "payload,request"]) == 0
    assert server.requests[0].body == PAYLOAD
    assert server.requests[0].header("Content-Length") == str(len(PAYLOAD))
    out = capsys.readouterr().out
    assert '    "n": 1\n' in out  # the payload view reads the body
    assert "> " + '  "n": 1\\n' in out  # the request view shows the bytes as sent, newlines and all


def test_a_streamed_payload_is_read_as_a_stream(env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    body = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"stream":true}'
    pipe_stdin(monkeypatch, body)
    with FakeServer() as server:
        assert main(["chat", "--base-url", server.base_url, "--payload", "-", "--show", "sse"]) == 0
    assert server.requests[0].body == body and server.requests[0].header("Accept") == "text/event-stream"
    out = capsys.readouterr().out
    assert out.startswith("answer, as it arrives:\n") and "< data: [DONE]\\n" in out


# -- every view with the new options -------------------------------------------------------


def test_dry_run_curl_and_har_carry_the_whole_history(env: None, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "h.json").write_text(json.dumps(HISTORY), encoding="utf-8")
    common = ["-s", "Be brief.", "--messages", "h.json", "-o", "temperature", "0", "And?"]
    with FakeServer() as server:
        base = ["chat", "--base-url", server.base_url]
        assert main([*base, "--dry-run", "--show", "payload", *common]) == 0
        dry = capsys.readouterr().out
        assert main([*base, "--curl", *common]) == 0
        curl = capsys.readouterr().out
        assert main([*base, "--har", "c.har", "--show", "answer", *common]) == 0
        capsys.readouterr()
    assert server.request_count == 1  # the dry run and curl sent nothing
    body = server.requests[0].body
    assert '"content": "Hello, Ada."' in dry and '"temperature": 0' in dry and "dry run: nothing was sent" in dry
    assert f"--data-raw '{body.decode()}'" in curl
    har = json.loads((tmp_path / "c.har").read_text(encoding="utf-8"))
    assert har["log"]["entries"][0]["request"]["postData"]["text"] == body.decode()


def test_step_without_a_terminal_prints_the_steps_of_a_payload_call(env: None, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.json").write_bytes(PAYLOAD)
    with FakeServer() as server:
        assert main(["chat", "--base-url", server.base_url, "--payload", "p.json", "--step", "--show", "answer"]) == 0
    out = capsys.readouterr().out
    size = _request_size(server.requests[0])
    assert f"[step 1] the request bytes are built  (method='POST', target='/v1/chat/completions', bytes={size})" in out
    assert out.index("[step 1]") < out.index("[step 2] the connection is open") < out.index("answer")


# -- wire chat -i, in-process ------------------------------------------------------------


def test_interactive_sends_the_history_every_turn_on_one_connection(env: None, monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    pipe_stdin(monkeypatch, b"first question\n\nsecond question\n/history\n/save chat.json\n/quit\nnot sent\n")
    with FakeServer() as server:
        assert main(["chat", "--base-url", server.base_url, "-i", "-s", "Be brief."]) == 0
    first, second = sent(server)
    answer1 = second["messages"][2]["content"]
    assert second["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": answer1},
        {"role": "user", "content": "second question"},
    ]
    assert first["messages"] == second["messages"][:2] and answer1
    assert first["stream"] is True and first["stream_options"] == {"include_usage": True}
    assert server.requests[0].connection == server.requests[1].connection  # one kept-alive connection
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[1:3] == ["you> first question", f"assistant> {answer1}"]
    turn1 = next(line for line in lines if line.startswith("[turn 1]"))
    turn2 = next(line for line in lines if line.startswith("[turn 2]"))
    size1, size2 = (_request_size(r) for r in server.requests)
    assert turn1.startswith(f"[turn 1] new connection · request {size1} bytes · tokens {prompt_tokens(first)} prompt")
    assert turn2.startswith(
        f"[turn 2] connection reused · request {size2} bytes (+{size2 - size1} since turn 1) · "
        f"tokens {prompt_tokens(second)} prompt + "
    )
    assert " ms" in turn2.split("first delta ")[1]
    assert "   4 user: second question" in out and "   5 assistant: " in out
    saved = json.loads((tmp_path / "chat.json").read_text(encoding="utf-8"))
    assert saved == second["messages"] + [{"role": "assistant", "content": saved[-1]["content"]}]
    assert "not sent" not in out


def _request_size(request: ReceivedRequest) -> int:
    """How many bytes the request was on the wire: request line, each field line, the empty line, the body."""
    fields = "".join(f"{name}: {value}\r\n" for name, value in request.headers)
    return len(f"{request.method} {request.path} {request.http_version}\r\n{fields}\r\n".encode()) + len(request.body)


def test_saved_history_is_what_messages_reads_back(env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    pipe_stdin(monkeypatch, b"one\n/save chat.json\n")
    with FakeServer() as server:
        assert main(["chat", "--base-url", server.base_url, "-i"]) == 0
        monkeypatch.setattr(sys, "stdin", _Stdin(b"", tty=True))
        assert main(["chat", "--base-url", server.base_url, "--messages", "chat.json", "two"]) == 0
    first, second = sent(server)
    assert second["messages"] == first["messages"] + [
        {"role": "assistant", "content": second["messages"][1]["content"]},
        {"role": "user", "content": "two"},
    ]


def test_interactive_commands(env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    lines = ["/show", "/bytes", "hello", "/show payload", "/bytes", "/show nonsense", "/frobnicate", "/save",
             "/save no/such/dir/x.json", "/reset", "/history", "//slash", "/help"]
    pipe_stdin(monkeypatch, "\n".join(lines).encode() + b"\n")
    with FakeServer() as server:
        assert main(["chat", "--base-url", server.base_url, "-i"]) == 0  # Ctrl-D (end of input) ends it
    first, second = sent(server)
    assert second["messages"] == [{"role": "user", "content": "/slash"}]  # /reset forgot "hello"; // sends /
    captured = capsys.readouterr()
    out, err = captured.out, captured.err
    assert out.count("(nothing sent yet: type a line first)") == 2
    assert '1. payload (JSON)' in out and '"content": "hello"' in out
    assert "> POST /v1/chat/completions HTTP/1.1\\r\\n" in out and "< HTTP/1.1 200 OK\\r\\n" in out
    assert "< data: [DONE]\\n" in out and KEY not in out and "Bearer sk-…QRST" in out
    assert "(history reset: 0 message(s) left)" in out and "  (no messages)" in out
    assert "/save FILE" in out and "//text" in out
    assert err.splitlines() == [
        "wire: unknown layer(s) nonsense for --show; choose from settings, payload, request, connection, response, "
        "body, coding, sse, json, answer, timings, pace, annotated, attempts",
        "wire: unknown command /frobnicate; /help lists them",
        "wire: /save needs a file name: /save chat.json",
        "wire: could not write no/such/dir/x.json: No such file or directory",
    ]


def test_a_failed_turn_leaves_the_history_as_it_was(env: None, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    pipe_stdin(monkeypatch, b"one\ntwo\nthree\n")
    with FakeServer([Scenario(), Scenario(status=400), Scenario()]) as server:
        assert main(["chat", "--base-url", server.base_url, "--max-retries", "0", "-i"]) == 0
    one, two, three = sent(server)
    assert [m["content"] for m in three["messages"]][::2] == ["one", "three"]
    assert len(three["messages"]) == 3 and two["messages"][:2] == one["messages"] + [three["messages"][1]]
    err = capsys.readouterr().err
    assert err.startswith("wire: the turn failed, the history is as before it: APIError: Error 400: Invalid request.")


def test_show_and_bytes_show_a_failed_turn(env: None, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """The server's error reply is what a learner wants to see: /show and /bytes show the turn that failed."""
    pipe_stdin(monkeypatch, b"one\n/show response\n/bytes\n")
    with FakeServer([Scenario(status=400)]) as server:
        assert main(["chat", "--base-url", server.base_url, "--max-retries", "0", "-i"]) == 1
    out = capsys.readouterr().out
    assert "nothing sent yet" not in out and "not sent" not in out
    assert out.count("HTTP/1.1 400 Bad Request") == 2  # the response head in /show, its bytes in /bytes
    assert "< HTTP/1.1 400 Bad Request\\r\\n" in out and "> POST /v1/chat/completions HTTP/1.1\\r\\n" in out


def test_bytes_says_when_a_failed_turn_never_sent_its_request(env: None, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as closed:  # a port nobody listens on: the connect is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    pipe_stdin(monkeypatch, b"one\n/bytes\n")
    assert main(["chat", "--base-url", f"http://127.0.0.1:{port}/v1", "--max-retries", "0", "-i"]) == 1
    out = capsys.readouterr().out
    assert "> POST /v1/chat/completions HTTP/1.1\\r\\n" in out and "\n< " not in out
    assert "(not sent: the turn failed before the request went out)" in out


def test_interactive_with_a_first_turn_and_tools(env: None, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    pipe_stdin(monkeypatch, b"")
    tools = [{"type": "function", "function": {"name": "now", "parameters": {"type": "object", "properties": {}}}}]
    with FakeServer() as server:
        assert main(["chat", "--base-url", server.base_url, "-i", "-o", "tools", json.dumps(tools), "Hi"]) == 0
    (request,) = sent(server)
    assert request["tools"] == tools and request["messages"] == [{"role": "user", "content": "Hi"}]
    assert "you> Hi\nassistant> \n(the model asks for a tool: now({}); wire chat -i runs no tools)\n" \
           "[turn 1] new connection" in capsys.readouterr().out


def test_interactive_trace_goes_to_stderr(env: None, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    pipe_stdin(monkeypatch, b"one\ntwo\n")
    with FakeServer() as server:
        assert main(["chat", "--base-url", server.base_url, "-i", "--trace"]) == 0
    err = capsys.readouterr().err
    assert err.count("connection.open") >= 1 and err.count("connection.reuse") == 1 and KEY not in err


# -- wire chat -i in its own process: a pipe and a pseudo-terminal ------------------------------


def _subprocess_env(server: FakeServer, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY") and not k.startswith("OPENAI_")}
    return {**env, "NO_COLOR": "1", "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": server.base_url,
            "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}


def test_interactive_through_a_pipe(tmp_path: Path) -> None:
    with FakeServer() as server:
        result = subprocess.run([sys.executable, "-m", "wire", "chat", "-i"], input=b"first\nsecond\n",
                                capture_output=True, cwd=tmp_path, env=_subprocess_env(server, tmp_path),
                                timeout=DEADLINE_SECONDS)
    assert result.returncode == 0 and result.stderr == b""
    first, second = sent(server)
    assert second["messages"][:1] == first["messages"] and second["messages"][1]["role"] == "assistant"
    assert second["messages"][2] == {"role": "user", "content": "second"} and len(second["messages"]) == 3
    assert server.requests[0].connection == server.requests[1].connection
    out = result.stdout.decode()
    assert "you> first\nassistant> " in out and "\n[turn 1] new connection · " in out
    assert "\nyou> second\nassistant> " in out and "\n[turn 2] connection reused · " in out


def _read_until(fd: int, marker: bytes, deadline: float, seen: bytearray) -> bytes:
    """Read the pty until marker is in what arrived since the call; bounded by deadline."""
    start = len(seen)
    while marker not in seen[start:]:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out waiting for {marker!r}; got {bytes(seen[-300:])!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                piece = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not piece:
                break
            seen += piece
    return bytes(seen[start:])


def _spawn_in_pty(server: FakeServer, tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    controller, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "wire", "chat", "-i"], stdin=terminal, stdout=terminal,
                            stderr=terminal, cwd=tmp_path, env=_subprocess_env(server, tmp_path), close_fds=True)
    os.close(terminal)
    return proc, controller


def _end(proc: subprocess.Popen[bytes], controller: int) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)
    os.close(controller)


@pytest.mark.parametrize(("key", "status"), [(b"\x04", 0), (b"\x03", 130)], ids=["ctrl-d", "ctrl-c"])
def test_interactive_through_a_terminal_and_ctrl_d_or_ctrl_c(tmp_path: Path, key: bytes, status: int) -> None:
    """Two turns typed at a terminal, then Ctrl-D (end of input) or Ctrl-C (SIGINT): a clean end either way."""
    with FakeServer() as server:
        proc, controller = _spawn_in_pty(server, tmp_path)
        deadline = time.monotonic() + DEADLINE_SECONDS
        seen = bytearray()
        try:
            assert b"/help for commands" in _read_until(controller, b"you> ", deadline, seen)
            os.write(controller, b"first\n")
            turn1 = _read_until(controller, b"you> ", deadline, seen)
            assert b"assistant> " in turn1 and b"[turn 1] new connection" in turn1
            os.write(controller, b"second\n")
            turn2 = _read_until(controller, b"you> ", deadline, seen)
            assert b"[turn 2] connection reused" in turn2
            if key == b"\x03":
                # Ctrl-C: the terminal sends SIGINT to its foreground process group. This pty is not the
                # child's controlling terminal (that would take setsid and TIOCSCTTY in the child), so the
                # test sends the signal itself.
                proc.send_signal(signal.SIGINT)
            else:
                os.write(controller, key)  # Ctrl-D at the start of a line: read() returns b"", the end of input
            rest = _read_until(controller, b"\x00never", deadline, seen)  # to the end of output
            try:
                code = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pytest.fail(f"wire chat -i still runs after its end of output; it wrote {bytes(seen[-600:])!r}")
            assert code == status, bytes(seen[-600:])
        finally:
            _end(proc, controller)
    assert b"Traceback" not in seen, bytes(seen)
    if status == 130:
        assert b"wire: interrupted" in rest
    first, second = sent(server)
    assert second["messages"][0] == first["messages"][0] == {"role": "user", "content": "first"}
    assert second["messages"][2] == {"role": "user", "content": "second"}
    assert server.requests[0].connection == server.requests[1].connection


def test_the_fake_server_tells_connections_apart(env: None) -> None:
    """ReceivedRequest.connection, which the tests above compare: the same on one connection, not across two."""
    from wire.client import Client

    with FakeServer() as server:
        kept = Client(base_url=server.base_url, api_key=KEY, max_retries=0)
        kept.chat("one")
        kept.chat("two")
        kept.close()
        Client(base_url=server.base_url, api_key=KEY, max_retries=0).chat("three")
    one, two, three = (r.connection for r in server.requests)
    assert one == two != three and one > 0


# What the tests above assert wire prints, docs/troubleshooting.md quotes (with its own file names).
DOCUMENTED = [
    'wire: no prompt: give one (wire chat "Hi"), - to read it from stdin, or --messages FILE',
    "is not JSON: Expecting ',' delimiter at line 3 column 5",
    'must be a JSON list of messages, [{"role": "user", "content": "Hi"}, ...]',
    "is the whole request body, sent as given: it cannot be combined with a prompt, -o (put them in the file)",
    ': the body says how to answer; put "stream": true in it',
    "wire: -o model: the model field has an option of its own, --model",
    "wire: the prompt and --messages cannot both read stdin (-): put one of them in a file",
    "wire: -i reads its turns from stdin and shows exchanges with /show and /bytes: it cannot take --dry-run",
]


@pytest.mark.parametrize("message", DOCUMENTED)
def test_troubleshooting_quotes_the_message(message: str) -> None:
    assert message in (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")


def test_each_documented_message_is_what_wire_prints(env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.json").write_bytes(b'[\n  {"role": "user"}\n    {"role": "user"}]')
    (tmp_path / "obj.json").write_bytes(b"{}")
    runs = [["chat"], ["chat", "--messages", "bad.json", "x"], ["chat", "--messages", "obj.json", "x"],
            ["chat", "--payload", "obj.json", "-o", "a", "1", "x"], ["chat", "--payload", "obj.json", "--stream"],
            ["chat", "-o", "model", "m", "x"], ["chat", "-", "--messages", "-"], ["chat", "-i", "--dry-run"]]
    printed = ""
    for argv in runs:
        assert main(argv) == 2
        printed += capsys.readouterr().err
    for message in DOCUMENTED:
        assert message in printed


def test_interactive_redacts_a_key_the_server_echoes_across_deltas(env: None, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    pieces = ["your key is ", KEY[:10], KEY[10:], "!"]  # the key split over two deltas
    chunks = [chunk({"role": "assistant", "content": ""}), *(chunk({"content": p}) for p in pieces), chunk({}, "stop")]
    pipe_stdin(monkeypatch, b"what is my key?\n/history\n/save chat.json\n")
    with FakeServer(reply_chunks=chunks) as server:
        assert main(["chat", "--base-url", server.base_url, "-i"]) == 0
        hidden = capsys.readouterr().out
        pipe_stdin(monkeypatch, b"what is my key?\n")
        assert main(["chat", "--base-url", server.base_url, "-i", "--show-secrets"]) == 0
        shown = capsys.readouterr().out
    assert "assistant> your key is sk-…QRST!\n" in hidden and KEY not in hidden
    assert "   2 assistant: your key is sk-…QRST!" in hidden
    saved = Path("chat.json").read_text(encoding="utf-8")
    assert "your key is sk-…QRST!" in saved and KEY not in saved
    assert f"assistant> your key is {KEY}!\n" in shown


def test_a_whole_payload_is_sent_with_the_clients_own_settings() -> None:
    """--payload builds its request the way a prompt does: --compressed and the capture apply to it too."""
    from wire.client import Client

    body = b'{"model": "m", "messages": [{"role": "user", "content": "Hi"}], "stream": true}'
    client = Client(base_url="http://127.0.0.1:9/v1", api_key=KEY, compressed=True, capture="off")
    exchange = client.prepare_body(body)
    assert exchange.request_bytes.endswith(b"\r\n\r\n" + body) and exchange.stream
    assert exchange.request.header("Accept-Encoding") == "gzip, deflate"
    assert exchange.capture == "off"
