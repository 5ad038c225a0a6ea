"""Tests for wire.chat: request payloads, reply views, and assembling a streamed reply."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wire.chat import (
    DEFAULT_MODEL,
    SEED_PROMPT,
    ChatCompletion,
    Choice,
    FunctionCall,
    Message,
    StreamAssembler,
    ToolCall,
    Usage,
    build_payload,
    decode_reply,
    decode_stream_data,
    encode_payload,
)
from wire.errors import APIError, ProtocolError, StreamError

# A reply as the service sends it (shape of a real gpt-4o-mini reply, fields it adds included).
REPLY: dict[str, Any] = {
    "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    "object": "chat.completion",
    "created": 1741569952,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "HTTP/1.1 kept connections open by default.",
                "refusal": None,
                "annotations": [],
            },
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 14,
        "completion_tokens": 9,
        "total_tokens": 23,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    },
    "service_tier": "default",
    "system_fingerprint": "fp_06737a9306",
}

HEAD = {
    "id": "chatcmpl-stream1",
    "object": "chat.completion.chunk",
    "created": 1741569952,
    "model": "gpt-4o-mini-2024-07-18",
    "service_tier": "default",
    "system_fingerprint": "fp_06737a9306",
}


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
    return {**HEAD, "choices": choices, "usage": None, **extra}


USAGE = REPLY["usage"]

# The same reply, streamed with stream_options.include_usage.
TEXT_CHUNKS = [
    chunk({"role": "assistant", "content": "", "refusal": None}),
    chunk({"content": "HTTP/1.1 kept"}),
    chunk({"content": " connections open"}),
    chunk({"content": " by default."}),
    chunk({}, "stop"),
    chunk(None, usage=USAGE),
]


# -- payload -------------------------------------------------------------------------


def test_constants() -> None:
    assert DEFAULT_MODEL == "gpt-4o-mini"
    assert SEED_PROMPT == "Tell me a fun fact about HTTP."


def test_build_payload_from_a_string() -> None:
    payload = build_payload(SEED_PROMPT)
    assert payload == {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": SEED_PROMPT}]}
    assert list(payload) == ["model", "messages"]


def test_build_payload_key_order_params_then_stream() -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    payload = build_payload(
        messages, model="gpt-4o", stream=True, temperature=0, stream_options={"include_usage": True}, max_tokens=5
    )
    assert list(payload) == ["model", "messages", "temperature", "stream_options", "max_tokens", "stream"]
    assert payload["stream"] is True
    assert payload["stream_options"] == {"include_usage": True}
    assert payload["messages"] == messages and payload["messages"] is not messages


def test_encode_payload_exact_bytes() -> None:
    body = encode_payload(build_payload("Hi", stream=True))
    assert body == b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"stream":true}'


def test_encode_payload_non_ascii_as_utf8() -> None:
    body = encode_payload(build_payload("café ☕", temperature=0.5))
    assert body == (
        b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"caf\xc3\xa9 \xe2\x98\x95"}],"temperature":0.5}'
    )


def test_encode_payload_refuses_nan() -> None:
    with pytest.raises(ValueError):
        encode_payload(build_payload("Hi", temperature=float("nan")))


# -- reply views ----------------------------------------------------------------------


def test_from_dict_realistic_reply() -> None:
    reply = ChatCompletion.from_dict(REPLY)
    assert reply.id == "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
    assert reply.object == "chat.completion"
    assert reply.created == 1741569952
    assert reply.model == "gpt-4o-mini-2024-07-18"
    assert reply.system_fingerprint == "fp_06737a9306"
    assert reply.choices == [
        Choice(
            index=0,
            message=Message(role="assistant", content="HTTP/1.1 kept connections open by default.", tool_calls=[]),
            finish_reason="stop",
            logprobs=None,
        )
    ]
    assert reply.usage == Usage(
        prompt_tokens=14,
        completion_tokens=9,
        total_tokens=23,
        prompt_tokens_details={"cached_tokens": 0, "audio_tokens": 0},
        completion_tokens_details={"reasoning_tokens": 0, "audio_tokens": 0},
    )
    assert reply.service_tier == "default"
    assert reply.extra == {} and reply.choices[0].message.extra == {}
    assert reply.text == "HTTP/1.1 kept connections open by default."
    assert reply.raw is REPLY
    assert reply.choices[0].message.raw["annotations"] == []


def test_from_dict_tool_call_reply() -> None:
    d = copy.deepcopy(REPLY)
    d["choices"][0]["message"] = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_time", "arguments": '{"tz":"UTC"}'}}
        ],
        "refusal": None,
    }
    d["choices"][0]["finish_reason"] = "tool_calls"
    reply = ChatCompletion.from_dict(d)
    assert reply.text == ""
    assert reply.choices[0].message.tool_calls == [
        ToolCall(id="call_1", type="function", function=FunctionCall(name="get_time", arguments='{"tz":"UTC"}'))
    ]


def test_from_dict_without_usage_or_choices_text() -> None:
    d = {k: v for k, v in REPLY.items() if k != "usage"}
    d["choices"] = []
    reply = ChatCompletion.from_dict(d)
    assert reply.usage is None
    assert reply.text == ""


def test_missing_choices_is_a_protocol_error() -> None:
    d = {k: v for k, v in REPLY.items() if k != "choices"}
    with pytest.raises(ProtocolError) as info:
        ChatCompletion.from_dict(d)
    assert str(info.value) == "reply JSON: the reply has no 'choices' (Chat Completions reply format)"
    assert not isinstance(info.value, (KeyError, TypeError))


@pytest.mark.parametrize(
    ("change", "text"),
    [
        (lambda d: d["choices"].__setitem__(0, "oops"), "choices[0] should be an object, not str"),
        (lambda d: d["choices"][0].pop("message"), "choices[0].message should be an object, not NoneType"),
        (lambda d: d.__setitem__("choices", {"0": {}}), "the reply.choices should be list, not dict"),
    ],
)
def test_malformed_reply_names_the_part(change: Any, text: str) -> None:
    """What the reply cannot do without (the choices, each choice's message) is an error that names it."""
    d = copy.deepcopy(REPLY)
    change(d)
    with pytest.raises(ProtocolError, match=text.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        ChatCompletion.from_dict(d)


@pytest.mark.parametrize(
    ("change", "read"),
    [
        (lambda d: d["choices"][0]["message"].__setitem__("content", 5), lambda c: c.choices[0].message.content),
        (lambda d: d.__setitem__("created", True), lambda c: c.created),
        (lambda d: d.pop("created"), lambda c: c.created),
        (lambda d: d.pop("id"), lambda c: c.id),
        (lambda d: d.pop("model"), lambda c: c.model),
        (lambda d: d.__setitem__("object", 7), lambda c: c.object),
        (lambda d: d["usage"].pop("total_tokens"), lambda c: c.usage.total_tokens),
        (lambda d: d["usage"].__setitem__("prompt_tokens", "12"), lambda c: c.usage.prompt_tokens),
    ],
)
def test_a_field_missing_or_of_another_type_is_read_as_absent_and_kept_as_sent(change: Any, read: Any) -> None:
    """The SDK reads replies without validating them (openai/_models.py construct_type): so does wire.

    The typed view shows None, ``.raw`` keeps what was sent, and the text is still read.
    """
    from openai._models import construct_type
    from openai.types.chat import ChatCompletion as SDKCompletion

    d = copy.deepcopy(REPLY)
    change(d)
    completion = ChatCompletion.from_dict(copy.deepcopy(d))
    assert read(completion) is None
    assert completion.raw == d
    sdk = construct_type(type_=SDKCompletion, value=copy.deepcopy(d))
    assert isinstance(sdk, SDKCompletion)  # the SDK accepts it too
    assert completion.choices[0].finish_reason == sdk.choices[0].finish_reason == d["choices"][0]["finish_reason"]


def test_reply_not_an_object() -> None:
    with pytest.raises(ProtocolError, match="should be an object, not list"):
        ChatCompletion.from_dict([])


# -- streamed replies ----------------------------------------------------------------------


def test_assemble_text_stream_equals_the_plain_reply() -> None:
    assembler = StreamAssembler()
    deltas = [assembler.add(c) for c in TEXT_CHUNKS]
    assert deltas == ["", "HTTP/1.1 kept", " connections open", " by default.", "", ""]
    assert assembler.chunks == TEXT_CHUNKS
    streamed = assembler.completion()
    plain = ChatCompletion.from_dict(REPLY)
    assert streamed.object == "chat.completion"
    assert streamed.choices == plain.choices
    assert streamed.usage == plain.usage
    assert streamed.text == plain.text
    assert (streamed.id, streamed.created, streamed.model, streamed.system_fingerprint) == (
        "chatcmpl-stream1",
        1741569952,
        "gpt-4o-mini-2024-07-18",
        "fp_06737a9306",
    )
    assert streamed.raw["choices"][0]["message"] == {
        "role": "assistant",
        "content": "HTTP/1.1 kept connections open by default.",
        "refusal": None,
    }


def test_assemble_through_event_data_and_done() -> None:
    assembler = StreamAssembler()
    texts = [assembler.add_data(json.dumps(c)) for c in TEXT_CHUNKS]
    assert "".join(texts) == "HTTP/1.1 kept connections open by default."
    assert not assembler.done
    assert assembler.add_data("[DONE]") == ""
    assert assembler.done
    assert assembler.completion().text == "HTTP/1.1 kept connections open by default."


def test_assemble_tool_calls_in_pieces() -> None:
    def calls(*pieces: dict[str, Any]) -> dict[str, Any]:
        return chunk({"tool_calls": list(pieces)})

    chunks = [
        chunk(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"index": 0, "id": "call_A", "type": "function", "function": {"name": "get_weather", "arguments": ""}}
                ],
                "refusal": None,
            }
        ),
        calls({"index": 0, "function": {"arguments": '{"loc'}}),
        calls({"index": 0, "function": {"arguments": 'ation":"Paris"}'}}),
        calls({"index": 1, "id": "call_B", "type": "function", "function": {"name": "get_time", "arguments": ""}}),
        calls({"index": 1, "function": {"arguments": '{"tz":'}}),
        calls({"index": 1, "function": {"arguments": '"CET"}'}}),
        chunk({}, "tool_calls"),
        chunk(None, usage=USAGE),
    ]
    assembler = StreamAssembler()
    assert [assembler.add(c) for c in chunks] == [""] * len(chunks)
    streamed = assembler.completion()
    plain = copy.deepcopy(REPLY)
    plain["choices"][0]["finish_reason"] = "tool_calls"
    plain["choices"][0]["message"] = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_A", "type": "function", "function": {"name": "get_weather", "arguments": '{"location":"Paris"}'}},
            {"id": "call_B", "type": "function", "function": {"name": "get_time", "arguments": '{"tz":"CET"}'}},
        ],
        "refusal": None,
    }
    assert streamed.choices == ChatCompletion.from_dict(plain).choices
    assert streamed.choices[0].message.tool_calls[0].function.arguments == '{"location":"Paris"}'
    assert streamed.text == ""


