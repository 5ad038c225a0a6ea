"""Every RFC and WHATWG section that wire's docs, examples and code cite is listed in docs/sources.md.

docs/sources.md quotes one line of each cited section, so that a claim can be
checked against its source (issue 13, "Keep it true"). This test keeps the
list complete: cite a new section anywhere in ``docs/``, ``examples/``,
``wire/`` or ``README.md``, and it fails until the section has its line there.

What counts as a citation (``CITATION`` below), on purpose simple:

- ``RFC 9112 §6.3``: "RFC", its number, "§" and the section's numbers. A
  section named without its RFC right before it (the ``§5.2`` in
  ``RFC 9112 §5.1, §5.2``) is not seen; write ``RFC 9112 §5.2`` to have it
  checked. A whole RFC with no section (``RFC 9525``) is not checked either.
- ``WHATWG HTML §9.2.5`` (or ``WHATWG §9.2.5``, ``WHATWG HTML 9.2.6``).

A citation of ``RFC 9112 §6.3 rule 3`` counts as ``RFC 9112 §6.3``.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "docs" / "sources.md"

CITATION = re.compile(r"RFC (\d{3,5}) §(\d+(?:\.\d+)*)|WHATWG(?: HTML)? §?(\d+(?:\.\d+)+)")
SCANNED = ("docs", "examples", "wire")
SUFFIXES = (".md", ".py", ".ipynb")


def citations(text: str) -> set[str]:
    """Each citation in ``text``, written the one way docs/sources.md lists it."""
    return {f"RFC {m[1]} §{m[2]}" if m[1] else f"WHATWG HTML §{m[3]}" for m in CITATION.finditer(text)}


def cited_files() -> list[Path]:
    files = [ROOT / "README.md"]
    for folder in SCANNED:
        files += sorted(p for p in (ROOT / folder).rglob("*") if p.suffix in SUFFIXES and p != SOURCES)
    return files


def test_the_pattern_reads_each_form() -> None:
    text = (
        "RFC 9112 §6.3 rule 3; (RFC 9110 §5.6.1.2), RFC 9112 §5.1, §5.2; RFC 9525; "
        "WHATWG HTML §9.2.5, WHATWG §9.2.7, RULE = 'WHATWG HTML 9.2.6'; RFC 9112 6.3"
    )
    assert citations(text) == {
        "RFC 9112 §6.3",
        "RFC 9110 §5.6.1.2",
        "RFC 9112 §5.1",
        "WHATWG HTML §9.2.5",
        "WHATWG HTML §9.2.7",
        "WHATWG HTML §9.2.6",
    }


def test_every_cited_section_is_listed_in_sources_md() -> None:
    listed = citations(SOURCES.read_text(encoding="utf-8"))
    missing: dict[str, list[str]] = {}
    for path in cited_files():
        for cite in citations(path.read_text(encoding="utf-8")) - listed:
            missing.setdefault(cite, []).append(str(path.relative_to(ROOT)))
    assert not missing, "cited but not in docs/sources.md (add a row with a one-line quote): " + "; ".join(
        f"{cite} in {', '.join(where)}" for cite, where in sorted(missing.items())
    )


def test_each_listed_section_has_a_quote() -> None:
    # A row of a table in docs/sources.md: | RFC NNNN §X | "quote" or `rule` | why |
    rows = [line for line in SOURCES.read_text(encoding="utf-8").splitlines() if CITATION.match(line.lstrip("| "))]
    assert len(rows) > 50
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert len(cells) >= 3 and cells[1][:1] in ('"', "`"), f"no quote in: {row}"
