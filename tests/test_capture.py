"""The byte capture is bounded: a long reply flows through, the records stop at the limit."""

from __future__ import annotations

import json

import pytest
from rawserver import RawServer

import wire.capture
import wire.http11
import wire.show
import wire.trace
import wire.transport
from wire.client import Client
from wire.show import exchange_view

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"


def test_long_reply_is_read_whole_but_captured_only_up_to_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire.transport, "MAX_CAPTURE_BYTES", 64 * 1024)
    body = json.dumps(
        {
            "id": "c",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "pad": "x" * 300_000,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        }
    ).encode()
    reply = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
    with RawServer(reply) as server:
        exchange = Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=0).chat("Hi")
    assert exchange.response is not None and exchange.response.body == body
    assert exchange.completion is not None and exchange.completion.text == "hi"
    # The request and the reply have a budget each: the request is kept whole, the reply up to 64 KiB.
    assert [r.direction for r in exchange.records][0] == "out"
    assert b"".join(r.data for r in exchange.records if r.direction == "out") == exchange.request_bytes
    assert sum(len(r.data) for r in exchange.records if r.direction == "in") == 64 * 1024
    assert exchange.capture_truncated
    assert exchange.response_bytes == reply[: 64 * 1024]
    assert "the byte capture stopped" in exchange_view(exchange, layers=["answer"])


def test_a_normal_call_is_captured_whole() -> None:
    reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"
    with RawServer(reply) as server:
        with pytest.raises(wire.ProtocolError) as info:  # {} is no chat completion, but every byte is kept
            Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=0).chat("Hi")
    exchange = info.value.exchange
    assert exchange.response_bytes == reply and not exchange.capture_truncated
    assert b"".join(r.data for r in exchange.records) == exchange.request_bytes + reply


# -- the capture setting (issue 17): full, bounded (the default), off ------------------------------


def stream_reply(n: int) -> tuple[bytes, str]:
    """A 200 event stream of ``n`` content chunks (one frame each) and [DONE]; and the text they carry."""
    frames = []
    for i in range(n):
        data = json.dumps(
            {
                "id": "c",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "m",
                "choices": [{"index": 0, "delta": {"content": f"w{i} "}, "finish_reason": None}],
            }
        )
        event = b"data: " + data.encode() + b"\n\n"
        frames.append(b"%x\r\n%s\r\n" % (len(event), event))
    done = b"data: [DONE]\n\n"
    frames.append(b"%x\r\n%s\r\n0\r\n\r\n" % (len(done), done))
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    return head + b"".join(frames), "".join(f"w{i} " for i in range(n))


def streamed(reply: bytes, capture: str | None = None) -> tuple[wire.Exchange, str]:
    kw = {} if capture is None else {"capture": capture}
    with RawServer(reply) as server:
        client = Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=0, **kw)  # type: ignore[arg-type]
        stream = client.stream("Hi")
        text = "".join(stream)
    return stream.exchange, text


def test_kept_keeps_the_first_and_the_latest_items_and_counts_the_rest() -> None:
    kept = wire.capture.Kept(first=3, last=2)
    for i in range(7):
        kept.append(i)
    assert kept == [0, 1, 2, 3, 4, 5, 6] and kept.dropped == 0  # first + 2 * last: nothing cut yet
    kept.append(7)
    assert kept == [0, 1, 2, 3, 4, 5, 6, 7] and kept.dropped == 0  # append never cuts: trim() does
    kept.trim()
    assert kept == [0, 1, 2, 6, 7] and kept.dropped == 3  # cut back to the first 3 and the last 2
    kept.trim()
    assert kept == [0, 1, 2, 6, 7] and kept.dropped == 3  # not too many: nothing to cut
    kept += [8, 9, 10]
    assert kept == [0, 1, 2, 9, 10] and kept.dropped == 6
    everything = wire.capture.Kept(range(5))
    assert everything == [0, 1, 2, 3, 4] and everything.dropped == 0
    nothing = wire.capture.Kept(range(5), first=0, last=0)
    assert nothing == [] and nothing.dropped == 5


