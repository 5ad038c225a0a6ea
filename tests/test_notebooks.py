"""The notebooks: made from the examples and up to date, and each one run top to bottom in a real Jupyter kernel.

A kernel (ipykernel, from the test extra) runs every cell against wire's
fake server, as ``jupyter lab examples/`` would. No cell may fail or write
to stderr; a cell that ends with an exchange (or its completion) must show
its rich HTML; the key must be in no output. A streamed call shown live
must update one output in place.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.notebooknode import NotebookNode
from test_notebook_html import assert_only_wire_markup
from test_secrets import assert_hidden

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DEMO_KEY = "sk-wire-demo-0123456789abcdefghijklmnopqrstuvwxyzABCD"  # examples/_common.py
KEY = "sk-live-0123456789abcdefghijklmnopqrstuvwxyzLIVE"

spec = importlib.util.spec_from_file_location("make_notebooks", ROOT / "scripts" / "make_notebooks.py")
assert spec is not None and spec.loader is not None
make_notebooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_notebooks)


@pytest.fixture(autouse=True)
def kernel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel inherits this environment: no real key or URL, and this venv's kernelspec first."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "SSLKEYLOGFILE", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    # jupyter_client reads JUPYTER_PATH before the user's own kernels: the python3 kernel of this
    # environment (ipykernel installs it under sys.prefix) runs sys.executable.
    monkeypatch.setenv("JUPYTER_PATH", str(Path(sys.prefix) / "share" / "jupyter"))
    monkeypatch.setenv("PYTHONIOENCODING", "utf-8")


class RecordingClient(NotebookClient):
    """A NotebookClient that keeps every output message the kernel sent, in order."""

    def __init__(self, nb: NotebookNode, **kw: Any) -> None:
        super().__init__(nb, **kw)
        self.messages: list[tuple[int, str, dict[str, Any]]] = []

    def process_message(self, msg: dict[str, Any], cell: NotebookNode, cell_index: int) -> NotebookNode | None:
        kind = msg["header"]["msg_type"]
        if kind in ("display_data", "update_display_data", "execute_result", "stream", "error"):
            self.messages.append((cell_index, kind, msg["content"]))
        return super().process_message(msg, cell, cell_index)


def run(nb: NotebookNode) -> RecordingClient:
    client = RecordingClient(
        nb, timeout=120, startup_timeout=60, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}}
    )
    client.execute()
    return client


def test_every_example_has_its_notebook_up_to_date() -> None:
    sources = make_notebooks.sources()
    assert [p.name for p in sources][:9] == [
        "00_from_requests.py",
        "01_seed_request.py",
        "02_tls_handshake.py",
        "03_status_and_fields.py",
        "04_chunked_framing.py",
        "05_json_and_usage.py",
        "06_streaming_and_sse.py",
        "07_errors_and_retries.py",
        "08_parser_property.py",
    ]
    for path in sources:
        notebook = path.with_suffix(".ipynb")
        assert notebook.exists(), f"{notebook.name} is missing: run python scripts/make_notebooks.py"
        assert notebook.read_text(encoding="utf-8") == make_notebooks.text_of(path), (
            f"{notebook.name} is out of date: run python scripts/make_notebooks.py"
        )
    assert sorted(p.stem for p in EXAMPLES.glob("*.ipynb")) == sorted(p.stem for p in sources)


def test_a_notebook_has_the_docstring_then_a_title_and_code_per_cell() -> None:
    source = '"""09 · A lesson.\n\nUses ``bytes``.\n"""\n\n# %% First\nx = 1\n\n\n# %% Second\nx\n'
    nb = make_notebooks.notebook(source)
    assert [(c.cell_type, c.source) for c in nb.cells] == [
        ("markdown", "# 09 · A lesson.\n\nUses `bytes`."),
        ("markdown", "### First"),
        ("code", "x = 1"),
        ("markdown", "### Second"),
        ("code", "x"),
    ]
    assert [c.id for c in nb.cells] == ["cell-00", "cell-01", "cell-02", "cell-03", "cell-04"]


def shown_class(code: str) -> str | None:
    """The rich view a cell must show, by what its last line is: an exchange, or a completion."""
    body = ast.parse(code).body
    if not body or not isinstance(body[-1], ast.Expr):
        return None
    last = ast.unparse(body[-1].value)
    if last.endswith(".completion"):
        return "wire-completion"
    if last.endswith("exchange"):
        return "wire-exchange"
    return None


# How many cells show a rich view: the exchange and its completion (00), the exchange of a call (05), of a stream (06).
RICH = {"00_from_requests.ipynb": 2, "05_json_and_usage.ipynb": 1, "06_streaming_and_sse.ipynb": 1}


@pytest.mark.parametrize("name", [p.with_suffix(".ipynb").name for p in make_notebooks.sources()])
def test_a_notebook_runs_in_a_kernel(name: str) -> None:
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    run(nb)  # a cell that raises fails here (CellExecutionError), naming the cell
    rich = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            assert output.output_type != "error", output
            assert output.get("name") != "stderr", f"stderr in {name}: {output.text}"
            assert_hidden(json.dumps(output, ensure_ascii=False), DEMO_KEY)
        expected = shown_class(cell.source)
        if expected is not None:
            (result,) = [o for o in cell.outputs if o.output_type == "execute_result"]
            html = result.data["text/html"]
            assert f'class="wire-nb {expected}"' in html
            assert_only_wire_markup(html)
            rich += 1
    if name in RICH:
        assert rich == RICH[name]


LIVE = f"""
import wire, wire.notebook
from wire.fake import FakeServer
server = FakeServer(tls=False).start()
client = wire.Client(base_url=server.base_url, api_key="{KEY}", timeout=10, max_retries=0)
"""


def test_a_stream_shown_live_updates_one_output_in_place() -> None:
    cells = [
        LIVE,
        'exchange = wire.notebook.live(client.stream("Tell me a fun fact about HTTP."), interval=0)',
        'client.stream("Tell me a fun fact about HTTP.")',  # a cell ending with a stream shows it live
        'deltas = []\nfor delta in client.stream("Tell me a fun fact about HTTP."):\n    deltas.append(delta)\n    print(delta, end="")',
        "import json\nprint(json.dumps([exchange.text, len(deltas)]))\nserver.stop()",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = run(nb)
    answer, deltas = json.loads(nb.cells[4].outputs[0].text)  # the fake answers the same each time
    assert answer.startswith("The Host header")
    # wire.notebook.live: one display, then one update per delta and a last one with the whole exchange.
    live = [(kind, content) for i, kind, content in client.messages if i == 1]
    (first_kind, first), *updates = live
    assert first_kind == "display_data"
    display_id = first["transient"]["display_id"]
    assert all(kind == "update_display_data" for kind, _ in updates)
    assert all(content["transient"]["display_id"] == display_id for _, content in updates)
    texts = [content["data"]["text/plain"] for _, content in updates[:-1]]
    assert len(texts) == deltas > 1 and texts[-1] == answer
    assert all(answer.startswith(text) for text in texts) and texts == sorted(texts, key=len)
    assert 'class="wire-nb wire-exchange"' in updates[-1][1]["data"]["text/html"]
    # Updated in place: the cell keeps one output, the last state.
    (output,) = nb.cells[1].outputs
    assert output.output_type == "display_data" and output.data == updates[-1][1]["data"]
    # A cell that ends with a stream: the same, through ChatStream._ipython_display_.
    (output,) = nb.cells[2].outputs
    assert output.output_type == "display_data" and 'class="wire-nb wire-exchange"' in output.data["text/html"]
    assert answer in output.data["text/html"]
    # Plain iteration is unchanged: text on stdout, nothing displayed.
    assert [(o.output_type, o.get("text")) for o in nb.cells[3].outputs] == [("stream", answer)]
    for _, _, content in client.messages:
        assert_hidden(json.dumps(content, ensure_ascii=False), KEY)
