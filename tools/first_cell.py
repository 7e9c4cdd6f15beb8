"""Write the install cell, the first code cell of every notebook (`make first-cells`).

    python tools/first_cell.py [--check]

Every reading page (``book/*.ipynb``) and every exercise source
(``solutions/<id>/<id>.ipynb``, released to ``exercises/`` by ``make release``)
opens with the same code cell. Where the course's package is installed (``make lab``,
Binder, the grader) it does nothing and prints nothing; elsewhere (Colab, a Jupyter of
the learner's own) it installs ``rnncourse`` from the published repository at the
notebook's own version: the tag ``v<version>`` of ``pyproject.toml``'s version, from
``_config.yml``'s ``repository.url``. Run this after changing either (then ``make release``);
``tests/test_address.py`` fails while a notebook's cell differs.

The cell is found by its first line, ``MARKER``; it is inserted before the first code
cell where there is none. A chapter rewrite keeps it as it is.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

import nbformat
import yaml

REPO = Path(__file__).resolve().parents[1]
MARKER = "# Colab, or a Jupyter of your own: this cell installs the course's package `rnncourse`"
CELL_ID = "install-rnncourse"
# pip prefers this index's CPU build of torch (torch==X+cpu) where torch is missing; where
# torch is installed (Colab), nothing is fetched for it.
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def published(root: Path = REPO) -> tuple[str, str]:
    """(repository URL, version): ``_config.yml``'s ``repository.url``, ``pyproject.toml``'s version."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return str(config["repository"]["url"]).rstrip("/"), project["version"]


def install_cell_source(repository: str, version: str) -> str:
    """The install cell's code: silent where ``rnncourse`` is importable."""
    return (
        f"{MARKER}\n"
        "# at this notebook's version. Where it is installed already, the cell does nothing.\n"
        "import importlib.util\n"
        "\n"
        'if importlib.util.find_spec("rnncourse") is None:\n'
        f"    %pip install --quiet --extra-index-url {CPU_INDEX} \\\n"
        f'        "rnncourse @ git+{repository}@v{version}"'
    )


def notebooks(root: Path = REPO) -> list[Path]:
    """The notebooks that carry the cell: the reading pages and the exercise sources."""
    return sorted((root / "book").glob("*.ipynb")) + sorted((root / "solutions").glob("*/*.ipynb"))


def first_code_cell(notebook: nbformat.NotebookNode) -> int | None:
    return next((i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"), None)


def with_install_cell(notebook: nbformat.NotebookNode, source: str) -> bool:
    """Put the install cell first among the code cells of ``notebook``; True if it changed."""
    existing = [
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and cell.source.startswith(MARKER)
    ]
    if existing and existing[0] == first_code_cell(notebook) and len(existing) == 1:
        cell = notebook.cells[existing[0]]
        if cell.source == source:
            return False
        cell.source = source
        return True
    for i in reversed(existing):
        del notebook.cells[i]
    cell = nbformat.v4.new_code_cell(source)
    cell.id = CELL_ID
    cell.metadata = {}
    position = first_code_cell(notebook)
    notebook.cells.insert(len(notebook.cells) if position is None else position, cell)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a cell differs")
    args = parser.parse_args(argv)
    source = install_cell_source(*published())
    stale = []
    for path in notebooks():
        notebook = nbformat.read(path, as_version=4)
        if with_install_cell(notebook, source):
            stale.append(path.relative_to(REPO))
            if not args.check:
                nbformat.write(notebook, path)
    for path in stale:
        print(f"{'differs' if args.check else 'wrote'}: {path}")
    if stale and not args.check:
        print("now run `make release` so that exercises/ carries the new cell")
    return 1 if (stale and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
