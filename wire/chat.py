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

import copy
import importlib
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from wire.errors import APIError, ConfigError, ProtocolError, StreamError

DEFAULT_MODEL = "gpt-4o-mini"
CHAT_PATH = "/chat/completions"  # where the endpoint lives under the base URL (".../v1")
SEED_PROMPT = "Tell me a fun fact about HTTP."

_RULE = "Chat Completions reply format"
_CHUNK_RULE = "Chat Completions stream format"
_DONE = "[DONE]"  # the data of the last event of a stream: not JSON, OpenAI's end marker (SSE has none)


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
    (``temperature``, ``max_completion_tokens`` (which replaces the deprecated
    ``max_tokens``), ``tools``, ``stream_options``, ...).
    ``"stream": true`` is added only for a streamed call.
    """
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    payload: dict[str, Any] = {"model": model, "messages": list(messages)}
    payload.update(params)
    if stream:
        payload["stream"] = True
    return payload


# What json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False) makes afresh for
# each call: an encoder holds only its settings, so one serves every call.
_PAYLOAD_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode_payload(payload: dict[str, Any]) -> bytes:
    """The body bytes: compact JSON (no spaces), non-ASCII text as UTF-8 rather than ``\\u`` escapes.

    NaN and Infinity are refused (``ValueError``): they are not JSON, and the
    server would reject the body.
    """
    return _PAYLOAD_ENCODER.encode(payload).encode("utf-8")


# JSON's names for the types json.loads returns, for error messages.
_JSON_TYPES = {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


def decode_payload(body: bytes) -> dict[str, Any]:
    """A request body given as bytes, read as the JSON object it must be (``wire chat --payload FILE``).

    A ``ConfigError`` says where it is not one: the byte that is not UTF-8, or
    the line and column where the JSON breaks. NaN and Infinity are not JSON
    (RFC 8259 §6) and are refused as ``encode_payload`` refuses them.
    """
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_not_json)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8: the byte 0x{body[exc.start]:02x} at offset {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno} (char {exc.pos})") from None
    except ValueError as exc:  # from _not_json
        raise ConfigError(f"not JSON: {exc}") from None
    except RecursionError:
        raise ConfigError("nested too deeply to read as JSON") from None
    if not isinstance(value, dict):
        kind = "null" if value is None else _JSON_TYPES.get(type(value), type(value).__name__)
        raise ConfigError(f"not a JSON object ({{...}}) but a JSON {kind}: a request body is one object")
    return value


def _not_json(name: str) -> Any:
    """``parse_constant`` for json.loads: NaN, Infinity and -Infinity are Python's extension, not JSON."""
    raise ValueError(f"{name} is not a JSON value (RFC 8259 §6: no NaN or Infinity)")


# -- in: typed views of a reply ------------------------------------------------------------
#
# Each view mirrors a model of the official SDK (openai-python, src/openai/types/chat/ and
# types/completion_usage.py) and keeps the JSON object it was read from at ``.raw``. Fields the
# view does not name are at ``.extra``, so a field the API adds tomorrow is still reachable.
# Tolerant as the SDK is: unknown fields, unknown tool-call, content-part and annotation types,
# and unknown values of ``finish_reason``, ``role`` or ``service_tier`` are kept, never refused.
# A ``ProtocolError`` names the field when a part the reply cannot do without (``choices``, a
# choice's ``message``) is missing or is not the JSON type it must be. A known field of another
# type is shown as absent in the typed view and kept as sent in ``.raw``.

_MISSING: Any = object()


