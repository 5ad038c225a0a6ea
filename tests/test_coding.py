"""Content coding as a layer of its own (issue 15 §4): wire.coding, the fake server's compression, --compressed.

RFC 9110 §8.4 (Content-Encoding, codings listed in the order applied),
§8.4.1.2 (deflate is the zlib format; raw deflate is a known mistake, accepted),
§8.4.1.3 (gzip, and x-gzip as its synonym), §12.5.3 (Accept-Encoding).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import threading
import zlib

import pytest

from wire.cli import _fake_server, _parser, main
from wire.client import Client
from wire.coding import (
    ACCEPT_ENCODING,
    BodyDecoder,
    ContentCoding,
    accept_encoding,
    content_codings,
    decode_body,
)
from wire.errors import APIError, ProtocolError
from wire.exchange import Exchange
from wire.fake import FakeServer, Scenario
from wire.fake.coding import accepted_codings, chosen, encode, with_coding
from wire.fake.framing import Wait, plan
from wire.fake.replies import answer
from wire.request import Request
from wire.show import coding_view, exchange_view

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"
TEXT = b'{"id": "c1", "choices": [{"index": 0, "message": {"content": "Hi there"}}]}' * 20


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def client(server: FakeServer, compressed: bool = True) -> Client:
    return Client(base_url=server.base_url, api_key=KEY, timeout=10, max_retries=0, compressed=compressed)


# -- the field values ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "codings"),
    [
        (None, []),
        ("gzip", ["gzip"]),
        ("GZip", ["gzip"]),  # RFC 9110 §8.4.1: content codings are case-insensitive
        ("deflate, gzip", ["deflate", "gzip"]),  # in the order applied
        (" ,identity, gzip ,", ["gzip"]),  # empty list elements ignored (§5.6.1); identity is no coding
        ("identity", []),
    ],
)
def test_content_codings(value: str | None, codings: list[str]) -> None:
    assert content_codings(value) == codings


def test_accept_encoding_goes_right_after_accept() -> None:
    request = Request("POST", "/v1/chat/completions", [("Host", "h"), ("Accept", "application/json"), ("X", "y")])
    accept_encoding(request)
    assert request.headers == [
        ("Host", "h"),
        ("Accept", "application/json"),
        ("Accept-Encoding", "gzip, deflate"),
        ("X", "y"),
    ]
    assert ACCEPT_ENCODING == "gzip, deflate"


# -- decoding -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("coding", "coded", "raw"),
    [
        ("gzip", gzip.compress(TEXT), False),
        ("x-gzip", gzip.compress(TEXT), False),  # RFC 9110 §8.4.1.3: the same as gzip
        ("deflate", zlib.compress(TEXT), False),  # the zlib format, RFC 1950 (§8.4.1.2)
        ("deflate", raw_deflate(TEXT), True),  # without the zlib wrapper: non-conformant, accepted
        ("identity", TEXT, False),
    ],
    ids=["gzip", "x-gzip", "deflate", "raw-deflate", "identity"],
)
def test_decode_body(coding: str, coded: bytes, raw: bool) -> None:
    layer = decode_body(coded, coding, asked=ACCEPT_ENCODING)
    assert layer.decoded == TEXT
    assert (layer.compressed_size, layer.decoded_size, layer.raw_deflate) == (len(coded), len(TEXT), raw)
    assert layer.applied == (coding != "identity")


def test_codings_are_undone_in_reverse_order() -> None:
    coded = gzip.compress(zlib.compress(TEXT))  # deflate applied first, then gzip
    assert decode_body(coded, "deflate, gzip", asked=None).decoded == TEXT
    with pytest.raises(ProtocolError, match="Content-Encoding deflate: the deflate data is not valid"):
        decode_body(coded, "gzip, deflate", asked=None)  # the wrong order: deflate is undone first, on gzip bytes


def test_several_gzip_members_are_one_body() -> None:
    # RFC 1952 §2.2: a gzip file is a series of members.
    assert decode_body(gzip.compress(b"one ") + gzip.compress(b"two"), "gzip", asked=None).decoded == b"one two"


@pytest.mark.parametrize(
    "coded", [gzip.compress(TEXT), zlib.compress(TEXT), raw_deflate(TEXT)], ids=["gzip", "deflate", "raw-deflate"]
)
def test_any_split_decodes_the_same(coded: bytes) -> None:
    coding = "gzip" if coded[:2] == b"\x1f\x8b" else "deflate"
    for size in (1, 2, 3, 7, 100):
        decoder = BodyDecoder(coding, asked=None)
        out = b"".join(decoder.feed(coded[i : i + size]) for i in range(0, len(coded), size))
        assert out == TEXT
        assert decoder.finish().decoded == TEXT


def test_each_flushed_piece_decodes_when_it_arrives() -> None:
    # What lets a compressed stream's events come as they come: a sync flush ends each piece.
    compressor = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    events = [b"data: one\n\n", b"data: two\n\n", b"data: [DONE]\n\n"]
    pieces = [compressor.compress(e) + compressor.flush(zlib.Z_SYNC_FLUSH) for e in events[:-1]]
    pieces.append(compressor.compress(events[-1]) + compressor.flush())
    decoder = BodyDecoder("gzip", asked=ACCEPT_ENCODING)
    assert [decoder.feed(p) for p in pieces] == events


@pytest.mark.parametrize("coding", ["br", "zstd", "compress", "x-unknown", "gzip, br"])
def test_a_coding_wire_cannot_decode_is_named(coding: str) -> None:
    with pytest.raises(ProtocolError) as info:
        BodyDecoder(coding, asked=ACCEPT_ENCODING)
    unknown = coding.split(", ")[-1]
    assert str(info.value) == (
        f"the reply's Content-Encoding is {coding}: wire cannot decode {unknown} (it decodes gzip and deflate, "
        "with zlib; wire asked for Accept-Encoding: gzip, deflate) (RFC 9110 §8.4: Content-Encoding)"
    )


def test_corrupt_cut_short_and_trailing_data_are_errors_with_the_offset() -> None:
    coded = bytearray(gzip.compress(TEXT))
    coded[12] ^= 0xFF
    with pytest.raises(ProtocolError, match=r"^Content-Encoding gzip: the gzip data is not valid \(") as info:
        decode_body(bytes(coded), "gzip", asked=None)
    assert info.value.offset == len(coded) and info.value.received == bytes(coded)
    whole = gzip.compress(TEXT)
    with pytest.raises(ProtocolError, match="the gzip data is cut short: the body ended before its end") as info:
        decode_body(whole[:-4], "gzip", asked=None)
    assert info.value.offset == len(whole) - 4
    with pytest.raises(ProtocolError, match=r"byte\(s\) after the end of the deflate data"):
        decode_body(zlib.compress(TEXT) + b"xx", "deflate", asked=None)
    with pytest.raises(ProtocolError, match="the body ended after 1 byte"):
        decode_body(b"x", "deflate", asked=None)


def test_a_decoded_body_past_the_limit_is_refused() -> None:
    bomb = gzip.compress(b"\0" * 100_000)
    decoder = BodyDecoder("gzip", asked=None, limit=50_000)
    with pytest.raises(ProtocolError, match="the decoded body is larger than 50000 bytes"):
        decoder.feed(bomb)
    assert decoder.record.decoded_size <= 50_000


# -- the fake server ---------------------------------------------------------------------


def test_accepted_codings() -> None:
    assert accepted_codings([("Accept-Encoding", "gzip, deflate")]) == {"gzip", "deflate"}
    assert accepted_codings([("accept-encoding", "GZIP;q=0, deflate;q=0.5")]) == {"deflate"}
    assert accepted_codings([("Accept", "*/*")]) == set()
    assert chosen("auto", [("Accept-Encoding", "deflate, gzip")]) == "gzip"
    assert chosen("auto", [("Accept-Encoding", "deflate")]) == "deflate"
    assert chosen("auto", [("Accept-Encoding", "br")]) is None
    assert chosen("auto", []) is None
    assert chosen("br", []) == "br" and chosen(None, [("Accept-Encoding", "gzip")]) is None


@pytest.mark.parametrize("framing", ["chunked", "length"])
@pytest.mark.parametrize("stream", [False, True])
def test_the_plan_compresses_each_write_so_each_decodes_at_once(framing: str, stream: bool) -> None:
    body = json.dumps(
        {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "stream": stream}, separators=(",", ":")
    ).encode()
    scenario = Scenario(framing=framing, coding="gzip", delta_delay=0.01 if stream else 0.0)
    headers = [("Authorization", f"Bearer {KEY}")]
    reply = answer("POST", "/v1/chat/completions", headers, body, scenario)
    plain = reply.body_bytes()
    coded = with_coding(reply, "gzip")
    assert ("content-encoding", "gzip") in coded.fields and ("vary", "accept-encoding") in coded.fields
    steps = plan(coded, scenario)
    head = steps[0]
    assert isinstance(head, bytes) and b"\r\ncontent-encoding: gzip\r\n" in head
    writes = [s for s in steps[1:] if isinstance(s, bytes)]
    payloads = writes
    if framing == "chunked":  # each write is one chunk frame: size line, data, CRLF
        assert writes[-1] == b"0\r\n\r\n"
        payloads = [w.split(b"\r\n", 1)[1][:-2] for w in writes[:-1]]
    else:
        assert f"content-length: {sum(map(len, writes))}\r\n".encode() in head
    decoder = BodyDecoder("gzip", asked=None)
    outs = [decoder.feed(p) for p in payloads]
    assert b"".join(outs) == plain and decoder.finish().decoded == plain
    assert all(outs)  # no write waits for a later one to be decoded
    if stream:
        assert any(isinstance(s, Wait) and s.reason == "pace" for s in steps)


def test_encode_leaves_a_label_only_coding_alone() -> None:
    assert encode([b"abc", Wait(0.1, "pace"), b"def"], "br") == [b"abc", Wait(0.1, "pace"), b"def"]
    assert encode([b"abc"], None) == [b"abc"]


def test_scenario_coding_is_checked() -> None:
    with pytest.raises(ValueError, match="coding must be None or one of"):
        Scenario(coding="lzma")


# -- through a real socket ----------------------------------------------------------


@pytest.mark.parametrize("framing", ["chunked", "length"])
def test_compressed_chat_decodes_as_its_own_layer(framing: str) -> None:
    with FakeServer(coding="auto", framing=framing) as server:
        plain = client(server, compressed=False).chat("Hi")
        exchange = client(server).chat("Hi")
        sent = server.requests
    assert sent[0].header("Accept-Encoding") is None and sent[1].header("Accept-Encoding") == "gzip, deflate"
    assert plain.coding is None and plain.response is not None and plain.response.header("Content-Encoding") is None
    response = exchange.response
    assert response is not None and response.header("Content-Encoding") == "gzip"
    assert exchange.coding is not None and exchange.coding.codings == ["gzip"]
    assert response.body[:2] == b"\x1f\x8b" and exchange.decoded_body == plain.response.body
    assert exchange.coding.compressed_size == len(response.body) < exchange.coding.decoded_size
    assert exchange.json == plain.json and exchange.text == plain.text != ""


@pytest.mark.parametrize("framing", ["chunked", "length"])
@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate"])
def test_compressed_stream_decodes_incrementally(framing: str, coding: str) -> None:
    with FakeServer(framing=framing) as server:
        plain = client(server, compressed=False).stream("Hi")
        plain_text = plain.read()
    with FakeServer(coding=coding, framing=framing) as server:
        stream = client(server).stream("Hi")
        text = stream.read()
    exchange = stream.exchange
    assert text == plain_text != ""
    assert exchange.coding is not None
    assert exchange.coding.codings == ["deflate" if coding == "raw-deflate" else coding]
    assert exchange.coding.raw_deflate == (coding == "raw-deflate")
    assert plain.exchange.response is not None and exchange.decoded_body == plain.exchange.response.body
    assert [e.data for e in exchange.sse_events] == [e.data for e in plain.exchange.sse_events]


@pytest.mark.parametrize("stream", [False, True])
def test_the_decoding_is_a_trace_step_with_the_codings_and_the_sizes(stream: bool) -> None:
    with FakeServer(coding="gzip") as server:
        exchange = client(server).chat("Hi", stream=stream)
    coding = exchange.coding
    assert coding is not None
    (step,) = [e for e in exchange.trace if e.name == "coding.decode"]
    assert (step.step, step.info) == (
        "complete",
        {"codings": ["gzip"], "compressed": coding.compressed_size, "decoded": coding.decoded_size},
    )
    assert 0 < coding.compressed_size < coding.decoded_size == len(exchange.decoded_body)


def test_a_compressed_stream_delivers_each_delta_as_it_comes() -> None:
    # The server holds the rest of the stream until the gate opens: the first delta must come before that.
    gate = threading.Event()
    with FakeServer(coding="auto", gate=gate, gate_timeout=10) as server:
        stream = client(server).stream("Hi")
        deltas = iter(stream)
        first = next(deltas)
        opened_after_first = not gate.is_set()
        gate.set()
        rest = list(deltas)
        timeouts = server.gate_timeouts
    assert first and rest and opened_after_first and timeouts == 0
    assert stream.exchange.coding is not None and stream.exchange.coding.codings == ["gzip"]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("coding", ["br", "zstd"])
def test_a_coding_wire_cannot_decode_is_a_clear_error(stream: bool, coding: str) -> None:
    with FakeServer(coding=coding) as server:
        with pytest.raises(
            ProtocolError, match=f"the reply's Content-Encoding is {coding}: wire cannot decode"
        ) as info:
            client(server).chat("Hi", stream=stream)
    assert info.value.exchange is not None and info.value.exchange.response is not None or stream


def test_compressed_but_sent_as_it_is() -> None:
    with FakeServer() as server:  # never compresses
        exchange = client(server).chat("Hi")
    assert exchange.coding is not None and not exchange.coding.applied
    assert exchange.response is not None and exchange.decoded_body == exchange.response.body
    assert "none: no Content-Encoding, the body came as it is" in coding_view(exchange)
    assert coding_view(with_layer(None)) == "  (no content coding: wire did not ask for one)"


def test_a_compressed_error_body_is_read_for_the_api_error() -> None:
    with FakeServer(status=429, retry_after="0", coding="auto") as server:
        with pytest.raises(APIError) as info:
            client(server).chat("Hi")
    assert info.value.status == 429 and info.value.type == "requests"  # read from the decoded JSON
    exchange = info.value.exchange
    assert exchange.response.body[:2] == b"\x1f\x8b" and exchange.coding.codings == ["gzip"]


def test_without_compressed_a_gzip_body_is_still_named_not_decoded() -> None:
    with FakeServer(coding="gzip") as server:
        with pytest.raises(ProtocolError, match="which wire did not ask for"):
            client(server, compressed=False).chat("Hi")


# -- views and the command line ------------------------------------------------------


def with_layer(layer: ContentCoding | None) -> Exchange:
    return Exchange("http://h/v1", {}, Request("POST", "/v1/chat/completions"), b"", coding=layer)


def test_coding_view_exact_text() -> None:
    layer = ContentCoding(asked="gzip, deflate", codings=["gzip"], compressed_size=40, decoded=b'{"a":1}' * 20)
    assert coding_view(with_layer(layer)) == "\n".join(
        [
            "  asked    Accept-Encoding: gzip, deflate",
            "  applied  Content-Encoding: gzip",
            "  sizes    40 bytes as framed -> 140 bytes decoded, 71 % smaller on the wire",
            "  decoded",
            '< {"a":1}{"a":1}{"a":1}{"a":1}{"a":1}{"a":1}{"a":1}{"a":1}{"a":1}{"a":1}{"… (+68 bytes)',
        ]
    )
    raw = ContentCoding(asked=None, codings=["deflate", "gzip"], compressed_size=5, decoded=b"x", raw_deflate=True)
    text = coding_view(with_layer(raw))
    assert "  asked    nothing (no Accept-Encoding)" in text
    assert "Content-Encoding: deflate, gzip (undone last to first" in text
    assert "deflate without its zlib wrapper: non-conformant, RFC 9110 §8.4.1.2" in text


def test_the_coding_layer_is_shown_only_when_it_applies() -> None:
    with FakeServer(coding="auto") as server:
        plain = client(server, compressed=False).chat("Hi")
        exchange = client(server).chat("Hi")
    assert "content coding" not in exchange_view(plain)
    text = exchange_view(exchange)
    assert ". content coding: gzip ─" in text and text.index("body framing") < text.index("content coding")


def cli(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(argv)) == 0
    return out.getvalue()


def test_demo_compressed() -> None:
    text = cli("demo", "--compressed", "--show", "request,coding,answer")
    assert "< Accept-Encoding: gzip, deflate\\r\\n" in text.replace("> ", "< ")
    assert "  applied  Content-Encoding: gzip" in text
    assert "content coding" not in cli("demo", "--show", "coding,answer")
    streamed = cli("demo", "--compressed", "--stream", "--show", "coding")
    assert "  applied  Content-Encoding: gzip" in streamed
    assert "--compressed" in cli("demo", "--compressed", "--curl").splitlines()[0]
    assert "--compressed" not in cli("demo", "--curl")


def test_wire_serve_compress_option() -> None:
    assert _fake_server(_parser().parse_args(["serve", "--compress"])).scenarios[0].coding == "auto"
    assert _fake_server(_parser().parse_args(["serve"])).scenarios[0].coding is None


def test_the_har_content_is_decoded_as_har_asks() -> None:
    # HAR 1.2: content.text is "HTTP decoded text", content.size the decoded length, compression the bytes saved.
    from wire.har import to_har

    with FakeServer(coding="auto") as server:
        exchange = client(server).chat("Hi")
    assert exchange.response is not None
    content = to_har(exchange)["log"]["entries"][-1]["response"]["content"]
    assert content["text"].encode() == exchange.decoded_body
    assert content["size"] == len(exchange.decoded_body)
    assert content["compression"] == len(exchange.decoded_body) - len(exchange.response.body) > 0


def test_compressed_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="compressed must be True or False, got str"):
        Client(base_url="http://127.0.0.1:9/v1", api_key=KEY, compressed="yes")  # type: ignore[arg-type]
