"""What every example shares: the ``--real`` switch, a server to talk to, a section heading.

By default each example talks to wire's fake server on 127.0.0.1 (no key, no
network). With ``--real`` it talks to the real API, with the key that
``wire.Settings.load()`` finds (``OPENAI_API_KEY`` in the environment or a
``.env`` file). Stepping through cells in an editor, set ``REAL = True`` by hand.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from wire.client import Client
from wire.config import Settings
from wire.errors import ConfigError
from wire.fake import FakeServer

REAL = "--real" in sys.argv[1:]

# Not a real key, but shaped like one, so that redaction (sk-…ABCD) shows.
DEMO_KEY = "sk-wire-demo-0123456789abcdefghijklmnopqrstuvwxyzABCD"


def section(title: str) -> None:
    """Print a heading, so the output reads as the lesson's steps."""
    print(f"\n── {title} " + "─" * max(3, 70 - len(title)))


def real_settings() -> Settings:
    """Settings for the real API; exit with the reason when there is no key."""
    settings = Settings.load()
    try:
        settings.require_key()
    except ConfigError as exc:
        raise SystemExit(f"--real needs a key: {exc}") from None
    return settings


@contextmanager
def client(*, tls: bool = True, **scenario: Any) -> Iterator[Client]:
    """A ``Client`` for the real API (``--real``) or for a fake server run with ``scenario``.

    The fake server speaks TLS with wire's demo certificate unless ``tls=False``;
    the client trusts the demo CA for it (``ca_file``), checking stays on.
    """
    if REAL:
        yield Client(real_settings(), max_retries=0)
        return
    with FakeServer(tls=tls, **scenario) as server:
        yield Client(base_url=server.base_url, api_key=DEMO_KEY, ca_file=server.ca_file, timeout=10, max_retries=0)
