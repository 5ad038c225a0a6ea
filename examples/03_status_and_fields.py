"""03 · The status line and the header fields.

What it teaches: a response starts with a status line (``HTTP/1.1 200 OK``),
then one field per line (``Name: value``), then an empty line. wire's parser is
*sans-I/O*: it takes bytes and hands back events (``StatusLine``, ``Field``,
``EndOfHead``, ...), each with the byte offset where it began. We parse a real
reply's head both ways (``parse_response`` for the whole thing,
``ResponseParser`` event by event), then a hand-made response that shows the
surprising rules: field names ignore case, values lose their surrounding
whitespace, repeated fields are joined, and a space before the colon is an error.

    python examples/03_status_and_fields.py           # a reply from the fake server
    python examples/03_status_and_fields.py --real    # a reply from the real API (needs OPENAI_API_KEY)
"""

# %% Get a reply's raw bytes
from _common import client, section

import wire

with client() as c:
    exchange = c.chat("Tell me a fun fact about HTTP.")
raw = exchange.response_bytes
print(f"{len(raw)} bytes received from {exchange.base_url}")

# %% The whole response at once: parse_response
response = wire.parse_response(raw)
section("parse_response(raw)")
print(f"http_version={response.http_version!r} status={response.status} reason={response.reason!r}")
print(f"{len(response.headers)} fields, {len(response.body)} body bytes, framing: {response.framing.value}")

# %% Event by event: ResponseParser
# RFC 9112 §4:   status-line  = HTTP-version SP status-code SP [ reason-phrase ]
# RFC 9112 §5:   field-line   = field-name ":" OWS field-value OWS
# RFC 9112 §2.1: HTTP-message = start-line CRLF *( field-line CRLF ) CRLF [ message-body ]
section("ResponseParser events, up to the end of the head")
parser = wire.ResponseParser()
for event in parser.feed(raw):
    if isinstance(event, wire.StatusLine):
        print(f"@{event.offset:<5} StatusLine  {event.http_version} {event.status} {event.reason!r}")
    elif isinstance(event, wire.Field):
        print(f"@{event.offset:<5} Field       {event.name}: {event.value}")
    elif isinstance(event, wire.EndOfHead):
        print(f"@{event.offset:<5} EndOfHead   framing={event.framing.value}, content_length={event.content_length}")
        break

# %% Looking fields up: case does not matter
# RFC 9110 §5.1: field names are case-insensitive. The API sends "content-type"; we may ask for "Content-Type".
section("Response.header(name): any case")
print(f"header('Content-Type')  = {response.header('Content-Type')!r}")
print(f"header('X-REQUEST-ID')  = {response.header('X-REQUEST-ID')!r}")
print(f"header('not-there')     = {response.header('not-there')!r}")

# %% The surprising rules, on a hand-made response
handmade = (
    b"HTTP/1.1 200 \r\n"  # RFC 9112 §4: the reason phrase may be empty (the SP before it stays)
    b"Cache-Control: no-cache\r\n"
    b"X-Note:    lots of space   \r\n"  # RFC 9110 §5.5: leading and trailing OWS is not part of the value
    b"cache-control: no-store\r\n"  # RFC 9110 §5.3: a list field's repeats form one list, in order
    b"Content-Length: 2\r\n"
    b"\r\n"
    b"ok"
)
section("a hand-made response")
r = wire.parse_response(handmade)
print(f"reason = {r.reason!r}   (empty, and still valid)")
print(f"header('x-note') = {r.header('x-note')!r}")
print(f"header('Cache-Control') = {r.header('Cache-Control')!r}")
print(f"headers in wire order, original case: {r.headers}")

# %% Whitespace before the colon is refused
# RFC 9112 §5.1: no whitespace is allowed between the field name and the colon. Parsers that once
# tolerated it disagreed about which field was meant, and that gap was used to smuggle requests.
section("a space before the colon")
try:
    wire.parse_response(b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok")
except wire.ProtocolError as exc:
    print(f"ProtocolError at byte {exc.offset}: {exc.message}")
