"""A conversation from the command line: what ``wire chat`` sends, and ``wire chat -i``.

Chat Completions takes a list of messages, the history, and the model
completes it; the model keeps no memory between calls, so every call sends
the whole history again. This module is the command line's side of that
(``wire.cli`` hands it the parsed arguments and the streams; it never reads
``sys.argv`` itself):

- ``Call``, from the arguments: the prompt (an argument, or stdin with ``-``
  or when stdin is not a terminal), ``--system``, ``--messages FILE`` (the
  history), ``-o KEY VALUE`` (any payload field), or ``--payload FILE`` (a
  whole body, sent byte for byte as given). Every view, ``--dry-run``,
  ``--curl``, ``--har`` and ``--step`` take a ``Call`` alike.
- ``Conversation``, ``wire chat -i``: each line a user turn, the answer
  streamed, the history sent again with every turn on one kept-alive
  connection, and after each turn one line saying what that cost.

Bad input is a ``ConfigError`` (exit 2) that says what and where, before
anything is sent.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, TextIO

from wire.chat import build_payload, decode_payload, encode_payload
from wire.client import Client
from wire.errors import ConfigError, InvalidHeader, WireError
from wire.exchange import Exchange
from wire.secrets import StreamRedactor, redact_bytes, redact_text
from wire.show import byte_lines, paint, printable, secrets_of

STDIN = "-"  # as a prompt or a file name: read standard input

# Payload fields that have options of their own: -o cannot set them.
OWN_OPTIONS = {"model": "--model", "messages": "--messages or the prompt", "stream": "--stream"}

COMMANDS = (
    ("/history", "the messages so far (what the next turn sends, before your line)"),
    ("/show LAYERS", "the last turn's exchange (answered or failed), as --show names the layers (default: all)"),
    ("/bytes", "the last turn's exact bytes, both ways"),
    ("/save FILE", "the history as JSON, which --messages FILE reads back"),
    ("/reset", "forget the turns (the --system and --messages history stay)"),
    ("/quit", "end (so do Ctrl-D and Ctrl-C)"),
)


def add_arguments(chat: argparse.ArgumentParser) -> None:
    """The options of ``wire chat`` that say what to send (the prompt itself stays in ``wire.cli``)."""
    chat.add_argument("-s", "--system", metavar="TEXT", help="a system message before the user message")
    chat.add_argument(
        "--messages", metavar="FILE", help="a JSON list of messages, the history (- for stdin); the prompt comes after"
    )
    chat.add_argument(
        "-o",
        "--option",
        nargs=2,
        action="append",
        default=[],
        dest="options",
        metavar=("KEY", "VALUE"),
        help="a payload field, repeatable: -o temperature 0.2 (VALUE as JSON when it parses, else as a string)",
    )
    chat.add_argument(
        "--payload", metavar="FILE", help="send this whole request body as given (- for stdin); still checked as JSON"
    )
    chat.add_argument(
        "-i",
        "--interactive",
        action="store_true",
        help="a conversation: each line a turn, the history sent again each time (/help inside)",
    )


# -- what one call sends ------------------------------------------------------------------


@dataclass
class Call:
    """What a call sends: ``messages`` and payload fields (``params``), or a whole ``body`` as given."""

    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    body: bytes | None = None

    @classmethod
    def of_prompt(cls, prompt: str) -> Call:
        return cls([{"role": "user", "content": prompt}])

    def prepare(self, client: Client, *, model: str | None, stream: bool) -> Exchange:
        """The exchange to send (``Client.send``) or to show as a dry run."""
        if self.body is not None:
            return client.prepare_body(self.body)
        return client.prepare(self.messages, model=model, stream=stream, **self.params)


def call_from_args(args: argparse.Namespace, stdin: IO[bytes] | None, stdin_is_terminal: bool) -> Call:
    """The ``Call`` the arguments ask for; a ``ConfigError`` for conflicting or bad input."""
    readers = [
        name
        for name, value in (("the prompt", args.prompt), ("--messages", args.messages), ("--payload", args.payload))
        if value == STDIN
    ]
    if len(readers) > 1:
        raise ConfigError(f"{' and '.join(readers)} cannot both read stdin (-): put one of them in a file")
    if args.interactive:
        _check_interactive(args)
    if args.payload is not None:
        return _payload_call(args, stdin)
    history = _read_messages(args.messages, stdin) if args.messages is not None else []
    messages: list[dict[str, Any]] = []
    if args.system is not None:
        _check_utf8(args.system, "--system")
        if any(m.get("role") in ("system", "developer") for m in history):
            raise ConfigError(f"--system and a system message in --messages {args.messages}: give one of them")
        messages.append({"role": "system", "content": args.system})
    messages += history
    prompt = args.prompt
    if prompt == STDIN:
        prompt = _read_text(stdin, "the prompt from stdin").rstrip("\r\n")
        if not prompt:
            raise ConfigError("the prompt from stdin (-) is empty")
    elif prompt is None and not args.interactive and args.messages is None and not stdin_is_terminal:
        prompt = _read_text(stdin, "the prompt from stdin").rstrip("\r\n")
        if not prompt:
            raise ConfigError('no prompt: none was given and stdin was empty (wire chat "Hi", or echo Hi | wire chat)')
    if prompt is not None and not args.interactive:  # with -i, the prompt is the first turn
        messages.append({"role": "user", "content": prompt})
    if not messages and not args.interactive:
        raise ConfigError('no prompt: give one (wire chat "Hi"), - to read it from stdin, or --messages FILE')
    call = Call(messages, _options(args.options))
    _check_sendable(call)
    return call


def _check_interactive(args: argparse.Namespace) -> None:
    """``-i`` reads its turns from stdin and shows each exchange on request: say which options clash with it."""
    clashes = [
        option
        for option, given in (
            ("--dry-run", args.dry_run),
            ("--curl", args.curl),
            ("--raw", args.raw),
            ("--hex", args.hex),
            ("--step", args.step),
            ("--har", args.har),
            ("--payload", args.payload is not None),
            ("- (the prompt from stdin)", args.prompt == STDIN),
            ("--messages -", args.messages == STDIN),
        )
        if given
    ]
    if clashes:
        raise ConfigError(
            "-i reads its turns from stdin and shows exchanges with /show and /bytes: "
            f"it cannot take {', '.join(clashes)}"
        )


def _payload_call(args: argparse.Namespace, stdin: IO[bytes] | None) -> Call:
    """``--payload FILE``: the body as given; whatever else would change the body is an error."""
    clashes = [
        option
        for option, given in (
            ("a prompt", args.prompt is not None),
            ("--system", args.system is not None),
            ("--messages", args.messages is not None),
            ("-o", bool(args.options)),
            ("--model", getattr(args, "model", None) is not None),
        )
        if given
    ]
    if clashes:
        raise ConfigError(
            f"--payload {args.payload} is the whole request body, sent as given: "
            f"it cannot be combined with {', '.join(clashes)} (put them in the file)"
        )
    body = _read_bytes(args.payload, stdin, "--payload")
    try:
        payload = decode_payload(body)
    except ConfigError as exc:
        raise ConfigError(f"--payload {args.payload} is {exc}") from None
    if args.stream and payload.get("stream") is not True:
        raise ConfigError(
            f'--stream with --payload {args.payload}: the body says how to answer; put "stream": true in it'
        )
    return Call([], {}, body)


def _options(pairs: list[list[str]]) -> dict[str, Any]:
    """``-o KEY VALUE`` pairs as payload fields: VALUE as JSON when it parses (no NaN), else as the string."""
    params: dict[str, Any] = {}
    for key, text in pairs:
        _check_utf8(key, "-o KEY")
        _check_utf8(text, f"-o {key} VALUE")
        if key in OWN_OPTIONS:
            raise ConfigError(f"-o {key}: the {key} field has an option of its own, {OWN_OPTIONS[key]}")
        if key in params:
            raise ConfigError(f"-o {key} is given twice; give each field once")
        try:
            params[key] = json.loads(text, parse_constant=_not_a_value)
        except ValueError:
            params[key] = text  # not JSON: the string itself (-o user alice)
        except RecursionError:  # json gives up on values nested thousands deep
            raise ConfigError(f"-o {key} VALUE is nested too deeply to read as JSON") from None
    return params


def _not_a_value(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")  # NaN, Infinity: Python reads them, JSON has none (RFC 8259 §6)


def _read_messages(source: str, stdin: IO[bytes] | None) -> list[dict[str, Any]]:
    """``--messages FILE``: a JSON list of message objects, each with a string ``role``."""
    where = f"--messages {source}"
    text = _read_bytes(source, stdin, "--messages")
    try:
        value = json.loads(_decode(text, where), parse_constant=_not_a_value)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{where} is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError as exc:
        raise ConfigError(f"{where} is not JSON: {exc}") from None  # NaN, or a number int() refuses
    except RecursionError:
        raise ConfigError(f"{where} is nested too deeply to read as JSON") from None
    if not isinstance(value, list):
        raise ConfigError(f'{where} must be a JSON list of messages, [{{"role": "user", "content": "Hi"}}, ...]')
    for index, message in enumerate(value):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise ConfigError(
                f'{where}: message {index} is not an object with a "role" (got {json.dumps(message)[:60]})'
            )
    return value


def _read_bytes(source: str, stdin: IO[bytes] | None, option: str) -> bytes:
    if source == STDIN:
        if stdin is None:
            raise ConfigError(f"{option} -: there is no stdin to read")
        return stdin.read()
    try:
        with open(source, "rb") as file:
            return file.read()
    except OSError as exc:
        raise ConfigError(f"{option} {source}: cannot read it ({exc.strerror or exc})") from None


def _read_text(stdin: IO[bytes] | None, what: str) -> str:
    if stdin is None:
        raise ConfigError(f"{what}: there is no stdin to read")
    return _decode(stdin.read(), what)


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{what} is not valid UTF-8: the byte 0x{data[exc.start]:02x} at offset {exc.start}"
        ) from None


def _check_utf8(text: str, what: str) -> None:
    """Arguments arrive decoded with the locale; a byte it could not decode is a lone surrogate (PEP 383)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ConfigError(f"{what} is not valid UTF-8 at character {exc.start}") from None


