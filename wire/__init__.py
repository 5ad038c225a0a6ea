"""wire: every byte of a Chat Completions call, written out by hand."""

from __future__ import annotations

__version__ = "0.1.0"

from wire.chat import ChatCompletion, Choice, Message, StreamAssembler, ToolCall, Usage
from wire.client import ChatStream, Client
from wire.config import Settings
from wire.errors import (
    APIError,
    ConfigError,
    IncompleteMessage,
    InvalidHeader,
    InvalidRequest,
    NetworkError,
    ProtocolError,
    ProxyError,
    StreamError,
    Timeout,
    TLSError,
    WireError,
)
from wire.exchange import Attempt, Exchange
from wire.fake import FakeServer, Scenario
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
    "InvalidRequest",
    "NetworkError",
    "ProtocolError",
    "ProxyError",
    "StreamError",
    "TLSError",
    "Timeout",
    "WireError",
    "__version__",
]
