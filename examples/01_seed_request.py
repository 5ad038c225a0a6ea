"""01 · The seed request, written by hand.

What it teaches: an HTTP/1.1 request is nothing but text lines ending in CRLF,
an empty line, then the body. We build the exact bytes of a Chat Completions
call with plain ``str`` and ``bytes``, check that wire's ``Request.to_bytes()``
makes the very same bytes, send them over a bare socket, and print the raw
reply as it came back.

    python examples/01_seed_request.py           # against wire's fake server (plain HTTP, loopback)
    python examples/01_seed_request.py --real    # against api.openai.com over TLS (needs OPENAI_API_KEY)
"""

# %% Where to send it
import socket
import ssl

import certifi
from _common import DEMO_KEY, REAL, real_settings, section

import wire
from wire.fake import FakeServer
from wire.request import chat_request
from wire.show import byte_lines, redact_bytes

server = None
if REAL:
    settings = real_settings()
    host, port, scheme, base_path = settings.host, settings.port, settings.scheme, settings.base_path
    api_key = settings.require_key()
else:
    server = FakeServer(tls=False).start()  # http://127.0.0.1:PORT/v1, no TLS: the bytes cross as they are
    host, port, scheme, base_path, api_key = "127.0.0.1", server.port, "http", "/v1", DEMO_KEY
print(f"talking to {scheme}://{host}:{port}{base_path}")

# %% The body: compact JSON, UTF-8
body = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Tell me a fun fact about HTTP."}]}'

# %% The head, by hand
# RFC 9112 §3:   request-line = method SP request-target SP HTTP-version
# RFC 9112 §2.1: HTTP-message = start-line CRLF *( field-line CRLF ) CRLF [ message-body ]
# RFC 9112 §3.2: Host is the target URI's authority; RFC 9110 §4.2.3: its normal form leaves out
# the scheme's default port (443 for https, 80 for http).
host_field = host if port == {"https": 443, "http": 80}[scheme] else f"{host}:{port}"
head = (
    f"POST {base_path}/chat/completions HTTP/1.1\r\n"
    f"Host: {host_field}\r\n"
    "Content-Type: application/json\r\n"
    # RFC 9112 §6.2: Content-Length counts bytes, not characters: len(body) of the *encoded* body.
    f"Content-Length: {len(body)}\r\n"
    "Accept: application/json\r\n"
    f"User-Agent: wire/{wire.__version__}\r\n"
    # RFC 6750 §2.1: the key travels as a bearer token, in clear text inside the (TLS) stream.
    f"Authorization: Bearer {api_key}\r\n"
    # RFC 9112 §2.1: an empty line ends the head; what follows is the body.
    "\r\n"
)
by_hand = head.encode("latin-1") + body  # RFC 9110 §5.5: field values are bytes; ISO-8859-1 maps them 1:1

section("the request we wrote by hand (the key redacted on screen only)")
print(byte_lines(redact_bytes(by_hand, [api_key]), ">"))

# %% wire makes the same bytes
by_wire = chat_request(
    host=host, port=port, scheme=scheme, path=f"{base_path}/chat/completions", api_key=api_key, body=body
).to_bytes()
section("compare with wire's Request.to_bytes()")
print(f"by hand: {len(by_hand)} bytes, by wire: {len(by_wire)} bytes, identical: {by_hand == by_wire}")
assert by_hand == by_wire

# %% Send them over a socket, read the reply
sock = socket.create_connection((host, port), timeout=30)
if scheme == "https":
    # TLS (lesson 02): certifi's CAs, hostname checked, the name sent as SNI.
    context = ssl.create_default_context(cafile=certifi.where())
    sock = context.wrap_socket(sock, server_hostname=host)
sock.sendall(by_hand)

# How do we know the reply is complete? The server keeps the connection open
# (HTTP/1.1 is persistent by default, RFC 9112 §9.3), so we cannot wait for the
# close: the framing says where the body ends. Lessons 03 and 04 take that
# apart; here wire's parser only tells us when to stop reading.
parser = wire.ResponseParser()
reply = b""
while parser.response is None:
    data = sock.recv(65536)
    reply += data
    if data:
        parser.feed(data)
    else:
        parser.feed_eof()
sock.close()

section(f"the raw reply: {len(reply)} bytes")
print(byte_lines(reply, "<"))

# %% Clean up
if server is not None:
    server.stop()
