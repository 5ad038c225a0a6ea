"""What makes a call cheap must not change what it shows (issue 17).

The typed ChatCompletion is read from the JSON on first use; the trace keeps
each step as reported and makes it a redacted TraceEvent when read; a small
request goes out in one send. Each test pins the behaviour a user sees.
"""

from __future__ import annotations

import json

import pytest
from rawserver import RawServer

from wire.chat import ChatCompletion
from wire.client import Client
from wire.errors import ProtocolError
from wire.fake import FakeServer
from wire.trace import TraceEvent, Tracer

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"


def json_reply(body: dict[str, object]) -> bytes:
    data = json.dumps(body).encode()
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(data)
    return head + data


def test_the_completion_is_built_on_first_use_and_kept() -> None:
    with FakeServer() as server, Client(base_url=server.base_url, api_key=KEY) as client:
        exchange = client.chat("Tell me a fun fact about HTTP.")
    assert exchange._completion is None  # nobody asked yet
    assert exchange.text == exchange.json["choices"][0]["message"]["content"] != ""
    assert exchange._completion is None  # the text of a plain reply is read from the JSON
    completion = exchange.completion
    assert isinstance(completion, ChatCompletion) and completion.raw is exchange.json
    assert exchange.completion is completion  # built once
    assert exchange.text == completion.text


def test_text_of_content_parts_goes_through_the_typed_views() -> None:
    parts = [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}]
    body = {
        "id": "c1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": parts}}],
    }
    with RawServer(json_reply(body)) as server:
        exchange = Client(base_url=server.base_url, api_key=KEY, max_retries=0).chat("hi")
    assert exchange.text == "Hello"


def test_a_reply_without_choices_still_fails_the_call() -> None:
    body = {"id": "c1", "object": "chat.completion"}
    with RawServer(json_reply(body)) as server:
        with pytest.raises(ProtocolError, match=r"^reply JSON: the reply has no 'choices'") as info:
            Client(base_url=server.base_url, api_key=KEY, max_retries=0).chat("hi")
    assert info.value.exchange is not None and info.value.exchange.json == body


def test_the_trace_is_the_same_with_and_without_a_callback() -> None:
    seen: list[TraceEvent] = []
    with FakeServer() as server:
        with Client(base_url=server.base_url, api_key=KEY, on_trace=seen.append) as live:
            traced = live.chat("Tell me a fun fact about HTTP.")
        with Client(base_url=server.base_url, api_key=KEY) as quiet:
            untraced = quiet.chat("Tell me a fun fact about HTTP.")
    assert seen == traced.trace
    assert [(e.name, e.step) for e in untraced.trace] == [(e.name, e.step) for e in traced.trace]
    done = [e.info for e in untraced.trace if e.name == "chat.completion"]
    assert done == [{"text": untraced.text[:60], "tokens": untraced.completion.usage.total_tokens}]  # type: ignore[union-attr]
    first, again = untraced.trace, untraced.trace
    assert len(first) == len(again) and all(a is b for a, b in zip(first, again, strict=True))  # made once, kept


def test_a_deferred_step_is_redacted_with_the_secrets_known_when_read() -> None:
    tracer = Tracer()
    tracer.record("http11.field", "complete", {"name": "x-echo", "value": f"you sent {KEY}"})
    tracer.record("chat.completion", "complete", lambda tracer: {"text": KEY})
    from wire.secrets import Secret

    tracer.secrets = [Secret.key(KEY)]
    shown = [e.info for e in tracer.events]
    assert shown == [{"name": "x-echo", "value": "you sent sk-…wxyz"}, {"text": "sk-…wxyz"}]
    assert KEY not in repr(tracer.events)


def test_a_long_text_is_assembled_from_its_pieces_and_a_list_after_it_is_still_an_error() -> None:
    from wire.chat import StreamAssembler
    from wire.errors import StreamError

    def chunk(delta: dict[str, object]) -> dict[str, object]:
        return {"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}]}

    assembler = StreamAssembler()
    pieces = [f"{i} " for i in range(2000)]  # several blocks of joined pieces, then the latest ones
    for piece in pieces:
        assembler.add(chunk({"content": piece}))
    assert assembler.completion().text == "".join(pieces)
    # Every _Text.BLOCK (512) chunks the pieces so far are joined into one block: three blocks, then the
    # 464 pieces of chunks 1537 to 2000. Without the joins, 2,000 str objects of their own.
    text = assembler._choices[0]["message"]["content"]
    assert (text.blocks, len(text)) == (3, 3 + 2000 - 3 * 512)
    assert text[:3] == ["".join(pieces[i * 512 : (i + 1) * 512]) for i in range(3)]
    with pytest.raises(StreamError, match=r"choices\[0\]\.delta\.content is a list after a str"):
        assembler.add(chunk({"content": ["x"]}))


@pytest.mark.parametrize("stream", [False, True])
def test_an_exchange_is_freed_when_dropped_without_the_garbage_collector(stream: bool) -> None:
    """No reference cycle (a trace step holding its exchange, say): a call's records go when it does."""
    import gc
    import weakref

    with FakeServer() as server, Client(base_url=server.base_url, api_key=KEY) as client:
        client.chat("warm up", stream=stream)  # a first call opens the connection that later ones reuse
        gc.collect()
        gc.disable()
        try:
            exchange = client.chat("Tell me a fun fact about HTTP.", stream=stream)
            assert exchange.text
            gone = weakref.ref(exchange)
            tracer = weakref.ref(exchange.tracer)
            del exchange
            assert gone() is None and tracer() is None
        finally:
            gc.enable()


@pytest.mark.parametrize("live", [False, True])
def test_a_stream_event_step_is_redacted_in_its_type_and_its_data(live: bool) -> None:
    """A server can echo the key in an event's type as well as in its data: the sse.event step shows neither."""
    from wire.secrets import Secret
    from wire.sse import ServerSentEvent

    seen: list[TraceEvent] = []
    tracer = Tracer(seen.append if live else None, secrets=[Secret.key(KEY)])
    tracer.stream_event(ServerSentEvent(event=f"echo {KEY}", data=f'{{"key": "{KEY}"}}', offset=7), "")
    steps = [(e.name, e.info) for e in tracer.events]
    assert steps == [
        ("sse.event", {"event": "echo sk-…wxyz", "data": '{"key": "sk-…wxyz"}', "offset": 7}),
        ("chat.chunk", {"delta": ""}),
    ]
    assert KEY not in repr(tracer.events) and (not live or seen == tracer.events)
