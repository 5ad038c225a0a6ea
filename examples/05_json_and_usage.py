"""05 · The JSON body, the answer and the token usage.

What it teaches: once the framing has delivered the body bytes, the body is
just JSON text (``Content-Type: application/json``, UTF-8 per RFC 8259 §8.1).
``json.loads`` gives a dict; ``wire.chat.ChatCompletion`` reads it into typed
views (``choices[0].message``, ``finish_reason``, ``usage``) that keep the
original JSON at ``.raw``. We look at the parts a program relies on, and at
what the typed view says when a reply lacks one.

    python examples/05_json_and_usage.py           # the fake server
    python examples/05_json_and_usage.py --real    # the real API (needs OPENAI_API_KEY)
"""

# %% One call
import json

from _common import client, section

import wire
from wire.chat import ChatCompletion

with client() as c:
    exchange = c.chat("Tell me a fun fact about HTTP.", temperature=0)
response = exchange.response
assert response is not None
exchange  # in a notebook: every layer of the call, each one folded under its title

# %% The body is text: JSON
section("the body bytes")
print(f"{len(response.body)} bytes of {response.header('content-type')}, starting {response.body[:40]!r}")
data = json.loads(response.body)  # RFC 8259 §8.1: JSON exchanged between systems is UTF-8
print(f"json.loads -> {type(data).__name__} with keys {list(data)}")

# %% The typed view
completion = ChatCompletion.from_dict(data)  # what exchange.completion already holds
assert completion == exchange.completion
choice = completion.choices[0]
section("ChatCompletion")
print(f"id             {completion.id}")
print(f"object         {completion.object}")
print(f"model          {completion.model}   (the model that answered; may be more specific than asked)")
print(f"created        {completion.created}   (seconds since 1970, UTC)")
print(f"role           {choice.message.role}")
print(f"finish_reason  {choice.finish_reason}   ('stop': the model ended; 'length': max_completion_tokens cut it off)")
print(f"content        {choice.message.content}")

# %% Usage: what the call cost, in tokens
usage = completion.usage
assert usage is not None
section("usage")
print(f"prompt_tokens      {usage.prompt_tokens}   (our messages, plus the chat format's own tokens)")
print(f"completion_tokens  {usage.completion_tokens}   (all the model generated: the answer, plus reasoning tokens if any)")
print(f"total_tokens       {usage.total_tokens}   (= {usage.prompt_tokens} + {usage.completion_tokens})")
assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
print(f"details, untyped in usage.raw: {json.dumps({k: v for k, v in usage.raw.items() if k.endswith('details')})}")

# %% A reply the typed view refuses
section("a reply without 'choices'")
broken = {k: v for k, v in data.items() if k != "choices"}
try:
    ChatCompletion.from_dict(broken)
except wire.ProtocolError as exc:
    print(f"ProtocolError: {exc.message}")
