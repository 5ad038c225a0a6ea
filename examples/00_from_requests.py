"""00 · From ``requests`` to wire: the call you know, then the same call layer by layer.

What it teaches: the usual first Chat Completions call is a few lines of
``requests``: ``load_dotenv()`` puts the key in the environment,
``requests.post`` sends the JSON with a bearer token, and the answer is dug
out of the reply with ``data['choices'][0]['message']['content']``. We make
that very call, then the same call with wire, and look at what ``requests``
kept out of sight: the request bytes, the connection, the status line and
fields, the chunk frames, the JSON, and last the ``usage`` field that says
what the call cost in tokens.

    python examples/00_from_requests.py           # the fake server on 127.0.0.1, a made-up key
    python examples/00_from_requests.py --real    # the real API (needs OPENAI_API_KEY)

As a notebook (``jupyter lab examples/``), a cell that ends with an exchange
shows every layer of it, each one folded under its title.
"""

# %% The call, with requests
import json
import os

import requests
from _common import DEMO_KEY, REAL, section
from dotenv import load_dotenv

import wire
from wire import show
from wire.fake import FakeServer

if REAL:
    base_url = "https://api.openai.com/v1"
else:
    # The fake server speaks plain HTTP on loopback here, and a made-up key is all it needs.
    # load_dotenv() below never overrides a variable that is already set: a real key in .env stays unused.
    server = FakeServer(tls=False).start()
    base_url = server.base_url
    os.environ["OPENAI_API_KEY"] = DEMO_KEY

load_dotenv()  # OPENAI_API_KEY from a .env file, when the environment has none
api_key = os.getenv("OPENAI_API_KEY")
url = f"{base_url}/chat/completions"
headers = {"Content-Type": "application/json", "Authorization": f"Bearer {api_key}"}
payload = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Tell me a fun fact about HTTP."}]}

section(f"requests.post({url!r})")
response = requests.post(url, headers=headers, json=payload, timeout=30)
if response.status_code == 200:
    data = response.json()
    content = data["choices"][0]["message"]["content"]
    print(f"Response: {content}")
    print(f"the JSON had the keys {list(data)}")
else:
    print(f"Error {response.status_code}: {response.text}")

# %% What requests sent, as far as it tells
# requests adds fields of its own (User-Agent, Accept-Encoding, Connection); it shows them, but not the bytes.
section("the fields requests sent")
for name, value in response.request.headers.items():
    print(f"{name}: {show.redact_text(value, [api_key or ''])}")

# %% The same call with wire
client = wire.Client(base_url=base_url, api_key=api_key, timeout=30, max_retries=0)
exchange = client.chat(payload["messages"], model=payload["model"])
section("the same call with wire")
print(f"Response: {exchange.text}")
print(f"the same answer both ways: {exchange.text == content}")
# requests wrote the JSON with json.dumps' spaces after "," and ":"; wire writes it compact.
print(f"body: {len(response.request.body or b'')} bytes from requests, {len(exchange.request.body)} from wire")
exchange  # in a notebook: every layer below, each one folded under its title

# %% Layer 1: the request bytes
# Every byte that went out, line ends shown as \r\n; ">" marks what we sent. The key is redacted on screen only.
section("request bytes")
print(show.request_view(exchange))

# %% Layer 2: the connection
section("connection")
print(show.connection_view(exchange))

# %% Layer 3: the status line and the fields
# "<" marks what we received. requests gave us response.status_code and response.headers; here are the lines.
assert exchange.response is not None
section("response head")
print(show.response_head_view(exchange.response))

# %% Layer 4: the body, as it was framed
section("body framing")
print(show.body_view(exchange.response))

# %% Layer 5: the JSON, and the path into it
# The lesson's data['choices'][0]['message']['content'], on the JSON wire parsed; and the same as typed attributes.
assert exchange.completion is not None
by_path = exchange.json["choices"][0]["message"]["content"]
typed = exchange.completion.choices[0].message.content
print(f"by the path: {by_path!r}")
print(f"the same by attributes: {by_path == typed}")

# %% Layer 6: the usage field
# What the call cost: the tokens of our messages (prompt) and of the answer (completion).
usage = exchange.completion.usage
assert usage is not None
section("usage")
print(json.dumps({k: v for k, v in exchange.json["usage"].items() if k.endswith("_tokens")}))
print(f"usage: {usage.prompt_tokens} prompt + {usage.completion_tokens} completion = {usage.total_tokens} tokens")
if not REAL:
    server.stop()
exchange.completion  # in a notebook: the answer, the usage, the JSON
