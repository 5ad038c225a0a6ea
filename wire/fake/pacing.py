"""The pace of the fake server's streamed deltas: a delay before the first, a delay between the others.

A real model writes its answer a token or a few at a time, so a stream's
content deltas come spread out: a wait before the first (the model reads the
prompt), then a rhythm. ``Scenario(first_delay=…, delta_delay=…, jitter=…,
seed=…)`` gives the fake server that rhythm, so ``Exchange.stream_timings``
has something to measure:

    first_delay    seconds before the frame with the first content delta
    delta_delay    seconds before each frame with a later content delta
    jitter         each delta_delay moved by a uniform amount in [-jitter, +jitter] (never below 0),
                   drawn from random.Random(seed): the same scenario always waits the same
    seed           the seed of those draws

A content delta is a ``chat.completion.chunk`` whose first choice's delta has
text (``content``) or tool-call arguments. The role chunk before, the
finish, usage and ``[DONE]`` after go out with no wait of their own. With
``events_per_frame`` above 1, one frame holds several deltas: it waits once.
"""

from __future__ import annotations

import json
import random
from typing import Any

from wire.fake.scenario import Scenario


def is_delta(unit: bytes) -> bool:
    """True for an SSE block ``data: {chunk}`` whose chunk carries text or tool-call arguments."""
    if not unit.startswith(b"data: {"):
        return False
    try:
        chunk: Any = json.loads(unit[len(b"data: ") :])
    except ValueError:
        return False
    choices = chunk.get("choices") if isinstance(chunk, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return False
    delta = choices[0].get("delta")
    if not isinstance(delta, dict):
        return False
    return bool(delta.get("content")) or bool(delta.get("tool_calls"))


def delta_delays(scenario: Scenario, count: int) -> list[float]:
    """The wait before each of ``count`` delta frames: first_delay, then delta_delay with its jitter."""
    if count <= 0:
        return []
    rng = random.Random(scenario.seed)
    delays = [scenario.first_delay]
    for _ in range(count - 1):
        move = rng.uniform(-scenario.jitter, scenario.jitter) if scenario.jitter > 0 else 0.0
        delays.append(max(0.0, scenario.delta_delay + move))
    return delays


def frame_delays(scenario: Scenario, units: list[bytes], frames: list[range]) -> list[float]:
    """For each frame (the SSE units it begins), the pacing wait before it: 0.0 for a frame with no delta."""
    with_delta = [any(is_delta(units[i]) for i in members) for members in frames]
    delays = iter(delta_delays(scenario, sum(with_delta)))
    return [next(delays) if has else 0.0 for has in with_delta]


def paced(scenario: Scenario) -> bool:
    """True when the scenario asks for any pacing."""
    return scenario.first_delay > 0 or scenario.delta_delay > 0 or scenario.jitter > 0
