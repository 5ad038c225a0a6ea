"""Reply shapes the real API sends that older readers refused: each one read, typed where known, kept whole.

Each test builds the JSON the API sends (shapes as openai-python 3.x types them, see
``openai/types/chat/``) and checks wire's typed view field by field, and that nothing
the view does not name is lost (``.raw``, ``.extra``, ``exchange.json``). The end-to-end
tests go through ``FakeServer(reply_json=...)`` / ``reply_chunks=...`` over loopback.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from rawserver import RawServer

import wire
from wire.chat import (
    Annotation,
    Audio,
    ChatCompletion,
    ContentPart,
    CustomCall,
    FunctionCall,
    Logprobs,
    StreamAssembler,
    TokenLogprob,
    ToolCall,
    TopLogprob,
    URLCitation,
)
from wire.client import Client
from wire.errors import APIError, ProtocolError, StreamError
from wire.fake import FakeServer

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"

HEAD: dict[str, Any] = {"id": "chatcmpl-1", "created": 1741569952, "model": "gpt-5-2025-08-07"}


def reply(*messages: dict[str, Any], finish: str = "stop", **extra: Any) -> dict[str, Any]:
    choices = [{"index": i, "message": m, "logprobs": None, "finish_reason": finish} for i, m in enumerate(messages)]
    return {**HEAD, "object": "chat.completion", "choices": choices, **extra}


def chunk(*choices: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**HEAD, "object": "chat.completion.chunk", "choices": list(choices), **extra}


def delta(index: int, finish: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"index": index, "delta": fields, "finish_reason": finish}


def client_for(server: FakeServer | RawServer) -> Client:
    return Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=0)


CUSTOM_CALL = {"id": "call_c", "type": "custom", "custom": {"name": "run_sql", "input": "SELECT 1;"}}
UNKNOWN_CALL = {"id": "call_m", "type": "mcp_call", "mcp_call": {"server": "docs", "args": {"q": "x"}}}
FUNCTION_CALL = {"id": "call_f", "type": "function", "function": {"name": "get_time", "arguments": '{"tz":"UTC"}'}}


# -- non-streamed -----------------------------------------------------------------------


def test_custom_tool_call_end_to_end() -> None:
    body = reply(
        {"role": "assistant", "content": None, "tool_calls": [CUSTOM_CALL, FUNCTION_CALL]}, finish="tool_calls"
    )
    with FakeServer(reply_json=body) as server:
        exchange = client_for(server).chat("run it")
    assert exchange.json == body
    assert exchange.completion is not None
    calls = exchange.completion.choices[0].message.tool_calls
    assert calls == [
        ToolCall(id="call_c", type="custom", custom=CustomCall(name="run_sql", input="SELECT 1;")),
        ToolCall(id="call_f", type="function", function=FunctionCall(name="get_time", arguments='{"tz":"UTC"}')),
    ]
    assert calls[0].function is None and (calls[0].name, calls[0].input) == ("run_sql", "SELECT 1;")
    assert (calls[1].name, calls[1].input) == ("get_time", '{"tz":"UTC"}')
    assert calls[0].raw is exchange.json["choices"][0]["message"]["tool_calls"][0]


def test_unknown_tool_call_type_is_kept_with_its_raw_object() -> None:
    call = ChatCompletion.from_dict(reply({"role": "assistant", "tool_calls": [UNKNOWN_CALL]})).choices[0]
    tool = call.message.tool_calls[0]
    assert (tool.id, tool.type, tool.function, tool.custom, tool.name, tool.input) == (
        "call_m",
        "mcp_call",
        None,
        None,
        None,
        None,
    )
    assert tool.extra == {"mcp_call": {"server": "docs", "args": {"q": "x"}}}
    assert tool.raw == UNKNOWN_CALL


def test_content_parts_give_the_text_and_keep_every_part() -> None:
    parts = [
        {"type": "text", "text": "HTTP/1.1 "},
        {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
        {"type": "refusal", "refusal": "no"},
        {"type": "text", "text": "is text."},
    ]
    message = ChatCompletion.from_dict(reply({"role": "assistant", "content": parts})).choices[0].message
    assert message.content == "HTTP/1.1 is text."
    assert message.parts == [
        ContentPart(type="text", text="HTTP/1.1 "),
        ContentPart(type="image_url"),
        ContentPart(type="refusal", refusal="no"),
        ContentPart(type="text", text="is text."),
    ]
    assert message.parts[1].extra == {"image_url": {"url": "https://x/y.png"}}


def test_refusal_annotations_audio_logprobs_typed() -> None:
    citation = {"url": "https://www.rfc-editor.org/rfc/rfc9112", "title": "RFC 9112", "start_index": 0, "end_index": 8}
    message = {
        "role": "assistant",
        "content": "RFC 9112 defines HTTP/1.1.",
        "refusal": None,
        "annotations": [
            {"type": "url_citation", "url_citation": citation},
            {"type": "file_citation", "file_citation": {"file_id": "f1"}},
        ],
        "audio": {"id": "audio_1", "data": "UklGRg==", "expires_at": 1741573552, "transcript": "RFC 9112"},
    }
    top = {"token": "RFC", "logprob": -0.5, "bytes": [82, 70, 67]}
    body = reply(message)
    body["choices"][0]["logprobs"] = {
        "content": [{"token": "RFC", "logprob": -0.25, "bytes": [82, 70, 67], "top_logprobs": [top]}],
        "refusal": None,
    }
    choice = ChatCompletion.from_dict(body).choices[0]
    m = choice.message
    assert m.annotations == [
        Annotation(type="url_citation", url_citation=URLCitation(citation["url"], "RFC 9112", 0, 8)),
        Annotation(type="file_citation"),
    ]
    assert m.annotations[1].extra == {"file_citation": {"file_id": "f1"}}
    assert m.audio == Audio(id="audio_1", data="UklGRg==", transcript="RFC 9112", expires_at=1741573552)
    assert choice.logprobs == Logprobs(
        content=[TokenLogprob("RFC", -0.25, [82, 70, 67], [TopLogprob("RFC", -0.5, [82, 70, 67])])], refusal=None
    )
    refused = ChatCompletion.from_dict(reply({"role": "assistant", "content": None, "refusal": "I can't."}))
    assert refused.choices[0].message.refusal == "I can't." and refused.text == ""


def test_new_fields_anywhere_are_kept_end_to_end() -> None:
    body = reply(
        {"role": "assistant", "content": "hi", "tool_calls": [{**FUNCTION_CALL, "status": "done"}], "reasoning": "r"},
        usage={
            "prompt_tokens": 3,
            "completion_tokens": 1,
            "total_tokens": 4,
            "prompt_tokens_details": {"cached_tokens": 2, "future_tokens": 1},
            "billing": {"tier": 5},
        },
        service_tier="priority",
        moderation={"input": {"type": "moderation_results"}},
    )
    body["choices"][0]["content_filter_results"] = {"hate": {"filtered": False}}
    body["choices"][0]["message"]["tool_calls"][0]["function"]["strict"] = True
    with FakeServer(reply_json=body) as server:
        exchange = client_for(server).chat("hi")
    assert exchange.json == body
    c = exchange.completion
    assert c is not None and c.service_tier == "priority"
    assert c.extra == {"moderation": {"input": {"type": "moderation_results"}}}
    assert c.choices[0].extra == {"content_filter_results": {"hate": {"filtered": False}}}
    assert c.choices[0].message.extra == {"reasoning": "r"}
    call = c.choices[0].message.tool_calls[0]
    assert call.extra == {"status": "done"}
    assert call.function is not None and call.function.extra == {"strict": True}
    assert c.usage is not None and c.usage.extra == {"billing": {"tier": 5}}
    assert c.usage.prompt_tokens_details == {"cached_tokens": 2, "future_tokens": 1}


def test_unknown_values_of_known_fields_are_kept() -> None:
    body = reply({"role": "critic", "content": "x"}, finish="max_output_tokens", service_tier="turbo")
    c = ChatCompletion.from_dict(body)
    assert (c.choices[0].message.role, c.choices[0].finish_reason, c.service_tier) == (
        "critic",
        "max_output_tokens",
        "turbo",
    )


@pytest.mark.parametrize(
    ("change", "read", "expected"),
    [
        (lambda m: m["tool_calls"][0].pop("function"), lambda m: m.tool_calls[0].function, None),
        (lambda m: m["tool_calls"][0].__setitem__("custom", "x"), lambda m: m.tool_calls[0].extra, {"custom": "x"}),
        (lambda m: m.__setitem__("tool_calls", {"0": 1}), lambda m: m.tool_calls, []),
        (lambda m: m.__setitem__("annotations", [3]), lambda m: m.annotations, []),
        (lambda m: m.__setitem__("audio", "x"), lambda m: m.audio, None),
        (lambda m: m.__setitem__("function_call", 1), lambda m: m.function_call, None),
        (lambda m: m.__setitem__("content", ["a", {"type": "text", "text": "b"}]), lambda m: m.content, "b"),
    ],
)
def test_a_known_field_of_another_shape_is_read_as_absent_and_kept_as_sent(change: Any, read: Any,
                                                                            expected: Any) -> None:
    """The SDK does not validate replies (openai/_models.py construct_type); wire reads them too, keeping the raw."""
    body = reply({"role": "assistant", "content": None, "tool_calls": [copy.deepcopy(FUNCTION_CALL)]})
    change(body["choices"][0]["message"])
    message = ChatCompletion.from_dict(copy.deepcopy(body)).choices[0].message
    assert read(message) == expected
    assert message.raw == body["choices"][0]["message"]


def test_a_body_that_is_not_json_is_a_protocol_error() -> None:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5\r\n\r\n"
    with RawServer(head + b"{oops") as server:
        with pytest.raises(ProtocolError, match="the reply body is not JSON") as info:
            client_for(server).chat("hi")
    assert info.value.received == b"{oops"


def test_a_body_nested_too_deeply_for_json_is_a_protocol_error() -> None:
    """json gives up on values nested thousands deep with a RecursionError: the call says what happened instead."""
    body = b'{"a":' * 100_000
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body)
    with RawServer(head + body) as server:
        with pytest.raises(ProtocolError, match="the reply body is nested too deeply to read as JSON") as info:
            client_for(server).chat("hi")
    assert info.value.received == body and info.value.rule == "Chat Completions reply format"


# -- streamed -----------------------------------------------------------------------------

# Two choices interleaved (n=2), tool calls of three types in pieces, audio in pieces,
# logprobs in pieces, the usage chunk with choices: [], and a chunk after it.
N2_CHUNKS: list[dict[str, Any]] = [
    chunk(delta(0, role="assistant", content="", refusal=None), obfuscation="abc"),
    chunk(
        delta(
            1,
            role="assistant",
            content=None,
            tool_calls=[{"index": 0, "id": "call_c", "type": "custom", "custom": {"name": "run_sql", "input": ""}}],
        )
    ),
    chunk(delta(0, content="Hel")),
    chunk(delta(1, tool_calls=[{"index": 0, "custom": {"input": "SELECT "}}])),
    chunk(delta(0, content="lo")),
    chunk(
        delta(
            1,
            tool_calls=[
                {"index": 0, "custom": {"input": "1;"}},
                {
                    "index": 1,
                    "id": "call_f",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": '{"tz"'},
                },
            ],
        )
    ),
    chunk(delta(1, tool_calls=[{"index": 1, "function": {"arguments": ':"UTC"}'}}])),
    chunk(delta(1, tool_calls=[{"index": 2, "id": "call_m", "type": "mcp_call", "mcp_call": {"args": '{"q"'}}])),
    chunk(delta(1, tool_calls=[{"index": 2, "mcp_call": {"args": ":1}", "server": "docs"}}])),
    chunk(delta(0, finish="stop")),
    chunk(delta(1, finish="tool_calls")),
    chunk(
        usage={
            "prompt_tokens": 5,
            "completion_tokens": 7,
            "total_tokens": 12,
            "completion_tokens_details": {"reasoning_tokens": 3},
        }
    ),
    chunk(delta(0, "stop", reasoning_summary="short")),  # after the usage chunk: still read; a repeated finish_reason
]


def test_n2_stream_with_custom_function_and_unknown_tool_calls_end_to_end() -> None:
    with FakeServer(reply_chunks=N2_CHUNKS) as server:
        stream = client_for(server).stream("hi", n=2)
        deltas = list(stream)
    assert deltas == ["Hel", "lo"]  # the text of choice 0 only
    exchange = stream.exchange
    assert exchange.completion_chunks == N2_CHUNKS
    c = exchange.completion
    assert c is not None
    assert [(ch.index, ch.message.content, ch.finish_reason) for ch in c.choices] == [
        (0, "Hello", "stop"),
        (1, None, "tool_calls"),
    ]
    assert c.choices[0].message.extra == {"reasoning_summary": "short"}
    assert c.choices[1].message.tool_calls == [
        ToolCall(id="call_c", type="custom", custom=CustomCall(name="run_sql", input="SELECT 1;")),
        ToolCall(id="call_f", type="function", function=FunctionCall(name="get_time", arguments='{"tz":"UTC"}')),
        ToolCall(id="call_m", type="mcp_call"),
    ]
    assert c.choices[1].message.tool_calls[2].extra == {"mcp_call": {"args": '{"q":1}', "server": "docs"}}
    assert c.usage is not None and (c.usage.total_tokens, c.usage.completion_tokens_details) == (
        12,
        {"reasoning_tokens": 3},
    )
    assert (c.id, c.model, c.object) == ("chatcmpl-1", "gpt-5-2025-08-07", "chat.completion")
    assert "obfuscation" not in c.raw  # per-chunk padding, not part of the reply (as the SDK drops it)


def test_stream_audio_and_logprobs_add_up() -> None:
    def lp(token: str) -> dict[str, Any]:
        return {"token": token, "logprob": -1.0, "bytes": None, "top_logprobs": []}

    chunks = [
        chunk(
            {
                **delta(0, role="assistant", audio={"id": "audio_1", "data": "Ukl", "transcript": "He"}),
                "logprobs": {"content": [lp("He")], "refusal": None},
            }
        ),
        chunk(
            {
                **delta(0, audio={"data": "GRg==", "transcript": "llo"}),
                "logprobs": {"content": [lp("llo")], "refusal": None},
            }
        ),
        chunk(delta(0, finish="stop")),
        chunk(delta(0, audio={"expires_at": 1741573552})),  # the last audio update has no finish_reason (SDK docs)
    ]
    assembler = StreamAssembler()
    for c in chunks:
        assembler.add(c)
    choice = assembler.completion().choices[0]
    assert choice.message.audio == Audio(id="audio_1", data="UklGRg==", transcript="Hello", expires_at=1741573552)
    assert choice.logprobs is not None and choice.logprobs.content is not None
    assert [t.token for t in choice.logprobs.content] == ["He", "llo"]
    assert choice.logprobs.refusal is None
    assert choice.finish_reason == "stop"


@pytest.mark.parametrize(
    ("bad", "where"),
    [
        (chunk(delta(0, content=["x"])), "choices[0].delta.content is a list after a str"),
        (chunk(delta(0, tool_calls=[{"id": "c"}])), "choices[0].delta.tool_calls[0] has no integer 'index'"),
        (chunk({"index": "0", "delta": {}}), "choices[0].index is not an integer"),
        (chunk(delta(0), "x"), "choices[1] is not an object"),
    ],
)
def test_a_stream_that_cannot_be_added_up_names_the_field(bad: dict[str, Any], where: str) -> None:
    assembler = StreamAssembler()
    assembler.add(chunk(delta(0, role="assistant", content="a")))
    with pytest.raises(StreamError) as info:
        assembler.add(bad)
    assert where in str(info.value)
    assert info.value.completion_chunks[-1] is bad


# -- one APIError, two paths -------------------------------------------------------------

ERROR = {"error": {"message": "slow down", "type": "tokens", "param": None, "code": 429}}


def test_an_error_reply_and_an_error_event_give_the_same_api_error() -> None:
    body = json.dumps(ERROR).encode()
    head = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body)
    with RawServer(head + body) as server:
        with pytest.raises(APIError) as replied:
            client_for(server).chat("hi")
    with pytest.raises(APIError) as streamed:
        StreamAssembler().add(copy.deepcopy(ERROR))
    fields = [(e.message, e.type, e.param, e.code) for e in (replied.value, streamed.value)]
    assert fields == [("slow down", "tokens", None, "429")] * 2  # code as str, as the SDK's APIError has it
    assert json.loads(replied.value.body) == json.loads(streamed.value.body) == ERROR
    assert (replied.value.status, streamed.value.status) == (400, None)


@pytest.mark.parametrize(
    ("body", "message", "code"),
    [
        (b'{"error": "quota exceeded"}', "quota exceeded", None),
        (b'{"error": {"code": "x"}}', '{"error": {"code": "x"}}', "x"),
        (b"", "Bad Request", None),
        (b"[" * 5000, "[" * 5000, None),
    ],
)
def test_api_error_from_body_shapes(body: bytes, message: str, code: str | None) -> None:
    err = APIError.from_body(body, status=400, reason="Bad Request")
    assert (err.message, err.code, err.status, err.body) == (message, code, 400, body)
    assert isinstance(err, wire.WireError)
