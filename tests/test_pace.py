"""The pace of a streamed answer (issue 15 §1): Exchange.stream_timings, the pace view, the fake server's pacing.

The figures are checked against the pacing the fake server was given, as
bounds that hold however busy the machine is: a delta cannot arrive before the
server sent it, so each delta's time since the request was sent is at least
the sum of the waits planned before it. Upper bounds are generous (seconds):
they prove a measurement, never a speed.
"""

from __future__ import annotations

import contextlib
import io

import pytest

from wire.chat import Usage
from wire.cli import _fake_server, _parser, main
from wire.client import Client
from wire.fake import FakeServer, Scenario
from wire.fake.framing import Wait, plan
from wire.fake.pacing import delta_delays, is_delta
from wire.fake.replies import answer
from wire.pace import StreamTimings, gap_chart, stream_timings
from wire.show import exchange_view, pace_view
from wire.transport import Timings

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"
BODY = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"stream":true}'
HEADERS = [("Authorization", f"Bearer {KEY}")]
SLACK = 0.95  # threading.Event.wait may wake a hair early (clock rounding); never 5 % early
GENEROUS = 20.0  # seconds: an upper bound that proves the figure is a measurement, not that wire is fast


def client(server: FakeServer) -> Client:
    return Client(base_url=server.base_url, api_key=KEY, timeout=30, max_retries=0)


# -- the figures, from fixed moments ------------------------------------------------


TIMINGS = Timings(request_sent=0.010, first_byte=0.050)


def test_figures_from_fixed_moments() -> None:
    usage = Usage(prompt_tokens=7, completion_tokens=12, total_tokens=19)
    pace = stream_timings(TIMINGS, [0.310, 0.360, 0.360, 0.510], usage)
    assert pace.time_to_first_byte == pytest.approx(0.040)
    assert pace.time_to_first_delta == pytest.approx(0.300)
    assert pace.gaps == pytest.approx([0.050, 0.0, 0.150])
    assert pace.duration == pytest.approx(0.200)
    assert pace.deltas == 4
    assert pace.deltas_per_second == pytest.approx(3 / 0.200)  # one over the mean gap
    assert pace.tokens_per_second == pytest.approx(12 / 0.200)
    assert pace.median_gap == pytest.approx(0.050)
    assert pace.longest_gap == pytest.approx(0.150)
    assert pace.longest_gap_index == 2


def test_without_usage_or_with_one_delta_the_rates_are_none() -> None:
    no_usage = stream_timings(TIMINGS, [0.3, 0.4], None)
    assert no_usage.tokens_per_second is None and no_usage.deltas_per_second == pytest.approx(10.0)
    one = stream_timings(TIMINGS, [0.3], Usage(1, 1, 2))
    assert (one.duration, one.gaps, one.deltas_per_second, one.tokens_per_second) == (0.0, [], None, None)
    assert (one.median_gap, one.longest_gap, one.longest_gap_index) == (None, None, None)
    none = stream_timings(TIMINGS, [], None)
    assert (none.time_to_first_delta, none.duration, none.deltas) == (None, None, 0)
    unsent = stream_timings(Timings(), [0.3], None)
    assert (unsent.time_to_first_byte, unsent.time_to_first_delta) == (None, None)


def test_gap_chart() -> None:
    assert gap_chart([]) == ""
    assert gap_chart([0.0, 0.0]) == "▁▁"
    assert gap_chart([0.0, 0.5, 1.0]) == "▁▅█"
    assert gap_chart([0.1] * 5) == "█████"
    # More gaps than columns: each bar is the longest of its group.
    assert gap_chart([0.0, 1.0, 0.0, 0.0, 0.5, 0.0], width=3) == "█▁▅"
    assert len(gap_chart([0.01] * 250)) == 50  # 5 gaps a bar, at most 60 bars


