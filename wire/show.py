"""Every layer of an exchange as text for people: bytes with visible CRLF, hexdumps, frames, timings.

Pure functions: each takes a layer's result and returns a string. Nothing here
prints (only ``cli.py`` does) and nothing here touches the network.

How bytes are shown (curl's ``--trace-ascii`` and HTTPie's ``--offline`` in spirit):

    > POST /v1/chat/completions HTTP/1.1\\r\\n     ">" = we sent it, "<" = we received it
    < HTTP/1.1 200 OK\\r\\n                        line ends shown as the two bytes \\r\\n

UTF-8 text is shown as its characters; any other byte that is not printable
ASCII is shown as ``\\xNN``. Secrets (the API key) are redacted as
``sk-…abcd`` everywhere unless ``show_secrets=True``.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from wire.exchange import first_content
from wire.http11 import (
    ChunkEnd,
    ChunkFrame,
    ChunkHeader,
    Data,
    EndOfHead,
    EndOfMessage,
    Field,
    Framing,
    Response,
    StatusLine,
    Trailer,
)
from wire.pace import gap_chart
from wire.secrets import MASK, Secret, redact, redact_part, replace_spans, secret_spans
from wire.secrets import redact_bytes as redact_bytes  # re-exported: callers older than wire/secrets.py
from wire.secrets import redact_text as redact_text
from wire.sse import ServerSentEvent

if TYPE_CHECKING:
    from wire.coding import ContentCoding
    from wire.config import Settings
    from wire.exchange import Exchange
    from wire.pace import StreamTimings
    from wire.trace import TraceEvent
    from wire.transport import Timings, TLSInfo

# The layers, in wire order: the names ``--show`` accepts.
LAYERS = (
    "settings",
    "payload",
    "request",
    "connection",
    "response",
    "body",
    "coding",
    "sse",
    "json",
    "answer",
    "timings",
    "pace",
)
# Views that --show offers besides the layers, not shown unless asked for.
EXTRA_VIEWS = ("annotated", "attempts")

# How much of one chunk's data the frame view quotes before "…".
PREVIEW_BYTES = 72
# How many characters of one event line the SSE view shows (the completion-chunk view has the rest).
EVENT_WIDTH = 100

_STYLES = {
    "out": "36",  # cyan: bytes we sent
    "in": "32",  # green: bytes we received
    "crlf": "2",  # dim: the line-end bytes
    "title": "1;4",  # bold underline: section titles
    "name": "1",  # bold: field names, labels
    "note": "2",  # dim: explanations
    "error": "31",  # red
    "bar": "35",  # magenta: timing bars
}


def paint(text: str, style: str, color: bool) -> str:
    """``text`` in an ANSI style when ``color`` is on, else unchanged."""
    if not color or not text:
        return text
    return f"\x1b[{_STYLES[style]}m{text}\x1b[0m"


# --- secrets ---


def secrets_of(exchange: Exchange) -> list[Secret]:
    """The credentials an exchange carries: the bearer token, a proxy's password and Basic credentials.

    Redaction itself (``redact_text``, ``redact_bytes``) lives in ``wire/secrets.py``.
    """
    value = exchange.request.header("Authorization") or ""
    scheme, _, token = value.partition(" ")
    secrets = [Secret.key(token)] if scheme.lower() == "bearer" and token else []
    if exchange.tunnel is not None:
        secrets += exchange.tunnel.secrets
    return secrets


# --- bytes ---


def escape(data: bytes) -> str:
    """Bytes as readable text: printable ASCII and valid UTF-8 as is, CR/LF/TAB as ``\\r \\n \\t``, others ``\\xNN``."""
    text = data.decode("utf-8", "backslashreplace")
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\r":
            out.append("\\r")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0:
            out.append(f"\\x{code:02x}")
        else:
            out.append(ch)
    return "".join(out)


# C0 controls, DEL and C1 controls, as ``\xNN`` (CR as ``\r``); TAB and LF are kept.
_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if c not in (0x09, 0x0A)}
_CONTROLS[0x0D] = "\\r"


def printable(text: str) -> str:
    """Text from the server made safe for a terminal: control characters escaped, newlines and tabs kept.

    An answer, a reason phrase or an error message can carry terminal escape
    sequences (ECMA-48): ``ESC ] 0 ; title BEL`` sets the window title,
    ``ESC [ 31 m`` turns what follows red. Shown as ``\x1b]0;title\x07``,
    they do nothing. ``CR`` is escaped too: it would let text overwrite its line.
    """
    return text.translate(_CONTROLS)


def split_lines(data: bytes) -> list[bytes]:
    """``data`` cut after each LF, line ends kept (the last piece may have none)."""
    lines = data.split(b"\n")
    out = [line + b"\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def byte_lines(
    data: bytes, marker: str, *, color: bool = False, direction: str = "out", width: int | None = None
) -> str:
    """One line of output per line of ``data``, after ``marker``, line ends made visible.

    With ``width``, a line longer than that many characters is cut, and says how much was left out.
    """
    rows = []
    for line in split_lines(data):
        body = line
        end = b""
        if line.endswith(b"\r\n"):
            body, end = line[:-2], line[-2:]
        elif line.endswith(b"\n"):
            body, end = line[:-1], line[-1:]
        text = escape(body)
        if width is not None and len(text) > width:
            text = text[:width] + paint(f"…(+{len(text) - width} chars)", "note", color)
        rows.append(paint(marker, direction, color) + " " + text + paint(escape(end), "crlf", color))
    return "\n".join(rows)


def hexdump(data: bytes, marker: str = "", *, start: int = 0) -> str:
    """A classic hexdump: offset, 16 bytes in hex, the same bytes as ASCII (``.`` for the rest)."""
    rows = []
    for i in range(0, len(data), 16):
        row = data[i : i + 16]
        hexes = " ".join(f"{b:02x}" for b in row)
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in row)
        prefix = f"{marker} " if marker else ""
        rows.append(f"{prefix}{start + i:08x}  {hexes:<47}  |{text}|")
    return "\n".join(rows)


def raw_trace(exchange: Exchange, *, show_secrets: bool = False) -> bytes:
    """The exact bytes both ways, in the order they crossed the socket (for ``--raw``).

    Secrets are redacted, even one that a server echoed in the body with chunk
    framing between its pieces (``body_spans``).
    """
    if show_secrets:
        return b"".join(r.data for r in exchange.records)
    secrets = secrets_of(exchange)
    received = exchange.response_bytes
    spans = body_spans(exchange, secrets)
    parts = []
    at = 0  # offset of each received record in ``received``: the parser's offsets
    for record in exchange.records:
        if record.direction == "in":
            parts.append(replace_spans(received, at, at + len(record.data), spans))
            at += len(record.data)
        else:
            parts.append(record.data)
    return redact_bytes(b"".join(parts), secrets)


def body_spans(exchange: Exchange, secrets: list[Secret]) -> list[tuple[int, int, bytes]]:
    """Where each secret in the de-chunked body lies in the received bytes, piece by piece.

    Chunk framing can cut a secret in two (RFC 9112 §7.1: a server sizes its
    chunks as it likes), so one secret may be several spans: the first is
    replaced by its shown form, the others by nothing (``replace_spans``).
    """
    pieces = [(ev.offset, ev.data) for ev in exchange.events if isinstance(ev, Data)]
    spans: list[tuple[int, int, bytes]] = []
    for first, last, shown in secret_spans(b"".join(data for _, data in pieces), secrets):
        at = 0  # where each piece begins in the body
        for offset, data in pieces:
            lo, hi = max(first, at), min(last, at + len(data))
            if lo < hi:
                spans.append((offset + lo - at, offset + hi - at, shown if lo == first else b""))
            at += len(data)
    return sorted(spans)


# --- one function per layer ---


def title(number: int, name: str, where: str, color: bool) -> str:
    """A section heading: the layer's number, name and the module that owns it."""
    text = f"── {number}. {name} "
    return paint(text + "─" * max(3, 60 - len(text)), "title", color) + " " + paint(where, "note", color)


