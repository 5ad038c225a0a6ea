"""The ``wire`` command: ``wire demo``, ``wire chat "…"`` (and ``wire chat -i``), ``wire serve``;
``wire parse`` and ``wire diff`` (``wire/cli_saved.py``, with their own exit statuses).

The only module that reads ``sys.argv`` or prints. Everything it shows comes
from ``wire.show``; everything it runs comes from ``wire.client``. What
``wire chat`` sends (stdin, ``--system``, ``--messages``, ``-o``,
``--payload``) and the ``-i`` loop are in ``wire.conversation``, which
prints only to the streams handed to it here.

A failure ends in one line on stderr, never a traceback, and an exit status
(``main()`` returns it; docs/troubleshooting.md lists the messages):

    status  meaning
    0       done: the call succeeded, or a dry run / --curl printed the request
    1       the call failed: network, TLS, timeout, broken HTTP or SSE, an API
            error reply (the layers that arrived are shown first); or the HAR
            file could not be written afterwards
    2       bad usage or settings, found before anything is sent: an unknown
            option or value (argparse), no API key, a .env file that is missing,
            a directory or not UTF-8, a key that cannot go in a header, text
            that is not UTF-8, a --har path that cannot be written, a port in use,
            no prompt, a --messages or --payload file that is not what it must
            be, options that clash (--payload with a prompt, -i with --dry-run)
    130     interrupted (Ctrl-C)
    141     stdout (or stderr) was closed early (``wire demo | head -1``): the
            rest of the output is dropped quietly; 141 is 128 + SIGPIPE, the
            status a shell reports for a program SIGPIPE ended (``yes | head -1``)
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, TextIO

from wire.capture import CAPTURES, DEFAULT_CAPTURE
from wire.chat import DEFAULT_MODEL, SEED_PROMPT
from wire.cli_saved import add_parsers, diff_command, parse_command
from wire.client import Client
from wire.config import Settings
from wire.conversation import Call, add_arguments, call_from_args, interactive
from wire.errors import APIError, ConfigError, InvalidHeader, TLSError, WireError
from wire.exchange import Exchange
from wire.har import write_har
from wire.secrets import Secret, StreamRedactor, redact_bytes, redact_text
from wire.show import (
    EXTRA_VIEWS,
    LAYERS,
    curl_command,
    exchange_view,
    hexdump,
    paint,
    printable,
    raw_trace,
    secrets_of,
    trace_line,
)
from wire.trace import TraceEvent
from wire.version import __version__

if TYPE_CHECKING:
    from wire.fake import FakeServer
    from wire.record import Recorder

# The demo's key: not a real key, but shaped like one, so redaction shows.
DEMO_API_KEY = "sk-wire-demo-0123456789abcdefghijklmnopqrstuvwxyzABCD"

# Exit statuses: the table in this module's docstring.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141

# After `wire demo --curl`: the demo's server lived only as long as the demo (shell comments, so pasting is safe).
DEMO_CURL_NOTE = (
    "# the demo's fake server at {base_url} stopped when wire demo ended: nothing answers there now.\n"
    "# For a server that stays up, run `wire serve --tls` and put its URL in the command."
)

# The layers a dry run has: nothing is sent, so nothing after the request bytes exists.
DRY_RUN_LAYERS = ("settings", "payload", "request")

# transport.py's TLS hint speaks to Python callers; on the command line the same fix is an option.
CA_FILE_HINT_PYTHON = "pass ca_file=…"
CA_FILE_HINT_CLI = "pass --ca-file FILE"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (the table in the module docstring)."""
    args = _parser().parse_args(argv)
    out = sys.stdout
    color = _use_color(out)
    try:
        if args.command in ("demo", "chat"):
            _check_text_arguments(args)
            if args.har:
                _check_har_path(args.har)
        if args.command == "demo":
            status = _demo(args, out, color)
        elif args.command == "chat":
            status = _chat(args, out, color)
        elif args.command == "serve":
            status = _serve(args, out)
        elif args.command == "parse":
            status = parse_command(args, out, color)
        elif args.command == "diff":
            status = diff_command(args, out, color)
        else:
            _parser().print_help(out)
            status = EXIT_USAGE
        out.flush()  # here, so that a closed pipe is noticed below, not in Python's flush at exit
        return status
    except (ConfigError, InvalidHeader) as exc:
        # Bad settings, found before anything was sent. InvalidHeader here is a value from the
        # settings (a key with a newline): its message names the setting and never repeats the key.
        print(paint(f"wire: {exc}", "error", _use_color(sys.stderr)), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("wire: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of stdout (or of stderr: `wire demo --trace 2>&1 | head -1`) went away. As the
        # Python docs advise (library/signal.html, "Note on SIGPIPE"): point both at devnull, so the
        # flush at exit cannot fail again (Python would exit 120), and stop quietly.
        _to_devnull(sys.stdout)
        _to_devnull(sys.stderr)
        return EXIT_BROKEN_PIPE


def _to_devnull(stream: TextIO) -> None:
    try:
        fd = stream.fileno()
    except (OSError, ValueError):  # no file descriptor behind it (a test's capture)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _number_of_seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None


def _seconds(text: str) -> float:
    """``--timeout``: a positive, finite number of seconds (0 would mean non-blocking to a socket)."""
    value = _number_of_seconds(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive, finite number of seconds, got {text!r}")
    return value


def _delay(text: str) -> float:
    """``wire serve --first-delay`` and the like: seconds, 0 or more."""
    value = _number_of_seconds(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, got {text!r}")
    return value


def _count(text: str) -> int:
    """``--max-retries``: a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (0: one attempt, no retry), got {value}")
    return value


def _port(text: str) -> int:
    """``--port``: a TCP port, 0 to 65535 (0: any free port)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a TCP port is 0 to 65535 (0: any free port), got {value}")
    return value


def _check_text(value: str, what: str) -> None:
    """A ConfigError, naming the byte, for text that cannot be sent as UTF-8.

    Python decodes ``sys.argv`` and ``os.environ`` with the locale's encoding
    and keeps each byte it cannot decode as a lone surrogate (U+DC80..U+DCFF,
    PEP 383), which the JSON body's UTF-8 cannot encode.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        char = ord(value[exc.start])
        what_char = f"the byte 0x{char - 0xDC00:02x}" if 0xDC80 <= char <= 0xDCFF else f"U+{char:04X}"
        raise ConfigError(
            f"{what} is not valid UTF-8: {what_char} at character {exc.start}; "
            "write it in UTF-8 (check your terminal's or file's encoding)"
        ) from None


def _check_text_arguments(args: argparse.Namespace) -> None:
    for attr, what in (
        ("prompt", "the prompt"),
        ("model", "--model"),
        ("base_url", "--base-url"),
        ("show", "--show"),
        ("system", "--system"),
    ):
        value = getattr(args, attr, None)
        if value is not None:
            _check_text(value, what)


def _check_har_path(path: str) -> None:
    """Before connecting: can ``--har`` write its file? (A call is billed; do not make one to lose it.)"""
    full = os.path.abspath(path)
    folder = os.path.dirname(full)
    if os.path.isdir(full):
        raise ConfigError(f"--har {path} is a directory; name a file, e.g. --har {os.path.join(path, 'wire.har')}")
    if not os.path.isdir(folder):
        raise ConfigError(f"--har {path}: the directory {folder} does not exist (create it, or name another file)")
    if not os.access(full if os.path.exists(full) else folder, os.W_OK):
        raise ConfigError(f"--har {path}: no permission to write there")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wire",
        description="Every byte of a Chat Completions call: TCP, TLS, HTTP/1.1, chunked framing, Server-Sent Events.",
    )
    parser.add_argument("--version", action="version", version=f"wire {__version__}")
    sub = parser.add_subparsers(dest="command")

    def views(p: argparse.ArgumentParser) -> None:
        p.add_argument("--stream", action="store_true", help="ask for a streamed reply (Server-Sent Events)")
        p.add_argument(
            "--compressed",
            action="store_true",
            help="ask for a compressed reply (Accept-Encoding: gzip, deflate) and decode it (--show coding)",
        )
        p.add_argument(
            "--show",
            default=",".join(LAYERS),
            metavar="LAYERS",
            help=f"comma-separated layers to show (default all): {','.join(LAYERS)}; also: {','.join(EXTRA_VIEWS)}",
        )
        p.add_argument("--raw", action="store_true", help="print only the exact bytes, both directions (for piping)")
        p.add_argument("--hex", action="store_true", help="also print a hexdump of the bytes both ways")
        p.add_argument("--show-secrets", action="store_true", help="do not redact the API key")
        p.add_argument("--dry-run", action="store_true", help="build and print the exact request bytes; do not connect")
        p.add_argument("--curl", action="store_true", help="print the same request as a curl command; do not connect")
        p.add_argument("--har", metavar="FILE", help="also save the exchange (every attempt) as an HTTP Archive 1.2")
        p.add_argument("--trace", action="store_true", help="print each layer's steps as they happen (to stderr)")
        p.add_argument(
            "--capture",
            choices=CAPTURES,
            default=DEFAULT_CAPTURE,
            help="what the exchange keeps of a long reply: its bytes, events and chunks (default: bounded)",
        )
        p.add_argument(
            "--step",
            action="store_true",
            help="pause after each layer (Enter to go on, q to stop); no pauses without a terminal",
        )

    demo = sub.add_parser("demo", help="one whole call against the built-in fake server over TLS (no key, no network)")
    demo.add_argument("--prompt", default=SEED_PROMPT, help=f"the user message (default: {SEED_PROMPT!r})")
    views(demo)

    chat = sub.add_parser("chat", help="a real call: key from OPENAI_API_KEY (environment or .env)")
    chat.add_argument(
        "prompt", nargs="?", default=None, help="the user message; - reads it from stdin, as no prompt does when piped"
    )
    chat.add_argument("--model", default=None, help=f"model name (default: OPENAI_MODEL or {DEFAULT_MODEL})")
    chat.add_argument("--base-url", default=None, help="an OpenAI-compatible server (default: OPENAI_BASE_URL)")
    chat.add_argument("--env-file", default=None, help="read settings from this .env file")
    chat.add_argument("--ca-file", default=None, help="trust this CA as well (a private server); checking stays on")
    chat.add_argument("--timeout", type=_seconds, default=None, help="seconds for each phase (a positive number)")
    chat.add_argument(
        "--max-retries",
        type=_count,
        default=2,
        help="retries on 408/409/429/5xx and on network errors before the request is sent (0 or more)",
    )
    add_arguments(chat)  # wire/conversation.py: --system, --messages, -o, --payload, -i
    views(chat)

    serve = sub.add_parser("serve", help="run the fake server in the foreground for other clients")
    serve.add_argument("--port", type=_port, default=8000, help="TCP port on 127.0.0.1 (default 8000; 0: any free)")
    serve.add_argument("--tls", action="store_true", help="serve HTTPS with the demo certificate")
    serve.add_argument("--framing", choices=["chunked", "length"], default="chunked")
    serve.add_argument("--chunk-size", type=int, default=None, help="bytes of body per chunk frame")
    serve.add_argument("--status", type=int, default=200, help="answer every call with this status (401, 429, 500…)")
    serve.add_argument("--write-size", type=int, default=None, help="bytes per socket write (1: one byte at a time)")
    serve.add_argument(
        "--fault",
        default=None,
        help="misbehave: close_mid_head, close_mid_body, close_mid_chunk, stall, garbage, "
        "bad_chunk_size, oversized_head, slow_drip",
    )
    serve.add_argument("--keepalive-comments", action="store_true", help="': keep-alive' comments between events")
    serve.add_argument("--record", metavar="DIR", default=None, help="save each request's bytes in DIR and print it")
    add_parsers(sub)  # wire parse, wire diff: wire/cli_saved.py
    serve.add_argument(
        "--first-delay", type=_delay, default=0.0, metavar="S", help="seconds before a stream's first content delta"
    )
    serve.add_argument(
        "--delta-delay", type=_delay, default=0.0, metavar="S", help="seconds before each later content delta"
    )
    serve.add_argument(
        "--jitter", type=_delay, default=0.0, metavar="S", help="move each --delta-delay by up to S seconds either way"
    )
    serve.add_argument("--seed", type=int, default=0, help="the seed of the jitter (the same seed, the same waits)")
    serve.add_argument(
        "--compress", action="store_true", help="gzip (or deflate) replies for clients that send Accept-Encoding"
    )
    return parser


def _use_color(stream: TextIO) -> bool:
    """Colour only when this stream is a terminal, and never with NO_COLOR set.

    https://no-color.org: NO_COLOR disables colour "when present and not an
    empty string"; an empty NO_COLOR= leaves colour on.
    """
    return stream.isatty() and not os.environ.get("NO_COLOR")


def _layers(text: str) -> list[str]:
    chosen = [name.strip() for name in text.split(",") if name.strip()]
    if not chosen:
        raise ConfigError(f"--show {text!r} names no layer; choose from {', '.join(LAYERS + EXTRA_VIEWS)}")
    # Other names people reach for. "events" was this view's name until 0.1: it shows the server-sent events,
    # while an "event" elsewhere in wire is a parser event (Exchange.events), so the view is "sse" now.
    aliases = {"tls": "connection", "events": "sse", "head": "response", "frames": "body", "timing": "timings"}
    chosen = [aliases.get(name, name) for name in chosen]
    unknown = [name for name in chosen if name not in LAYERS and name not in EXTRA_VIEWS]
    if unknown:
        raise ConfigError(
            f"unknown layer(s) {', '.join(unknown)} for --show; choose from {', '.join(LAYERS + EXTRA_VIEWS)}"
        )
    return chosen


def _demo(args: argparse.Namespace, out: TextIO, color: bool) -> int:
    from wire.fake import DEMO_CA_FILE, FakeServer

    layers = _layers(args.show)
    with FakeServer(tls=True, coding="auto") as server:  # compresses only when asked (--compressed)
        settings = Settings(
            api_key=DEMO_API_KEY,
            base_url=server.base_url,
            model=DEFAULT_MODEL,
            sources={
                "api_key": "the demo's made-up key",
                "base_url": "wire's built-in fake server",
                "model": "default",
            },
        )
        if not (args.raw or args.curl):
            print(
                paint("wire demo", "name", color)
                + f": one Chat Completions call to the fake server at {server.base_url},\n"
                "over real TCP and TLS on loopback (no key, no network). Each layer, in wire order:\n",
                file=out,
            )
        client = Client(settings, ca_file=DEMO_CA_FILE, max_retries=0, compressed=args.compressed, capture=args.capture)
        return _run(client, settings, Call.of_prompt(args.prompt), None, args, layers, out, color)


def _chat(args: argparse.Namespace, out: TextIO, color: bool) -> int:
    layers = _layers(args.show)
    settings = Settings.load(args.env_file)
    if args.base_url:
        settings.base_url = args.base_url
        settings.sources["base_url"] = "--base-url"
    if args.model:
        settings.model = args.model
        settings.sources["model"] = "--model"
    # From the environment or .env, these go into the request as they are: check them as text.
    _check_text(settings.model, f"the model ({settings.sources.get('model', 'default')})")
    _check_text(settings.base_url, f"the base URL ({settings.sources.get('base_url', 'default')})")
    client = Client(
        settings,
        ca_file=args.ca_file,
        timeout=args.timeout,
        max_retries=args.max_retries,
        compressed=args.compressed,
        capture=args.capture,
    )
    stdin = getattr(sys.stdin, "buffer", None)
    call = call_from_args(args, stdin, sys.stdin.isatty())
    if args.interactive:
        return _interactive(client, settings, call, args, stdin, out, color)
    return _run(client, settings, call, args.model, args, layers, out, color)


def _interactive(
    client: Client,
    settings: Settings,
    call: Call,
    args: argparse.Namespace,
    stdin: IO[bytes] | None,
    out: TextIO,
    color: bool,
) -> int:
    """``wire chat -i`` (wire/conversation.py), with this module's layer names and views."""
    if stdin is None:
        raise ConfigError("-i needs a stdin to read the turns from")
    if args.trace:
        hidden = [] if args.show_secrets or not settings.api_key else [settings.api_key]
        client.on_trace = _TracePrinter(sys.stderr, _use_color(sys.stderr), secrets=hidden)

    def view(exchange: Exchange, names: str) -> str:
        layers = _layers(names or args.show)
        return exchange_view(exchange, layers=layers, settings=settings, show_secrets=args.show_secrets, color=color)

    return interactive(
        client,
        call,
        model=args.model,
        first_turn=args.prompt,
        inp=stdin,
        terminal=sys.stdin.isatty(),
        out=out,
        err=sys.stderr,
        color=color,
        view=view,
        show_secrets=args.show_secrets,
    )


def _run(
    client: Client,
    settings: Settings,
    call: Call,
    model: str | None,
    args: argparse.Namespace,
    layers: list[str],
    out: TextIO,
    color: bool,
) -> int:
    """Make the call, print the chosen views; on failure print the error and the layers reached."""
    err_color = _use_color(sys.stderr)
    if args.dry_run or args.curl:
        return _dry_run(client, settings, call, model, args, layers, out, color)
    # A server may echo the key back (in a field, or in the answer): the steps and the trace redact it too.
    hidden = [] if args.show_secrets or not settings.api_key else [settings.api_key]
    stepper = Stepper(out, sys.stdin, color, secrets=hidden) if args.step else None
    printer = _TracePrinter(sys.stderr, err_color, secrets=hidden) if args.trace else None
    tracers = [t for t in (stepper, printer) if t is not None]
    if tracers:

        def on_trace(event: TraceEvent) -> None:
            for tracer in tracers:
                tracer(event)

        client.on_trace = on_trace
    exchange: Exchange | None = None
    error: WireError | None = None
    answer: _AnswerPrinter | None = None
    try:
        prepared = call.prepare(client, model=model, stream=args.stream)  # with usage when streamed
        if prepared.stream:
            stream = client.send(prepared)
            exchange = stream.exchange
            if not args.raw:
                print(paint("answer, as it arrives:", "name", color), file=out)
                answer = _AnswerPrinter(out, [] if args.show_secrets else secrets_of(exchange))
            for delta in stream:
                if answer is not None:
                    answer.write(delta)
            if answer is not None:
                answer.end()
                print(file=out)
        else:
            exchange = prepared
            for _ in client.send(prepared):
                pass
    except (ConfigError, InvalidHeader):
        raise  # bad settings: main() says so and exits 2
    except WireError as exc:
        error = exc
        exchange = exchange or exc.exchange
        if answer is not None and answer.written:
            answer.end()  # a partial answer ends its line before the layers and the error follow
            print(file=out)
    except StopStepping:
        print(paint("stopped: the connection is closed, nothing more is read", "note", color), file=out)
        return 0
    finally:
        client.close()
    if exchange is not None:
        _print_exchange(exchange, settings, args, layers, out, color)
        if args.har:
            try:
                write_har(exchange, args.har, show_secrets=args.show_secrets)
            except OSError as exc:
                print(
                    paint(f"wire: could not write the HAR file {args.har}: {exc.strerror or exc}", "error", err_color),
                    file=sys.stderr,
                )
                return EXIT_FAILED
            print(paint(f"\nHAR written to {args.har} ({len(exchange.attempts)} attempt(s))", "note", color), file=out)
    if error is not None:
        secrets = [] if args.show_secrets or exchange is None else secrets_of(exchange)
        label = "" if isinstance(error, APIError) else f"{type(error).__name__}: "
        text = str(error)
        if isinstance(error, TLSError):
            text = text.replace(CA_FILE_HINT_PYTHON, CA_FILE_HINT_CLI)
        print(paint(printable(redact_text(label + text, secrets)), "error", err_color), file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _dry_run(
    client: Client,
    settings: Settings,
    call: Call,
    model: str | None,
    args: argparse.Namespace,
    layers: list[str],
    out: TextIO,
    color: bool,
) -> int:
    """``--dry-run`` and ``--curl``: build the request and print it (the layers asked for); send nothing."""
    prepared = call.prepare(client, model=model, stream=args.stream)
    if args.curl:
        command = curl_command(prepared, show_secrets=args.show_secrets, ca_file=client.ca_file)
        if args.command == "demo":
            command += "\n" + DEMO_CURL_NOTE.format(base_url=settings.base_url)
        print(command, file=out)
        return EXIT_OK
    secrets = [] if args.show_secrets else secrets_of(prepared)
    request_bytes = redact_bytes(prepared.request_bytes, secrets)
    if args.raw:
        out.flush()
        sys.stdout.buffer.write(request_bytes)
        sys.stdout.buffer.flush()
        return EXIT_OK
    shown = [name for name in layers if name in DRY_RUN_LAYERS]
    if not shown:
        raise ConfigError(
            f"--show {args.show} has nothing a dry run builds; a dry run has: {', '.join(DRY_RUN_LAYERS)}"
        )
    print(
        exchange_view(prepared, layers=shown, settings=settings, show_secrets=args.show_secrets, color=color),
        file=out,
    )
    if args.hex:
        print("\n" + paint("hexdump, the bytes a call would send", "title", color), file=out)
        print(hexdump(request_bytes, ">"), file=out)
    print(paint("\n(dry run: nothing was sent)", "note", color), file=out)
    return EXIT_OK


class _AnswerPrinter:
    """``--stream``: the answer's text as it arrives, secrets redacted and control characters escaped.

    A key the server echoes may arrive split over several deltas: ``StreamRedactor`` holds back
    what could be its start. ``end()`` prints the rest and ends the line, once.
    """

    def __init__(self, out: TextIO, secrets: list[Secret]) -> None:
        self.out = out
        self.redactor = StreamRedactor(secrets)
        self.written = False  # some of the answer has arrived
        self.ended = False

    def write(self, delta: str) -> None:
        self.written = self.written or bool(delta)
        self.out.write(printable(self.redactor.feed(delta)))
        self.out.flush()

    def end(self) -> None:
        if not self.ended:
            self.ended = True
            self.out.write(printable(self.redactor.flush()) + "\n")
            self.out.flush()


class _TracePrinter:
    """``--trace``: each trace event as one line on stderr, as it happens; ``secrets`` redacted."""

    def __init__(self, err: TextIO, color: bool, *, secrets: Sequence[str] = ()) -> None:
        self.err = err
        self.color = color
        self.secrets = list(secrets)

    def __call__(self, event: TraceEvent) -> None:
        print(redact_text(trace_line(event, color=self.color), self.secrets), file=self.err, flush=True)


class StopStepping(Exception):
    """The user pressed q at a ``--step`` pause."""


# Where --step pauses: after these trace events, what happened and what comes next.
STEPS: dict[str, tuple[str, str]] = {
    "request.build": ("the request bytes are built", "open a connection: DNS, TCP, then TLS"),
    "connection.open": ("the connection is open", "send the request head, then the body"),
    "connection.reuse": ("a kept connection is reused: no DNS, TCP or TLS", "send the request head, then the body"),
    "http11.send_body": ("the whole request is sent", "wait for the status line"),
    "http11.end_of_head": ("the response head has arrived", "read the body, framed as the head says"),
    "http11.chunk": ("a chunk size line has arrived", "read that many bytes of chunk data, then CRLF"),
    "http11.end_of_message": ("the response is complete", "decode the body"),
    "chat.completion": ("the answer is assembled", "show every layer"),
}


class Stepper:
    """``--step``: after each layer, say what happened and what comes next, and wait for Enter.

    It waits only when both ends are a terminal; piped, it just prints the steps.
    Each of ``secrets`` (the API key, unless ``--show-secrets``) is redacted in
    what it prints, as in every other view.
    """

    def __init__(self, out: TextIO, inp: TextIO, color: bool, *, secrets: Sequence[str] = ()) -> None:
        self.out = out
        self.inp = inp
        self.color = color
        self.secrets = list(secrets)
        self.interactive = inp.isatty() and out.isatty()
        self.count = 0

    def __call__(self, event: TraceEvent) -> None:
        if event.step != "complete" or event.name not in STEPS:
            return
        done, nxt = STEPS[event.name]
        if event.name == "http11.chunk" and event.info.get("size") == 0:
            done, nxt = "the last chunk (size 0) has arrived", "read the trailer fields and the final empty line"
        self.count += 1
        facts = ", ".join(f"{k}={v!r}" for k, v in event.info.items() if k != "offset")
        facts = redact_text(facts, self.secrets)
        print(
            paint(f"[step {self.count}] {done}", "name", self.color) + (f"  ({facts})" if facts else ""), file=self.out
        )
        print(paint(f"  next: {nxt}", "note", self.color), file=self.out, flush=True)
        if not self.interactive:
            return
        print(paint("  Enter to go on, q to stop: ", "note", self.color), end="", file=self.out, flush=True)
        answer = self.inp.readline()
        if answer == "" or answer.strip().lower().startswith("q"):
            raise StopStepping


def _print_exchange(
    exchange: Exchange, settings: Settings, args: argparse.Namespace, layers: list[str], out: TextIO, color: bool
) -> None:
    if args.raw:
        out.flush()
        sys.stdout.buffer.write(raw_trace(exchange, show_secrets=args.show_secrets))
        sys.stdout.buffer.flush()
        return
    print(
        exchange_view(exchange, layers=layers, settings=settings, show_secrets=args.show_secrets, color=color), file=out
    )
    if args.hex:
        data = raw_trace(exchange, show_secrets=args.show_secrets)
        sent = sum(len(r.data) for r in exchange.records if r.direction == "out")
        print("\n" + paint("hexdump, bytes out then bytes in", "title", color), file=out)
        print(hexdump(data[:sent], ">"), file=out)
        print(hexdump(data[sent:], "<"), file=out)


def _serve(args: argparse.Namespace, out: TextIO) -> int:
    """Run the fake server until Ctrl-C, and say how to point other clients at it.

    Ctrl-C is the signal SIGINT, which Python turns into KeyboardInterrupt
    wherever the main thread happens to be: half-way through starting the
    server, printing, or stopping it. So SIGINT is blocked first (threads
    started later inherit the mask, POSIX pthread_sigmask(3)) and taken at
    one place only, with sigwait(3): a Ctrl-C at any moment waits there, then
    the server stops cleanly.
    """
    import signal

    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks
        return _serve_until_keyboard_interrupt(args, out)
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        with _start(_fake_server(args)) as server:
            _print_serve_help(server, args, out)
            signal.sigwait({signal.SIGINT})
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    print("\nstopped", file=out)
    return 0


def _serve_until_keyboard_interrupt(args: argparse.Namespace, out: TextIO) -> int:
    """``wire serve`` where signals cannot be blocked: Ctrl-C is a KeyboardInterrupt, caught around it all."""
    import threading

    try:
        with _start(_fake_server(args)) as server:
            _print_serve_help(server, args, out)
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    print("\nstopped", file=out)
    return 0


def _fake_server(args: argparse.Namespace) -> FakeServer:
    """The fake server ``wire serve`` asked for (not started yet)."""
    from wire.fake import FakeServer

    try:
        return FakeServer(
            tls=args.tls,
            port=args.port,
            framing=args.framing,
            chunk_size=args.chunk_size,
            status=args.status,
            write_size=args.write_size,
            fault=args.fault,
            keepalive_comments=args.keepalive_comments,
            on_request=_recorder(args),
            first_delay=args.first_delay,
            delta_delay=args.delta_delay,
            jitter=args.jitter,
            seed=args.seed,
            coding="auto" if args.compress else None,
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"wire serve: {exc}") from None


def _recorder(args: argparse.Namespace) -> Recorder | None:
    """``wire serve --record DIR``: save each request in DIR and print it as it arrives (wire/record.py)."""
    from wire.record import Recorder

    if args.record is None:
        return None
    try:
        recorder = Recorder(args.record, out=sys.stdout, color=_use_color(sys.stdout))
    except OSError as exc:
        raise ConfigError(f"wire serve --record {args.record}: cannot use that folder: {exc.strerror or exc}") from None
    print(f"recording every request in {args.record}/ (one file each: 0001.http, 0002.http, ...)", file=sys.stdout)
    return recorder


def _start(server: FakeServer) -> FakeServer:
    """Bind the server's port, or say in one line why it cannot be bound."""
    try:
        return server.start()
    except OSError as exc:
        port = server.port
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"wire serve: port {port} on 127.0.0.1 is in use (another wire serve?); "
                "pick another with --port N, or --port 0 for any free port"
            ) from None
        raise ConfigError(f"wire serve: cannot listen on 127.0.0.1 port {port}: {exc.strerror or exc}") from None


def _print_serve_help(server: FakeServer, args: argparse.Namespace, out: TextIO) -> None:
    """Where the server listens, and how to point wire, curl and the openai SDK at it."""
    from wire.fake import DEMO_CA_FILE

    cacert = f" --cacert {DEMO_CA_FILE}" if args.tls else ""
    body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}'
    print(f"wire fake server at {server.base_url}  (Ctrl-C to stop)", file=out)
    print(
        f"  wire:   wire chat --base-url {server.base_url}{' --ca-file ' + DEMO_CA_FILE if args.tls else ''} "
        '"Hi"   (any key: OPENAI_API_KEY=sk-anything)',
        file=out,
    )
    print(
        f"  curl:   curl -s{cacert} {server.base_url}/chat/completions -H 'Authorization: Bearer sk-anything' "
        f"-H 'Content-Type: application/json' -d '{body}'",
        file=out,
    )
    print(
        f"  openai: OPENAI_BASE_URL={server.base_url} OPENAI_API_KEY=sk-anything python your_script.py"
        + (f"   (and SSL_CERT_FILE={DEMO_CA_FILE})" if args.tls else ""),
        file=out,
    )
    out.flush()
