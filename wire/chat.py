"""The payload layer: the JSON of a Chat Completions call, in and out.

Out: ``build_payload()`` makes the request object for ``POST /chat/completions``
and ``encode_payload()`` turns it into the exact body bytes.

In: ``ChatCompletion.from_dict()`` reads a reply (``object: "chat.completion"``)
into typed views that keep their JSON at ``.raw``. A streamed reply arrives as
``chat.completion.chunk`` objects, one per Server-Sent Event; ``StreamAssembler``
adds them up into the same ``ChatCompletion`` the non-streamed call would give.

    payload = build_payload("Tell me a fun fact about HTTP.", stream=True)
    body = encode_payload(payload)        # b'{"model":"gpt-4o-mini","messages":[...],"stream":true}'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from wire.errors import APIError, ProtocolError, StreamError

DEFAULT_MODEL = "gpt-4o-mini"
SEED_PROMPT = "Tell me a fun fact about HTTP."

_RULE = "Chat Completions reply format"
_CHUNK_RULE = "Chat Completions stream format"
_DONE = "[DONE]"  # the data of the last event of a stream: not JSON, just the end marker


# -- out: the request ----------------------------------------------------------------


def build_payload(
    messages: str | list[dict[str, Any]],
    *,
    model: str = DEFAULT_MODEL,
    stream: bool = False,
    **params: Any,
) -> dict[str, Any]:
    """The request object: ``model``, ``messages``, then ``params`` in the order given, then ``stream``.

    A string becomes one user message. ``params`` go through as they are
    (``temperature``, ``max_tokens``, ``tools``, ``stream_options``, ...).
    ``"stream": true`` is added only for a streamed call.
    """
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    payload: dict[str, Any] = {"model": model, "messages": list(messages)}
    payload.update(params)
    if stream:
        payload["stream"] = True
    return payload


def encode_payload(payload: dict[str, Any]) -> bytes:
    """The body bytes: compact JSON (no spaces), non-ASCII text as UTF-8 rather than ``\\u`` escapes.

    NaN and Infinity are refused (``ValueError``): they are not JSON, and the
    server would reject the body.
    """
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


# -- in: typed views of a reply ------------------------------------------------------------

_MISSING: Any = object()


def _field(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any = _MISSING) -> Any:
    """``obj[key]`` if it has the expected JSON type; ``default`` if absent (or null, when a default is given)."""
    value = obj.get(key, _MISSING)
    if value is _MISSING or (value is None and default is not _MISSING):
        if default is _MISSING:
            raise ProtocolError(f"reply JSON: {where} has no {key!r}", rule=_RULE)
        return default
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise ProtocolError(
            f"reply JSON: {where}.{key} should be {names.replace('NoneType', 'null')}, not {type(value).__name__}",
            rule=_RULE,
        )
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProtocolError(f"reply JSON: {where} should be an object, not {type(value).__name__}", rule=_RULE)
    return value


@dataclass
class FunctionCall:
    """The function a tool call asks for: its ``name`` and its ``arguments`` (a JSON text, as sent)."""

    name: str
    arguments: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Any, where: str = "function") -> FunctionCall:
        d = _object(d, where)
        return cls(_field(d, "name", str, where), _field(d, "arguments", str, where, ""), d)


@dataclass
class ToolCall:
    """One tool call in an assistant message."""

    id: str
    type: str
    function: FunctionCall
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Any, where: str = "tool_call") -> ToolCall:
        d = _object(d, where)
        function = FunctionCall.from_dict(d.get("function"), f"{where}.function")
        return cls(_field(d, "id", str, where), _field(d, "type", str, where, "function"), function, d)


@dataclass
class Message:
    """A message: ``content`` is None when the assistant only calls tools (or refuses)."""

    role: str
    content: str | None
    tool_calls: list[ToolCall] = field(default_factory=list)
    refusal: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Any, where: str = "message") -> Message:
        d = _object(d, where)
        calls = _field(d, "tool_calls", list, where, [])
        return cls(
            role=_field(d, "role", str, where),
            content=_field(d, "content", (str, type(None)), where, None),
            tool_calls=[ToolCall.from_dict(c, f"{where}.tool_calls[{i}]") for i, c in enumerate(calls)],
            refusal=_field(d, "refusal", (str, type(None)), where, None),
            raw=d,
        )


@dataclass
class Choice:
    """One of the replies (there are ``n`` of them; one by default)."""

    index: int
    message: Message
    finish_reason: str | None
    logprobs: Any = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Any, where: str = "choice") -> Choice:
        d = _object(d, where)
        return cls(
            index=_field(d, "index", int, where),
            message=Message.from_dict(d.get("message"), f"{where}.message"),
            finish_reason=_field(d, "finish_reason", (str, type(None)), where, None),
            logprobs=d.get("logprobs"),
            raw=d,
        )


@dataclass
class Usage:
    """Token counts; the details (cached, reasoning, ...) stay in ``raw``."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Any, where: str = "usage") -> Usage:
        d = _object(d, where)
        return cls(
            _field(d, "prompt_tokens", int, where),
            _field(d, "completion_tokens", int, where),
            _field(d, "total_tokens", int, where),
            d,
        )


