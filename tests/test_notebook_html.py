"""The notebook views (wire/notebook.py): every layer as HTML, in wire order; hostile replies show as text.

A reply can carry markup anywhere a server puts text: the answer, the
reason phrase, a field's name and value, an error message, a JSON key, an
SSE event. Hypothesis writes such replies; a raw server sends them; the
HTML must then hold only wire's own tags and attributes, every server
string must come back as text, and the key must appear nowhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from IPython.lib.pretty import pretty as ipython_pretty
from rawserver import RawServer, chunked
from test_echoed_secrets import REPLIES
from test_secrets import SLOW, assert_hidden, keys

from wire import notebook, show
from wire.client import Client
from wire.errors import APIError, WireError
from wire.exchange import Exchange
from wire.fake import FakeServer

KEY = "sk-notebook-0123456789abcdefghijklmnopqrstuvwxyzWXYZ"

# Everything wire's HTML may contain: a tag, an attribute, a class outside these is an injection.
TAGS = {"div", "style", "details", "summary", "span", "pre", "svg", "text", "rect", "table", "tr", "td"}
ATTRIBUTES = {"class", "open", "x", "y", "width", "height", "fill", "rx", "font-size", "font-weight", "role"}
ATTRIBUTES |= {"aria-label", "style"}
CLASSES = {"wire-nb", "wire-exchange", "wire-response", "wire-event", "wire-completion", "wire-error", "wire-live"}
CLASSES |= {"wire-top", "wire-answer", "wire-where", "name", "dim", "out", "in", "error", "bar"}

# Each example is a call over loopback: shrinking a failure would take minutes; the failing example is printed.
NO_SHRINK = [Phase.explicit, Phase.reuse, Phase.generate]
FAST = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), phases=NO_SHRINK)

PIECES = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"', "'", '"><svg onload=alert(1)>']
PIECES += ["&amp;", "&lt;b&gt;", "</pre></details>", "<", ">", "&", "=", " ", "x", "é", "\x1b[31m"]
hostile = st.one_of(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=6).map("".join),
    st.text(min_size=1, max_size=20),
)


class Markup(HTMLParser):
    """The tags, attributes and text of an HTML document."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.texts: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


def assert_only_wire_markup(html: str) -> Markup:
    """``html`` holds only wire's tags, attributes and classes, and no bare ``<``, ``>``, quote outside a tag."""
    markup = Markup(html)
    for tag, attrs in markup.tags:
        assert tag in TAGS, f"a tag {tag!r} came from the server"
        for name, value in attrs:
            assert name in ATTRIBUTES, f"an attribute {name!r} came from the server"
            if name == "class":
                assert set((value or "").split()) <= CLASSES, value
    assert "<script" not in html.lower() and "<img" not in html.lower()
    outside = re.sub(r"<[^<>]*>", "", html)  # the text between tags, still escaped
    assert not set(outside) & set("<>\"'"), "a bare < > or quote between the tags"
    return markup


def visible(text: str) -> str:
    """What a view shows of server text: control characters escaped (show.printable)."""
    return show.printable(text)


def field_name(text: str) -> str:
    """A field name made from ``text``: only its token characters (RFC 9110 §5.6.2), after ``x-``."""
    return "x-" + "".join(c for c in text if c.isascii() and (c.isalnum() or c in "!#$%&'*+-.^_`|~"))


def field_text(text: str) -> str:
    """``text`` as a reason phrase or field value: visible ASCII and spaces, none at the edges (RFC 9112 §4; RFC 9110 §5.5).

    (Bytes past ASCII are obs-text, which wire reads as Latin-1, not as the UTF-8 written here.)
    """
    return "".join(c for c in text if " " <= c <= "~").strip() or "x"


def json_reply(answer: str, reason: str, name: str, value: str, key: str) -> bytes:
    body = json.dumps(
        {
            "id": "c1",
            "object": "chat.completion",
            "model": "m",
            key: key,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
        }
    ).encode()
    head = f"HTTP/1.1 200 {reason}\r\ncontent-type: application/json\r\n{name}: {value}\r\n".encode()
    return head + b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n" + chunked(body[:50], body[50:])