def test_bounded_is_the_default_and_keeps_the_first_and_last_of_each_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire.capture, "KEEP_FIRST", 3)
    monkeypatch.setattr(wire.capture, "KEEP_LAST", 2)
    reply, text = stream_reply(20)
    exchange, deltas = streamed(reply)
    assert exchange.capture == "bounded"
    assert deltas == text and exchange.text == text  # the answer is whole: only what is kept changes
    # 21 events (20 chunks and [DONE]): the first 3 and the latest ones. The lists are cut back to
    # the latest 2 once per read when they hold more than 3 + 2 * 2; the 2.4 KB reply comes in one
    # read or a few, so the latest ones are at least the last 2 and at most the last 4 + one read's.
    events = exchange.sse_events
    names = [e.data if e.data == "[DONE]" else json.loads(e.data)["choices"][0]["delta"]["content"] for e in events]
    every = [f"w{i} " for i in range(20)] + ["[DONE]"]
    latest = len(events) - 3
    assert names[:3] == every[:3] and 2 <= latest and names[3:] == every[-latest:]
    assert events.dropped == 21 - len(events) > 0  # type: ignore[attr-defined]
    contents = [c["choices"][0]["delta"]["content"] for c in exchange.completion_chunks]
    chunks_dropped = exchange.completion_chunks.dropped  # type: ignore[attr-defined]
    assert contents[:3] == every[:3] and contents[3:] == every[3 + chunks_dropped : 20] and chunks_dropped > 0
    assert 5 <= len(exchange.events) <= 7 and exchange.events.dropped > 0  # type: ignore[attr-defined]
    assert 5 <= len(exchange.trace) <= 7 and exchange.tracer.dropped > 0
    # The body fits the byte budget: kept whole, with its frames, as the parser would have kept it.
    assert exchange.response is not None and exchange.response.raw == reply and exchange.body_dropped == 0
    assert len(exchange.response.frames) == 22 and exchange.response_bytes == reply
    shown = wire.show.exchange_view(exchange, layers=["answer"])
    assert f"{events.dropped} server-sent events were not kept: the first 3 and the last {latest} were" in shown  # type: ignore[attr-defined]
    assert f"{chunks_dropped} completion chunks were not kept" in shown and "capture='bounded'" in shown
    chunks = wire.show.completion_chunks_view(exchange)
    assert f"... {chunks_dropped} chunks not kept (capture='bounded')" in chunks and "   19  delta=" in chunks


def test_full_keeps_everything() -> None:
    reply, text = stream_reply(1500)
    exchange, deltas = streamed(reply, "full")
    assert deltas == text and len(exchange.sse_events) == 1501 and len(exchange.completion_chunks) == 1500
    assert exchange.response is not None and exchange.response.body.count(b"data: ") == 1501
    assert "not kept" not in wire.show.exchange_view(exchange, layers=["answer"])


def test_bounded_drops_a_long_streamed_body_past_the_reply_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire.transport, "MAX_CAPTURE_BYTES", 16 * 1024)
    reply, text = stream_reply(1500)
    exchange, deltas = streamed(reply)
    assert deltas == text and exchange.text == text
    assert exchange.response is not None and exchange.response.body == b"" and exchange.response.frames == []
    assert exchange.response_bytes == reply[: 16 * 1024] and exchange.capture_truncated
    # None of the body is kept, and all of it is counted: its bytes without the chunk framing.
    assert exchange.body_dropped == len(wire.http11.parse_response(reply).body)
    events = exchange.sse_events  # 1,501 events, of which the list keeps the first and the latest
    assert len(events) + events.dropped == 1501 and events[-1].data == "[DONE]"  # type: ignore[attr-defined]
    assert "bytes of the streamed body were not kept" in wire.show.exchange_view(exchange, layers=["answer"])


def test_off_keeps_no_bytes_events_or_chunks() -> None:
    reply, text = stream_reply(30)
    exchange, deltas = streamed(reply, "off")
    assert deltas == text and exchange.text == text
    assert exchange.records == [] and exchange.response_bytes == b""
    assert [len(exchange.sse_events), len(exchange.completion_chunks), len(exchange.events)] == [0, 0, 0]
    assert exchange.sse_events.dropped == 31 and exchange.completion_chunks.dropped == 30  # type: ignore[attr-defined]
    assert exchange.response is not None and exchange.response.status == 200 and exchange.response.body == b""
    notes = wire.show.capture_notes(exchange)
    assert (
        notes[0]
        == "  the byte capture kept no bytes; the reply itself was read whole (the streamed body was not kept whole)"
    )
    assert notes[-1] == "  (capture='off'; Client(capture='full') keeps everything)"


def test_an_error_reply_keeps_its_body_whatever_the_capture() -> None:
    body = b'{"error": {"message": "slow down", "type": "rate_limit", "param": null, "code": null}}'
    reply = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )
    with RawServer(reply) as server:
        client = Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=0, capture="off")
        with pytest.raises(wire.APIError, match="slow down") as info:
            client.chat("Hi", stream=True)
    assert info.value.exchange.response.body == body


