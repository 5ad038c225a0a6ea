"""Every layer of a call as HTML for a Jupyter notebook, and a streamed reply shown live in one output.

Jupyter shows an object by calling its ``_repr_html_`` (IPython's rich display
protocol); ``Exchange``, ``Response``, ``ServerSentEvent``, ``ChatCompletion``
and every ``WireError`` have one that calls ``html()`` here, and a
``_repr_pretty_`` (IPython's terminal) that calls ``pretty()``.

The HTML is made from the text views of ``wire.show``, the ones
``wire chat --show`` prints: each layer is one ``<details>`` block (click its
title to fold it), in wire order, its text in a ``<pre>`` with the direction
markers (``>`` sent, ``<`` received), the visible line ends and the timing bars
colored. The timings get a waterfall drawn as inline SVG.

Safe for any reply: every string goes through ``html.escape(..., quote=True)``
before it reaches the markup, so an answer, reason phrase, field, error
message or JSON key holding ``<script>``, ``<img onerror=…>`` or ``"`` shows as
text. The key is redacted (``sk-…abcd``) as in every other view.

``live(stream)`` shows a streamed reply in one output that grows as the deltas
arrive (IPython's display handles), then turns into the whole exchange.
IPython is imported only there, and only when it is installed: wire needs no
notebook to run.
"""

from __future__ import annotations

import html as _html
import importlib
import json
import os
import re
import sys
import time
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from wire import show
from wire.chat import CHAT_PATH, ChatCompletion
from wire.errors import WireError
from wire.exchange import Exchange
from wire.http11 import Response
from wire.secrets import Secret, key_shaped, redact_text
from wire.sse import ServerSentEvent

if TYPE_CHECKING:
    from wire.client import ChatStream
    from wire.config import Settings

# The layers open when an exchange is first shown; the others are folded (their titles stay).
OPEN_LAYERS = ("answer", "timings")
# How often, at most, ``live()`` redraws its output while deltas arrive (seconds between redraws).
LIVE_INTERVAL = 0.05
# How wide the timings waterfall is drawn (SVG user units, about pixels).
WATERFALL_WIDTH = 420

# The ANSI styles wire.show paints with (show.paint), as CSS classes.
_CLASS_OF = {"36": "out", "32": "in", "2": "dim", "1": "name", "1;4": "name", "31": "error", "35": "bar"}
_PAINTED = re.compile("\x1b\\[([0-9;]+)m(.*?)\x1b\\[0m")
# A section title of show.exchange_view(color=True): "── 3. request bytes ───── wire/request.py".
_TITLE = re.compile("^\x1b\\[1;4m── \\d+\\. (.*?) ─+\x1b\\[0m \x1b\\[2m(.*?)\x1b\\[0m$", re.MULTILINE)

_STYLE = """<style>
.wire-nb { font-family: var(--jp-ui-font-family, sans-serif); font-size: 13px; line-height: 1.4; max-width: 960px; }
.wire-nb .wire-top { padding: 4px 0 6px 0; }
.wire-nb .wire-answer { border-left: 3px solid #2b8a3e; padding: 2px 8px; margin: 4px 0 8px 0; white-space: pre-wrap; }
.wire-nb details { border: 1px solid rgba(128, 128, 128, 0.35); border-radius: 4px; margin: 3px 0; }
.wire-nb summary { cursor: pointer; padding: 3px 8px; background: rgba(128, 128, 128, 0.08); }
.wire-nb summary .wire-where, .wire-nb .dim { opacity: 0.6; }
.wire-nb pre { margin: 0; padding: 6px 8px; overflow-x: auto; white-space: pre;
  font-family: var(--jp-code-font-family, monospace); font-size: 12px; background: none; }
.wire-nb .out { color: #1971c2; } .wire-nb .in { color: #2b8a3e; } .wire-nb .name { font-weight: bold; }
.wire-nb .error { color: #e03131; } .wire-nb .bar { color: #ae3ec9; }
.wire-nb table { border-collapse: collapse; margin: 4px 8px; }
.wire-nb td { padding: 1px 10px 1px 0; text-align: left; }
</style>"""


