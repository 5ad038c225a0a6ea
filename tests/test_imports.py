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
    assert loaded == {"wire", "wire.version", "wire.errors", "wire.secrets", "wire.request"}


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
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("wire"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("wire")}
    return found


# The early layers and all they may import: none imports a layer read after it.
EARLY = {
    "version.py": set(),
    "secrets.py": set(),
    "errors.py": set(),
    "config.py": {"wire.errors", "wire.secrets"},
    "transport.py": {"wire.errors"},  # no HTTP parser, no proxy: the tunnel step is handed in
}


@pytest.mark.parametrize("filename", sorted(EARLY))
def test_early_layers_import_no_later_one(filename: str) -> None:
    assert wire_imports(WIRE / filename) <= EARLY[filename]
