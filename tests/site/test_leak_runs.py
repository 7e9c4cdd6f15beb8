"""No reading page shows three consecutive lines of an exercise's solution (issue 21, item 8).

The site's line search (``leaks.find_leaks``) leaves out solution lines that a
page publishes anyway; a page that shows a whole solution, line after line,
would slip through it. This test compares runs of lines of every solution and
hidden-test region with every code cell of every reading page, before any build.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tests.site.leaks import runs_on_page, secret_runs

REPO = Path(__file__).resolve().parents[2]
CHAPTERS = sorted(
    path.name for path in (REPO / "solutions").iterdir() if path.is_dir() and path.name.startswith("ch")
)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_no_page_shows_a_run_of_solution_lines(chapter: str) -> None:
    runs = secret_runs(REPO / "solutions" / chapter / f"{chapter}.ipynb")
    assert runs, "the exercise has solution regions"
    shown = {page.name: runs_on_page(page, runs) for page in sorted((REPO / "book").glob("*.ipynb"))}
    assert {page: found for page, found in shown.items() if found} == {}


def test_a_copied_solution_is_found(tmp_path: Path) -> None:
    solution = tmp_path / "solution.ipynb"
    region = "x = np.tanh(a @ W.T + b)\nfor t in range(T):\n    total += np.sum(x[:, t] ** 2)\nreturn total\n"
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(f"def f(a, W, b, T):\n    ### BEGIN SOLUTION\n{region}    ### END SOLUTION")
    ]
    nbformat.write(nb, solution)
    page = tmp_path / "page.ipynb"
    copied = nbformat.v4.new_notebook()
    copied.cells = [
        nbformat.v4.new_code_cell("# the page\n" + region.replace("total", "total  ") + "print(1)")
    ]
    nbformat.write(copied, page)
    assert runs_on_page(page, secret_runs(solution))
    copied.cells = [nbformat.v4.new_code_cell("x = np.tanh(a @ W.T + b)\nprint(x)\nfor t in range(T):\n")]
    nbformat.write(copied, page)
    assert not runs_on_page(page, secret_runs(solution))  # single lines, no run
