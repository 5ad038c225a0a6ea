"""The commands that read saved bytes: ``wire parse FILE`` and ``wire diff A B``.

Part of the command line (``wire/cli.py`` adds these subcommands and calls
the functions here with its ``out``); the work is done by ``wire.explain``
and ``wire.diff``, the text comes from ``wire.show``.

    status  wire parse                          wire diff
    0       the bytes are a valid response      the two requests are the same
    1       they break HTTP/1.1                 they differ
    2       the file cannot be read (or is a HAR file without that entry), bad usage
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from wire.errors import ConfigError
from wire.explain import fault_view, har_response, is_har, parse_saved
from wire.secrets import redact_bytes, redact_text
from wire.show import exchange_view, hexdump, paint, raw_trace

EXIT_OK = 0
EXIT_DIFFERENT = EXIT_INVALID = 1
EXIT_USAGE = 2

# The layers of a reply, as a call shows them (wire.show.LAYERS from "response" on, but timings).
PARSE_LAYERS = ("response", "body", "sse", "json", "answer")
PARSE_EXTRA_VIEWS = ("annotated",)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``wire parse`` and ``wire diff``, added to the command line's subcommands."""
    parse = sub.add_parser("parse", help="explain a saved response (curl --raw -i, nc, a HAR file): every layer")
    parse.add_argument("file", help="the saved response bytes, or a HAR file; - reads stdin")
    parse.add_argument(
        "--show",
        default=",".join(PARSE_LAYERS),
        metavar="LAYERS",
        help=f"comma-separated layers (default all): {','.join(PARSE_LAYERS)}; also: {','.join(PARSE_EXTRA_VIEWS)}",
    )
    parse.add_argument("--raw", action="store_true", help="print only the bytes (keys redacted)")
    parse.add_argument("--hex", action="store_true", help="also print a hexdump of the bytes")
    parse.add_argument("--entry", type=int, default=None, help="which entry of a HAR file (from 1; default the last)")
    parse.add_argument("--head", action="store_true", help="the reply was to a HEAD request (no body follows)")

    diff = sub.add_parser("diff", help="compare two saved requests (wire serve --record), or one with wire's own")
    diff.add_argument("a", help="a saved request (a file wire serve --record wrote, or any raw request)")
    diff.add_argument("b", nargs="?", help="the other saved request")
    diff.add_argument(
        "--wire",
        action="store_true",
        help="compare A with the request wire would send for the same JSON body (instead of B)",
    )


def _read(path: str) -> bytes:
    """A file's bytes, or stdin's for ``-``; a ConfigError naming the problem."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as f:
            return f.read()
    except IsADirectoryError:
        raise ConfigError(f"{path} is a directory; name a file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None


def parse_command(args: argparse.Namespace, out: TextIO, color: bool) -> int:
    """``wire parse FILE``: every layer of a saved response, and the fault if the bytes break HTTP/1.1."""
    layers = [name.strip() for name in args.show.split(",") if name.strip()]
    unknown = [n for n in layers if n not in PARSE_LAYERS + PARSE_EXTRA_VIEWS]
    if unknown or not layers:
        raise ConfigError(
            f"unknown layer(s) {', '.join(unknown) or '(none)'} for wire parse --show; "
            f"choose from {', '.join(PARSE_LAYERS + PARSE_EXTRA_VIEWS)}"
        )
    data = _read(args.file)
    notes: list[str] = []
    if is_har(data):
        try:
            data, notes = har_response(data, args.entry)
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"wire parse {args.file}: {exc}") from None
    elif args.entry is not None:
        raise ConfigError(f"--entry is for a HAR file; {args.file} is not one")
    saved = parse_saved(data, secret=os.environ.get("OPENAI_API_KEY"), request_method="HEAD" if args.head else "POST")
    status = EXIT_OK if saved.valid else EXIT_INVALID
    # raw_trace redacts a key even where chunk framing cuts it in two (wire.show.body_spans).
    shown = redact_bytes(raw_trace(saved.exchange), saved.secrets)
    if args.raw:
        out.flush()
        sys.stdout.buffer.write(shown)
        sys.stdout.buffer.flush()
        return status
    name = "stdin" if args.file == "-" else args.file
    verdict = "a valid HTTP/1.1 response" if saved.valid else "NOT a valid HTTP/1.1 response"
    print(paint("wire parse", "name", color) + f" {name}: {len(data)} bytes, {verdict}", file=out)
    for note in notes + saved.notes:
        print(paint(f"  note: {note}", "note", color), file=out)
    if not saved.valid:  # bytes that broke off or broke a rule: only the layers that have something to show
        exchange = saved.exchange
        layers = [n for n in layers if not (n == "json" and exchange.json is None)]
        layers = [n for n in layers if not (n == "answer" and exchange.completion is None and not exchange.stream)]
    text = exchange_view(saved.exchange, layers=layers, color=color)
    if text:
        print("\n" + redact_text(text, saved.secrets), file=out)
    if saved.error is not None:
        print("\n" + paint("── where the bytes break HTTP/1.1 " + "─" * 26, "title", color), file=out)
        print(redact_text(fault_view(saved, color=color), saved.secrets), file=out)
    if args.hex:
        print("\n" + paint("hexdump, the bytes as saved", "title", color), file=out)
        print(hexdump(shown, "<"), file=out)
    return status


def diff_command(args: argparse.Namespace, out: TextIO, color: bool) -> int:
    """``wire diff A B`` (or ``A --wire``): how two requests differ, part by part, keys redacted."""
    from wire.diff import SavedRequest, diff_view, differences, wire_request

    if args.wire == (args.b is not None):
        raise ConfigError("wire diff needs two saved requests (wire diff A B), or one and --wire (wire diff A --wire)")
    paths = [args.a] if args.wire else [args.a, args.b]
    requests = []
    for path in paths:
        try:
            requests.append(SavedRequest.from_bytes(_read(path)))
        except ValueError as exc:
            raise ConfigError(f"wire diff: {path}: {exc}") from None
    if args.wire:
        try:
            requests.append(wire_request(requests[0]))
        except ValueError as exc:
            raise ConfigError(f"wire diff --wire: {args.a}: {exc}") from None
        paths.append("what wire sends for the same JSON body")
    a, b = requests
    print(diff_view(a, b, names=(paths[0], paths[1]), color=color), file=out)
    return EXIT_DIFFERENT if differences(a, b) else EXIT_OK
