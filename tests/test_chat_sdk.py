"""wire reads what the official SDK reads: replies and streams built from the ``openai`` package's own models.

hypothesis builds instances of the SDK's pydantic models (``openai/types/chat/chat_completion.py``,
``chat_completion_chunk.py``, ``chat_completion_message*.py``, ``chat_completion_audio.py``,
``chat_completion_token_logprob.py``, ``completion_usage.py``), with optional fields left out, set
to null or set, plus fields the SDK does not know. Their JSON bytes go to both readers: the SDK's
parse (``ChatCompletion.model_validate_json``; a chunk as the SDK's stream reads it,
``construct_type``) and wire's (``ChatCompletion.from_dict``, ``StreamAssembler``). Both must carry
the same text, refusal, tool calls, audio, annotations, logprobs, finish reasons and usage.

A streamed reply is added up on the SDK side per choice index with the SDK's own
``accumulate_delta`` (``openai/lib/streaming/_deltas.py``), as ``ChatCompletionStreamState`` does.
Custom tool calls in a stream are built with ``model_construct``: the SDK's chunk model types a
tool-call delta as ``"function"`` only, and its stream reader keeps other types (``construct_type``).
"""

from __future__ import annotations

import json
from itertools import zip_longest
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

openai = pytest.importorskip("openai")

from openai._models import construct_type  # noqa: E402
from openai.lib.streaming._deltas import accumulate_delta  # noqa: E402
from openai.types import completion_usage as usage_types  # noqa: E402
from openai.types.chat import chat_completion as cc  # noqa: E402
from openai.types.chat import chat_completion_chunk as ccc  # noqa: E402
from openai.types.chat import chat_completion_message as ccm  # noqa: E402
from openai.types.chat.chat_completion_audio import ChatCompletionAudio  # noqa: E402
from openai.types.chat.chat_completion_message_custom_tool_call import (  # noqa: E402
    ChatCompletionMessageCustomToolCall,
    Custom,
)
from openai.types.chat.chat_completion_message_function_tool_call import (  # noqa: E402
    ChatCompletionMessageFunctionToolCall,
    Function,
)
from openai.types.chat.chat_completion_token_logprob import ChatCompletionTokenLogprob, TopLogprob  # noqa: E402

from wire.chat import ChatCompletion, Choice, Logprobs, StreamAssembler, TokenLogprob, Usage  # noqa: E402

text = st.text(max_size=8)
ident = st.text("abcXYZ_0123456789", min_size=1, max_size=10)
count = st.integers(0, 10**6)


def model(cls: Any, required: dict[str, Any], optional: dict[str, Any] | None = None, extra: bool = True) -> Any:
    """Instances of an SDK model: required fields, then either every optional one set (half the time, so that
    every model shows up in every run) or each one absent, null or set; a field the SDK does not know may come too."""
    optional = dict(optional or {})
    if extra:
        optional["x_new_field"] = text | st.dictionaries(ident, count, max_size=2)
    some = st.fixed_dictionaries(required, optional={name: st.none() | s for name, s in optional.items()})
    every = st.fixed_dictionaries({**required, **optional})
    return (some | every).map(lambda kw: cls(**kw))


