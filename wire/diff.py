"""Two requests side by side: what one client sends that another does not.

    a = SavedRequest.from_bytes(open("0001-request.http", "rb").read())
    b = SavedRequest.from_bytes(open("0002-request.http", "rb").read())
    differences(a, b)      # [] when they are the same request
    diff_view(a, b)        # the differences as text, keys redacted

A request is compared part by part, the way a server reads it
(RFC 9112 §2.1: request line, fields, empty line, body):

- the request line: method, request-target, HTTP version (RFC 9112 §3);
- the fields: present in one and not the other, and different values. Names
  are compared ignoring case (RFC 9110 §5.1: "Field names are
  case-insensitive"), so a different case is reported on its own, as is a
  different order (RFC 9110 §5.3: the order of fields with different names
  carries no meaning, but it shows which client wrote the bytes);
- the body, when both are JSON: compared as data (RFC 8259 §1: an object is
  an unordered collection of members), each difference at its path
  (``$.messages[0].content``); else byte for byte.

Every credential field (``Authorization``, anything named key or token) is
shown redacted (``Bearer sk-…abcd``), and so is any key-shaped text.

``SavedRequest.from_bytes`` reads a request leniently (a bare LF ends a line
too): it is for looking at what a client sent, not for serving it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from wire.chat import encode_payload
from wire.request import chat_request, is_secret_field, redact_value
from wire.secrets import key_shaped, redact_text
from wire.show import escape, paint

# Stands for a JSON member that one side does not have.
MISSING = object()
# The key wire's request carries when the saved one has none (never sent anywhere: the request is only built).
PLACEHOLDER_KEY = "sk-wire-diff-no-key-in-the-saved-request"


@dataclass
class SavedRequest:
    """A request as a client sent it: request line, fields in wire order with their case, body (de-chunked)."""

    method: str
    target: str
    http_version: str
    headers: list[tuple[str, str]]
    body: bytes
    raw: bytes = b""

    @classmethod
    def from_bytes(cls, data: bytes) -> SavedRequest:
        """Read one request's bytes; ``ValueError`` says what is missing (no request line, no end of head)."""
        end = data.find(b"\r\n\r\n")
        cut = 4
        bare = data.find(b"\n\n")
        if bare >= 0 and (end < 0 or bare < end):
            end, cut = bare, 2
        if end < 0:
            raise ValueError("no empty line ends the head: these bytes are not a whole HTTP request")
        lines = data[:end].decode("latin-1").replace("\r\n", "\n").split("\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            raise ValueError(f"not a request line (method SP request-target SP HTTP-version): {lines[0][:60]!r}")
        headers = []
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon:
                raise ValueError(f"a field line with no colon: {line[:60]!r}")
            headers.append((name, value.strip(" \t")))
        body = data[end + cut :]
        request = cls(parts[0], parts[1], parts[2], headers, body, data)
        if "chunked" in (request.header("Transfer-Encoding") or "").lower():
            request.body = _dechunk(body)
        return request

    def header(self, name: str) -> str | None:
        """A field's value, any case; repeats joined with ", " (RFC 9110 §5.3)."""
        values = [v for n, v in self.headers if n.lower() == name.lower()]
        return ", ".join(values) if values else None

    @property
    def request_line(self) -> str:
        return f"{self.method} {self.target} {self.http_version}"

    @property
    def json(self) -> Any:
        """The body as JSON, or MISSING when it is not JSON."""
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):
            return MISSING

    @property
    def bearer(self) -> str | None:
        """The token of ``Authorization: Bearer …`` (RFC 6750 §2.1), if any."""
        scheme, _, token = (self.header("Authorization") or "").partition(" ")
        return token if scheme.lower() == "bearer" and token else None


