"""Issue 14: the fake server's tool-call round trip, in the official SDK's shapes.

A request with ``tools`` gets a ``tool_calls`` reply; the next request carries the assistant's
``tool_calls`` message and a ``tool`` message with the result, and gets a text answer quoting
the result. ``Scenario(tool_call=NAME)`` asks for a call whatever the request says.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from wire.client import Client
from wire.fake import FakeServer, Scenario
from wire.fake.replies import TOOL_QUOTE_CHARS

openai = pytest.importorskip("openai")

from openai.types.chat import ChatCompletion, ChatCompletionChunk  # noqa: E402
from openai.types.chat.chat_completion_chunk import ChoiceDeltaToolCall  # noqa: E402
from openai.types.chat.chat_completion_message_function_tool_call import (  # noqa: E402
    ChatCompletionMessageFunctionToolCall,
)

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyzQRST"
TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "The time in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]
QUESTION = [{"role": "user", "content": "What time is it in Paris?"}]
RESULT = '{"city": "Paris", "time": "14:05"}'


def client(server: FakeServer) -> Client:
    return Client(base_url=server.base_url, api_key=KEY, timeout=10, max_retries=0)


def round_trip(server: FakeServer, *, stream: bool) -> tuple[Any, Any]:
    """Ask with tools, answer the call with RESULT; return both exchanges."""
    c = client(server)
    first = c.chat(QUESTION, tools=TOOLS, stream=stream)
    (call,) = first.completion.choices[0].message.tool_calls
    assistant = {
        "role": "assistant",
        "content": None,
        "tool_calls": [first.completion.choices[0].message.raw["tool_calls"][0]],
    }
    tool = {"role": "tool", "tool_call_id": call.id, "content": RESULT}
    second = c.chat([*QUESTION, assistant, tool], tools=TOOLS, stream=stream)
    c.close()
    return first, second


def test_tool_call_reply_in_the_sdk_shape_then_an_answer_from_the_tool_message() -> None:
    with FakeServer() as server:
        first, second = round_trip(server, stream=False)
    sdk_first = ChatCompletion.model_validate(first.json)
    choice = sdk_first.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    (call,) = choice.message.tool_calls or []
    assert isinstance(call, ChatCompletionMessageFunctionToolCall)
    assert call.type == "function" and call.id.startswith("call_") and len(call.id) == len("call_") + 24
    assert call.function.name == "get_time"
    assert json.loads(call.function.arguments) == {"city": "What time is it in Paris?"}
    sdk_second = ChatCompletion.model_validate(second.json)
    assert sdk_second.choices[0].finish_reason == "stop" and sdk_second.choices[0].message.tool_calls is None
    assert sdk_second.choices[0].message.content == f"The tool get_time answered: {RESULT}"
    # the second request carried the call and its result, after the question
    sent = server.requests[1].json
    assert sent is not None
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "tool"]
    assert sent["messages"][2]["tool_call_id"] == call.id


def test_streamed_tool_call_in_the_sdk_shape_then_a_streamed_answer() -> None:
    with FakeServer() as server:
        first, second = round_trip(server, stream=True)
    chunks = [ChatCompletionChunk.model_validate(c) for c in first.completion_chunks]
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    pieces = [d.tool_calls[0] for d in deltas if d.tool_calls]
    assert all(isinstance(p, ChoiceDeltaToolCall) and p.index == 0 for p in pieces) and len(pieces) > 2
    assert pieces[0].id == first.completion.choices[0].message.tool_calls[0].id and pieces[0].type == "function"
    assert pieces[0].function is not None and pieces[0].function.name == "get_time"
    assert all(p.id is None and p.type is None for p in pieces[1:])  # only the first piece names the call
    arguments = "".join(p.function.arguments or "" for p in pieces if p.function is not None)
    assert json.loads(arguments) == {"city": "What time is it in Paris?"}
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert second.text == f"The tool get_time answered: {RESULT}"
    assert second.completion.choices[0].finish_reason == "stop"
    answer = [ChatCompletionChunk.model_validate(c) for c in second.completion_chunks]
    text = "".join(c.choices[0].delta.content or "" for c in answer if c.choices)
    assert text == second.text and all(not c.choices or c.choices[0].delta.tool_calls is None for c in answer)


def test_the_answer_is_the_same_streamed_or_not_and_quotes_at_most_the_limit() -> None:
    long_result = "x" * (TOOL_QUOTE_CHARS + 50)
    messages = [*QUESTION, {"role": "tool", "tool_call_id": "call_unknown", "content": long_result}]
    with FakeServer() as server:
        plain = client(server).chat(messages, tools=TOOLS).text
        streamed = client(server).chat(messages, tools=TOOLS, stream=True).text
    assert plain == streamed == "The tool the tool answered: " + "x" * TOOL_QUOTE_CHARS + "…"


def test_tool_choice_none_and_no_tools_answer_with_text() -> None:
    with FakeServer() as server:
        none = client(server).chat(QUESTION, tools=TOOLS, tool_choice="none")
        plain = client(server).chat(QUESTION)
    assert none.completion.choices[0].finish_reason == plain.completion.choices[0].finish_reason == "stop"
    assert none.completion.choices[0].message.tool_calls == []


def test_scenario_tool_call_asks_for_a_call_whatever_the_request_says() -> None:
    with FakeServer(tool_call="lookup") as server:
        bare = client(server).chat(QUESTION)  # no tools at all
        declared = client(server).chat(QUESTION, tools=TOOLS + [_tool("lookup", {"n": {"type": "integer"}})])
        after_result = client(server).chat([*QUESTION, {"role": "tool", "tool_call_id": "c", "content": "1"}])
        streamed = client(server).chat(QUESTION, stream=True)
    for exchange in (bare, declared, after_result, streamed):
        (call,) = exchange.completion.choices[0].message.tool_calls
        assert call.name == "lookup" and exchange.completion.choices[0].finish_reason == "tool_calls"
    assert bare.completion.choices[0].message.tool_calls[0].input == "{}"
    assert declared.completion.choices[0].message.tool_calls[0].input == '{"n":1}'
    ChatCompletion.model_validate(bare.json)


def _tool(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": {"type": "object", "properties": properties}}}


def test_scenario_tool_call_is_checked_as_a_scenario_field() -> None:
    assert Scenario(tool_call="x").tool_call == "x"
    assert Scenario().tool_call is None


def test_the_sdk_itself_makes_the_round_trip() -> None:
    """The openai client asks, reads the call, sends the tool message built from its own types, reads the answer."""
    httpx = pytest.importorskip("httpx")
    with FakeServer() as server, httpx.Client(timeout=5.0) as http:
        sdk = openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0, http_client=http)
        first = sdk.chat.completions.create(model="gpt-4o-mini", messages=QUESTION, tools=TOOLS)  # type: ignore[arg-type]
        message = first.choices[0].message
        (call,) = message.tool_calls or []
        assert isinstance(call, ChatCompletionMessageFunctionToolCall) and call.function.name == "get_time"
        history = [*QUESTION, message.model_dump(exclude_unset=True),
                   {"role": "tool", "tool_call_id": call.id, "content": RESULT}]
        second = sdk.chat.completions.create(model="gpt-4o-mini", messages=history, tools=TOOLS)  # type: ignore[arg-type]
    assert second.choices[0].message.content == f"The tool get_time answered: {RESULT}"
    assert second.choices[0].finish_reason == "stop"
    assert server.requests[1].json is not None
    assert server.requests[1].json["messages"][1]["tool_calls"][0]["id"] == call.id