def _field(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any = _MISSING) -> Any:
    """``obj[key]`` if it has the expected JSON type, else ``default``.

    Without a default the field is one the reply cannot do without: absent or of
    the wrong type, it is a ``ProtocolError`` that names it. With a default, a
    value of another type is not an error (the SDK does not validate replies
    either: ``construct_type`` in ``openai/_models.py`` keeps what came); the
    typed view shows the default and ``.raw`` keeps the value as sent.
    """
    value = obj.get(key, _MISSING)
    if value is _MISSING or (value is None and default is not _MISSING):
        if default is _MISSING:
            raise ProtocolError(f"reply JSON: {where} has no {key!r}", rule=_RULE)
        return default
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        if default is not _MISSING:
            return default
        names = " or ".join(k.__name__ for k in kinds)
        raise ProtocolError(
            f"reply JSON: {where}.{key} should be {names.replace('NoneType', 'null')}, not {type(value).__name__}",
            rule=_RULE,
        )
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProtocolError(f"reply JSON: {where} should be an object, not {type(value).__name__}", rule=_RULE)
    return value


def _objects(obj: dict[str, Any], key: str, where: str) -> list[tuple[str, dict[str, Any]]]:
    """The objects in the list at ``obj[key]``, each with where it is; what is not an object stays in ``.raw``."""
    values = _field(obj, key, list, where, [])
    return [(f"{where}.{key}[{i}]", v) for i, v in enumerate(values) if isinstance(v, dict)]


def _optional(view: Any, value: Any, where: str) -> Any:
    """``view.from_dict(value)`` for an optional object; None when it is absent or not an object (``.raw`` keeps it)."""
    return view.from_dict(value, where) if isinstance(value, dict) else None


_NUMBER = (int, float)


class _View:
    """What every view shares: ``raw`` (the JSON object) and ``extra`` (its fields the view does not name)."""

    raw: dict[str, Any]
    _KNOWN: ClassVar[frozenset[str]] = frozenset()

    @property
    def extra(self) -> dict[str, Any]:
        """The fields of ``raw`` this view has no attribute for (new API fields land here)."""
        return {k: v for k, v in self.raw.items() if k not in self._KNOWN}


@dataclass
class FunctionCall(_View):
    """The function a tool call asks for: its ``name`` and its ``arguments`` (a JSON text, as sent).

    SDK: ``chat_completion_message_function_tool_call.py`` (``Function``); also the
    deprecated ``message.function_call``.
    """

    name: str
    arguments: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _KNOWN = frozenset({"name", "arguments"})

    @classmethod
    def from_dict(cls, d: Any, where: str = "function") -> FunctionCall:
        d = _object(d, where)
        return cls(_field(d, "name", str, where, ""), _field(d, "arguments", str, where, ""), d)


@dataclass
class CustomCall(_View):
    """A call of a custom tool: its ``name`` and its free-form ``input`` text.

    SDK: ``chat_completion_message_custom_tool_call.py`` (``Custom``).
    """

    name: str
    input: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _KNOWN = frozenset({"name", "input"})

    @classmethod
    def from_dict(cls, d: Any, where: str = "custom") -> CustomCall:
        d = _object(d, where)
        return cls(_field(d, "name", str, where, ""), _field(d, "input", str, where, ""), d)


@dataclass
class ToolCall(_View):
    """One tool call in an assistant message.

    ``type`` says which object carries the call: ``"function"`` -> ``function``,
    ``"custom"`` -> ``custom`` (SDK: ``chat_completion_message_tool_call.py``, a
    union on ``type``). A type wire does not know has neither; its object is
    in ``raw`` (and ``extra``).
    """

    id: str
    type: str
    function: FunctionCall | None = None
    custom: CustomCall | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Any, where: str = "tool_call") -> ToolCall:
        d = _object(d, where)
        kind = _field(d, "type", str, where, "function")
        function = _optional(FunctionCall, d.get("function"), f"{where}.function") if kind == "function" else None
        custom = _optional(CustomCall, d.get("custom"), f"{where}.custom") if kind == "custom" else None
        return cls(_field(d, "id", str, where, ""), kind, function, custom, d)

    @property
    def extra(self) -> dict[str, Any]:
        """The fields with no attribute: the object of an unknown type is here, so is ``custom`` on a function call."""
        known = {"id", "type"} | ({self.type} & {"function", "custom"})
        return {k: v for k, v in self.raw.items() if k not in known}

    @property
    def name(self) -> str | None:
        """The name of the function or custom tool called (None for an unknown type)."""
        call = self.function or self.custom
        return call.name if call is not None else None

    @property
    def input(self) -> str | None:
        """What the call passes: the function's ``arguments`` or the custom tool's ``input``."""
        if self.function is not None:
            return self.function.arguments
        return self.custom.input if self.custom is not None else None


