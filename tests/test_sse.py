"""Tests for wire.sse: the text/event-stream decoder (WHATWG HTML 9.2.6) and its encoder."""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wire.errors import ProtocolError
from wire.sse import MAX_LINE_BYTES, Comment, ServerSentEvent, SSEDecoder, encode_comment, encode_event

BOM = b"\xef\xbb\xbf"


def decode_all(stream: bytes, *, pieces: list[bytes] | None = None, max_line: int = MAX_LINE_BYTES) -> SSEDecoder:
    """Feed ``pieces`` (default: the whole stream at once), flush, and keep the events on the decoder."""
    decoder = SSEDecoder(max_line=max_line)
    events: list[ServerSentEvent] = []
    for piece in [stream] if pieces is None else pieces:
        events += decoder.feed(piece)
    events += decoder.flush()
    decoder.test_events = events  # type: ignore[attr-defined]
    return decoder


def events_of(stream: bytes, **kwargs: object) -> list[ServerSentEvent]:
    return decode_all(stream, **kwargs).test_events  # type: ignore[arg-type,attr-defined,no-any-return]


def split_at(stream: bytes, points: list[int]) -> list[bytes]:
    cuts = [0, *sorted(points), len(stream)]
    return [stream[a:b] for a, b in zip(cuts, cuts[1:], strict=False)]


def three_ways(stream: bytes) -> list[list[bytes]]:
    """All at once, one byte at a time, and in every two-piece split."""
    ways = [[stream], [stream[i : i + 1] for i in range(len(stream))]]
    ways += [split_at(stream, [i]) for i in range(1, len(stream))]
    return ways


def ev(data: str, offset: int, raw: bytes, *, event: str = "message", id: str | None = None, retry: int | None = None):
    return ServerSentEvent(event=event, data=data, id=id, retry=retry, offset=offset, raw=raw)


# -- the spec, written out plainly, as an oracle ------------------------------


def reference(stream: bytes) -> list[tuple[str, str, str | None, int | None]]:
    """WHATWG HTML 9.2.6 on a whole stream, in the most direct way: decode, split lines, process."""
    if stream.startswith(BOM):
        stream = stream[3:]
    lines = re.split("\r\n|\r|\n", stream.decode("utf-8", "replace"))[:-1]  # the last piece has no line end
    out: list[tuple[str, str, str | None, int | None]] = []
    data: list[str] = []
    event_type = ""
    last_id: str | None = None
    retry: int | None = None
    for line in lines:
        if line == "":
            if data:
                out.append((event_type or "message", "\n".join(data), last_id, retry))
            data, event_type, retry = [], "", None
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "event":
            event_type = value
        elif name == "id" and "\0" not in value:
            last_id = value
        elif name == "retry" and value and all(c in "0123456789" for c in value) and len(value) < 4000:
            retry = int(value)
    return out


def fields(events: list[ServerSentEvent]) -> list[tuple[str, str, str | None, int | None]]:
    return [(e.event, e.data, e.id, e.retry) for e in events]


# -- the basics ----------------------------------------------------------------


def test_a_str_fed_to_the_decoder_is_a_type_error_that_says_to_encode_it() -> None:
    with pytest.raises(TypeError) as info:
        SSEDecoder().feed("data: x\n\n")  # type: ignore[arg-type]
    assert str(info.value) == "feed() takes bytes, not str (a str: encode it first, as UTF-8)"


def test_one_event_all_fields() -> None:
    stream = b"event: delta\nid: 42\nretry: 1500\ndata: hello\n\n"
    decoder = decode_all(stream)
    assert decoder.test_events == [ev("hello", 0, stream, event="delta", id="42", retry=1500)]  # type: ignore[attr-defined]
    assert decoder.last_event_id == "42"
    assert decoder.retry == 1500
    assert decoder.dropped == b""
    assert decoder.offset == len(stream)


