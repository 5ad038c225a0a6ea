"""wire: every byte of a Chat Completions call, written out by hand.

``import wire`` loads no layer: each public name below is imported from its
module the first time it is used (PEP 562, module ``__getattr__``). So
``import wire.request`` loads the request writer (and what it needs), not the
client or the fake server, and ``import wire`` starts no fake server machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from wire.version import __version__

# Each public name and the module that defines it, in wire order.
_PUBLIC: dict[str, tuple[str, ...]] = {
    "wire.errors": (
        "APIError",
        "ConfigError",
        "IncompleteMessage",
        "InvalidHeader",
        "InvalidRequest",
        "NetworkError",
        "ProtocolError",
        "ProxyError",
        "StreamError",
        "Timeout",
        "TLSError",
        "WireError",
    ),
    "wire.config": ("Settings",),
    "wire.chat": ("ChatCompletion", "Choice", "Message", "StreamAssembler", "ToolCall", "Usage"),
    "wire.request": ("Request",),
    "wire.transport": ("Connection", "Timeouts", "Timings", "TLSInfo"),
    "wire.http11": (
        "ChunkEnd",
        "ChunkFrame",
        "ChunkHeader",
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
    ),
    "wire.sse": ("ServerSentEvent", "SSEDecoder"),
    "wire.trace": ("TraceEvent",),
    "wire.exchange": ("Attempt", "Exchange"),
    "wire.client": ("ChatStream", "Client"),
    "wire.fake": ("FakeServer", "Scenario"),
}
_MODULE_OF = {name: module for module, names in _PUBLIC.items() for name in names}

if TYPE_CHECKING:  # the same names, for type checkers and editors (re-exported by __all__)
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
        ChunkEnd,
        ChunkFrame,
        ChunkHeader,
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


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use and then kept here."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'wire' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULE_OF})


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
    "ChunkHeader",
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