def settings_view(settings: Settings, *, show_secrets: bool = False, color: bool = False) -> str:
    """Where the call goes and where each setting came from."""
    key = settings.api_key
    shown_key = "(none)" if key is None else key if show_secrets else redact(key)
    rows = [
        ("base URL", settings.base_url, settings.sources.get("base_url", "default")),
        ("model", settings.model, settings.sources.get("model", "default")),
        ("API key", shown_key, settings.sources.get("api_key", "not found")),
    ]
    proxy = _proxy_row(settings)
    if proxy is not None:
        rows.append(proxy)
    width = max(len(r[0]) for r in rows)
    lines = [
        f"  {paint(n.ljust(width), 'name', color)}  {v}  {paint('(' + s + ')', 'note', color)}" for n, v, s in rows
    ]
    return "\n".join(lines)


def _proxy_row(settings: Settings) -> tuple[str, str, str] | None:
    """The proxy the call goes through (``wire.proxy.proxy_for``), and the variable it came from."""
    from wire.errors import ConfigError
    from wire.proxy import proxy_for

    try:
        proxy = proxy_for(settings)
    except ConfigError as exc:
        return ("proxy", f"unusable: {exc}", "environment")
    if proxy is None:
        return None
    return ("proxy", f"{proxy.url}, tunnel to {settings.host}:{settings.port} (CONNECT)", proxy.source or "environment")


def payload_view(payload: dict[str, Any]) -> str:
    """The request JSON, pretty-printed (it goes on the wire compact)."""
    return _indent(json.dumps(payload, indent=2, ensure_ascii=False))


def request_view(exchange: Exchange, *, show_secrets: bool = False, color: bool = False) -> str:
    """The request bytes exactly as sent: request line, fields, empty line, body."""
    secrets = [] if show_secrets else secrets_of(exchange)
    sent = exchange.request_bytes
    head_end = len(sent) - len(exchange.request.body)  # counted on the bytes sent, not the redacted view
    head, body = redact_bytes(sent[:head_end], secrets), sent[head_end:]
    out = [byte_lines(head, ">", color=color, direction="out")]
    if body:
        out.append(byte_lines(body, ">", color=color, direction="out"))
    out.append(
        paint(
            f"  ({len(exchange.request_bytes)} bytes: {head_end} of head, {len(exchange.request.body)} of body)",
            "note",
            color,
        )
    )
    return "\n".join(out)