def _check_sendable(call: Call) -> None:
    """The body must encode: a JSON string escape such as \\udc80 in a file decodes to a lone surrogate."""
    try:
        encode_payload(build_payload(call.messages, **call.params))
    except (UnicodeEncodeError, ValueError) as exc:
        raise ConfigError(f"the messages cannot be sent as UTF-8 JSON: {exc}") from None


# -- wire chat -i ---------------------------------------------------------------------------


@dataclass
class Turn:
    """What one turn cost: the exchange, and the request's size against the turn before."""

    number: int
    exchange: Exchange
    request_bytes: int
    growth: int | None  # bytes more (or fewer, after /reset) than the last turn's request; None for the first
    first_delta: float | None  # seconds from sending to the first text delta


class Conversation:
    """The history, and one kept-alive ``Client`` that sends it again with every turn.

    ``start`` is the history a ``/reset`` goes back to (``--system``,
    ``--messages``); ``params`` are the ``-o`` fields every turn sends.
    """

    def __init__(
        self, client: Client, *, model: str | None, start: list[dict[str, Any]], params: dict[str, Any]
    ) -> None:
        self.client = client
        self.model = model
        self.start = list(start)
        self.messages = list(start)
        self.params = params
        self.turns: list[Turn] = []
        self.last: Exchange | None = None  # the latest turn's exchange, answered or failed: what /show shows

    def send(self, text: str, on_delta: Callable[[str], None]) -> Turn:
        """One user turn: the whole history plus ``text``, streamed; the answer joins the history.

        On a failure the user message is taken back out, so the history stays
        what the server has answered.
        """
        self.messages.append({"role": "user", "content": text})
        started = time.perf_counter()
        first_delta: float | None = None
        try:
            stream = self.client.stream(self.messages, model=self.model, **self.params)
            self.last = stream.exchange
            for delta in stream:
                if first_delta is None and delta:
                    first_delta = time.perf_counter() - started
                on_delta(delta)
        except BaseException:
            self.messages.pop()
            raise
        exchange = stream.exchange
        self.messages.append({"role": "assistant", "content": exchange.text})
        size = len(exchange.request_bytes)
        growth = size - self.turns[-1].request_bytes if self.turns else None
        turn = Turn(len(self.turns) + 1, exchange, size, growth, first_delta)
        self.turns.append(turn)
        return turn

    def reset(self) -> None:
        self.messages = list(self.start)


