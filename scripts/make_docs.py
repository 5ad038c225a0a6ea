"""Regenerate the transcripts in docs/tour/*.md and README.md from real calls to the fake server.

Each page holds blocks between markers:

    <!-- transcript:NAME -->
    ```text
    ...output...
    ```
    <!-- /transcript:NAME -->

This script runs the calls for every NAME (with wire.show for the text),
and rewrites what is between the markers; the rest of each page is left
alone. An opening marker with no closing one (as first written) becomes a pair.

What changes from run to run is normalized, so the pages only change when wire
does: the fake server's ephemeral port is shown as ``54321`` (always a
five-digit port, so byte counts stay true), every duration as ``1.0 ms``, the
temporary directory of the settings example as ``/home/you/project``.

    python scripts/make_docs.py           # rewrite the pages
    python scripts/make_docs.py --check   # exit 1 if any page is stale (what tests/test_docs.py does)
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import wire
from wire.chat import build_payload, encode_payload
from wire.cli import main as cli_main
from wire.client import Client
from wire.config import Settings
from wire.errors import ConfigError, InvalidHeader
from wire.exchange import Exchange
from wire.fake import FakeServer, Scenario
from wire.fake.pacing import delta_delays
from wire.har import to_har
from wire.pace import stream_timings
from wire.show import (
    answer_view,
    body_view,
    coding_view,
    completion_chunks_view,
    connection_view,
    escape,
    hexdump,
    json_view,
    pace_view,
    payload_view,
    request_view,
    response_head_view,
    settings_view,
    sse_view,
    timings_view,
)
from wire.transport import Timings

ROOT = Path(__file__).resolve().parent.parent
TOUR = ROOT / "docs" / "tour"
PAGES = [ROOT / "README.md", *sorted(TOUR.glob("*.md")), ROOT / "docs" / "from-requests.md"]

PORT = "54321"  # what every ephemeral port is shown as (five digits, like the ports it stands for)
MS = "1.0 ms"  # what every duration is shown as
HOME = "/home/you/project"
# Every phase 1.0 ms long: the waterfall of timings_view, the same on every run.
FIXED_TIMINGS = Timings(
    started_at=0.0, dns=0.001, connect=0.002, tls=0.003, request_sent=0.004, first_byte=0.005, done=0.006
)

WATERFALL = "<timings: the fixed waterfall>"  # stands in for timings_view(FIXED_TIMINGS) until normalized
PACE = "<pace: the planned pace>"  # stands in for the pace view of a stream that arrives as planned

KEY = "sk-proj-wire-docs-0123456789abcdefghijklmnopqrstuvwxyz1234"  # made up; shows as sk-…1234
PROMPT = "Tell me a fun fact about HTTP."


# -- normalizing ------------------------------------------------------------------


def normalize(text: str, ports: list[int]) -> str:
    """Ports as PORT (only after ':' or 'port '), durations as MS."""
    for port in ports:
        text = re.sub(rf"(?<=:){port}\b|(?<=port ){port}\b", PORT, text)
    return re.sub(r"\b\d+\.\d ms\b", MS, text)


@contextlib.contextmanager
def fake(scenario: Scenario | list[Scenario] | None = None, **kw: Any) -> Iterator[FakeServer]:
    """A started FakeServer whose port has five digits (nearly every ephemeral port; retried otherwise)."""
    for _ in range(50):
        server = FakeServer(scenario, **kw).start()
        if len(str(server.port)) == len(PORT):
            break
        server.stop()
    try:
        yield server
    finally:
        server.stop()


def client_for(server: FakeServer, **kw: Any) -> Client:
    return Client(base_url=server.base_url, api_key=KEY, ca_file=server.ca_file, timeout=10, **kw)


def event_lines(events: list[wire.Event], *, head: bool = True, body: bool = True) -> str:
    """Parser events, one per line with its offset; consecutive Data events merged."""
    merged: list[wire.Event] = []
    for ev in events:
        if isinstance(ev, wire.Data) and merged and isinstance(merged[-1], wire.Data):
            merged[-1] = wire.Data(merged[-1].data + ev.data, merged[-1].offset)
        else:
            merged.append(ev)
    rows = []
    in_head = True
    for ev in merged:
        show = head if in_head else body
        if isinstance(ev, wire.EndOfHead):
            in_head = False
            show = True
        if not show:
            continue
        if isinstance(ev, wire.StatusLine):
            what = f"StatusLine    {ev.http_version} {ev.status} {ev.reason!r}"
        elif isinstance(ev, wire.Trailer):
            what = f"Trailer       {ev.name}: {ev.value}"
        elif isinstance(ev, wire.Field):
            what = f"Field         {ev.name}: {ev.value}"
        elif isinstance(ev, wire.EndOfHead):
            what = f"EndOfHead     framing={ev.framing.value} content_length={ev.content_length}"
        elif isinstance(ev, wire.ChunkHeader):
            what = f"ChunkHeader   {escape(ev.raw)} -> size {ev.size}"
        elif isinstance(ev, wire.Data):
            shown = escape(ev.data[:40]) + ("…" if len(ev.data) > 40 else "")
            what = f"Data          {len(ev.data)} bytes: {shown}"
        elif isinstance(ev, wire.ChunkEnd):
            what = "ChunkEnd      \\r\\n"
        elif isinstance(ev, wire.EndOfMessage):
            what = f"EndOfMessage  keep_alive={ev.keep_alive}"
        else:
            what = repr(ev)
        rows.append(f"@{ev.offset:<5} {what}")
    return "\n".join(rows)


# -- one function per transcript: returns its text ---------------------------------------


def t_demo() -> str:
    """README: the output of ``wire demo``."""
    for _ in range(50):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = cli_main(["demo"])
        text = out.getvalue()
        if status != 0:
            raise RuntimeError(f"wire demo failed with status {status}:\n{text}")
        port = int(re.search(r"https://localhost:(\d+)/", text).group(1))  # type: ignore[union-attr]
        if len(str(port)) == len(PORT):
            break
    text = normalize(text, [port])
    # The timings waterfall's bars follow the measured times: draw the fixed one instead.
    head, sep, _ = text.partition(". timings ")
    if sep:
        title_end = text.index("\n", len(head))
        text = text[: title_end + 1] + WATERFALL + "\n"
    return text.rstrip("\n")


def t_settings() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        env_file = Path(tmp) / ".env"
        env_file.write_text(f"OPENAI_API_KEY={KEY}\nOPENAI_MODEL=gpt-4o\n", encoding="utf-8")
        environ = {"OPENAI_MODEL": "gpt-4.1-mini"}
        settings = Settings.load(env_file, environ=environ)
        lines = [
            f"$ cat .env\n{env_file.read_text(encoding='utf-8').replace(KEY, KEY[:12] + '…')}",
            "$ export OPENAI_MODEL=gpt-4.1-mini",
            ">>> settings = Settings.load()",
            ">>> print(settings_view(settings))",
            settings_view(settings),
            ">>> settings",
            repr(settings),
            ">>> settings.scheme, settings.host, settings.port, settings.base_path",
            repr((settings.scheme, settings.host, settings.port, settings.base_path)),
        ]
        empty = Path(tmp) / "empty.env"
        empty.write_text("# no key here\n", encoding="utf-8")
        try:
            Settings.load(empty, environ={}).require_key()
        except ConfigError as exc:
            lines += [">>> Settings.load('empty.env', environ={}).require_key()", f"ConfigError: {exc}"]
        text = "\n".join(lines)
        return text.replace(str(Path(tmp).resolve()), HOME).replace(tmp, HOME)


def t_payload() -> str:
    plain = build_payload(PROMPT)
    streamed = build_payload(
        [{"role": "system", "content": "Answer in one sentence."}, {"role": "user", "content": "Wie geht's?"}],
        model="gpt-4o",
        stream=True,
        temperature=0,
        stream_options={"include_usage": True},
    )
    return "\n".join(
        [
            ">>> payload = build_payload('Tell me a fun fact about HTTP.')",
            payload_view(plain),
            ">>> encode_payload(payload)",
            repr(encode_payload(plain)),
            ">>> streamed = build_payload([system, user], model='gpt-4o', stream=True, temperature=0,",
            "...                          stream_options={'include_usage': True})",
            ">>> encode_payload(streamed)",
            repr(encode_payload(streamed)),
        ]
    )


# Not ASCII: "ß" is 2 bytes in UTF-8, the emoji 4 (outside the BMP: two \u escapes in JSON's ASCII form).
WIDE_PROMPT = "Wie groß ist ein Byte? 🙂"


def t_payload_bytes() -> str:
    """Characters, UTF-8 bytes and Content-Length of a non-ASCII prompt; json.dumps's default escapes."""
    payload = build_payload(WIDE_PROMPT)
    body = encode_payload(payload)
    request = Client(base_url="https://api.openai.com/v1", api_key=KEY).prepare(WIDE_PROMPT).request
    dumped = json.dumps(payload)
    return "\n".join(
        [
            f">>> text = {WIDE_PROMPT!r}",
            ">>> len(text), len(text.encode('utf-8'))   # characters vs UTF-8 bytes",
            repr((len(WIDE_PROMPT), len(WIDE_PROMPT.encode("utf-8")))),
            ">>> body = encode_payload(build_payload(text))",
            ">>> body",
            repr(body),
            ">>> request = Client(api_key=KEY).prepare(text).request",
            ">>> len(body), len(body.decode('utf-8')), request.header('Content-Length')",
            repr((len(body), len(body.decode("utf-8")), request.header("Content-Length"))),
            ">>> json.dumps(build_payload(text))   # the stdlib's defaults: spaces, and ensure_ascii=True",
            repr(dumped),
            ">>> len(json.dumps(build_payload(text))), len(json.dumps(build_payload(text)).encode('utf-8'))",
            repr((len(dumped), len(dumped.encode("utf-8")))),
        ]
    )


