"""Request bytes: the exact chat request, validation that never leaks a secret, and h11 as an oracle."""

from __future__ import annotations

import string

import h11
import pytest
from hypothesis import given
from hypothesis import strategies as st

import wire
from wire.errors import InvalidHeader, InvalidRequest
from wire.request import TCHAR, URI_CHARS, USER_AGENT, Request, chat_request, host_field, is_secret_field

KEY = "sk-proj-Zq81nXb2Lm4Tr9Vw6Ke3Py7Ha5Jd0Gc1WXYZ"
BODY = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}'


def chat(**overrides: object) -> Request:
    args: dict[str, object] = {
        "host": "api.openai.com",
        "port": 443,
        "scheme": "https",
        "path": "/v1/chat/completions",
        "api_key": KEY,
        "body": BODY,
    }
    args.update(overrides)
    return chat_request(**args)  # type: ignore[arg-type]


# -- the exact bytes ----------------------------------------------------------------


def test_chat_request_exact_bytes() -> None:
    expected = (
        b"POST /v1/chat/completions HTTP/1.1\r\n"
        b"Host: api.openai.com\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: " + str(len(BODY)).encode() + b"\r\n"
        b"Accept: application/json\r\n"
        b"User-Agent: wire/" + wire.__version__.encode() + b"\r\n"
        b"Authorization: Bearer " + KEY.encode() + b"\r\n"
        b"\r\n" + BODY
    )
    request = chat()
    assert request.to_bytes() == expected
    assert request.head_bytes() + BODY == expected


def test_streamed_chat_request_accepts_event_stream_and_port_in_host() -> None:
    request = chat(host="127.0.0.1", port=8080, scheme="http", accept="text/event-stream")
    assert request.header("accept") == "text/event-stream"
    assert request.headers[0] == ("Host", "127.0.0.1:8080")


@pytest.mark.parametrize(
    ("host", "port", "scheme", "value"),
    [
        ("api.openai.com", 443, "https", "api.openai.com"),
        ("api.openai.com", 80, "https", "api.openai.com:80"),
        ("localhost", 80, "http", "localhost"),
        ("::1", 8443, "https", "[::1]:8443"),
    ],
)
def test_host_field(host: str, port: int, scheme: str, value: str) -> None:
    assert host_field(host, port, scheme) == value


def test_user_agent_and_header_lookup() -> None:
    assert USER_AGENT == f"wire/{wire.__version__}"
    request = Request("GET", "/", [("X-A", "1"), ("x-a", "2")])
    assert request.header("X-a") == "1, 2"
    assert request.header("missing") is None


# -- validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("char", "label"), [("\r", "CR"), ("\n", "LF"), ("\x00", "NUL"), ("\x7f", "DEL"), ("\x01", "")]
)
def test_control_characters_in_values_are_refused(char: str, label: str) -> None:
    request = Request("GET", "/", [("X-Note", f"ab{char}cd")])
    with pytest.raises(InvalidHeader) as info:
        request.to_bytes()
    assert info.value.name == "X-Note"
    assert "X-Note" in str(info.value) and label in str(info.value) and "position 2" in str(info.value)
    assert repr(f"ab{char}cd") in str(info.value)  # not a secret: quoted, escaped


@pytest.mark.parametrize("value", [" lead", "trail ", "\ttab", "snow☃man"])
def test_whitespace_at_ends_and_wide_characters_are_refused(value: str) -> None:
    with pytest.raises(InvalidHeader, match="X-Note"):
        Request("GET", "/", [("X-Note", value)]).validate()


def assert_no_secret(text: str, secret: str) -> None:
    for i in range(len(secret) - 7):
        assert secret[i : i + 8] not in text, f"{secret[i : i + 8]!r} leaked into {text!r}"


def test_api_key_with_stray_carriage_return() -> None:
    key = KEY + "\r"
    with pytest.raises(InvalidHeader) as info:
        chat(api_key=key).to_bytes()
    text = str(info.value)
    assert info.value.name == "Authorization"
    assert "Authorization" in text and "CR (\\r)" in text
    assert f"position {len('Bearer ') + len(KEY)}" in text
    assert "OPENAI_API_KEY" in text and "carriage return" in text
    assert_no_secret(text, key)
    assert_no_secret(repr(info.value), key)


@pytest.mark.parametrize("name", ["Authorization", "Proxy-Authorization", "Cookie", "X-Api-Key", "X-Auth-Token"])
def test_secret_fields_are_never_quoted(name: str) -> None:
    secret = "s3cr3t-VALUE-that-must-not-leak"
    with pytest.raises(InvalidHeader) as info:
        Request("GET", "/", [(name, secret + "\r\nX-Injected: 1")]).validate()
    assert name in str(info.value) and "CR (\\r)" in str(info.value)
    assert_no_secret(str(info.value), secret + "\r\nX-Injected: 1")


