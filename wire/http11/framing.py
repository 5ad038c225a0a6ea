"""Where the body ends, and whether the connection may carry another request.

RFC 9112 §6.3 decides a response's body length from its status, the
request's method and two fields, ``Transfer-Encoding`` and
``Content-Length``; RFC 9112 §9.3 decides reuse from ``Connection`` and the
version. These functions take the fields the parser picked out of the head
and return the decision, or raise a ``Fault`` naming the broken rule.
"""

from __future__ import annotations

from wire.http11.diagnose import Fault
from wire.http11.events import Field, Framing

TE_RULE = "RFC 9112 §7.4: without a TE field in the request, chunked is the only acceptable transfer coding"


def list_elements(fields: list[Field]) -> list[str]:
    """The elements of list-valued fields, lower-cased (RFC 9110 §5.6.1): commas, OWS, empty elements ignored."""
    elements = []
    for f in fields:
        for item in f.value.lower().split(","):
            item = item.strip(" \t")
            if item:
                elements.append(item)
    return elements


def body_framing(
    status: int,
    *,
    request_method: str,
    http_version: str,
    te_fields: list[Field],
    cl_fields: list[Field],
    max_body_size: int,
    warnings: list[str],
) -> tuple[Framing, int | None]:
    """RFC 9112 §6.3: how the body of this response is framed, and its length when known.

    Problems a client survives (the reply is still readable, but the
    connection must not be reused) are appended to ``warnings``.
    """
    # RFC 9112 §6.3 rule 2: a 2xx reply to CONNECT turns the connection into a tunnel, and
    # "A client MUST ignore any Content-Length or Transfer-Encoding header fields" in it.
    if request_method == "CONNECT" and 200 <= status < 300:
        return Framing.NONE, None
    # RFC 9112 §6.3 rule 1: these replies end with their head "regardless of the header
    # fields present", but the fields are still checked.
    if status < 200 or status in (204, 304) or request_method == "HEAD":
        _check_fields_without_body(status, te_fields, cl_fields, max_body_size, warnings)
        return Framing.NONE, None
    if te_fields:
        if http_version == "HTTP/1.0":
            raise Fault(
                "Transfer-Encoding in an HTTP/1.0 response",
                te_fields[0].offset,
                "RFC 9112 §6.1: treat the framing as faulty",
            )
        codings = list_elements(te_fields)
        # RFC 9112 §7.4: a request's TE field lists the transfer codings, "besides chunked", that
        # the client will accept. wire sends no TE, so chunked is the only one it accepts. (RFC
        # 9112 §6.3 rule 4 would read a response whose final coding is not chunked until the
        # close; that reading is for a client that asked for such a coding.)
        if not codings or codings[-1] != "chunked":
            raise Fault(
                f"the final transfer coding is not chunked ({', '.join(codings) or 'empty'})",
                te_fields[-1].offset,
                TE_RULE,
            )
        if "chunked" in codings[:-1]:
            raise Fault(
                "chunked is applied more than once (Transfer-Encoding lists it "
                f"{codings.count('chunked')} times: {', '.join(codings)})",
                te_fields[-1].offset,
                "RFC 9112 §6.1: a sender MUST NOT apply the chunked transfer coding more than once",
            )
        if len(codings) > 1:
            raise Fault(
                f"unsupported transfer coding {codings[0]!r}: wire sends no TE field, so only chunked may be used",
                te_fields[0].offset,
                TE_RULE,
            )
        if cl_fields:
            # RFC 9112 §6.3 rule 3: Transfer-Encoding overrides Content-Length; the
            # pair can signal request smuggling, so the connection is not reused.
            warnings.append(
                "both Transfer-Encoding and Content-Length were sent; Transfer-Encoding "
                "wins and the connection will not be reused (RFC 9112 §6.3 rule 3)"
            )
        return Framing.CHUNKED, None
    if cl_fields:
        return Framing.CONTENT_LENGTH, content_length(cl_fields, max_body_size)
    return Framing.UNTIL_CLOSE, None


def _check_fields_without_body(
    status: int, te_fields: list[Field], cl_fields: list[Field], max_body_size: int, warnings: list[str]
) -> None:
    """Framing fields on a reply that has no body: they frame nothing, but they are checked.

    Content-Length must be valid whatever the status (RFC 9110 §8.6); a HEAD or 304
    reply may carry the length the GET or 200 body would have had. On a 1xx or 204
    neither field may be sent at all (RFC 9110 §8.6, RFC 9112 §6.1): that is flagged
    and the connection is not reused, since a server that sent one may have sent a body
    too, which would be read as the next response.
    """
    if cl_fields:
        content_length(cl_fields, max_body_size)
    if status < 200 or status == 204:
        for fields, section in ((cl_fields, "RFC 9110 §8.6"), (te_fields, "RFC 9112 §6.1")):
            if fields:
                field = fields[0]
                warnings.append(
                    f"a {status} reply carries {field.name}: {field.value}, which a server must not send "
                    f"with this status; the reply has no body and the connection will not be reused ({section})"
                )


def content_length(fields: list[Field], max_body_size: int) -> int:
    """RFC 9110 §8.6: Content-Length = 1*DIGIT; identical repeats may be merged, differing ones are fatal."""
    values = set()
    for f in fields:
        for item in f.value.split(","):
            item = item.strip(" \t")
            if not item.isdigit() or not item.isascii():
                raise Fault(
                    f"Content-Length {f.value!r} is not a non-negative decimal number",
                    f.offset,
                    "RFC 9110 §8.6: Content-Length = 1*DIGIT",
                )
            digits = item.lstrip("0") or "0"
            # More digits than the limit has is over it; checked before int(), which
            # refuses strings of more than 4300 digits with a ValueError.
            if len(digits) > len(str(max_body_size)):
                raise Fault(
                    f"Content-Length of {len(digits)} digits is larger than {max_body_size} (max_body_size)",
                    f.offset,
                    "limit: MAX_BODY_SIZE",
                )
            values.add(int(digits))
    if len(values) > 1:
        raise Fault(
            f"conflicting Content-Length values {sorted(values)}",
            fields[-1].offset,
            "RFC 9110 §8.6: Content-Length = 1*DIGIT; RFC 9112 §6.3 rule 5: an unrecoverable framing error",
        )
    length = values.pop()
    if length > max_body_size:
        raise Fault(
            f"Content-Length {length} is larger than {max_body_size} (max_body_size)",
            fields[0].offset,
            "limit: MAX_BODY_SIZE",
        )
    return length


def keep_alive(framing: Framing, status: int, http_version: str, connection: list[Field], warnings: list[str]) -> bool:
    """RFC 9112 §9.3: may this connection carry another request after this response?"""
    if framing is Framing.UNTIL_CLOSE or warnings or status == 101:
        return False
    tokens = list_elements(connection)
    if "close" in tokens:
        return False
    if http_version == "HTTP/1.0":
        return "keep-alive" in tokens
    return True
