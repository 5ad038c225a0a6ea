"""HTTP/1.1 responses, parsed from bytes as they arrive (RFC 9112).

A response crosses the wire in this order, and the parser reads it in the
same order, one state at a time::

    status line     HTTP/1.1 200 OK CRLF                       (RFC 9112 §4)
    fields          content-type: application/json CRLF        (RFC 9112 §5)
                    ...
    end of head     CRLF
    body, framed one of three ways                             (RFC 9112 §6.3)
      Content-Length: exactly N bytes
      chunked:        1a;ext=v CRLF <26 bytes> CRLF ... 0 CRLF [trailers] CRLF  (§7.1)
      until close:    everything until the server closes the connection

The parser is *sans-I/O*: it never touches a socket. ``feed(data)`` takes
whatever bytes arrived and returns the events they complete; ``feed_eof()``
says the peer closed. Any way of splitting the same bytes gives the same
events (only ``Data`` events may be cut differently), so the same parser
serves the client, the tests and the examples.

Choices this parser makes where RFC 9112 lets a recipient choose:
- A bare LF ends a line in the status line, the fields and the trailers
  (§2.2 "MAY recognize a single LF"), as h11 and llhttp do. A bare CR is
  rejected (§2.2). Chunk size lines and the CRLF after chunk data must be
  CRLF exactly.
- Obsolete line folding (a field value continued on a line that starts with
  SP or HTAB) is unfolded, in the fields and in the trailers: there is no
  choice here, "A user agent that receives an obs-fold in a response message
  [...] MUST replace each received obs-fold with one or more SP octets prior
  to interpreting the field value" (§5.2). wire puts one SP in place of each
  fold; the event's ``raw`` keeps the lines as they came. Rejecting a fold is
  for servers and proxies only. A line that starts with whitespace right
  after the status line folds nothing and is rejected (§2.2 "MUST either
  reject the message as invalid or consume each whitespace-preceded line").
- A status line with no SP after the code (``HTTP/1.1 200`` CRLF) is
  accepted as an empty reason, as h11 and llhttp do; the grammar in §4 wants
  the SP, but the reason carries no meaning for a client.
- Control characters other than HTAB in a field value are rejected (RFC 9110
  §5.5 lets a recipient retain them; a client showing bytes to a learner
  should not).
- A transfer coding other than ``chunked`` is rejected: a request's ``TE``
  field lists the codings "besides chunked" a client accepts (RFC 9112
  §7.4), and wire sends none. (§6.3 rule 4 would read such a body until the
  close; that is for a client that accepts the coding.)
- A ``Content-Length`` or ``Transfer-Encoding`` trailer field is rejected.
  RFC 9110 §6.5.1 says fields that describe message framing "cannot be
  processed outside the header section", and a sender must not send them as
  trailers; RFC 9112 §7.1.2 lets a recipient discard trailers instead, but a
  framing field after the body can only mislead.
- ``Content-Length`` or ``Transfer-Encoding`` on a 1xx or 204 reply, which a
  server must not send (RFC 9110 §8.6, RFC 9112 §6.1), is flagged in
  ``warnings`` and the connection is not reused, rather than rejected: RFC
  9112 §6.3 rule 1 ends such a reply at its head "regardless of the header
  fields present". A ``Content-Length`` value is still checked on every
  status but a 2xx reply to CONNECT, whose framing fields a client "MUST
  ignore" (RFC 9112 §6.3 rule 2).

The layer, one job per module, in reading order:

    wire/grammar.py          the RFC 9112 / 9110 rules as regexes (shared with the request writer)
    http11/events.py         the events, as data classes, and Framing
    http11/receivebuffer.py  received bytes, read by position
    http11/diagnose.py       a failed match -> the exact rule, byte offset and message
    http11/framing.py        where the body ends (RFC 9112 §6.3) and connection reuse (§9.3)
    http11/response.py       Response and ChunkFrame
    http11/parser.py         ResponseParser: the state loop, one reader per State
"""

from wire.http11.events import (
    ChunkEnd,
    ChunkHeader,
    Data,
    EndOfHead,
    EndOfMessage,
    Event,
    Field,
    Framing,
    StatusLine,
    Trailer,
)
from wire.http11.parser import (
    MAX_BODY_SIZE,
    MAX_CHUNK_LINE_BYTES,
    MAX_FIELDS,
    MAX_HEAD_BYTES,
    ResponseParser,
    State,
    parse_response,
)
from wire.http11.response import ChunkFrame, Response

__all__ = [
    "MAX_BODY_SIZE",
    "MAX_CHUNK_LINE_BYTES",
    "MAX_FIELDS",
    "MAX_HEAD_BYTES",
    "ChunkEnd",
    "ChunkFrame",
    "ChunkHeader",
    "Data",
    "EndOfHead",
    "EndOfMessage",
    "Event",
    "Field",
    "Framing",
    "Response",
    "ResponseParser",
    "State",
    "StatusLine",
    "Trailer",
    "parse_response",
]
