"""A local OpenAI-compatible server for the demo, the examples and the tests.

    from wire.fake import FakeServer, Scenario, DEMO_CA_FILE

    with FakeServer() as server:                      # http://127.0.0.1:PORT/v1
        ...
    with FakeServer(tls=True) as server:              # https://localhost:PORT/v1, trust DEMO_CA_FILE
        ...
    with FakeServer([Scenario(status=429, retry_after="0"), Scenario()]) as server:
        ...                                           # fail once, then succeed

Modules, one job each: ``scenario`` (how to answer), ``replies`` (what to say),
``framing`` (which bytes go out in which writes), ``server`` (sockets and threads).
"""

from __future__ import annotations

from wire.fake.scenario import FAULTS, FRAMINGS, Scenario
from wire.fake.server import DEMO_CA_FILE, DEMO_CERT_FILE, DEMO_KEY_FILE, FakeServer, ReceivedRequest

__all__ = [
    "DEMO_CA_FILE",
    "DEMO_CERT_FILE",
    "DEMO_KEY_FILE",
    "FAULTS",
    "FRAMINGS",
    "FakeServer",
    "ReceivedRequest",
    "Scenario",
]