def turn_line(turn: Turn) -> str:
    """The one line after a turn: the connection, the request's size and growth, usage, first delta."""
    exchange = turn.exchange
    connection = "connection reused" if exchange.reused else "new connection"
    size = f"request {turn.request_bytes} bytes"
    if turn.growth is not None:
        size += f" ({turn.growth:+d} since turn {turn.number - 1})"
    usage = exchange.completion.usage if exchange.completion is not None else None
    tokens = (
        f"tokens {usage.prompt_tokens} prompt + {usage.completion_tokens} completion"
        if usage is not None
        else "no usage"
    )
    first = "no text" if turn.first_delta is None else f"first delta {turn.first_delta * 1000:.1f} ms"
    return f"[turn {turn.number}] {connection} · {size} · {tokens} · {first}"


def history_view(messages: list[dict[str, Any]]) -> str:
    """The messages, one per line: number, role, content (tool calls and other fields as JSON)."""
    if not messages:
        return "  (no messages)"
    rows = []
    for index, message in enumerate(messages, 1):
        content = message.get("content")
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        extra = {k: v for k, v in message.items() if k not in ("role", "content")}
        if extra:
            text += " " + json.dumps(extra, ensure_ascii=False)
        rows.append(printable(f"  {index:>2} {message.get('role')}: {text}"))
    return "\n".join(rows)


