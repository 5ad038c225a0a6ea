"""Make docs/notebook.png: a picture of an exchange as a notebook shows it, from the real HTML.

    python scripts/make_notebook_png.py     # needs Chromium (apt-get install chromium); CI does not run it

One call to wire's fake server; ``wire.notebook.exchange_html`` renders it
(a few layers unfolded), the page is written to a temporary file, and
headless Chromium takes the screenshot. Run it again when the HTML changes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from wire import notebook
from wire.client import Client
from wire.fake import FakeServer

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "notebook.png"
KEY = "sk-wire-demo-0123456789abcdefghijklmnopqrstuvwxyzABCD"  # made up, as in examples/_common.py
OPEN = ("request", "connection", "answer", "timings")
WINDOW = "1000,920"
# No network, no profile, no background work: only the page.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]


def page() -> str:
    """A white page holding the HTML of one call, as Jupyter would show it under a cell."""
    with FakeServer(tls=True) as server:  # TLS with the demo certificate, as in the examples
        client = Client(base_url=server.base_url, api_key=KEY, ca_file=server.ca_file, timeout=10, max_retries=0)
        exchange = client.chat("Tell me a fun fact about HTTP.")
    html = notebook.exchange_html(exchange, open_layers=OPEN)
    return f'<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:12px">{html}</body></html>'


def main() -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if chromium is None:
        print("no Chromium found: apt-get install chromium", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "exchange.html"
        source.write_text(page(), encoding="utf-8")
        shot = Path(tmp) / "shot.png"
        subprocess.run(
            [chromium, *FLAGS, f"--user-data-dir={tmp}/profile", f"--window-size={WINDOW}", f"--screenshot={shot}"]
            + [source.as_uri()],
            check=True,
            capture_output=True,
            timeout=120,
        )
        TARGET.write_bytes(shot.read_bytes())
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
