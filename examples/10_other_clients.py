"""10 · Other clients: the same question from requests, the openai SDK, http.client and wire, byte for byte.

What it teaches: the lesson asks "why use the library?". Here is what each
client puts on the wire for the same question. A recording fake server
(``wire serve --record DIR`` does the same from a shell) saves each request
exactly as it arrived, one file each; ``wire.diff`` compares them with
wire's: the request line, fields one has and the other not, different
values, the order of the fields, and the JSON bodies as data. The SDK's
extras show up: its ``X-Stainless-*`` fields (which SDK, which platform,
which retry this is), ``Accept-Encoding`` (it takes compressed replies),
its own ``User-Agent``.

    python examples/10_other_clients.py            # the fake server on 127.0.0.1, nothing leaves the machine

The same from a shell: ``wire serve --record requests/`` in one terminal, the
clients pointed at it, then ``wire diff requests/0001.http requests/0004.http``.
"""

# %% A recording fake server
import http.client
import json
import sys
import tempfile
from pathlib import Path

from _common import DEMO_KEY, REAL, section

from wire.client import Client
from wire.diff import SavedRequest, diff_view
from wire.fake import FakeServer
from wire.record import Recorder

if REAL:
    print("(--real ignored: this lesson records requests, which needs wire's own server)")

QUESTION = "Tell me a fun fact about HTTP."
MODEL = "gpt-4o-mini"
workspace = tempfile.TemporaryDirectory(prefix="wire-record-")
folder = Path(workspace.name)
recorder = Recorder(folder, out=sys.stdout)  # prints each request as it arrives, the key redacted
server = FakeServer(on_request=recorder).start()
url = f"{server.base_url}/chat/completions"
payload = {"model": MODEL, "messages": [{"role": "user", "content": QUESTION}]}

# %% 1. requests: the lesson's own call
import requests  # noqa: E402

section("1. requests.post(url, headers=headers, json=payload): the lesson's call")
headers = {"Content-Type": "application/json", "Authorization": f"Bearer {DEMO_KEY}"}
reply = requests.post(url, headers=headers, json=payload, timeout=10)
print(f"status {reply.status_code}: {reply.json()['choices'][0]['message']['content']}")

# %% 2. the openai SDK
from openai import OpenAI  # noqa: E402

section("2. OpenAI().chat.completions.create(...): the official SDK")
sdk = OpenAI(base_url=server.base_url, api_key=DEMO_KEY, timeout=10)
completion = sdk.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": QUESTION}])
print(f"answer: {completion.choices[0].message.content}")
sdk.close()

# %% 3. http.client: the standard library, one level below requests
section("3. http.client.HTTPConnection: the standard library")
connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
connection.request("POST", "/v1/chat/completions", json.dumps(payload), headers)
answer = connection.getresponse()
print(f"status {answer.status}: {json.loads(answer.read())['choices'][0]['message']['content']}")
connection.close()

# %% 4. wire
section("4. wire.Client().chat(...)")
with Client(base_url=server.base_url, api_key=DEMO_KEY, timeout=10, max_retries=0) as client:
    print(f"answer: {client.chat(QUESTION, model=MODEL).text}")
server.stop()

# %% What each client sends that wire does not
by_wire, by_requests, by_sdk, by_stdlib = (
    SavedRequest.from_bytes(p.read_bytes()) for p in (recorder.saved[3], recorder.saved[0], *recorder.saved[1:3])
)
for name, other in (("requests", by_requests), ("the openai SDK", by_sdk), ("http.client", by_stdlib)):
    section(f"A = {name}, B = wire")
    print(diff_view(other, by_wire, names=(name, "wire")))

section("in short")
only_sdk = [n for n, _ in by_sdk.headers if by_wire.header(n) is None]
print(f"fields only the SDK sends: {', '.join(only_sdk)}")
print(f"the SDK counts its retries in a field: x-stainless-retry-count: {by_sdk.header('X-Stainless-Retry-Count')}")
for name, other in (("requests", by_requests), ("the SDK", by_sdk), ("http.client", by_stdlib)):
    print(
        f"{name}: the same JSON data as wire's body: {other.json == by_wire.json}, "
        f"the same bytes: {other.body == by_wire.body}"
    )
print(f"(wire serve --record DIR keeps such files; here they were in {folder.name} and are gone now)")
workspace.cleanup()