top_logprob = model(
    TopLogprob, {"token": text, "logprob": st.floats(-100, 0)}, {"bytes": st.lists(st.integers(0, 255))}
)
token_logprob = model(
    ChatCompletionTokenLogprob,
    {"token": text, "logprob": st.floats(-100, 0), "top_logprobs": st.lists(top_logprob, max_size=2)},
    {"bytes": st.lists(st.integers(0, 255), max_size=4)},
)
usage = model(
    usage_types.CompletionUsage,
    {"prompt_tokens": count, "completion_tokens": count, "total_tokens": count},
    {
        "prompt_tokens_details": model(
            usage_types.PromptTokensDetails,
            {},
            {k: count for k in ("audio_tokens", "cache_write_tokens", "cached_tokens", "image_tokens", "text_tokens")},
        ),
        "completion_tokens_details": model(
            usage_types.CompletionTokensDetails,
            {},
            {
                k: count
                for k in (
                    "accepted_prediction_tokens",
                    "audio_tokens",
                    "reasoning_tokens",
                    "rejected_prediction_tokens",
                    "text_tokens",
                )
            },
        ),
    },
)
function_call = model(
    ChatCompletionMessageFunctionToolCall,
    {
        "id": ident,
        "type": st.just("function"),
        "function": model(Function, {"name": ident, "arguments": text}),
    },
)
custom_call = model(
    ChatCompletionMessageCustomToolCall,
    {
        "id": ident,
        "type": st.just("custom"),
        "custom": model(Custom, {"name": ident, "input": text}),
    },
)
annotation = model(
    ccm.Annotation,
    {
        "type": st.just("url_citation"),
        "url_citation": model(
            ccm.AnnotationURLCitation, {"url": text, "title": text, "start_index": count, "end_index": count}
        ),
    },
)
audio = model(ChatCompletionAudio, {"id": ident, "data": text, "expires_at": count, "transcript": text})
message = model(
    ccm.ChatCompletionMessage,
    {"role": st.just("assistant")},
    {
        "content": text,
        "refusal": text,
        "annotations": st.lists(annotation, max_size=2),
        "audio": audio,
        "function_call": model(ccm.FunctionCall, {"name": ident, "arguments": text}),
        "tool_calls": st.lists(function_call | custom_call, max_size=3),
    },
)
logprobs = model(
    cc.ChoiceLogprobs,
    {},
    {"content": st.lists(token_logprob, max_size=3), "refusal": st.lists(token_logprob, max_size=2)},
)
FINISH = st.sampled_from(["stop", "length", "tool_calls", "content_filter", "function_call"])
TIERS = st.sampled_from(["auto", "default", "flex", "scale", "priority", "fast"])
moderation_error = {"code": ident, "message": text, "type": st.just("error")}
moderation = model(
    cc.Moderation,
    {
        "input": model(cc.ModerationInputError, moderation_error, extra=False),
        "output": model(cc.ModerationOutputError, moderation_error, extra=False),
    },
    extra=False,
)


@st.composite
def completions(draw: st.DrawFn) -> Any:
    n = draw(st.integers(0, 2))
    choices = [
        draw(
            model(cc.Choice, {"index": st.just(i), "message": message, "finish_reason": FINISH}, {"logprobs": logprobs})
        )
        for i in range(n)
    ]
    return draw(
        model(
            cc.ChatCompletion,
            {
                "id": ident,
                "object": st.just("chat.completion"),
                "created": count,
                "model": ident,
                "choices": st.just(choices),
            },
            {
                "usage": usage,
                "service_tier": TIERS,
                "system_fingerprint": ident,
                "metadata": st.dictionaries(ident, text, max_size=2),
                "moderation": moderation,
            },
        )
    )


# -- what both readers must agree on ------------------------------------------------------------


def dumped(value: Any) -> Any:
    """An SDK model as the JSON it was read from (fields it never had left out), for comparing with wire's dicts."""
    return None if value is None else value.to_dict(mode="json")


def tool_call_view(call: Any) -> tuple[Any, ...]:
    """(id, type, name, arguments-or-input) of an SDK tool call, a dict (accumulated) or a wire ToolCall."""
    if isinstance(call, dict):
        body = call.get(call.get("type") or "function") or {}
        return (call.get("id"), call.get("type"), body.get("name"), body.get("arguments", body.get("input")))
    if hasattr(call, "raw"):  # wire
        return (call.id, call.type, call.name, call.input)
    body = call.function if call.type == "function" else call.custom
    return (call.id, call.type, body.name, getattr(body, "arguments", getattr(body, "input", None)))


def wire_logprobs(lp: Logprobs | None) -> Any:
    def tokens(items: list[TokenLogprob] | None) -> Any:
        if items is None:
            return None
        return [(t.token, t.logprob, t.bytes, [(p.token, p.logprob, p.bytes) for p in t.top_logprobs]) for t in items]

    return None if lp is None else (tokens(lp.content), tokens(lp.refusal))


def sdk_logprobs(lp: Any) -> Any:
    def tokens(items: Any) -> Any:
        if items is None:
            return None
        return [(t.token, t.logprob, t.bytes, [(p.token, p.logprob, p.bytes) for p in t.top_logprobs]) for t in items]

    return None if lp is None else (tokens(lp.content), tokens(lp.refusal))


