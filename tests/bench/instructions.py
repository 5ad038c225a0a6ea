"""Instructions per unit of work, counted by callgrind: a ratio the machine's load cannot move.

    python -m tests.bench.instructions              # P1, P5, P6, P7: wire and its fastest peer
    python -m tests.bench.instructions P6 P7        # some rows only

CPU time on this project's virtual machine swings by a third or more between runs
(tests/bench/bench.py prints it, and its verdicts). ``valgrind --tool=callgrind`` counts the instructions a process runs in user
space, the same count whatever else the machine does (it says nothing of time spent in the
kernel, which the whole-call rows also pay: system calls, the loopback). Each contender runs
in a process of its own under callgrind twice, with a small and a larger number of loops;
the difference, divided by the extra loops, is its cost per unit without the start-up.
Two runs of the same code agree to about 1 % (addresses differ between processes, and so do
the layouts of dicts keyed by them); the children share one hash seed.
The servers run outside callgrind, in processes of their own (bench.ServerProcess). It takes
a few minutes: callgrind runs a program about fifty times slower.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench import bench  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
P7_CHUNKS = bench.FULL.p7_chunks  # the benchmark's stream, on a client made once (as there: set-up is not timed)

# row -> (unit, loops (small, large), contenders: name -> what the child process runs)
ROWS: dict[str, tuple[str, tuple[int, int], dict[str, str]]] = {
    "P1": ("reply", (100, 1100), {"wire": "parse-wire", "h11": "parse-h11"}),  # less "connect-h11"
    "P5": ("call", (50, 150), {"wire": "calls-wire", "http.client": "calls-httpclient"}),
    "P6": ("call", (50, 150), {"wire": "calls-wire", "http.client": "calls-httpclient"}),
    "P7": ("chunk", (1, 2), {"wire": "stream-wire", "httpx, naive SSE split": "stream-httpx"}),
}


def child(what: str, loops: int, url: str, row: str) -> None:
    """What one process under callgrind runs: ``loops`` units after one warm-up."""
    if what.startswith(("parse-", "connect-")):
        import h11

        pieces = [bench.chat_reply()]
        # As in the benchmark, h11's connection (which has sent its request) is made apart from
        # the parse: "connect-h11" counts making them, to take away from "parse-h11".
        conns = [bench.h11_connection(h11) for _ in range(loops + 1)] if what.endswith("h11") else []
        for i in range(loops + 1):
            if what == "parse-wire":
                bench.wire_parse(pieces)
            elif what == "parse-h11":
                bench.h11_parse(h11, conns[i], pieces)
    elif what.startswith("calls-"):
        run = (
            bench.wire_calls(url, loops)
            if what == "calls-wire"
            else bench.httpclient_calls(url, loops, reuse=row == "P6")
        )
        if loops:
            run()
    else:
        if what == "stream-wire":
            call = bench.wire_stream_call(url)
        else:
            import httpx

            call = bench.httpx_naive_stream_call(httpx, url)
        for _ in range(loops + 1):
            call()


def count(what: str, loops: int, url: str, row: str) -> int:
    """Instructions callgrind counted for one child process."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "tests.bench.instructions",
        "--child",
        what,
        str(loops),
        url,
        row,
    ]
    # One hash seed for every child: with str hashes salted per process, the dicts' layouts (and so
    # the start-up's count) differ between the small and the large run, and the difference is noise.
    env = dict(os.environ, PYTHONHASHSEED="0")
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600, check=True)
    m = re.search(r"Collected : (\d+)", done.stderr)
    if m is None:
        raise RuntimeError(f"callgrind printed no count for {what}: {done.stderr[-500:]}")
    return int(m.group(1))


def server_for(row: str) -> bench.ServerProcess | None:
    if row == "P1":
        return None
    if row == "P7":
        _, datas = bench.chat_stream(P7_CHUNKS)
        return bench.ServerProcess(bench.sse_reply(datas), close=False)
    return bench.ServerProcess(bench.length_reply(close=row == "P5"), close=row == "P5")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        what, loops, url, row = argv[1], int(argv[2]), argv[3], argv[4]
        child(what, loops, url, row)
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt install valgrind)", file=sys.stderr)
        return 2
    rows = [r.upper() for r in argv] or list(ROWS)
    for row in rows:
        unit, (small, large), contenders = ROWS[row]
        per = P7_CHUNKS if row == "P7" else 1
        server = server_for(row)
        url = server.base_url if server is not None else ""
        try:
            costs = {
                name: (count(what, large, url, row) - count(what, small, url, row)) / ((large - small) * per)
                for name, what in contenders.items()
            }
            if row == "P1":
                setup = (count("connect-h11", large, url, row) - count("connect-h11", small, url, row)) / (
                    large - small
                )
                costs["h11"] -= setup
        finally:
            if server is not None:
                server.__exit__(None, None, None)
        wire, (peer, theirs) = costs["wire"], list(costs.items())[1]
        print(f"{row}: wire {wire:,.0f} instructions per {unit}, {peer} {theirs:,.0f}: wire/peer {theirs / wire:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