def t_request() -> str:
    client = Client(base_url="https://api.openai.com/v1", api_key=KEY)
    exchange = client.prepare(PROMPT)
    head_len = len(exchange.request.head_bytes())
    lines = [
        ">>> exchange = Client(api_key=KEY).prepare('Tell me a fun fact about HTTP.')   # a dry run",
        request_view(exchange),
        ">>> print(hexdump(exchange.request_bytes[:48]))",
        hexdump(exchange.request_bytes[:48]),
        f">>> exchange.request_bytes[{head_len - 4}:{head_len}]   # the last field's CRLF, then the empty line",
        repr(exchange.request_bytes[head_len - 4 : head_len]),
    ]
    try:
        Client(base_url="https://api.openai.com/v1", api_key=KEY + "\r").prepare(PROMPT)
    except InvalidHeader as exc:
        lines += [
            ">>> Client(api_key=KEY + '\\r').prepare('Hi')   # a stray CR from a Windows .env",
            f"InvalidHeader: {exc}",
        ]
    return "\n".join(lines)


def t_connection() -> tuple[str, list[int]]:
    with fake(tls=True) as server:
        exchange = client_for(server).chat(PROMPT)
        port = server.port
        try:
            Client(base_url=server.base_url, api_key=KEY, timeout=10, max_retries=0).chat(PROMPT)  # no ca_file
            untrusted = "(no error?)"
        except wire.TLSError as exc:
            untrusted = f"TLSError: {exc}"
    text = "\n".join(
        [
            ">>> exchange = Client(base_url=server.base_url, api_key=KEY, ca_file=DEMO_CA_FILE).chat(PROMPT)",
            ">>> print(connection_view(exchange))",
            connection_view(exchange),
            ">>> print(timings_view(exchange.timings))",
            WATERFALL,
            ">>> Client(base_url=server.base_url, api_key=KEY).chat(PROMPT)   # without ca_file",
            untrusted,
        ]
    )
    return text, [port]