def check_usage(w: Usage | None, s: Any) -> None:
    if s is None:
        assert w is None
        return
    assert w is not None
    assert (w.prompt_tokens, w.completion_tokens, w.total_tokens) == (
        s.prompt_tokens,
        s.completion_tokens,
        s.total_tokens,
    )
    assert w.prompt_tokens_details == dumped(s.prompt_tokens_details)
    assert w.completion_tokens_details == dumped(s.completion_tokens_details)
    assert w.extra == (s.model_extra or {})


@settings(max_examples=100)
@given(completions())
def test_wire_reads_every_reply_the_sdk_reads_alike(sdk_model: Any) -> None:
    data = sdk_model.model_dump_json(exclude_unset=True).encode()
    sdk = openai.types.chat.ChatCompletion.model_validate_json(data)
    w = ChatCompletion.from_dict(json.loads(data))
    assert (w.id, w.object, w.created, w.model) == (sdk.id, sdk.object, sdk.created, sdk.model)
    assert (w.system_fingerprint, w.service_tier) == (sdk.system_fingerprint, sdk.service_tier)
    assert w.extra.get("moderation") == dumped(sdk.moderation)
    assert all(w.extra[k] == v for k, v in (sdk.model_extra or {}).items())
    check_usage(w.usage, sdk.usage)
    assert len(w.choices) == len(sdk.choices)
    for wc, sc in zip(w.choices, sdk.choices, strict=True):
        check_choice(wc, sc)


def check_choice(wc: Choice, sc: Any) -> None:
    assert (wc.index, wc.finish_reason) == (sc.index, sc.finish_reason)
    assert wire_logprobs(wc.logprobs) == sdk_logprobs(sc.logprobs)
    wm, sm = wc.message, sc.message
    assert (wm.role, wm.content, wm.refusal) == (sm.role, sm.content, sm.refusal)
    assert [tool_call_view(t) for t in wm.tool_calls] == [tool_call_view(t) for t in sm.tool_calls or []]
    assert [(a.type, a.url_citation and a.url_citation.raw) for a in wm.annotations] == [
        (a.type, dumped(a.url_citation)) for a in sm.annotations or []
    ]
    assert (wm.audio and wm.audio.raw) == dumped(sm.audio)
    assert (wm.function_call and (wm.function_call.name, wm.function_call.arguments)) == (
        sm.function_call and (sm.function_call.name, sm.function_call.arguments)
    )
    assert wm.extra.get("x_new_field") == (sm.model_extra or {}).get("x_new_field")


# -- streams ------------------------------------------------------------------------------------