def interactive(
    client: Client,
    call: Call,
    *,
    model: str | None,
    first_turn: str | None,
    inp: IO[bytes],
    terminal: bool,
    out: TextIO,
    err: TextIO,
    color: bool,
    view: Callable[[Exchange, str], str],
    show_secrets: bool = False,
) -> int:
    """``wire chat -i``: read turns and commands line by line from ``inp`` until /quit or end of input.

    With a terminal it prompts ``you> ``; piped, it echoes each line after
    ``you> `` so the output reads the same. ``view(exchange, layers)`` draws
    ``/show``. Returns the exit status: 0, or 1 when the last turn failed.
    """
    client.settings.require_key()  # no key: say so now (exit 2), not after the first line
    conversation = Conversation(client, model=model, start=call.messages, params=call.params)
    print(
        paint("wire chat -i", "name", color) + ": each line is a turn; the whole history is sent every time. "
        "/help for commands, Ctrl-D to end.",
        file=out,
    )
    status = 0
    pending = [first_turn] if first_turn is not None else []
    try:
        while True:
            if pending:
                line = pending.pop()
                print(f"you> {line}", file=out)
            else:
                if terminal:
                    print("you> ", end="", file=out, flush=True)
                raw = inp.readline()
                if not raw:
                    if terminal:
                        print(file=out)
                    break
                try:
                    line = raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError as exc:
                    print(
                        paint(f"wire: that line is not UTF-8 (byte 0x{raw[exc.start]:02x})", "error", color), file=err
                    )
                    continue
                if not terminal:
                    print(f"you> {line}", file=out)
            if not line.strip():
                continue
            if line.startswith("/") and not line.startswith("//"):
                if _command(line, conversation, out, err, color, view, show_secrets) == "quit":
                    break
                continue
            text = line[1:] if line.startswith("//") else line  # //text sends /text
            status = _turn(conversation, text, out, err, color, show_secrets)
    finally:
        client.close()
    return status