def connection_view(exchange: Exchange, *, color: bool = False) -> str:
    """DNS, TCP and TLS: where we connected and what the handshake settled."""
    t = exchange.timings
    lines = []
    if exchange.reused and exchange.peer:
        lines.append(
            _kv(
                "TCP",
                f"reused connection to {exchange.peer[0]} port {exchange.peer[1]}, kept open "
                "after the previous reply (RFC 9112 §9.3)",
                color,
            )
        )
        lines.append(_kv("saved", f"no DNS, no TCP handshake, no TLS handshake: {_ms(exchange.saved_seconds)}", color))
        if exchange.tls is not None:
            lines.append(tls_view(exchange.tls, color=color))
        return "\n".join(lines)
    if exchange.peer:
        lines.append(_kv("TCP", f"connected to {exchange.peer[0]} port {exchange.peer[1]}", color))
    phases = t.phases()
    lines.append(
        _kv(
            "took",
            f"DNS {_ms(phases['dns'])}, TCP connect {_ms(phases['connect'])}, TLS handshake {_ms(phases['tls'])}",
            color,
        )
    )
    if exchange.tls is not None:
        lines.append(tls_view(exchange.tls, color=color))
    else:
        lines.append(_kv("TLS", "none: plain HTTP, the bytes below crossed the network as they are", color))
    return "\n".join(lines)


def tls_view(tls: TLSInfo, *, color: bool = False) -> str:
    """The facts of a TLS session, one per line."""
    rows = [
        ("TLS", f"{tls.version}, cipher {tls.cipher} ({tls.cipher_bits} bits)"),
        ("ALPN", tls.alpn or "(none: the server chose no protocol)"),
        ("SNI", tls.server_hostname),
        ("subject", tls.peer_subject),
        ("issuer", tls.peer_issuer),
        ("names", ", ".join(tls.peer_sans) or "(none)"),
        ("valid", f"{tls.not_before} to {tls.not_after}"),
        ("trusted", _trust(tls)),
    ]
    return "\n".join(_kv(n, v, color) for n, v in rows)


def _trust(tls: TLSInfo) -> str:
    """What the certificate was checked against, or that it was not checked at all."""
    if not tls.verified:
        return "NOT verified: the handshake did not check the certificate chain and the host name"
    extra = f"{os.path.basename(tls.extra_ca_file)} (ca_file) and " if tls.extra_ca_file else ""
    return f"verified against {extra}certifi's CA bundle"


def response_head_view(response: Response, *, color: bool = False) -> str:
    """The status line and each field line as received, interim 1xx replies first."""
    # Each head as the parser cut it (Response.head): the view never looks for the empty line
    # itself, so a head ending in bare LFs (RFC 9112 §2.2) is shown exactly, without body bytes.
    out = []
    for interim in response.informational:
        out.append(byte_lines(interim.head, "<", color=color, direction="in"))
        out.append(paint(f"  (an interim {interim.status} reply; the final one follows)", "note", color))
    out.append(byte_lines(response.head, "<", color=color, direction="in"))
    ka = "kept open for another request" if response.keep_alive else "closed after this response"
    out.append(paint(f"  (body framing: {response.framing.value}; connection {ka})", "note", color))
    for warning in response.warnings:
        out.append(paint(f"  warning: {warning}", "error", color))
    return "\n".join(out)


def body_view(
    response: Response, *, color: bool = False, preview: int = PREVIEW_BYTES, secrets: Iterable[Secret] = ()
) -> str:
    """How the body was framed: each chunk frame with its size line, or the Content-Length body.

    ``secrets`` are redacted before a preview is cut, and across frames: a
    key that a server echoed back may straddle two chunk frames.
    """
    secrets = list(secrets)
    if response.framing is Framing.CHUNKED:
        rows = []
        at = 0  # where each frame's data begins in the de-chunked body
        for i, frame in enumerate(response.frames):
            data = redact_part(response.body, at, at + frame.size, secrets) if secrets else None
            at += frame.size
            rows.append(frame_view(i, frame, color=color, preview=preview, data=data))
        return "\n".join(rows)
    if response.framing is Framing.NONE:
        return paint("  (no body: this status has none)", "note", color)
    how = (
        f"Content-Length: {response.content_length}"
        if response.framing is Framing.CONTENT_LENGTH
        else "read until the server closed the connection"
    )
    body = redact_bytes(response.body, secrets)
    return "\n".join(
        [paint(f"  {len(response.body)} body bytes ({how})", "note", color), _preview(body, preview, color)]
    )


def frame_view(
    index: int, frame: ChunkFrame, *, color: bool = False, preview: int = PREVIEW_BYTES, data: bytes | None = None
) -> str:
    """One chunk frame: its size line, a preview of its data (or of ``data``, say redacted), and its closing CRLF."""
    size_line = byte_lines(frame.size_line, "<", color=color, direction="in")
    ext = f", extensions {frame.extensions}" if frame.extensions else ""
    if frame.size == 0:
        rest = frame.raw[len(frame.size_line) :]
        lines = [
            paint(f"  frame {index}: the last chunk (size 0){ext}: the body ends here", "note", color),
            size_line,
        ]
        if rest:
            lines.append(byte_lines(rest, "<", color=color, direction="in"))
        return "\n".join(lines)
    raw = frame.raw
    if data is None:
        data = raw[len(frame.size_line) : len(frame.size_line) + frame.size] if len(raw) > len(frame.size_line) else b""
    lines = [
        paint(
            f"  frame {index}: size line 0x{frame.size_line.split(b';')[0].strip().decode()} = {frame.size} bytes{ext}",
            "note",
            color,
        ),
        size_line,
    ]
    if data:
        lines.append(_preview(data, preview, color))
        lines.append(paint("<", "in", color) + " " + paint("\\r\\n", "crlf", color))
    return "\n".join(lines)


