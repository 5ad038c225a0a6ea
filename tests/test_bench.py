"""The benchmark runs and prints its table (issue 7). Timings are never asserted: CI machines vary.

The bench runs in quick mode in a subprocess, as a user would start it. Peers that
are not installed (only the test extra: h11 but no httptools, openai, requests,
httpx) must give rows that say so, never a crash.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Every row of the table: (benchmark id, peer); P2 has two of wire's sides (keep_body False and True).
ROWS = [
    ("P1", "h11"),
    ("P1", "httptools"),
    ("P1", "http.client"),
    ("P2", "h11"),
    ("P2", "httptools"),
    ("P2", "http.client"),
    ("P3", "h11"),
    ("P3", "httptools"),
    ("P3", "http.client"),
    ("P4", "openai SDK SSEDecoder"),
    ("P4", "naive split"),
    ("P4b", "openai SDK SSEDecoder"),
    ("P4b", "naive split"),
    ("P5", "http.client"),
    ("P5", "requests"),
    ("P5", "httpx"),
    ("P6", "http.client, one connection"),
    ("P6", "requests.Session"),
    ("P6", "httpx.Client"),
    ("P5", "bare socket"),
    ("P6", "bare socket"),
    ("P7", "openai SDK, stream=True"),
    ("P7", "httpx, naive SSE split"),
    ("M1", "-"),
    ("M1b", "-"),
    ("M2", "-"),
]
SIDES = {"P1": 2, "P2": 2}  # rows per peer: one per wire side
CALLS = {"P5", "P6", "P7", "M2"}  # the rows that time the whole call (the others: the parser alone)
NUMBER = r"[0-9][0-9,]*(?:\.[0-9]+)?"


def run_bench(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.bench.bench", "--quick", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def rows_of(out: str, bench: str, peer: str) -> list[str]:
    # The table's columns are separated by two or more spaces; the peer is one cell.
    pattern = rf"^{bench}  .*?(?<=  ){re.escape(peer)}(?=  |$).*$"
    found = re.findall(pattern, out, re.MULTILINE)
    assert len(found) == SIDES.get(bench, 1), f"row {bench} / {peer} not found {SIDES.get(bench, 1)}x in:\n{out}"
    return found


def row(out: str, bench: str, peer: str) -> str:
    return rows_of(out, bench, peer)[0]


def right_aligned_cell(header: str, line: str, column: str) -> str:
    """The cell of a right-aligned column: it ends where its heading ends ("" when empty)."""
    end = header.index(column) + len(column)
    assert len(line) >= end, f"row shorter than the {column!r} column: {line!r}"
    return re.split(r" {2,}", line[:end])[-1]


def test_right_aligned_cell_is_the_one_under_its_heading() -> None:
    header = "bench  unit      wire  peer  peer figure  wire/peer"
    assert right_aligned_cell(header, "P1     resp/s   4,745  h11         2,310      2.05x", "peer figure") == "2,310"
    assert right_aligned_cell(header, "P1     resp/s   4,745  h11                    2.05x", "peer figure") == ""
    assert right_aligned_cell(header, "P1     resp/s   4,745  h11                    2.05x", "wire") == "4,745"


def test_quick_bench_prints_every_row() -> None:
    out = run_bench()
    header = next(line for line in out.splitlines() if line.startswith("bench"))
    for column in ("scope", "what", "unit", "wire", "peer", "peer is", "peer figure", "wire/peer", "wall", "target"):
        assert column in header
    for bench in {bench for bench, _ in ROWS}:
        # A figure for wire on the first row of each of wire's sides, then blank cells below it.
        lines = [line for line in out.splitlines() if line.startswith(bench + " ")]
        figures = [right_aligned_cell(header, line, "wire") for line in lines]
        assert figures[0] != "" and len([f for f in figures if f]) == SIDES.get(bench, 1), lines
        for wire_figure in filter(None, figures):
            labels = r"keep_body=(?:False|True)|a Field event per line|field_events=False, as the Client reads"
            assert re.fullmatch(NUMBER + rf"(?: \[(?:{labels})\])?", wire_figure), lines
    for bench, peer in ROWS:
        for line in rows_of(out, bench, peer):
            cells = re.split(r"\s{2,}", line)
            # For the peer, in its own column, a figure or the reason there is none.
            figure = right_aligned_cell(header, line, "peer figure")
            if bench.startswith("M"):
                assert ("<= 32 MiB" if bench == "M2" else "<= 16 MiB") in line and figure == "", line  # no peer
            else:
                assert re.fullmatch(NUMBER, figure) or figure in ("not installed", "n/a"), line
            # Whole-call rows say so and give the wall-clock ratio beside the CPU-time one.
            wall = right_aligned_cell(header, line, "wall")
            if bench in CALLS - {"M2"} and figure != "not installed":
                assert re.fullmatch(NUMBER + "x", wall), line
            else:
                assert wall == "", line
            assert cells[0] == bench
    for bench in ("P1", "P2", "P3", "P4", "P4b", "M1", "M1b", "P5", "P6", "P7", "M2"):
        scope = "call" if bench in CALLS else "parser"
        assert re.search(rf"^{bench} +{scope}  ", out, re.MULTILINE), bench
    # Each benchmark is headlined against its fastest peer, never against the C ceiling or the floor.
    for bench in ("P1", "P2", "P3", "P4", "P5", "P6", "P7"):
        first = next(line for line in out.splitlines() if line.startswith(bench + " "))
        assert "  fastest  " in first and "httptools" not in first and "bare socket" not in first, first
        assert re.search(rf"^- {bench}: wire is {NUMBER}x .*, the fastest peer measured$", out, re.MULTILINE)
    # The whole-call rows time a bare socket doing the same bytes: the floor, and each side's time above it.
    for bench, peer in (("P5", "http.client"), ("P6", "http.client, one connection")):
        assert "  the floor  " in row(out, bench, "bare socket")
        above = rf"above it wire took -?\d+ us, {re.escape(peer)} -?\d+ us"
        assert re.search(rf"^- {bench}: a bare socket took \d+ us a call \(the floor.*\); {above}$", out, re.MULTILINE)
    assert re.search(r"^P2 .*  [0-9,.]+ \[keep_body=True\]  ", out, re.MULTILINE)
    assert re.search(r"^- P6: connections opened for \d+ calls: wire 1,", out, re.MULTILINE)


def test_missing_peers_are_rows_not_crashes() -> None:
    out = run_bench("--only", "P1,P4", "--without", "h11,httptools,openai,requests,httpx")
    header = next(line for line in out.splitlines() if line.startswith("bench"))
    for bench, peer in [("P1", "h11"), ("P1", "httptools"), ("P4", "openai SDK SSEDecoder")]:
        assert right_aligned_cell(header, row(out, bench, peer), "peer figure") == "not installed"
    assert re.fullmatch(NUMBER, right_aligned_cell(header, row(out, "P1", "http.client"), "peer figure"))
    assert "P2" not in [line[:2] for line in out.splitlines()]


def test_a_run_names_the_processor_it_ran_on(tmp_path: Path) -> None:
    """The same code measures differently on two machines of one kind: each run says which it was."""
    from tests.bench.bench import cpu_model

    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t: fpu\n")
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert cpu_model(str(info)) == f"AMD EPYC 7B13, {cpus} CPUs"
    assert cpu_model(str(tmp_path / "missing")).endswith(f", {cpus} CPUs")