def pieces(draw: st.DrawFn, whole: str) -> list[str]:
    """``whole`` cut at random places (each piece may be empty)."""
    cuts = sorted(draw(st.lists(st.integers(0, len(whole)), max_size=3)))
    bounds = [0, *cuts, len(whole)]
    return [whole[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


@st.composite
def choice_deltas(draw: st.DrawFn, index: int) -> list[dict[str, Any]]:
    """The chunk choices of one choice of a stream, in order, as ``ccc.Choice`` keyword dicts."""
    first: dict[str, Any] = {"role": "assistant"}
    if draw(st.booleans()):
        first["content"] = draw(st.sampled_from(["", None]))
    out = [{"delta": ccc.ChoiceDelta(**first)}]
    for kind in draw(st.lists(st.sampled_from(["content", "refusal", "x_reasoning"]), max_size=3)):
        for piece in pieces(draw, draw(text)):
            out.append({"delta": ccc.ChoiceDelta(**{kind: piece})})
    for call_index in range(draw(st.integers(0, 2))):
        custom = draw(st.booleans())
        name, whole = draw(ident), draw(text)
        for i, piece in enumerate(pieces(draw, whole)):
            head = {"id": f"call_{index}_{call_index}", "type": "custom" if custom else "function"} if i == 0 else {}
            if custom:  # not in the SDK's chunk model: built as its stream reader keeps it
                body = {"input": piece, **({"name": name} if i == 0 else {})}
                call = ccc.ChoiceDeltaToolCall.model_construct(index=call_index, custom=body, **head)
            else:
                function = ccc.ChoiceDeltaToolCallFunction(arguments=piece, **({"name": name} if i == 0 else {}))
                call = ccc.ChoiceDeltaToolCall(index=call_index, function=function, **head)
            out.append({"delta": ccc.ChoiceDelta(tool_calls=[call])})
    if draw(st.booleans()):
        audio_id, data, transcript = draw(ident), draw(text), draw(text)
        for i, (d, t) in enumerate(zip_longest(pieces(draw, data), pieces(draw, transcript), fillvalue="")):
            first_audio = {"id": audio_id} if i == 0 else {}
            out.append({"delta": ccc.ChoiceDelta(audio=ccc.ChoiceDeltaAudio(data=d, transcript=t, **first_audio))})
    for entry in out:
        if draw(st.booleans()):
            entry["logprobs"] = draw(
                model(ccc.ChoiceLogprobs, {"content": st.lists(token_logprob, max_size=2)}, extra=False)
            )
    out.append({"delta": ccc.ChoiceDelta(), "finish_reason": draw(FINISH)})
    return [ccc.Choice(index=index, **entry) for entry in out]


@st.composite
def streams(draw: st.DrawFn) -> list[bytes]:
    """The ``data:`` texts of a stream: n choices interleaved, maybe a usage chunk (choices: []) and chunks after it."""
    per_choice = [draw(choice_deltas(i)) for i in range(draw(st.integers(1, 2)))]
    order = draw(st.permutations([i for i, deltas in enumerate(per_choice) for _ in deltas]))
    queues = [list(deltas) for deltas in per_choice]
    head = {"id": draw(ident), "created": draw(count), "model": draw(ident), "object": "chat.completion.chunk"}
    tail = draw(
        st.fixed_dictionaries({}, optional={"service_tier": TIERS, "system_fingerprint": ident, "obfuscation": ident})
    )
    chunks = [ccc.ChatCompletionChunk(choices=[queues[i].pop(0)], **head, **tail) for i in order]
    if draw(st.booleans()):
        chunks.append(ccc.ChatCompletionChunk(choices=[], usage=draw(usage), **head))
        if draw(st.booleans()):
            chunks.append(ccc.ChatCompletionChunk(choices=[], **head, obfuscation="x"))
    return [c.model_dump_json(exclude_unset=True).encode() for c in chunks]


@settings(max_examples=60)
@given(streams())
def test_wire_adds_up_every_stream_the_sdk_reads_alike(datas: list[bytes]) -> None:
    sdk_chunks = [construct_type(type_=openai.types.chat.ChatCompletionChunk, value=json.loads(d)) for d in datas]
    messages: dict[int, dict[object, object]] = {}
    finish: dict[int, str] = {}
    tokens: dict[int, list[Any]] = {}
    sdk_usage = None
    for c in sdk_chunks:
        sdk_usage = c.usage or sdk_usage
        for choice in c.choices:
            accumulate_delta(messages.setdefault(choice.index, {}), choice.delta.to_dict())
            if choice.finish_reason:
                finish[choice.index] = choice.finish_reason
            if choice.logprobs is not None:
                tokens.setdefault(choice.index, []).extend(choice.logprobs.content or [])

    assembler = StreamAssembler()
    texts = [assembler.add(json.loads(d)) for d in datas]
    w = assembler.completion()

    first = sdk_chunks[0]
    assert (w.id, w.created, w.model, w.object) == (first.id, first.created, first.model, "chat.completion")
    assert (w.service_tier, w.system_fingerprint) == (first.service_tier, first.system_fingerprint)
    assert "".join(texts) == (messages[0].get("content") or "")
    check_usage(w.usage, sdk_usage)
    assert [c.index for c in w.choices] == sorted(messages)
    for wc in w.choices:
        sm: dict[Any, Any] = messages[wc.index]
        assert wc.finish_reason == finish[wc.index]
        assert (wc.message.role, wc.message.content, wc.message.refusal) == (
            sm["role"],
            sm.get("content"),
            sm.get("refusal"),
        )
        assert wc.message.extra.get("x_reasoning") == sm.get("x_reasoning")
        assert [tool_call_view(t) for t in wc.message.tool_calls] == [
            tool_call_view(t) for t in sm.get("tool_calls", [])
        ]
        assert (wc.message.audio and wc.message.audio.raw) == sm.get("audio")
        want = tokens.get(wc.index)
        got = wc.logprobs.content if wc.logprobs is not None else None
        assert [(t.token, t.logprob, t.bytes) for t in got or []] == [(t.token, t.logprob, t.bytes) for t in want or []]