def _call(**scenario: Any) -> tuple[Exchange, int]:
    with fake(tls=True, **scenario) as server:
        return client_for(server).chat(PROMPT), server.port


def t_status_and_fields() -> tuple[str, list[int]]:
    exchange, port = _call()
    response = exchange.response
    assert response is not None
    parser = wire.ResponseParser()
    events = parser.feed(exchange.response_bytes)
    text = "\n".join(
        [
            ">>> print(response_head_view(exchange.response))",
            response_head_view(response),
            ">>> ResponseParser().feed(exchange.response_bytes)   # the head's events, with their offsets",
            event_lines(events, body=False),
            ">>> response.header('Content-Type'), response.header('X-REQUEST-ID')",
            repr((response.header("Content-Type"), response.header("X-REQUEST-ID"))),
        ]
    )
    return text, [port]


def t_framing() -> tuple[str, list[int]]:
    chunked, port1 = _call()
    small, port2 = _call(chunk_size=256)
    length, port3 = _call(framing="length")
    assert chunked.response is not None and small.response is not None and length.response is not None
    one_by_one = wire.ResponseParser()
    events: list[wire.Event] = []
    raw = small.response_bytes
    for i in range(len(raw)):
        events += one_by_one.feed(raw[i : i + 1])
    text = "\n".join(
        [
            "# the default: the JSON body in two chunk frames, cut mid-body as the real API does",
            ">>> print(body_view(exchange.response))",
            body_view(chunked.response),
            "",
            "# Scenario(chunk_size=256), fed to ResponseParser one byte at a time (Data events merged)",
            event_lines(events, head=False),
            "",
            "# Scenario(framing='length'): Content-Length instead of chunked",
            body_view(length.response),
        ]
    )
    return text, [port1, port2, port3]


def t_json() -> tuple[str, list[int]]:
    exchange, port = _call()
    completion = exchange.completion
    assert completion is not None and completion.usage is not None
    text = "\n".join(
        [
            ">>> print(json_view(exchange))",
            json_view(exchange),
            ">>> print(answer_view(exchange))",
            answer_view(exchange),
            ">>> exchange.completion.choices[0].finish_reason, exchange.completion.usage",
            repr((completion.choices[0].finish_reason, completion.usage)),
        ]
    )
    return text, [port]


def t_streaming() -> tuple[str, list[int]]:
    with fake(tls=True, keepalive_comments=True, events_per_frame=8) as server:
        stream = client_for(server).stream(PROMPT)
        deltas = list(stream)
        port = server.port
    exchange = stream.exchange
    assert exchange.response is not None and exchange.completion is not None
    usage = exchange.completion.usage
    assert usage is not None
    text = "\n".join(
        [
            "# the server: FakeServer(tls=True, keepalive_comments=True, events_per_frame=8), that is a",
            "# ': keep-alive' comment before every event but the first, and eight SSE blocks per chunk frame",
            ">>> stream = client.stream(PROMPT)",
            ">>> deltas = list(stream)",
            ">>> deltas",
            repr(deltas),
            ">>> len(deltas), stream.exchange.completion.usage.completion_tokens   # deltas are not tokens",
            repr((len(deltas), usage.completion_tokens)),
            ">>> print(sse_view(stream.exchange))",
            sse_view(exchange),
            ">>> print(completion_chunks_view(stream.exchange))",
            completion_chunks_view(exchange),
            ">>> stream.exchange.completion.text",
            repr(exchange.text),
        ]
    )
    return text, [port]


def _short(data: bytes, head: int = 24, tail: int = 24) -> str:
    """``data`` escaped, its middle left out when it is long."""
    if len(data) <= head + tail:
        return escape(data)
    return f"{escape(data[:head])}…({len(data) - head - tail} bytes)…{escape(data[-tail:])}"