def test_openai_shape_events_offsets_and_raw() -> None:
    stream = b'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n'
    expected = [
        ev('{"a":1}', 0, b'data: {"a":1}\n\n'),
        ev('{"b":2}', 15, b'data: {"b":2}\n\n'),
        ev("[DONE]", 30, b"data: [DONE]\n\n"),
    ]
    for pieces in three_ways(stream):
        assert events_of(stream, pieces=pieces) == expected


def test_feed_returns_events_as_soon_as_their_blank_line_arrives() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert decoder.feed(b"\nda") == [ev("a", 0, b"data: a\n\n")]
    assert decoder.feed(b"ta: b\n\n") == [ev("b", 9, b"data: b\n\n")]
    assert decoder.feed(b"") == []
    assert decoder.flush() == []


def test_data_lines_join_with_lf() -> None:
    stream = b"data: one\ndata: two\ndata:\ndata: four\n\n"
    assert events_of(stream) == [ev("one\ntwo\n\nfour", 0, stream)]


def test_data_without_space_and_with_two_spaces() -> None:
    assert fields(events_of(b"data:x\n\n")) == [("message", "x", None, None)]
    # "If value starts with a U+0020 SPACE character, remove it from value": one space only.
    assert fields(events_of(b"data:  two spaces\n\n")) == [("message", " two spaces", None, None)]
    assert fields(events_of(b"data: a: b\n\n")) == [("message", "a: b", None, None)]


def test_field_without_colon_has_empty_value() -> None:
    assert fields(events_of(b"data\n\n")) == [("message", "", None, None)]
    assert fields(events_of(b"data\ndata\n\n")) == [("message", "\n", None, None)]
    # `event` with no colon sets the type to "" -> "message"; `id` with no colon sets the id to "".
    assert fields(events_of(b"event: x\nevent\nid\ndata: y\n\n")) == [("message", "y", "", None)]


def test_unknown_fields_ignored() -> None:
    stream = b"foo: bar\nDATA: loud\ndata : spaced name\ndata: kept\n\n"
    assert fields(events_of(stream)) == [("message", "kept", None, None)]


def test_event_type_resets_at_every_blank_line() -> None:
    stream = b"event: first\n\ndata: x\n\nevent: second\ndata: y\n\ndata: z\n\n"
    assert fields(events_of(stream)) == [
        ("message", "x", None, None),
        ("second", "y", None, None),
        ("message", "z", None, None),
    ]


def test_empty_event_field_means_message() -> None:
    assert fields(events_of(b"event:\ndata: x\n\n")) == [("message", "x", None, None)]


# -- line ends -----------------------------------------------------------------


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"])
def test_each_line_end(end: bytes) -> None:
    stream = b"data: a" + end + b"data: b" + end + end + b"data: c" + end + end
    expected = [ev("a\nb", 0, b"data: a" + end + b"data: b" + end + end)]
    second = b"data: c" + end + end
    expected.append(ev("c", len(expected[0].raw), second))
    for pieces in three_ways(stream):
        assert events_of(stream, pieces=pieces) == expected


def test_crlf_split_at_every_point_is_one_line_end() -> None:
    stream = b"data: a\r\n\r\ndata: b\r\n\r\n"
    expected = [ev("a", 0, b"data: a\r\n\r\n"), ev("b", 11, b"data: b\r\n\r\n")]
    for i in range(1, len(stream)):
        decoder = SSEDecoder()
        got = decoder.feed(stream[:i]) + decoder.feed(stream[i:]) + decoder.flush()
        assert got == expected, i
        assert decoder.dropped == b""


def test_cr_then_lf_in_next_feed_is_not_a_blank_line() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\n") == []  # the LF completes "\r\n": still one line end, no blank line yet
    assert decoder.feed(b"\r") == []  # a blank line that might still be "\r\n": held
    assert decoder.feed(b"\n") == [ev("a", 0, b"data: a\r\n\r\n")]


