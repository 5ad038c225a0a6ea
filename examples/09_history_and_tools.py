"""09 · History and tools: the model remembers nothing, the request carries it all.

What it teaches: Chat Completions is stateless. Every call sends the whole
conversation, the ``messages`` list, and the model completes it; a second
turn is a bigger request, not a shorter one. A tool call is one more round
trip of the same kind: the request declares ``tools``; the reply asks for a
call (``finish_reason: "tool_calls"``, ``content: null``, the function's
``arguments`` as a JSON *text*); the client runs the function itself and
sends the result back as a ``tool`` message with the call's
``tool_call_id``, after the assistant message that asked for it. We walk
that round trip byte by byte, then once more streamed, where the call
arrives in pieces joined by their ``index``.

    python examples/09_history_and_tools.py           # the fake server: it calls the first tool it is given
    python examples/09_history_and_tools.py --real    # the real API (needs OPENAI_API_KEY)
"""

# %% The tool, and the question
import json
from typing import Any

from _common import client, section

from wire.show import escape

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "The local time in a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


def get_time(city: str) -> str:
    """The tool itself runs here, in the client: the model never runs anything, it only asks."""
    return json.dumps({"city": city, "time": "14:05"})


question: list[dict[str, Any]] = [{"role": "user", "content": "What time is it in Paris?"}]


def body_of(request_bytes: bytes) -> bytes:
    """The body: what follows the empty line that ends the head (RFC 9112 §2.1)."""
    return request_bytes.split(b"\r\n\r\n", 1)[1]


# %% Request 1: the tools travel in the payload
with client() as c:
    first = c.chat(question, tools=TOOLS)
    section("request 1: the body (tools in it)")
    print(escape(body_of(first.request_bytes)))

    # %% Reply 1: no text, a tool call
    message = first.json["choices"][0]["message"]
    section("reply 1: choices[0].message and finish_reason")
    print(json.dumps(message, indent=2))
    print(f"finish_reason: {first.json['choices'][0]['finish_reason']!r}   content: {message['content']!r}")
    (call,) = message["tool_calls"]
    arguments = json.loads(call["function"]["arguments"])  # a JSON text inside the JSON: decode it again
    print(f"the model asks for {call['function']['name']}({arguments}) with id {call['id']}")
    # The fake server fills a string parameter with the user's words; a real model would pick "Paris".

    # %% Run the tool; request 2 carries the call and its result
    result = get_time(**arguments)
    history = [
        *question,
        {"role": "assistant", "content": None, "tool_calls": message["tool_calls"]},
        {"role": "tool", "tool_call_id": call["id"], "content": result},
    ]
    second = c.chat(history, tools=TOOLS)
    section("request 2: the last two messages, as sent")
    body = body_of(second.request_bytes)
    start = body.index(b'{"role":"assistant"')
    print(escape(body[start : body.index(b"]", body.index(b'{"role":"tool"')) + 1]))
    roles = [m["role"] for m in second.payload["messages"]]
    print(f"\nthe second request carries {len(roles)} messages: {', '.join(roles)}")
    print(f"request 1: {len(first.request_bytes)} bytes, request 2: {len(second.request_bytes)} bytes")
    if first.completion and first.completion.usage and second.completion and second.completion.usage:
        tokens = (first.completion.usage.prompt_tokens, second.completion.usage.prompt_tokens)
        print(f"prompt tokens: {tokens[0]}, then {tokens[1]}: the whole history is read again")
    print(f"same connection: {second.reused}")

    # %% Reply 2: the answer, from the tool's result
    section("reply 2")
    assert second.completion is not None
    print(f"finish_reason: {second.completion.choices[0].finish_reason!r}")
    print(f"answer: {second.text}")
    assert second.completion.choices[0].finish_reason == "stop"  # an answer this time, not another call

# %% The same call, streamed: the tool call arrives in pieces
with client() as c:
    stream = c.stream(question, tools=TOOLS)
    text = stream.read()  # no text: the deltas carry a tool call, not content
    streamed = stream.exchange
section("streamed: the first event that carries the call, as it crossed the wire")
first_call = next(e for e in streamed.sse_events if '"tool_calls"' in e.data)
print(escape(f"data: {first_call.data}\n\n".encode()))
section("streamed: the tool_calls pieces, one per event")
for chunk in streamed.completion_chunks:
    for choice in chunk["choices"]:
        pieces = choice["delta"].get("tool_calls")
        if pieces:
            print(json.dumps(pieces, separators=(",", ":")))
assert streamed.completion is not None
(joined,) = streamed.completion.choices[0].message.tool_calls
print(f"joined by index 0: {joined.name}({joined.input})   text: {text!r}")
print(f"finish_reason: {streamed.completion.choices[0].finish_reason!r}")
