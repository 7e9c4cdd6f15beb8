"""One place names the published repository and site, and everything that shows them agrees.

``_config.yml`` holds them (``repository.url``, ``html.baseurl``); the site's buttons use them
(checked on the built site in ``tests/site/test_site.py``), every notebook's install cell
carries the repository at the package's version (``tools/first_cell.py``), and the README
shows both.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

from tests.conftest import REPO


def _tool(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


first_cell = _tool("first_cell", REPO / "tools" / "first_cell.py")
course_site = _tool("course_site", REPO / "book" / "_ext" / "course_site.py")


@pytest.fixture(scope="module")
def published() -> tuple[str, str]:
    return course_site.published_urls(REPO / "_config.yml")


@pytest.fixture(scope="module")
def version() -> str:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def test_the_setting_names_a_github_repository_and_a_site(published: tuple[str, str]) -> None:
    repository, site = published
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", repository)
    assert site.startswith("https://") and site.endswith("/")
    assert "rnn-course/rnn-course" not in repository, "the old placeholder"


def test_no_other_file_names_the_repository() -> None:
    """Only _config.yml (and what tests/test_address.py checks against it) holds the address."""
    for path in (REPO / "pyproject.toml", REPO / "CITATION.cff", REPO / "environment.yml"):
        assert "github.com" not in path.read_text(encoding="utf-8"), path.name


def test_a_bad_setting_stops_the_build_with_a_clear_message(tmp_path: Path) -> None:
    config = tmp_path / "_config.yml"
    config.write_text("repository:\n  url: https://gitlab.com/a/b\nhtml:\n  baseurl: https://x/\n")
    with pytest.raises(Exception, match=r"must be https://github\.com/<owner>/<name>"):
        course_site.published_urls(config)


def test_every_notebook_opens_its_code_with_the_same_install_cell(
    published: tuple[str, str], version: str
) -> None:
    expected = first_cell.install_cell_source(published[0], version)
    assert f"git+{published[0]}@v{version}" in expected
    notebooks = [
        *first_cell.notebooks(REPO),
        *sorted((REPO / "exercises").glob("*/*.ipynb")),  # what `make release` made of the sources
    ]
    assert len(notebooks) >= 20
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert code[0].source == expected, (
            f"{path.relative_to(REPO)}: run `make first-cells` (then `make release`)"
        )
        assert not code[0].get("outputs"), f"{path.relative_to(REPO)}: the install cell prints nothing"
        assert sum(cell.source.startswith(first_cell.MARKER) for cell in code) == 1


def test_first_cell_tool_inserts_replaces_and_keeps_one_cell() -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("import numpy")]
    source = first_cell.install_cell_source("https://github.com/a/b", "1.2.3")
    assert first_cell.with_install_cell(notebook, source) is True
    assert [cell.cell_type for cell in notebook.cells] == ["markdown", "code", "code"]
    assert notebook.cells[1].source == source and notebook.cells[2].source == "import numpy"
    assert first_cell.with_install_cell(notebook, source) is False  # already there: nothing to do
    newer = first_cell.install_cell_source("https://github.com/a/b", "1.2.4")
    assert first_cell.with_install_cell(notebook, newer) is True
    assert [cell.source for cell in notebook.cells[1:]] == [newer, "import numpy"]


def test_the_readme_shows_the_published_site_and_repository(published: tuple[str, str]) -> None:
    repository, site = published
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert site in readme, "README.md must link the published site"
    assert repository in readme, "README.md must name the published repository"
    addresses = set(re.findall(r"https://(?:github\.com|[\w-]+\.github\.io)/[\w./-]*", readme))
    other = {address for address in addresses if not address.startswith((site, repository))}
    assert other == set(), f"README.md names another repository or site: {other}"
