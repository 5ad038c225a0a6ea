"""04 · Chunked framing: where does the body end?

What it teaches: a reply without ``Content-Length`` can still say where its
body ends, with ``Transfer-Encoding: chunked``: the body goes out as frames,
each a hex size line, that many bytes, and CRLF; a frame of size 0 ends it
(RFC 9112 §7.1). The API sends its replies this way, because it starts
sending before it knows the length. We feed a chunked reply to wire's parser
*one byte at a time*, as a very slow network would deliver it, and print each
``ChunkHeader`` / ``Data`` / ``ChunkEnd`` event with its byte offset; then a
hand-made body with a chunk extension and a trailer field.

    python examples/04_chunked_framing.py           # the fake server, 200-byte frames
    python examples/04_chunked_framing.py --real    # the real API's own frames (needs OPENAI_API_KEY)
"""

# %% A chunked reply
from _common import REAL, client, section

import wire
from wire.show import escape

# The fake server can cut the body into frames of any size; the real API picks its own.
with client(chunk_size=200) as c:
    exchange = c.chat("Tell me a fun fact about HTTP.")
raw = exchange.response_bytes
print(f"{len(raw)} bytes, Transfer-Encoding: {wire.parse_response(raw).header('transfer-encoding')}")
if REAL and wire.parse_response(raw).framing is not wire.Framing.CHUNKED:
    print("(this reply was not chunked: the events below show its Content-Length body instead)")

# %% Feed it one byte at a time
parser = wire.ResponseParser()
events: list[wire.Event] = []
for i in range(len(raw)):
    events += parser.feed(raw[i : i + 1])
data_events = sum(isinstance(e, wire.Data) for e in events)
print(f"{len(raw)} feeds of one byte gave {len(events)} events ({data_events} of them Data, one per body byte)")

# %% The body events, with their offsets
# Consecutive Data events are merged for printing: how the bytes were split may change how many Data events
# there are, never what they add up to.
section("body events (Data merged)")
merged: list[wire.Event] = []
for event in events:
    if isinstance(event, wire.Data) and merged and isinstance(merged[-1], wire.Data):
        merged[-1] = wire.Data(merged[-1].data + event.data, merged[-1].offset)
    else:
        merged.append(event)
head_done = False
for event in merged:
    if isinstance(event, wire.EndOfHead):
        head_done = True
        print(f"@{event.offset:<5} EndOfHead   framing={event.framing.value}")
    elif not head_done:
        continue
    elif isinstance(event, wire.ChunkHeader):
        # RFC 9112 §7.1: chunk-size = 1*HEXDIG -- hex, no "0x", no sign.
        print(f"@{event.offset:<5} ChunkHeader size line {escape(event.raw)!s:<12} = {event.size} bytes")
    elif isinstance(event, wire.Data):
        preview = escape(event.data[:40]) + ("…" if len(event.data) > 40 else "")
        print(f"@{event.offset:<5} Data        {len(event.data)} bytes: {preview}")
    elif isinstance(event, wire.ChunkEnd):
        print(f"@{event.offset:<5} ChunkEnd    \\r\\n")
    elif isinstance(event, wire.EndOfMessage):
        print(f"@{event.offset:<5} EndOfMessage keep_alive={event.keep_alive}")

# %% Splitting does not change the result
whole = wire.parse_response(raw)
assert parser.response is not None
print(f"\nbyte by byte and all at once give the same body: {parser.response.body == whole.body}")
print(f"frames: {[f.size for f in whole.frames]}  (the last, size 0, ends the body)")

# %% A hand-made chunked body: an extension and a trailer
handmade = (
    b"HTTP/1.1 200 OK\r\n"
    b"Transfer-Encoding: chunked\r\n"
    b"\r\n"
    b"5;note=first\r\n"  # RFC 9112 §7.1.1: chunk extensions (;name=value) -- rare, and to be ignored if unknown
    b"Hello\r\n"
    b"7\r\n"
    b", world\r\n"
    b"0\r\n"  # RFC 9112 §7.1: last-chunk = 1*("0") [ chunk-ext ] CRLF
    b"Checksum: 4f2a\r\n"  # RFC 9112 §7.1.2: trailer fields may follow the last chunk
    b"\r\n"
)
section("a hand-made chunked body")
r = wire.parse_response(handmade)
for frame in r.frames:
    print(f"frame at byte {frame.offset}: size {frame.size}, extensions {frame.extensions}, raw {escape(frame.raw)}")
print(f"body = {r.body!r}, trailers = {r.trailers}")
