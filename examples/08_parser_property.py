"""08 · A property test of your own: any split of a chunked response gives the same body.

What it teaches: TCP delivers a byte *stream*, not messages. The same response
can arrive in one ``recv`` or in a thousand, cut anywhere: inside the status
line, between ``\\r`` and ``\\n``, in the middle of a chunk size. A parser that
is right for one split and wrong for another is a bug that shows up only on a
slow network. Instead of writing splits by hand, we let ``hypothesis`` make
them: it generates a body, cuts it into chunk frames, cuts the resulting bytes
into pieces, and checks that wire's ``ResponseParser`` always gives the same
body, frames and trailers as ``parse_response`` on the whole. When a check
fails, hypothesis shrinks the input to a smallest failing case.

    python examples/08_parser_property.py        # runs the test function (needs: pip install hypothesis)
    pytest examples/08_parser_property.py        # the same test, under pytest

``--real`` makes no sense here (no network at all) and is ignored.
"""

# %% What we generate
from hypothesis import given, settings
from hypothesis import strategies as st

import wire

bodies = st.binary(max_size=300)
# RFC 9112 §7.1: chunk-size = 1*HEXDIG; upper or lower case, leading zeros allowed.
hex_styles = st.sampled_from(["{:x}", "{:X}", "{:04x}"])


@st.composite
def chunked_responses(draw: st.DrawFn) -> tuple[bytes, bytes, list[int]]:
    """A chunked response (bytes), the body it carries, and where to cut the bytes into pieces."""
    body = draw(bodies)
    style = draw(hex_styles)
    frames, pos = [], 0
    while pos < len(body):
        size = draw(st.integers(min_value=1, max_value=len(body) - pos))
        frames.append(style.format(size).encode() + b"\r\n" + body[pos : pos + size] + b"\r\n")
        pos += size
    trailer = draw(st.sampled_from([b"", b"X-Checksum: 1234\r\n"]))  # RFC 9112 §7.1.2: optional trailer fields
    raw = (
        b"HTTP/1.1 200 OK\r\n"
        b"Content-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n"
        b"\r\n" + b"".join(frames) + b"0\r\n" + trailer + b"\r\n"
    )
    cuts = sorted(draw(st.lists(st.integers(min_value=1, max_value=max(1, len(raw) - 1)), max_size=20)))
    return raw, body, cuts


def pieces(raw: bytes, cuts: list[int]) -> list[bytes]:
    """``raw`` cut at each offset in ``cuts``: what successive recv() calls might return."""
    edges = [0, *cuts, len(raw)]
    return [raw[a:b] for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


# %% The property
@settings(max_examples=300, deadline=None)
@given(chunked_responses())
def test_any_split_gives_the_same_body(case: tuple[bytes, bytes, list[int]]) -> None:
    raw, body, cuts = case
    whole = wire.parse_response(raw)
    parser = wire.ResponseParser()
    events: list[wire.Event] = []
    for piece in pieces(raw, cuts):
        events += parser.feed(piece)
    response = parser.response
    assert response is not None, "the parser must finish: the last chunk and the empty line arrived"
    assert response.body == whole.body == body
    assert [f.raw for f in response.frames] == [f.raw for f in whole.frames]
    assert response.trailers == whole.trailers
    # Data events may split differently; what they add up to may not.
    assert b"".join(e.data for e in events if isinstance(e, wire.Data)) == body
    assert isinstance(events[-1], wire.EndOfMessage)


# %% Run it
if __name__ == "__main__":
    import sys

    if "--real" in sys.argv[1:]:
        print("(--real ignored: this lesson needs no server at all)")
    test_any_split_gives_the_same_body()  # hypothesis runs it on max_examples generated cases
    print("property holds: any split of a chunked response gives the same body (300 generated cases)")
