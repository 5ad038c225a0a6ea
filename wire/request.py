"""The request as exact bytes: request line, header fields, blank line, body.

An HTTP/1.1 request is text lines ending in CRLF, then the body (RFC 9112 §2.1):

    POST /v1/chat/completions HTTP/1.1\\r\\n      <- request line (RFC 9112 §3)
    Host: api.openai.com\\r\\n                    <- one field per line (RFC 9112 §5)
    ...
    \\r\\n                                        <- empty line: the head ends here
    {"model": ...}                              <- body, exactly Content-Length bytes

Nothing is added behind your back: the fields in ``Request.headers`` are the
fields on the wire, in that order, with that case. ``validate()`` refuses
anything that would change the meaning of those bytes, above all a CR or LF
inside a value (which would end the field early and let the rest be read as a
new field: "header injection"). Refusals are ``InvalidRequest`` (the request
line) or its subclass ``InvalidHeader`` (a field), and never quote
a secret, such as an API key with a stray ``\\r`` from a ``.env`` file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wire.errors import InvalidHeader, InvalidRequest
from wire.grammar import (
    FIELD_VALUE_RE,
    HTTP_VERSION_RE,
    NOT_TCHAR_RE,
    NOT_URI_CHAR_RE,
    REQUEST_HEAD_SENT_RE,
    TOKEN_RE,
    URI_CHARACTERS,
)
from wire.secrets import redact
from wire.version import __version__

USER_AGENT = f"wire/{__version__}"

# The characters a token may hold (tchar, RFC 9110 §5.6.2, in wire/grammar.py), as a set.
TCHAR = frozenset(c for c in map(chr, range(128)) if TOKEN_RE.fullmatch(c))

# The characters a request-target may hold (RFC 3986 §2, RFC 9112 §3.2, in wire/grammar.py), as a set.
URI_CHARS = frozenset(URI_CHARACTERS)

# The method, the field names, the version and the field values are checked against the
# grammar in wire/grammar.py (token, HTTP-version, field-value).
_CTL_NAMES = {"\r": "CR (\\r)", "\n": "LF (\\n)", "\x00": "NUL (\\x00)", "\x7f": "DEL (\\x7f)"}

_STRAY = {"\r": "carriage return", "\n": "newline", " ": "space", "\t": "tab"}

# Fields whose values are credentials: never quoted in an error or a repr.
_SECRET_NAMES = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_SECRET_WORDS = ("key", "token", "secret")


def is_secret_field(name: str) -> bool:
    """True when the value of field ``name`` is a credential and must not be shown."""
    lower = name.lower()
    return lower in _SECRET_NAMES or any(word in lower for word in _SECRET_WORDS)


def redact_value(name: str, value: str) -> str:
    """The value of field ``name`` as safe to show: secrets redacted (``"Bearer sk-…abcd"``)."""
    if not is_secret_field(name):
        return value
    scheme, sep, credentials = value.partition(" ")
    if sep and scheme.lower() in ("bearer", "basic"):  # RFC 9110 §11.4: auth-scheme SP credentials
        return f"{scheme} {redact(credentials)}"
    return redact(value)


@dataclass
class Request:
    """One HTTP/1.1 request exactly as it will be written to the socket.

    ``headers`` are ``(name, value)`` pairs in wire order with their original
    case; ``to_bytes()`` writes them as ``Name: value\\r\\n``. Values are
    encoded as ISO-8859-1, one byte per character, as ``http.client`` does.
    """

    method: str
    target: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    http_version: str = "HTTP/1.1"

    def header(self, name: str) -> str | None:
        """The value of field ``name`` (any case), several values joined with ``", "``; None if absent."""
        lname = name.lower()
        values = [v for n, v in self.headers if n.lower() == lname]
        return ", ".join(values) if values else None

    def head_bytes(self) -> bytes:
        """The request line and the header fields, each ending in CRLF, plus the empty line.

        RFC 9112 §3: ``request-line = method SP request-target SP HTTP-version``.
        """
        head = self._head()
        self._validate(head)
        return head.encode("latin-1")

    def to_bytes(self) -> bytes:
        """Everything that crosses the wire for this request: ``head_bytes()`` then the body."""
        return self.head_bytes() + self.body

    def validate(self) -> None:
        """Raise ``InvalidRequest`` for a bad method, target or version, ``InvalidHeader`` for a bad field."""
        self._validate(self._head())

    def _head(self) -> str:
        """The head as it goes out, as text: the request line, ``Name: value`` CRLF per field, CRLF."""
        field_lines = "".join([name + ": " + value + "\r\n" for name, value in self.headers])
        return f"{self.method} {self.target} {self.http_version}\r\n{field_lines}\r\n"

    def _validate(self, head: str) -> None:
        # One match checks the request line and every field line against the grammar, and one
        # count that no part holds an LF of its own (which would make its rest a line of its own:
        # header injection). A name may hold no colon: the name "A: b" with the value "c" makes
        # the line "A: b: c", which matches as the field A with the value "b: c". When any check
        # fails, the checks below say which part is wrong and why.
        if (
            head.count("\n") != len(self.headers) + 2
            or ":" in "".join([name for name, _ in self.headers])
            or not REQUEST_HEAD_SENT_RE.fullmatch(head)
        ):
            _check_method(self.method)
            _check_target(self.target)
            if not HTTP_VERSION_RE.fullmatch(self.http_version):
                raise InvalidRequest(f"HTTP version {self.http_version!r} is not HTTP/DIGIT.DIGIT (RFC 9112 §2.3)")
            for name, value in self.headers:
                _check_name(name)
                _check_value(name, value)
        length = self.header("Content-Length")
        if length is not None and length != str(len(self.body)):
            raise InvalidHeader(
                f"Content-Length is {length!r} but the body is {len(self.body)} bytes; the server would read "
                "the wrong number of bytes (RFC 9112 §6.2)",
                name="Content-Length",
            )

    def __repr__(self) -> str:
        headers = [(name, redact_value(name, value)) for name, value in self.headers]
        return (
            f"Request(method={self.method!r}, target={self.target!r}, headers={headers!r}, "
            f"body=<{len(self.body)} bytes>, http_version={self.http_version!r})"
        )


# The port each scheme means when a URL names none (see host_field).
_DEFAULT_PORTS = {"https": 443, "http": 80}


def host_field(host: str, port: int, scheme: str) -> str:
    """The ``Host`` value: ``host``, plus ``:port`` only when it is not the scheme's default.

    RFC 9110 §7.2: ``Host = uri-host [ ":" port ]``; an IPv6 address goes in
    brackets (RFC 3986 §3.2.2). Host is the target URI's authority (RFC 9112
    §3.2), whose normal form leaves out the default port (RFC 9110 §4.2.3).
    """
    name = f"[{host}]" if ":" in host else host
    default = _DEFAULT_PORTS.get(scheme)
    return name if port == default else f"{name}:{port}"


def chat_request(
    *,
    host: str,
    port: int,
    scheme: str,
    path: str,
    api_key: str,
    body: bytes,
    accept: str = "application/json",
) -> Request:
    """The ``POST`` that a Chat Completions call sends, field by field, nothing hidden.

    ``path`` is the request-target (``"/v1/chat/completions"``); ``body`` the
    JSON payload as bytes; ``accept`` is ``"text/event-stream"`` for a
    streamed call. The key goes out as ``Authorization: Bearer <key>``
    (RFC 6750 §2.1) and is checked, not cleaned: a stray ``\\r`` raises
    ``InvalidHeader`` when the bytes are written.
    """
    return Request(
        method="POST",
        target=path,
        headers=[
            ("Host", host_field(host, port, scheme)),
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Accept", accept),
            ("User-Agent", USER_AGENT),
            ("Authorization", f"Bearer {api_key}"),
        ],
        body=body,
    )


# -- checks, one per grammar rule ---------------------------------------------


def _check_method(method: str) -> None:
    # RFC 9110 §9.1 / RFC 9112 §3.1:  method = token
    if not method:
        raise InvalidRequest("the method is empty; it must be a token such as POST (RFC 9110 §9.1)")
    bad = NOT_TCHAR_RE.search(method)
    if bad is not None:
        raise InvalidRequest(
            f"the method {method!r} has {_describe(bad[0])} at position {bad.start()}; a method is a token "
            "(RFC 9110 §9.1)"
        )


def _check_target(target: str) -> None:
    # RFC 9112 §3.2:  origin-form = absolute-path [ "?" query ]   ("/v1/chat/completions")
    #                 absolute-form = absolute-URI                 ("http://host/v1/...", for proxies)
    if not target:
        raise InvalidRequest("the request-target is empty; it should start with '/' (RFC 9112 §3.2.1)")
    bad = NOT_URI_CHAR_RE.search(target)
    if bad is not None:
        i, char = bad.start(), bad[0]
        hint = " (a fragment is never sent)" if char == "#" else f"; percent-encode it as %{ord(char):02X}"
        if ord(char) > 0x7F:
            hint = "; percent-encode its UTF-8 bytes"
        raise InvalidRequest(
            f"the request-target {target!r} has {_describe(char)} at position {i}, which may not appear "
            f"in a request-target (RFC 9112 §3.2, RFC 3986 §2){hint}"
        )
    if target.startswith("/"):
        return
    scheme, sep, _ = target.partition(":")
    if sep and scheme and scheme[0].isalpha() and all(c.isalnum() or c in "+-." for c in scheme):
        return
    raise InvalidRequest(
        f"the request-target {target!r} is neither origin-form ('/path?query') nor absolute-form "
        "('scheme://host/path') (RFC 9112 §3.2)"
    )


def _check_name(name: str) -> None:
    # RFC 9110 §5.1:  field-name = token
    if not name:
        raise InvalidHeader("a field name is empty; it must be a token (RFC 9110 §5.1)", name=name)
    bad = NOT_TCHAR_RE.search(name)
    if bad is not None:
        raise InvalidHeader(
            f"the field name {name!r} has {_describe(bad[0])} at position {bad.start()}; a field name is a token "
            "(RFC 9110 §5.1), so no spaces, colons or control characters",
            name=name,
        )


def _check_value(name: str, value: str) -> None:
    # RFC 9110 §5.5: field-value, as in wire/grammar.py. The loop below only runs for a
    # value that fails it, to say where and why: no CTL but HTAB anywhere, no character
    # beyond one byte, no SP/HTAB at either end.
    if FIELD_VALUE_RE.fullmatch(value):
        return
    problem, position = None, 0
    for i, char in enumerate(value):
        code = ord(char)
        if (code < 0x20 and char != "\t") or code == 0x7F:
            problem, position = f"contains {_describe(char)}", i
            break
        if code > 0xFF:
            shown = "a character" if is_secret_field(name) else _describe(char)
            problem = f"contains {shown} that is not one byte in ISO-8859-1"
            position = i
            break
    else:
        if value[:1] in (" ", "\t"):
            problem, position = f"starts with {_describe(value[0])}", 0
        elif value[-1:] in (" ", "\t"):
            problem, position = f"ends with {_describe(value[-1])}", len(value) - 1
    if problem is None:
        return
    rule = "(RFC 9110 §5.5)"
    if is_secret_field(name):
        # Say where, never what: the value is a credential.
        text = f"the value of {name} {problem} at position {position} of {len(value)} {rule}"
        stray = _STRAY.get(value[position], "character")
        if name.lower() == "authorization":
            text += f"; check OPENAI_API_KEY (your .env or environment) for a stray {stray}"
        else:
            text += f"; check where the {name} value comes from for a stray {stray}"
    else:
        text = f"the value of {name} {problem} at position {position} {rule}: {value!r}"
    raise InvalidHeader(text, name=name)


def _describe(char: str) -> str:
    """Name one character for an error message: ``CR (\\r)``, ``SP``, ``'{'``, ``U+00E9``."""
    if char in _CTL_NAMES:
        return _CTL_NAMES[char]
    if char == " ":
        return "SP (space)"
    if char == "\t":
        return "HTAB (\\t)"
    if ord(char) < 0x20:
        return f"a control character ({char!r})"
    if ord(char) > 0x7E:
        return f"U+{ord(char):04X} ({char!r})"
    return repr(char)