def error_reply(message: str) -> bytes:
    body = json.dumps({"error": {"message": message, "type": message, "code": None}}).encode()
    head = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nconnection: close\r\n"
    return head + b"content-length: %d\r\n\r\n" % len(body) + body


def stream_reply(delta: str, event_id: str) -> bytes:
    chunk = {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": delta}}]}
    events = [f"id: {event_id}\ndata: {json.dumps(chunk)}\n\n".encode(), b"data: [DONE]\n\n"]
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n"
    return head + b"transfer-encoding: chunked\r\n\r\n" + chunked(*events)


def call(reply: bytes, *, stream: bool = False) -> Exchange:
    with RawServer(reply) as server:
        return Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=0).chat("Hi", stream=stream)


@FAST
@given(answer=hostile, reason=hostile, name=hostile, value=hostile, key=hostile)
def test_a_hostile_reply_shows_as_text(answer: str, reason: str, name: str, value: str, key: str) -> None:
    reason, name, value = field_text(reason), field_name(name), field_text(value)
    exchange = call(json_reply(answer, reason, name, value, key))
    assert exchange.response is not None and exchange.response.reason == reason
    for html in (notebook.exchange_html(exchange, open_layers=("all",)), notebook.html(exchange.response)):
        markup = assert_only_wire_markup(html)
        texts = "".join(markup.texts)
        assert reason in texts and name in texts
        assert KEY not in html
    markup = assert_only_wire_markup(notebook.exchange_html(exchange))
    assert visible(answer) in markup.texts  # the answer box: the whole answer, one piece of text
    # The JSON key, in the JSON view, whole: lines are cut at LF only, never at U+2028 inside a string.
    assert visible(json.dumps(key, ensure_ascii=False)) in "".join(markup.texts)
    completion = Markup(notebook.html(exchange.completion)).texts
    assert visible(answer) + "\n(role assistant, finish_reason stop)\n" in "".join(completion)


@FAST
@given(message=hostile)
def test_a_hostile_error_message_shows_as_text(message: str) -> None:
    with pytest.raises(APIError) as caught:
        call(error_reply(message))
    html = caught.value._repr_html_()
    markup = assert_only_wire_markup(html)
    assert markup.texts[1] == visible(f"APIError: Error 400: {message}")  # after the style sheet
    assert "response head" in "".join(markup.texts)  # the exchange the error ended, its layers
    assert KEY not in html


@FAST
@given(delta=hostile, event_id=hostile)
def test_a_hostile_event_shows_as_text(delta: str, event_id: str) -> None:
    event_id = field_text(event_id)
    exchange = call(stream_reply(delta, event_id), stream=True)
    assert exchange.text == delta and exchange.sse_events[0].id == event_id
    assert_only_wire_markup(notebook.exchange_html(exchange, open_layers=("all",)))
    markup = assert_only_wire_markup(notebook.html(exchange.sse_events[0]))
    assert event_id in markup.texts
    assert json.loads(exchange.sse_events[0].data)["choices"][0]["delta"]["content"] == delta


@SLOW
@given(key=keys)
def test_a_key_the_server_echoes_is_in_no_notebook_view(key: str) -> None:
    for reply, streamed in REPLIES:
        with RawServer(reply(key), connections=1) as server:
            try:
                exchange = Client(base_url=server.base_url, api_key=key, timeout=5, max_retries=0).chat(
                    "Hi", stream=streamed
                )
                objects: list[object] = [exchange, exchange.response, exchange.completion, *exchange.sse_events]
            except WireError as exc:
                objects = [exc, exc.exchange, exc.exchange.response]
        for obj in objects:
            if obj is not None:
                assert_hidden(notebook.html(obj), key)
                assert_hidden(notebook.pretty(obj), key)


# --- the layers, their order, the hooks ---


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        yield fake


def titles(html: str) -> list[str]:
    return re.findall(r'<summary><span class="name">([^<]*)</span>', html)


