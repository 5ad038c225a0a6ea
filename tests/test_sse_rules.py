"""The SSE decoder and encoder, rule by rule: exact error messages, limits at their boundary, exact state.

Written to kill the mutants that `mutmut` left alive in `wire/sse.py`
(docs/testing.md); each test states a behaviour of WHATWG HTML §9.2.6 or of
wire's own contract (the line limit, the encoder's refusals).
"""

from __future__ import annotations

import pytest

from wire.errors import ProtocolError
from wire.sse import MAX_LINE_BYTES, Comment, ServerSentEvent, SSEDecoder, encode_comment, encode_event


def test_defaults_of_an_event() -> None:
    event = ServerSentEvent()
    assert (event.event, event.data, event.id, event.retry, event.offset, event.raw) == ("message", "", None, None, 0, b"")
    assert MAX_LINE_BYTES == 1024 * 1024
    decoder = SSEDecoder()
    assert decoder.max_line == MAX_LINE_BYTES
    assert (decoder.dropped, decoder.events_before_error, decoder.comments) == (b"", [], [])
    assert (decoder.last_event_id, decoder.retry, decoder.offset) == (None, None, 0)


# -- the decoder's errors -----------------------------------------------------------


def test_max_line_one_is_allowed_and_zero_is_not() -> None:
    decoder = SSEDecoder(max_line=1)
    assert decoder.feed(b"a\n\n") == []  # a field named "a": ignored
    with pytest.raises(ValueError) as info:
        SSEDecoder(max_line=0)
    assert str(info.value) == "max_line must be at least 1"


def test_feed_after_flush_message() -> None:
    decoder = SSEDecoder()
    decoder.flush()
    with pytest.raises(RuntimeError) as info:
        decoder.feed(b"data: x\n\n")
    assert str(info.value) == "SSEDecoder: the stream was already flushed"


def test_line_too_long_error_exact() -> None:
    decoder = SSEDecoder(max_line=8)
    with pytest.raises(ProtocolError) as info:
        decoder.feed(b"data: ok\n\ndata: 123456\n")
    error = info.value
    assert error.offset == 10
    assert error.rule == "WHATWG HTML 9.2.6: lines end in CRLF, LF or CR; wire refuses lines over max_line"
    assert str(error).startswith("event stream line is longer than max_line=8 bytes")
    # The same error object comes back on every later call, and flush() raises it too.
    with pytest.raises(ProtocolError) as again:
        decoder.feed(b"\n")
    assert again.value is error
    with pytest.raises(ProtocolError) as at_end:
        decoder.flush()
    assert at_end.value is error


@pytest.mark.parametrize("end", [b"\n", b"\r", b"\r\n"])
def test_line_exactly_at_the_limit_in_a_long_buffer(end: bytes) -> None:
    # The buffer is longer than max_line, so each line is measured: max_line bytes pass, one more does not.
    ok = b"data: 1234" + end  # 10 bytes of content
    decoder = SSEDecoder(max_line=10)
    events = decoder.feed(ok + end + ok + end) + decoder.flush()  # (a final CR is held until flush)
    assert [e.data for e in events] == ["1234", "1234"]
    decoder = SSEDecoder(max_line=10)
    with pytest.raises(ProtocolError) as info:
        decoder.feed(ok + end + b"data: 12345" + end + end)
    assert info.value.offset == len(ok + end)
    assert decoder.offset == len(ok + end)  # the lines before the long one were read


def test_events_completed_before_the_long_line_are_kept_aside() -> None:
    decoder = SSEDecoder(max_line=10)
    with pytest.raises(ProtocolError):
        decoder.feed(b"data: a\r\n\r\nid: 7\r\ndata: 12345678901\r\n")
    assert [(e.data, e.offset, e.raw) for e in decoder.events_before_error] == [("a", 0, b"data: a\r\n\r\n")]
    assert decoder.last_event_id == "7"  # the complete line before the long one was applied


def test_unfinished_line_limit_on_the_lf_path() -> None:
    decoder = SSEDecoder(max_line=10)
    assert decoder.feed(b"data: a\n\ndata: 1234") == [ServerSentEvent("message", "a", None, None, 0, b"data: a\n\n")]
    with pytest.raises(ProtocolError) as info:
        decoder.feed(b"\ndata: 12345")  # a complete line, then 11 bytes with no line end yet
    assert info.value.offset == 20


def test_held_cr_line_at_the_limit() -> None:
    decoder = SSEDecoder(max_line=4)
    assert decoder.feed(b"abcd\r") == []  # 4 bytes and a CR that may be half of CRLF: fine
    decoder = SSEDecoder(max_line=4)
    with pytest.raises(ProtocolError) as info:
        decoder.feed(b"x\nabcde\r")
    assert info.value.offset == 2


# -- state the showing layer reads ----------------------------------------------------


def test_comments_offsets_and_raw_exact() -> None:
    decoder = SSEDecoder()
    decoder.feed(b":\r\n: ping\n:  two spaces\rdata: x\n\n")
    assert decoder.comments == [
        Comment("", 0, b":\r\n"),
        Comment("ping", 3, b": ping\n"),
        Comment(" two spaces", 10, b":  two spaces\r"),
    ]


def test_offset_counts_lines_split_so_far() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: a\n")
    assert decoder.offset == 8
    decoder.feed(b"data: b")  # no line end: not split off yet
    assert decoder.offset == 8
    decoder.feed(b"\r")  # maybe half a CRLF: held
    assert decoder.offset == 8
    assert decoder.feed(b"\n\n") == [ServerSentEvent("message", "a\nb", None, None, 0, b"data: a\ndata: b\r\n\n")]
    assert decoder.offset == 18


