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
import subprocess
from pathlib import Path

import pytest

from wire.cli import DEMO_API_KEY, main
from wire.client import Client
from wire.fake import DEMO_CA_FILE, FakeServer
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
    assert usage is not None and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens > 0


@pytest.mark.parametrize(("given", "sent"), [
    ({"stream_options": None}, None),  # None: send no stream_options at all
    ({"stream_options": {"include_usage": False}}, {"include_usage": False}),  # the caller's own, as given
])
def test_stream_options_the_caller_chose_win(given: dict[str, object], sent: object) -> None:
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
