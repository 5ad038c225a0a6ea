"""``wire serve --record DIR`` and ``wire diff``: another client's bytes beside wire's (issue 15, part 2)."""

from __future__ import annotations

import io
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wire.cli import main
from wire.client import Client
from wire.diff import MISSING, SavedRequest, diff_view, differences, json_differences, wire_request
from wire.fake import FakeServer
from wire.record import Recorder

ROOT = Path(__file__).resolve().parent.parent
KEY_A = "sk-record-test-aaaaaaaaaaaaaaaaWXYZ"
KEY_B = "sk-record-test-bbbbbbbbbbbbbbbb1234"
DEADLINE = 10.0


def send_raw(port: int, data: bytes, replies: int = 1) -> bytes:
    """Send ``data`` on one connection, read until ``replies`` responses have come (a bounded loop)."""
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as sock:
        sock.sendall(data)
        got = b""
        end = time.monotonic() + DEADLINE
        while got.count(b"HTTP/1.1 ") < replies or not got.endswith((b"0\r\n\r\n", b"}")):
            assert time.monotonic() < end, got
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
        return got


BODY = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}'
ODD = (
    b"POST /v1/chat/completions HTTP/1.1\r\n"
    b"host: 127.0.0.1\r\n"
    b"X-Odd:   spaces kept  \r\n"
    b"authorization: Bearer " + KEY_A.encode() + b"\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
)
CHUNKED = (
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"10\r\n" + BODY[:16] + b"\r\n" + f"{len(BODY) - 16:x}".encode() + b"\r\n" + BODY[16:] + b"\r\n0\r\n\r\n"
)


# --- recording ---


def test_each_request_is_saved_byte_for_byte(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "rec")
    with FakeServer(on_request=recorder) as server:
        send_raw(server.port, ODD + CHUNKED, replies=2)  # two requests on one kept-alive connection
        assert [r.raw for r in server.requests] == [ODD, CHUNKED]
    assert [p.name for p in recorder.saved] == ["0001.http", "0002.http"]
    assert (tmp_path / "rec" / "0001.http").read_bytes() == ODD
    assert (tmp_path / "rec" / "0002.http").read_bytes() == CHUNKED
    assert SavedRequest.from_bytes(CHUNKED).body == BODY  # diff reads the chunked body de-chunked


def test_numbering_goes_on_after_the_files_already_there(tmp_path: Path) -> None:
    (tmp_path / "0007.http").write_bytes(b"old")
    (tmp_path / "notes.txt").write_bytes(b"")
    recorder = Recorder(tmp_path)
    with FakeServer(on_request=recorder) as server:
        send_raw(server.port, ODD)
    assert [p.name for p in recorder.saved] == ["0008.http"] and (tmp_path / "0007.http").read_bytes() == b"old"


def test_each_request_is_printed_as_it_arrives_key_redacted(tmp_path: Path) -> None:
    out = io.StringIO()
    with FakeServer(on_request=Recorder(tmp_path, out=out)) as server:
        send_raw(server.port, ODD)
    assert out.getvalue() == (
        f"\nrequest saved as {tmp_path / '0001.http'} (no User-Agent)\n"
        "> POST /v1/chat/completions HTTP/1.1\\r\\n\n"
        "> host: 127.0.0.1\\r\\n\n"
        "> X-Odd:   spaces kept  \\r\\n\n"
        "> authorization: Bearer sk-…WXYZ\\r\\n\n"
        "> Content-Length: 73\\r\\n\n"
        "> \\r\\n\n"
        '> {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}\n'
        "  (231 bytes: 158 of head, 73 of body)\n"
    )


def read_until(stream: io.BufferedReader, text: bytes, deadline: float) -> bytes:
    """Read a subprocess's output until ``text`` shows up (select with a deadline: never a hang)."""
    got = b""
    while text not in got:
        left = deadline - time.monotonic()
        assert left > 0, got
        ready, _, _ = select.select([stream], [], [], left)
        if ready:
            chunk = os.read(stream.fileno(), 65536)
            assert chunk, got
            got += chunk
    return got


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a subprocess")
def test_wire_serve_record_saves_and_prints(tmp_path: Path) -> None:
    folder = tmp_path / "requests"
    env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "wire", "serve", "--port", "0", "--record", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + DEADLINE
        started = read_until(proc.stdout, b"(Ctrl-C to stop)", deadline).decode()
        assert started.startswith(f"recording every request in {folder}/ (one file each: 0001.http, 0002.http, ...)\n")
        port = int(started.split("http://127.0.0.1:")[1].split("/")[0])
        with Client(base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY_B, timeout=5, max_retries=0) as client:
            exchange = client.chat("Hi")
        shown = read_until(proc.stdout, b"of body)\n", deadline).decode()
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=DEADLINE)
    assert proc.returncode == 0 and err == b""
    assert (folder / "0001.http").read_bytes() == exchange.request_bytes
    assert f"request saved as {folder / '0001.http'} (wire/" in shown
    assert "> Authorization: Bearer sk-…1234\\r\\n\n" in shown and KEY_B not in shown + rest.decode()


# --- diff ---

A = SavedRequest.from_bytes(
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer " + KEY_A.encode() + b"\r\n"
    b"content-type: application/json\r\nX-Only-A: 1\r\n\r\n"
    b'{"model":"m","messages":[{"role":"user","content":"Hi"}],"n":1}'
)
B = SavedRequest.from_bytes(
    b"POST /v1/chat/completions HTTP/1.0\r\nContent-Type: application/json\r\nHost: h\r\n"
    b"Authorization: Bearer " + KEY_B.encode() + b"\r\nX-Only-B: 2\r\n\r\n"
    b'{"messages":[{"role":"user","content":"Hello"}],"model":"m","n":1.0,"stream":true}'
)


