"""Issue 12, "No traceback, ever": every bad input ends in one `wire: …` line and a documented exit status.

Each test names the failure a user met; docs/troubleshooting.md quotes the same messages.
"""

from __future__ import annotations

import io
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import wire.cli as cli
from wire import Client, ConfigError, Settings
from wire.cli import main
from wire.fake import FakeServer
from wire.transport import Timeouts

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyzQRST"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No .env from the developer's checkout, no colour, no settings from the environment."""
    monkeypatch.chdir(tmp_path)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


def _user_environment() -> dict[str, str]:
    """The environment without proxies, OpenAI settings and PYTHONUNBUFFERED (which a user's shell lacks:
    with it, stdout is written at every print and a closed pipe shows up earlier than it would for them)."""
    return {k: v for k, v in os.environ.items()
            if not k.upper().endswith("_PROXY") and not k.startswith("OPENAI_") and k != "PYTHONUNBUFFERED"}


def _run_wire(*args: str | bytes, stdout: int | None = subprocess.PIPE, cwd: Path | None = None,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """`wire ARGS` in its own process, as a shell would start it (argv as bytes allowed)."""
    base = _user_environment()
    full_env = {**base, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "wire", *args], stdout=stdout, stderr=subprocess.PIPE,
                          cwd=cwd, env=full_env, timeout=60)


# --- the key cannot go into a header: the dry run and --curl say so as the call does, exit 2 ----------


@pytest.mark.parametrize("key, what", [("sk-abc\ndef", "contains LF (\\n)"),
                                       ("sk-abc\u201cdef", "not one byte in ISO-8859-1")])
@pytest.mark.parametrize("mode", [["--dry-run"], ["--curl"], []])
def test_a_key_that_cannot_be_sent_is_one_line_and_exit_2(env: None, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str], key: str, what: str,
                                                          mode: list[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", key)
    with FakeServer() as server:
        assert main(["chat", "--base-url", server.base_url, *mode, "Hi"]) == 2
        assert server.request_count == 0
    captured = capsys.readouterr()
    assert captured.err.startswith("wire: the value of Authorization ") and what in captured.err
    assert "check OPENAI_API_KEY" in captured.err and captured.err.count("\n") == 1
    assert key not in captured.err and captured.out == ""


# --- .env files that are not UTF-8 ---------------------------------------------------------------------


LATIN1 = "OPENAI_API_KEY=sk-café\n".encode("latin-1")
UTF16 = "OPENAI_API_KEY=sk-x\n".encode("utf-16")  # with a byte order mark, as Notepad's "Unicode"


def test_a_latin1_env_file_names_the_file_the_byte_and_utf8(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(LATIN1)
    with pytest.raises(ConfigError) as caught:
        Settings.load(path, environ={"OPENAI_API_KEY": "sk-from-the-environment"})
    assert str(caught.value) == (
        f"the .env file {path} is not UTF-8: byte 0xe9 at offset 21 (line 1) is not valid UTF-8 "
        "(Latin-1 or Windows-1252 text?); wire reads .env files as UTF-8: save it again with the encoding UTF-8"
    )


def test_a_utf16_env_file_says_utf16_even_from_client_with_explicit_arguments(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_bytes(UTF16)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    with pytest.raises(ConfigError) as caught:
        Client(api_key=KEY, base_url="http://127.0.0.1:9/v1")  # Settings.load() still finds ./.env
    assert str(caught.value).startswith(f"the .env file {tmp_path / '.env'} is UTF-16 (it starts with the byte "
                                        "order mark ff fe")
    assert "save it again with the encoding UTF-8" in str(caught.value)


def test_a_utf8_env_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"\xef\xbb\xbfOPENAI_API_KEY=sk-bom\n")
    assert Settings.load(path, environ={}).api_key == "sk-bom"  # not a key named "\ufeffOPENAI_API_KEY"


def test_the_cli_reports_a_bad_env_file_with_exit_2(env: None, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".env").write_bytes(LATIN1)
    assert main(["chat", "--dry-run", "Hi"]) == 2
    assert capsys.readouterr().err.startswith(f"wire: the .env file {tmp_path / '.env'} is not UTF-8: byte 0xe9")


def test_env_file_that_is_a_directory_says_so(env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "--env-file", str(tmp_path), "Hi"]) == 2
    assert capsys.readouterr().err == (
        f"wire: the .env file {tmp_path} is a directory (pass the path of the file itself)\n"
    )


# --- output piped into head or true ----------------------------------------------------------------------


@pytest.mark.parametrize("args", [["demo"], ["demo", "--stream"], ["demo", "--raw"],
                                  ["demo", "--show", "answer"], ["demo", "--curl"]])  # the last two: one flush
def test_a_closed_stdout_pipe_ends_quietly_with_141(tmp_path: Path, args: list[str]) -> None:
    """`wire demo | true`: the reader is gone before the first write (deterministic: no reader at all)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = _run_wire(*args, stdout=write_end, cwd=tmp_path)
    finally:
        os.close(write_end)
    assert result.stderr == b""
    assert result.returncode == cli.EXIT_BROKEN_PIPE == 141


def test_a_closed_pipe_on_stdout_and_stderr_ends_quietly_with_141(tmp_path: Path) -> None:
    """`wire demo --trace 2>&1 | true`: the trace lines on stderr meet the closed pipe too."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run([sys.executable, "-m", "wire", "demo", "--trace"], stdout=write_end,
                                stderr=write_end, cwd=tmp_path, timeout=60,
                                env={**_user_environment(), "PYTHONPATH": str(ROOT), "NO_COLOR": "1"})
    finally:
        os.close(write_end)
    assert result.returncode == 141  # not 120: Python's exit-time flush of stderr did not fail