def test_mixed_line_ends() -> None:
    stream = b"data: a\rdata: b\ndata: c\r\n\n"
    assert events_of(stream) == [ev("a\nb\nc", 0, stream)]


def test_other_unicode_line_breaks_are_not_line_ends() -> None:
    # str.splitlines() would break at these; the event-stream grammar does not.
    stream = "data: a\x0bb\x0cc\x1cd\x85e\u2028f\n\n".encode()
    assert fields(events_of(stream)) == [("message", "a\x0bb\x0cc\x1cd\x85e\u2028f", None, None)]


# -- BOM and UTF-8 -------------------------------------------------------------


def test_bom_dropped_whatever_the_split() -> None:
    stream = BOM + b"data: x\n\n"
    for pieces in three_ways(stream):
        assert events_of(stream, pieces=pieces) == [ev("x", 3, b"data: x\n\n")]


def test_only_one_bom_dropped() -> None:
    # The second U+FEFF is part of the first line's field name: "\ufeffdata" is an unknown field.
    assert events_of(BOM + BOM + b"data: x\n\ndata: y\n\n") == [ev("y", 15, b"data: y\n\n")]


def test_bom_not_at_start_is_kept() -> None:
    assert fields(events_of(b"data: " + BOM + b"x\n\n")) == [("message", "\ufeffx", None, None)]


def test_partial_bom_then_other_bytes() -> None:
    stream = b"\xef\xbbdata: x\n\n"  # not a BOM: the bad bytes become U+FFFD in the field name
    for pieces in three_ways(stream):
        assert events_of(stream, pieces=pieces) == []
    decoder = decode_all(b"\xef\xbb")
    assert decoder.dropped == b"\xef\xbb"


def test_utf8_split_across_feeds_decodes_whole() -> None:
    stream = "data: é€😀\n\n".encode()
    for pieces in three_ways(stream):
        assert events_of(stream, pieces=pieces) == [ev("é€😀", 0, stream)]


def test_invalid_utf8_becomes_replacement_character() -> None:
    stream = b"data: a\xffb\xe2\x82\n\n"
    assert fields(events_of(stream)) == [("message", "a\ufffdb\ufffd", None, None)]


# -- comments ----------------------------------------------------------------------


def test_comments_recorded_not_returned() -> None:
    stream = b": ping\n\ndata: x\n:no space\n\n:\n\n"
    decoder = decode_all(stream)
    assert decoder.test_events == [ev("x", 8, b"data: x\n:no space\n\n")]  # type: ignore[attr-defined]
    assert decoder.comments == [
        Comment("ping", 0, b": ping\n"),
        Comment("no space", 16, b":no space\n"),
        Comment("", 27, b":\n"),
    ]


def test_comments_same_whatever_the_split() -> None:
    stream = b": keep-alive\r\ndata: x\r\n\r\n: bye\r"
    expected = decode_all(stream).comments
    assert [c.text for c in expected] == ["keep-alive", "bye"]
    for pieces in three_ways(stream):
        assert decode_all(stream, pieces=pieces).comments == expected


# -- id and retry ------------------------------------------------------------------


def test_id_carries_over_and_nul_is_ignored() -> None:
    stream = b"id: 1\ndata: a\n\ndata: b\n\nid: x\x00y\ndata: c\n\nid\ndata: d\n\n"
    assert fields(events_of(stream)) == [
        ("message", "a", "1", None),
        ("message", "b", "1", None),  # the last event ID buffer is not reset at dispatch
        ("message", "c", "1", None),  # an id with NUL is ignored
        ("message", "d", "", None),  # an empty id sets the buffer to ""
    ]


def test_blocks_without_data_fire_nothing_but_update_state() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 7\n\nretry: 250\n\n: note\n\n\n\n\nevent: x\n\n") == []
    assert decoder.last_event_id == "7"
    assert decoder.retry == 250
    got = decoder.feed(b"data: z\n\n")
    assert got == [ev("z", 40, b"data: z\n\n", id="7", retry=None)]  # retry belongs to its own block