def test_diff_view_part_by_part() -> None:
    assert diff_view(A, B) == (
        "  A A: POST /v1/chat/completions HTTP/1.1  (4 fields, 63 body bytes)\n"
        "  B B: POST /v1/chat/completions HTTP/1.0  (4 fields, 82 body bytes)\n"
        "\n"
        "request line\n"
        "  HTTP version\n"
        "    A  HTTP/1.1\n"
        "    B  HTTP/1.0\n"
        "\n"
        "field\n"
        "  only in A: X-Only-A\n"
        "    A  1\n"
        "  only in B: X-Only-B\n"
        "    B  2\n"
        "  different value: Authorization\n"
        "    A  Bearer sk-…WXYZ\n"
        "    B  Bearer sk-…1234\n"
        "\n"
        "field name case\n"
        "  content-type\n"
        "    A  content-type\n"
        "    B  Content-Type\n"
        "\n"
        "field order\n"
        "  the fields both have, in another order\n"
        "    A  Host, Authorization, content-type\n"
        "    B  Content-Type, Host, Authorization\n"
        "\n"
        "body\n"
        "  JSON $.messages[0].content\n"
        '    A  "Hi"\n'
        '    B  "Hello"\n'
        "  JSON $.n\n"
        "    A  1\n"
        "    B  1.0\n"
        "  JSON $.stream\n"
        "    A  (absent)\n"
        "    B  true\n"
        "\n"
        "  9 difference(s)"
    )


def test_json_is_compared_as_data() -> None:
    assert json_differences({"a": [1, {"b": True}]}, {"a": [1, {"b": 1}, 2]}) == [
        ("$.a[1].b", True, 1),
        ("$.a[2]", MISSING, 2),
    ]
    assert json_differences({"x": 1, "y": [2]}, {"y": [2], "x": 1}) == []
    same_data = SavedRequest.from_bytes(b"POST / HTTP/1.1\r\n\r\n" + b'{"a": 1, "b": 2}')
    other_order = SavedRequest.from_bytes(b"POST / HTTP/1.1\r\n\r\n" + b'{"b":2,"a":1}')
    [d] = differences(same_data, other_order)
    assert (d.part, d.what, d.notes) == (
        "body",
        "same JSON data, different bytes",
        ["the members come in another order: A a, b; B b, a"],
    )


def test_wire_request_is_what_wire_sends(tmp_path: Path) -> None:
    with FakeServer() as server, Client(base_url=server.base_url, api_key=KEY_A, timeout=5, max_retries=0) as client:
        exchange = client.chat("Hi")
        saved = SavedRequest.from_bytes(server.requests[-1].raw)
    assert wire_request(saved).raw == exchange.request_bytes
    assert differences(saved, wire_request(saved)) == []
    streamed = wire_request(SavedRequest.from_bytes(b'POST /v1/x HTTP/1.1\r\nHost: h:1\r\n\r\n{"stream":true}'))
    assert streamed.header("Accept") == "text/event-stream" and streamed.header("Host") == "h:1"
    assert streamed.target == "/v1/x" and streamed.bearer == "sk-wire-diff-no-key-in-the-saved-request"


def run_diff(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NO_COLOR", "1")
        status = main(["diff", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_diff_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b, same, bad = (tmp_path / n for n in ("a.http", "b.http", "same.http", "bad.http"))
    a.write_bytes(A.raw)
    b.write_bytes(B.raw)
    same.write_bytes(A.raw)
    bad.write_bytes(b"not a request")
    status, out, err = run_diff([str(a), str(same)], capsys)
    assert (status, err) == (0, "") and out.endswith(
        "  the same request: request line, fields (names, values, order) and body\n"
    )
    status, out, _ = run_diff([str(a), str(b)], capsys)
    assert status == 1 and out.endswith("  9 difference(s)\n")
    assert KEY_A not in out and KEY_B not in out
    status, out, err = run_diff([str(bad), str(a)], capsys)
    assert (status, out) == (2, "")
    assert err == f"wire: wire diff: {bad}: no empty line ends the head: these bytes are not a whole HTTP request\n"
    assert run_diff([str(a)], capsys)[0] == 2  # neither B nor --wire
    assert run_diff([str(a), str(b), "--wire"], capsys)[0] == 2  # both
    assert run_diff([str(tmp_path / "missing"), str(a)], capsys)[0] == 2


def test_diff_with_wire(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = tmp_path / "a.http"
    saved.write_bytes(A.raw)
    status, out, _ = run_diff([str(saved), "--wire"], capsys)
    assert status == 1
    assert out.startswith(
        f"  A {saved}: POST /v1/chat/completions HTTP/1.1  (4 fields, 63 body bytes)\n"
        "  B what wire sends for the same JSON body: POST /v1/chat/completions HTTP/1.1  (6 fields, 63 body bytes)\n"
    )
    assert "  only in B: User-Agent\n    B  wire/" in out and "\nbody\n" not in out  # the same body bytes
    saved.write_bytes(b"POST / HTTP/1.1\r\n\r\n[1]")
    status, _, err = run_diff([str(saved), "--wire"], capsys)
    assert status == 2 and "its body is not a JSON object" in err