def _preview(data: bytes, limit: int, color: bool) -> str:
    while 0 < limit < len(data) and 0x80 <= data[limit] < 0xC0:
        limit -= 1  # cut before a UTF-8 continuation byte, not inside a character (RFC 3629 §3)
    shown = escape(data[:limit])
    more = paint(f"… (+{len(data) - limit} bytes)", "note", color) if len(data) > limit else ""
    return paint("<", "in", color) + " " + shown + more


def sse_view(exchange: Exchange, *, color: bool = False, show_secrets: bool = False) -> str:
    """The Server-Sent Events of a streamed reply, each in the chunk frame it began in; secrets redacted."""
    secrets = [] if show_secrets else secrets_of(exchange)
    response = exchange.response or partial_response(exchange)
    events: list[Any] = list(exchange.sse_events)
    comments: list[Any] = list(exchange.sse_decoder.comments) if exchange.sse_decoder is not None else []
    if response is None or not (events or comments):
        return paint("  (no events: the reply was not streamed)", "note", color)
    frames = [f for f in response.frames if f.size] if response.framing is Framing.CHUNKED else []
    if exchange.coding is not None and exchange.coding.applied:
        frames = []  # event offsets count decoded bytes; the frames carry compressed ones
    out = []
    if frames:
        start = 0
        for i, frame in enumerate(frames):
            end = start + frame.size
            inside = [e for e in events if start <= e.offset < end]
            notes = [c for c in comments if start <= c.offset < end]
            out.append(paint(f"  frame {i} ({frame.size} bytes): {len(inside)} event(s)", "note", color))
            for item in sorted([*inside, *notes], key=lambda e: e.offset):
                out.append(_event_line(item, end, color, secrets))
            start = end
    else:
        for item in sorted([*events, *comments], key=lambda e: e.offset):
            out.append(_event_line(item, None, color, secrets))
    return "\n".join(out)


def _event_line(item: Any, frame_end: int | None, color: bool, secrets: list[Secret]) -> str:
    if isinstance(item, ServerSentEvent):
        cont = ""
        if frame_end is not None and item.offset + len(item.raw) > frame_end:
            cont = paint("  (continues in the next frame)", "note", color)
        lines = byte_lines(redact_bytes(item.raw, secrets), "<", color=color, direction="in", width=EVENT_WIDTH)
        return "    " + lines.replace("\n", "\n    ") + cont
    return (
        "    "
        + byte_lines(item.raw, "<", color=color, direction="in")
        + paint("  (a comment: not a message)", "note", color)
    )


def partial_response(exchange: Exchange) -> Response | None:
    """What arrived of a reply that broke off, rebuilt from the parser's events: head, frames, body so far.

    None when no status line arrived. The parser makes a ``Response`` only at
    the end of a message; a view of a failed call still shows the layers that
    did arrive.
    """
    response: Response | None = None
    informational: list[Response] = []
    body: list[bytes] = []
    for ev in exchange.events:
        if isinstance(ev, StatusLine):
            response = Response()
            response.http_version, response.status, response.reason = ev.http_version, ev.status, ev.reason
            response.head, response.head_offset, response.informational = ev.raw, ev.offset, list(informational)
        elif response is None:
            continue
        elif isinstance(ev, Field) and not isinstance(ev, Trailer):
            response.headers.append((ev.name, ev.value))
            response.head += ev.raw
        elif isinstance(ev, EndOfHead):
            response.head += ev.raw
            response.framing, response.content_length = ev.framing, ev.content_length
            if ev.informational:
                informational.append(response)
        elif isinstance(ev, ChunkHeader):
            response._chunk_headers.append(ev)
        elif isinstance(ev, Data):
            body.append(ev.data)
    if response is None or response in informational:
        return None
    response.raw, response.body = exchange.response_bytes, b"".join(body)
    return response


def capture_notes(exchange: Exchange) -> list[str]:
    """What the exchange did not keep of a long call (its ``capture`` setting, wire/capture.py), one line each."""
    notes = []
    if exchange.capture_truncated:
        whole = "the streamed body was not kept whole" if exchange.body_dropped else "exchange.response has all of it"
        where = "kept no bytes" if exchange.capture == "off" else "stopped at transport.MAX_CAPTURE_BYTES (each way)"
        notes.append(f"  the byte capture {where}; the reply itself was read whole ({whole})")
    if exchange.body_dropped:
        notes.append(f"  {exchange.body_dropped:,} bytes of the streamed body were not kept (response.body is empty)")
    lists: list[tuple[str, list[Any]]] = [
        ("parser events", exchange.events),
        ("server-sent events", exchange.sse_events),
        ("completion chunks", exchange.completion_chunks),
    ]
    for name, items in lists:
        dropped = getattr(items, "dropped", 0)
        if dropped:
            first = getattr(items, "first", 0)
            kept = f"the first {first:,} and the last {len(items) - first:,} were" if items else "none was"
            notes.append(f"  {dropped:,} {name} were not kept: {kept}")
    if exchange.tracer.dropped:
        notes.append(f"  {exchange.tracer.dropped:,} trace steps were not kept (the first and the latest were)")
    if notes:
        notes.append(f"  (capture={exchange.capture!r}; Client(capture='full') keeps everything)")
    return notes


