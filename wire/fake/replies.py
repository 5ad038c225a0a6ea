"""What the fake server says: the status, the header fields and the body.

Everything here is a pure function of the request (method, path, header
fields, body bytes) and the Scenario, so the same request always gets the same
reply, byte for byte. Ids, timings and the answer text come from SHA-256
hashes of the request, the ``created`` time and the ``date`` field are fixed.

The shapes copy the real Chat Completions service: a pretty-printed JSON
``chat.completion`` (indent 2), ``chat.completion.chunk`` objects as compact
JSON in ``data:`` lines ending with ``data: [DONE]``, and errors as
``{"error": {"message", "type", "param", "code"}}`` (indent 4, as the real
service prints them). How these bytes are framed and paced on the wire is
``framing.py``'s job.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

from wire.fake.scenario import Scenario

# 2026-01-01 12:00:00 UTC. Every reply claims this time, so its bytes never change.
CREATED = 1767268800
DATE = formatdate(CREATED, usegmt=True)  # "Thu, 01 Jan 2026 12:00:00 GMT"

SERVER = "wire-fake"
ORGANIZATION = "wire-fake"
JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream; charset=utf-8"

# Deterministic rate-limit numbers, about what a low usage tier sees.
LIMIT_REQUESTS = 500
LIMIT_TOKENS = 200_000

# The answers: short, true facts about HTTP, picked by a hash of the last user message.
FACTS = (
    "HTTP/1.1 keeps a connection open by default, so one TCP connection can carry many requests.",
    "A chunked body ends with a chunk of size zero, followed by optional trailer fields and an empty line.",
    "Header field names are case-insensitive: Content-Length and content-length name the same field.",
    "The Referer header is misspelled, and the spelling stayed because it was already in the standard.",
    "Status code 418, I'm a teapot, comes from an April Fools' RFC published in 1998.",
    "The Host header became mandatory in HTTP/1.1, which lets many websites share one IP address.",
    "Server-Sent Events send each event as data lines followed by a blank line, over one long response.",
    "HTTP/1.1 is defined today by RFC 9112, which replaced RFC 7230 in 2022.",
)

MODELS = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini")
DEFAULT_MODEL = "gpt-4o-mini"


@dataclass(frozen=True)
class Reply:
    """One response before framing: status, fields and either a body or SSE blocks.

    ``fields`` are the header fields that follow ``content-type``, the framing
    field and ``connection`` in the head (``framing.head_bytes`` puts those in).
    A streamed reply has ``units``: each an SSE event or comment block with its
    blank line; ``first_content_unit`` is the index of the first content event
    (where ``gate`` waits and ``split_events`` cuts).
    """

    status: int
    content_type: str
    fields: list[tuple[str, str]]
    body: bytes = b""
    units: list[bytes] = field(default_factory=list)
    streamed: bool = False
    first_content_unit: int | None = None
    coding: str | None = None  # the content coding the body goes out in (wire/fake/coding.py)

    def body_bytes(self) -> bytes:
        """The whole body as one piece (a stream's blocks joined)."""
        return b"".join(self.units) if self.streamed else self.body


# ---------------------------------------------------------------- hashing helpers

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _digest(*parts: str | bytes) -> bytes:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.digest()


def _base62(data: bytes, length: int) -> str:
    number = int.from_bytes(data, "big")
    out = []
    for _ in range(length):
        number, rest = divmod(number, 62)
        out.append(_B62[rest])
    return "".join(out)


def redact_key(key: str) -> str:
    """``sk-…abcd``: enough to recognise a key, never enough to use it."""
    prefix = "sk-" if key.startswith("sk-") else ""
    tail = key[-4:] if len(key) >= 12 else ""
    return f"{prefix}…{tail}"


# ---------------------------------------------------------------- reading the request


def parse_json(body: bytes) -> dict[str, Any] | None:
    """The request body as a JSON object, or None when it is not one."""
    try:
        value = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested too deeply for json to read
        return None
    if not isinstance(value, dict):
        return None
    return {str(k): v for k, v in value.items()}


def bearer_token(headers: list[tuple[str, str]]) -> str | None:
    """The token of ``Authorization: Bearer <token>``; None when absent or blank."""
    for name, value in headers:
        if name.lower() == "authorization":
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


def _text_of(content: Any) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def _messages(request: dict[str, Any]) -> list[dict[str, Any]]:
    messages = request.get("messages")
    if not isinstance(messages, list):
        return []
    return [m for m in messages if isinstance(m, dict)]


def last_user_text(request: dict[str, Any]) -> str:
    messages = _messages(request)
    for message in reversed(messages):
        if message.get("role") == "user":
            return _text_of(message.get("content"))
    return _text_of(messages[-1].get("content")) if messages else ""


def count_tokens(text: str) -> int:
    """A stand-in for a tokenizer: one token per word and per punctuation mark."""
    return len(re.findall(r"\w+|[^\w\s]", text))


def prompt_tokens(request: dict[str, Any]) -> int:
    """Words and marks of every message, plus 3 per message and 3 to prime the reply."""
    messages = _messages(request)
    total = sum(count_tokens(_text_of(m.get("content"))) for m in messages) + 3 * len(messages) + 3
    if isinstance(request.get("tools"), list):
        total += count_tokens(json.dumps(request["tools"]))
    return total


def tool_result(request: dict[str, Any]) -> tuple[str, str] | None:
    """(the tool's name, its result) when the last message is a ``tool`` message, else None.

    The name comes from the assistant message whose ``tool_calls`` has the
    message's ``tool_call_id``; "the tool" when none has.
    """
    messages = _messages(request)
    if not messages or messages[-1].get("role") != "tool":
        return None
    call_id = messages[-1].get("tool_call_id")
    name = "the tool"
    for message in messages:
        calls = message.get("tool_calls") if message.get("role") == "assistant" else None
        for call in calls if isinstance(calls, list) else []:
            function = call.get("function") if isinstance(call, dict) else None
            if call.get("id") == call_id and isinstance(function, dict) and isinstance(function.get("name"), str):
                name = function["name"]
    return name, _text_of(messages[-1].get("content"))


# How much of a tool's result the answer quotes.
TOOL_QUOTE_CHARS = 200


def answer_text(request: dict[str, Any]) -> str:
    """The deterministic answer: a tool's result, quoted, after a tool message; else one of FACTS.

    Which fact: a hash of the last user message picks it.
    """
    result = tool_result(request)
    if result is not None:
        name, content = result
        quoted = content if len(content) <= TOOL_QUOTE_CHARS else content[:TOOL_QUOTE_CHARS] + "…"
        return f"The tool {name} answered: {quoted}"
    index = int.from_bytes(_digest("fact", last_user_text(request))[:8], "big") % len(FACTS)
    return FACTS[index]


def text_pieces(text: str) -> list[str]:
    """The content deltas of a stream: one word each, with its leading space."""
    return re.findall(r"\s*\S+", text) or [text]


def argument_pieces(arguments: str) -> list[str]:
    """The argument deltas of a streamed tool call: runs of word and non-word characters."""
    return re.findall(r"\w+|\W+", arguments) or [arguments]


def _chosen_tool(request: dict[str, Any], forced: str | None = None) -> dict[str, Any] | None:
    """The function the model "calls", or None for a text answer.

    ``forced`` (``Scenario.tool_call``): that function, whether the request
    declares it or not. Else: a request with ``tools`` gets a call of
    tool_choice's function, or of the first tool, unless ``tool_choice`` is
    ``"none"`` or the last message is a ``tool`` message (the result of the
    call: the model answers from it).
    """
    tools = request.get("tools")
    if not isinstance(tools, list):
        tools = []
    functions: list[dict[str, Any]] = [
        t["function"] for t in tools if isinstance(t, dict) and isinstance(t.get("function"), dict)
    ]
    if forced is not None:
        return next((f for f in functions if f.get("name") == forced), {"name": forced})
    if not tools or request.get("tool_choice") == "none" or tool_result(request) is not None:
        return None
    choice = request.get("tool_choice")
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        wanted = choice["function"].get("name")
        for function in functions:
            if function.get("name") == wanted:
                return function
    return functions[0] if functions else {"name": "tool"}


def tool_arguments(function: dict[str, Any], request: dict[str, Any]) -> str:
    """Arguments for every declared parameter: strings get the user's words, others a simple value."""
    parameters = function.get("parameters")
    properties = parameters.get("properties") if isinstance(parameters, dict) else None
    if not isinstance(properties, dict):
        return "{}"
    samples: dict[str, Any] = {"integer": 1, "number": 1.0, "boolean": True, "array": [], "object": {}}
    arguments: dict[str, Any] = {}
    for name, schema in properties.items():
        schema = schema if isinstance(schema, dict) else {}
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            arguments[name] = schema["enum"][0]
        elif schema.get("type") in samples:
            arguments[name] = samples[schema["type"]]
        else:
            arguments[name] = last_user_text(request)[:40]
    return json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------- header fields


def _fields(
    *,
    request_id: str,
    processing_ms: int,
    scenario: Scenario,
    authorized: bool,
    tokens_used: int = 0,
) -> list[tuple[str, str]]:
    """The fields after ``connection``, in the order the real service sends them."""
    fields = [("access-control-expose-headers", "X-Request-ID")]
    if authorized:
        fields.append(("openai-organization", ORGANIZATION))
    fields += [("openai-processing-ms", str(processing_ms)), ("openai-version", "2020-10-01")]
    if authorized:
        limited = scenario.status == 429
        fields += [
            ("x-ratelimit-limit-requests", str(LIMIT_REQUESTS)),
            ("x-ratelimit-limit-tokens", str(LIMIT_TOKENS)),
            ("x-ratelimit-remaining-requests", "0" if limited else str(LIMIT_REQUESTS - 1)),
            ("x-ratelimit-remaining-tokens", str(LIMIT_TOKENS - tokens_used)),
            ("x-ratelimit-reset-requests", "1s" if limited else "120ms"),
            ("x-ratelimit-reset-tokens", f"{tokens_used * 3 // 10}ms"),
        ]
    fields.append(("x-request-id", request_id))
    retry_after = scenario.retry_after
    if retry_after is None and scenario.status == 429:
        retry_after = "1"
    if retry_after:
        fields.append(("retry-after", retry_after))
    if scenario.retry_after_ms is not None:
        fields.append(("retry-after-ms", scenario.retry_after_ms))
    if scenario.should_retry is not None:
        fields.append(("x-should-retry", scenario.should_retry))
    fields.append(("server", SERVER))
    return fields


# ---------------------------------------------------------------- error replies


def error_body(message: str, type: str, param: str | None = None, code: str | None = None) -> bytes:
    error = {"error": {"message": message, "type": type, "param": param, "code": code}}
    return (json.dumps(error, indent=4, ensure_ascii=False) + "\n").encode("utf-8")


MISSING_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header using"
    " Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the basic auth username and password."
    " You can obtain an API key from https://platform.openai.com/account/api-keys."
)
INVALID_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your"
    " HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON."
    " If you have trouble figuring out how to fix this, please contact us through our help center at"
    " help.openai.com.)"
)


