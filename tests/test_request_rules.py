"""Request validation, rule by rule: each boundary character of each grammar rule and each exact error message.

These tests pin what `wire/request.py` promises a learner: which characters a
method, a request-target, a field name and a field value may hold (RFC 9110
§5.1, §5.5, §5.6.2, §9.1; RFC 9112 §2.3, §3.2; RFC 3986 §2), and the exact text
of each refusal (what was wrong, where, and never a secret). They were written
to kill the mutants that `mutmut` left alive (docs/testing.md).
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from wire.errors import InvalidHeader, InvalidRequest
from wire.request import Request, chat_request, host_field, is_secret_field, redact_value

# RFC 9110 §5.6.2, written out again here on purpose (not imported): tchar.
RFC_TCHAR = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# RFC 3986 §2.2 reserved (gen-delims, sub-delims), §2.3 unreserved, plus "%" of a pct-encoded triplet.
RFC_URI = ":/?#[]@" + "!$&'()*+,;=" + "-._~" + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" + "%"
RULE_VALUE = "(RFC 9110 §5.5)"


def refusal(request: Request) -> InvalidHeader:
    """The refusal of a header field: an ``InvalidHeader``."""
    with pytest.raises(InvalidHeader) as info:
        request.validate()
    return info.value


def line_refusal(request: Request) -> InvalidRequest:
    """The refusal of the request line (method, target, version): an ``InvalidRequest``, not a header error."""
    with pytest.raises(InvalidRequest) as info:
        request.validate()
    assert type(info.value) is InvalidRequest
    return info.value


# -- tchar: the method and field names ------------------------------------------------


@pytest.mark.parametrize("code", range(0x00, 0x100))
def test_method_and_field_name_accept_exactly_tchar(code: int) -> None:
    char = chr(code)
    if char in RFC_TCHAR:
        Request("G" + char, "/", [("X" + char, "v")]).validate()
        # Beside a bad field the checks run rule by rule: the method and the name pass them too.
        assert refusal(Request("G" + char, "/", [("X" + char, "v"), ("Y", "\x00")])).name == "Y"
        return
    method_error = line_refusal(Request("G" + char, "/"))
    assert "has " in str(method_error) and " at position 1; a method is a token (RFC 9110 §9.1)" in str(method_error)
    name_error = refusal(Request("GET", "/", [("X" + char, "v")]))
    assert name_error.name == "X" + char
    assert " at position 1; a field name is a token" in str(name_error)


def test_method_messages_exact() -> None:
    assert str(line_refusal(Request("", "/"))) == "the method is empty; it must be a token such as POST (RFC 9110 §9.1)"
    assert str(line_refusal(Request("PO ST", "/"))) == (
        "the method 'PO ST' has SP (space) at position 2; a method is a token (RFC 9110 §9.1)"
    )
    assert str(line_refusal(Request("{GET", "/"))) == (
        "the method '{GET' has '{' at position 0; a method is a token (RFC 9110 §9.1)"
    )


def test_field_name_messages_exact() -> None:
    empty = refusal(Request("GET", "/", [("", "v")]))
    assert str(empty) == "a field name is empty; it must be a token (RFC 9110 §5.1)"
    assert empty.name == ""
    tab = refusal(Request("GET", "/", [("X-A\tB", "v")]))
    assert str(tab) == (
        "the field name 'X-A\\tB' has HTAB (\\t) at position 3; a field name is a token (RFC 9110 §5.1), "
        "so no spaces, colons or control characters"
    )
    assert tab.name == "X-A\tB"
    # The first bad character is the one named, not the last.
    colon = refusal(Request("GET", "/", [("A:B C", "v")]))
    assert "has ':' at position 1;" in str(colon)


# -- the request-target ---------------------------------------------------------------


@pytest.mark.parametrize("code", range(0x00, 0x100))
def test_target_accepts_exactly_uri_characters(code: int) -> None:
    char = chr(code)
    if char in RFC_URI and char != "#":
        Request("GET", "/" + char).validate()
        # Beside a bad field the checks run rule by rule (the one match of the head fails): the target passes them too.
        assert type(refusal(Request("GET", "/" + char, [("X-Note", "\x00")]))) is InvalidHeader
        return
    message = str(line_refusal(Request("GET", "/" + char)))
    prefix = f"the request-target {'/' + char!r} has "
    assert message.startswith(prefix)
    assert " at position 1, which may not appear in a request-target (RFC 9112 §3.2, RFC 3986 §2)" in message
    if char == "#":
        assert message.endswith(" (a fragment is never sent)")
    elif code > 0x7F:
        assert message.endswith("; percent-encode its UTF-8 bytes")
    else:
        assert message.endswith(f"; percent-encode it as %{code:02X}")


def test_target_messages_exact() -> None:
    assert str(line_refusal(Request("GET", ""))) == (
        "the request-target is empty; it should start with '/' (RFC 9112 §3.2.1)"
    )
    assert str(line_refusal(Request("GET", "/a b"))) == (
        "the request-target '/a b' has SP (space) at position 2, which may not appear in a request-target "
        "(RFC 9112 §3.2, RFC 3986 §2); percent-encode it as %20"
    )
    assert str(line_refusal(Request("GET", "/\x7f"))) == (
        "the request-target '/\\x7f' has DEL (\\x7f) at position 1, which may not appear in a request-target "
        "(RFC 9112 §3.2, RFC 3986 §2); percent-encode it as %7F"
    )
    assert str(line_refusal(Request("GET", "/\x80"))) == (
        "the request-target '/\\x80' has U+0080 ('\\x80') at position 1, which may not appear in a "
        "request-target (RFC 9112 §3.2, RFC 3986 §2); percent-encode its UTF-8 bytes"
    )
    assert str(line_refusal(Request("GET", "/p#frag"))) == (
        "the request-target '/p#frag' has '#' at position 2, which may not appear in a request-target "
        "(RFC 9112 §3.2, RFC 3986 §2) (a fragment is never sent)"
    )
    # The first bad character is named: position 1, not 3.
    assert " at position 1," in str(line_refusal(Request("GET", "/{}}")))


@pytest.mark.parametrize("target", ["a:", "http://h/p", "a+b-c.d9:x", "Z:rest", "http://h:1/p"])
def test_absolute_form_schemes(target: str) -> None:
    # RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    Request("GET", target).validate()
    # The same target beside a bad field: the checks rule by rule run, and they too accept the target.
    assert type(refusal(Request("GET", target, [("X-Note", "\x00")]))) is InvalidHeader


@pytest.mark.parametrize("target", ["abc", ":x", "1http:x", "a_b:x", "a!b:x", "*", "h?x:y"])
def test_neither_origin_nor_absolute_form(target: str) -> None:
    assert str(line_refusal(Request("GET", target))) == (
        f"the request-target {target!r} is neither origin-form ('/path?query') nor absolute-form "
        "('scheme://host/path') (RFC 9112 §3.2)"
    )


# -- HTTP version and Content-Length ------------------------------------------------------


@pytest.mark.parametrize("version", ["HTTP/1.0", "HTTP/2.0", "HTTP/0.9"])
def test_good_versions(version: str) -> None:
    assert Request("GET", "/", http_version=version).head_bytes() == f"GET / {version}\r\n\r\n".encode()


@pytest.mark.parametrize("version", ["HTTP/1.10", "http/1.1", "HTTP/1", "xHTTP/1.1", "HTTP/1.1 ", "HTTP/a.1"])
def test_bad_versions_message(version: str) -> None:
    assert str(line_refusal(Request("GET", "/", http_version=version))) == (
        f"HTTP version {version!r} is not HTTP/DIGIT.DIGIT (RFC 9112 §2.3)"
    )


def test_content_length_message_exact() -> None:
    error = refusal(Request("POST", "/", [("content-length", "5")], body=b"four"))
    assert error.name == "Content-Length"
    assert str(error) == (
        "Content-Length is '5' but the body is 4 bytes; the server would read the wrong number of bytes "
        "(RFC 9112 §6.2)"
    )
    Request("POST", "/", [("Content-Length", "4")], body=b"four").validate()
    # Two fields are read as header("Content-Length") reads them: joined with ", " (RFC 9110 §5.3).
    error = refusal(Request("POST", "/", [("Content-Length", "4"), ("content-length", "4")], body=b"four"))
    assert str(error).startswith("Content-Length is '4, 4' but the body is 4 bytes")


# -- field values -------------------------------------------------------------------------


@pytest.mark.parametrize("code", [*range(0x00, 0x21), *range(0x7E, 0x82), 0xFE, 0xFF, 0x100, 0x2603])
def test_value_characters_inside_a_value(code: int) -> None:
    # field-vchar = VCHAR / obs-text; SP and HTAB only between them; nothing above one ISO-8859-1 byte.
    char = chr(code)
    request = Request("GET", "/", [("X-Note", f"a{char}b")])
    if char in " \t" or 0x21 <= code <= 0x7E or 0x80 <= code <= 0xFF:
        assert request.head_bytes() == b"GET / HTTP/1.1\r\nX-Note: a" + bytes([code]) + b"b\r\n\r\n"
        # Beside a bad field the checks run rule by rule: the value passes them too.
        assert refusal(Request("GET", "/", [("X-Note", f"a{char}b"), ("Y", "\x00")])).name == "Y"
        return
    error = refusal(request)
    assert error.name == "X-Note"
    if code > 0xFF:
        assert str(error) == (
            f"the value of X-Note contains U+{code:04X} ({char!r}) that is not one byte in ISO-8859-1 "
            f"at position 1 {RULE_VALUE}: {'a' + char + 'b'!r}"
        )
    else:
        assert str(error).startswith("the value of X-Note contains ")
        assert str(error).endswith(f" at position 1 {RULE_VALUE}: {'a' + char + 'b'!r}")


@pytest.mark.parametrize(
    ("char", "described"),
    [
        ("\r", "CR (\\r)"),
        ("\n", "LF (\\n)"),
        ("\x00", "NUL (\\x00)"),
        ("\x7f", "DEL (\\x7f)"),
        ("\x01", "a control character ('\\x01')"),
        ("\x1f", "a control character ('\\x1f')"),
        ("\x0b", "a control character ('\\x0b')"),
    ],
)
def test_control_character_named_exactly(char: str, described: str) -> None:
    value = f"ab{char}c"
    assert str(refusal(Request("GET", "/", [("X-Note", value)]))) == (
        f"the value of X-Note contains {described} at position 2 {RULE_VALUE}: {value!r}"
    )


def test_first_bad_character_is_the_one_named() -> None:
    assert "contains CR (\\r) at position 1 " in str(refusal(Request("GET", "/", [("X-Note", "a\rb\nc")])))
    assert "contains U+0100 ('Ā') that is not one byte in ISO-8859-1 at position 1 " in str(
        refusal(Request("GET", "/", [("X-Note", "a\u0100b\u0101c")]))
    )
    # A control character after a wide one: the wide one comes first.
    assert "at position 1 " in str(refusal(Request("GET", "/", [("X-Note", "a\u0100\r")])))


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (" lead", "starts with SP (space) at position 0"),
        ("\tlead", "starts with HTAB (\\t) at position 0"),
        ("trail ", "ends with SP (space) at position 5"),
        ("trail\t", "ends with HTAB (\\t) at position 5"),
        (" both ", "starts with SP (space) at position 0"),
        (" ", "starts with SP (space) at position 0"),
    ],
)
def test_whitespace_at_either_end(value: str, problem: str) -> None:
    assert str(refusal(Request("GET", "/", [("X-Note", value)]))) == (
        f"the value of X-Note {problem} {RULE_VALUE}: {value!r}"
    )


@pytest.mark.parametrize("value", ["", "x", "a b", "a\tb", "\xff", "~"])
def test_good_values(value: str) -> None:
    assert Request("GET", "/", [("X-Note", value)]).head_bytes() == (
        b"GET / HTTP/1.1\r\nX-Note: " + value.encode("latin-1") + b"\r\n\r\n"
    )


# -- secret values: where, never what ------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem", "stray"),
    [
        ("Bearer sk-abc\r", "contains CR (\\r) at position 13 of 14", "carriage return"),
        ("Bearer sk-abc\n", "contains LF (\\n) at position 13 of 14", "newline"),
        ("Bearer sk-abc ", "ends with SP (space) at position 13 of 14", "space"),
        ("\tBearer sk-abc", "starts with HTAB (\\t) at position 0 of 14", "tab"),
        ("Bearer sk-abc\x00", "contains NUL (\\x00) at position 13 of 14", "character"),
        ("Bearer sk-ab\u0100", "contains a character that is not one byte in ISO-8859-1 at position 12 of 13", "character"),
    ],
)
def test_authorization_value_errors_exact(value: str, problem: str, stray: str) -> None:
    error = refusal(Request("GET", "/", [("authorization", value)]))
    assert error.name == "authorization"
    assert str(error) == (
        f"the value of authorization {problem} {RULE_VALUE}; check OPENAI_API_KEY (your .env or environment) "
        f"for a stray {stray}"
    )


def test_other_secret_value_error_exact() -> None:
    error = refusal(Request("GET", "/", [("Cookie", "session=abcdef\n")]))
    assert str(error) == (
        f"the value of Cookie contains LF (\\n) at position 14 of 15 {RULE_VALUE}; check where the Cookie value "
        "comes from for a stray newline"
    )
    assert error.name == "Cookie"


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("Authorization", True),
        ("PROXY-AUTHORIZATION", True),
        ("cookie", True),
        ("Set-Cookie", True),
        ("X-Api-KEY", True),
        ("X-Auth-Token", True),
        ("Client-Secret", True),
        ("Content-Type", False),
        ("Cookies", False),
        ("Authorizations", False),
        ("Host", False),
    ],
)
def test_is_secret_field(name: str, secret: bool) -> None:
    assert is_secret_field(name) is secret


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("Content-Type", "application/json", "application/json"),
        ("Authorization", "Bearer sk-proj-abcdefghijklWXYZ", "Bearer sk-…WXYZ"),
        ("Authorization", "bearer sk-proj-abcdefghijklWXYZ", "bearer sk-…WXYZ"),
        ("Proxy-Authorization", "Basic dXNlcjpwYXNzd29yZA==", "Basic …ZA=="),
        ("Authorization", "Token abcdefghijklmnop", "…mnop"),
        ("X-Api-Key", "sk-abcdefghijklmnop", "sk-…mnop"),
        ("X-Api-Key", "short", "***"),
        ("Authorization", "Bearer short", "Bearer ***"),
        # The scheme is the first word: the credentials may hold spaces themselves.
        ("Authorization", "Bearer abc def ghij klmn", "Bearer …klmn"),
    ],
)
def test_redact_value(name: str, value: str, shown: str) -> None:
    assert redact_value(name, value) == shown


# -- the bytes ------------------------------------------------------------------------------


def test_values_are_written_as_latin1_one_byte_each() -> None:
    request = Request("GET", "/", [("X-Name", "Jos\xe9")])
    assert request.head_bytes() == b"GET / HTTP/1.1\r\nX-Name: Jos\xe9\r\n\r\n"


def test_repr_exact() -> None:
    request = chat_request(
        host="h", port=80, scheme="http", path="/p", api_key="sk-proj-abcdefghijklWXYZ", body=b"{}"
    )
    assert repr(request) == (
        "Request(method='POST', target='/p', headers=[('Host', 'h'), ('Content-Type', 'application/json'), "
        "('Content-Length', '2'), ('Accept', 'application/json'), ('User-Agent', 'wire/"
        + request.header("User-Agent")[len("wire/") :]  # type: ignore[index]
        + "'), ('Authorization', 'Bearer sk-…WXYZ')], body=<2 bytes>, http_version='HTTP/1.1')"
    )


@pytest.mark.parametrize(
    ("host", "port", "scheme", "value"),
    [
        ("h", 80, "http", "h"),
        ("h", 443, "http", "h:443"),
        ("h", 8080, "ftp", "h:8080"),
        ("2001:db8::1", 443, "https", "[2001:db8::1]"),
        ("2001:db8::1", 80, "http", "[2001:db8::1]"),
    ],
)
def test_host_field_default_ports(host: str, port: int, scheme: str, value: str) -> None:
    assert host_field(host, port, scheme) == value


def test_header_lookup_joins_in_order() -> None:
    request = Request("GET", "/", [("A", "1"), ("B", "x"), ("a", "2"), ("A", "3")])
    assert request.header("a") == "1, 2, 3"
    assert request.header("B") == "x"
    assert request.header("C") is None


# -- the one-match check agrees with the checks rule by rule ----------------------------

# A good request with one part replaced by text made of pieces near the edges of the rules:
# characters each rule allows or refuses, and the shapes that could fool one match of the
# whole head (a line end followed by a field line, a colon and SP in a name).
_PIECES = ["a", "Z", "0", "-", ".", "+", ":", ": ", "/", "?", " ", "\t", "\r", "\n", "\r\n", "\r\nX: y", "#", "%"]
_PIECES += ["@", "\x00", "\x7f", "\x80", "\xff", "\u0100", "\u201c", "HTTP/1.1"]
_edge_text = st.lists(st.sampled_from(_PIECES), max_size=5).map("".join)
_parts = st.sampled_from(["method", "target", "target after /", "version", "name", "value"])


def _each_rule(request: Request) -> type[Exception] | None:
    """What the rule-by-rule checks say of ``request`` (the error type, or None), run one by one."""
    from wire import request as module
    from wire.grammar import HTTP_VERSION_RE

    try:
        module._check_method(request.method)
        module._check_target(request.target)
        if not HTTP_VERSION_RE.fullmatch(request.http_version):
            return InvalidRequest
        for name, value in request.headers:
            module._check_name(name)
            module._check_value(name, value)
    except InvalidRequest as exc:
        return type(exc)
    length = request.header("Content-Length")
    return None if length is None or length == str(len(request.body)) else InvalidHeader


# Good targets of both forms, and an absolute-form one whose authority has a colon too.
_good_targets = st.sampled_from(["/v1/chat/completions", "http://h:1/p", "h.x+1-2:3", "/"])


@given(part=_parts, text=_edge_text, body=st.sampled_from([b"", b"x"]), good_target=_good_targets)
@example(part="value", text="v\r\nX: y", body=b"x", good_target="/")  # a line end, then a field line of its own
@example(part="name", text="A: b", body=b"x", good_target="/")  # "A: b: v" reads as the field A, value "b: v"
@example(part="target after /", text="\x00", body=b"x", good_target="/")
@example(part="value", text="\x00", body=b"x", good_target="http://h:1/p")  # the value is wrong, not the target
def test_the_one_match_check_agrees_with_the_rules_one_by_one(
    part: str, text: str, body: bytes, good_target: str
) -> None:
    """validate() first matches the whole head once (REQUEST_HEAD_SENT in wire/grammar.py) and runs the
    rules one by one only when that fails: it must refuse exactly what they refuse."""
    method, target, version = "POST", good_target, "HTTP/1.1"
    name, value = "X-Note", "v"
    if part == "method":
        method = text
    elif part == "target":
        target = text
    elif part == "target after /":
        target = "/" + text
    elif part == "version":
        version = text
    elif part == "name":
        name = text
    else:
        value = text
    headers = [("Host", "example.com"), (name, value), ("Content-Length", "1")]
    request = Request(method, target, headers, body, http_version=version)
    try:
        request.validate()
        got = None
    except InvalidRequest as exc:
        got = type(exc)
    assert got is _each_rule(request)


def test_a_good_head_is_checked_by_the_one_match_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule-by-rule checks are for saying what is wrong: a good head never reaches them."""
    from wire import request as module

    def not_called(*args: object) -> None:
        raise AssertionError("a rule-by-rule check ran for a good head")

    for name in ("_check_method", "_check_target", "_check_name", "_check_value"):
        monkeypatch.setattr(module, name, not_called)
    request = chat_request(
        host="api.openai.com", port=443, scheme="https", path="/v1/chat/completions", api_key="sk-abc", body=b"{}"
    )
    assert request.to_bytes().startswith(b"POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n")
    Request("GET", "/", [("X-Empty", ""), ("X-Tab", "a\tb")]).validate()