def _dechunk(body: bytes) -> bytes:
    """A chunked body's data (RFC 9112 §7.1), read leniently; whatever does not parse ends it."""
    out = b""
    while True:
        line_end = body.find(b"\n")
        if line_end < 0:
            return out
        try:
            size = int(body[:line_end].split(b";")[0].strip(), 16)
        except ValueError:
            return out
        if size == 0:
            return out
        start = line_end + 1
        out += body[start : start + size]
        body = body[start + size :].removeprefix(b"\r\n")


@dataclass
class Difference:
    """One way two requests differ: which ``part``, a short ``what``, and each side's value (shown safely)."""

    part: str  # "request line", "field", "field name case", "field order", "body"
    what: str
    a: str = ""
    b: str = ""
    notes: list[str] = field(default_factory=list)


def differences(a: SavedRequest, b: SavedRequest) -> list[Difference]:
    """Every way ``b`` differs from ``a``: request line, fields, field order, body (as JSON data when both are)."""
    out: list[Difference] = []
    for what, x, y in (
        ("method", a.method, b.method),
        ("request-target", a.target, b.target),
        ("HTTP version", a.http_version, b.http_version),
    ):
        if x != y:
            out.append(Difference("request line", what, x, y))
    out += _field_differences(a, b)
    out += _body_differences(a, b)
    return out


def _field_differences(a: SavedRequest, b: SavedRequest) -> list[Difference]:
    out: list[Difference] = []
    names_a = [n.lower() for n, _ in a.headers]
    names_b = [n.lower() for n, _ in b.headers]
    case_a = {n.lower(): n for n, _ in a.headers}
    case_b = {n.lower(): n for n, _ in b.headers}
    for name, value in a.headers:
        if name.lower() not in names_b:
            out.append(Difference("field", f"only in A: {name}", _shown(name, value), ""))
    for name, value in b.headers:
        if name.lower() not in names_a:
            out.append(Difference("field", f"only in B: {name}", "", _shown(name, value)))
    cases = []
    for lower in dict.fromkeys(n for n in names_a if n in names_b):
        name = case_a[lower]
        x, y = a.header(lower) or "", b.header(lower) or ""
        if x != y:
            out.append(Difference("field", f"different value: {name}", _shown(name, x), _shown(name, y)))
        if case_a[lower] != case_b[lower]:
            cases.append(Difference("field name case", lower, case_a[lower], case_b[lower]))
    out += cases
    common_a = [n for n in dict.fromkeys(names_a) if n in names_b]
    common_b = [n for n in dict.fromkeys(names_b) if n in names_a]
    if common_a != common_b:
        out.append(
            Difference(
                "field order",
                "the fields both have, in another order",
                ", ".join(case_a[n] for n in common_a),
                ", ".join(case_b[n] for n in common_b),
            )
        )
    return out


def _shown(name: str, value: str) -> str:
    """A field value as safe to show: a credential redacted (``Bearer sk-…abcd``), control characters escaped."""
    if is_secret_field(name):
        return redact_value(name, value)
    return escape(redact_text(value, key_shaped(value)).encode("latin-1", "replace"))


def _body_differences(a: SavedRequest, b: SavedRequest) -> list[Difference]:
    if a.body == b.body:
        return []
    ja, jb = a.json, b.json
    if ja is MISSING or jb is MISSING:
        return [
            Difference(
                "body",
                "different bytes (not both JSON)",
                f"{len(a.body)} bytes" + ("" if ja is MISSING else ", JSON"),
                f"{len(b.body)} bytes" + ("" if jb is MISSING else ", JSON"),
            )
        ]
    paths = json_differences(ja, jb)
    out = [Difference("body", f"JSON {path}", _json_text(x), _json_text(y)) for path, x, y in paths]
    if not paths:
        notes = [_same_data_note(a.body, b.body, ja, jb)]
        out.append(
            Difference("body", "same JSON data, different bytes", f"{len(a.body)} bytes", f"{len(b.body)} bytes", notes)
        )
    return out


