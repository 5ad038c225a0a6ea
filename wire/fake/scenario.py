"""How the fake server answers one request: framing, pacing, errors and faults.

A ``Scenario`` is plain data. ``replies.py`` reads the fields that change
*what* is said (status, SSE line ends, keep-alive comments, a stream error),
``framing.py`` the fields that change *how* the bytes go out (chunk frames,
write sizes, pauses, faults), and ``server.py`` runs the result on a socket.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

FRAMINGS = ("chunked", "length")
# Scenario.coding: see wire/fake/coding.py.
CODINGS = ("auto", "gzip", "deflate", "raw-deflate", "br", "zstd")

# Each fault breaks the reply in one observable way (see framing.apply_fault).
FAULTS = (
    "close_mid_head",  # half the head, then close
    "close_mid_body",  # the head and the first chunk frame (or half the body), then close
    "close_mid_chunk",  # the head and half of the first chunk frame's data, then close
    "stall",  # the head, then silence for stall_seconds, then the rest
    "garbage",  # bytes that are not HTTP at all, then close
    "bad_chunk_size",  # the head, then a chunk-size line "zz", then close
    "oversized_head",  # a well-formed head of more than 70 KiB of fields, then the body
    "slow_drip",  # every byte its own write, drip_delay apart
)


@dataclass
class Scenario:
    """How to answer one request. The defaults behave like the real service.

    Body framing:
      framing         "chunked" (the real API's default) or "length" (Content-Length).
      chunk_size      at most this many body bytes per chunk frame (with "length":
                      per write). None: a JSON body goes out in two frames, split
                      mid-body as the real API does; a stream in one frame per
                      ``events_per_frame`` SSE events.
      write_size      bytes per socket write (1 = one sendall per byte). None: each
                      frame, and the head, in one write.

    Status and retry hints:
      status          200, or an error status with the real API's error body:
                      400, 401 (incorrect API key, redacted), 403, 404, 429
                      (rate limit), 500 (server error), 503 (overloaded); any
                      other status gets a generic server_error body.
      retry_after     the ``retry-after`` header. None: "1" for a 429, absent
                      otherwise. "" (empty): never sent, not even for a 429.
      retry_after_ms  the ``retry-after-ms`` header (absent when None).
      should_retry    the ``x-should-retry`` header (absent when None).

    Faults (one of FAULTS, or None), with their knobs:
      stall_seconds   how long "stall" keeps silent (FakeServer.stop() cuts it short).
      drip_delay      seconds between the one-byte writes of "slow_drip".

    Streaming (the request has ``"stream": true``):
      events_per_frame  several SSE blocks in one chunk frame.
      split_events      the first content event is cut across two chunk frames.
      crlf              SSE lines end in CRLF instead of LF.
      keepalive_comments  a ": keep-alive" comment block before every event but the first.
      pause           seconds between consecutive frames of the stream.
      stream_error    after two content deltas: ``data: {"error": {...}}``, then the
                      stream ends (no ``data: [DONE]``).
      gate            when set: after the first content event, wait until the gate
                      is set (at most ``gate_timeout`` seconds), then send the rest.

    Pacing of a stream's content deltas (wire/fake/pacing.py):
      first_delay     seconds before the frame with the first content delta.
      delta_delay     seconds before each frame with a later content delta.
      jitter          each delta_delay moved by up to this many seconds either way (never below 0).
      seed            the seed of the jitter's draws: the same scenario always waits the same.

    Content coding (wire/fake/coding.py):
      coding          None (never), "auto" (as the request's Accept-Encoding asks: gzip,
                      else deflate), "gzip", "deflate", "raw-deflate" (deflate without its
                      zlib wrapper), or "br"/"zstd" (the label only, the body uncompressed).

    Canned replies (for shapes the generated answer never has: custom tool calls, n > 1, ...):
      reply_json      the object to send as a 200 reply instead of the generated one.
      reply_chunks    the chunk objects to stream instead of the generated ones.

    Tool calls (a request with ``tools`` gets a call of its first tool anyway,
    unless its last message is the ``tool`` message with the result):
      tool_call       the name of a function to call, whatever the request says
                      (its arguments from the declared tool of that name, else ``{}``).
    """

    framing: str = "chunked"
    chunk_size: int | None = None
    write_size: int | None = None
    status: int = 200
    retry_after: str | None = None
    retry_after_ms: str | None = None
    should_retry: str | None = None
    fault: str | None = None
    stall_seconds: float = 5.0
    drip_delay: float = 0.01
    events_per_frame: int = 1
    split_events: bool = False
    crlf: bool = False
    keepalive_comments: bool = False
    pause: float = 0.0
    stream_error: bool = False
    gate: threading.Event | None = None
    gate_timeout: float = 5.0
    reply_json: dict[str, Any] | None = None
    reply_chunks: list[dict[str, Any]] | None = None
    tool_call: str | None = None
    first_delay: float = 0.0
    delta_delay: float = 0.0
    jitter: float = 0.0
    seed: int = 0
    coding: str | None = None

    def __post_init__(self) -> None:
        if self.framing not in FRAMINGS:
            raise ValueError(f"framing must be one of {FRAMINGS}, not {self.framing!r}")
        if self.fault is not None and self.fault not in FAULTS:
            raise ValueError(f"fault must be None or one of {FAULTS}, not {self.fault!r}")
        for name in ("chunk_size", "write_size"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, not {value!r}")
        if self.events_per_frame < 1:
            raise ValueError(f"events_per_frame must be at least 1, not {self.events_per_frame!r}")
        if self.status != 200 and not 400 <= self.status <= 599:
            raise ValueError(f"status must be 200 or an error status (400-599), not {self.status!r}")
        if self.coding is not None and self.coding not in CODINGS:
            raise ValueError(f"coding must be None or one of {CODINGS}, not {self.coding!r}")
        for name in ("stall_seconds", "drip_delay", "pause", "gate_timeout", "first_delay", "delta_delay", "jitter"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        for name in ("retry_after", "retry_after_ms", "should_retry"):
            value = getattr(self, name)
            if value is not None and any(c in value for c in "\r\n\0"):
                raise ValueError(f"{name} must not contain CR, LF or NUL")
