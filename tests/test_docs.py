"""The transcripts in README.md and docs/tour/ are what wire prints today (regenerated in memory)."""

from __future__ import annotations

import difflib
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOUR = ROOT / "docs" / "tour"
FIX = "run `python scripts/make_docs.py` to regenerate the transcripts"


def load_make_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_docs", ROOT / "scripts" / "make_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_docs", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def make_docs() -> ModuleType:
    return load_make_docs()


@pytest.fixture(scope="module")
def rendered(make_docs: ModuleType) -> dict[Path, tuple[str, str]]:
    result: dict[Path, tuple[str, str]] = make_docs.render()
    return result


def test_tour_has_one_page_per_layer_in_wire_order() -> None:
    assert sorted(p.name for p in TOUR.glob("*.md")) == [
        "01-settings.md",
        "02-payload.md",
        "03-request.md",
        "04-connection.md",
        "05-status-and-fields.md",
        "06-framing.md",
        "07-json.md",
        "08-streaming.md",
        "09-errors-and-retries.md",
        "10-history-and-tools.md",
        "11-content-coding.md",
        "12-pace.md",
        "13-other-clients-and-saved-replies.md",
        "README.md",
    ]


def test_every_page_and_the_readme_have_transcripts(rendered: dict[Path, tuple[str, str]]) -> None:
    names = {p.name if p.parent == TOUR else str(p.relative_to(ROOT)) for p in rendered}
    assert names == {p.name for p in TOUR.glob("[0-9]*.md")} | {"README.md", "docs/from-requests.md"}


@pytest.mark.parametrize(
    "page",
    ["README.md", "docs/from-requests.md", *sorted(f"docs/tour/{p.name}" for p in TOUR.glob("[0-9]*.md"))],
)
def test_transcripts_are_up_to_date(page: str, rendered: dict[Path, tuple[str, str]]) -> None:
    old, new = rendered[ROOT / page]
    if old != new:
        diff = "".join(
            difflib.unified_diff(
                old.splitlines(keepends=True), new.splitlines(keepends=True), f"{page} (now)", f"{page} (wire today)"
            )
        )
        pytest.fail(f"{page} is stale: {FIX}\n{diff[:4000]}")


def test_each_marker_has_its_closing_marker() -> None:
    for page in [ROOT / "README.md", ROOT / "docs" / "from-requests.md", *TOUR.glob("[0-9]*.md")]:
        text = page.read_text(encoding="utf-8")
        for line in text.splitlines():
            if line.startswith("<!-- transcript:"):
                name = line.removeprefix("<!-- transcript:").removesuffix(" -->")
                assert text.count(f"<!-- /transcript:{name} -->") == 1, f"{page.name}: {name} not closed; {FIX}"


def test_normalization_leaves_no_measured_values(rendered: dict[Path, tuple[str, str]], make_docs: ModuleType) -> None:
    between = re.compile(r"<!-- transcript:[\w-]+ -->(.*?)<!-- /transcript:", re.S)
    regions = [m.group(1) for _, new in rendered.values() for m in between.finditer(new)]
    shown = re.findall(r"<!-- transcript:([\w-]+) -->", "".join(new for _, new in rendered.values()))
    assert set(shown) == set(make_docs.TRANSCRIPTS)  # every transcript is on a page
    assert len(regions) == len(shown)
    for region in regions:
        region = region.split(">>> print(pace_view(pace))")[0]  # the pace view drawn for the plan: not measured
        for ms in re.findall(r"\b\d+\.\d ms\b", region):
            assert ms in (make_docs.MS, "6.0 ms"), ms  # 6.0 ms: the fixed waterfall's total
        for port in re.findall(r"(?:localhost|127\.0\.0\.1):(\d+)", region):
            assert port == make_docs.PORT


def test_rewrite_turns_a_single_marker_into_a_pair(make_docs: ModuleType) -> None:
    page = "intro\n\n<!-- transcript:payload -->\n\nafter\n"
    once = make_docs.rewrite(page, {"payload": "TEXT"})
    assert once == "intro\n\n<!-- transcript:payload -->\n```text\nTEXT\n```\n<!-- /transcript:payload -->\n\nafter\n"
    assert make_docs.rewrite(once, {"payload": "TEXT"}) == once
    assert make_docs.rewrite(once, {"payload": "NEW"}) == once.replace("TEXT", "NEW")


def test_normalize_touches_only_ports_and_durations(make_docs: ModuleType) -> None:
    text = "localhost:40339 port 40339 id c40339b 1767268800 took 12.3 ms, 0.0 ms"
    assert make_docs.normalize(text, [40339]) == "localhost:54321 port 54321 id c40339b 1767268800 took 1.0 ms, 1.0 ms"