@pytest.mark.parametrize("value", [b"10a", b"-1", b" 5", b"1.5", b"", "\u0663".encode(), b"+3"])
def test_retry_not_only_ascii_digits_is_ignored(value: bytes) -> None:
    # b" 5": "retry:  5" keeps one space after removing the first, so it is not all digits.
    decoder = decode_all(b"retry: " + value + b"\ndata: x\n\n")
    assert fields(decoder.test_events) == [("message", "x", None, None)]  # type: ignore[attr-defined]
    assert decoder.retry is None


def test_retry_digits() -> None:
    assert fields(events_of(b"retry:0042\ndata: x\n\n")) == [("message", "x", None, 42)]


def test_retry_with_absurd_digit_count_is_ignored() -> None:
    decoder = decode_all(b"retry: " + b"9" * 5000 + b"\ndata: x\n\n")
    assert decoder.retry is None
    assert fields(decoder.test_events) == [("message", "x", None, None)]  # type: ignore[attr-defined]


# -- the end of the stream -----------------------------------------------------------


def test_flush_dispatches_blank_line_held_after_cr() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: x\r\r") == []  # the last CR may still be the first half of CRLF
    assert decoder.flush() == [ev("x", 0, b"data: x\r\r")]
    assert decoder.dropped == b""


def test_a_feed_returns_what_it_completed_when_it_starts_with_the_blank_line() -> None:
    # The blank line that ends "a" is the first byte of the second feed, whose last byte is a CR
    # (held: maybe half a CRLF). "a" is complete now, not only when the next feed arrives.
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert [e.data for e in decoder.feed(b"\ndata: b\r")] == ["a"]
    assert decoder.feed(b"\n") == []
    assert [e.data for e in decoder.feed(b"\r\n")] == ["b"]


def test_flush_drops_unterminated_event() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\ndata: b\nid: 9\ndata: c") == [ev("a", 0, b"data: a\n\n")]
    assert decoder.flush() == []
    assert decoder.dropped == b"data: b\nid: 9\ndata: c"
    assert decoder.last_event_id == "9"  # a complete `id` line counts even in a dropped block


def test_flush_drops_unterminated_line_without_applying_it() -> None:
    decoder = decode_all(b"id: 9")
    assert decoder.last_event_id is None
    assert decoder.dropped == b"id: 9"


def test_flush_with_final_cr_line_in_open_block() -> None:
    decoder = decode_all(b"data: a\r")  # the line is complete at the end, but no blank line follows
    assert decoder.test_events == []  # type: ignore[attr-defined]
    assert decoder.dropped == b"data: a\r"


def test_flush_twice_and_feed_after_flush() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: x\n\n")
    assert decoder.flush() == []
    assert decoder.flush() == []
    with pytest.raises(RuntimeError):
        decoder.feed(b"data: y\n\n")


# -- the line limit ------------------------------------------------------------


def test_line_too_long_raises_with_offset_and_rule_whatever_the_split() -> None:
    stream = b"data: ok\n\n" + b"data: " + b"x" * 20 + b"\n\n"
    for pieces in three_ways(stream):
        decoder = SSEDecoder(max_line=16)
        got: list[ServerSentEvent] = []
        with pytest.raises(ProtocolError) as info:
            for piece in pieces:
                got += decoder.feed(piece)
        assert info.value.offset == 10
        assert info.value.rule is not None and "WHATWG HTML 9.2.6" in info.value.rule
        assert "max_line=16" in str(info.value)
        assert got + decoder.events_before_error == [ev("ok", 0, b"data: ok\n\n")]
        with pytest.raises(ProtocolError):  # the decoder stays failed
            decoder.feed(b"\n")


def test_line_limit_without_any_line_end() -> None:
    decoder = SSEDecoder(max_line=10)
    decoder.feed(b"data: 1234")  # exactly 10 bytes: fine
    with pytest.raises(ProtocolError) as info:
        decoder.feed(b"5")
    assert info.value.offset == 0