def completion_chunks_view(exchange: Exchange, *, color: bool = False) -> str:
    """Each ``chat.completion.chunk`` object of a stream, reduced to what it adds: delta, finish_reason or usage.

    Every chunk also repeats ``id``, ``object``, ``created`` and ``model``; the first one's are shown once.
    """
    chunks = exchange.completion_chunks
    if not chunks:
        return "  (no completion chunks)"
    first = chunks[0]
    same = {k: first.get(k) for k in ("id", "object", "created", "model") if k in first}
    out = [paint(f"  every chunk: {_compact(same)}", "note", color)]
    gap_at, dropped = getattr(chunks, "first", None), getattr(chunks, "dropped", 0)  # capture bounded: a gap
    for i, chunk in enumerate(chunks):
        number = i
        if dropped and gap_at is not None and i >= gap_at:
            if i == gap_at:
                out.append(paint(f"  ... {dropped:,} chunks not kept (capture={exchange.capture!r})", "note", color))
            number = i + dropped
        choices = chunk.get("choices")
        # A chunk the assembler refused is kept too (the error says why): shown as it came.
        parts = [] if isinstance(choices, list) or choices is None else [f"choices={_compact(choices)}"]
        for choice in choices if isinstance(choices, list) else ():
            if not isinstance(choice, dict):
                parts.append(f"choice={_compact(choice)}")
                continue
            parts.append(f"delta={_compact(choice.get('delta', {}))}")
            if choice.get("finish_reason") is not None:
                parts.append(f"finish_reason={choice['finish_reason']}")
        if chunk.get("usage"):
            parts.append(f"usage={_compact(chunk['usage'])}")
        out.append(f"  {paint(str(number).rjust(3), 'name', color)}  " + "  ".join(parts or ["(empty)"]))
    return printable("\n".join(out))


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_view(exchange: Exchange) -> str:
    """The reply body's JSON, pretty-printed (streamed: the assembled completion)."""
    # JSON escapes C0 controls itself (RFC 8259 §7); printable() catches DEL and C1, which it leaves as they are.
    if exchange.json is not None:
        return printable(_indent(json.dumps(exchange.json, indent=2, ensure_ascii=False)))
    if exchange.completion is not None:
        return printable(_indent(json.dumps(exchange.completion.raw, indent=2, ensure_ascii=False)))
    return "  (no JSON)"


def answer_view(exchange: Exchange, *, color: bool = False) -> str:
    """The answer's text, why it stopped, and the token usage; control characters escaped (``printable``)."""
    completion = exchange.completion
    if completion is None:
        # A stream that broke off: the text of the chunks that did arrive (first choice).
        # (A chunk that is not shaped as the API sends it adds nothing: the stream broke on it.)
        text = "".join(first_content(chunk, "delta") or "" for chunk in exchange.completion_chunks)
        if not text:
            return "  (no answer)"
        return _indent(printable(text)) + "\n" + paint("  (the answer so far: the stream broke off)", "note", color)
    lines = []
    for choice in completion.choices:
        message = choice.message
        if message.content:
            lines.append(_indent(printable(message.content)))
        for call in message.tool_calls:
            lines.append(printable(f"  tool call {call.id}: {call.name or call.type}({call.input or ''})"))
        lines.append(paint(printable(f"  (role {message.role}, finish_reason {choice.finish_reason})"), "note", color))
    if exchange.stream and not exchange.done_received:
        lines.append(
            paint(
                "  (the stream ended without 'data: [DONE]', OpenAI's end mark; the body itself ended properly)",
                "note",
                color,
            )
        )
    usage = completion.usage
    if usage is not None:
        lines.append(
            _kv(
                "usage",
                f"{usage.prompt_tokens} prompt + {usage.completion_tokens} completion = {usage.total_tokens} tokens",
                color,
            )
        )
    return "\n".join(lines)


def timings_view(timings: Timings, *, color: bool = False, width: int = 40) -> str:
    """A waterfall of the phases (as curl ``-w`` reports them): each bar starts where the last ended."""
    phases = timings.phases()
    total = max((v for v in (timings.done, timings.first_byte, timings.request_sent) if v is not None), default=0.0)
    scale = width / total if total > 0 else 0.0
    lines = []
    at = 0.0
    for name in ("dns", "connect", "tunnel", "tls", "send", "wait", "receive"):
        took = phases.get(name)
        if took is None:
            continue
        pad = int(at * scale)
        bar = "█" * max(1, round(took * scale)) if took > 0 else "▏"
        lines.append(f"  {name:<8} {' ' * pad}{paint(bar, 'bar', color)} {_ms(took)}")
        at += took
    lines.append(f"  {'total':<8} {_ms(total)}")
    return "\n".join(lines)


def coding_view(exchange: Exchange, *, color: bool = False, show_secrets: bool = False) -> str:
    """The content-coding layer: what was asked, what the server applied, the sizes, the decoded bytes (redacted)."""
    if exchange.coding is None:
        return paint("  (no content coding: wire did not ask for one)", "note", color)
    return _coding_lines(exchange.coding, color, [] if show_secrets else secrets_of(exchange))


