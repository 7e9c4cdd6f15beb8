"""Find lines of solutions and hidden tests in a built website.

A built page shows code through syntax highlighting (every token its own
<span>) and escapes characters, so the search compares text with tags,
entities and all white space removed, on both sides.

Two searches: single lines that no reading page or package module publishes
anyway (:func:`secret_lines`), and runs of ``RUN_LENGTH`` consecutive code
lines of a solution region or a hidden test (:func:`secret_runs`), which no
page may show whatever else publishes them: a page that prints three lines of
a part in a row lets a learner pass it by copying. :func:`runs_on_page` looks
for the runs in a page's code cells before any build; the site test looks for
them, joined, in everything the build wrote (outputs too).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat

MIN_CHARACTERS = 12  # shorter lines ("return h", "pass") would match ordinary code
SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.DOTALL)
HIDDEN_REGION = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.DOTALL)
TAG = re.compile(r"<[^>]+>")
SPACE = re.compile(r"\s+")


def squeeze(text: str) -> str:
    return SPACE.sub("", text)


def secret_lines(source_notebook: Path) -> set[str]:
    """Every solution and hidden-test line of a source notebook, squeezed.

    A line that the notebook also shows outside those regions (the start of
    a call that a visible test makes too, say) is public, and left out.
    """
    notebook = nbformat.read(source_notebook, as_version=4)
    public = squeeze(
        "".join(HIDDEN_REGION.sub("", SOLUTION_REGION.sub("", cell.source)) for cell in notebook.cells)
    )
    lines: set[str] = set()
    for cell in notebook.cells:
        for region in (*SOLUTION_REGION.findall(cell.source), *HIDDEN_REGION.findall(cell.source)):
            for line in region.splitlines():
                code = line.split("#", 1)[0] if not line.strip().startswith(("'", '"')) else line
                squeezed = squeeze(code)
                if len(squeezed) >= MIN_CHARACTERS and squeezed not in public:
                    lines.add(squeezed)
    return lines


def published_text(repo: Path) -> str:
    """What the course publishes anyway, squeezed: the reading pages' cells and the package's code.

    A solution line that also appears there (``for t in range(T):``) reveals
    nothing when the site shows it, so the leak search leaves it out.
    """
    pieces = [
        cell.source
        for page in sorted((repo / "book").rglob("*.ipynb"))
        for cell in nbformat.read(page, as_version=4).cells
    ]
    pieces += [path.read_text(encoding="utf-8") for path in sorted((repo / "rnncourse").rglob("*.py"))]
    return squeeze("\n".join(pieces))


def searchable_text(path: Path) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix in (".html", ".htm"):
        text = html.unescape(TAG.sub("", text))
    return squeeze(text)


def find_leaks(site: Path, secrets: set[str]) -> dict[str, list[str]]:
    """file (relative to ``site``) -> the secret lines found in it."""
    found: dict[str, list[str]] = {}
    for path in sorted(site.rglob("*")):
        if not path.is_file() or path.suffix in (".png", ".jpg", ".svg", ".woff", ".woff2", ".ico"):
            continue
        if "mathjax" in path.relative_to(site).parts[:1]:
            continue  # the MathJax bundle, copied from its package
        text = searchable_text(path)
        hits = sorted(line for line in secrets if line in text)
        if hits:
            found[str(path.relative_to(site))] = hits
    return found


RUN_LENGTH = 3  # issue 21, item 8: no three consecutive lines of a solution on a page
MIN_RUN_CHARACTERS = 30  # a run of three trivial lines (")", "return h", "]") is ordinary code


def _code_lines(source: str) -> list[str]:
    """The squeezed, non-empty lines of ``source``, comments dropped."""
    lines = []
    for line in source.splitlines():
        code = line.split("#", 1)[0] if not line.strip().startswith(("'", '"')) else line
        if squeezed := squeeze(code):
            lines.append(squeezed)
    return lines


def _runs(lines: list[str]) -> set[tuple[str, ...]]:
    return {
        run
        for i in range(len(lines) - RUN_LENGTH + 1)
        if len("".join(run := tuple(lines[i : i + RUN_LENGTH]))) >= MIN_RUN_CHARACTERS
    }


def secret_runs(source_notebook: Path) -> set[tuple[str, ...]]:
    """Every run of ``RUN_LENGTH`` consecutive lines of a solution or hidden-test region, squeezed."""
    notebook = nbformat.read(source_notebook, as_version=4)
    runs: set[tuple[str, ...]] = set()
    for cell in notebook.cells:
        for region in (*SOLUTION_REGION.findall(cell.source), *HIDDEN_REGION.findall(cell.source)):
            runs |= _runs(_code_lines(region))
    return runs


def runs_on_page(page: Path, runs: set[tuple[str, ...]]) -> set[tuple[str, ...]]:
    """The runs of ``runs`` that a reading page shows in one of its code cells."""
    shown: set[tuple[str, ...]] = set()
    for cell in nbformat.read(page, as_version=4).cells:
        if cell.cell_type == "code":
            shown |= _runs(_code_lines(cell.source)) & runs
    return shown
