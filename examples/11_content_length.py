"""11 · Content-Length: bytes, not characters, and what one byte off does

What it teaches: ``Content-Length`` is the only thing that tells the server
where the request body ends (RFC 9112 §6.2), and it counts **bytes**
(octets), not characters. A non-ASCII prompt makes the two differ. Then we
send the same request over a plain socket with a ``Content-Length`` that is
off by one, and watch the fake server:

- **one too many**: the server waits for a byte that never comes; our read
  times out (RFC 9112 §6.3, item 6: the length "defines the expected message
  body length in octets"). Sending one more byte completes the request;
- **one too few**: the server reads one byte less, so the JSON is cut (a 400),
  and the byte left over is read as the start of the *next* request on the
  kept connection (RFC 9112 §9.3: "the remaining data on a persistent
  connection would be misinterpreted as the next request").

wire computes ``Content-Length`` from the body bytes, so it cannot make
either mistake; here we write the wrong head by hand. The fake server runs
without TLS, so the socket is a plain one.

    python examples/11_content_length.py    # the fake server only (--real is ignored)
"""

# %% Characters, bytes and Content-Length
import json
import socket
import sys
import time

from _common import DEMO_KEY, section

import wire
from wire.client import Client
from wire.fake import FakeServer
from wire.show import escape

if "--real" in sys.argv[1:]:
    print("(--real ignored: this lesson sends broken requests, only to the fake server)")

text = "Wie groß ist ein Byte? 🙂"  # "ß" is 2 bytes in UTF-8, the emoji 4
print(f"characters: {len(text)}, UTF-8 bytes: {len(text.encode('utf-8'))}")

server = FakeServer().start()  # plain HTTP on 127.0.0.1
request = Client(base_url=server.base_url, api_key=DEMO_KEY).prepare(text).request
body = request.body
characters = len(body.decode("utf-8"))
print(f"body: {len(body)} bytes, {characters} characters, Content-Length: {request.header('Content-Length')}")


def head_with_length(length: int) -> bytes:
    """The request's head with another Content-Length value (everything else as wire wrote it)."""
    right = f"Content-Length: {len(body)}\r\n".encode()
    return request.head_bytes().replace(right, f"Content-Length: {length}\r\n".encode())


def read_response(sock: socket.socket, seconds: float = 5.0) -> wire.Response:
    """Read until one whole response has arrived (bounded by a deadline)."""
    parser = wire.ResponseParser()
    deadline = time.monotonic() + seconds
    while parser.response is None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no whole response within {seconds} s")
        sock.settimeout(left)
        received = sock.recv(65536)
        if received:
            parser.feed(received)
        else:
            parser.feed_eof()  # the server closed the connection
    return parser.response


# %% One byte too many: the server waits
section(f"Content-Length: {len(body) + 1} (one too many)")
with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
    sock.sendall(head_with_length(len(body) + 1) + body)
    sock.settimeout(0.5)
    try:
        sock.recv(65536)
        print("the server answered (unexpected)")
    except TimeoutError:
        print("no reply within 0.5 s: the server is still reading the body, waiting for one more byte")
    sock.sendall(b" ")  # JSON allows whitespace after the value (RFC 8259 §2): this byte completes the body
    reply = read_response(sock)
    print(f"after one more byte: {reply.status} {reply.reason}")
print(f"the server read a body of {len(server.requests[-1].body)} bytes, ending {server.requests[-1].body[-4:]!r}")

# %% One byte too few: a stray byte starts the next message
section(f"Content-Length: {len(body) - 1} (one too few)")
with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
    sock.sendall(head_with_length(len(body) - 1) + body)
    reply = read_response(sock)
    message = json.loads(reply.body)["error"]["message"]
    print(f"first reply: {reply.status} {reply.reason}: {message[:50]}…")
    print(f"the server read a body of {len(server.requests[-1].body)} bytes, ending {server.requests[-1].body[-4:]!r}")
    print(f"left over on the connection: {escape(body[-1:])}")
    sock.sendall(request.to_bytes())  # a correct request, on the same connection
    reply = read_response(sock)
    print(f"the next, correct request got: {reply.status} {reply.reason}")
    seen = (body[-1:] + request.to_bytes()).split(b"\r\n")[0]
    print(f"because the server read its request line as: {escape(seen)}")

# %% The classic mistake
section("Content-Length from len(str)")
print(f"Content-Length: len(body.decode()) would say {characters}: {len(body) - characters} bytes too few")
server.stop()