def test_secret_field_names() -> None:
    assert is_secret_field("authorization") and is_secret_field("OpenAI-Api-Key") and is_secret_field("X-Secret")
    assert not is_secret_field("Content-Type")


@pytest.mark.parametrize("name", ["", "Bad Name", "X:Y", "X: Y", "Näme", "X\r\nY", "Host "])
def test_bad_field_names(name: str) -> None:
    with pytest.raises(InvalidHeader, match="field name") as info:
        Request("GET", "/", [(name, "v")]).to_bytes()
    assert info.value.name == name


@pytest.mark.parametrize("method", ["", "PO ST", "GET\r\n", "GÉT", "(GET)"])
def test_bad_methods(method: str) -> None:
    with pytest.raises(InvalidRequest, match="method") as info:
        Request(method, "/").to_bytes()
    assert type(info.value) is InvalidRequest  # the request line, not a header field


@pytest.mark.parametrize("target", ["", "/a b", "/a\r\nX: y", "/é", "relative/path", "/page#frag", "/{x}"])
def test_bad_targets(target: str) -> None:
    with pytest.raises(InvalidRequest, match="request-target") as info:
        Request("GET", target).to_bytes()
    assert type(info.value) is InvalidRequest


@pytest.mark.parametrize("target", ["/", "/v1/chat/completions?x=1&y=%20", "http://example.com:8080/v1", "/a/b;c=d"])
def test_good_targets(target: str) -> None:
    Request("GET", target).validate()


def test_bad_http_version_and_content_length() -> None:
    with pytest.raises(InvalidRequest, match="HTTP version") as version:
        Request("GET", "/", http_version="HTTP/11").validate()
    assert type(version.value) is InvalidRequest
    with pytest.raises(InvalidHeader, match="Content-Length") as length:
        Request("POST", "/", [("Content-Length", "5")], body=b"four").validate()
    assert length.value.name == "Content-Length"


def test_invalid_request_is_the_parent_of_invalid_header_and_public() -> None:
    import wire
    import wire.errors

    assert wire.InvalidRequest is wire.errors.InvalidRequest is InvalidRequest
    assert issubclass(InvalidHeader, InvalidRequest) and issubclass(InvalidRequest, wire.WireError)
    assert issubclass(InvalidRequest, ValueError)


def test_repr_redacts_secrets() -> None:
    text = repr(chat())
    assert "Bearer sk-…WXYZ" in text
    assert_no_secret(text, KEY)
    assert "'Content-Type', 'application/json'" in text
    assert f"<{len(BODY)} bytes>" in text


# -- round trip through h11's server-side parser (a test-only oracle) --------------------

tokens = st.text(alphabet=sorted(TCHAR), min_size=1, max_size=12)
targets = st.text(alphabet=sorted(URI_CHARS - {"#"}), max_size=40).map(lambda path: "/" + path)
field_chars = st.characters(codec="latin-1", exclude_categories=["Cc"]) | st.sampled_from(" \t")
values = st.text(alphabet=field_chars, max_size=30).filter(lambda v: v == v.strip(" \t"))
framing = {"host", "content-length", "transfer-encoding"}
fields = st.lists(st.tuples(tokens.filter(lambda n: n.lower() not in framing), values), max_size=8)


@given(method=tokens, target=targets, extra=fields, body=st.binary(max_size=200))
def test_h11_parses_what_we_write(method: str, target: str, extra: list[tuple[str, str]], body: bytes) -> None:
    headers = [("Host", "example.com"), *extra, ("Content-Length", str(len(body)))]
    request = Request(method, target, headers, body)

    server = h11.Connection(h11.SERVER)
    server.receive_data(request.to_bytes())
    event = server.next_event()
    assert isinstance(event, h11.Request)
    assert event.method == method.encode("ascii")
    assert event.target == target.encode("ascii")
    assert event.http_version == b"1.1"
    assert list(event.headers.raw_items()) == [(n.encode(), v.encode("latin-1")) for n, v in headers]

    received = b""
    while True:
        event = server.next_event()
        if isinstance(event, h11.Data):
            received += event.data
        else:
            break
    assert isinstance(event, h11.EndOfMessage)
    assert received == body


def test_ascii_helpers_are_what_the_rfc_says() -> None:
    assert set(string.ascii_letters + string.digits) <= TCHAR
    assert not ({" ", ":", "(", ")", "/", "@", '"'} & TCHAR)


def test_a_value_with_0xff_is_one_byte_and_the_real_fault_is_named() -> None:
    # U+00FF is the last ISO-8859-1 character (obs-text, RFC 9110 §5.5): the fault is the trailing space.
    with pytest.raises(InvalidHeader) as info:
        Request("GET", "/", [("X-Note", "\xff ")]).validate()
    assert "ends with SP" in str(info.value) and "not one byte" not in str(info.value)
