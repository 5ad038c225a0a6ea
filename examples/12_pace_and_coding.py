"""12 · Pace and content coding: the first token, the rhythm after it, and a compressed reply.

What it teaches: HTTP timings stop at the first byte, but a reader of a
streamed answer waits for the first piece of *text*, then for each next one.
``exchange.stream_timings`` measures that: time to the first byte and to the
first delta, the gaps between deltas, deltas and tokens per second. The fake
server is paced here like a model that thinks, then writes (a seeded jitter,
so every run waits the same). Then the same call with ``compressed=True``:
wire sends ``Accept-Encoding: gzip, deflate`` as the official SDK does, the
body arrives gzip-coded, and wire decodes it with ``zlib`` as a layer of its
own, a stream piece by piece as it comes.

    python examples/12_pace_and_coding.py           # the fake server, paced and compressing
    python examples/12_pace_and_coding.py --real    # the real API (needs OPENAI_API_KEY)
"""

# %% A streamed answer, with the moment each delta arrived
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from _common import DEMO_KEY, REAL, real_settings, section

from wire.client import Client
from wire.fake import FakeServer
from wire.show import coding_view, pace_view


@contextmanager
def client(**options: Any) -> Iterator[Client]:
    """A client for the real API (--real), or for a fake server that paces its deltas and compresses when asked."""
    if REAL:
        yield Client(real_settings(), max_retries=0, **options)
        return
    with FakeServer(first_delay=0.4, delta_delay=0.05, jitter=0.03, seed=2, coding="auto") as server:
        yield Client(base_url=server.base_url, api_key=DEMO_KEY, timeout=10, max_retries=0, **options)


section("the answer, delta by delta, with the time since the call began")
with client() as c:
    start = time.perf_counter()
    stream = c.stream("Tell me a fun fact about HTTP.")
    for delta in stream:
        print(f"{(time.perf_counter() - start) * 1000:7.1f} ms  {delta!r}")
pace = stream.exchange.stream_timings
assert pace is not None

# %% The pace, as wire measured it
section("pace_view: time to first byte and first delta, the rates, the gaps")
print(pace_view(pace))
waited = (pace.time_to_first_delta or 0) - (pace.time_to_first_byte or 0)
print(f"\nthe head stood alone for {waited * 1000:.0f} ms before the first word")

# %% The same call, compressed
section("compressed=True: Accept-Encoding out, Content-Encoding in, decoded by zlib")
with client(compressed=True) as c:
    exchange = c.chat("Tell me a fun fact about HTTP.")
    streamed = c.stream("Tell me a fun fact about HTTP.")
    text = streamed.read()
response = exchange.response
assert response is not None
print(f"we sent     Accept-Encoding: {exchange.request.header('Accept-Encoding')}")
print(f"we got      Content-Encoding: {response.header('Content-Encoding')}")
print(coding_view(exchange))
print(f"\nresponse.body starts {response.body[:4]!r}; decoded_body starts {exchange.decoded_body[:4]!r}")
coding = streamed.exchange.coding
if coding is not None and coding.applied:
    print(f"the stream: {coding.compressed_size} bytes as framed -> {coding.decoded_size} decoded, text {text[:30]!r}…")
