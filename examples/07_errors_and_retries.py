"""07 · Errors and retries: 429, 401, and a reply that breaks off.

What it teaches: a non-2xx status is still a complete, well-formed HTTP
response; its body says what went wrong as ``{"error": {"message", "type",
"param", "code"}}``. Some failures are worth trying again (429 Too Many
Requests, 5xx, a connection that dropped before any reply), others never
(401: the key is wrong). wire's client retries like the official SDK: after
the delay the server asks for (``retry-after``), else an exponential backoff,
and it keeps *every* attempt on ``exchange.attempts``.

    python examples/07_errors_and_retries.py           # the fake server: 429 then 200, a 401, a broken reply
    python examples/07_errors_and_retries.py --real    # a real 401, with a made-up key (no real key needed)
"""

# %% A 429, then a success
from _common import DEMO_KEY, REAL, section

import wire
from wire.client import Client
from wire.fake import FakeServer, Scenario


def wait(seconds: float) -> None:
    """Instead of time.sleep: say how long the client would wait, and go on at once."""
    print(f"  (the client would wait {seconds:.2f} s before the next attempt)")


section("429 Too Many Requests, then 200 OK")
if REAL:
    print("(skipped with --real: we cannot make the real API answer 429 on purpose)")
else:
    with FakeServer([Scenario(status=429, retry_after="0"), Scenario()]) as server:
        retrying = Client(base_url=server.base_url, api_key=DEMO_KEY, max_retries=2, sleep=wait)
        exchange = retrying.chat("Tell me a fun fact about HTTP.")
    for attempt in exchange.attempts:
        status = attempt.response.status if attempt.response else None
        print(f"attempt {attempt.number}: status {status}, error {attempt.error!s:.60}")
        if attempt.response is not None and attempt.response.header("retry-after") is not None:
            # RFC 9110 §10.2.3: Retry-After is seconds or an HTTP date. wire (like the SDK 3.57.0) ignores a value
            # of 0 and falls back to its own backoff: 0.5 s, 1 s, 2 s ... minus up to 25 % jitter; a wait over
            # 120 s is not retried at all.
            print(f"           retry-after: {attempt.response.header('retry-after')!r}")
    print(f"answer after {len(exchange.attempts)} attempts: {exchange.text}")

# %% A 401: not retried
section("401 Unauthorized")
bad_key = "sk-wire-not-a-real-key-0000000000000000"
unauthorized: FakeServer | None = None
if REAL:
    failing = Client(api_key=bad_key, max_retries=2)  # the real base URL, a key that cannot work
else:
    unauthorized = FakeServer(status=401).start()
    failing = Client(base_url=unauthorized.base_url, api_key=bad_key, max_retries=2, sleep=wait)
try:
    failing.chat("Tell me a fun fact about HTTP.")
except wire.APIError as exc:
    print(f"APIError status={exc.status} type={exc.type!r} code={exc.code!r}")
    print(f"message: {exc.message[:100]}")
    print(f"attempts: {len(exc.exchange.attempts)}  (401 is final: the same key would fail again)")
    print(f"the key in the message is redacted by the server, and wire never repeats it: {bad_key not in str(exc)}")
finally:
    if unauthorized is not None:
        unauthorized.stop()

# %% A reply that breaks off in the middle of the body
section("the connection closes in the middle of the body")
if REAL:
    print("(skipped with --real)")
else:
    with FakeServer(fault="close_mid_body") as server:
        try:
            Client(base_url=server.base_url, api_key=DEMO_KEY, max_retries=2, sleep=wait).chat("Hi")
        except wire.IncompleteMessage as exc:
            # RFC 9112 §8: a message whose framing says more is coming, cut off by a close, is incomplete.
            # Part of a reply arrived, so sending again could repeat work: not retried.
            print(f"IncompleteMessage: {exc.message}")
            print(f"kept as evidence: {len(exc.received)} bytes; attempts: {len(exc.exchange.attempts)}")