def json_differences(x: Any, y: Any, path: str = "$") -> list[tuple[str, Any, Any]]:
    """Paths where two JSON values differ, with each side's value (``MISSING`` where a member is absent).

    Objects are compared member by member whatever their order; arrays item
    by item; ``1`` and ``1.0`` are different here (a server may read them
    differently), and so are ``true`` and ``1``.
    """
    if isinstance(x, dict) and isinstance(y, dict):
        out: list[tuple[str, Any, Any]] = []
        for key in dict.fromkeys([*x, *y]):
            out += json_differences(x.get(key, MISSING), y.get(key, MISSING), f"{path}.{key}")
        return out
    if isinstance(x, list) and isinstance(y, list):
        out = []
        for i in range(max(len(x), len(y))):
            out += json_differences(x[i] if i < len(x) else MISSING, y[i] if i < len(y) else MISSING, f"{path}[{i}]")
        return out
    if type(x) is type(y) and x == y:
        return []
    return [(path, x, y)]


def _json_text(value: Any) -> str:
    if value is MISSING:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return redact_text(text, key_shaped(text))


def _same_data_note(body_a: bytes, body_b: bytes, ja: Any, jb: Any) -> str:
    """Why two bodies with the same data have different bytes: the members' order, or whitespace."""
    if isinstance(ja, dict) and isinstance(jb, dict) and list(ja) != list(jb):
        return f"the members come in another order: A {', '.join(ja)}; B {', '.join(jb)}"
    return "whitespace or escapes differ (RFC 8259 §2: whitespace around the structural characters is insignificant)"


def diff_view(a: SavedRequest, b: SavedRequest, *, names: tuple[str, str] = ("A", "B"), color: bool = False) -> str:
    """The differences as text: one block per part, A's value then B's; keys redacted."""
    found = differences(a, b)
    name_a, name_b = names
    lines = [
        f"  {paint('A', 'name', color)} {name_a}: {_line(a)}",
        f"  {paint('B', 'name', color)} {name_b}: {_line(b)}",
    ]
    if not found:
        lines.append(paint("  the same request: request line, fields (names, values, order) and body", "note", color))
        return "\n".join(lines)
    part = ""
    for d in found:
        if d.part != part:
            part = d.part
            lines.append("\n" + paint(part, "title", color))
        lines.append(f"  {paint(d.what, 'name', color)}")
        if d.a:
            lines.append(f"    A  {d.a}")
        if d.b:
            lines.append(f"    B  {d.b}")
        for note in d.notes:
            lines.append(paint(f"    {note}", "note", color))
    lines.append(paint(f"\n  {len(found)} difference(s)", "note", color))
    return "\n".join(lines)


def _line(request: SavedRequest) -> str:
    fields = len(request.headers)
    return f"{escape(request.request_line.encode('latin-1'))}  ({fields} fields, {len(request.body)} body bytes)"


def wire_request(saved: SavedRequest) -> SavedRequest:
    """The request wire sends for ``saved``'s JSON body: same request-target, same ``Host``, same key.

    Built by ``wire.request.chat_request``, as ``Client.prepare`` builds it,
    from the body decoded and encoded again (``wire.chat.encode_payload``:
    compact, UTF-8), never sent. ``Accept`` follows the body's ``stream``.
    The ``Host`` value is the saved one: wire takes it from its base URL.
    """
    payload = saved.json
    if not isinstance(payload, dict):
        raise ValueError("its body is not a JSON object, so there is no payload for wire to send")
    request = chat_request(
        host="localhost",
        port=80,
        scheme="http",
        path=saved.target,
        api_key=saved.bearer or PLACEHOLDER_KEY,
        body=encode_payload(payload),
        accept="text/event-stream" if payload.get("stream") is True else "application/json",
    )
    host = saved.header("Host")
    if host is not None:
        request.headers = [(n, host if n == "Host" else v) for n, v in request.headers]
    return SavedRequest.from_bytes(request.to_bytes())
