"""How the fake server's reply goes onto the wire: head, chunk frames, writes, faults.

This module turns a ``Reply`` and a ``Scenario`` into a *plan*: a list of
steps, each either ``bytes`` (one socket write), a ``Wait`` (a pause, a gate,
a stall, a drip delay) or a ``Close`` (end the connection here). The plan is
plain data, so a test can read exactly which bytes go out in which writes;
``server.py`` only carries it out. It is written from the RFC, on purpose
without any of wire's own serializer or parser code.

RFC 9112 section 7.1, the chunked transfer coding, as written here:

    chunked-body   = *chunk last-chunk trailer-section CRLF
    chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
    chunk-size     = 1*HEXDIG
    last-chunk     = 1*("0") [ chunk-ext ] CRLF

The fake server writes chunk sizes in lower-case hex without extensions and
sends no trailer fields, so every body ends with ``0\\r\\n\\r\\n``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http import HTTPStatus
from typing import TypeAlias

from wire.fake.coding import encode
from wire.fake.pacing import frame_delays
from wire.fake.replies import DATE, Reply
from wire.fake.scenario import Scenario

LAST_CHUNK = b"0\r\n\r\n"

# "garbage": what a client reads when it connects to something that is not an HTTP server.
GARBAGE = b"SSH-2.0-OpenSSH_9.6 this is not HTTP\r\n\x00\x00\x01\x0c\x0a\x14\xde\xad\xbe\xef"

# "oversized_head": filler fields that push the head past 70 KiB, over the 64 KiB most
# clients accept, while each line (3 KiB) and the field count (about 40) stay ordinary.
OVERSIZED_FIELDS = 24
OVERSIZED_VALUE_BYTES = 3000


@dataclass(frozen=True)
class Wait:
    """Send nothing for ``seconds``; with a ``gate``, only until the gate is set."""

    seconds: float
    reason: str  # "pause", "pace", "gate", "stall" or "drip"
    gate: threading.Event | None = None


@dataclass(frozen=True)
class Close:
    """Close the connection here, whatever the head said about keep-alive."""

    reason: str


Step: TypeAlias = "bytes | Wait | Close"


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def head_bytes(reply: Reply, *, framing: str, body_length: int, close: bool, oversized: bool = False) -> bytes:
    """Status line and header fields, each ending in CRLF, then the empty line (RFC 9112 section 2.1).

    Field order follows the real service: date, content-type, the framing
    field, connection, then the reply's own fields.
    """
    lines = [
        f"HTTP/1.1 {reply.status} {reason_phrase(reply.status)}",
        f"date: {DATE}",
        f"content-type: {reply.content_type}",
        "transfer-encoding: chunked" if framing == "chunked" else f"content-length: {body_length}",
        f"connection: {'close' if close else 'keep-alive'}",
    ]
    lines += [f"{name}: {value}" for name, value in reply.fields]
    if oversized:
        filler = ("0123456789abcdef" * (OVERSIZED_VALUE_BYTES // 16 + 1))[:OVERSIZED_VALUE_BYTES]
        lines += [f"x-filler-{i:02d}: {filler}" for i in range(OVERSIZED_FIELDS)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunk_frame(data: bytes) -> bytes:
    """One chunk: its size in hex, CRLF, the data, CRLF."""
    return f"{len(data):x}\r\n".encode("ascii") + data + b"\r\n"


def _cut(data: bytes, size: int | None) -> list[bytes]:
    if size is None or len(data) <= size:
        return [data]
    return [data[i : i + size] for i in range(0, len(data), size)]


def body_payloads(reply: Reply, scenario: Scenario, framing: str) -> list[bytes | Wait]:
    """The body cut into frame payloads (chunked) or writes (length), with a stream's waits between.

    A JSON body with no chunk_size goes out in two chunk frames cut mid-body,
    as the real service sends it (in one write with "length"). A stream goes
    out ``events_per_frame`` SSE blocks per frame, the first content event cut
    in two when ``split_events``, ``pause`` seconds between those frames and the
    gate's wait right after the first content event; chunk_size then cuts any
    frame that is still too long.
    """
    if not reply.streamed:
        body = reply.body
        if scenario.chunk_size is not None:
            return list(_cut(body, scenario.chunk_size))
        if framing == "chunked" and len(body) > 1:
            return [body[: len(body) // 2], body[len(body) // 2 :]]
        return [body]

    # Group the SSE blocks into frames, remembering where the first content event ends.
    groups: list[bytes] = []
    starts: list[range] = []  # the SSE units each group begins (pacing waits before a group with a delta)
    gate_after: int | None = None  # index in groups after which the gate waits
    units = reply.units
    for start in range(0, len(units), scenario.events_per_frame):
        members = range(start, min(start + scenario.events_per_frame, len(units)))
        group = b"".join(units[i] for i in members)
        target = reply.first_content_unit
        if target is not None and target in members:
            if scenario.split_events:
                offset = sum(len(units[i]) for i in members if i < target) + len(units[target]) // 2
                groups += [group[:offset], group[offset:]]
                starts += [members, range(0)]
            else:
                groups.append(group)
                starts.append(members)
            gate_after = len(groups) - 1
        else:
            groups.append(group)
            starts.append(members)

    items: list[bytes | Wait] = []
    paces = frame_delays(scenario, units, starts)
    for index, group in enumerate(groups):
        if index > 0 and scenario.pause > 0:
            items.append(Wait(scenario.pause, "pause"))
        if paces[index] > 0:
            items.append(Wait(paces[index], "pace"))
        items += _cut(group, scenario.chunk_size)
        if index == gate_after and scenario.gate is not None and index < len(groups) - 1:
            items.append(Wait(scenario.gate_timeout, "gate", scenario.gate))
    return items


def plan(reply: Reply, scenario: Scenario, *, close: bool = False) -> list[Step]:
    """Every step of sending ``reply`` under ``scenario``: writes, waits and a possible close.

    ``close`` is true when the request asked for ``Connection: close``; the
    head then says so and the plan ends with a Close.
    """
    fault = scenario.fault
    framing = "chunked" if fault == "bad_chunk_size" else scenario.framing
    body = reply.body_bytes()
    payloads = [p for p in body_payloads(reply, scenario, framing) if not isinstance(p, bytes) or p]
    if reply.coding is not None:  # compressed frame by frame (wire/fake/coding.py); the head counts the coded bytes
        payloads = encode(payloads, reply.coding)
        body = b"".join(p for p in payloads if isinstance(p, bytes))
    head = head_bytes(reply, framing=framing, body_length=len(body), close=close, oversized=fault == "oversized_head")
    first = next(p for p in payloads if isinstance(p, bytes))

    steps: list[Step]
    if fault == "close_mid_head":
        steps = [head[: len(head) // 2], Close("close_mid_head")]
    elif fault == "garbage":
        steps = [GARBAGE, Close("garbage")]
    elif fault == "bad_chunk_size":
        steps = [head, b"zz\r\n" + first + b"\r\n", Close("bad_chunk_size")]
    elif fault == "close_mid_body" and framing == "chunked":
        steps = [head, chunk_frame(first), Close("close_mid_body")]
    elif fault == "close_mid_chunk" and framing == "chunked":
        steps = [head, chunk_frame(first)[: len(f"{len(first):x}\r\n") + len(first) // 2], Close("close_mid_chunk")]
    elif fault in ("close_mid_body", "close_mid_chunk"):  # Content-Length framing: no frames to cut inside
        steps = [head, body[: len(body) // 2], Close(fault)]
    else:
        body_steps: list[Step] = [*payloads]  # with "length" the payloads go out as they are
        if framing == "chunked":
            body_steps = [chunk_frame(p) if isinstance(p, bytes) else p for p in payloads]
            body_steps.append(LAST_CHUNK)
        stall: list[Step] = [Wait(scenario.stall_seconds, "stall")] if fault == "stall" else []
        steps = [head, *stall, *body_steps]
        if close:
            steps.append(Close("connection: close"))
    return split_writes(steps, scenario)


def split_writes(steps: list[Step], scenario: Scenario) -> list[Step]:
    """Cut every write into ``write_size`` pieces; "slow_drip": one byte each, drip_delay apart."""
    drip = scenario.fault == "slow_drip"
    size = 1 if drip else scenario.write_size
    out: list[Step] = []
    for step in steps:
        if not isinstance(step, bytes):
            out.append(step)
            continue
        for piece in _cut(step, size):
            if drip and out and isinstance(out[-1], bytes):
                out.append(Wait(scenario.drip_delay, "drip"))
            out.append(piece)
    return out