def _coding_lines(coding: ContentCoding, color: bool, secrets: list[Secret]) -> str:
    lines = [
        _kv("asked", f"Accept-Encoding: {coding.asked}" if coding.asked else "nothing (no Accept-Encoding)", color)
    ]
    if not coding.applied:
        lines.append(_kv("applied", "none: no Content-Encoding, the body came as it is", color))
    else:
        order = (
            " (undone last to first: the list is in the order applied, RFC 9110 §8.4)"
            if len(coding.codings) > 1
            else ""
        )
        lines.append(_kv("applied", f"Content-Encoding: {', '.join(coding.codings)}{order}", color))
        if coding.raw_deflate:
            lines.append(
                paint(
                    "  (deflate without its zlib wrapper: non-conformant, RFC 9110 §8.4.1.2; decoded as raw deflate)",
                    "note",
                    color,
                )
            )
    saved = ""
    if coding.applied and coding.decoded_size:
        saved = f", {100 - round(100 * coding.compressed_size / coding.decoded_size)} % smaller on the wire"
    lines.append(
        _kv("sizes", f"{coding.compressed_size} bytes as framed -> {coding.decoded_size} bytes decoded{saved}", color)
    )
    decoded = redact_bytes(coding.decoded, secrets)
    lines.append(_kv("decoded", "", color).rstrip())
    lines.append(_preview(decoded, PREVIEW_BYTES, color))
    return "\n".join(lines)


def pace_view(pace: StreamTimings, *, color: bool = False) -> str:
    """The pace of a streamed answer: time to first byte and delta, the rates, the gaps and their chart."""
    lines = [
        _kv_wide("first byte", f"{_ms(pace.time_to_first_byte)} after the request was sent", color),
        _kv_wide("first delta", f"{_ms(pace.time_to_first_delta)} after the request was sent", color),
    ]
    if pace.deltas == 0:
        lines.append(paint("  (no content delta arrived)", "note", color))
        return "\n".join(lines)
    rate = pace.deltas_per_second
    lines.append(
        _kv_wide(
            "deltas",
            f"{pace.deltas} in {_ms(pace.duration)}" + (f": {rate:.1f} per second" if rate is not None else ""),
            color,
        )
    )
    tokens = pace.tokens_per_second
    if pace.completion_tokens is not None:
        per = f": {tokens:.1f} per second" if tokens is not None else ""
        lines.append(_kv_wide("tokens", f"{pace.completion_tokens} completion tokens (usage){per}", color))
    else:
        lines.append(_kv_wide("tokens", "no usage in the stream: tokens per second unknown", color))
    if pace.gaps:
        where = pace.longest_gap_index
        lines.append(
            _kv_wide(
                "gaps",
                f"median {_ms(pace.median_gap)}, longest {_ms(pace.longest_gap)} "
                f"(between deltas {where + 1} and {where + 2}, counting from 1)"
                if where is not None
                else "",
                color,
            )
        )
        lines.append(f"  {'':<12} {paint(gap_chart(pace.gaps), 'bar', color)}")
        lines.append(paint(f"  {'':<12} one bar per gap, in order; the tallest is the longest", "note", color))
    return "\n".join(lines)


def annotated_view(exchange: Exchange, *, color: bool = False, preview: int = 48, show_secrets: bool = False) -> str:
    """Which bytes of the reply are what: byte range, part name, the bytes themselves.

    Made from the parser's events, which know their offsets: the status line,
    each field, the empty line, each chunk size line, chunk data and CRLF,
    each trailer. A learner can check any byte of ``--raw`` against it.
    """
    rows: list[tuple[int, int, str, bytes]] = []
    unfolded: dict[int, str] = {}  # a folded field's offset -> the field as read (RFC 9112 §5.2)
    for ev in exchange.events:
        if isinstance(ev, StatusLine):
            rows.append((ev.offset, len(ev.raw), "status line", ev.raw))
        elif isinstance(ev, Field):
            kind = "trailer field" if isinstance(ev, Trailer) else "field"
            if ev.folded:
                kind = "folded " + kind.split()[0]
                unfolded[ev.offset] = f"{ev.name}: {ev.value}"
            rows.append((ev.offset, len(ev.raw), kind, ev.raw))
        elif isinstance(ev, EndOfHead):
            rows.append((ev.offset, len(ev.raw), "end of head", ev.raw))
        elif isinstance(ev, ChunkHeader):
            rows.append((ev.offset, len(ev.raw), "chunk size line" if ev.size else "last chunk", ev.raw))
        elif isinstance(ev, Data):
            if rows and rows[-1][2] == "body data" and rows[-1][0] + rows[-1][1] == ev.offset:
                start, size, _, data = rows.pop()  # one row per run of data, however the reads cut it
                rows.append((start, size + len(ev.data), "body data", data + ev.data))
            else:
                rows.append((ev.offset, len(ev.data), "body data", ev.data))
        elif isinstance(ev, ChunkEnd):
            rows.append((ev.offset, 2, "chunk data end", b"\r\n"))
        elif isinstance(ev, EndOfMessage) and rows and exchange.response is not None:
            last = rows[-1][0] + rows[-1][1]
            if ev.offset > last:  # the empty line that ends a chunked body's trailer section
                rows.append((last, ev.offset - last, "end of body", exchange.response.raw[last : ev.offset]))
    if not rows:
        return "  (no reply bytes)"
    width = len(str(rows[-1][0] + rows[-1][1]))
    secrets = [] if show_secrets else secrets_of(exchange)
    body = b"".join(data for _, _, what, data in rows if what == "body data")
    at = 0  # where a body data row begins in the de-chunked body: a secret may straddle two frames
    out = []
    for start, size, what, data in rows:
        label = "chunk data" if what == "body data" and exchange.response and exchange.response.frames else what
        cut = preview if what == "body data" else 2 * preview
        if what == "body data":
            data, at = redact_part(body, at, at + size, secrets), at + size
        else:
            data = redact_bytes(data, secrets)
        shown = escape(data[:cut]) + (paint(f"… (+{size - cut} bytes)", "note", color) if size > cut else "")
        span = f"{start:>{width}}-{start + size - 1:<{width}}"
        out.append(f"  {paint(span, 'note', color)}  {paint(label.ljust(15), 'name', color)} {shown}")
        if what.startswith("folded") and start in unfolded:
            read_as = escape(redact_bytes(unfolded[start].encode("latin-1"), secrets))
            note = f"(obs-fold: each fold read as one SP, RFC 9112 §5.2) {read_as}"
            out.append(f"  {' ' * len(span)}  {paint(note, 'note', color)}")
    return "\n".join(out)


