"""Shared test settings: every test talks to loopback only, so no proxy from the environment may apply."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# Hypothesis: no per-example deadline (the machine may be busy), a fixed budget per test.
settings.register_profile("wire", deadline=None)
# HYPOTHESIS_PROFILE=mutation (docs/testing.md): fewer, reproducible examples, so that a mutation
# run (hundreds of test runs) finishes in minutes and gives the same verdict each time.
settings.register_profile("mutation", deadline=None, max_examples=20, derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "wire"))

_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy",
                    "ALL_PROXY", "all_proxy")


@pytest.fixture(autouse=True)
def _no_proxies_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A CI machine with HTTPS_PROXY set must not route the tests' loopback calls through it."""
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
