"""Benchmarks: wire against its pure-Python peers, side by side (issue 7). Run ``python -m tests.bench.bench``."""