@dataclass
class ContentPart(_View):
    """One part of a ``content`` sent as a list: ``{"type": "text", "text": ...}``, a refusal, or another type.

    SDK: ``chat_completion_content_part_text.py`` (the reply model types ``content`` as a
    string; a list is kept here rather than refused).
    """

    type: str
    text: str | None = None
    refusal: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _KNOWN = frozenset({"type", "text", "refusal"})

    @classmethod
    def from_dict(cls, d: Any, where: str = "content part") -> ContentPart:
        d = _object(d, where)
        return cls(
            _field(d, "type", str, where, ""),
            _field(d, "text", str, where, None),
            _field(d, "refusal", str, where, None),
            d,
        )


@dataclass
class URLCitation(_View):
    """The web page an annotation cites, and the span of ``content`` it backs (SDK: ``AnnotationURLCitation``)."""

    url: str
    title: str
    start_index: int
    end_index: int
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _KNOWN = frozenset({"url", "title", "start_index", "end_index"})

    @classmethod
    def from_dict(cls, d: Any, where: str = "url_citation") -> URLCitation:
        d = _object(d, where)
        return cls(
            _field(d, "url", str, where, ""),
            _field(d, "title", str, where, ""),
            _field(d, "start_index", int, where, 0),
            _field(d, "end_index", int, where, 0),
            d,
        )


@dataclass
class Annotation(_View):
    """A note on the message's text; ``url_citation`` for that type (SDK: ``chat_completion_message.py``)."""

    type: str
    url_citation: URLCitation | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _KNOWN = frozenset({"type", "url_citation"})

    @classmethod
    def from_dict(cls, d: Any, where: str = "annotation") -> Annotation:
        d = _object(d, where)
        kind = _field(d, "type", str, where, "")
        citation = d.get("url_citation") if kind == "url_citation" else None
        return cls(kind, _optional(URLCitation, citation, f"{where}.url_citation"), d)


@dataclass
class Audio(_View):
    """A spoken answer: base64 ``data``, its ``transcript`` (SDK: ``chat_completion_audio.py``)."""

    id: str
    data: str
    transcript: str
    expires_at: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _KNOWN = frozenset({"id", "data", "transcript", "expires_at"})

    @classmethod
    def from_dict(cls, d: Any, where: str = "audio") -> Audio:
        d = _object(d, where)
        return cls(
            _field(d, "id", str, where, ""),
            _field(d, "data", str, where, ""),
            _field(d, "transcript", str, where, ""),
            _field(d, "expires_at", int, where, None),
            d,
        )


@dataclass
class Message(_View):
    """A message: ``content`` is None when the assistant only calls tools (or refuses).

    SDK: ``chat_completion_message.py``. When ``content`` arrives as a list of
    parts, ``parts`` holds them and ``content`` is the text of the text parts.
    """

    role: str
    content: str | None
    tool_calls: list[ToolCall] = field(default_factory=list)
    refusal: str | None = None
    annotations: list[Annotation] = field(default_factory=list)
    audio: Audio | None = None
    function_call: FunctionCall | None = None
    parts: list[ContentPart] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _KNOWN = frozenset({"role", "content", "tool_calls", "refusal", "annotations", "audio", "function_call"})

    @classmethod
    def from_dict(cls, d: Any, where: str = "message") -> Message:
        d = _object(d, where)
        content = _field(d, "content", (str, list, type(None)), where, None)
        parts = []
        if isinstance(content, list):
            parts = [
                ContentPart.from_dict(p, f"{where}.content[{i}]") for i, p in enumerate(content) if isinstance(p, dict)
            ]
            content = "".join(p.text or "" for p in parts if p.type == "text")
        audio = d.get("audio")
        function_call = d.get("function_call")
        return cls(
            role=_field(d, "role", str, where, "assistant"),
            content=content,
            tool_calls=[ToolCall.from_dict(c, at) for at, c in _objects(d, "tool_calls", where)],
            refusal=_field(d, "refusal", (str, type(None)), where, None),
            annotations=[Annotation.from_dict(a, at) for at, a in _objects(d, "annotations", where)],
            audio=_optional(Audio, audio, f"{where}.audio"),
            function_call=_optional(FunctionCall, function_call, f"{where}.function_call"),
            parts=parts,
            raw=d,
        )