def attempts_view(exchange: Exchange, *, color: bool = False, show_secrets: bool = False) -> str:
    """Each attempt in order: how it ended, how long the client waited before the next one."""
    secrets = [] if show_secrets else secrets_of(exchange)
    out = []
    for attempt in exchange.attempts:
        if attempt.response is not None:
            how = printable(redact_text(f"{attempt.response.status} {attempt.response.reason}", secrets))
        elif attempt.error is not None:
            how = printable(f"{type(attempt.error).__name__}: {attempt.error}")
        else:
            how = "no reply"
        sent = sum(len(r.data) for r in attempt.records if r.direction == "out")
        got = len(attempt.response_bytes)
        conn = "reused connection" if attempt.reused else "new connection"
        line = f"  {paint(f'attempt {attempt.number}', 'name', color)}  {how}  ({conn}, {sent} bytes out, {got} in)"
        out.append(line)
        if attempt.sent_before_close is not None:
            out.append(
                paint(
                    f"    the server closed the connection after {attempt.sent_before_close} of "
                    f"{len(attempt.request_bytes)} request bytes had gone out: the rest was never sent",
                    "note",
                    color,
                )
            )
        if attempt.retry_delay is not None:
            out.append(paint(f"    then waited {attempt.retry_delay:.2f} s before trying again", "note", color))
    return "\n".join(out)


def exchange_view(
    exchange: Exchange,
    *,
    layers: Iterable[str] = LAYERS,
    settings: Settings | None = None,
    show_secrets: bool = False,
    color: bool = False,
) -> str:
    """Every chosen layer of an exchange, in wire order, each under its numbered title."""
    chosen = set(layers)
    secrets = [] if show_secrets else secrets_of(exchange)
    sections: list[tuple[str, str, str]] = []
    if "settings" in chosen and settings is not None:
        sections.append(("settings", "wire/config.py", settings_view(settings, show_secrets=show_secrets, color=color)))
    if "payload" in chosen:
        sections.append(("payload (JSON)", "wire/chat.py", payload_view(exchange.payload)))
    if "request" in chosen:
        sections.append(
            ("request bytes", "wire/request.py", request_view(exchange, show_secrets=show_secrets, color=color))
        )
    if "connection" in chosen and exchange.tunnel is not None:
        sections.append(
            (
                "proxy tunnel: CONNECT",
                "wire/transport.py",
                tunnel_view(exchange.tunnel, show_secrets=show_secrets, color=color),
            )
        )
    if "connection" in chosen and exchange.records:
        sections.append(("connection: DNS, TCP, TLS", "wire/transport.py", connection_view(exchange, color=color)))
    response = exchange.response or partial_response(exchange)
    if response is not None:
        if "response" in chosen:
            head = response_head_view(response, color=color)
            if response is not exchange.response:
                head += "\n" + paint("  (the reply broke off: below is what had arrived)", "error", color)
            sections.append(("response head: status line and fields", "wire/http11/parser.py", head))
        if "body" in chosen:
            sections.append(
                (
                    f"body framing: {response.framing.value}",
                    "wire/http11/framing.py",
                    body_view(response, color=color, secrets=secrets),
                )
            )
        if "coding" in chosen and exchange.coding is not None:
            sections.append(
                (
                    "content coding: " + (", ".join(exchange.coding.codings) or "none"),
                    "wire/coding.py",
                    _coding_lines(exchange.coding, color, secrets),
                )
            )
        if "sse" in chosen and exchange.stream and exchange.sse_events:
            sections.append(
                ("server-sent events", "wire/sse.py", sse_view(exchange, color=color, show_secrets=show_secrets))
            )
            sections.append(("completion chunks", "wire/chat.py", completion_chunks_view(exchange, color=color)))
        if "json" in chosen and not exchange.stream:
            sections.append(("JSON body", "wire/chat.py", json_view(exchange)))
        if "answer" in chosen:
            sections.append(("answer", "wire/chat.py", answer_view(exchange, color=color)))
    if "annotated" in chosen and exchange.events:
        sections.append(
            ("annotated reply bytes", "wire/http11/", annotated_view(exchange, color=color, show_secrets=show_secrets))
        )
    if ("attempts" in chosen or len(exchange.attempts) > 1) and exchange.attempts:
        sections.append(
            ("attempts", "wire/exchange.py", attempts_view(exchange, color=color, show_secrets=show_secrets))
        )
    if "timings" in chosen and exchange.records:
        sections.append(("timings", "wire/transport.py", timings_view(exchange.timings, color=color)))
    stream_timings = exchange.stream_timings
    if "pace" in chosen and stream_timings is not None and (exchange.delta_times or exchange.response is not None):
        sections.append(("pace of the answer", "wire/pace.py", pace_view(stream_timings, color=color)))
    dropped = capture_notes(exchange)
    if dropped:
        sections.append(("capture", "wire/capture.py", paint("\n".join(dropped), "note", color)))
    text = "\n\n".join(f"{title(i, name, where, color)}\n{body}" for i, (name, where, body) in enumerate(sections, 1))
    return redact_text(text, secrets)