def _status_error(status: int, *, key: str | None, model: str, request_id: str, scenario: Scenario) -> bytes:
    """The real service's error body for a scenario's error status."""
    retry = scenario.retry_after or "1"
    if status == 401:
        return error_body(
            f"Incorrect API key provided: {redact_key(key or '')}. You can find your API key at"
            " https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            code="invalid_api_key",
        )
    if status == 429:
        return error_body(
            f"Rate limit reached for {model} in organization {ORGANIZATION} on requests per min (RPM):"
            f" Limit {LIMIT_REQUESTS}, Used {LIMIT_REQUESTS}, Requested 1. Please try again in {retry}s."
            " Visit https://platform.openai.com/account/rate-limits to learn more.",
            "requests",
            code="rate_limit_exceeded",
        )
    if status == 503:
        return error_body(
            "That model is currently overloaded with other requests. You can retry your request, or contact us"
            " through our help center at help.openai.com if the error persists. (Please include the request ID"
            f" {request_id} in your message.)",
            "server_error",
        )
    if status == 400:
        return error_body("Invalid request.", "invalid_request_error")
    if status == 403:
        return error_body(
            "Project does not have access to model " + model + ".", "invalid_request_error", code="model_not_found"
        )
    if status == 404:
        return error_body(
            f"The model `{model}` does not exist or you do not have access to it.",
            "invalid_request_error",
            code="model_not_found",
        )
    return error_body(
        "The server had an error while processing your request. Sorry about that! You can retry your request,"
        " or contact us through our help center at help.openai.com if the error persists. (Please include the"
        f" request ID {request_id} in your message.)",
        "server_error",
    )