def test_assemble_refusal() -> None:
    assembler = StreamAssembler()
    for c in [
        chunk({"role": "assistant", "content": None, "refusal": ""}),
        chunk({"refusal": "I can't"}),
        chunk({"refusal": " help with that."}),
        chunk({}, "stop"),
    ]:
        assembler.add(c)
    message = assembler.completion().choices[0].message
    assert message == Message(role="assistant", content=None, refusal="I can't help with that.")
    assert assembler.completion().usage is None


def test_a_text_piece_with_other_fields_in_its_delta_adds_them_all() -> None:
    """Most deltas carry one piece of text and nothing else (the assembler's short way); one that brings
    other fields beside its text, once the text is under way, has them merged as well."""
    assembler = StreamAssembler()
    for c in [
        chunk({"role": "assistant", "content": "", "refusal": None}),
        chunk({"content": "Hel"}),
        chunk({"content": "lo", "reasoning": "short", "annotations": [{"type": "url_citation"}]}),
        chunk({"content": "!", "reasoning": " and sweet"}),
        chunk({}, "stop"),
    ]:
        assembler.add(c)
    assert assembler.completion().raw["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Hello!",
        "refusal": None,
        "reasoning": "short and sweet",
        "annotations": [{"type": "url_citation"}],
    }


def test_assemble_several_choices() -> None:
    assembler = StreamAssembler()
    two = {**HEAD, "choices": [{"index": 1, "delta": {"role": "assistant", "content": "B"}}]}
    one = {**HEAD, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "A"}, "finish_reason": "stop"}]}
    assert assembler.add(two) == ""  # the text returned is the first choice's
    assert assembler.add(one) == "A"
    reply = assembler.completion()
    assert [(c.index, c.message.content, c.finish_reason) for c in reply.choices] == [(0, "A", "stop"), (1, "B", None)]


