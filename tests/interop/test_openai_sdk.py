"""The official openai SDK as a client of wire's FakeServer: proof the fake is faithful to the real service.

What the fake *meant* to send is what wire's own client reads from the same
fake for the same request; the SDK's parsed objects must equal it field for
field (``model_dump(exclude_unset=True)`` keeps exactly the fields the JSON had).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

import wire
from wire.client import Client
from wire.fake import DEMO_CA_FILE, FakeServer

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"
MODEL = "gpt-4o-mini"
MESSAGES: list[dict[str, Any]] = [{"role": "user", "content": "Tell me a fun fact about HTTP."}]
TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


@pytest.fixture(params=["plain", "tls"])
def server(request: pytest.FixtureRequest) -> Iterator[FakeServer]:
    with FakeServer(tls=request.param == "tls") as fake:
        yield fake


def sdk(server: FakeServer) -> openai.OpenAI:
    context = ssl.create_default_context(cafile=DEMO_CA_FILE)
    http = httpx.Client(verify=context, timeout=5.0)
    return openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0, http_client=http)


def wire_client(server: FakeServer) -> Client:
    return Client(base_url=server.base_url, api_key=KEY, ca_file=DEMO_CA_FILE, timeout=5, max_retries=0)


def test_non_streamed_completion_equals_what_the_fake_sent(server: FakeServer) -> None:
    meant = wire_client(server).chat(MESSAGES, model=MODEL).json
    with sdk(server) as client:
        completion = client.chat.completions.create(model=MODEL, messages=MESSAGES)  # type: ignore[arg-type]
    assert completion.model_dump(exclude_unset=True) == meant
    assert completion.choices[0].message.content == meant["choices"][0]["message"]["content"] != ""
    assert completion.usage is not None and completion.usage.total_tokens == meant["usage"]["total_tokens"]
    requests = server.requests
    assert requests[0].json == requests[1].json  # both clients asked the same thing


def test_streamed_chunks_and_usage_equal_what_the_fake_sent(server: FakeServer) -> None:
    stream_options = {"include_usage": True}
    wire_stream = wire_client(server).stream(MESSAGES, model=MODEL, stream_options=stream_options)
    wire_text = "".join(wire_stream)
    meant = wire_stream.exchange.completion_chunks
    with sdk(server) as client:
        chunks = list(
            client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True, stream_options=stream_options)  # type: ignore[call-overload]
        )
    assert [c.model_dump(exclude_unset=True) for c in chunks] == meant
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == wire_text != ""
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.model_dump(exclude_unset=True) == meant[-1]["usage"]


def test_tool_call_non_streamed_and_streamed(server: FakeServer) -> None:
    meant = wire_client(server).chat(MESSAGES, model=MODEL, tools=TOOLS).json
    # stream_options=None: no usage chunk, as the SDK asks below (wire's stream() asks for usage by default).
    wire_stream = wire_client(server).stream(MESSAGES, model=MODEL, tools=TOOLS, stream_options=None)
    list(wire_stream)
    with sdk(server) as client:
        completion = client.chat.completions.create(model=MODEL, messages=MESSAGES, tools=TOOLS)  # type: ignore[arg-type]
        chunks = list(client.chat.completions.create(model=MODEL, messages=MESSAGES, tools=TOOLS, stream=True))  # type: ignore[call-overload]
    assert completion.model_dump(exclude_unset=True) == meant
    call = completion.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert completion.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert [c.model_dump(exclude_unset=True) for c in chunks] == wire_stream.exchange.completion_chunks
    arguments = "".join(
        c.choices[0].delta.tool_calls[0].function.arguments or ""  # type: ignore[index, union-attr]
        for c in chunks
        if c.choices and c.choices[0].delta.tool_calls
    )
    assert arguments == call.function.arguments  # type: ignore[union-attr]


@pytest.mark.parametrize(("status", "sdk_error"), [(401, openai.AuthenticationError), (429, openai.RateLimitError)])
def test_errors_map_to_the_sdk_exceptions(status: int, sdk_error: type[openai.APIStatusError]) -> None:
    with FakeServer(status=status) as server:
        with pytest.raises(wire.APIError) as wire_info:
            wire_client(server).chat(MESSAGES, model=MODEL)
        with sdk(server) as client, pytest.raises(sdk_error) as sdk_info:
            client.chat.completions.create(model=MODEL, messages=MESSAGES)  # type: ignore[arg-type]
    ours, theirs = wire_info.value, sdk_info.value
    assert theirs.status_code == ours.status == status
    assert theirs.message == f"Error code: {status} - {ours.message}"
    assert theirs.body == {"message": ours.message, "type": ours.type, "param": ours.param, "code": ours.code}
    assert theirs.code == ours.code and theirs.type == ours.type
    assert theirs.request_id is not None and theirs.request_id.startswith("req_")
