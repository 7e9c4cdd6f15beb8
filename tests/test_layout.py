"""The chapter map is the one map: every path in it exists, and every chapter file is in it.

A chapter's files carry its key, ``chNN_<slug>``. The map in CONTRIBUTING.md ("Where things are") lists,
for each of the eight chapters, its key and its files. This test fails when a path in the map does
not exist, when a file carrying a chapter key is missing from the map, when the website's table of
contents or the landing page disagree with the map, when a concept module imports a chapter module,
or when a chapter's checks or figures import names out of their toolkits rather than the toolkit module.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest
import yaml

HEADING = "## Where things are"
MAP = "CONTRIBUTING.md"  # the contributors' guide holds the map; the README is for learners
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
    return _table_after((repo / MAP).read_text(encoding="utf-8"), HEADING)


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
    """The map's "Where things are" section: the chapter map and the package's concept modules."""
    after = (repo / MAP).read_text(encoding="utf-8").split(HEADING, 1)[1]
    return after.split("\n## ", 1)[0]


def test_every_path_in_the_map_exists(repo: Path) -> None:
    missing = [path for path in _paths(_section(repo)) if not (repo / path).exists()]
    assert missing == [], f"the map (CONTRIBUTING.md) names paths that do not exist: {missing}"


def test_every_concept_module_is_in_the_map(repo: Path) -> None:
    listed = set(_paths(_section(repo)))
    modules = [
        path.relative_to(repo).as_posix()
        for path in sorted((repo / "rnncourse").rglob("*.py"))
        if path.name != "__init__.py" and not KEY.search(path.name)
    ]
    unlisted = [module for module in modules if module not in listed]
    assert unlisted == [], f"modules of rnncourse missing from the map (CONTRIBUTING.md): {unlisted}"


def test_every_chapter_file_is_in_the_map(repo: Path, chapter_map: list[dict[str, str]]) -> None:
    listed = [path.rstrip("/") for row in chapter_map for cell in row.values() for path in _paths(cell)]
    unlisted = [
        path
        for path in _tracked_files(repo)
        if KEY.search(Path(path).name)
        and not path.endswith("__init__.py")
        and not any(path == entry or path.startswith(entry + "/") for entry in listed)
    ]
    assert unlisted == [], (
        f"files carrying a chapter key but missing from the map (CONTRIBUTING.md): {unlisted}"
    )


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
    assert sorted(toc_chapters) == sorted(expected), (
        "_toc.yml and the map (CONTRIBUTING.md) list different chapter files"
    )


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


# -- the package's rule: a folder names a stage, a file one concept ---------------------------

PACKAGE = "rnncourse"
# The root holds what the NumPy side (scratch/) and the torch side (nn/, models/) both import.
NUMPY_SIDE = ("scratch",)
TORCH_SIDE = ("nn", "models")
# Root modules that one side alone imports, and why they stay at the root:
ROOT_ALLOWED = {
    # numerical gradients and scale-aware errors: the graders, the book and the tests of both sides
    "gradcheck",
    # moves torch and Keras weights into the NumPy layers: the bridge between the two sides
    "porting",
    # recurrent initialisations written for NumPy arrays and for torch layers alike
    "initialisation",
    # the one training loop, which every experiment calls
    "training",
}


def _imports(path: Path) -> set[str]:
    """Every module name an import in ``path`` names (``from a.b import c`` gives a.b and a.b.c)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return names


def _importers(repo: Path, folders: tuple[str, ...], module: str) -> list[str]:
    return [
        path.relative_to(repo).as_posix()
        for folder in folders
        for path in sorted((repo / PACKAGE / folder).rglob("*.py"))
        if module in _imports(path)
    ]


#: The toolkits the chapter checks and figures share, used by module (CONTRIBUTING, "Conventions").
TOOLKITS = {"rnncourse.grading.core", "rnncourse.grading.parts", "rnncourse.figures._draw"}