@dataclass
class ChatCompletion:
    """A whole reply, ``object: "chat.completion"``. ``raw`` is the JSON it was read from."""

    id: str
    object: str
    created: int
    model: str
    choices: list[Choice]
    usage: Usage | None = None
    system_fingerprint: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Any) -> ChatCompletion:
        """Read a reply; a ``ProtocolError`` names the first part that is missing or of the wrong type."""
        d = _object(d, "the reply")
        choices = _field(d, "choices", list, "the reply")
        usage = d.get("usage")
        return cls(
            id=_field(d, "id", str, "the reply"),
            object=_field(d, "object", str, "the reply"),
            created=_field(d, "created", int, "the reply"),
            model=_field(d, "model", str, "the reply"),
            choices=[Choice.from_dict(c, f"choices[{i}]") for i, c in enumerate(choices)],
            usage=None if usage is None else Usage.from_dict(usage),
            system_fingerprint=_field(d, "system_fingerprint", (str, type(None)), "the reply", None),
            raw=d,
        )

    @property
    def text(self) -> str:
        """The first choice's text ("" if there is none)."""
        if not self.choices:
            return ""
        return self.choices[0].message.content or ""


# -- in: a streamed reply ------------------------------------------------------------


def decode_stream_data(data: str) -> dict[str, Any] | None:
    """The chunk object in one event's ``data``; None for the end marker ``[DONE]``.

    Raises ``StreamError`` when the data is not a JSON object.
    """
    if data.strip() == _DONE:
        return None
    preview = data if len(data) <= 60 else data[:60] + "..."
    try:
        chunk = json.loads(data)
    except json.JSONDecodeError as exc:
        message = f"event data is not JSON ({exc.msg} at char {exc.pos}): {preview!r}"
        raise StreamError(message, rule=_CHUNK_RULE) from exc
    except RecursionError as exc:  # json gives up on arrays nested thousands deep
        raise StreamError(f"event data is nested too deeply to read: {preview!r}", rule=_CHUNK_RULE) from exc
    if not isinstance(chunk, dict):
        raise StreamError(f"event data is JSON but not an object: {preview!r}", rule=_CHUNK_RULE)
    return chunk


@dataclass
class _ToolCallParts:
    id: str | None = None
    type: str | None = None
    name: str | None = None
    arguments: list[str] = field(default_factory=list)


@dataclass
class _ChoiceParts:
    role: str | None = None
    content: list[str] | None = None  # None until a delta carries content (even "")
    refusal: list[str] | None = None
    tool_calls: dict[int, _ToolCallParts] = field(default_factory=dict)
    finish_reason: str | None = None
    logprobs: dict[str, Any] | None = None


