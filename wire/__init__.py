"""wire: every byte of a Chat Completions call, written out by hand."""

from __future__ import annotations

from typing import Any

from wire.chat import ChatCompletion, Choice, Message, StreamAssembler, ToolCall, Usage
from wire.client import Attempt, ChatStream, Client, Exchange
from wire.config import Settings
from wire.errors import (
    APIError,
    ConfigError,
    IncompleteMessage,
    InvalidHeader,
    NetworkError,
    ProtocolError,
    ProxyError,
    StreamError,
    Timeout,
    TLSError,
    WireError,
)
from wire.http11 import (
    Chunk,
    ChunkEnd,
    ChunkFrame,
    Data,
    EndOfHead,
    EndOfMessage,
    Event,
    Field,
    Framing,
    Response,
    ResponseParser,
    State,
    StatusLine,
    Trailer,
    parse_response,
)
from wire.request import Request
from wire.sse import ServerSentEvent, SSEDecoder
from wire.trace import TraceEvent
from wire.transport import Connection, Timeouts, Timings, TLSInfo
from wire.version import __version__

# The fake server (wire/fake/) is loaded on first use, not by ``import wire``: most
# programs never start one, and it brings http.server, threads and the demo's certificates.


def __getattr__(name: str) -> Any:
    """``wire.FakeServer`` and ``wire.Scenario``: import ``wire.fake`` when first asked for (PEP 562)."""
    if name in ("FakeServer", "Scenario"):
        from wire import fake

        return getattr(fake, name)
    raise AttributeError(f"module 'wire' has no attribute {name!r}")

__all__ = [
    "Attempt",
    "ChatCompletion",
    "ChatStream",
    "Choice",
    "Client",
    "Connection",
    "Exchange",
    "FakeServer",
    "Message",
    "Request",
    "SSEDecoder",
    "Scenario",
    "ServerSentEvent",
    "Settings",
    "StreamAssembler",
    "TLSInfo",
    "Timeouts",
    "Timings",
    "ToolCall",
    "TraceEvent",
    "Usage",
    "Chunk",
    "ChunkEnd",
    "ChunkFrame",
    "Data",
    "EndOfHead",
    "EndOfMessage",
    "Event",
    "Field",
    "Framing",
    "Response",
    "ResponseParser",
    "State",
    "StatusLine",
    "Trailer",
    "parse_response",
    "APIError",
    "ConfigError",
    "IncompleteMessage",
    "InvalidHeader",
    "NetworkError",
    "ProtocolError",
    "ProxyError",
    "StreamError",
    "TLSError",
    "Timeout",
    "WireError",
    "__version__",
]
