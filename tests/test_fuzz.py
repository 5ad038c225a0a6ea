"""A short, bounded run of the fuzz targets in tests/fuzz.py (no atheris needed).

The long run is one command: ``python tests/fuzz.py http11 --seconds 60``
(or ``sse``). Here each target sees its seeds, then a fixed number of
mutated seeds and hypothesis-generated inputs, so the run is deterministic
and takes a few seconds.
"""

from __future__ import annotations

import random

import pytest
from fuzz import TARGETS, check_http11, check_sse, hypothesis_target, mutate

import wire
from wire.sse import ServerSentEvent, SSEDecoder


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_seeds_and_mutations_keep_the_invariants(name: str) -> None:
    check, seeds = TARGETS[name]
    rng = random.Random(f"wire-{name}")
    for data in seeds:
        check(data)
    for _ in range(2000):
        check(mutate(rng, seeds))


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_hypothesis_fuzz_entry_point(name: str) -> None:
    target = hypothesis_target(name)
    rng = random.Random(f"hypothesis-{name}")
    for _ in range(1500):
        target.hypothesis.fuzz_one_input(rng.randbytes(rng.choice((64, 512))))


def test_the_target_catches_a_split_dependent_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    # The target must check invariants, not only "no crash": a parser whose error depends on
    # how the bytes were cut is caught.
    original = wire.http11.ResponseParser.feed

    def feed(self: wire.http11.ResponseParser, data: bytes) -> list[wire.http11.Event]:
        if len(data) == 1 and data == b"!":
            raise wire.ProtocolError("only when fed alone", offset=0, rule="none", received=b"")
        return original(self, data)

    monkeypatch.setattr(wire.http11.ResponseParser, "feed", feed)
    with pytest.raises(AssertionError, match="bytewise feed differs"):
        check_http11(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n!")


def test_the_target_catches_other_exceptions(monkeypatch: pytest.MonkeyPatch) -> None:
    def feed(self: SSEDecoder, data: bytes) -> list[ServerSentEvent]:
        raise ValueError("not a ProtocolError")

    monkeypatch.setattr(SSEDecoder, "feed", feed)
    with pytest.raises(ValueError):
        check_sse(b"data: x\n\n")
