"""Every example in examples/ runs to the end against the fake server and prints its lesson."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# One line (or part of one) each example must print: the point of its lesson.
KEY_LINES = {
    "00_from_requests.py": "the same answer both ways: True",
    "01_seed_request.py": "by hand: 335 bytes, by wire: 335 bytes, identical: True",
    "02_tls_handshake.py": "ALPN: we offered ['http/1.1'], the server chose 'http/1.1'",
    "03_status_and_fields.py": "header('Cache-Control') = 'no-cache, no-store'",
    "04_chunked_framing.py": "byte by byte and all at once give the same body: True",
    "05_json_and_usage.py": "total_tokens       35   (= 14 + 21)",
    "06_streaming_and_sse.py": "fed byte by byte: the same 19 events: True",
    "07_errors_and_retries.py": "APIError status=401 type='invalid_request_error' code='invalid_api_key'",
    "08_parser_property.py": "property holds: any split of a chunked response gives the same body",
    "11_content_length.py": "the next, correct request got: 501 Unsupported method ('}POST')",
    "10_other_clients.py": "requests: the same JSON data as wire's body: True, the same bytes: False",
    "09_history_and_tools.py": "the second request carries 3 messages: user, assistant, tool",
    "12_pace_and_coding.py": "we sent     Accept-Encoding: gzip, deflate",
}


def test_every_example_has_a_key_line() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("[0-9][0-9]_*.py")) == sorted(KEY_LINES)


def run(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SSLKEYLOGFILE")}
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


@pytest.mark.parametrize("name", sorted(KEY_LINES))
def test_example_runs(name: str) -> None:
    result = run(name)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    assert KEY_LINES[name] in result.stdout
    assert result.stderr == ""


def test_key_is_never_printed_in_full() -> None:
    result = run("01_seed_request.py")
    assert result.returncode == 0
    assert "Authorization: Bearer sk-…ABCD\\r\\n" in result.stdout
    assert "0123456789abcdef" not in result.stdout


def test_property_example_ignores_real() -> None:
    result = run("08_parser_property.py", "--real")
    assert result.returncode == 0
    assert result.stdout.startswith("(--real ignored: this lesson needs no server at all)\n")