@dataclass
class TopLogprob(_View):
    """One of the likeliest tokens at a position (SDK: ``chat_completion_token_logprob.py``)."""

    token: str
    logprob: float
    bytes: list[int] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _KNOWN = frozenset({"token", "logprob", "bytes"})

    @classmethod
    def from_dict(cls, d: Any, where: str = "top_logprob") -> TopLogprob:
        d = _object(d, where)
        return cls(
            _field(d, "token", str, where, ""),
            _field(d, "logprob", _NUMBER, where, 0.0),
            _field(d, "bytes", list, where, None),
            d,
        )


@dataclass
class TokenLogprob(_View):
    """A token of the answer, its log probability and the likeliest others (SDK: ``ChatCompletionTokenLogprob``)."""

    token: str
    logprob: float
    bytes: list[int] | None = None
    top_logprobs: list[TopLogprob] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _KNOWN = frozenset({"token", "logprob", "bytes", "top_logprobs"})

    @classmethod
    def from_dict(cls, d: Any, where: str = "logprob") -> TokenLogprob:
        d = _object(d, where)
        top = _objects(d, "top_logprobs", where)
        return cls(
            _field(d, "token", str, where, ""),
            _field(d, "logprob", _NUMBER, where, 0.0),
            _field(d, "bytes", list, where, None),
            [TopLogprob.from_dict(t, at) for at, t in top],
            d,
        )


@dataclass
class Logprobs(_View):
    """Log probabilities of the ``content`` tokens and of the ``refusal`` tokens (SDK: ``ChoiceLogprobs``)."""

    content: list[TokenLogprob] | None = None
    refusal: list[TokenLogprob] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _KNOWN = frozenset({"content", "refusal"})

    @classmethod
    def from_dict(cls, d: Any, where: str = "logprobs") -> Logprobs:
        d = _object(d, where)

        def tokens(key: str) -> list[TokenLogprob] | None:
            if d.get(key) is None:
                return None
            return [TokenLogprob.from_dict(t, at) for at, t in _objects(d, key, where)]

        return cls(tokens("content"), tokens("refusal"), d)


@dataclass
class Choice(_View):
    """One of the replies (there are ``n`` of them; one by default). SDK: ``chat_completion.py`` (``Choice``)."""

    index: int
    message: Message
    finish_reason: str | None
    logprobs: Logprobs | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _KNOWN = frozenset({"index", "message", "finish_reason", "logprobs"})

    @classmethod
    def from_dict(cls, d: Any, where: str = "choice") -> Choice:
        d = _object(d, where)
        logprobs = d.get("logprobs")
        return cls(
            index=_field(d, "index", int, where, 0),
            message=Message.from_dict(d.get("message"), f"{where}.message"),
            finish_reason=_field(d, "finish_reason", (str, type(None)), where, None),
            logprobs=_optional(Logprobs, logprobs, f"{where}.logprobs"),
            raw=d,
        )


@dataclass
class Usage(_View):
    """Token counts; the details (cached, reasoning, audio, ...) as sent (SDK: ``completion_usage.py``)."""

    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None
    prompt_tokens_details: dict[str, Any] | None = None
    completion_tokens_details: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _KNOWN = frozenset(
        {"prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details", "completion_tokens_details"}
    )

    @classmethod
    def from_dict(cls, d: Any, where: str = "usage") -> Usage:
        d = _object(d, where)
        return cls(
            _field(d, "prompt_tokens", int, where, None),
            _field(d, "completion_tokens", int, where, None),
            _field(d, "total_tokens", int, where, None),
            _field(d, "prompt_tokens_details", dict, where, None),
            _field(d, "completion_tokens_details", dict, where, None),
            d,
        )


