"""06 · Streaming: Server-Sent Events inside chunk frames.

What it teaches: with ``"stream": true`` the reply is one long response of type
``text/event-stream``. Its body is lines of text: ``data: {...}`` lines, each
event ended by a blank line, ``: comment`` lines the client ignores, and a
last ``data: [DONE]`` (OpenAI's end marker; SSE itself has none). Each event's JSON is a ``chat.completion.chunk`` with a
small ``delta`` of the answer. The events do not line up with the chunk
frames of lesson 04: one event can straddle two frames. We print the text as
it arrives with ``Client.stream``, then decode the raw body again with
``SSEDecoder`` (all at once and byte by byte), and decode a hand-made stream
that shows the WHATWG rules.

    python examples/06_streaming_and_sse.py           # the fake server: keep-alive comments, a split event
    python examples/06_streaming_and_sse.py --real    # the real API (needs OPENAI_API_KEY)
"""

# %% Stream a reply
import json

from _common import client, section

from wire.show import escape
from wire.sse import ServerSentEvent, SSEDecoder

section("the answer, delta by delta, as it arrives")
# keepalive_comments: ": keep-alive" lines between events, as a server sends so that a proxy does not drop an
# idle connection (WHATWG HTML §9.2.7).
# split_events: the first content event is cut across two chunk frames.
with client(keepalive_comments=True, split_events=True) as c:
    stream = c.stream("Tell me a fun fact about HTTP.", stream_options={"include_usage": True})
    for delta in stream:
        print(f"[{delta}]", end="", flush=True)
print()
exchange = stream.exchange
response = exchange.response
assert response is not None
print(f"\ncontent-type: {response.header('content-type')}, {len(response.frames)} chunk frames")
exchange  # in a notebook: every layer, the events and the completion chunks among them

# %% The raw body, event by event
# WHATWG HTML §9.2.6: a blank line dispatches the event; "data:" lines are joined with "\n"; a line that starts
# with ":" is a comment; one space after the colon is dropped.
decoder = SSEDecoder()
events = decoder.feed(response.body) + decoder.flush()
section(f"SSEDecoder on the body: {len(events)} events, {len(decoder.comments)} comments")


def show(event: ServerSentEvent) -> None:
    """One event: where it began, its data (cut short), and the delta its JSON carries."""
    data = event.data
    choices = [] if data == "[DONE]" else json.loads(data)["choices"]
    what = f"delta {choices[0]['delta']}" if choices else ("the end marker" if data == "[DONE]" else "usage only")
    print(f"@{event.offset:<5} {event.event}: {escape(data.encode())[:48]}{'…' if len(data) > 48 else ''}  {what}")


for event in events[:3]:
    show(event)
print("…")
for event in events[-2:]:
    show(event)
for comment in decoder.comments[:2]:
    print(f"@{comment.offset:<5} comment {comment.text!r}  (not an event: the client never sees it)")

# %% Any split of the bytes gives the same events
one_by_one = SSEDecoder()
again = [e for i in range(len(response.body)) for e in one_by_one.feed(response.body[i : i + 1])]
again += one_by_one.flush()
print(f"\nfed byte by byte: the same {len(again)} events: {again == events}")
assert again == events

# %% The chunks add up to one completion
section("assembled")
print(f"{len(exchange.completion_chunks)} completion chunks -> {exchange.completion.text!r}" if exchange.completion else "")
usage = exchange.completion.usage if exchange.completion else None
print(f"usage (the last chunk, because of stream_options.include_usage): {usage}")
print(f"the last event's data is {events[-1].data!r}: not JSON, the end marker")

# %% The rules, on a hand-made stream
handmade = (
    b": this is a comment\n"
    b"event: note\n"  # WHATWG: the event type; "message" when absent
    b"data: first line\n"
    b"data: second line\r\n"  # CR, LF and CRLF all end a line
    b"id: 7\n"  # the last event id, which a browser sends back as Last-Event-ID when it reconnects
    b"\n"
    b"data:no space\n"  # the space after the colon is optional
    b"\n"
    b"data: never dispatched"  # no blank line before the end: the spec drops this event
)
section("a hand-made event stream")
d = SSEDecoder()
for event in d.feed(handmade) + d.flush():
    print(f"event={event.event!r} data={event.data!r} id={event.id!r}")
print(f"comments: {[c.text for c in d.comments]}; dropped at the end: {d.dropped!r}")