def _turn(conversation: Conversation, text: str, out: TextIO, err: TextIO, color: bool, show_secrets: bool) -> int:
    """Send one turn, the answer printed as it arrives; 1 when it failed (the loop goes on)."""
    key = conversation.client.settings.api_key
    hidden = [key] if key and not show_secrets else []
    redactor = StreamRedactor(hidden)
    print(paint("assistant> ", "name", color), end="", file=out, flush=True)

    def on_delta(delta: str) -> None:
        out.write(printable(redactor.feed(delta)))
        out.flush()

    try:
        turn = conversation.send(text, on_delta)
    except (ConfigError, InvalidHeader):
        raise
    except WireError as exc:
        print(printable(redactor.flush()), file=out)
        secrets = [] if show_secrets or exc.exchange is None else secrets_of(exc.exchange)
        message = printable(redact_text(f"{type(exc).__name__}: {exc}", secrets))
        print(paint(f"wire: the turn failed, the history is as before it: {message}", "error", color), file=err)
        return 1
    print(printable(redactor.flush()), file=out)
    completion = turn.exchange.completion
    for call in completion.choices[0].message.tool_calls if completion and completion.choices else []:
        note = f"(the model asks for a tool: {call.name or call.type}({call.input or ''}); wire chat -i runs no tools)"
        print(paint(printable(redact_text(note, hidden)), "note", color), file=out)
    print(paint(turn_line(turn), "note", color), file=out, flush=True)
    return 0


def _command(
    line: str,
    conversation: Conversation,
    out: TextIO,
    err: TextIO,
    color: bool,
    view: Callable[[Exchange, str], str],
    show_secrets: bool,
) -> str | None:
    """Run one /command; "quit" to end the loop."""
    name, _, rest = line.strip().partition(" ")
    rest = rest.strip()
    last = conversation.last
    # A server may echo the key into an answer: the history is shown and saved with it redacted, as a HAR is.
    key = conversation.client.settings.api_key
    hidden = [key] if key and not show_secrets else []
    if name in ("/quit", "/exit"):
        return "quit"
    if name == "/help":
        print("\n".join(f"  {command:<13} {what}" for command, what in COMMANDS), file=out)
        print("  //text        send a line that starts with /", file=out)
    elif name == "/history":
        print(redact_text(history_view(conversation.messages), hidden), file=out)
    elif name == "/reset":
        conversation.reset()
        print(f"(history reset: {len(conversation.messages)} message(s) left)", file=out)
    elif name == "/save":
        if not rest:
            print(paint("wire: /save needs a file name: /save chat.json", "error", color), file=err)
            return None
        try:
            with open(rest, "w", encoding="utf-8") as file:
                text = json.dumps(conversation.messages, indent=2, ensure_ascii=False)
                file.write(redact_text(text, hidden) + "\n")
        except OSError as exc:
            print(paint(f"wire: could not write {rest}: {exc.strerror or exc}", "error", color), file=err)
            return None
        print(
            f"(saved {len(conversation.messages)} message(s) to {rest}; wire chat --messages {rest} reads them)",
            file=out,
        )
    elif name in ("/show", "/bytes") and last is None:
        print("(nothing sent yet: type a line first)", file=out)
    elif name == "/show":
        try:
            print(view(last, rest), file=out)  # type: ignore[arg-type]  # last is set: checked above
        except ConfigError as exc:
            print(paint(f"wire: {exc}", "error", color), file=err)
    elif name == "/bytes":
        assert last is not None
        secrets = [] if show_secrets else secrets_of(last)
        print(byte_lines(redact_bytes(last.request_bytes, secrets), ">", color=color, direction="out"), file=out)
        print(byte_lines(redact_bytes(last.response_bytes, secrets), "<", color=color, direction="in"), file=out)
        if not any(attempt.request_sent for attempt in last.attempts):
            print(paint("(not sent: the turn failed before the request went out)", "note", color), file=out)
    else:
        print(paint(f"wire: unknown command {name}; /help lists them", "error", color), file=err)
    return None
