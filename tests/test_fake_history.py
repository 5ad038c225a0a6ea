"""Issue 12, "Long runs stay bounded": FakeServer (and so `wire serve`) keeps only its recent requests."""

from __future__ import annotations

import pytest

from wire import APIError, Client
from wire.fake import FakeServer, ReceivedRequest, Scenario
from wire.fake.server import MAX_KEPT_REQUESTS

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyzQRST"


def _request(n: int) -> ReceivedRequest:
    body = b'{"n":%d}' % n
    return ReceivedRequest("POST", "/v1/chat/completions", "HTTP/1.1", [], body, {"n": n})


def test_the_default_history_keeps_the_last_max_kept_requests_and_counts_all() -> None:
    server = FakeServer()
    extra = 7
    for n in range(MAX_KEPT_REQUESTS + extra):
        server._record(_request(n))  # what each connection thread does with a request it has read
    assert server.request_count == MAX_KEPT_REQUESTS + extra
    assert len(server.requests) == MAX_KEPT_REQUESTS
    assert [r.json for r in server.requests[:2]] == [{"n": extra}, {"n": extra + 1}]
    assert server.requests[-1].json == {"n": MAX_KEPT_REQUESTS + extra - 1}
    assert isinstance(server.requests, list)


def test_over_real_sockets_the_recent_requests_are_kept_and_scenarios_follow_the_total_count() -> None:
    # The n-th request gets scenarios[n] by the total count, not by how many are still kept.
    scenarios = [Scenario(status=401), Scenario(status=401), Scenario(status=401), Scenario()]
    statuses = []
    with FakeServer(scenarios, history=2) as server:
        client = Client(api_key=KEY, base_url=server.base_url, max_retries=0)
        for n in range(5):
            try:
                exchange = client.chat(f"message {n}")
            except APIError as exc:
                exchange = exc.exchange
            statuses.append(exchange.response.status)
        client.close()
    assert statuses == [401, 401, 401, 200, 200]
    assert server.request_count == 5
    assert [r.json["messages"][0]["content"] for r in server.requests if r.json] == ["message 3", "message 4"]
    assert repr(server).endswith("requests=5>")


def test_errors_are_bounded_too() -> None:
    server = FakeServer(history=3)
    from wire.fake.server import _append_bounded

    for n in range(5):
        _append_bounded(server.errors, OSError(n), server.history)
    assert [e.args[0] for e in server.errors] == [2, 3, 4]


@pytest.mark.parametrize("history", [0, -1, 1.5, True])
def test_history_must_be_a_positive_whole_number(history: object) -> None:
    with pytest.raises(ValueError, match="^history must be a whole number of requests, 1 or more"):
        FakeServer(history=history)  # type: ignore[arg-type]


def test_the_readme_states_the_limit() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert f"keeps the last {MAX_KEPT_REQUESTS:,} requests" in readme