def test_line_limit_counts_content_not_line_end() -> None:
    for stream in (b"data: 1234\r\n\r\n", b"data: 1234\r\r", b"data: 1234\n\n"):
        for pieces in three_ways(stream):
            assert fields(events_of(stream, pieces=pieces, max_line=10)) == [("message", "1234", None, None)]


def test_long_line_under_default_limit() -> None:
    value = "y" * 200_000
    stream = encode_event(value)
    pieces = split_at(stream, list(range(1000, len(stream), 1000)))
    assert fields(events_of(stream, pieces=pieces)) == [("message", value, None, None)]


def test_max_line_must_be_positive() -> None:
    with pytest.raises(ValueError):
        SSEDecoder(max_line=0)


# -- fast path and line-by-line path agree ----------------------------------------


def test_fast_path_falls_back_for_other_lines() -> None:
    stream = b"data: a\n\n: ping\n\ndata: b\nid: 3\n\ndata: c\n\nevent: e\ndata: d\n\n"
    assert fields(events_of(stream)) == reference(stream)
    assert [e.offset for e in events_of(stream)] == [0, 17, 32, 41]


def test_repr_is_readable() -> None:
    assert repr(ev("hi", 3, b"data: hi\n\n")) == (
        "ServerSentEvent(event='message', data='hi', id=None, retry=None, offset=3, raw=<10 bytes>)"
    )


# -- the encoder -----------------------------------------------------------------


def test_encode_event_exact_bytes() -> None:
    assert encode_event("x") == b"data: x\n\n"
    assert encode_event("a\nb", event="delta", id="7", retry=100) == b"event: delta\nid: 7\nretry: 100\ndata: a\ndata: b\n\n"
    assert encode_event("", line_end="\r\n") == b"data: \r\n\r\n"
    assert encode_event(" x", line_end="\r") == b"data:  x\r\r"
    assert encode_comment("ping") == b": ping\n"


@pytest.mark.parametrize(
    "kwargs",
    [{"data": "a\rb"}, {"data": "x", "event": "a\nb"}, {"data": "x", "id": "a\0b"}, {"data": "x", "line_end": "\n\n"},
     {"data": "x", "retry": -1}],
)
def test_encode_event_refuses_what_cannot_round_trip(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        encode_event(**kwargs)  # type: ignore[arg-type]


# -- hypothesis ------------------------------------------------------------------


def budget(examples: int) -> int:
    """``examples``, or fewer under ``HYPOTHESIS_PROFILE=mutation`` (docs/testing.md), where every test runs once per mutant."""
    if os.environ.get("HYPOTHESIS_PROFILE") == "mutation":
        return min(examples, settings.get_profile("mutation").max_examples)
    return examples


field_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=12)
line_end = st.sampled_from([b"\n", b"\r\n", b"\r"])
line = st.one_of(
    st.builds(lambda v: b"data: " + v.encode(), field_text),
    st.builds(lambda v: b"data:" + v.encode(), field_text),
    st.builds(lambda v: b"event: " + v.encode(), field_text),
    st.builds(lambda v: b"id: " + v.encode(), field_text | st.just("a\0b")),
    st.builds(lambda v: b"retry: " + v.encode(), st.from_regex(r"\A[0-9]{1,5}\Z") | field_text),
    st.builds(lambda v: b":" + v.encode(), field_text),
    st.builds(lambda v: v.encode(), field_text),  # unknown field, or no colon at all
    st.just(b""),  # a blank line
)


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    bom = draw(st.sampled_from([b"", BOM]))
    ends = draw(st.sampled_from([line_end, st.just(b"\n")]))  # LF only half the time: the fast path's case
    lines = draw(st.lists(st.tuples(line, ends), max_size=12))
    tail = draw(st.sampled_from([b"", b"data: unterminated", b"\r"]))
    return bom + b"".join(text + end for text, end in lines) + tail