def test_a_big_request_leaves_the_reply_its_own_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 413 after a request larger than the budget: the request's bytes stop at it, the reply's are all kept."""
    monkeypatch.setattr(wire.transport, "MAX_CAPTURE_BYTES", 64 * 1024)
    error = b'{"error": {"message": "too large", "type": "invalid_request_error", "param": null, "code": null}}'
    reply = b"HTTP/1.1 413 Content Too Large\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (
        len(error),
        error,
    )
    with RawServer(reply) as server:
        client = Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=0)
        with pytest.raises(wire.APIError) as info:
            client.chat("x" * 200_000)
    exchange = info.value.exchange
    assert len(exchange.request_bytes) > 200_000 and exchange.capture_truncated
    assert b"".join(r.data for r in exchange.records if r.direction == "out") == exchange.request_bytes[: 64 * 1024]
    assert exchange.response_bytes == reply


def test_capture_must_be_one_of_three() -> None:
    with pytest.raises(ValueError, match="capture must be one of 'full', 'bounded', 'off', got 'some'"):
        Client(base_url="http://127.0.0.1:9/v1", api_key=KEY, capture="some")


@pytest.mark.parametrize("budget", [None, 300])
def test_a_stream_after_interim_replies_keeps_its_body_while_it_fits(
    monkeypatch: pytest.MonkeyPatch, budget: int | None
) -> None:
    """The body keeper reads the heads' events until the final reply's head ends: its status decides."""
    if budget is not None:
        monkeypatch.setattr(wire.transport, "MAX_CAPTURE_BYTES", budget)
    reply, text = stream_reply(5)
    interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
    exchange, deltas = streamed(interim + reply)
    response = exchange.response
    body = wire.http11.parse_response(reply).body
    assert deltas == text and response is not None and [r.status for r in response.informational] == [100, 103]
    if budget is None:  # it fits: kept whole, with its frames
        assert exchange.body_dropped == 0 and response.raw == interim + reply
        assert response.body == body and len(response.frames) == 7
    else:  # a 2xx body past the budget: none of it kept, all of it counted
        assert exchange.body_dropped == len(body) > budget and response.body == b"" and response.frames == []


def test_a_stream_traced_live_gives_the_steps_a_trace_read_later_gives() -> None:
    """One sse.event step per event, then a chat.chunk step with its delta: the same with on_trace or without."""
    reply, text = stream_reply(4)
    # As the API begins: a chunk with the role and an empty text (its chat.chunk step has delta "").
    role = b'data: {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}\n\n'
    head_end = reply.index(b"\r\n\r\n") + 4
    reply = reply[:head_end] + b"%x\r\n%s\r\n" % (len(role), role) + reply[head_end:]
    live: list[wire.trace.TraceEvent] = []
    with RawServer(reply) as server:
        client = Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=0, on_trace=live.append)
        "".join(client.stream("Hi"))
    exchange, _ = streamed(reply)

    def steps(events: list[wire.trace.TraceEvent], *names: str) -> list[tuple[str, dict[str, object]]]:
        return [(e.name, e.info) for e in events if e.name in names]

    # (A read's chunk frames are traced before its events: how they interleave depends on the reads.)
    later = steps(exchange.trace, "sse.event", "chat.chunk")
    assert steps(live, "sse.event", "chat.chunk") == later
    assert [name for name, _ in later] == ["sse.event", "chat.chunk"] * 5 + ["sse.event"]
    assert later[1] == ("chat.chunk", {"delta": ""})
    assert "".join(str(info["delta"]) for name, info in later if name == "chat.chunk") == text
    assert (
        steps(live, "http11.chunk") == steps(exchange.trace, "http11.chunk") and len(steps(live, "http11.chunk")) == 7
    )


@pytest.mark.parametrize("budget", [10_000, 300])
def test_the_body_keeper_reads_read_by_read(monkeypatch: pytest.MonkeyPatch, budget: int) -> None:
    """The final head and the body in reads of their own, after an interim reply: kept while it fits, else all counted."""
    from wire.stream import _BodyKeeper

    monkeypatch.setattr(wire.transport, "MAX_CAPTURE_BYTES", budget)
    reply, _ = stream_reply(5)
    interim = b"HTTP/1.1 100 Continue\r\n\r\n"
    head_end = reply.index(b"\r\n\r\n") + 4
    reads = [interim, reply[:head_end], *(reply[i : i + 200] for i in range(head_end, len(reply), 200))]
    parser = wire.http11.ResponseParser(keep_body=False)
    keeper = _BodyKeeper(attempt=None, capture="bounded")  # type: ignore[arg-type]  # fill() is not called
    ok = False  # as the stream loop reads it: the status of the latest head
    for data in reads:
        events = parser.feed(data)
        ok = next((e.status == 200 for e in reversed(events) if isinstance(e, wire.http11.StatusLine)), ok)
        keeper.add(events, [e.data for e in events if isinstance(e, wire.http11.Data)], ok)
    body = wire.http11.parse_response(reply).body
    assert keeper.end == len(interim + reply)
    if budget > len(body):
        assert (keeper.dropped, b"".join(keeper.parts), len(keeper.frames)) == (0, body, 7)
    else:
        assert (keeper.dropped, keeper.parts, keeper.frames) == (len(body), [], [])
