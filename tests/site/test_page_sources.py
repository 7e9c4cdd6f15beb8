"""The pages' sources follow the book's conventions (CONTRIBUTING.md, "Writing a page").

Code fits 88 columns, so that a code cell never scrolls sideways at 1280 px; chapter titles
carry no number (the site numbers them); an exercise is titled after its chapter; every reading
page cites its sources in the text and ends with its own bibliography, built by
sphinxcontrib-bibtex from `book/references.bib`, instead of a hand-written list.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from tests.conftest import REPO

CODE_COLUMNS = 88
# Pages still holding code lines over 88 columns (none now). A page that has to go on it again
# gets reformatted instead (`ruff format --line-length 88`, then splitting by hand what ruff
# cannot: long strings and comments).
STILL_OVER_88: set[str] = set()
PAGES = sorted(
    path.relative_to(REPO).as_posix()
    for path in [*(REPO / "book").glob("*.ipynb"), *(REPO / "exercises").glob("*/*.ipynb")]
)


def long_lines(page: str) -> list[str]:
    notebook = nbformat.read(REPO / page, as_version=4)
    return [
        line
        for cell in notebook.cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if len(line) > CODE_COLUMNS
    ]


@pytest.mark.parametrize("page", [page for page in PAGES if page not in STILL_OVER_88])
def test_code_fits_88_columns(page: str) -> None:
    assert long_lines(page) == [], f"code lines over {CODE_COLUMNS} columns in {page}"


def test_the_list_of_pages_still_over_88_columns_only_shrinks() -> None:
    assert set(PAGES) >= STILL_OVER_88, "a page on STILL_OVER_88 no longer exists"
    done = sorted(page for page in STILL_OVER_88 if not long_lines(page))
    assert done == [], f"these fit 88 columns now: take them off STILL_OVER_88: {done}"


def title(path: Path) -> str:
    first = nbformat.read(path, as_version=4).cells[0].source.splitlines()[0]
    assert first.startswith("# "), f"{path}: the first cell opens with the page's title"
    return first.removeprefix("# ")


def test_chapter_titles_carry_no_number() -> None:
    """The site numbers chapters (1. Recurrence); a number in the title would show twice."""
    numbered = [page for page in (REPO / "book").glob("*.ipynb") if re.match(r"[\d.]+\s", title(page))]
    assert numbered == []


def test_each_exercise_is_titled_after_its_chapter() -> None:
    for source in sorted((REPO / "solutions").glob("*/*.ipynb")):
        key = source.stem
        number = int(key[2:4])
        chapter = title(REPO / "book" / f"{key}.ipynb").split(": ")[0]
        assert title(source) == f"Exercise {number}: {chapter}"


BIBLIOGRAPHY = "```{bibliography}\n:filter: docname in docnames\n```"
CITATION = re.compile(r"\{cite:[tp]\}`([^`]+)`")
BIB_KEY = re.compile(r"^@\w+\{([^,\s]+),", re.MULTILINE)
READING_PAGES = sorted(path.name for path in (REPO / "book").glob("ch*.ipynb"))


def markdown(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def cited_keys(text: str) -> set[str]:
    return {key.strip() for keys in CITATION.findall(text) for key in keys.split(",")}


@pytest.mark.parametrize("page", READING_PAGES)
def test_each_page_cites_in_its_text_and_ends_with_its_own_bibliography(page: str) -> None:
    """CONTRIBUTING.md, "Citing": cite where the idea is used; the list is generated, not typed."""
    text = markdown(REPO / "book" / page)
    assert text.count("\n## References\n") == 1, f"{page}: one '## References' section"
    body, references = text.split("\n## References\n")
    references = references.split("\n## ")[0]
    assert cited_keys(body), f"{page} cites nothing in its text"
    assert BIBLIOGRAPHY in references, f"{page}: the references section holds the bibliography directive"
    typed = [line for line in references.splitlines() if re.match(r"\s*(?:[-*+]|\d+\.)\s", line)]
    assert typed == [], f"{page} still has a hand-written reference list: {typed[:2]}"


def test_every_citation_has_an_entry_and_every_entry_is_cited() -> None:
    entries = BIB_KEY.findall((REPO / "book" / "references.bib").read_text(encoding="utf-8"))
    assert len(entries) == len(set(entries)), "a key is defined twice in references.bib"
    sources = [REPO / "book" / page for page in READING_PAGES] + sorted((REPO / "book").glob("*.md"))
    cited = set().union(
        *(
            cited_keys(markdown(path) if path.suffix == ".ipynb" else path.read_text(encoding="utf-8"))
            for path in sources
        )
    )
    assert sorted(cited - set(entries)) == [], "cited but not in book/references.bib"
    assert sorted(set(entries) - cited) == [], "in book/references.bib but cited by no page"
