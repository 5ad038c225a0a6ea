"""Streamed replies end to end: frames -> SSE events -> chunks -> deltas, live."""

from __future__ import annotations

import json
import threading

import pytest
from rawserver import SSE_HEAD, RawServer, chunked

import wire
from wire.client import Client
from wire.fake import FakeServer
from wire.show import answer_view
from wire.transport import Timeouts

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"
PROMPT = "Tell me a fun fact about HTTP."


def client_for(url: str, **kw: object) -> Client:
    return Client(base_url=url, api_key=KEY, timeout=5, max_retries=0, **kw)  # type: ignore[arg-type]


def chunk(content: str | None = None, finish: str | None = None, **extra: object) -> bytes:
    delta = {} if content is None else {"content": content}
    obj = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def test_streamed_reply_equals_the_non_streamed_one() -> None:
    with FakeServer() as server:
        plain = client_for(server.base_url).chat(PROMPT)
        stream = client_for(server.base_url).stream(PROMPT, stream_options={"include_usage": True})
        deltas = list(stream)
    exchange = stream.exchange
    assert exchange.completion is not None and plain.completion is not None
    assert "".join(deltas) == plain.completion.text
    assert exchange.completion.choices == plain.completion.choices
    assert exchange.completion.usage == plain.completion.usage
    assert exchange.request.header("Accept") == "text/event-stream"
    assert json.loads(exchange.request.body)["stream"] is True
    assert exchange.sse_events[-1].data == "[DONE]"
    assert len(exchange.completion_chunks) == len(exchange.sse_events) - 1
    assert exchange.completion_chunks[-1]["choices"] == [] and exchange.completion_chunks[-1]["usage"]["total_tokens"] > 0


def test_chat_with_stream_true_returns_the_assembled_exchange() -> None:
    with FakeServer() as server:
        exchange = client_for(server.base_url).chat(PROMPT, stream=True)
        plain = client_for(server.base_url).chat(PROMPT)
    assert exchange.stream and exchange.completion is not None and plain.completion is not None
    assert exchange.completion.text == plain.completion.text


@pytest.mark.parametrize(
    "fields",
    [
        {"events_per_frame": 3},
        {"split_events": True},
        {"crlf": True},
        {"keepalive_comments": True},
        {"write_size": 1},
    ],
    ids=["several-per-frame", "split-across-frames", "crlf", "comments", "one-byte-writes"],
)
def test_every_framing_of_events_gives_the_same_text(fields: dict[str, object]) -> None:
    with FakeServer() as reference:
        expected = client_for(reference.base_url).chat(PROMPT).completion
    with FakeServer(**fields) as server:
        stream = client_for(server.base_url).stream(PROMPT)
        text = stream.read()
    assert expected is not None and text == expected.text
    decoder = stream.exchange.sse_decoder
    assert decoder is not None
    if fields.get("keepalive_comments"):
        assert decoder.comments and decoder.comments[0].text == "keep-alive"
        assert stream.exchange.sse_comments == decoder.comments


def test_deltas_are_yielded_before_the_server_sends_more() -> None:
    """The server sends the first content event, then waits on a gate that only the first yield opens.

    A client that buffers the reply would hold its first delta until the gate
    timed out and the rest, [DONE] included, had come: both are checked.
    """
    gate = threading.Event()
    with FakeServer(gate=gate, gate_timeout=3.0) as server:
        stream = client_for(server.base_url).stream(PROMPT)
        it = iter(stream)
        first = next(it)
        seen_at_first_delta = [e.data for e in stream.exchange.sse_events]
        gate.set()
        rest = "".join(it)
        gate_timeouts = server.gate_timeouts
    assert "[DONE]" not in seen_at_first_delta, "the first delta came only after the whole stream"
    assert gate_timeouts == 0, "the first delta arrived only after the server's gate had timed out"
    assert first and (first + rest) == stream.exchange.text
    assert stream.exchange.sse_events[-1].data == "[DONE]"


def test_the_fake_server_counts_a_gate_that_timed_out() -> None:
    with FakeServer(gate=threading.Event(), gate_timeout=0.05) as server:
        text = client_for(server.base_url).stream(PROMPT).read()
        assert text and server.gate_timeouts == 1


def test_tool_call_deltas_are_joined() -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    with FakeServer() as server:
        plain = client_for(server.base_url).chat(PROMPT, tools=tools)
        streamed = client_for(server.base_url).chat(PROMPT, tools=tools, stream=True)
    assert plain.completion is not None and streamed.completion is not None
    call = streamed.completion.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert call == plain.completion.choices[0].message.tool_calls[0]
    assert streamed.completion.choices[0].finish_reason == "tool_calls"


def test_mid_stream_error_event_is_api_error_keeping_what_came() -> None:
    with FakeServer(stream_error=True) as server:
        stream = client_for(server.base_url).stream(PROMPT)
        got: list[str] = []
        with pytest.raises(wire.APIError) as info:
            for delta in stream:
                got.append(delta)
    assert len(got) == 2
    exchange = info.value.exchange
    assert exchange is stream.exchange and len(exchange.completion_chunks) >= 3
    err = info.value
    # The HTTP status was 200; the error came as an event in the stream, so the error has no status of its
    # own (as the openai SDK's Stream raises a plain APIError with no status_code for it).
    assert err.status is None and str(err).startswith("Error: The server had an error")
    assert (err.type, err.param, err.code) == ("server_error", None, None)
    assert exchange.response_bytes.startswith(b"HTTP/1.1 200 OK\r\n")