@dataclass
class ChatCompletion(_View):
    """A whole reply, ``object: "chat.completion"``. ``raw`` is the JSON it was read from.

    SDK: ``chat_completion.py`` (``ChatCompletion``).
    """

    id: str | None
    object: str | None
    created: int | None
    model: str | None
    choices: list[Choice]
    usage: Usage | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _KNOWN = frozenset({"id", "object", "created", "model", "choices", "usage", "system_fingerprint", "service_tier"})

    @classmethod
    def from_dict(cls, d: Any) -> ChatCompletion:
        """Read a reply; a ``ProtocolError`` names the first part that is missing or of the wrong type."""
        d = _object(d, "the reply")
        choices = _field(d, "choices", list, "the reply")
        usage = d.get("usage")
        return cls(
            id=_field(d, "id", str, "the reply", None),
            object=_field(d, "object", str, "the reply", None),
            created=_field(d, "created", int, "the reply", None),
            model=_field(d, "model", str, "the reply", None),
            choices=[Choice.from_dict(c, f"choices[{i}]") for i, c in enumerate(choices)],
            usage=_optional(Usage, usage, "usage"),
            system_fingerprint=_field(d, "system_fingerprint", (str, type(None)), "the reply", None),
            service_tier=_field(d, "service_tier", (str, type(None)), "the reply", None),
            raw=d,
        )

    @property
    def text(self) -> str:
        """The first choice's text ("" if there is none)."""
        if not self.choices:
            return ""
        return self.choices[0].message.content or ""

    def _repr_html_(self) -> str:
        """The answer, usage and JSON as HTML, for Jupyter (wire/notebook.py)."""
        # Imported by name when first shown: the views come after every layer (tests/test_imports.py).
        shown: str = importlib.import_module("wire.notebook").html(self)
        return shown

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """The same as text in IPython's terminal."""
        importlib.import_module("wire.notebook").repr_pretty(self, printer, cycle)


# -- in: a reply read whole -----------------------------------------------------------


def decode_reply(body: bytes) -> Any:
    """The JSON value of a reply's body: what ``json.loads(body)`` returns, or raises.

    A Chat Completions reply is one object in UTF-8 (RFC 8259 §8.1: JSON exchanged between
    systems "MUST be encoded using UTF-8"), often with a line end after it. That is read in
    one step: ``json.loads`` of bytes would first guess the encoding from the first bytes,
    then scan for whitespace before and after the value (a sixth of decoding the benchmark's
    1.5 KB reply: issue 17, P6). Any other body goes through ``json.loads`` itself, for its
    exact rules and messages (a byte order mark, UTF-16, a value that is not an object).
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return json.loads(body)
    if text[:1] == "{":
        value, end = _DECODER.raw_decode(text)  # a broken object raises here as in json.loads
        if not text[end:].strip(_JSON_WHITESPACE):
            return value
    return json.loads(body)


# RFC 8259 §2: ws = *( %x20 / %x09 / %x0A / %x0D ): what may follow the value (str.isspace takes more).
_JSON_WHITESPACE = " \t\n\r"


# -- in: a streamed reply ------------------------------------------------------------


def decode_stream_data(data: str) -> dict[str, Any] | None:
    """The chunk object in one event's ``data``; None for the end marker ``[DONE]``.

    Raises ``StreamError`` when the data is not a JSON object.
    """
    # The SDK ends at any data that starts with the marker (openai-python 3.57.0, _streaming.py:
    # ``if sse.data.startswith("[DONE]")``); wire also takes the marker with whitespace around it.
    # No JSON text starts with "[D", so neither reading can swallow a chunk.
    if data[:1] != "{" and data.lstrip().startswith(_DONE):  # most data is a chunk: an object
        return None
    try:
        # Every chunk the API sends is an object with nothing around it: raw_decode reads it in
        # one step and says where it ended. json.loads would first scan for whitespace before
        # and after it (two regex matches, a quarter of decoding a 300-byte chunk: issue 17, P7).
        # Anything else goes through json.loads itself, for its exact rules and messages.
        chunk, end = _DECODER.raw_decode(data) if data[:1] == "{" else (None, -1)
        if end != len(data):
            chunk = json.loads(data)
    except json.JSONDecodeError as exc:
        message = f"event data is not JSON ({exc.msg} at char {exc.pos}): {_preview(data)!r}"
        raise StreamError(message, rule=_CHUNK_RULE) from exc
    except RecursionError as exc:  # json gives up on arrays nested thousands deep
        raise StreamError(f"event data is nested too deeply to read: {_preview(data)!r}", rule=_CHUNK_RULE) from exc
    except ValueError as exc:  # a number of more digits than int() takes (sys.get_int_max_str_digits)
        raise StreamError(f"event data cannot be read as JSON ({exc}): {_preview(data)!r}", rule=_CHUNK_RULE) from exc
    if not isinstance(chunk, dict):
        raise StreamError(f"event data is JSON but not an object: {_preview(data)!r}", rule=_CHUNK_RULE)
    return chunk


_DECODER = json.JSONDecoder()


def _preview(data: str) -> str:
    """The start of an event's data, for an error message."""
    return data if len(data) <= 60 else data[:60] + "..."


