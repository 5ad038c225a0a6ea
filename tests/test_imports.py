"""What loads what: ``import wire`` loads no layer, the request writer loads no client, layers import only earlier ones."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import wire

WIRE = Path(wire.__file__).parent


def modules_after(code: str) -> set[str]:
    """The ``wire`` modules loaded after running ``code`` in a fresh interpreter."""
    script = f"{code}\nimport sys\nprint(' '.join(m for m in sys.modules if m == 'wire' or m.startswith('wire.')))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    return set(result.stdout.split())


def test_import_wire_loads_no_layer_and_no_fake_server() -> None:
    assert modules_after("import wire") == {"wire", "wire.version"}


def test_the_fake_server_loads_when_first_used() -> None:
    loaded = modules_after("import wire\nwire.FakeServer")
    assert "wire.fake" in loaded and "wire.client" not in loaded


def test_the_request_writer_loads_neither_client_nor_fake_server() -> None:
    loaded = modules_after("import wire.request")
    assert loaded == {"wire", "wire.version", "wire.errors", "wire.secrets", "wire.grammar", "wire.request"}


@pytest.mark.parametrize("name", wire.__all__)
def test_every_public_name_is_the_object_of_its_module(name: str) -> None:
    value = getattr(wire, name)
    if name != "__version__":
        assert value is getattr(importlib.import_module(wire._MODULE_OF[name]), name)
    assert name in dir(wire)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Timeoutz'"):
        wire.Timeoutz  # noqa: B018


def wire_imports(path: Path) -> set[str]:
    """The ``wire`` modules a file imports (at run time or for types)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "wire":
            found |= {f"wire.{alias.name}" for alias in node.names}  # from wire import grammar
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("wire"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("wire")}
    return found


# The reading order of wire/ (docs/architecture.md): settings -> payload -> request ->
# connection -> HTTP/1.1 -> proxy -> SSE -> trace -> retry policy -> exchange record. A module
# imports only modules read before it (or its own package's); the client, the views and the CLI
# come last and may import any.
ORDER = [
    "wire.version",
    "wire.secrets",
    "wire.errors",
    "wire.config",
    "wire.chat",
    "wire.grammar",
    "wire.request",
    "wire.transport",
    "wire.http11",
    "wire.proxy",
    "wire.coding",
    "wire.sse",
    "wire.capture",
    "wire.trace",
    "wire.pace",
    "wire.retry",
    "wire.exchange",
]


def _module_name(path: Path) -> str:
    parts = path.relative_to(WIRE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    """The entry of ORDER a module belongs to (wire.http11.parser -> wire.http11)."""
    return next(m for m in ORDER if module == m or module.startswith(m + "."))


LAYER_FILES = sorted(
    p for p in WIRE.rglob("*.py") if any(_module_name(p) == m or _module_name(p).startswith(m + ".") for m in ORDER)
)


@pytest.mark.parametrize("path", LAYER_FILES, ids=lambda p: str(p.relative_to(WIRE)))
def test_a_layer_imports_no_layer_read_after_it(path: Path) -> None:
    layer = _layer(_module_name(path))
    for imported in wire_imports(path) - {"wire"}:
        assert ORDER.index(_layer(imported)) <= ORDER.index(layer), f"{path.name} imports {imported}, read later"


def test_the_order_covers_the_layers() -> None:
    assert {"grammar.py", "transport.py", "http11/parser.py", "proxy.py", "sse.py", "retry.py", "exchange.py"} <= {
        str(p.relative_to(WIRE)) for p in LAYER_FILES
    }