def test_non_json_data_is_stream_error_with_events_so_far() -> None:
    body = chunked(chunk("Hi"), b"data: {not json\n\n", b"data: [DONE]\n\n")
    with RawServer(SSE_HEAD + body) as server:
        stream = client_for(server.base_url).stream(PROMPT)
        with pytest.raises(wire.StreamError) as info:
            list(stream)
    err = info.value
    assert [e.data for e in err.sse_events][-1] == "{not json"
    assert err.completion_chunks[0]["choices"][0]["delta"] == {"content": "Hi"}
    assert err.exchange is stream.exchange
    # The offset counts event-stream bytes, where the faulty event begins; the message quotes that event,
    # not the reply's bytes at that offset (which would be its head).
    events = b"".join(e.raw for e in err.sse_events)
    assert err.offset == len(chunk("Hi")) and err.event == b"data: {not json\n\n" == events[err.offset :]
    assert str(err).endswith(
        f"at byte {err.offset} of the event stream (Chat Completions stream format); the event: b'data: {{not json\\n\\n'"
    ), str(err)


def test_a_chunk_nested_too_deeply_to_add_up_is_a_stream_error_at_its_offset() -> None:
    deep = b'data: {"choices":[{"index":0,"delta":{"x":' + b"[" * 600 + b"]" * 600 + b"}}]}\n\n"
    body = chunked(chunk("Hi"), deep, b"data: [DONE]\n\n")
    with RawServer(SSE_HEAD + body) as server:
        stream = client_for(server.base_url).stream(PROMPT)
        with pytest.raises(wire.StreamError, match=r"choices\[0\]\.delta is nested too deeply") as info:
            list(stream)
    err = info.value
    assert err.offset == len(chunk("Hi")) and err.exchange is stream.exchange
    assert err.completion_chunks[0]["choices"][0]["delta"] == {"content": "Hi"}


def test_chunk_without_choices_is_stream_error() -> None:
    body = chunked(b'data: {"id":"c1","object":"chat.completion.chunk"}\n\n', b"data: [DONE]\n\n")
    with RawServer(SSE_HEAD + body) as server:
        with pytest.raises(wire.StreamError, match="choices"):
            client_for(server.base_url).chat(PROMPT, stream=True)


def test_a_stream_that_ends_properly_without_done_gives_its_completion() -> None:
    """[DONE] is OpenAI's end mark, not SSE's: the SDK's Stream ends quietly where the body ends, so does wire."""
    body = chunked(chunk("Hi"), chunk(None, "stop"))
    with RawServer(SSE_HEAD + body) as server:
        exchange = client_for(server.base_url).chat(PROMPT, stream=True)
    assert exchange.completion is not None and exchange.completion.text == "Hi"
    assert exchange.completion.choices[0].finish_reason == "stop"
    assert exchange.done_received is False and len(exchange.sse_events) == 2
    assert "(the stream ended without 'data: [DONE]', OpenAI's end mark; the body itself ended properly)" in (
        answer_view(exchange)
    )


def test_a_stream_with_done_says_nothing_about_it() -> None:
    body = chunked(chunk("Hi"), chunk(None, "stop"), b"data: [DONE]\n\n")
    with RawServer(SSE_HEAD + body) as server:
        exchange = client_for(server.base_url).chat(PROMPT, stream=True)
    assert exchange.done_received is True and "[DONE]" not in answer_view(exchange)


def test_a_stream_with_no_chunk_and_no_done_is_stream_error() -> None:
    body = chunked(b": keep-alive\n\n")
    with RawServer(SSE_HEAD + body) as server:
        with pytest.raises(wire.StreamError, match=r"the stream ended without 'data: \[DONE\]'") as info:
            client_for(server.base_url).chat(PROMPT, stream=True)
    assert info.value.sse_events == [] and info.value.exchange.response.status == 200


def test_stream_cut_mid_chunk_is_incomplete_message() -> None:
    with RawServer(SSE_HEAD + b"40\r\n" + chunk("Hi")[:20]) as server:
        with pytest.raises(wire.IncompleteMessage) as info:
            client_for(server.base_url).chat(PROMPT, stream=True)
    assert info.value.partial.startswith(SSE_HEAD)


def test_error_status_on_a_stream_request_is_api_error_with_the_body() -> None:
    with FakeServer(status=429, retry_after="0") as server:
        with pytest.raises(wire.APIError) as info:
            list(client_for(server.base_url).stream(PROMPT))
    assert info.value.status == 429 and info.value.code == "rate_limit_exceeded"


def test_only_keepalive_comments_hit_the_idle_limit() -> None:
    """Comments every 20 ms keep the socket busy for 3 s; with no event for 1 s the read limit ends the stream."""
    comment = b": keep-alive\n\n"
    frame = b"%x\r\n%s\r\n" % (len(comment), comment)
    first = chunk("Hi")
    steps: list[bytes | threading.Event | float] = [SSE_HEAD, b"%x\r\n%s\r\n" % (len(first), first)]
    for _ in range(150):
        steps += [0.02, frame]
    with RawServer(*steps) as server:
        client = Client(base_url=server.base_url, api_key=KEY, timeout=Timeouts(read=1.0), max_retries=0)
        stream = client.stream(PROMPT)
        with pytest.raises(wire.Timeout) as info:
            list(stream)
    assert info.value.phase == "read" and "keep-alive comment" in str(info.value)
    assert stream.exchange.text == "" and stream.exchange.completion_chunks[0]["choices"][0]["delta"] == {"content": "Hi"}
    assert stream.exchange.sse_decoder is not None and len(stream.exchange.sse_decoder.comments) >= 20