def t_streaming_split() -> tuple[str, list[int]]:
    """One SSE event cut across two chunk frames, and the decoder waiting for its blank line."""
    with fake(tls=True, split_events=True) as server:
        stream = client_for(server).stream(PROMPT)
        list(stream)
        port = server.port
    response = stream.exchange.response
    assert response is not None
    first, second = response.frames[1], response.frames[2]
    rows = [
        "# the server: FakeServer(tls=True, split_events=True): one SSE block per chunk frame,",
        "# but the first content event cut in two",
        ">>> frames = stream.exchange.response.frames",
        ">>> frames[1].raw, frames[2].raw   # size line, data, CRLF (middles left out)",
        f"  frame 1: {_short(first.raw)}",
        f"  frame 2: {_short(second.raw)}",
        ">>> data_of = lambda frame: frame.raw[len(frame.size_line) : -2]   # without size line and CRLF",
        ">>> decoder = SSEDecoder()",
        ">>> decoder.feed(data_of(frames[1]))   # no blank line yet: no event",
    ]
    decoder = wire.SSEDecoder()
    rows.append(repr(decoder.feed(first.raw[len(first.size_line) : -2])))
    rows.append(">>> events = decoder.feed(data_of(frames[2]))   # the blank line is here: the event, whole")
    events = decoder.feed(second.raw[len(second.size_line) : -2])
    rows.append(">>> len(events), len(events[0].raw), json.loads(events[0].data)['choices'][0]['delta']")
    rows.append(repr((len(events), len(events[0].raw), json.loads(events[0].data)["choices"][0]["delta"])))
    return "\n".join(rows), [port]


def t_memory() -> tuple[str, list[int]]:
    """README: a two-turn conversation on one client: the list is the memory, the connection saves handshakes."""
    with fake(tls=True) as server:
        client = client_for(server)
        first = client.chat(PROMPT)
        assert first.completion is not None
        messages = [
            {"role": "user", "content": PROMPT},
            {"role": "assistant", "content": first.completion.text},
            {"role": "user", "content": "And another?"},
        ]
        second = client.chat(messages)
        port = server.port
    assert first.completion.usage is not None and second.completion is not None
    assert second.completion.usage is not None

    def took(seconds: float | None) -> str:
        return "none" if seconds is None else f"{seconds * 1000:.1f} ms"

    rows = [
        ">>> client = Client()",
        ">>> first = client.chat('Tell me a fun fact about HTTP.')",
        ">>> messages = [",
        "...     {'role': 'user', 'content': 'Tell me a fun fact about HTTP.'},",
        "...     {'role': 'assistant', 'content': first.completion.text},   # the model's answer, sent back",
        "...     {'role': 'user', 'content': 'And another?'},",
        "... ]",
        ">>> second = client.chat(messages)",
        ">>> second.payload['messages'][1]['content']",
        repr(second.payload["messages"][1]["content"]),
        ">>> first.request.header('Content-Length'), second.request.header('Content-Length')",
        repr((first.request.header("Content-Length"), second.request.header("Content-Length"))),
        ">>> first.completion.usage.prompt_tokens, second.completion.usage.prompt_tokens   # the history, billed again",
        repr((first.completion.usage.prompt_tokens, second.completion.usage.prompt_tokens)),
        ">>> first.reused, second.reused   # same client, same origin: the kept-alive connection",
        repr((first.reused, second.reused)),
        ">>> ms = lambda seconds: 'none' if seconds is None else f'{seconds * 1000:.1f} ms'",
        ">>> for call in (first, second):",
        "...     print(*(f'{p} {ms(call.timings.phases()[p])}' for p in ('dns', 'connect', 'tls')), sep=', ')",
    ]
    for call in (first, second):
        phases = call.timings.phases()
        rows.append(", ".join(f"{phase} {took(phases[phase])}" for phase in ("dns", "connect", "tls")))
    rows += [
        ">>> ms(second.saved_seconds)   # what reuse saved: the first connection's DNS, TCP connect and TLS",
        repr(took(second.saved_seconds)),
    ]
    return "\n".join(rows), [port]


def t_errors() -> tuple[str, list[int]]:
    waits: list[float] = []
    with fake([Scenario(status=429, retry_after="0"), Scenario()]) as server:
        retried = client_for(server, sleep=waits.append, rng=lambda: 0.0).chat(PROMPT)
        port1 = server.port
    rows = [
        ">>> client = Client(..., max_retries=2)",
        ">>> exchange = client.chat(PROMPT)   # the server: 429 once, then 200",
        ">>> for a in exchange.attempts: print(a.number, a.response.status, a.retry_delay, a.error)",
    ]
    for a in retried.attempts:
        status = a.response.status if a.response is not None else None
        rows.append(f"{a.number} {status} {a.retry_delay} {a.error}")
    first = retried.attempts[0].response
    assert first is not None
    rows += [
        ">>> print(response_head_view(exchange.attempts[0].response))",
        response_head_view(first),
        ">>> print(exchange.attempts[0].response.body.decode())",
        first.body.decode().rstrip("\n"),
        ">>> from wire.har import to_har",
        ">>> har = to_har(exchange)   # one HAR entry per attempt",
        ">>> [(e['_attempt'], e['response']['status'], e['connection']) for e in har['log']['entries']]",
        repr(
            [
                (e["_attempt"], e["response"]["status"], e["connection"])
                for e in to_har(retried)["log"]["entries"]
            ]
        ),
    ]
    with fake(status=401) as server:
        port2 = server.port
        try:
            client_for(server).chat(PROMPT)
        except wire.APIError as exc:
            rows += [
                ">>> client.chat(PROMPT)   # the server: 401",
                f"APIError: {exc}",
                ">>> exc.status, exc.type, exc.code, len(exc.exchange.attempts)",
                repr((exc.status, exc.type, exc.code, len(exc.exchange.attempts))),
            ]
    with fake(fault="close_mid_body") as server:
        port3 = server.port
        try:
            client_for(server).chat(PROMPT)
        except wire.IncompleteMessage as exc:
            rows += [
                ">>> client.chat(PROMPT)   # the server: closes the connection after the first chunk frame",
                f"IncompleteMessage: {exc.message}",
                ">>> exc.state, exc.offset, len(exc.received), len(exc.exchange.attempts)",
                repr((exc.state, exc.offset, len(exc.received), len(exc.exchange.attempts))),
            ]
    return "\n".join(rows), [port1, port2, port3]