# ---------------------------------------------------------------- successful replies


def _usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


@dataclass(frozen=True)
class _Answer:
    """What the model "says" to one request, before it is shaped as JSON or a stream."""

    completion_id: str
    model: str
    fingerprint: str
    text: str | None  # None for a tool call
    tool_name: str
    tool_call_id: str
    arguments: str
    usage: dict[str, Any]


def _answer(request: dict[str, Any], tool_call: str | None = None) -> _Answer:
    # Ids hash the request without its stream settings, so a streamed reply has the same
    # id, call id and text as the non-streamed reply to the same request.
    asked = {k: v for k, v in request.items() if k not in ("stream", "stream_options")}
    canonical = json.dumps(asked, sort_keys=True, separators=(",", ":"))
    model = str(request.get("model") or DEFAULT_MODEL)
    function = _chosen_tool(request, tool_call)
    text = None if function is not None else answer_text(request)
    arguments = tool_arguments(function, request) if function is not None else ""
    completion = count_tokens(arguments) if function is not None else count_tokens(text or "")
    return _Answer(
        completion_id="chatcmpl-" + _base62(_digest("completion", canonical), 29),
        model=model,
        fingerprint="fp_" + _digest("fingerprint", model).hex()[:10],
        text=text,
        tool_name=str(function.get("name", "tool")) if function is not None else "",
        tool_call_id="call_" + _base62(_digest("call", canonical), 24),
        arguments=arguments,
        usage=_usage(prompt_tokens(request), completion),
    )