# --- small helpers ---


def _kv(name: str, value: str, color: bool) -> str:
    return f"  {paint(name.ljust(8), 'name', color)} {value}"


def _kv_wide(name: str, value: str, color: bool) -> str:
    return f"  {paint(name.ljust(12), 'name', color)} {value}"


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.1f} ms"


def _indent(text: str, prefix: str = "  ") -> str:
    # Cut at LF only: str.splitlines would also cut at U+2028, U+0085, ... inside a JSON string.
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # a last LF ends the last line; it does not start a new one
    return "\n".join(prefix + line for line in lines)


# The variable a curl command reads the key from: the shell expands it, so the key never appears on screen.
CURL_KEY_VARIABLE = "OPENAI_API_KEY"


def curl_command(exchange: Exchange, *, show_secrets: bool = False, ca_file: str | None = None) -> str:
    """The same request as a curl command line (curl adds Host and Content-Length itself).

    The body is the exact bytes a call sends. The key is ``"$OPENAI_API_KEY"``
    in double quotes, which the shell expands (POSIX sh, 2.2.3), so the
    command works as pasted; ``show_secrets`` writes the key itself. A
    streamed call adds ``-N`` (``--no-buffer``): curl prints each event as it
    arrives instead of filling its output buffer first.
    """
    request = exchange.request
    url = exchange.base_url.rstrip("/") + request.target[len(_path_of(exchange.base_url)) :]
    parts = ["curl -sS --http1.1" + (" -N" if exchange.stream else ""), shlex.quote(url)]
    if request.header("Accept-Encoding") is not None:
        # curl decodes only with --compressed; the -H below then replaces the list it would send
        # (libcurl CURLOPT_ACCEPT_ENCODING(3): the header alone asks, but nothing is decoded).
        parts[0] += " --compressed"
    if ca_file:
        parts.append(f"--cacert {shlex.quote(ca_file)}")
    for name, value in request.headers:
        if name.lower() in ("host", "content-length"):
            continue
        if name.lower() == "authorization" and not show_secrets and value.startswith("Bearer "):
            parts.append(f'-H "{name}: Bearer ${CURL_KEY_VARIABLE}"')
            continue
        parts.append(f"-H {shlex.quote(f'{name}: {value}')}")
    if request.body:
        parts.append(f"--data-raw {shlex.quote(request.body.decode('utf-8', 'replace'))}")
    text = " \\\n  ".join(parts)
    return text if show_secrets else redact_text(text, secrets_of(exchange))


def _path_of(url: str) -> str:
    """The path part of a URL: ``https://host:1/v1`` -> ``/v1``."""
    rest = url.split("://", 1)[-1]
    slash = rest.find("/")
    return rest[slash:].rstrip("/") if slash >= 0 else ""


def trace_line(event: TraceEvent, *, color: bool = False) -> str:
    """One trace event as one line: time, ``layer.step``, its facts."""
    step_style = {"started": "note", "complete": "in", "failed": "error"}.get(event.step, "note")
    facts = ", ".join(f"{k}={v!r}" for k, v in event.info.items())
    return (
        f"{event.time * 1000:9.2f} ms  "
        + paint(f"{event.name}.{event.step}", step_style, color)
        + (f"  {facts}" if facts else "")
    )


# --- the proxy tunnel (wire/proxy.py: CONNECT through an HTTP proxy) ---

if TYPE_CHECKING:
    from wire.proxy import TunnelInfo


def tunnel_view(tunnel: TunnelInfo, *, show_secrets: bool = False, color: bool = False) -> str:
    """The CONNECT exchange with a proxy, both ways as bytes; the proxy password and credentials as ``***``."""
    proxy = tunnel.proxy
    request = tunnel.request_bytes if show_secrets else redact_bytes(tunnel.request_bytes, tunnel.secrets)
    source = f" (from {proxy.source})" if proxy.source else ""
    lines = [
        _kv("proxy", f"{proxy.url}{source}", color),
        _kv("tunnel", f"CONNECT {tunnel.target}: TCP went to the proxy, which connects onward", color),
        byte_lines(request, ">", color=color, direction="out"),
    ]
    if proxy.username is not None and not show_secrets:
        lines.append(paint(f"  (Basic credentials: base64 of '{proxy.username}:{MASK}', RFC 7617)", "note", color))
    if tunnel.response_bytes:
        lines.append(byte_lines(tunnel.response_bytes, "<", color=color, direction="in"))
    if tunnel.status is not None and 200 <= tunnel.status < 300:
        lines.append(
            paint(
                f"  (tunnel open: from here on the bytes go through the proxy to {tunnel.target} unchanged;"
                " with TLS the proxy sees only ciphertext)",
                "note",
                color,
            )
        )
    return "\n".join(lines)