def t_from_requests() -> tuple[str, list[int]]:
    """docs/from-requests.md: what requests adds and sends, and its calls next to wire's."""
    import requests  # test extra only: this page compares wire with it

    key = "sk-your-key"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    messages: list[dict[str, Any]] = [{"role": "user", "content": PROMPT}]
    payload: dict[str, Any] = {"model": "gpt-4o-mini", "messages": messages}
    url = "https://api.openai.com/v1/chat/completions"
    prepared = requests.Request("POST", url, headers=headers, json=payload).prepare()
    rows = [
        ">>> importlib.metadata.version('requests')",
        repr(importlib.metadata.version("requests")),
        ">>> headers = {'Content-Type': 'application/json', 'Authorization': 'Bearer sk-your-key'}",
        ">>> payload = {'model': 'gpt-4o-mini', 'messages': [{'role': 'user', 'content': PROMPT}]}",
        ">>> prepared = requests.Request('POST', URL, headers=headers, json=payload).prepare()",
        ">>> prepared.headers   # json= adds Content-Length (and Content-Type, had we not set it)",
        repr(dict(prepared.headers)),
        ">>> prepared.body   # json.dumps's defaults: a space after every ',' and ':'",
        repr(prepared.body),
        ">>> requests.Session().headers   # what every Session (and so requests.post) adds",
        repr(dict(requests.Session().headers)),
    ]
    with fake() as server:  # plain HTTP: the server records what arrived, in wire order
        port1 = server.port
        response = requests.post(server.base_url + "/chat/completions", headers=headers, json=payload, timeout=10)
        sent_by_requests = server.requests[-1].headers
        exchange = Client(base_url=server.base_url, api_key=key, timeout=10).chat(messages)
        sent_by_wire = server.requests[-1].headers
    assert exchange.response is not None and exchange.completion is not None
    rows += [
        ">>> url = server.base_url + '/chat/completions'",
        ">>> response = requests.post(url, headers=headers, json=payload, timeout=10)",
        ">>> server.requests[-1].headers   # what arrived: urllib3 added Host",
        repr(sent_by_requests),
        ">>> exchange = wire.Client(base_url=server.base_url, api_key='sk-your-key').chat(payload['messages'])",
        ">>> server.requests[-1].headers",
        repr(sent_by_wire),
        ">>> response.json() == json.loads(exchange.response.body)   # the same reply, parsed the same way",
        repr(response.json() == json.loads(exchange.response.body)),
        ">>> response.json()['choices'][0]['message']['content'] == exchange.completion.text",
        repr(response.json()["choices"][0]["message"]["content"] == exchange.completion.text),
    ]
    with fake(status=401) as server:
        port2 = server.port
        response = requests.post(server.base_url + "/chat/completions", headers=headers, json=payload, timeout=10)
        try:
            response.raise_for_status()
        except requests.HTTPError as exc:
            rows += [">>> response.raise_for_status()   # the server: 401", f"HTTPError: {exc}"]
        try:
            Client(base_url=server.base_url, api_key=key, timeout=10).chat(messages)
        except wire.APIError as exc:
            rows += [
                ">>> wire.Client(...).chat(payload['messages'])   # the same 401",
                f"APIError: {exc}",
                ">>> exc.status, exc.type, exc.code   # read from the error body for you",
                repr((exc.status, exc.type, exc.code)),
            ]
    with fake(keepalive_comments=True) as server:
        port3 = server.port
        streamed: dict[str, Any] = {**payload, "stream": True}
        response = requests.post(server.base_url + "/chat/completions", headers=headers, json=streamed, timeout=10)
        lines = list(response.iter_lines())
        events = wire.SSEDecoder().feed(response.content)
    rows += [
        "# the server: FakeServer(keepalive_comments=True), a ': keep-alive' comment between events",
        ">>> response = requests.post(..., json={**payload, 'stream': True}, timeout=10)",
        ">>> lines = list(response.iter_lines())   # lines, nothing more",
        ">>> len(lines), lines[:4]   # (long lines cut here)",
        repr((len(lines), [line if len(line) < 40 else line[:40] + b"..." for line in lines[:4]])),
        ">>> events = SSEDecoder().feed(response.content)   # events: data joined, comments set aside",
        ">>> len(events), events[0].data[:40], events[-1].data",
        repr((len(events), events[0].data[:40], events[-1].data)),
    ]
    return "\n".join(rows), [port1, port2, port3]