def test_an_exchange_shows_every_layer_in_wire_order(server: FakeServer) -> None:
    exchange = Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=0).chat("Hi")
    html = exchange._repr_html_()
    assert titles(html) == [
        "1. settings",
        "2. payload (JSON)",
        "3. request bytes",
        "4. connection: DNS, TCP, TLS",
        "5. response head: status line and fields",
        "6. body framing: chunked",
        "7. JSON body",
        "8. answer",
        "9. timings",
    ]
    assert html.count("<details open>") == 2  # the answer and the timings; the rest folded
    assert '<span class="out">&gt;</span> POST /v1/chat/completions HTTP/1.1<span class="dim">\\r\\n</span>' in html
    assert '<span class="out">&gt;</span> Authorization: Bearer sk-…WXYZ<span class="dim">\\r\\n</span>' in html
    assert '<span class="in">&lt;</span> HTTP/1.1 200 OK<span class="dim">\\r\\n</span>' in html
    assert f'<div class="wire-answer">{notebook.esc(exchange.text)}</div>' in html
    usage = exchange.completion.usage if exchange.completion else None
    assert usage is not None and usage.total_tokens == 28
    assert f"{usage.prompt_tokens} prompt + {usage.completion_tokens} completion = 28 tokens" in html
    # The waterfall: one bar per phase of plain HTTP (no TLS handshake), in order, then the total.
    names = re.findall(r'fill="currentColor">([a-z]+)</text><rect', html)
    assert names == ["dns", "connect", "send", "wait", "receive"]
    assert KEY not in html
    assert_only_wire_markup(html)


def test_a_streamed_exchange_shows_its_events_and_chunks(server: FakeServer) -> None:
    exchange = Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=0).chat("Hi", stream=True)
    html = notebook.exchange_html(exchange, open_layers=("all",))
    assert [t.split(". ", 1)[1] for t in titles(html)][5:] == [
        "body framing: chunked",
        "server-sent events",
        "completion chunks",
        "answer",
        "timings",
        "pace of the answer",
    ]
    assert html.count("<details open>") == len(titles(html))
    assert '<span class="in">&lt;</span> data: [DONE]<span class="dim">\\n</span>' in html


def test_the_hooks_call_the_notebook_views(server: FakeServer) -> None:
    exchange = Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=0).chat("Hi", stream=True)
    assert exchange.response is not None and exchange.completion is not None
    assert exchange._repr_html_() == notebook.exchange_html(exchange)
    assert exchange.response._repr_html_() == notebook.response_html(exchange.response)
    assert exchange.sse_events[0]._repr_html_() == notebook.event_html(exchange.sse_events[0])
    assert exchange.completion._repr_html_() == notebook.completion_html(exchange.completion)
    # IPython's terminal: the same layers as text, as `wire chat --show` prints them.
    assert ipython_pretty(exchange) == show.exchange_view(exchange)
    assert ipython_pretty(exchange.completion).endswith(" completion = 28 tokens")
    assert ipython_pretty(exchange.response).startswith("< HTTP/1.1 200 OK\\r\\n\n")


def test_an_api_error_shows_its_exchange(server: FakeServer) -> None:
    with FakeServer(status=401) as refusing, pytest.raises(APIError) as caught:
        Client(base_url=refusing.base_url, api_key=KEY, timeout=5, max_retries=0).chat("Hi")
    html = caught.value._repr_html_()
    assert '<div class="wire-top"><span class="error">APIError: Error 401: Incorrect API key provided' in html
    assert "5. response head: status line and fields" in html and "HTTP/1.1 401 Unauthorized" in html
    text = ipython_pretty(caught.value)
    assert text.startswith("APIError: Error 401: ") and "< HTTP/1.1 401 Unauthorized\\r\\n" in text
    assert KEY not in html + text


def test_live_outside_a_kernel_writes_the_deltas(server: FakeServer, capsys: pytest.CaptureFixture[str]) -> None:
    stream = Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=0).stream("Hi")
    exchange = notebook.live(stream)
    assert exchange is stream.exchange and exchange.completion is not None
    assert capsys.readouterr().out == exchange.text + "\n"


def test_the_waterfall_replaces_the_bars_and_keeps_other_timing_lines() -> None:
    text = "  dns      █ 1.0 ms\n  tls       ██ 2.0 ms\n  total    3.0 ms\n  first delta after 2.5 ms"
    assert notebook._other_lines(text) == "<pre>  first delta after 2.5 ms</pre>"
    assert notebook._other_lines("  dns      █ 1.0 ms\n  total    1.0 ms") == ""
