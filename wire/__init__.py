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
    TLSError,
    Timeout,
    WireError,
)

__all__ = [
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