def _cli(args: list[str]) -> tuple[int, str]:
    """Run the ``wire`` command line in-process, as a shell would (no colour); its status and output."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli_main(args)
    return status, out.getvalue()


@contextlib.contextmanager
def _in_temporary_folder() -> Iterator[Path]:
    """Run in a fresh temporary folder, so that paths in a transcript are short and the same on every run."""
    here = Path.cwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            yield Path(tmp)
        finally:
            os.chdir(here)


def t_record() -> tuple[str, list[int]]:
    """13: wire serve --record's printout for http.client and wire, then wire diff of the two files."""
    import http.client

    from wire.record import Recorder

    with _in_temporary_folder():
        printed = io.StringIO()
        recorder = Recorder("requests", out=printed)
        with fake(on_request=recorder) as server:
            port = server.port
            body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": PROMPT}]})
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request(
                "POST",
                "/v1/chat/completions",
                body,
                {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"},
            )
            connection.getresponse().read()
            connection.close()
            client_for(server, max_retries=0).chat(PROMPT, model="gpt-4o-mini")
        rows = ["$ wire serve --port 0 --record requests   # then http.client, then wire, send the same question"]
        rows.append(printed.getvalue().strip("\n"))
        status, out = _cli(["diff", "requests/0001.http", "requests/0002.http"])
        rows += ["", "$ wire diff requests/0001.http requests/0002.http", out.rstrip("\n"), f"$ echo $?\n{status}"]
        status, out = _cli(["diff", "requests/0002.http", "--wire"])
        rows += ["", "$ wire diff requests/0002.http --wire", out.rstrip("\n"), f"$ echo $?\n{status}"]
    return "\n".join(rows), [port]


def t_parse() -> tuple[str, list[int]]:
    """13: wire parse of a saved reply (Content-Length, JSON), every layer."""
    with fake(framing="length") as server:
        exchange = client_for(server, max_retries=0).chat(PROMPT)
        port = server.port
    with _in_temporary_folder():
        Path("reply.http").write_bytes(exchange.response_bytes)
        status, out = _cli(["parse", "reply.http", "--show", "response,body,answer,annotated"])
    rows = [
        "$ curl -sS --raw -i ... > reply.http   # or: nc",
        "$ wire parse reply.http --show response,body,answer,annotated",
    ]
    rows += [out.rstrip("\n"), f"$ echo $?\n{status}"]
    return "\n".join(rows), [port]


# A reply from a hand-written server: the chunk size line has a sign, which RFC 9112 §7.1 does not allow.
BROKEN_REPLY = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    b'c\r\n{"answer": 4\r\n+2\r\n2}\r\n0\r\n\r\n'
)


def t_parse_fault() -> str:
    """13: wire parse of bytes that break HTTP/1.1: the rule, the offset, a caret under the byte."""
    with _in_temporary_folder():
        Path("broken.http").write_bytes(BROKEN_REPLY)
        status, out = _cli(["parse", "broken.http"])
    return "\n".join(["$ wire parse broken.http", out.rstrip("\n"), f"$ echo $?\n{status}"])
