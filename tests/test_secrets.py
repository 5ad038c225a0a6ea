"""The API key never appears in any output unless --show-secrets asks for it (issue 4, item 6).

Random keys shaped like real ones (``sk-`` + 20-60 of [A-Za-z0-9_-]) go
through every CLI view against a FakeServer on loopback, through the error
texts, and through the repr of every public object. The check is not only
the whole key: no 12-character window of its random part may appear either.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wire
from wire.cli import main
from wire.client import Client
from wire.config import Settings
from wire.fake import FakeServer

KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
# Real keys are random: every stretch mixes upper case, lower case and digits. Hypothesis also
# tries strings it finds in wire's own source ("openai-processing-ms"), which then appear in
# the output for reasons that have nothing to do with the key; requiring the mix in every
# window keeps such look-alikes out without weakening the check on real-looking keys.
keys = (
    st.text(KEY_CHARS, min_size=20, max_size=60)
    .filter(lambda part: all(_random_looking(part[i : i + 12]) for i in range(len(part) - 11)))
    .map(lambda random_part: "sk-" + random_part)
)
WINDOW = 12


def _random_looking(window: str) -> bool:
    return any(c.isupper() for c in window) and any(c.islower() for c in window) and any(c.isdigit() for c in window)
SLOW = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))


def assert_hidden(text: str, key: str) -> None:
    secret = key[len("sk-") :]
    assert key not in text
    for i in range(len(secret) - WINDOW + 1):
        window = secret[i : i + WINDOW]
        assert window not in text, f"{window!r} of the key leaked: ...{text[max(0, text.find(window) - 40) :][:100]!r}"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        yield fake


@pytest.fixture(scope="module")
def refusing_server() -> Iterator[FakeServer]:
    with FakeServer(status=401) as fake:
        yield fake


def run_cli(args: list[str], key: str, base_url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OPENAI_API_KEY", key)
        mp.setenv("OPENAI_BASE_URL", base_url)
        mp.delenv("OPENAI_MODEL", raising=False)
        mp.setenv("NO_COLOR", "1")
        status = main(["chat", "Hi", "--max-retries", "0", "--timeout", "5", *args])
    out, err = capsys.readouterr()
    return status, out + err


@SLOW
@given(key=keys)
def test_every_cli_view_hides_the_key(
    key: str, server: FakeServer, refusing_server: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    for args in (["--hex"], ["--raw"], ["--stream", "--hex"]):
        status, text = run_cli(args, key, server.base_url, capsys)
        assert status == 0, text
        assert "Authorization: Bearer sk-…" in text
        assert_hidden(text, key)
    status, text = run_cli(["--stream"], key, refusing_server.base_url, capsys)  # a 401 error
    assert status == 1 and "Incorrect API key" in text
    assert_hidden(text, key)


@SLOW
@given(key=keys)
def test_show_secrets_shows_the_key(key: str, server: FakeServer, capsys: pytest.CaptureFixture[str]) -> None:
    status, text = run_cli(["--show-secrets", "--hex"], key, server.base_url, capsys)
    assert status == 0 and f"Authorization: Bearer {key}" in text
    status, text = run_cli(["--show-secrets", "--raw"], key, server.base_url, capsys)
    assert status == 0 and f"Authorization: Bearer {key}\r\n" in text


@SLOW
@given(key=keys)
def test_error_texts_and_reprs_hide_the_key(
    key: str, server: FakeServer, refusing_server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = Client(base_url=server.base_url, api_key=key, timeout=5, max_retries=0)
    exchange = client.chat("Hi")
    objects: list[object] = [client, client.settings, exchange, exchange.request, exchange.response]
    objects += exchange.attempts + exchange.records + exchange.events
    with pytest.raises(wire.APIError) as refused:
        Client(base_url=refusing_server.base_url, api_key=key, timeout=5, max_retries=0).chat("Hi")
    with pytest.raises(wire.InvalidHeader) as stray:
        Client(base_url=server.base_url, api_key=key + "\r", timeout=5).prepare("Hi")
    errors: list[BaseException] = [refused.value, stray.value]
    objects += [*errors, refused.value.exchange, *refused.value.exchange.attempts]
    objects.append(Settings(api_key=key))
    texts = [repr(o) for o in objects] + [str(e) for e in errors] + [r.getMessage() for r in caplog.records]
    for text in texts:
        assert_hidden(text, key)


@SLOW
@given(key=keys)
def test_recorded_requests_and_their_diffs_hide_the_key(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``wire serve --record``'s printout and ``wire diff`` (A B, and A --wire) never show a key a client sent."""
    import http.client
    import io
    import json
    import tempfile

    from wire.record import Recorder

    printed = io.StringIO()
    with tempfile.TemporaryDirectory() as folder:
        recorder = Recorder(folder, out=printed)
        with FakeServer(on_request=recorder) as fake:
            Client(base_url=fake.base_url, api_key=key, timeout=5, max_retries=0).chat("Hi")
            body = json.dumps({"model": "m", "messages": [{"role": "user", "content": f"my key is {key}"}]})
            connection = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
            headers = {"Authorization": f"Bearer {key}", "X-Api-Key": key, "X-Note": f"key={key}"}
            connection.request("POST", "/v1/chat/completions", body, headers)
            connection.getresponse().read()
            connection.close()
        first, second = (str(p) for p in recorder.saved)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("NO_COLOR", "1")
            assert main(["diff", first, second]) == 1
            assert main(["diff", second, "--wire"]) == 1
        out, err = capsys.readouterr()
    assert "Bearer sk-…" in printed.getvalue() and f"  only in B: X-Api-Key\n    B  sk-…{key[-4:]}\n" in out
    assert_hidden(printed.getvalue() + out + err, key)