def test_bom_moves_offsets() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"\xef\xbb\xbfdata: x\n\n") == [ServerSentEvent("message", "x", None, None, 3, b"data: x\n\n")]
    assert decoder.offset == 12
    decoder = SSEDecoder()
    # A comment line belongs to the block it is in: the block starts at the comment.
    assert decoder.feed(b"\xef\xbb\xbf: c\r\ndata: x\r\n\r\n") == [
        ServerSentEvent("message", "x", None, None, 3, b": c\r\ndata: x\r\n\r\n")
    ]
    assert decoder.comments == [Comment("c", 3, b": c\r\n")]


def test_stream_of_only_a_bom() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"\xef\xbb\xbf") == []
    assert decoder.flush() == []
    assert (decoder.dropped, decoder.offset) == (b"", 3)


def test_bom_after_the_first_feed_is_a_character() -> None:
    # "One leading U+FEFF": a BOM later in the stream is not skipped, even when it starts a feed.
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert decoder.feed(b"\xef\xbb\xbf\n") == []  # a line naming field "\ufeff" (ignored): not a blank line
    assert decoder.flush() == []
    assert decoder.dropped == b"data: a\n\xef\xbb\xbf\n"


def test_short_stream_that_could_be_a_bom() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"\xef\xbb") == []
    assert decoder.flush() == []
    assert decoder.dropped == b"\xef\xbb"


def test_retry_sets_stream_and_block_value() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b"retry: 0\ndata: a\n\ndata: b\n\nretry: x\ndata: c\n\n")
    assert [(e.data, e.retry) for e in events] == [("a", 0), ("b", None), ("c", None)]
    assert decoder.retry == 0


def test_id_field_value_rules() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b"id:\ndata: a\n\nid: 5\ndata: b\n\nid: 6\x00\ndata: c\n\nid\ndata: d\n\n")
    assert [(e.data, e.id) for e in events] == [("a", ""), ("b", "5"), ("c", "5"), ("d", "")]


def test_dropped_block_collects_bytes_of_earlier_feeds() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"event: e\n") == []
    assert decoder.feed(b"data: x\r\n") == []
    assert decoder.feed(b"data: y") == []
    assert decoder.flush() == []
    assert decoder.dropped == b"event: e\ndata: x\r\ndata: y"


def test_raw_of_a_block_spanning_feeds_on_both_paths() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert decoder.feed(b"id: 1\r\n") == []
    assert decoder.feed(b"\n") == [ServerSentEvent("message", "a", "1", None, 0, b"data: a\nid: 1\r\n\n")]


def test_fast_path_keeps_last_event_id() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"id: 9\n\n")
    assert decoder.feed(b"data: a\n\ndata: b\n\n") == [
        ServerSentEvent("message", "a", "9", None, 7, b"data: a\n\n"),
        ServerSentEvent("message", "b", "9", None, 16, b"data: b\n\n"),
    ]
    assert decoder.offset == 25


# -- the encoder's refusals --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data": "x", "line_end": "\n\n"}, "line_end must be LF, CRLF or CR, not '\\n\\n'"),
        ({"data": "x", "event": "a\rb"}, "event cannot hold CR or LF"),
        ({"data": "x", "event": "a\nb"}, "event cannot hold CR or LF"),
        ({"data": "x", "id": "a\rb"}, "id cannot hold CR or LF"),
        ({"data": "x", "id": "a\0b"}, "an id with NUL would be ignored by the decoder"),
        ({"data": "x", "retry": -1}, "retry must be a non-negative integer"),
        ({"data": "a\rb"}, "data cannot hold CR: the decoder would read it as a line end"),
    ],
)
def test_encode_event_refusals_exact(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as info:
        encode_event(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message


@pytest.mark.parametrize("text", ["a\rb", "a\nb"])
def test_encode_comment_refuses_line_ends(text: str) -> None:
    with pytest.raises(ValueError) as info:
        encode_comment(text)
    assert str(info.value) == "comment cannot hold CR or LF"


def test_encode_edge_values() -> None:
    assert encode_event("x", event="", id="", retry=0) == b"id: \nretry: 0\ndata: x\n\n"
    assert encode_event("é", line_end="\r\n") == b"data: \xc3\xa9\r\n\r\n"
    assert encode_comment("é", line_end="\r") == b": \xc3\xa9\r"


# -- the fast path (SSEDecoder._read_data_blocks) -------------------------------------------


def test_openai_blocks_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # The speed note in SSEDecoder._read_data_blocks: a feed of whole `data: ...` LF LF blocks is read by one
    # regex pass, never line by line. A broken fast path still gives the right events (the slow path reads
    # them), so this checks that the slow path is not needed for them.
    stream = b'data: {"a":1}\n\ndata: [DONE]\n\n'
    decoder = SSEDecoder()
    decoder.feed(b"id: 4\n\n")  # the fast path starts anywhere in the stream, not only at offset 0

    def line_by_line(*args: object, **kwargs: object) -> None:
        raise AssertionError("read line by line")

    monkeypatch.setattr(decoder, "_read_lines", line_by_line)
    assert decoder.feed(stream) == [
        ServerSentEvent("message", '{"a":1}', "4", None, 7, b'data: {"a":1}\n\n'),
        ServerSentEvent("message", "[DONE]", "4", None, 22, b"data: [DONE]\n\n"),
    ]
    assert decoder.offset == 7 + len(stream)
    # A run of blocks exactly max_line bytes long cannot hold a line over the limit: fast path too.
    decoder = SSEDecoder(max_line=len(stream))
    monkeypatch.setattr(decoder, "_read_lines", line_by_line)
    assert [e.data for e in decoder.feed(stream)] == ['{"a":1}', "[DONE]"]