@contextlib.contextmanager
def wire_command(stdin: bytes) -> Iterator[io.StringIO]:
    """For ``cli_main``: the key in the environment (nothing else of the caller's), ``stdin`` piped, stdout caught."""

    class Piped(io.TextIOWrapper):
        def isatty(self) -> bool:
            return False

    saved = {name: os.environ.pop(name, None) for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL")}
    os.environ["OPENAI_API_KEY"] = KEY
    stdin_was = sys.stdin
    sys.stdin = Piped(io.BytesIO(stdin), encoding="utf-8")
    out = io.StringIO()
    cwd = os.getcwd()
    try:
        with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(out):
            os.chdir(tmp)  # no .env of the checkout: an empty one here
            Path(".env").write_text("# empty: the settings come from the command line\n", encoding="utf-8")
            yield out
    finally:
        os.chdir(cwd)
        sys.stdin = stdin_was
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value


TURNS = "What does keep-alive save?\nAnd what does the model remember?\n"


def t_chat_interactive() -> tuple[str, list[int]]:
    """README and tour page 10: ``wire chat -i`` with two piped turns and /history."""
    with fake() as server, wire_command((TURNS + "/history\n").encode()) as out:
        status = cli_main(["chat", "-i", "--base-url", server.base_url, "-s", "Answer in one sentence."])
        if status != 0:
            raise RuntimeError(f"wire chat -i failed with status {status}:\n{out.getvalue()}")
    typed = (TURNS + "/history\n").replace("\n", "\\n")
    lines = [
        f"$ export OPENAI_BASE_URL={server.base_url}   # wire serve: the fake server",
        f"$ printf '{typed}' | wire chat -i -s 'Answer in one sentence.'",
        out.getvalue(),
    ]
    return "\n".join(lines), [server.port]


HISTORY = [
    {"role": "user", "content": "My name is Ada."},
    {"role": "assistant", "content": "Hello, Ada."},
]


def t_chat_options() -> tuple[str, list[int]]:
    """Tour page 10: the conversation options, in a dry run's payload view."""
    with fake() as server, wire_command(json.dumps(HISTORY).encode()) as out:
        argv = ["chat", "--base-url", server.base_url, "--dry-run", "--show", "payload", "--messages", "-",
                "-s", "Answer in one sentence.", "-o", "temperature", "0", "-o", "max_tokens", "50",
                "What is my name?"]
        if cli_main(argv) != 0:
            raise RuntimeError(f"wire chat --dry-run failed:\n{out.getvalue()}")
    lines = [
        f"$ echo '{json.dumps(HISTORY)}' > history.json",
        "$ wire chat --dry-run --show payload --messages history.json -s 'Answer in one sentence.' \\",
        "    -o temperature 0 -o max_tokens 50 'What is my name?'",
        out.getvalue(),
    ]
    return "\n".join(lines), [server.port]


def t_history() -> tuple[str, list[int]]:
    """Tour page 10: two turns from Python, the second request carrying the first."""
    with fake() as server:
        client = client_for(server)
        history: list[dict[str, Any]] = [{"role": "user", "content": "My name is Ada."}]
        first = client.chat(history)
        history += [{"role": "assistant", "content": first.text}, {"role": "user", "content": "What is my name?"}]
        second = client.chat(history)
        client.close()
    assert first.completion is not None and second.completion is not None
    assert first.completion.usage is not None and second.completion.usage is not None
    rows = [
        ">>> history = [{'role': 'user', 'content': 'My name is Ada.'}]",
        ">>> first = client.chat(history)",
        ">>> history += [{'role': 'assistant', 'content': first.text},",
        "...             {'role': 'user', 'content': 'What is my name?'}]",
        ">>> second = client.chat(history)   # the same client: the kept-alive connection",
        ">>> print(payload_view(second.payload))",
        payload_view(second.payload),
        ">>> len(first.request_bytes), len(second.request_bytes), second.reused",
        repr((len(first.request_bytes), len(second.request_bytes), second.reused)),
        ">>> first.completion.usage.prompt_tokens, second.completion.usage.prompt_tokens",
        repr((first.completion.usage.prompt_tokens, second.completion.usage.prompt_tokens)),
    ]
    return "\n".join(rows), [server.port]


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "The local time in a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


def t_tools() -> tuple[str, list[int]]:
    """Tour page 10: the tool round trip, not streamed and streamed."""
    question: list[dict[str, Any]] = [{"role": "user", "content": "Paris"}]
    with fake() as server:
        client = client_for(server)
        first = client.chat(question, tools=TOOLS)
        assert first.completion is not None
        call = first.json["choices"][0]["message"]["tool_calls"][0]
        result = json.dumps({"city": "Paris", "time": "14:05"})
        history: list[dict[str, Any]] = [
            *question,
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call["id"], "content": result},
        ]
        second = client.chat(history, tools=TOOLS)
        streamed = client.chat(question, tools=TOOLS, stream=True)
        client.close()
    body = second.request.body
    rows = [
        ">>> TOOLS = [{'type': 'function', 'function': {'name': 'get_time', 'parameters': {...}}}]",
        ">>> first = client.chat([{'role': 'user', 'content': 'Paris'}], tools=TOOLS)",
        ">>> first.request.body",
        repr(first.request.body),
        ">>> print(json.dumps(first.json['choices'][0], indent=2))",
        json.dumps(first.json["choices"][0], indent=2),
        ">>> call = first.json['choices'][0]['message']['tool_calls'][0]",
        ">>> history = [*question, {'role': 'assistant', 'content': None, 'tool_calls': [call]},",
        "...            {'role': 'tool', 'tool_call_id': call['id'], 'content': get_time('Paris')}]",
        ">>> second = client.chat(history, tools=TOOLS)",
        ">>> second.request.body[second.request.body.index(b'{\"role\":\"tool\"'):]",
        repr(body[body.index(b'{"role":"tool"') :]),
        ">>> second.text, second.completion.choices[0].finish_reason",
        repr((second.text, second.completion.choices[0].finish_reason if second.completion else None)),
        ">>> print(completion_chunks_view(client.chat(question, tools=TOOLS, stream=True)))",
        completion_chunks_view(streamed),
    ]
    return "\n".join(rows), [server.port]


def t_coding() -> tuple[str, list[int]]:
    with fake(coding="auto") as server:
        plain = client_for(server).chat(PROMPT)
        exchange = client_for(server, compressed=True).chat(PROMPT)
        port1 = server.port
    response = exchange.response
    assert response is not None and plain.response is not None and exchange.coding is not None
    rows = [
        ">>> client = Client(base_url=server.base_url, api_key=KEY, compressed=True)   # FakeServer(coding='auto')",
        ">>> exchange = client.chat(PROMPT)",
        ">>> exchange.request.header('Accept-Encoding')",
        repr(exchange.request.header("Accept-Encoding")),
        ">>> print(response_head_view(exchange.response))",
        response_head_view(response),
        ">>> print(body_view(exchange.response))   # the body as framed: gzip bytes",
        body_view(response),
        ">>> exchange.response.body[:10]   # the gzip header, RFC 1952 §2.3: magic 1f 8b, method 8 (deflate), ...",
        repr(response.body[:10]),
        ">>> print(coding_view(exchange))",
        coding_view(exchange),
        ">>> exchange.decoded_body == plain.response.body   # the same JSON a call without compression gets",
        repr(exchange.decoded_body == plain.response.body),
    ]
    with fake(coding="br") as server:
        port2 = server.port
        try:
            client_for(server, compressed=True, max_retries=0).chat(PROMPT)
        except wire.ProtocolError as exc:
            rows += [
                ">>> client.chat(PROMPT)   # a server that answers Content-Encoding: br",
                f"ProtocolError: {exc}",
            ]
    return "\n".join(rows), [port1, port2]