def test_error_chunk_raises_api_error() -> None:
    assembler = StreamAssembler()
    assembler.add(TEXT_CHUNKS[0])
    error = {"error": {"message": "The server had an error", "type": "server_error", "param": None, "code": None}}
    with pytest.raises(APIError) as info:
        assembler.add(error)
    assert info.value.message == "The server had an error"
    assert info.value.type == "server_error"
    assert info.value.param is None and info.value.code is None
    assert info.value.status is None
    assert json.loads(info.value.body) == error
    assert assembler.chunks[-1] == error


def test_error_chunk_with_code() -> None:
    with pytest.raises(APIError) as info:
        StreamAssembler().add({"error": {"message": "slow down", "type": "rate_limit", "param": "x", "code": 429}})
    # A non-str code becomes str, as the SDK's APIError does; the value as sent stays in the body.
    assert (info.value.type, info.value.param, info.value.code) == ("rate_limit", "x", "429")
    assert json.loads(info.value.body)["error"]["code"] == 429


def test_chunk_without_choices_raises_stream_error() -> None:
    assembler = StreamAssembler()
    assembler.add(TEXT_CHUNKS[0])
    with pytest.raises(StreamError, match="no 'choices'") as info:
        assembler.add({"id": "x", "object": "chat.completion.chunk"})
    assert info.value.completion_chunks == [TEXT_CHUNKS[0], {"id": "x", "object": "chat.completion.chunk"}]
    assert isinstance(info.value, ProtocolError)