def test_chapter_checks_and_figures_use_their_toolkits_by_module(repo: Path) -> None:
    offenders = []
    for folder in ("grading", "figures"):
        for path in sorted((repo / "rnncourse" / folder).glob("ch[0-9][0-9]_*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module in TOOLKITS:
                    offenders.append(f"{folder}/{path.name}: from {node.module} import ...")
    assert offenders == []


def test_the_root_holds_only_what_both_sides_use(repo: Path) -> None:
    for path in sorted((repo / PACKAGE).glob("*.py")):
        if path.name == "__init__.py" or path.stem in ROOT_ALLOWED:
            continue
        module = f"{PACKAGE}.{path.stem}"
        numpy_side, torch_side = _importers(repo, NUMPY_SIDE, module), _importers(repo, TORCH_SIDE, module)
        assert numpy_side and torch_side, (
            f"{module} sits at the package root, but the NumPy side imports it from {numpy_side} and the "
            f"torch side from {torch_side}: move it into the folder of the stage that uses it, or add it "
            "to ROOT_ALLOWED with a comment that says why it stays"
        )


def test_every_package_index_names_each_of_its_modules(repo: Path) -> None:
    """A package's ``__init__`` names every module of its folder, or is one line pointing at the map."""
    for init in sorted((repo / PACKAGE).rglob("__init__.py")):
        folder = init.parent
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        if folder.name == PACKAGE or ("\n" not in docstring.strip() and "CONTRIBUTING" in docstring):
            continue
        members = [path.stem for path in folder.glob("*.py") if path.name != "__init__.py"]
        members += [path.name for path in folder.iterdir() if (path / "__init__.py").is_file()]
        unnamed = sorted(member for member in members if f"``{member}``" not in docstring)
        assert unnamed == [], (
            f"{init.relative_to(repo)} does not name {unnamed} (write ``name`` in its table)"
        )


def test_grading_never_imports_the_autograder(repo: Path) -> None:
    offenders = [
        f"{path.relative_to(repo)} imports {name}"
        for path in sorted((repo / PACKAGE / "grading").rglob("*.py"))
        for name in _imports(path)
        if name.startswith(f"{PACKAGE}.autograder")
    ]
    assert offenders == [], "the autograder imports grading, never the reverse"


# Test folders that mirror something other than a package folder, and test files that cover
# several modules or the repository as a whole.
TESTS_OF_THE_REPOSITORY = {
    "tests/bench": "the benchmarks in bench/",
    "tests/lab": "the learner's JupyterLab: make lab and jupyter/",
    "tests/site": "the website: make book",
    "tests/autograder/hostile": "the whole grading pipeline against hostile notebooks",
    "tests/data/test_corpora.py": "the loaders of the packaged corpora, on the files they read",
    "tests/test_environment.py": "the lock file and environment.yml",
    "tests/test_address.py": "the published repository and site, and every place that shows them",
    "tests/test_install_cell.py": "every notebook's install cell, in a fresh environment without the package",
    "tests/test_install.py": "tools/install_torch.py",
    "tests/test_foreign_cpu.py": "the numerical tests under another CPU's kernels",
    "tests/test_layout.py": "this map",
}


def test_tests_mirror_the_package(repo: Path) -> None:
    """``tests/<folder>/test_<module>[_what].py`` tests ``rnncourse/<folder>/<module>.py``."""
    strays = []
    for test in sorted((repo / "tests").rglob("test_*.py")):
        relative = test.relative_to(repo).as_posix()
        if any(relative == entry or relative.startswith(entry + "/") for entry in TESTS_OF_THE_REPOSITORY):
            continue
        folder = repo / PACKAGE / test.parent.relative_to(repo / "tests")
        modules = [path.stem.lstrip("_") for path in folder.glob("*.py") if path.name != "__init__.py"]
        modules += [path.name for path in folder.iterdir() if (path / "__init__.py").is_file()]
        name = test.stem.removeprefix("test_")
        if not any(name == module or name.startswith(module + "_") for module in modules):
            strays.append(relative)
    assert strays == [], f"test files that mirror no module of rnncourse: {strays}"
