"""wire: every byte of a Chat Completions call, written out by hand."""

from __future__ import annotations

__version__ = "0.1.0"

from wire.errors import (
    APIError,
    ConfigError,
    IncompleteMessage,
    InvalidHeader,
    NetworkError,
    ProtocolError,
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

__all__ = [
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
    "StreamError",
    "TLSError",
    "Timeout",
    "WireError",
    "__version__",
]