# Keys whose value names a thing rather than adding a piece to it: the first value stays.
_NAMES = frozenset({"index", "id", "type", "role", "name"})
# Lists whose pieces must say which entry they add to (others are found by their pieces' ``index`` keys).
_INDEXED = frozenset({"tool_calls"})
# Chunk fields that are not part of the reply: the SDK drops ``obfuscation`` (random padding
# against side channels) from its snapshot too (lib/streaming/chat/_completions.py).
_CHUNK_ONLY = frozenset({"choices", "usage", "object", "obfuscation"})
# The parts of a chunk's choice that are not merged as they come: ``delta`` is the message's
# pieces, ``index`` says which choice, ``finish_reason`` keeps the last value given.
_CHOICE_PARTS = frozenset({"index", "delta", "finish_reason"})


class StreamAssembler:
    """Adds up ``chat.completion.chunk`` objects into one ``ChatCompletion``.

    Each chunk's ``choices[i].delta`` carries a piece of the message of the
    choice with that ``index`` (with ``n > 1`` the choices interleave): the
    ``role`` first, then pieces of ``content`` or ``refusal``, pieces of tool
    calls by their own ``index`` (``id``, ``type`` and ``name`` with the first
    piece, then the function ``arguments`` or the custom ``input`` in
    pieces), and at last a ``finish_reason``. With
    ``stream_options.include_usage`` a chunk with ``choices: []`` carries the
    ``usage``; chunks after it are read as any other.

    The pieces add up as the SDK's ``accumulate_delta`` adds them
    (lib/streaming/_deltas.py): text is joined, objects are merged, lists of
    objects with an ``index`` are merged by that index, other lists are
    extended (logprobs), and names (``_NAMES``) keep their first value. So a
    tool-call or delta field wire does not know is assembled too.

    ``chunks`` keeps every chunk added; ``done`` turns True at ``[DONE]``.
    """

    def __init__(self) -> None:
        self.chunks: list[dict[str, Any]] = []  # the client may make it a wire.capture.Kept list
        self.added = 0  # chunks added, kept or not
        self.done = False
        self._choices: dict[int, dict[str, Any]] = {}  # index -> the choice so far, its message from the deltas
        self._head: dict[str, Any] = {}  # id, created, model, ...: the first value each field had
        self._settled: frozenset[str] = _CHUNK_ONLY  # the chunk fields whose value is settled (in _head, or not kept)
        self._usage: dict[str, Any] | None = None
        self._texts: list[_Text] = []  # every text being assembled, to join its pieces every _Text.BLOCK chunks

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
        self.added += 1
        if not isinstance(chunk, dict):
            raise self._error(f"a chunk should be a JSON object, not {type(chunk).__name__}")
        if chunk.get("error"):  # as the SDK's Stream.__stream__ tests data.get("error"): null, {}, false are none
            body = json.dumps(chunk, ensure_ascii=False).encode("utf-8")
            raise APIError.from_body(body, reason="error event in the stream")
        choices = chunk.get("choices")
        if not isinstance(choices, list):
            raise self._error("a chunk has no 'choices' list (and no 'error')")
        if not self._settled.issuperset(chunk):  # a field with no value yet: in the first chunk, mostly
            for key, value in chunk.items():
                if key not in _CHUNK_ONLY and value is not None:
                    self._head.setdefault(key, value)
            self._settled = _CHUNK_ONLY | self._head.keys()
        if chunk.get("usage") is not None:
            self._usage = chunk["usage"]
        text = ""
        for i, choice in enumerate(choices):
            if not isinstance(choice, dict):
                raise self._error(f"a chunk's choices[{i}] is not an object")
            index = choice.get("index", 0)
            if not isinstance(index, int) or isinstance(index, bool):
                raise self._error(f"a chunk's choices[{i}].index is not an integer")
            delta = choice.get("delta")
            if delta is None:
                delta = {}
            if not isinstance(delta, dict):
                raise self._error(f"a chunk's choices[{i}].delta is not an object")
            snapshot = self._choices.get(index)
            if snapshot is None:
                snapshot = self._choices[index] = {"index": index, "message": {}, "finish_reason": None}
            message = snapshot["message"]
            content = delta.get("content")
            if type(content) is str and len(delta) == 1 and type(message.get("content")) is _Text:
                message["content"].append(content)  # one more piece of the text: nearly every chunk is just that
            elif delta:
                self._merge_chunk_part(message, delta, f"choices[{i}].delta")
            finish_reason = choice.get("finish_reason")
            if finish_reason is not None:
                snapshot["finish_reason"] = finish_reason  # the last one given, never joined
            for key, value in choice.items():  # logprobs, and fields wire does not know
                if key in _CHOICE_PARTS:
                    continue
                if value is None:
                    snapshot.setdefault(key, None)  # as _merge does with a null (logprobs, in most chunks)
                else:
                    self._merge_chunk_part(snapshot, {key: value}, f"choices[{i}]")
            if index == 0 and isinstance(content, str):
                text += content
        if self.added % _Text.BLOCK == 0:
            for piece_list in self._texts:
                piece_list.join_block()
        return text

    def _merge_chunk_part(self, acc: dict[str, Any], delta: dict[str, Any], where: str) -> None:
        """``_merge``, with a value nested deeper than Python's recursion allows said as a StreamError."""
        try:
            self._merge(acc, delta, where)
        except RecursionError:  # copying or merging a value nested hundreds deep
            raise self._error(f"a chunk's {where} is nested too deeply to add up") from None

    def _merge(self, acc: dict[str, Any], delta: dict[str, Any], where: str) -> None:
        """Add the pieces in ``delta`` to ``acc`` (see the class docstring for the rules)."""
        for key, value in delta.items():
            old = acc.get(key)
            if isinstance(old, _Text) and isinstance(value, str):
                old.append(value)  # a piece of a text: nearly every delta is one
            elif value is None:
                acc.setdefault(key, None)
            elif old is None and isinstance(value, list) and (key in _INDEXED or _indexed(value)):
                acc[key] = []
                self._merge_indexed(acc[key], value, f"{where}.{key}")
            elif old is None:
                acc[key] = copy.deepcopy(value)
            elif key in _NAMES:
                pass
            elif isinstance(old, str) and isinstance(value, str):
                acc[key] = text = _Text([old, value])
                self._texts.append(text)
            elif isinstance(old, dict) and isinstance(value, dict):
                self._merge(old, value, f"{where}.{key}")
            elif isinstance(old, list) and not isinstance(old, _Text) and isinstance(value, list):
                if key in _INDEXED or _indexed(value):
                    self._merge_indexed(old, value, f"{where}.{key}")
                else:
                    old.extend(copy.deepcopy(value))
            elif type(old) is type(value) or (isinstance(old, _NUMBER) and isinstance(value, _NUMBER)):
                acc[key] = value  # a number or a boolean: the latest value
            else:
                new, was = type(value).__name__, "str" if isinstance(old, _Text) else type(old).__name__
                raise self._error(f"a chunk's {where}.{key} is a {new} after a {was}: cannot add them up")

    def _merge_indexed(self, acc: list[Any], pieces: list[Any], where: str) -> None:
        """Merge pieces of a list such as ``tool_calls``: each piece adds to the entry with its ``index``."""
        for i, piece in enumerate(pieces):
            index = piece.get("index") if isinstance(piece, dict) else None
            if not isinstance(index, int) or isinstance(index, bool):
                raise self._error(f"a chunk's {where}[{i}] has no integer 'index'")
            entry = next((e for e in acc if isinstance(e, dict) and e.get("index") == index), None)
            if entry is None:
                entry = {}
                acc.append(entry)
            self._merge(entry, piece, f"{where}[{i}]")

    def _error(self, message: str) -> StreamError:
        return StreamError(message, completion_chunks=self.chunks, rule=_CHUNK_RULE)

    def completion(self) -> ChatCompletion:
        """The assembled reply, as ``object: "chat.completion"`` (what the call without streaming returns)."""
        if not self.added:
            raise self._error("no chunks to assemble")
        choices = []
        for index in sorted(self._choices):
            choice = _joined(self._choices[index])
            message = choice["message"]
            message.setdefault("role", "assistant")
            message.setdefault("content", None)
            if isinstance(message.get("tool_calls"), list):
                calls = sorted(message["tool_calls"], key=lambda call: call["index"])
                message["tool_calls"] = [{k: v for k, v in call.items() if k != "index"} for call in calls]
            choices.append(choice)
        reply: dict[str, Any] = {
            "id": self._head.get("id", ""),
            "object": "chat.completion",
            "created": self._head.get("created", 0),
            "model": self._head.get("model", ""),
        }
        reply.update(self._head)
        reply["choices"] = choices
        if self._usage is not None:
            reply["usage"] = self._usage
        return ChatCompletion.from_dict(reply)