def test_pace_view_exact_text() -> None:
    pace = StreamTimings(
        time_to_first_byte=0.0123,
        time_to_first_delta=0.3,
        gaps=[0.05, 0.1, 0.0],
        duration=0.15,
        deltas=4,
        completion_tokens=9,
    )
    assert pace_view(pace) == "\n".join(
        [
            "  first byte   12.3 ms after the request was sent",
            "  first delta  300.0 ms after the request was sent",
            "  deltas       4 in 150.0 ms: 20.0 per second",
            "  tokens       9 completion tokens (usage): 60.0 per second",
            "  gaps         median 50.0 ms, longest 100.0 ms (between deltas 2 and 3, counting from 1)",
            "               ▅█▁",
            "               one bar per gap, in order; the tallest is the longest",
        ]
    )
    quiet = StreamTimings(time_to_first_byte=0.01, time_to_first_delta=None)
    assert pace_view(quiet).endswith("  (no content delta arrived)")
    assert "tokens per second unknown" in pace_view(StreamTimings(0.01, 0.02, [0.01], 0.01, 2, None))


# -- the fake server's plan -------------------------------------------------------------


def paced_waits(scenario: Scenario) -> list[float]:
    reply = answer("POST", "/v1/chat/completions", HEADERS, BODY, scenario)
    return [step.seconds for step in plan(reply, scenario) if isinstance(step, Wait) and step.reason == "pace"]


def deltas_in_reply(scenario: Scenario) -> int:
    reply = answer("POST", "/v1/chat/completions", HEADERS, BODY, scenario)
    return sum(is_delta(unit) for unit in reply.units)


def test_the_plan_waits_before_each_delta_frame() -> None:
    scenario = Scenario(first_delay=0.3, delta_delay=0.05)
    n = deltas_in_reply(scenario)
    assert n > 5
    assert paced_waits(scenario) == [0.3] + [0.05] * (n - 1)
    # Several deltas in one frame: one wait for the frame.
    grouped = Scenario(first_delay=0.3, delta_delay=0.05, events_per_frame=4)
    waits = paced_waits(grouped)
    assert waits[0] == 0.3 and len(waits) < n
    assert paced_waits(Scenario()) == []


def test_the_plan_puts_each_wait_right_before_a_delta() -> None:
    scenario = Scenario(first_delay=0.3, delta_delay=0.05, keepalive_comments=True)
    reply = answer("POST", "/v1/chat/completions", HEADERS, BODY, scenario)
    steps = plan(reply, scenario)
    for i, step in enumerate(steps):
        if isinstance(step, Wait) and step.reason == "pace":
            frame = steps[i + 1]
            assert isinstance(frame, bytes) and b'"content":"' in frame and b'"content":""' not in frame


def test_jitter_is_seeded_bounded_and_never_negative() -> None:
    scenario = Scenario(first_delay=0.2, delta_delay=0.05, jitter=0.02, seed=7)
    waits = paced_waits(scenario)
    assert waits == paced_waits(Scenario(first_delay=0.2, delta_delay=0.05, jitter=0.02, seed=7))  # reproducible
    assert waits != paced_waits(Scenario(first_delay=0.2, delta_delay=0.05, jitter=0.02, seed=8))
    assert waits[0] == 0.2
    assert all(0.03 <= w <= 0.07 for w in waits[1:]) and len(set(waits[1:])) > 1
    assert waits == delta_delays(scenario, len(waits))
    wide = delta_delays(Scenario(delta_delay=0.01, jitter=0.5, seed=1), 200)
    assert min(wide) == 0.0 and max(wide) <= 0.51


def test_is_delta() -> None:
    assert is_delta(b'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n')
    assert is_delta(b'data: {"choices":[{"delta":{"tool_calls":[{"index":0}]}}]}\n\n')
    assert not is_delta(b'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n')
    assert not is_delta(b'data: {"choices":[],"usage":{}}\n\n')
    assert not is_delta(b"data: [DONE]\n\n")
    assert not is_delta(b": keep-alive\n\n")
    assert not is_delta(b"data: {not json\n\n")


