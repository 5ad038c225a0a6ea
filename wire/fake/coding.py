"""The fake server's content coding: the body compressed with zlib, when the scenario says so.

``Scenario(coding=…)``:

    None           never (the default): the body goes out as it is
    "auto"         as the request asks: gzip if its Accept-Encoding lists gzip, else
                   deflate if it lists deflate, else none (RFC 9110 §12.5.3; a weight,
                   §12.4.2, of q=0 refuses a coding)
    "gzip", "deflate"   always that coding (deflate: the zlib format, RFC 9110 §8.4.1.2)
    "raw-deflate"  labelled deflate but without the zlib wrapper, as some servers
                   wrongly send it (RFC 9110 §8.4.1.2 notes them)
    "br", "zstd"   only the label: the body is not compressed (the standard library
                   has no encoder), enough to test a client that must refuse it

The body is compressed frame by frame with one compressor: each frame ends with
a sync flush (``Z_SYNC_FLUSH``: the deflate data so far, byte-aligned), the
last with the stream's end, so a client decodes every frame as it comes and a
stream's events arrive at once. The reply says ``content-encoding`` and
``vary: accept-encoding`` (RFC 9110 §12.5.5: the reply depends on that field).
"""

from __future__ import annotations

import dataclasses
import zlib
from typing import TypeVar

from wire.fake.replies import Reply
from wire.fake.scenario import CODINGS as CODINGS  # the names Scenario.coding takes

# zlib's wbits for each format: gzip wrapper, zlib wrapper, none.
WBITS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS, "raw-deflate": -zlib.MAX_WBITS}

T = TypeVar("T")


def chosen(coding: str | None, headers: list[tuple[str, str]]) -> str | None:
    """The coding to apply to a reply: the scenario's, or for "auto" the first of gzip, deflate the request accepts."""
    if coding != "auto":
        return coding
    accepted = accepted_codings(headers)
    return next((c for c in ("gzip", "deflate") if c in accepted), None)


def accepted_codings(headers: list[tuple[str, str]]) -> set[str]:
    """The codings a request's Accept-Encoding accepts (RFC 9110 §12.5.3; a weight of q=0 refuses, §12.4.2)."""
    accepted = set()
    for name, value in headers:
        if name.lower() != "accept-encoding":
            continue
        for item in value.split(","):
            coding, _, params = item.partition(";")
            q = params.strip().lower()
            if q.startswith("q=") and _weight(q[2:]) == 0:
                continue
            if coding.strip():
                accepted.add(coding.strip().lower())
    return accepted


def _weight(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 1.0


def label(coding: str) -> str:
    """The Content-Encoding value for a coding ("raw-deflate" says deflate: that is its mistake)."""
    return "deflate" if coding == "raw-deflate" else coding


def with_coding(reply: Reply, coding: str | None) -> Reply:
    """The reply with its coding noted and the content-encoding and vary fields added (a body to code only)."""
    if coding is None or (not reply.streamed and not reply.body):
        return reply
    fields = [*reply.fields, ("content-encoding", label(coding)), ("vary", "accept-encoding")]
    return dataclasses.replace(reply, fields=fields, coding=coding)


def encode(payloads: list[T | bytes], coding: str | None) -> list[T | bytes]:
    """Each bytes payload compressed in turn by one compressor, flushed at its end; other steps kept."""
    if coding not in WBITS:
        return payloads  # no coding, or a label only
    compressor = zlib.compressobj(wbits=WBITS[coding])
    last = max((i for i, p in enumerate(payloads) if isinstance(p, bytes)), default=-1)
    out: list[T | bytes] = []
    for index, payload in enumerate(payloads):
        if isinstance(payload, bytes):
            flush = zlib.Z_FINISH if index == last else zlib.Z_SYNC_FLUSH
            payload = compressor.compress(payload) + compressor.flush(flush)
        out.append(payload)
    return out
