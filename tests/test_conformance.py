"""The HTTP/1.1 response conformance corpus in ../shared, when it is there (it lives outside the repo)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT.parent / "shared" / "conformance" / "run.py"


@pytest.mark.skipif(
    not RUNNER.exists(), reason=f"the conformance corpus is not at {RUNNER} (it lives outside the repo)"
)
def test_conformance_corpus_all_agree() -> None:
    result = subprocess.run(
        [sys.executable, str(RUNNER)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "crashes 0" in result.stdout