@pytest.mark.parametrize("name", ["first_delay", "delta_delay", "jitter"])
def test_negative_pacing_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match=f"{name} must not be negative"):
        Scenario(**{name: -0.1})  # type: ignore[arg-type]


# -- measured through a real socket ----------------------------------------------------


def test_a_paced_stream_is_measured_against_its_plan() -> None:
    scenario = Scenario(first_delay=0.25, delta_delay=0.03, jitter=0.02, seed=3)
    with FakeServer(scenario) as server:
        stream = client(server).stream("Hi")
        deltas = list(stream)
    exchange = stream.exchange
    pace = exchange.stream_timings
    assert pace is not None
    planned = delta_delays(scenario, len(deltas))
    assert pace.deltas == len(deltas) == len(exchange.delta_times) > 5
    # No delta can arrive before the server sent it: at least the waits planned before it.
    sent = exchange.timings.request_sent
    assert sent is not None
    for k, moment in enumerate(exchange.delta_times):
        assert moment - sent >= sum(planned[: k + 1]) * SLACK, f"delta {k} came before it was sent"
    assert pace.time_to_first_delta is not None and sum(planned[:1]) * SLACK <= pace.time_to_first_delta < GENEROUS
    assert pace.time_to_first_byte is not None and 0 < pace.time_to_first_byte <= pace.time_to_first_delta
    assert pace.duration is not None and pace.duration < GENEROUS
    assert sum(pace.gaps) == pytest.approx(pace.duration) and len(pace.gaps) == len(deltas) - 1
    assert all(gap >= 0 for gap in pace.gaps)
    usage = exchange.completion.usage if exchange.completion else None
    assert usage is not None and usage.completion_tokens
    assert pace.tokens_per_second == pytest.approx(usage.completion_tokens / pace.duration)
    assert pace.deltas_per_second == pytest.approx((len(deltas) - 1) / pace.duration)


def test_the_last_delta_comes_after_the_whole_plan() -> None:
    scenario = Scenario(first_delay=0.1, delta_delay=0.04)
    with FakeServer(scenario) as server:
        stream = client(server).stream("Hi", stream_options=None)  # no usage: tokens per second unknown
        deltas = list(stream)
    pace = stream.exchange.stream_timings
    assert pace is not None and pace.time_to_first_delta is not None and pace.duration is not None
    assert pace.time_to_first_delta + pace.duration >= (0.1 + 0.04 * (len(deltas) - 1)) * SLACK
    assert pace.tokens_per_second is None


def test_not_streamed_has_no_stream_timings_and_no_pace_view() -> None:
    with FakeServer() as server:
        exchange = client(server).chat("Hi")
    assert exchange.stream_timings is None and exchange.delta_times == []
    assert "pace of the answer" not in exchange_view(exchange)


def test_a_streamed_call_shows_pace_by_default_on_the_command_line() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["demo", "--stream"]) == 0
    text = out.getvalue()
    assert ". pace of the answer " in text
    assert "  first delta  " in text and "one bar per gap" in text
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["demo"]) == 0
    assert "pace of the answer" not in out.getvalue()


def test_wire_serve_pacing_options() -> None:
    args = _parser().parse_args(
        ["serve", "--port", "0", "--first-delay", "0.5", "--delta-delay", "0.05", "--jitter", "0.01", "--seed", "9"]
    )
    scenario = _fake_server(args).scenarios[0]
    assert (scenario.first_delay, scenario.delta_delay, scenario.jitter, scenario.seed) == (0.5, 0.05, 0.01, 9)
    assert _fake_server(_parser().parse_args(["serve"])).scenarios[0].first_delay == 0.0


def test_wire_serve_refuses_a_negative_delay(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _parser().parse_args(["serve", "--delta-delay", "-1"])
    assert exit_info.value.code == 2
    assert "must be 0 or more seconds, got '-1'" in capsys.readouterr().err
