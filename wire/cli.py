"""The ``wire`` command: ``wire demo``, ``wire chat "…"``, ``wire serve``.

The only module that reads ``sys.argv`` or prints. Everything it shows comes
from ``wire.show``; everything it runs comes from ``wire.client``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from wire import __version__
from wire.chat import DEFAULT_MODEL, SEED_PROMPT
from wire.client import Client, Exchange
from wire.config import Settings
from wire.errors import APIError, ConfigError, WireError
from wire.show import LAYERS, exchange_view, hexdump, paint, raw_trace, redact_text, secrets_of

# The demo's key: not a real key, but shaped like one, so redaction shows.
DEMO_API_KEY = "sk-wire-demo-0123456789abcdefghijklmnopqrstuvwxyzABCD"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 the call failed, 2 bad usage or settings)."""
    args = _parser().parse_args(argv)
    out = sys.stdout
    color = _use_color(out)
    try:
        if args.command == "demo":
            return _demo(args, out, color)
        if args.command == "chat":
            return _chat(args, out, color)
        if args.command == "serve":
            return _serve(args, out)
    except ConfigError as exc:
        print(f"wire: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("wire: interrupted", file=sys.stderr)
        return 130
    _parser().print_help(out)
    return 2


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
            "--show",
            default=",".join(LAYERS),
            metavar="LAYERS",
            help=f"comma-separated layers to show (default all): {','.join(LAYERS)}",
        )
        p.add_argument("--raw", action="store_true", help="print only the exact bytes, both directions (for piping)")
        p.add_argument("--hex", action="store_true", help="also print a hexdump of the bytes both ways")
        p.add_argument("--show-secrets", action="store_true", help="do not redact the API key")

    demo = sub.add_parser("demo", help="one whole call against the built-in fake server over TLS (no key, no network)")
    demo.add_argument("--prompt", default=SEED_PROMPT, help=f"the user message (default: {SEED_PROMPT!r})")
    views(demo)

    chat = sub.add_parser("chat", help="a real call: key from OPENAI_API_KEY (environment or .env)")
    chat.add_argument("prompt", help="the user message")
    chat.add_argument("--model", default=None, help=f"model name (default: OPENAI_MODEL or {DEFAULT_MODEL})")
    chat.add_argument("--base-url", default=None, help="an OpenAI-compatible server (default: OPENAI_BASE_URL)")
    chat.add_argument("--env-file", default=None, help="read settings from this .env file")
    chat.add_argument("--ca-file", default=None, help="trust this CA as well (a private server); checking stays on")
    chat.add_argument("--timeout", type=float, default=None, help="seconds for each phase")
    chat.add_argument("--max-retries", type=int, default=2, help="retries on 408/409/429/5xx and network errors")
    views(chat)

    serve = sub.add_parser("serve", help="run the fake server in the foreground for other clients")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--tls", action="store_true", help="serve HTTPS with the demo certificate")
    serve.add_argument("--framing", choices=["chunked", "length"], default="chunked")
    serve.add_argument("--chunk-size", type=int, default=None, help="bytes of body per chunk frame")
    serve.add_argument("--status", type=int, default=200, help="answer every call with this status (401, 429, 500…)")
    return parser


def _use_color(out: TextIO) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set (https://no-color.org)."""
    return out.isatty() and "NO_COLOR" not in os.environ


def _layers(text: str) -> list[str]:
    chosen = [name.strip() for name in text.split(",") if name.strip()]
    aliases = {"tls": "connection", "sse": "events", "head": "response", "frames": "body", "timing": "timings"}
    chosen = [aliases.get(name, name) for name in chosen]
    unknown = [name for name in chosen if name not in LAYERS]
    if unknown:
        raise ConfigError(f"unknown layer(s) {', '.join(unknown)} for --show; choose from {', '.join(LAYERS)}")
    return chosen


def _demo(args: argparse.Namespace, out: TextIO, color: bool) -> int:
    from wire.fake import DEMO_CA_FILE, FakeServer

    layers = _layers(args.show)
    with FakeServer(tls=True) as server:
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
        if not args.raw:
            print(
                paint("wire demo", "name", color)
                + f": one Chat Completions call to the fake server at {server.base_url},\n"
                "over real TCP and TLS on loopback (no key, no network). Each layer, in wire order:\n",
                file=out,
            )
        client = Client(settings, ca_file=DEMO_CA_FILE, max_retries=0)
        return _run(client, settings, args.prompt, None, args, layers, out, color)


def _chat(args: argparse.Namespace, out: TextIO, color: bool) -> int:
    layers = _layers(args.show)
    settings = Settings.load(args.env_file)
    if args.base_url:
        settings.base_url = args.base_url
        settings.sources["base_url"] = "--base-url"
    if args.model:
        settings.model = args.model
        settings.sources["model"] = "--model"
    client = Client(settings, ca_file=args.ca_file, timeout=args.timeout, max_retries=args.max_retries)
    return _run(client, settings, args.prompt, args.model, args, layers, out, color)


def _run(
    client: Client,
    settings: Settings,
    prompt: str,
    model: str | None,
    args: argparse.Namespace,
    layers: list[str],
    out: TextIO,
    color: bool,
) -> int:
    """Make the call, print the chosen views; on failure print the error and the layers reached."""
    exchange: Exchange | None = None
    error: WireError | None = None
    try:
        if args.stream:
            stream = client.stream(prompt, model=model, stream_options={"include_usage": True})
            exchange = stream.exchange
            if not args.raw:
                print(paint("answer, as it arrives:", "name", color), file=out)
            for delta in stream:
                if not args.raw:
                    out.write(delta)
                    out.flush()
            if not args.raw:
                print("\n", file=out)
        else:
            exchange = client.chat(prompt, model=model)
    except WireError as exc:
        error = exc
        exchange = exchange or exc.exchange
    if exchange is not None:
        _print_exchange(exchange, settings, args, layers, out, color)
    if error is not None:
        secrets = [] if args.show_secrets or exchange is None else secrets_of(exchange)
        label = "" if isinstance(error, APIError) else f"{type(error).__name__}: "
        print(paint(redact_text(label + str(error), secrets), "error", color), file=sys.stderr)
        return 1
    return 0


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
    import threading

    from wire.fake import DEMO_CA_FILE, FakeServer

    with FakeServer(
        tls=args.tls, port=args.port, framing=args.framing, chunk_size=args.chunk_size, status=args.status
    ) as server:
        print(f"wire fake server at {server.base_url}  (Ctrl-C to stop)", file=out)
        if args.tls:
            print(f"trust its CA with: curl --cacert {DEMO_CA_FILE} …", file=out)
        print(
            f"try: curl -s {server.base_url}/chat/completions -H 'Authorization: Bearer sk-test' "
            f"{'--cacert ' + DEMO_CA_FILE + ' ' if args.tls else ''}"
            "-H 'Content-Type: application/json' "
            '-d \'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}\'',
            file=out,
        )
        out.flush()
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("\nstopped", file=out)
    return 0