def state(decoder: SSEDecoder) -> tuple[object, ...]:
    return (decoder.test_events, decoder.comments, decoder.dropped, decoder.last_event_id, decoder.retry)  # type: ignore[attr-defined]


@settings(max_examples=budget(150), deadline=None)
@given(stream=streams(), points=st.lists(st.integers(min_value=0, max_value=400), max_size=8))
def test_any_split_gives_the_same_events(stream: bytes, points: list[int]) -> None:
    whole = decode_all(stream)
    assert fields(whole.test_events) == reference(stream)  # type: ignore[attr-defined]
    for event in whole.test_events:  # type: ignore[attr-defined]
        assert stream[event.offset : event.offset + len(event.raw)] == event.raw
    pieces = split_at(stream, [p for p in points if p <= len(stream)])
    assert state(decode_all(stream, pieces=pieces)) == state(whole)
    assert state(decode_all(stream, pieces=[stream[i : i + 1] for i in range(len(stream))])) == state(whole)


event_args = st.fixed_dictionaries(
    {"data": st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=30)},
    optional={
        "event": st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=10),
        "id": st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\0"), max_size=10),
        "retry": st.integers(min_value=0, max_value=10**9),
    },
)


@settings(max_examples=budget(100), deadline=None)
@given(
    args=st.lists(event_args, max_size=6),
    end=st.sampled_from(["\n", "\r\n", "\r"]),
    points=st.lists(st.integers(min_value=0, max_value=600), max_size=6),
)
def test_generated_events_survive_encode_then_decode(args: list[dict[str, object]], end: str, points: list[int]) -> None:
    blocks = [encode_event(line_end=end, **a) for a in args]  # type: ignore[arg-type]
    stream = b"".join(blocks)
    got = events_of(stream, pieces=split_at(stream, [p for p in points if p <= len(stream)]))
    expected: list[ServerSentEvent] = []
    offset = 0
    last_id: str | None = None
    for a, raw in zip(args, blocks, strict=True):
        last_id = a.get("id", last_id)  # type: ignore[assignment]
        event = a.get("event") or "message"
        expected.append(ev(a["data"], offset, raw, event=event, id=last_id, retry=a.get("retry")))  # type: ignore[arg-type]
        offset += len(raw)
    assert got == expected


@settings(max_examples=budget(200), deadline=None)
@given(stream=st.binary(max_size=300), points=st.lists(st.integers(min_value=0, max_value=300), max_size=5))
def test_arbitrary_bytes_raise_nothing_with_default_limit(stream: bytes, points: list[int]) -> None:
    pieces = split_at(stream, [p for p in points if p <= len(stream)])
    assert fields(events_of(stream, pieces=pieces)) == reference(stream)


@settings(max_examples=budget(200), deadline=None)
@given(stream=st.binary(max_size=200), points=st.lists(st.integers(min_value=0, max_value=200), max_size=5))
def test_arbitrary_bytes_raise_only_protocol_error(stream: bytes, points: list[int]) -> None:
    pieces = split_at(stream, [p for p in points if p <= len(stream)])
    try:
        events_of(stream, pieces=pieces, max_line=8)
    except ProtocolError as exc:
        assert exc.offset is not None


@settings(max_examples=budget(150), deadline=None)
@given(stream=st.binary(max_size=200), points=st.lists(st.integers(min_value=0, max_value=200), max_size=5))
def test_line_limit_error_is_the_same_whatever_the_split(stream: bytes, points: list[int]) -> None:
    def run(pieces: list[bytes]) -> tuple[list[ServerSentEvent], int | None]:
        decoder = SSEDecoder(max_line=8)
        got: list[ServerSentEvent] = []
        try:
            for piece in pieces:
                got += decoder.feed(piece)
            return got + decoder.flush(), None
        except ProtocolError as exc:
            return got + decoder.events_before_error, exc.offset

    assert run(split_at(stream, [p for p in points if p <= len(stream)])) == run([stream])