def test_wire_demo_piped_into_head_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    env = _user_environment()
    result = subprocess.run(f"{sys.executable} -m wire demo | head -1; echo \"status=${{PIPESTATUS[0]}}\"",
                            shell=True, executable="/bin/bash", capture_output=True, cwd=tmp_path, timeout=60,
                            env={**env, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"})
    lines = result.stdout.decode().splitlines()
    assert lines[0].startswith("wire demo: one Chat Completions call to the fake server at https://localhost:")
    # 0 when the whole demo fitted in the pipe's buffer before head exited, 141 when it did not.
    assert lines[1] in ("status=0", "status=141") and len(lines) == 2
    assert result.stderr == b""


# --- --har is checked before connecting --------------------------------------------------------------


def test_har_into_a_missing_directory_is_refused_before_connecting(env: None, monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    har = tmp_path / "missing" / "call.har"
    with FakeServer() as server:
        assert main(["chat", "--base-url", server.base_url, "--har", str(har), "Hi"]) == 2
        assert server.request_count == 0
    assert capsys.readouterr().err == (
        f"wire: --har {har}: the directory {har.parent} does not exist (create it, or name another file)\n"
    )


def test_har_to_a_directory_is_refused_before_connecting(env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeServer() as server:
        assert main(["chat", "--base-url", server.base_url, "--har", str(tmp_path), "Hi"]) == 2
        assert server.request_count == 0
    err = capsys.readouterr().err
    assert err == f"wire: --har {tmp_path} is a directory; name a file, e.g. --har {tmp_path / 'wire.har'}\n"


# --- timeouts and retries ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["-1", "0", "inf", "nan", "soon"])
def test_cli_timeout_must_be_positive_and_finite(env: None, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["chat", "--timeout", value, "Hi"])
    assert caught.value.code == 2
    assert "wire chat: error: argument --timeout: " in capsys.readouterr().err


def test_cli_max_retries_must_not_be_negative(env: None, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeServer() as server, pytest.raises(SystemExit) as caught:
        main(["chat", "--base-url", server.base_url, "--max-retries", "-1", "Hi"])
    assert caught.value.code == 2
    assert ("argument --max-retries: must be 0 or more (0: one attempt, no retry), got -1"
            in capsys.readouterr().err)


@pytest.mark.parametrize("value", [-1, 0, math.inf, math.nan])
def test_timeouts_refuse_values_a_socket_cannot_use(value: float) -> None:
    with pytest.raises(ValueError, match="must be a positive, finite number of seconds or None"):
        Timeouts(read=value)
    with pytest.raises(ValueError, match="^timeout must be a positive"):
        Client(api_key=KEY, base_url="http://127.0.0.1:9/v1", timeout=value)


def test_timeouts_refuse_a_string_and_a_bool() -> None:
    with pytest.raises(TypeError, match=r"^Timeouts.total must be a number of seconds or None \(no limit\), "
                                        r"got str '3'$"):
        Timeouts(total="3")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="^timeout must be a number"):
        Timeouts.coerce(True)
    assert Timeouts.coerce(2) == Timeouts(connect=2.0, tls=2.0, read=2.0, total=None)


def test_client_refuses_negative_max_retries() -> None:
    with pytest.raises(ValueError, match=r"^max_retries must be 0 or more \(0: one attempt, no retry\), got -1$"):
        Client(api_key=KEY, base_url="http://127.0.0.1:9/v1", max_retries=-1)


# --- wire serve ------------------------------------------------------------------------------------------------


def test_serve_on_a_port_out_of_range_is_a_usage_error(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["serve", "--port", "80000"])
    assert caught.value.code == 2
    assert "argument --port: a TCP port is 0 to 65535 (0: any free port), got 80000" in capsys.readouterr().err


def test_serve_on_a_port_in_use_says_so_and_exits_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run_wire("serve", "--port", str(port), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.decode() == (
        f"wire: wire serve: port {port} on 127.0.0.1 is in use (another wire serve?); "
        "pick another with --port N, or --port 0 for any free port\n"
    )


# --- text that is not UTF-8 ----------------------------------------------------------------------------------


def test_a_prompt_that_is_not_utf8_names_the_byte(tmp_path: Path) -> None:
    """`wire chat $'caf\\xe9'`: argv arrives as bytes; Python keeps 0xe9 as the surrogate U+DCE9."""
    result = _run_wire("chat", "--dry-run", b"caf\xe9", cwd=tmp_path, env={"OPENAI_API_KEY": KEY, "LC_ALL": "C.UTF-8"})
    assert result.returncode == 2 and result.stdout == b""
    assert result.stderr.decode() == ("wire: the prompt is not valid UTF-8: the byte 0xe9 at character 3; "
                                      "write it in UTF-8 (check your terminal's or file's encoding)\n")


def test_a_model_from_the_environment_that_is_not_utf8(env: None, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_MODEL", "gpt-\udcff")
    assert main(["chat", "--dry-run", "Hi"]) == 2
    assert capsys.readouterr().err.startswith("wire: the model (environment) is not valid UTF-8: the byte 0xff")


# --- Python arguments of the wrong kind ----------------------------------------------------------------------


def test_client_with_a_positional_url_is_a_type_error() -> None:
    with pytest.raises(TypeError) as caught:
        Client("http://127.0.0.1:9/v1")  # type: ignore[arg-type]
    assert str(caught.value) == ("Client() takes wire.Settings (or nothing) as its one positional argument, got str; "
                                 "pass base_url='http://127.0.0.1:9/v1' as a keyword")


@pytest.mark.parametrize("messages, expected", [
    ({"role": "user", "content": "Hi"}, "got one dict (put it in a list: [message])"),
    (b"Hi", "got bytes (decode it to str first)"),
    (42, "got int"),
    (["Hi"], None),
])
def test_chat_with_messages_of_the_wrong_type_is_a_type_error(messages: object, expected: str | None) -> None:
    with FakeServer() as server:
        client = Client(Settings(api_key=KEY, base_url=server.base_url))
        with pytest.raises(TypeError) as caught:
            client.chat(messages)  # type: ignore[arg-type]
        assert server.request_count == 0
    if expected is None:
        assert str(caught.value) == "messages[0] must be a dict like {'role': 'user', 'content': 'Hi'}, got str"
    else:
        assert str(caught.value) == ("messages must be a str (one user message) or a list of dicts like "
                                     f"{{'role': 'user', 'content': 'Hi'}}, {expected}")


# --- small ones --------------------------------------------------------------------------------------------------


def test_show_with_no_layer_is_an_error(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--show", ""]) == 2
    assert capsys.readouterr().err.startswith("wire: --show '' names no layer; choose from settings, payload,")


def test_dry_run_honours_show(env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    assert main(["chat", "--dry-run", "--show", "payload", "Hi"]) == 0
    out = capsys.readouterr().out
    assert "payload (JSON)" in out and "request bytes" not in out and "settings" not in out
    assert main(["chat", "--dry-run", "--hex", "--show", "request", "Hi"]) == 0
    out = capsys.readouterr().out
    assert "hexdump, the bytes a call would send" in out and "> 00000000  50 4f 53 54 20 2f 76 31" in out
    assert main(["chat", "--dry-run", "--show", "timings", "Hi"]) == 2
    assert capsys.readouterr().err == (
        "wire: --show timings has nothing a dry run builds; a dry run has: settings, payload, request\n"
    )


def test_dry_run_honours_raw(env: None, monkeypatch: pytest.MonkeyPatch,
                             capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert main(["chat", "--dry-run", "--raw", "Hi"]) == 0
    raw = capsysbinary.readouterr().out
    body = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}'
    assert raw.startswith(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:9\r\n")
    assert "Authorization: Bearer sk-…QRST\r\n".encode() in raw
    assert raw.endswith(b"\r\n\r\n" + body) and b"dry run" not in raw


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _error_line(monkeypatch: pytest.MonkeyPatch, *, stdout_tty: bool, stderr_tty: bool) -> str:
    out, err = (_Terminal() if stdout_tty else io.StringIO()), (_Terminal() if stderr_tty else io.StringIO())
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["chat", "Hi"]) == 2  # no key
    return err.getvalue()


def test_colour_on_stderr_follows_stderr_not_stdout(env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR")
    assert "\x1b[" in _error_line(monkeypatch, stdout_tty=False, stderr_tty=True)  # `wire chat … > out.txt`
    assert "\x1b[" not in _error_line(monkeypatch, stdout_tty=True, stderr_tty=False)  # `wire chat … 2> err.txt`


def test_an_empty_no_color_leaves_colour_on(env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "")  # no-color.org: "when present and not an empty string"
    assert "\x1b[" in _error_line(monkeypatch, stdout_tty=False, stderr_tty=True)
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in _error_line(monkeypatch, stdout_tty=False, stderr_tty=True)


def test_the_tls_hint_names_the_option_on_the_command_line(env: None, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeServer(tls=True) as server:  # signed by the demo CA, which the CLI is not told about
        assert main(["chat", "--base-url", server.base_url, "--max-retries", "0", "--show", "answer", "Hi"]) == 1
        with pytest.raises(Exception) as caught:
            Client(Settings(api_key=KEY, base_url=server.base_url), max_retries=0).chat("Hi")
    err = capsys.readouterr().err
    assert err.startswith("TLSError: tls: certificate not trusted") and "pass --ca-file FILE for a private CA" in err
    assert "ca_file=" not in err
    assert "pass ca_file=… for a private CA" in str(caught.value)  # Python callers get the argument's name


def test_the_exit_status_table_matches_the_code() -> None:
    doc = cli.__doc__ or ""
    rows = {int(line.split()[0]) for line in doc.splitlines() if line.strip()[:3].strip().isdigit()}
    assert rows == {cli.EXIT_OK, cli.EXIT_FAILED, cli.EXIT_USAGE, cli.EXIT_INTERRUPTED, cli.EXIT_BROKEN_PIPE}
    assert (cli.EXIT_OK, cli.EXIT_FAILED, cli.EXIT_USAGE, cli.EXIT_INTERRUPTED, cli.EXIT_BROKEN_PIPE) == (
        0, 1, 2, 130, 141)


# What these tests assert wire prints, docs/troubleshooting.md quotes (its examples fill in paths and ports).
DOCUMENTED = [
    "check OPENAI_API_KEY (your .env or environment) for a stray newline",
    "is not UTF-8: byte 0xe9 at offset 21 (line 1) is not valid UTF-8 (Latin-1 or Windows-1252 text?); "
    "wire reads .env files as UTF-8: save it again with the encoding UTF-8",
    'is UTF-16 (it starts with the byte order mark ff fe, as Notepad saves "Unicode")',
    "is a directory (pass the path of the file itself)",
    "does not exist (create it, or name another file)",
    "is a directory; name a file, e.g. --har out/wire.har",
    "argument --timeout: must be a positive, finite number of seconds, got",
    "argument --max-retries: must be 0 or more (0: one attempt, no retry), got -1",
    "is in use (another wire serve?); pick another with --port N, or --port 0 for any free port",
    "argument --port: a TCP port is 0 to 65535 (0: any free port), got 80000",
    "wire: the prompt is not valid UTF-8: the byte 0xe9 at character 3; "
    "write it in UTF-8 (check your terminal's or file's encoding)",
    "Client() takes wire.Settings (or nothing) as its one positional argument, got str; pass base_url=",
    "got one dict (put it in a list: [message])",
    "got bytes (decode it to str first)",
    "wire: --show '' names no layer; choose from settings, payload,",
    "wire: --show timings has nothing a dry run builds; a dry run has: settings, payload, request",
    "pass --ca-file FILE for a private CA",
]


@pytest.mark.parametrize("message", DOCUMENTED)
def test_troubleshooting_quotes_the_message(message: str) -> None:
    assert message in (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")


def test_the_readme_links_troubleshooting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## When things go wrong"):]
    assert "(docs/troubleshooting.md)" in section[: section.index("\n## ", 3)]