def test_completion_without_chunks() -> None:
    with pytest.raises(StreamError):
        StreamAssembler().completion()


def test_decode_stream_data() -> None:
    assert decode_stream_data("[DONE]") is None
    # The SDK ends at any data that starts with [DONE] (Stream.__stream__: sse.data.startswith("[DONE]")).
    assert decode_stream_data("[DONE] and more") is None and decode_stream_data(" [DONE]\n") is None
    assert decode_stream_data('{"a":1}') == {"a": 1}
    with pytest.raises(StreamError, match="not JSON"):
        decode_stream_data('{"a":')
    with pytest.raises(StreamError, match="not an object"):
        decode_stream_data("[1, 2]")
    with pytest.raises(StreamError, match="nested too deeply"):
        decode_stream_data("[" * 100_000)
    # int() refuses more than 4,300 digits (CPython 3.11's default) with a ValueError that is no JSONDecodeError.
    with pytest.raises(StreamError, match=r"event data cannot be read as JSON \(Exceeds the limit \(4300 digits\)"):
        decode_stream_data('{"created": ' + "9" * 5000 + "}")


@pytest.mark.parametrize(
    "data",
    ['{"a":1}', ' {"a":1}', '{"a":1} ', '{"a":1}\t', '{"a":1}{"b":2}', '{"a":1} x', '{"a":', '{', '{}', '{"a":[1,{"b":null}]}'],
)
def test_a_chunk_is_read_exactly_as_json_loads_reads_it(data: str) -> None:
    """The one-step read of a chunk (raw_decode) gives json.loads's value, or its error message."""
    try:
        expected: object = json.loads(data)
    except json.JSONDecodeError as exc:
        with pytest.raises(StreamError) as got:
            decode_stream_data(data)
        assert f"({exc.msg} at char {exc.pos})" in str(got.value)
    else:
        assert decode_stream_data(data) == expected


