"""The pace of a streamed answer: when the first token came, and the rhythm after it.

HTTP timings (``wire.transport.Timings``) stop at the first byte. For a
streamed answer a reader waits on something else: the first piece of text,
then each next one. The client notes the moment each content delta's bytes
were read (``Exchange.delta_times``, seconds on the clock of ``Timings``);
this module turns those moments into figures:

    request sent ──► first byte ──► first delta ─ gap ─ delta ─ gap ─ … ─ last delta
    │◄─ time_to_first_byte ─►│                   │◄────────── duration ──────────►│
    │◄──────── time_to_first_delta ────────►│

A delta is one piece of the answer's text (``choices[0].delta.content`` of a
``chat.completion.chunk``, not empty). Several deltas that arrive in one read
share its moment: their gap is 0, because the client got them together.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from wire.chat import Usage
from wire.transport import Timings

# How many columns the chart of the gaps has at most: one per gap; longer streams are grouped.
CHART_WIDTH = 60
# The rows of the chart's bars, lowest first (the block elements U+2581..U+2588).
BARS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class StreamTimings:
    """The pace of one streamed reply, in seconds (None when there is nothing to measure)."""

    time_to_first_byte: float | None  # from the request sent to the reply's first byte
    time_to_first_delta: float | None  # from the request sent to the first content delta
    gaps: list[float] = field(default_factory=list)  # between consecutive deltas, in order
    duration: float | None = None  # from the first delta to the last
    deltas: int = 0  # how many content deltas arrived
    completion_tokens: int | None = None  # from the usage chunk, when the stream had one

    @property
    def deltas_per_second(self) -> float | None:
        """Deltas after the first over the duration: one over the mean gap (None for fewer than two)."""
        if self.duration is None or self.duration <= 0:
            return None
        return (self.deltas - 1) / self.duration

    @property
    def tokens_per_second(self) -> float | None:
        """The usage's completion tokens over the duration (None without usage or with one delta)."""
        if self.completion_tokens is None or self.duration is None or self.duration <= 0:
            return None
        return self.completion_tokens / self.duration

    @property
    def median_gap(self) -> float | None:
        return statistics.median(self.gaps) if self.gaps else None

    @property
    def longest_gap(self) -> float | None:
        return max(self.gaps) if self.gaps else None

    @property
    def longest_gap_index(self) -> int | None:
        """Which gap was the longest: gap i is between delta i and delta i + 1 (the first such)."""
        return self.gaps.index(max(self.gaps)) if self.gaps else None


def stream_timings(timings: Timings, delta_times: list[float], usage: Usage | None) -> StreamTimings:
    """The figures of one streamed reply from its timings and the moment each delta was read."""

    def since_sent(moment: float | None) -> float | None:
        if moment is None or timings.request_sent is None:
            return None
        return moment - timings.request_sent

    first = delta_times[0] if delta_times else None
    return StreamTimings(
        time_to_first_byte=since_sent(timings.first_byte),
        time_to_first_delta=since_sent(first),
        gaps=[delta_times[i + 1] - delta_times[i] for i in range(len(delta_times) - 1)],
        duration=delta_times[-1] - delta_times[0] if delta_times else None,
        deltas=len(delta_times),
        completion_tokens=usage.completion_tokens if usage is not None else None,
    )


def gap_chart(gaps: list[float], width: int = CHART_WIDTH) -> str:
    """The gaps as one row of bars, tallest for the longest; more gaps than ``width`` are grouped (each bar their max).

    ``▁`` is a gap near 0, ``█`` the longest. Empty for no gaps.
    """
    if not gaps:
        return ""
    per_bar = -(-len(gaps) // width)  # ceiling division: gaps per bar
    heights = [max(gaps[i : i + per_bar]) for i in range(0, len(gaps), per_bar)]
    top = max(heights)
    if top <= 0:
        return BARS[0] * len(heights)
    return "".join(BARS[min(len(BARS) - 1, int(h / top * (len(BARS) - 1) + 0.5))] for h in heights)