def t_pace() -> tuple[str, list[int], str]:
    scenario = Scenario(first_delay=0.3, delta_delay=0.05, jitter=0.02, seed=1)
    with fake(scenario) as server:
        stream = client_for(server).stream(PROMPT)
        deltas = list(stream)
        port = server.port
    exchange = stream.exchange
    measured = exchange.stream_timings
    assert measured is not None and exchange.completion is not None
    planned = delta_delays(scenario, len(deltas))
    rows = [
        ">>> scenario = Scenario(first_delay=0.3, delta_delay=0.05, jitter=0.02, seed=1)",
        ">>> [round(wait, 3) for wait in delta_delays(scenario, 15)]   # the fake server's waits, the same every run",
        repr([round(wait, 3) for wait in planned]),
        ">>> stream = client.stream(PROMPT)   # against FakeServer(scenario)",
        ">>> deltas = list(stream)",
        ">>> pace = stream.exchange.stream_timings",
        ">>> pace.deltas, len(pace.gaps), round(pace.time_to_first_delta, 1) >= 0.3   # measured: true on every run",
        repr((measured.deltas, len(measured.gaps), round(measured.time_to_first_delta or 0, 1) >= 0.3)),
        ">>> print(pace_view(pace))",
        PACE,
    ]
    # The measured figures vary by a few ms from run to run: the view is drawn for deltas that arrive
    # exactly as planned (first byte after 1.0 ms), with the call's real usage.
    sent = 0.004
    moments = [sent + sum(planned[: k + 1]) for k in range(len(planned))]
    ideal = stream_timings(Timings(request_sent=sent, first_byte=0.005), moments, exchange.completion.usage)
    return "\n".join(rows), [port], pace_view(ideal)


TRANSCRIPTS: dict[str, Callable[[], str | tuple[str, list[int]] | tuple[str, list[int], str]]] = {
    "demo": t_demo,
    "settings": t_settings,
    "payload": t_payload,
    "payload-bytes": t_payload_bytes,
    "request": t_request,
    "connection": t_connection,
    "status-and-fields": t_status_and_fields,
    "framing": t_framing,
    "json": t_json,
    "streaming": t_streaming,
    "streaming-split": t_streaming_split,
    "errors": t_errors,
    "memory": t_memory,
    "from-requests": t_from_requests,
    "record": t_record,
    "parse": t_parse,
    "parse-fault": t_parse_fault,
    "history": t_history,
    "chat-options": t_chat_options,
    "chat-interactive": t_chat_interactive,
    "tools": t_tools,
    "content-coding": t_coding,
    "pace": t_pace,
}


# Said under a transcript, inside its markers (for pages whose other text this script must not touch).
NOTES = {
    "demo": (
        f"\n(Made by `scripts/make_docs.py`: the port is shown as {PORT} and every duration as {MS};\n"
        "see [docs/tour](docs/tour/README.md#how-the-transcripts-are-made).)\n\n"
    ),
    "memory": (
        "\n(Made by `scripts/make_docs.py` against wire's fake server over TLS, so `Client()` here is a client\n"
        f"for it; every duration is shown as {MS}.)\n\n"
    ),
}


def transcript(name: str) -> str:
    """The normalized text of transcript ``name``."""
    result = TRANSCRIPTS[name]()
    text, ports = (result[0], result[1]) if isinstance(result, tuple) else (result, [])
    pace = result[2] if isinstance(result, tuple) and len(result) > 2 else ""
    # The fixed waterfall and the planned pace go in after normalizing: their times are not measured.
    return normalize(text, ports).replace(WATERFALL, timings_view(FIXED_TIMINGS)).replace(PACE, pace).rstrip("\n")


# -- rewriting the pages ------------------------------------------------------------

_OPEN = re.compile(r"^<!-- transcript:([\w-]+) -->$", re.MULTILINE)  # alone on its line


def rewrite(page: str, texts: dict[str, str]) -> str:
    """``page`` with the region after each ``<!-- transcript:NAME -->`` replaced, up to its closing marker."""
    out, pos = [], 0
    for match in _OPEN.finditer(page):
        if match.start() < pos:
            continue
        name = match.group(1)
        if name not in TRANSCRIPTS:
            raise KeyError(f"unknown transcript {name!r}; known: {', '.join(TRANSCRIPTS)}")
        closing = f"<!-- /transcript:{name} -->"
        end = page.find(closing, match.end())
        out.append(page[pos : match.end()])
        note = NOTES.get(name, "")
        out.append(f"\n```text\n{texts[name]}\n```\n{note}{closing}")
        pos = match.end() if end < 0 else end + len(closing)
    out.append(page[pos:])
    return "".join(out)


def render() -> dict[Path, tuple[str, str]]:
    """For every page with transcripts: (current text, regenerated text)."""
    pages = {p: p.read_text(encoding="utf-8") for p in PAGES}
    names = {name for text in pages.values() for name in _OPEN.findall(text)}
    texts = {name: transcript(name) for name in sorted(names)}
    return {p: (text, rewrite(text, texts)) for p, text in pages.items() if _OPEN.search(text)}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path, (old, new) in render().items():
        if old == new:
            continue
        stale.append(path.relative_to(ROOT))
        if not check:
            path.write_text(new, encoding="utf-8")
    verb = "stale" if check else "rewritten"
    print(f"{verb}: {', '.join(map(str, stale))}" if stale else "all transcripts up to date")
    return 1 if check and stale else 0


if __name__ == "__main__":
    os.environ.pop("SSLKEYLOGFILE", None)
    raise SystemExit(main(sys.argv[1:]))