def _loads_outcome(read: Any, body: bytes) -> tuple[str, object]:
    """What ``read(body)`` gives: ("value", the value) or ("error", its type and message)."""
    try:
        return "value", read(body)
    except (ValueError, RecursionError) as exc:
        return "error", (type(exc), str(exc))


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":1}',
        b'{"a":1}\n',  # the real API ends its pretty-printed reply with a line end
        b'{"a":1} \t\r\n',
        b' {"a":1}',  # whitespace before the value: json.loads's own way
        b'{"a":1}\x0c',  # a form feed is not JSON whitespace (RFC 8259 section 2), though str.isspace says it is
        b'{"a":1}\xc2\xa0',  # nor is U+00A0
        b'{"a":1}{"b":2}',
        b'{"a":1} x',
        b'{"a":',
        b"{",
        b"",
        b"[1, 2]",
        b'"text"',
        b"null",
        b'\xef\xbb\xbf{"a":1}',  # a UTF-8 byte order mark: json.loads of bytes skips it
        '{"a":"é"}'.encode("utf-16"),  # json.loads of bytes reads UTF-16 too
        b'{"a":"\xff"}',  # not UTF-8
        b'{"a":"\xed\xa0\x80"}',  # an encoded surrogate: json.loads reads bytes with surrogatepass
        b'{"a":NaN}',
        b'{"a":' * 100_000,
    ],
)
def test_a_reply_is_read_exactly_as_json_loads_reads_it(body: bytes) -> None:
    """decode_reply's one-step read gives json.loads's value, or its error with its message."""
    assert _loads_outcome(decode_reply, body) == _loads_outcome(json.loads, body)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(
    value=st.dictionaries(st.text(max_size=8), _json_values, max_size=5),
    before=st.sampled_from(["", " ", "\n"]),
    after=st.text(alphabet=" \t\r\n\x0b\x0cx}", max_size=3),
    indent=st.sampled_from([None, 2]),
    encoding=st.sampled_from(["utf-8", "utf-16", "utf-8-sig"]),
)
def test_decode_reply_agrees_with_json_loads(value: dict[str, Any], before: str, after: str, indent: int | None, encoding: str) -> None:
    body = (before + json.dumps(value, indent=indent, ensure_ascii=False) + after).encode(encoding, "surrogatepass")
    assert _loads_outcome(decode_reply, body) == _loads_outcome(json.loads, body)


@given(st.binary(max_size=40))
def test_decode_reply_agrees_with_json_loads_on_any_bytes(body: bytes) -> None:
    assert _loads_outcome(decode_reply, b"{" + body) == _loads_outcome(json.loads, b"{" + body)


@pytest.mark.parametrize("where", ["delta", "choice"])
def test_a_chunk_nested_too_deeply_to_add_up_is_a_stream_error(where: str) -> None:
    """json reads a value 600 deep, but copying it into the reply would overflow Python's stack."""
    deep = json.loads("[" * 600 + "]" * 600)
    part = {"index": 0, "delta": {"content": "hi", "x": deep}} if where == "delta" else {"index": 0, "x": deep}
    assembler = StreamAssembler()
    with pytest.raises(StreamError, match=r"a chunk's choices\[0\](\.delta)? is nested too deeply to add up") as info:
        assembler.add({"id": "c", "choices": [part]})
    assert info.value.completion_chunks == assembler.chunks and len(assembler.chunks) == 1


@pytest.mark.parametrize("where", ["delta", "choice"])
def test_a_tool_calls_field_that_is_not_a_list_is_kept_as_sent(where: str) -> None:
    """tool_calls is merged by index when it is a list; any other value is kept as it came, as the SDK's
    accumulate_delta keeps a first value (a hypothesis run found False raising TypeError in the merge)."""
    choice: dict[str, Any] = {"index": 0, "delta": {"content": "Hi"}}
    (choice["delta"] if where == "delta" else choice)["tool_calls"] = False
    assembler = StreamAssembler()
    assert assembler.add({"id": "c", "choices": [choice]}) == "Hi"
    completion = assembler.completion()
    kept = completion.choices[0].message.raw if where == "delta" else completion.choices[0].raw
    assert completion.text == "Hi" and kept["tool_calls"] is False and completion.choices[0].message.tool_calls == []


@pytest.mark.parametrize("error", [None, False, {}, "", 0])
def test_a_chunk_whose_error_field_is_empty_is_added_as_the_sdk_adds_it(error: object) -> None:
    """The SDK raises only when data.get("error") is truthy (openai-python 3.57.0, _streaming.py)."""
    assembler = StreamAssembler()
    assert assembler.add({"id": "c", "error": error, "choices": [{"index": 0, "delta": {"content": "Hi"}}]}) == "Hi"
    assert assembler.completion().text == "Hi"


def test_a_chunk_with_an_error_is_an_api_error() -> None:
    with pytest.raises(APIError, match="overloaded"):
        StreamAssembler().add({"error": {"message": "overloaded", "type": "server_error"}})
