"""The README's chapter map is the one map: every path in it exists, and every chapter file is in it.

A chapter's files carry its key, ``chNN_<slug>``. The map in README.md ("Where things are") lists,
for each of the eight chapters, its key and its files. This test fails when a path in the map does
not exist, when a file carrying a chapter key is missing from the map, when the website's table of
contents or the landing page disagree with the map, or when a concept module imports a chapter module.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest
import yaml

HEADING = "## Where things are"
KEY = re.compile(r"\bch(\d\d)_[a-z0-9]+(?:_[a-z0-9]+)*\b")
CODE = re.compile(r"`([^`]+)`")
SLUGS = ["recurrence", "bptt", "vanishing", "lstm", "gru", "embeddings", "seq2seq", "applications"]


def _table_after(text: str, heading: str) -> list[dict[str, str]]:
    """The first Markdown table after ``heading``, as one dict per row keyed by the header cells."""
    lines = text.split(heading, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    header, _rule, *body = rows
    return [dict(zip(header, row, strict=True)) for row in body]


@pytest.fixture(scope="module")
def chapter_map(repo: Path) -> list[dict[str, str]]:
    return _table_after((repo / "README.md").read_text(encoding="utf-8"), HEADING)


FILE = re.compile(r"^[\w.-]+\.(md|py|ipynb|yml|toml|cff|lock)$")


def _paths(cell: str) -> list[str]:
    """The repository paths quoted in a cell: with a folder, or a file name with a known suffix."""
    return [path for path in CODE.findall(cell) if ("/" in path and " " not in path) or FILE.match(path)]


def _tracked_files(repo: Path) -> list[str]:
    listing = subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True, check=True)
    return [line for line in listing.stdout.splitlines() if (repo / line).exists()]


def test_the_map_has_the_eight_chapters_in_order_with_their_keys(chapter_map: list[dict[str, str]]) -> None:
    keys = [CODE.findall(row["key"])[0] for row in chapter_map]
    assert keys == [f"ch{n:02d}_{slug}" for n, slug in enumerate(SLUGS, start=1)]


def _section(repo: Path) -> str:
    """README's "Where things are" section: the chapter map and the package's concept modules."""
    after = (repo / "README.md").read_text(encoding="utf-8").split(HEADING, 1)[1]
    return after.split("\n## ", 1)[0]


def test_every_path_in_the_map_exists(repo: Path) -> None:
    missing = [path for path in _paths(_section(repo)) if not (repo / path).exists()]
    assert missing == [], f"README's map names paths that do not exist: {missing}"


def test_every_concept_module_is_in_the_map(repo: Path) -> None:
    listed = set(_paths(_section(repo)))
    modules = [
        path.relative_to(repo).as_posix()
        for path in sorted((repo / "rnncourse").rglob("*.py"))
        if path.name != "__init__.py" and not KEY.search(path.name)
    ]
    unlisted = [module for module in modules if module not in listed]
    assert unlisted == [], f"modules of rnncourse missing from README's map: {unlisted}"


def test_every_chapter_file_is_in_the_map(repo: Path, chapter_map: list[dict[str, str]]) -> None:
    listed = [path.rstrip("/") for row in chapter_map for cell in row.values() for path in _paths(cell)]
    unlisted = [
        path
        for path in _tracked_files(repo)
        if KEY.search(Path(path).name)
        and not path.endswith("__init__.py")
        and not any(path == entry or path.startswith(entry + "/") for entry in listed)
    ]
    assert unlisted == [], f"files carrying a chapter key but missing from README's map: {unlisted}"


def test_every_chapter_file_carries_the_key_of_its_row(chapter_map: list[dict[str, str]]) -> None:
    for row in chapter_map:
        key = CODE.findall(row["key"])[0]
        for column in ("reading page", "exercise (source, release)", "graders", "figures", "tests"):
            for path in _paths(row[column]):
                assert key in path, f"{path} is listed under {key} but does not carry that key"


def test_the_website_lists_the_chapters_the_map_has(repo: Path, chapter_map: list[dict[str, str]]) -> None:
    toc = yaml.safe_load((repo / "_toc.yml").read_text(encoding="utf-8"))
    toc_files = [
        entry["file"]
        for part in toc["parts"]
        for chapter in part["chapters"]
        for entry in [chapter, *chapter.get("sections", [])]
    ]
    toc_chapters = [file for file in toc_files if KEY.search(file)]
    index = (repo / "book/index.md").read_text(encoding="utf-8")
    expected = []
    for row in chapter_map:
        for page in _paths(row["reading page"]):
            expected.append(page.removesuffix(".ipynb").removesuffix(".md"))
            assert f"({Path(page).name})" in index, f"book/index.md does not link {page}"
        for source in _paths(row["exercise (source, release)"]):
            if source.startswith("exercises/"):
                key = source.rstrip("/").split("/")[-1]
                expected.append(f"exercises/{key}/{key}")
                assert f"(../exercises/{key}/{key}.ipynb)" in index, f"book/index.md does not link {source}"
    assert sorted(toc_chapters) == sorted(expected), "_toc.yml and README's map list different chapter files"


def test_concept_modules_never_import_chapter_modules(repo: Path) -> None:
    offenders = []
    for path in sorted((repo / "rnncourse").rglob("*.py")):
        relative = path.relative_to(repo).as_posix()
        if KEY.search(path.name) or path.name == "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            offenders += [f"{relative} imports {name}" for name in names if KEY.search(name)]
    assert offenders == []


def test_chapter_modules_never_import_each_other(repo: Path) -> None:
    offenders = []
    for path in sorted((repo / "rnncourse").rglob("ch[0-9][0-9]_*.py")):
        own = KEY.search(path.name)
        assert own is not None
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
                offenders += [
                    f"{path.name} imports {name}"
                    for name in names
                    if (match := KEY.search(name)) and match.group(1) != own.group(1)
                ]
    assert offenders == []
