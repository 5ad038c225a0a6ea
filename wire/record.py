"""``wire serve --record DIR``: every request the fake server receives, saved byte for byte and shown.

    with FakeServer(on_request=Recorder("requests")) as server:
        ...                        # requests/0001.http, requests/0002.http, ...

One file per request, numbered in the order they arrived (after any numbered
files already in the folder, so a second run never overwrites the first).
Each file holds the request exactly as it crossed the socket: request line,
fields, empty line, body (``ReceivedRequest.raw``). ``wire diff`` compares
two of them; ``wire parse`` is its counterpart for replies.

The files keep what the client sent, the ``Authorization`` field included:
point clients at the fake server with a made-up key (``sk-anything``). What
is *shown* (``request_text``) has the key redacted, as every view of wire.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import TextIO

from wire.fake.server import ReceivedRequest
from wire.secrets import Secret, key_shaped, redact_bytes, redact_text
from wire.show import byte_lines, paint, printable

# A saved request's file name: its number, four digits (sorted by name is sorted by arrival).
FILE_NAME = "{number:04d}.http"
_NUMBERED = re.compile(r"^(\d+)\.http$")


def secrets_in(request: ReceivedRequest) -> list[Secret]:
    """The bearer token of a request (RFC 6750 §2.1), and any key-shaped text in it."""
    scheme, _, token = (request.header("Authorization") or "").partition(" ")
    found = [token] if scheme.lower() == "bearer" and token else []
    return [Secret.key(k) for k in dict.fromkeys(found + key_shaped(request.raw.decode("latin-1")))]


def request_text(request: ReceivedRequest, *, title: str = "", color: bool = False, show_secrets: bool = False) -> str:
    """A received request as wire shows request bytes: ``>`` (client to server), visible CRLF, key redacted."""
    secrets = [] if show_secrets else secrets_in(request)
    raw = request.raw
    head_end = len(raw) - len(request.body) if request.body and raw.endswith(request.body) else len(raw)
    lines = [paint(printable(redact_text(title, secrets)), "title", color)] if title else []
    lines.append(byte_lines(redact_bytes(raw[:head_end], secrets), ">", color=color, direction="out"))
    if head_end < len(raw):
        lines.append(byte_lines(redact_bytes(raw[head_end:], secrets), ">", color=color, direction="out"))
    lines.append(paint(f"  ({len(raw)} bytes: {head_end} of head, {len(raw) - head_end} of body)", "note", color))
    return "\n".join(lines)


class Recorder:
    """Saves each request in ``folder`` (created if missing) and, with ``out``, prints it as it arrives.

    Called by the fake server's connection threads (``FakeServer(on_request=...)``),
    so numbering and printing go one request at a time.
    """

    def __init__(
        self, folder: str | Path, *, out: TextIO | None = None, color: bool = False, show_secrets: bool = False
    ) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.out = out
        self.color = color
        self.show_secrets = show_secrets
        self.saved: list[Path] = []
        self._lock = threading.Lock()
        numbers = [int(m.group(1)) for p in self.folder.iterdir() if (m := _NUMBERED.match(p.name))]
        self._next = max(numbers, default=0) + 1

    def __call__(self, request: ReceivedRequest) -> None:
        with self._lock:
            path = self.folder / FILE_NAME.format(number=self._next)
            self._next += 1
            path.write_bytes(request.raw)
            self.saved.append(path)
            if self.out is not None:
                agent = request.header("User-Agent") or "no User-Agent"
                title = f"request saved as {path} ({agent})"
                text = request_text(request, title=title, color=self.color, show_secrets=self.show_secrets)
                print("\n" + text, file=self.out, flush=True)