def esc(text: str) -> str:
    """``text`` as HTML text: ``& < > " '`` escaped, so nothing in it can become markup."""
    return _html.escape(text, quote=True)


def pre(text: str) -> str:
    """A view of ``wire.show`` (plain or painted) as a ``<pre>`` block: escaped, its ANSI styles as CSS classes."""
    escaped = esc(text)
    painted = _PAINTED.sub(lambda m: f'<span class="{_CLASS_OF.get(m[1], "dim")}">{m[2]}</span>', escaped)
    # The views escape control bytes from the server themselves (show.escape, show.printable); this only
    # keeps an ESC that slipped through as visible text.
    return "<pre>" + painted.replace("\x1b", "\\x1b") + "</pre>"


def layer(title: str, where: str, body: str, *, is_open: bool = False) -> str:
    """One collapsible layer: its title and the module that owns it, then ``body`` (HTML)."""
    opened = " open" if is_open else ""
    return (
        f'<details{opened}><summary><span class="name">{esc(title)}</span> '
        f'<span class="wire-where">{esc(where)}</span></summary>{body}</details>'
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _box(kind: str, inner: str) -> str:
    return f'<div class="wire-nb {kind}">{_STYLE}{inner}</div>'


# --- an exchange ---


def sections(
    exchange: Exchange, *, settings: Settings | None = None, show_secrets: bool = False
) -> list[tuple[str, str, str]]:
    """The layers of ``show.exchange_view`` as (title, module, painted text), in wire order, secrets redacted."""
    text = show.exchange_view(exchange, settings=settings, show_secrets=show_secrets, color=True)
    titles = list(_TITLE.finditer(text))
    out = []
    for i, m in enumerate(titles):
        end = titles[i + 1].start() if i + 1 < len(titles) else len(text)
        out.append((m[1], m[2], text[m.end() + 1 : end].rstrip("\n")))
    return out


def _settings_text(exchange: Exchange, show_secrets: bool) -> str:
    """Where the call went, the model and the key it carried (redacted), when no ``Settings`` were given."""
    secrets = show.secrets_of(exchange)
    key = "(none)" if not secrets else secrets[0].value if show_secrets else secrets[0].shown
    rows = [("base URL", exchange.base_url), ("model", str(exchange.payload.get("model"))), ("API key", key)]
    return "\n".join(f"  {show.paint(name.ljust(8), 'name', True)}  {value}" for name, value in rows)


def exchange_html(
    exchange: Exchange,
    *,
    settings: Settings | None = None,
    show_secrets: bool = False,
    open_layers: Collection[str] = OPEN_LAYERS,
) -> str:
    """Every layer of ``exchange`` as HTML: a summary line, the answer, then one ``<details>`` per layer.

    ``open_layers`` names the layers shown unfolded, by the first word of
    their title (``"request"``, ``"response"``, ``"answer"``, ...; ``"all"`` for every one).
    """
    found = sections(exchange, settings=settings, show_secrets=show_secrets)
    if settings is None:
        found.insert(0, ("settings", "wire/config.py", _settings_text(exchange, show_secrets)))
    blocks = []
    for number, (title, where, text) in enumerate(found, 1):
        key = re.split(r"[\s:]", title, maxsplit=1)[0].lower()
        body = waterfall(exchange) + _other_lines(text) if key == "timings" else pre(text)
        is_open = "all" in open_layers or key in open_layers
        blocks.append(layer(f"{number}. {title}", where, body, is_open=is_open))
    return _box("wire-exchange", _summary(exchange, show_secrets) + "".join(blocks))


def _summary(exchange: Exchange, show_secrets: bool) -> str:
    """The call in one line: method, URL, status, bytes each way, time; the answer below it."""
    secrets = [] if show_secrets else show.secrets_of(exchange)
    response = exchange.response
    status = f"{response.status} {response.reason}" if response is not None else "no complete reply"
    took = exchange.timings.done
    line = (
        f"{exchange.request.method} {exchange.base_url}{CHAT_PATH}"
        f" → {status} · {len(exchange.request_bytes)} bytes out, {len(exchange.response_bytes)} bytes in"
        + (" · streamed" if exchange.stream else "")
        + (f" · {_ms(took)}" if took is not None else "")
    )
    top = f'<div class="wire-top"><span class="name">{esc(redact_text(line, secrets))}</span></div>'
    if exchange.text:
        top += f'<div class="wire-answer">{esc(redact_text(show.printable(exchange.text), secrets))}</div>'
    return top


def _other_lines(timings_text: str) -> str:
    """The lines of the timings view besides its bars and total (the SVG draws those), as ``<pre>``; or ""."""
    drawn = {"dns", "connect", "tunnel", "tls", "send", "wait", "receive", "total"}
    other = [line for line in timings_text.splitlines() if not set(line.split()[:1]) & drawn]
    return pre("\n".join(other)) if other else ""


def waterfall(exchange: Exchange) -> str:
    """The timings as an SVG waterfall: one bar per phase, each starting where the one before ended, then the total."""
    phases = [(name, took) for name, took in exchange.timings.phases().items() if took is not None]
    total = sum(took for _, took in phases)
    scale = WATERFALL_WIDTH / total if total > 0 else 0.0
    row, label = 18, 70
    rows = []
    at = 0.0
    for i, (name, took) in enumerate(phases):
        y = i * row
        x, width = label + at * scale, max(1.0, took * scale)
        rows.append(
            f'<text x="0" y="{y + 13}" font-size="12" fill="currentColor">{esc(name)}</text>'
            f'<rect x="{x:.1f}" y="{y + 3}" width="{width:.1f}" height="12" fill="#ae3ec9" rx="2"/>'
            f'<text x="{x + width + 4:.1f}" y="{y + 13}" font-size="11" fill="currentColor">{esc(_ms(took))}</text>'
        )
        at += took
    y = len(phases) * row
    rows.append(f'<text x="0" y="{y + 13}" font-size="12" font-weight="bold" fill="currentColor">total</text>')
    rows.append(f'<text x="{label}" y="{y + 13}" font-size="11" fill="currentColor">{esc(_ms(total))}</text>')
    height = (len(phases) + 1) * row + 4
    return (
        f'<svg width="{label + WATERFALL_WIDTH + 80}" height="{height}" role="img" '
        f'aria-label="timings waterfall" style="margin: 6px 8px">{"".join(rows)}</svg>'
    )


# --- the other objects a cell may end with ---

# A Response, event or completion shown on its own does not know the key its call carried, and a
# server may have echoed it. Its view redacts anything shaped like an OpenAI key ("sk-", then at
# least 16 of the characters keys are made of: wire.secrets.KEY_SHAPE), and the key in the environment.


def found_secrets(*data: bytes) -> list[Secret]:
    """The keys to redact in a view of ``data`` made without its exchange: ``OPENAI_API_KEY``, and key-shaped text."""
    found = {key for part in data for key in key_shaped(part.decode("latin-1"))}
    env = os.environ.get("OPENAI_API_KEY", "").strip()
    # Longest first: a key that contains another key-shaped string is replaced whole.
    return [Secret.key(k) for k in sorted(found | ({env} if env else set()), key=len, reverse=True)]


def response_html(response: Response) -> str:
    """A parsed response: its head (status line, fields) and its body framing."""
    secrets = found_secrets(response.raw, response.body)
    status = redact_text(f"{response.status} {response.reason}", secrets)
    inner = f'<div class="wire-top"><span class="name">{esc(status)}</span></div>'
    head = redact_text(show.response_head_view(response, color=True), secrets)
    inner += layer("response head", "wire/http11/parser.py", pre(head), is_open=True)
    body = redact_text(show.body_view(response, color=True, secrets=secrets), secrets)
    inner += layer(f"body framing: {response.framing.value}", "wire/http11/framing.py", pre(body), is_open=True)
    return _box("wire-response", inner)


def response_text(response: Response) -> str:
    """A response as text: its head and its body framing, key-shaped text redacted."""
    secrets = found_secrets(response.raw, response.body)
    text = show.response_head_view(response) + "\n" + show.body_view(response, secrets=secrets)
    return redact_text(text, secrets)


def event_html(event: ServerSentEvent) -> str:
    """One server-sent event: its fields, then its bytes as received."""
    secrets = found_secrets(event.raw, event.data.encode(), str(event.id).encode())
    rows = [("event", event.event), ("id", str(event.id)), ("retry", str(event.retry)), ("offset", str(event.offset))]
    table = "".join(f'<tr><td class="name">{esc(n)}</td><td>{esc(redact_text(v, secrets))}</td></tr>' for n, v in rows)
    data = f"<pre>{esc(redact_text(show.printable(event.data), secrets))}</pre>"
    raw_text = show.byte_lines(show.redact_bytes(event.raw, secrets), "<", color=True, direction="in")
    raw = pre(raw_text) if event.raw else ""
    return _box(
        "wire-event",
        f"<table>{table}</table>{layer('data', 'wire/sse.py', data, is_open=True)}"
        + (layer("bytes", "wire/sse.py", raw) if raw else ""),
    )


def completion_text(completion: ChatCompletion) -> str:
    """A completion as text: each choice's answer and finish_reason, then the usage; key-shaped text redacted."""
    lines = []
    for choice in completion.choices:
        if choice.message.content:
            lines.append(show.printable(choice.message.content))
        for call in choice.message.tool_calls:
            lines.append(show.printable(f"tool call {call.id}: {call.name or call.type}({call.input or ''})"))
        lines.append(show.printable(f"(role {choice.message.role}, finish_reason {choice.finish_reason})"))
    usage = completion.usage
    if usage is not None:
        lines.append(
            f"usage: {usage.prompt_tokens} prompt + {usage.completion_tokens} completion = {usage.total_tokens} tokens"
        )
    return redact_text("\n".join(lines), found_secrets(_json_bytes(completion)))


def _json_bytes(completion: ChatCompletion) -> bytes:
    return json.dumps(completion.raw, ensure_ascii=False).encode()


def completion_html(completion: ChatCompletion) -> str:
    """A completion: the answer and usage, then its JSON."""
    secrets = found_secrets(_json_bytes(completion))
    title = redact_text(f"{completion.object} {completion.id} ({completion.model})", secrets)
    head = f'<div class="wire-top"><span class="name">{esc(title)}</span></div>'
    answer = f"<pre>{esc(completion_text(completion))}</pre>"
    raw_json = redact_text(show.printable(json.dumps(completion.raw, indent=2, ensure_ascii=False)), secrets)
    raw = f"<pre>{esc(raw_json)}</pre>"
    return _box(
        "wire-completion",
        head + layer("answer", "wire/chat.py", answer, is_open=True) + layer("JSON", "wire/chat.py", raw),
    )


def error_text(error: BaseException) -> str:
    """An error as one line: its class and its message (already redacted by the client)."""
    return show.printable(f"{type(error).__name__}: {error}")


def error_html(error: WireError) -> str:
    """An error: its class and message, then the exchange it ended (every layer that arrived), if any."""
    inner = f'<div class="wire-top"><span class="error">{esc(error_text(error))}</span></div>'
    exchange = error.exchange
    if isinstance(exchange, Exchange):
        inner += exchange_html(exchange, open_layers=("response", "json", "timings"))  # the error body
    return _box("wire-error", inner)


# --- the protocols IPython calls ---


def html(obj: object) -> str:
    """The HTML ``obj._repr_html_()`` returns, for each kind of object wire shows."""
    if isinstance(obj, Exchange):
        return exchange_html(obj)
    if isinstance(obj, Response):
        return response_html(obj)
    if isinstance(obj, ServerSentEvent):
        return event_html(obj)
    if isinstance(obj, ChatCompletion):
        return completion_html(obj)
    if isinstance(obj, WireError):
        return error_html(obj)
    return f"<pre>{esc(repr(obj))}</pre>"


def pretty(obj: object) -> str:
    """The text ``obj._repr_pretty_()`` prints in IPython's terminal: the same layers as the HTML."""
    if isinstance(obj, Exchange):
        return show.exchange_view(obj)
    if isinstance(obj, Response):
        return response_text(obj)
    if isinstance(obj, ChatCompletion):
        return completion_text(obj)
    if isinstance(obj, WireError):
        text = error_text(obj)
        return text + ("\n\n" + show.exchange_view(obj.exchange) if isinstance(obj.exchange, Exchange) else "")
    text = repr(obj)  # a ServerSentEvent: its repr quotes the data
    return redact_text(text, found_secrets(text.encode()))


def repr_pretty(obj: object, printer: Any, cycle: bool) -> None:
    """IPython's ``_repr_pretty_(p, cycle)``: ``pretty(obj)``, line by line (a cycle cannot happen here)."""
    for i, line in enumerate(pretty(obj).split("\n")):
        if i:
            printer.break_()
        printer.text(line)


# --- a stream, live ---


def _kernel() -> Any:
    """The running IPython kernel's shell, or None (plain Python, or IPython in a terminal)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    shell = ipython.get_ipython()
    return shell if shell is not None and getattr(shell, "kernel", None) is not None else None


def live_html(text: str, deltas: int, exchange: Exchange) -> str:
    """What ``live()`` shows while a stream runs: the answer so far and how many deltas made it."""
    secrets = show.secrets_of(exchange)
    top = f'<div class="wire-top"><span class="dim">streaming: {deltas} deltas so far …</span></div>'
    return _box("wire-live", top + f'<div class="wire-answer">{esc(redact_text(show.printable(text), secrets))}</div>')


def live(stream: ChatStream, *, interval: float = LIVE_INTERVAL) -> Exchange:
    """Read a streamed reply and show it as it arrives: one output in a notebook, redrawn, then the whole exchange.

    In a Jupyter kernel the answer so far is shown in one output (IPython's
    ``display(..., display_id=True)``) and redrawn at most every ``interval``
    seconds as deltas arrive; at the end the output becomes the exchange,
    every layer. Elsewhere (plain Python, IPython in a terminal) the deltas
    are written to stdout as they arrive. Returns the finished ``Exchange``;
    an error ends the output with the error and its layers, then is raised.
    Iterating ``client.stream(...)`` yourself stays as it is.
    """
    exchange = stream.exchange
    if _kernel() is None:
        for delta in stream:
            sys.stdout.write(delta)
            sys.stdout.flush()
        sys.stdout.write("\n")
        return exchange
    display: Any = importlib.import_module("IPython.display").display  # IPython has no type hints
    text, count = "", 0

    def bundle(markup: str, plain: str) -> dict[str, str]:
        return {"text/html": markup, "text/plain": plain}

    handle = display(bundle(live_html("", 0, exchange), ""), raw=True, display_id=True)
    shown = time.monotonic()
    try:
        for delta in stream:
            text, count = text + delta, count + 1
            if time.monotonic() - shown >= interval:
                shown_text = redact_text(text, show.secrets_of(exchange))
                handle.update(bundle(live_html(text, count, exchange), shown_text), raw=True)
                shown = time.monotonic()
    except WireError as exc:
        handle.update(bundle(error_html(exc), pretty(exc)), raw=True)
        raise
    handle.update(bundle(exchange_html(exchange), pretty(exchange)), raw=True)
    return exchange
