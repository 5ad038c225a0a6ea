"""Make the notebooks examples/NN_*.ipynb from the examples examples/NN_*.py (their ``# %%`` cells).

    python scripts/make_notebooks.py           # write every notebook
    python scripts/make_notebooks.py --check   # write nothing; exit 1 naming each one missing or out of date

The .py files are the source: edit them, then run this. In each notebook the
example's docstring is the first (Markdown) cell; each ``# %% Title`` starts a
Markdown cell with the title, then a code cell with the lines up to the next
``# %%``. The notebooks hold no outputs (Jupyter fills them when you run
them), and the cell ids are numbered, so making them again gives the same
bytes. tests/test_notebooks.py checks that they are up to date and runs each
one in a real Jupyter kernel.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def sources() -> list[Path]:
    """The numbered examples, in order (``_common.py`` is a helper, not a lesson)."""
    return sorted(EXAMPLES.glob("[0-9]*.py"))


def markdown(docstring: str) -> str:
    """An example's docstring as Markdown: its first line a heading, ````code```` as `code`."""
    first, _, rest = docstring.strip().partition("\n")
    return f"# {first}\n{rest}".replace("``", "`")


def notebook(source: str) -> NotebookNode:
    """The notebook of one example: its docstring, then a title and a code cell per ``# %%`` cell."""
    tree = ast.parse(source)
    docstring = ast.get_docstring(tree, clean=True) or ""
    body = source
    if docstring:
        end = tree.body[0].end_lineno or 0  # the docstring's last line
        body = "\n".join(source.splitlines()[end:])
    cells = [nbformat.v4.new_markdown_cell(markdown(docstring))] if docstring else []
    for part in re.split(r"^# %%", body, flags=re.MULTILINE)[1:]:
        title, _, code = part.partition("\n")
        if title.strip():
            cells.append(nbformat.v4.new_markdown_cell(f"### {title.strip()}"))
        cells.append(nbformat.v4.new_code_cell(code.strip("\n")))
    for number, cell in enumerate(cells):
        cell["id"] = f"cell-{number:02d}"  # fixed ids: the same source makes the same file
    return nbformat.v4.new_notebook(
        cells=cells, metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    )


def text_of(path: Path) -> str:
    """The notebook file an example makes, as text."""
    node = notebook(path.read_text(encoding="utf-8"))
    nbformat.validate(node)
    return nbformat.writes(node) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path in sources():
        target = path.with_suffix(".ipynb")
        text = text_of(path)
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        stale.append(target)
        if not check:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(ROOT)}")
    if check and stale:
        names = ", ".join(str(p.relative_to(ROOT)) for p in stale)
        print(f"out of date: {names}; run python scripts/make_notebooks.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