def completion_json(request: dict[str, Any], *, tool_call: str | None = None) -> dict[str, Any]:
    """The non-streamed ``chat.completion`` object for a request (``tool_call``: call that function)."""
    a = _answer(request, tool_call)
    message: dict[str, Any] = {"role": "assistant", "content": a.text}
    if a.text is None:
        message["tool_calls"] = [
            {"id": a.tool_call_id, "type": "function", "function": {"name": a.tool_name, "arguments": a.arguments}}
        ]
    message["refusal"] = None
    message["annotations"] = []
    return {
        "id": a.completion_id,
        "object": "chat.completion",
        "created": CREATED,
        "model": a.model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "stop" if a.text is not None else "tool_calls",
            }
        ],
        "usage": a.usage,
        "service_tier": "default",
        "system_fingerprint": a.fingerprint,
    }


def stream_chunks(
    request: dict[str, Any], *, stream_error: bool = False, tool_call: str | None = None
) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects of a streamed reply (an error object last when stream_error)."""
    a = _answer(request, tool_call)
    options = request.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "id": a.completion_id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": a.model,
            "service_tier": "default",
            "system_fingerprint": a.fingerprint,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
        }
        if include_usage:
            obj["usage"] = None
        return obj

    if a.text is not None:
        chunks = [chunk({"role": "assistant", "content": "", "refusal": None})]
        deltas: list[dict[str, Any]] = [{"content": piece} for piece in text_pieces(a.text)]
        finish = "stop"
    else:
        function = {"name": a.tool_name, "arguments": ""}
        call = {"index": 0, "id": a.tool_call_id, "type": "function", "function": function}
        chunks = [chunk({"role": "assistant", "content": None, "tool_calls": [call], "refusal": None})]
        deltas = [
            {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]} for piece in argument_pieces(a.arguments)
        ]
        finish = "tool_calls"
    if stream_error:
        chunks += [chunk(delta) for delta in deltas[:2]]
        error = {"message": "The server had an error while processing your request. Sorry about that!"}
        chunks.append({"error": {**error, "type": "server_error", "param": None, "code": None}})
        return chunks
    chunks += [chunk(delta) for delta in deltas]
    chunks.append(chunk({}, finish))
    if include_usage:
        usage_chunk = chunk({})
        usage_chunk["choices"] = []
        usage_chunk["usage"] = a.usage
        chunks.append(usage_chunk)
    return chunks


def sse_units(chunks: list[dict[str, Any]], *, crlf: bool, keepalive_comments: bool, done: bool) -> list[bytes]:
    """Each chunk as one ``data:`` event block; ``data: [DONE]`` last; comments between when asked."""
    eol = "\r\n" if crlf else "\n"
    datas = [json.dumps(c, ensure_ascii=False, separators=(",", ":")) for c in chunks]
    if done:
        datas.append("[DONE]")
    units: list[bytes] = []
    for i, data in enumerate(datas):
        if keepalive_comments and i > 0:
            units.append(f": keep-alive{eol}{eol}".encode())
        units.append(f"data: {data}{eol}{eol}".encode())
    return units


def models_json() -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {"id": m, "object": "model", "created": CREATED - 86400 * (i + 1), "owned_by": "system"}
            for i, m in enumerate(MODELS)
        ],
    }


def _pretty(value: dict[str, Any]) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# ---------------------------------------------------------------- routing


def answer(method: str, path: str, headers: list[tuple[str, str]], body: bytes, scenario: Scenario) -> Reply:
    """The reply to one request under one scenario.

    Checked in the real service's order: the route (404), the API key (401 when
    missing), the scenario's error status, then the body (400); any non-empty
    bearer token is accepted.
    """
    route = path.split("?", 1)[0].rstrip("/")
    request_id = "req_" + _digest("request", method, path, body).hex()[:32]
    processing_ms = 150 + int.from_bytes(_digest("ms", method, path, body)[:2], "big") % 600
    key = bearer_token(headers)
    known = (method, route) in {("POST", "/v1/chat/completions"), ("GET", "/v1/models")}

    def error(status: int, body_bytes: bytes, authorized: bool, tokens: int = 0) -> Reply:
        fields = _fields(
            request_id=request_id,
            processing_ms=processing_ms,
            scenario=scenario,
            authorized=authorized,
            tokens_used=tokens,
        )
        return Reply(status, JSON_TYPE, fields, body_bytes)

    if not known:
        return error(404, error_body(f"Invalid URL ({method} {route or '/'})", "invalid_request_error"), False)
    if key is None:
        return error(401, error_body(MISSING_KEY, "invalid_request_error"), False)
    request = parse_json(body) if method == "POST" else {}
    model = str((request or {}).get("model") or DEFAULT_MODEL)
    if scenario.status != 200:
        status_body = _status_error(scenario.status, key=key, model=model, request_id=request_id, scenario=scenario)
        return error(scenario.status, status_body, scenario.status != 401)
    if request is None:
        return error(400, error_body(INVALID_JSON, "invalid_request_error"), True)
    if method == "GET":
        fields = _fields(request_id=request_id, processing_ms=processing_ms, scenario=scenario, authorized=True)
        return Reply(200, JSON_TYPE, fields, _pretty(models_json()))
    if "model" not in request:
        return error(400, error_body("you must provide a model parameter", "invalid_request_error"), True)
    if not _messages(request):
        return error(
            400,
            error_body(
                "Missing required parameter: 'messages'.",
                "invalid_request_error",
                "messages",
                "missing_required_parameter",
            ),
            True,
        )
    tokens = prompt_tokens(request)
    fields = _fields(
        request_id=request_id, processing_ms=processing_ms, scenario=scenario, authorized=True, tokens_used=tokens
    )
    if request.get("stream") is True:
        chunks = scenario.reply_chunks
        if chunks is None:
            chunks = stream_chunks(request, stream_error=scenario.stream_error, tool_call=scenario.tool_call)
        units = sse_units(
            chunks, crlf=scenario.crlf, keepalive_comments=scenario.keepalive_comments, done=not scenario.stream_error
        )
        first_content = 2 if scenario.keepalive_comments else 1
        return Reply(200, SSE_TYPE, fields, units=units, streamed=True, first_content_unit=first_content)
    reply = scenario.reply_json
    if reply is None:
        reply = completion_json(request, tool_call=scenario.tool_call)
    return Reply(200, JSON_TYPE, fields, _pretty(reply))
