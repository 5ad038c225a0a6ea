"""``wire parse FILE``: a saved response explained with the views of a live call (issue 15, part 3).

The conformance corpus (``../shared/conformance``, or ``$WIRE_CONFORMANCE_DIR``)
runs through the command: exit 0 for every valid response, 1 for every
invalid one, and for a lenient one whatever ``wire.parse_response`` decides.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import wire
from wire.cli import main
from wire.client import Client
from wire.explain import fault_view, har_response, parse_saved
from wire.fake import FakeServer
from wire.har import write_har
from wire.show import answer_view, completion_chunks_view, exchange_view

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-parse-test-0123456789abcdefABCDEF"


def corpus_dir() -> Path:
    env = os.environ.get("WIRE_CONFORMANCE_DIR")
    return Path(env) if env else ROOT.parent / "shared" / "conformance"


def load_cases() -> list[dict[str, Any]]:
    path = corpus_dir() / "responses.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


CASES = load_cases()


def run_parse(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NO_COLOR", "1")
        mp.delenv("OPENAI_API_KEY", raising=False)
        status = main(["parse", *args])
    out, err = capsys.readouterr()
    return status, out, err


def saved(tmp_path: Path, data: bytes, name: str = "reply.http") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


# --- the conformance corpus: valid -> 0, invalid -> 1 ---


@pytest.mark.skipif(not CASES, reason=f"the conformance corpus is not at {corpus_dir()}")
def test_the_corpus_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    counts = {"valid": 0, "invalid": 0, "lenient": 0}
    for case in CASES:
        raw = base64.b64decode(case["raw_b64"])
        status, out, err = run_parse([saved(tmp_path, raw)], capsys)
        if case["class"] == "lenient":
            try:
                wire.parse_response(raw)
                expected = 0
            except wire.ProtocolError:
                expected = 1
        else:
            expected = 0 if case["class"] == "valid" else 1
        assert status == expected, (case["id"], out)
        assert err == ""
        verdict = "a valid HTTP/1.1 response" if expected == 0 else "NOT a valid HTTP/1.1 response"
        assert out.splitlines()[0].endswith(f"{len(raw)} bytes, {verdict}"), case["id"]
        if expected == 1:
            assert "── where the bytes break HTTP/1.1" in out and "\n  rule     " in out and "    ^ " in out, case["id"]
        counts[case["class"]] += 1
    assert counts == {"valid": 40, "invalid": 35, "lenient": 35}


# --- the fault: offset, rule, caret ---


def test_a_fault_is_shown_with_its_rule_and_a_caret_under_the_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent Length: 2\r\n\r\nhi"
    status, out, err = run_parse([saved(tmp_path, data)], capsys)
    assert status == 1 and err == ""
    assert out == (
        f"wire parse {tmp_path / 'reply.http'}: 66 bytes, NOT a valid HTTP/1.1 response\n"
        "\n"
        "── where the bytes break HTTP/1.1 ──────────────────────────\n"
        "  field name b'Content Length' is not a token in the header section\n"
        "  rule     RFC 9110 §5.1: field-name = token\n"
        "  at       byte 50 of 66 (parser state: fields)\n"
        "  < Content-Type: text/plain\\r\\n\n"
        "  < Content Length: 2\\r\\n\n"
        "           ^ byte 50: 0x20 (' ')\n"
    )


def test_a_chunk_size_fault_shows_the_layers_before_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n-1\r\n"
    status, out, _ = run_parse([saved(tmp_path, data)], capsys)
    assert status == 1
    assert "< HTTP/1.1 200 OK\\r\\n" in out and "frame 0: size line 0x2 = 2 bytes" in out
    assert out.endswith(
        "  rule     RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF\n"
        "  at       byte 54 of 58 (parser state: chunk size line)\n"
        "  < hi\\r\\n\n"
        "  < -1\\r\\n\n"
        "    ^ byte 54: 0x2d ('-')\n"
    )


def test_bytes_that_end_early_put_the_caret_after_the_last_byte() -> None:
    s = parse_saved(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab")
    assert isinstance(s.error, wire.IncompleteMessage) and not s.valid
    assert fault_view(s).splitlines()[-2:] == ["  < ab", "      ^ the bytes end here"]


def test_a_long_line_is_cut_around_the_fault() -> None:
    data = b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 200 + b"\x01" + b"b" * 100 + b"\r\n\r\n"
    s = parse_saved(data)
    assert s.error is not None and s.error.offset == 17 + 8 + 200
    line, caret = fault_view(s).splitlines()[-2:]
    assert line == "  < …" + "a" * 60 + "\\x01" + "b" * 19 + "…"
    assert caret == "    " + " " * 61 + "^ byte 225: 0x01 ('\\\\x01')"


def test_bytes_after_the_response_are_a_fault(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\n"
    status, out, _ = run_parse([saved(tmp_path, data)], capsys)
    assert status == 1
    assert "  rule     RFC 9112 §9.6: one request, one response\n  at       byte 40 of 57\n" in out
    assert "  {}" in out  # the response before them is shown whole: its JSON


# --- the layers of a valid reply: the same views as a live call ---


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("framing", ["chunked", "length"])
def test_a_saved_reply_shows_the_layers_the_call_showed(
    stream: bool, framing: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeServer(framing=framing, chunk_size=40) as server:
        exchange = Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=0).chat("Hi", stream=stream)
    layers = ["response", "body", "sse", "json", "answer", "annotated"]
    live = exchange_view(exchange, layers=layers)
    status, out, _ = run_parse([saved(tmp_path, exchange.response_bytes), "--show", ",".join(layers)], capsys)
    assert status == 0
    head, _, views = out.partition("\n\n")
    assert (
        head == f"wire parse {tmp_path / 'reply.http'}: {len(exchange.response_bytes)} bytes, a valid HTTP/1.1 response"
    )
    assert views == live + "\n"
    assert ("── 3. server-sent events" in views) is stream and exchange.text in views


def test_stdin_is_read_with_a_dash() -> None:
    data = b'HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"error": {}}'
    result = subprocess.run(
        [sys.executable, "-m", "wire", "parse", "-", "--show", "response,json"],
        input=data,
        capture_output=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert out.startswith("wire parse stdin: 91 bytes, a valid HTTP/1.1 response\n")
    assert "< HTTP/1.1 404 Not Found\\r\\n" in out and '  {\n    "error": {}\n  }' in out
    bad = subprocess.run(
        [sys.executable, "-m", "wire", "parse", "-"], input=b"HTTP/1.1 20", capture_output=True, timeout=60
    )
    assert bad.returncode == 1 and b"the bytes end here" in bad.stdout


def test_raw_and_hex(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = b'{"echo": "' + KEY.encode() + b'"}'
    data = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    path = saved(tmp_path, data)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NO_COLOR", "1")
        mp.delenv("OPENAI_API_KEY", raising=False)
        assert main(["parse", path, "--raw"]) == 0
        raw = capsys.readouterr().out
        assert main(["parse", path, "--hex", "--show", "response"]) == 0
        hexed = capsys.readouterr().out
    assert raw == data.decode().replace(KEY, "sk-…CDEF")  # the bytes as saved, the key-shaped text redacted
    assert (
        "\nhexdump, the bytes as saved\n< 00000000  48 54 54 50 2f 31 2e 31 20 32 30 30 20 4f 4b 0d  |HTTP/1.1 200 OK.|\n"
        in hexed
    )
    assert KEY not in hexed and "sk-.." in hexed  # the ellipsis is not ASCII: a hexdump shows its bytes as dots


def test_an_event_stream_is_read_as_events_and_chunks() -> None:
    body = (
        b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m",'
        b'"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}]}\n\n'
        b"data: [DONE]\n\n"
    )
    data = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n" + body
    s = parse_saved(data)
    assert s.valid and s.exchange.stream and s.notes == []
    assert [e.data for e in s.exchange.sse_events][1] == "[DONE]"
    assert s.exchange.completion is not None and s.exchange.completion.text == "Hi"
    assert s.exchange.done_received is True
    unfinished = parse_saved(data[: -len(b"data: [DONE]\n\n")])  # ended by close: the body ended properly
    assert unfinished.notes == [] and unfinished.exchange.done_received is False
    assert unfinished.exchange.completion is not None and unfinished.exchange.completion.text == "Hi"
    empty = parse_saved(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n: nothing\n\n")
    assert empty.notes == ["the event stream has no chunk and no 'data: [DONE]': nothing to assemble"]


@pytest.mark.parametrize(
    ("choices", "shown"),
    [
        ("[null]", "choice=null"),
        ('"x"', 'choices="x"'),
        ('[{"index":0,"delta":{"content":5}}]', 'delta={"content":5}'),
    ],
)
def test_a_chunk_the_assembler_refused_is_shown_as_it_came(choices: str, shown: str) -> None:
    """The chunks view and the answer so far read every kept chunk, including the one that broke the stream
    (a hypothesis run over reply shapes found both raising AttributeError on choices: [null])."""
    good = b'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n'
    bad = b'data: {"choices":' + choices.encode() + b"}\n\n"
    s = parse_saved(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n" + good + bad)
    assert s.exchange.completion is None and len(s.exchange.completion_chunks) == 2
    chunks = completion_chunks_view(s.exchange)
    assert chunks.splitlines()[1:] == ['    0  delta={"content":"Hi"}', f"    1  {shown}"], chunks
    assert answer_view(s.exchange).splitlines()[0] == "  Hi"


def test_a_body_that_is_not_json_is_a_note_not_a_fault() -> None:
    s = parse_saved(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 5\r\n\r\n<h1>x")
    assert s.valid and s.notes[0].startswith("the body is not JSON (Expecting value")


def test_head_replies_have_no_body(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = saved(tmp_path, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
    assert run_parse([path], capsys)[0] == 1  # to a POST the 5 bytes are missing
    assert run_parse([path, "--head"], capsys)[0] == 0


# --- HAR ---


def test_a_har_entry_is_rebuilt_and_parsed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeServer(chunk_size=30) as server:
        exchange = Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=0).chat("Hi")
    har = tmp_path / "call.har"
    write_har(exchange, har)
    status, out, err = run_parse([str(har), "--show", "body,answer"], capsys)
    assert status == 0 and err == ""
    assert out.splitlines()[1:3] == [
        "  note: rebuilt from HAR entry 1 of 1: HAR keeps the status, the fields and the decoded body, not the bytes "
        "(whitespace around values, line ends, chunk frames, trailers and 1xx replies are lost)",
        "  note: the body is chunked: rebuilt as one chunk frame (the sizes the server chose are not in HAR)",
    ]
    response = exchange.response
    assert response is not None and len(response.frames) > 2
    assert f"frame 0: size line 0x{len(response.body):x} = {len(response.body)} bytes" in out
    assert "frame 1: the last chunk (size 0)" in out and exchange.text in out
    rebuilt, _ = har_response(har.read_bytes())
    reparsed = wire.parse_response(rebuilt)
    assert (reparsed.status, reparsed.headers, reparsed.body) == (response.status, response.headers, response.body)


def test_har_entries_by_number_and_entries_without_a_reply(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = {
        "log": {
            "entries": [
                {"response": {"status": 0, "headers": [], "content": {}}, "_error": "Timeout: read"},
                {
                    "response": {
                        "status": 200,
                        "statusText": "OK",
                        "httpVersion": "HTTP/1.1",
                        "headers": [{"name": "Content-Length", "value": "2"}],
                        "content": {"text": "e30=", "encoding": "base64"},
                    }
                },
            ]
        }
    }
    path = saved(tmp_path, json.dumps(doc).encode(), "two.har")
    status, out, _ = run_parse([path, "--show", "json"], capsys)
    assert status == 0 and "  note: rebuilt from HAR entry 2 of 2" in out and "\n  {}\n" in out
    status, _, err = run_parse([path, "--entry", "1"], capsys)
    assert (
        status == 2
        and err
        == f"wire: wire parse {path}: HAR entry 1 has no response (status 0: Timeout: read); there are no bytes to parse\n"
    )
    status, _, err = run_parse([path, "--entry", "3"], capsys)
    assert status == 2 and "the HAR file has 2 entries; --entry 3 is not one of them" in err


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        (5, "HAR entry 1 is not a JSON object (got int)"),
        ({"response": ["x"]}, "HAR entry 1's response is not a JSON object (got list)"),
        ({"response": {"status": "200"}}, "HAR entry 1's response.status is not a number (got '200')"),
        ({"response": {"status": 200, "headers": {"a": "b"}}}, "HAR entry 1's response.headers is not a list"),
        ({"response": {"status": 200, "headers": ["a: b"]}}, "HAR entry 1's header 1 is not a JSON object (got str)"),
        ({"response": {"status": 200, "headers": [{"name": "a"}]}}, "HAR entry 1's header 1: its value is not a string"),
        ({"response": {"status": 200, "content": {"text": 5}}}, "HAR entry 1's response.content.text is not a string"),
        ({"response": {"status": 200, "httpVersion": 1.1}}, "HAR entry 1's response.httpVersion is not a string"),
    ],
)
def test_a_har_entry_of_the_wrong_shape_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], entry: object, why: str
) -> None:
    """A HAR file edited by hand (or written by another tool): the part that is wrong is named, never a traceback."""
    path = saved(tmp_path, json.dumps({"log": {"entries": [entry]}}).encode(), "bad.har")
    status, out, err = run_parse([path], capsys)
    assert (status, out) == (2, "") and err.startswith(f"wire: wire parse {path}: {why}")


def test_unreadable_input_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_parse([str(tmp_path / "missing.http")], capsys)
    assert (status, out) == (
        2,
        "",
    ) and err == f"wire: cannot read {tmp_path / 'missing.http'}: No such file or directory\n"
    assert run_parse([str(tmp_path)], capsys)[0] == 2
    status, _, err = run_parse([saved(tmp_path, b"HTTP/1.1 200 OK\r\n\r\n"), "--show", "timings"], capsys)
    assert status == 2 and "unknown layer(s) timings for wire parse --show" in err


def test_a_key_cut_in_two_by_chunk_framing_is_found_and_redacted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = b'{"echo": "' + KEY.encode() + b'"}'
    cut = body.index(b"0123")  # the two frames' data: neither holds the whole key
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (
        cut,
        body[:cut],
        len(body) - cut,
        body[cut:],
    )
    assert KEY.encode() not in data
    path = saved(tmp_path, data)
    status, out, _ = run_parse([path, "--show", "body,json,annotated"], capsys)
    raw_status, raw, _ = run_parse([path, "--raw"], capsys)
    assert status == raw_status == 0
    assert '"echo": "sk-…CDEF"' in out and "sk-…CDEF" in raw
    for text in (out, raw):
        assert "0123456789ab" not in text and "sk-parse-tes" not in text


def test_a_saved_request_is_named_as_one() -> None:
    s = parse_saved(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n")
    assert s.error is not None and s.error.offset == 0
    assert s.notes == [
        "these bytes begin with a request line, not a status line: wire parse reads a response "
        "(save the reply alone; wire diff compares requests)"
    ]
    assert parse_saved(b"HTTP/1.1 200 OK\r\n\r\n").notes == []