class _Text(list[str]):
    """Pieces of a text being assembled, joined at the end (``_joined``).

    Adding a piece to a str copies the whole text so far: over a stream of
    many thousand pieces that costs time quadratic in its length. A piece
    is a str object of its own (about 50 bytes besides its text), so every
    ``BLOCK`` chunks the assembler joins the pieces that came since into one
    block (``join_block``): the list holds blocks, then the latest pieces.
    A text gets at most one piece per chunk, so it never holds more than
    ``BLOCK`` loose pieces. (``append`` is list's own: checking the count in
    a Python-level ``append`` cost a tenth of adding up a chunk, issue 17.)
    """

    BLOCK = 512

    def __init__(self, pieces: list[str]) -> None:
        super().__init__(pieces)
        self.blocks = 0  # the first items are joined blocks

    def join_block(self) -> None:
        """Join the pieces after the last block into one more block."""
        if len(self) - self.blocks > 1:
            self[self.blocks :] = ["".join(self[self.blocks :])]
            self.blocks += 1


def _joined(value: Any) -> Any:
    """A deep copy of an assembled value with every ``_Text`` joined into one str."""
    if isinstance(value, _Text):
        return "".join(value)
    if isinstance(value, dict):
        return {key: _joined(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_joined(item) for item in value]
    return copy.deepcopy(value)


def _indexed(value: Any) -> bool:
    """A list of pieces that say which entry they belong to (``tool_calls``), as the SDK's ``_has_indexed_entries``."""
    return isinstance(value, list) and any(isinstance(v, dict) and "index" in v for v in value)