class StreamAssembler:
    """Adds up ``chat.completion.chunk`` objects into one ``ChatCompletion``.

    Each chunk's ``choices[i].delta`` carries a piece of choice ``i``: the
    ``role`` (first chunk), a piece of ``content`` or ``refusal``, pieces of
    tool calls (by their own ``index``: the ``id``, ``type`` and function
    ``name`` come with the first piece, the ``arguments`` text in pieces),
    and at last a ``finish_reason``. With ``stream_options.include_usage`` a
    final chunk has ``choices: []`` and the ``usage``.

    ``chunks`` keeps every chunk added; ``done`` turns True at ``[DONE]``.
    """

    def __init__(self) -> None:
        self.chunks: list[dict[str, Any]] = []
        self.done = False
        self._choices: dict[int, _ChoiceParts] = {}
        self._head: dict[str, Any] = {}  # id, created, model, system_fingerprint, as the chunks give them
        self._usage: dict[str, Any] | None = None

    def add_data(self, data: str) -> str:
        """Add one event's ``data`` text: a JSON chunk, or ``[DONE]``. Returns the text it carries."""
        chunk = decode_stream_data(data)
        if chunk is None:
            self.done = True
            return ""
        return self.add(chunk)

    def add(self, chunk: dict[str, Any]) -> str:
        """Add one chunk; return the text it carries for the first choice ("" if none)."""
        self.chunks.append(chunk)
        if not isinstance(chunk, dict):
            raise self._error(f"a chunk should be a JSON object, not {type(chunk).__name__}")
        if "error" in chunk:
            raise _api_error(chunk)
        choices = chunk.get("choices")
        if not isinstance(choices, list):
            raise self._error("a chunk has no 'choices' list (and no 'error')")
        for key in ("id", "created", "model", "system_fingerprint"):
            if chunk.get(key) is not None:
                self._head.setdefault(key, chunk[key])
        if chunk.get("usage") is not None:
            self._usage = chunk["usage"]
        text = ""
        for choice in choices:
            if not isinstance(choice, dict):
                raise self._error("a chunk's choice is not an object")
            index = choice.get("index", 0)
            if not isinstance(index, int):
                raise self._error("a chunk's choice index is not an integer")
            parts = self._choices.setdefault(index, _ChoiceParts())
            piece = self._add_delta(parts, choice.get("delta") or {})
            if index == 0:
                text += piece
            if choice.get("finish_reason") is not None:
                parts.finish_reason = choice["finish_reason"]
            if choice.get("logprobs") is not None:
                _add_logprobs(parts, choice["logprobs"])
        return text

    def _add_delta(self, parts: _ChoiceParts, delta: dict[str, Any]) -> str:
        if not isinstance(delta, dict):
            raise self._error("a chunk's delta is not an object")
        if delta.get("role"):
            parts.role = delta["role"]
        content = delta.get("content")
        if content is not None:
            if not isinstance(content, str):
                raise self._error("a delta's content is not a string")
            if parts.content is None:
                parts.content = []
            if content:
                parts.content.append(content)
        refusal = delta.get("refusal")
        if isinstance(refusal, str):
            if parts.refusal is None:
                parts.refusal = []
            parts.refusal.append(refusal)
        for piece in delta.get("tool_calls") or []:
            if not isinstance(piece, dict):
                raise self._error("a delta's tool call is not an object")
            index = piece.get("index", 0)
            if not isinstance(index, int):
                raise self._error("a tool call piece's index is not an integer")
            call = parts.tool_calls.setdefault(index, _ToolCallParts())
            call.id = call.id or piece.get("id")
            call.type = call.type or piece.get("type")
            function = piece.get("function") or {}
            call.name = call.name or function.get("name")
            if function.get("arguments"):
                call.arguments.append(function["arguments"])
        return content or ""

    def _error(self, message: str) -> StreamError:
        return StreamError(message, chunks=self.chunks, rule=_CHUNK_RULE)

    def completion(self) -> ChatCompletion:
        """The assembled reply, as ``object: "chat.completion"`` (what the call without streaming returns)."""
        if not self.chunks:
            raise self._error("no chunks to assemble")
        choices = []
        for index in sorted(self._choices):
            parts = self._choices[index]
            message: dict[str, Any] = {
                "role": parts.role or "assistant",
                "content": None if parts.content is None else "".join(parts.content),
                "refusal": None if parts.refusal is None else "".join(parts.refusal),
            }
            if parts.tool_calls:
                message["tool_calls"] = [
                    {
                        "id": call.id or "",
                        "type": call.type or "function",
                        "function": {"name": call.name or "", "arguments": "".join(call.arguments)},
                    }
                    for _, call in sorted(parts.tool_calls.items())
                ]
            choices.append(
                {"index": index, "message": message, "logprobs": parts.logprobs, "finish_reason": parts.finish_reason}
            )
        reply: dict[str, Any] = {
            "id": self._head.get("id", ""),
            "object": "chat.completion",
            "created": self._head.get("created", 0),
            "model": self._head.get("model", ""),
            "choices": choices,
        }
        if self._usage is not None:
            reply["usage"] = self._usage
        if "system_fingerprint" in self._head:
            reply["system_fingerprint"] = self._head["system_fingerprint"]
        return ChatCompletion.from_dict(reply)


def _add_logprobs(parts: _ChoiceParts, logprobs: Any) -> None:
    """Token log-probabilities come in pieces too: join their ``content`` and ``refusal`` lists."""
    if not isinstance(logprobs, dict):
        return
    if parts.logprobs is None:
        parts.logprobs = {}
    for key, value in logprobs.items():
        if isinstance(value, list):
            parts.logprobs[key] = (parts.logprobs.get(key) or []) + value
        elif parts.logprobs.get(key) is None:
            parts.logprobs[key] = value


def _api_error(chunk: dict[str, Any]) -> APIError:
    """An ``{"error": {...}}`` object in a stream: the server gave up mid-reply."""
    error = chunk.get("error")
    body = json.dumps(chunk, ensure_ascii=False).encode("utf-8")
    if not isinstance(error, dict):
        return APIError(str(error) if error else "error event in the stream", body=body)

    def text(key: str) -> str | None:
        value = error.get(key)
        return None if value is None else str(value)

    return APIError(
        text("message") or "error event in the stream",
        type=text("type"),
        param=text("param"),
        code=text("code"),
        body=body,
    )
