"""``wire parse``: a saved response explained, layer by layer, as if a call had just received it.

A learner debugging a server saves its reply (``curl --raw -i URL > reply.http``,
``nc``, or a HAR file from a browser or ``wire chat --har``) and asks what is
in it and what is wrong with it:

    saved = parse_saved(open("reply.http", "rb").read())
    saved.exchange     # the layers that could be read, as a call's Exchange holds them
    saved.error        # None, or the ProtocolError: message, byte offset, RFC rule
    fault_view(saved)  # the bytes around the fault, a caret under the offending byte

The bytes go through the same ``ResponseParser`` a call uses, fed once and
then told the peer closed (so a body framed "until close" ends at the end of
the file, RFC 9112 §6.3 rule 8); then, as for a call, the body is read as
Server-Sent Events when ``Content-Type`` says ``text/event-stream``, else as
JSON. The views are wire's own (``wire.show``): this module only builds the
``Exchange`` they read. The request is unknown, so the exchange has an empty
one; the key it would have carried (``secret``) is redacted in every view,
and so is anything in the bytes shaped like an OpenAI key.

A HAR file (``har_response``) does not keep a response's bytes: it keeps the
status, the fields and the de-chunked body (``log.entries[].response``). The
bytes are rebuilt from them; what HAR loses is listed in ``notes``.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any

from wire.chat import ChatCompletion, StreamAssembler
from wire.errors import ProtocolError, WireError
from wire.exchange import Exchange
from wire.http11 import ResponseParser
from wire.http11.parser import trailing_data_error
from wire.request import Request
from wire.secrets import Secret, key_shaped, redact_part
from wire.show import escape, paint, partial_response
from wire.sse import SSEDecoder
from wire.transport import Record

# A request line (RFC 9112 §3: method SP request-target SP HTTP-version): saved bytes that start with a request.
REQUEST_LINE = re.compile(rb"[A-Z]+ \S+ HTTP/\d\.\d\r?\n")
# How many bytes before and after the offending byte the fault view quotes, at most.
FAULT_CONTEXT_BEFORE = 60
FAULT_CONTEXT_AFTER = 20


@dataclass
class Saved:
    """A saved response, parsed: the layers read (``exchange``), and the fault, if the bytes break HTTP/1.1."""

    data: bytes
    exchange: Exchange
    error: ProtocolError | None = None
    notes: list[str] = field(default_factory=list)  # what the reading could not see or recover (HAR)
    secrets: list[Secret] = field(default_factory=list)  # every key redacted in the views

    @property
    def valid(self) -> bool:
        return self.error is None


def parse_saved(data: bytes, *, secret: str | None = None, request_method: str = "POST") -> Saved:
    """Parse ``data`` as one whole response (the peer closed after it); never raises on bad bytes.

    ``secret`` is the API key the request carried, if known (``wire parse``
    passes ``OPENAI_API_KEY``): the views redact it, and every key-shaped text.
    """
    error: ProtocolError | None = None
    parser = ResponseParser(request_method=request_method)
    events = []
    try:
        events += parser.feed(data)
        events += parser.feed_eof()
        if parser.trailing_data:
            error = trailing_data_error(parser, data)  # as wire.parse_response: one request, one response
    except ProtocolError as exc:
        error = exc
        events = _events_before(data, exc.offset, request_method)
    exchange = Exchange(
        base_url="",
        payload={},
        request=Request("POST", "/"),
        request_bytes=b"",
        records=[Record(0.0, "in", data)],
        response=parser.response,  # None when the bytes broke off or broke a rule
    )
    exchange.events = events
    keys = _keys(exchange, data, secret)
    # The views find the key in the request's Authorization field (wire.show.secrets_of), and redact it
    # even where chunk framing cuts it in two: put the key there. Other keys are redacted in the text.
    exchange.request.headers = [("Authorization", f"Bearer {keys[0]}")] if keys else []
    saved = Saved(data, exchange, error, secrets=[Secret.key(k) for k in keys])
    if error is not None and REQUEST_LINE.match(data):
        saved.notes.append(
            "these bytes begin with a request line, not a status line: wire parse reads a response "
            "(save the reply alone; wire diff compares requests)"
        )
    _read_body(saved)
    return saved


def _keys(exchange: Exchange, data: bytes, secret: str | None) -> list[str]:
    """The keys to redact: ``secret``, then key-shaped text that chunk framing cut in two, then the rest."""
    response = exchange.response or partial_response(exchange)
    whole = key_shaped(data.decode("latin-1"))
    cut = [k for k in key_shaped(response.body.decode("latin-1")) if k not in whole] if response else []
    return list(dict.fromkeys(([secret] if secret else []) + cut + whole))


def _events_before(data: bytes, offset: int | None, request_method: str) -> list[Any]:
    """The events the bytes before a fault complete: the layers that did arrive whole."""
    if not offset:
        return []
    parser = ResponseParser(request_method=request_method)
    try:
        return parser.feed(data[:offset])
    except ProtocolError:
        return []


def _read_body(saved: Saved) -> None:
    """The body as a call reads it: SSE events and completion chunks, or JSON (a note when neither reads)."""
    exchange = saved.exchange
    response = exchange.response or partial_response(exchange)
    if response is None or not response.body:
        return
    media_type = (response.header("Content-Type") or "").split(";")[0].strip().lower()
    if media_type == "text/event-stream":
        exchange.stream = True
        decoder = SSEDecoder()
        exchange.sse_decoder = decoder
        exchange.sse_events = decoder.feed(response.body) + decoder.flush()
        assembler = StreamAssembler()
        exchange.completion_chunks = assembler.chunks
        try:
            for event in exchange.sse_events:
                if not assembler.done:
                    assembler.add_data(event.data)
            exchange.done_received = assembler.done
            if assembler.done or (assembler.added and exchange.response is not None):
                # Without [DONE] a body that ended properly still gives its completion, as in a call.
                exchange.completion = assembler.completion()
            else:
                saved.notes.append("the event stream has no chunk and no 'data: [DONE]': nothing to assemble")
        except WireError as exc:
            saved.notes.append(f"the events are not a Chat Completions stream: {exc}")
        return
    if exchange.response is None:
        return  # a body cut short is not read as JSON: the frames show what arrived
    try:
        exchange.json = json.loads(response.body)
    except (ValueError, RecursionError) as exc:
        saved.notes.append(f"the body is not JSON ({exc}); the frames above show its bytes")
        return
    if isinstance(exchange.json, dict) and isinstance(exchange.json.get("choices"), list):
        try:
            exchange.completion = ChatCompletion.from_dict(exchange.json)
        except WireError as exc:
            saved.notes.append(f"the JSON is not a chat completion wire can read: {exc}")


# --- the fault: bytes around it, a caret under the offending byte ---


def fault_view(saved: Saved, *, color: bool = False) -> str:
    """Where the bytes break HTTP/1.1: the message, the rule, and the line with a caret under the byte.

    The line is shown as the other views show bytes (``\\r\\n`` visible), so
    the caret's column counts the escaped characters before the byte.
    """
    error = saved.error
    if error is None:
        return ""
    data = saved.data
    offset = error.offset if error.offset is not None else len(data)
    lines = [
        paint(f"  {error.message}", "error", color),
        f"  {paint('rule'.ljust(8), 'name', color)} {error.rule or '(none named)'}",
        f"  {paint('at'.ljust(8), 'name', color)} byte {offset} of {len(data)}"
        + (f" (parser state: {error.state})" if error.state else ""),
    ]
    line_start = data.rfind(b"\n", 0, offset) + 1  # the LF before the byte: a faulty LF stays on its line
    start = max(line_start, offset - FAULT_CONTEXT_BEFORE)
    next_lf = data.find(b"\n", offset)
    end = min(len(data) if next_lf < 0 else next_lf + 1, offset + FAULT_CONTEXT_AFTER)
    secrets = saved.secrets

    def part(first: int, last: int) -> str:
        """Bytes ``first`` to ``last`` escaped, a key redacted even where the cut falls inside it."""
        return escape(redact_part(data, first, last, secrets))

    # The line before the faulty one, for context (its own bytes only).
    if line_start > 0 and start == line_start:
        previous_start = data.rfind(b"\n", 0, line_start - 1) + 1
        lines.append("  < " + part(max(previous_start, line_start - FAULT_CONTEXT_BEFORE), line_start))
    lead = "…" if start > line_start else ""
    tail = "…" if end < len(data) and not data[:end].endswith(b"\n") else ""
    lines.append("  < " + lead + part(start, end) + tail)
    column = len(lead) + len(part(start, offset))
    if offset >= len(data):
        what = "the bytes end here"
    else:
        what = f"byte {offset}: 0x{data[offset]:02x} ({escape(data[offset : offset + 1])!r})"
    lines.append("    " + " " * column + paint("^ " + what, "error", color))
    return "\n".join(lines)


# --- HAR: the response inside an entry ---


def is_har(data: bytes) -> bool:
    """Does ``data`` look like a HAR document (JSON with ``log.entries``) rather than response bytes?"""
    if not data.lstrip()[:1] == b"{":
        return False
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return False
    return isinstance(doc, dict) and isinstance(doc.get("log"), dict) and "entries" in doc["log"]


def har_response(data: bytes, entry: int | None = None) -> tuple[bytes, list[str]]:
    """The response of one HAR entry (the last by default; ``entry`` counts from 1) rebuilt as bytes, and notes.

    HAR 1.2 keeps ``httpVersion``, ``status``, ``statusText``, ``headers``
    (name and value, in order) and ``content.text`` (the decoded body, base64
    when ``content.encoding`` says so). It does not keep: the exact bytes of
    the head (whitespace around values, bare LF line ends), the chunk frames
    (sizes, extensions) and trailers, interim 1xx replies, or the bytes of a
    reply that broke off (HAR gives status 0). A chunked body is rebuilt as
    one chunk frame, a ``Content-Length`` body as it was.
    """
    doc = json.loads(data)
    entries = doc["log"]["entries"]
    if not isinstance(entries, list) or not entries:
        raise ValueError("the HAR file has no entries")
    if entry is None:
        entry = len(entries)
    if not 1 <= entry <= len(entries):
        raise ValueError(f"the HAR file has {len(entries)} entries; --entry {entry} is not one of them")
    where = f"HAR entry {entry}"
    item = _har_object(entries[entry - 1], where)
    response = _har_object(item.get("response") or {}, f"{where}'s response")
    status = response.get("status", 0)
    if not isinstance(status, int) or isinstance(status, bool):
        raise ValueError(f"{where}'s response.status is not a number (got {status!r})")
    if not status:
        why = item.get("_error") or "no reply arrived"
        raise ValueError(f"{where} has no response (status 0: {why}); there are no bytes to parse")
    version = _har_text(response.get("httpVersion") or "HTTP/1.1", f"{where}'s response.httpVersion")
    reason = _har_text(response.get("statusText") or "", f"{where}'s response.statusText")
    fields = response.get("headers", [])
    if not isinstance(fields, list):
        raise ValueError(f"{where}'s response.headers is not a list")
    headers = []
    for number, item_field in enumerate(fields, 1):
        field = _har_object(item_field, f"{where}'s header {number}")
        name = _har_text(field.get("name"), f"{where}'s header {number}: its name")
        headers.append((name, _har_text(field.get("value"), f"{where}'s header {number}: its value")))
    content = _har_object(response.get("content") or {}, f"{where}'s response.content")
    text = _har_text(content.get("text") or "", f"{where}'s response.content.text")
    body = base64.b64decode(text) if content.get("encoding") == "base64" else text.encode("utf-8")
    notes = [
        f"rebuilt from HAR entry {entry} of {len(entries)}: HAR keeps the status, the fields and the decoded body, "
        "not the bytes (whitespace around values, line ends, chunk frames, trailers and 1xx replies are lost)"
    ]
    chunked = any(n.lower() == "transfer-encoding" and "chunked" in v.lower() for n, v in headers)
    if chunked:
        body = (f"{len(body):x}\r\n".encode() + body + b"\r\n" if body else b"") + b"0\r\n\r\n"
        notes.append("the body is chunked: rebuilt as one chunk frame (the sizes the server chose are not in HAR)")
    head = f"{version} {status} {reason}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers) + "\r\n"
    return head.encode("latin-1", "replace") + body, notes


def _har_object(value: Any, what: str) -> dict[str, Any]:
    """``value`` if it is a JSON object; else a ValueError naming the part of the HAR file."""
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not a JSON object (got {type(value).__name__})")
    return value


def _har_text(value: Any, what: str) -> str:
    """``value`` if it is a JSON string; else a ValueError naming the part of the HAR file."""
    if not isinstance(value, str):
        raise ValueError(f"{what} is not a string (got {value!r})")
    return value


__all__ = ["Saved", "fault_view", "har_response", "is_har", "parse_saved"]
