"""Every notebook's install cell works where the course's package is missing (Colab, plain Jupyter).

A fresh virtual environment is made without ``rnncourse``; it borrows this environment's
other packages (a ``.pth`` line naming a folder of links to them, the course's own files
left out), so that nothing needs downloading. The published repository is played by a local
git repository holding the package's files as they are now, tagged ``v<version>``: git's
``url.<local>.insteadOf`` rewrites the repository's address for pip's ``git clone``, so the
cell runs exactly as written, with pip allowed no index at all.

Then the notebooks run in that environment: chapter 1 first, whose install cell must install
the package from the tag, then the first part of every reading page and exercise (the cells
before its first section), which import the package from what was installed, not from this
checkout. A cell that raises fails the run, with the cell's source (which names its notebook).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml

from tests.conftest import REPO

pytestmark = pytest.mark.slow

PACKAGE_FILES = ("pyproject.toml", "README.md", "LICENSE", "LICENSE-TEXT.md")
NOTEBOOKS = [
    *sorted(path.relative_to(REPO).as_posix() for path in (REPO / "book").glob("*.ipynb")),
    *sorted(path.relative_to(REPO).as_posix() for path in (REPO / "exercises").glob("*/*.ipynb")),
]

DRIVER = """
import sys, nbformat
from nbclient import NotebookClient
notebook = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": sys.argv[3]}}).execute()
nbformat.write(notebook, sys.argv[2])
"""


def first_part(path: Path) -> nbformat.NotebookNode:
    """The notebook's cells before its first section (a ``## `` heading)."""
    notebook = nbformat.read(path, as_version=4)
    cells = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and any(line.startswith("## ") for line in cell.source.splitlines()):
            break
        cells.append(cell)
    notebook.cells = cells
    return notebook


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The published repository, played by a local one tagged at the package's version."""
    origin = tmp_path_factory.mktemp("origin")
    listing = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "rnncourse", *PACKAGE_FILES],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in listing:
        if (REPO / name).is_file():
            (origin / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, origin / name)
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    identity = ["-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    for command in (
        ["init", "-q"],
        ["add", "-A"],
        ["commit", "-q", "-m", "the package"],
        ["tag", f"v{version}"],
    ):
        subprocess.run(["git", *identity, *command], cwd=origin, check=True, capture_output=True)
    address = yaml.safe_load((REPO / "_config.yml").read_text())["repository"]["url"].rstrip("/")
    return {"origin": origin.as_uri(), "address": address, "version": version}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory, published: dict[str, str]) -> dict:
    """A fresh environment without the package, and the process environment to run it in."""
    root = tmp_path_factory.mktemp("fresh")
    venv = root / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    borrowed = root / "borrowed"
    borrowed.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if "rnncourse" in entry.name.lower() or entry.suffix == ".pth":
            continue  # the course's own files, and the editable install's path hooks
        (borrowed / entry.name).symlink_to(entry)
    (site / "borrowed.pth").write_text(f"{borrowed}\n")
    gitconfig = root / "gitconfig"
    gitconfig.write_text(f'[url "{published["origin"]}"]\n\tinsteadOf = {published["address"]}\n')
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PIP_", "PYTHON", "GIT_"))}
    env.update(
        HOME=str(root),
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        MPLBACKEND="Agg",
        JUPYTER_PLATFORM_DIRS="1",
        PIP_CONFIG_FILE=os.devnull,  # nothing from this machine's pip settings
        PIP_NO_INDEX="1",  # no index at all: the package comes from the (local) repository
        PIP_NO_BUILD_ISOLATION="0",  # pip's spelling of --no-build-isolation: build with the borrowed setuptools
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        GIT_CONFIG_GLOBAL=str(gitconfig),
        GIT_CONFIG_NOSYSTEM="1",
    )
    missing = subprocess.run(
        [python, "-c", "import importlib.util; print(importlib.util.find_spec('rnncourse'))"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert missing.stdout.strip() == "None", "the fresh environment must not see the course's package"
    return {"python": python, "site": site, "env": env, "root": root}


def run(fresh: dict, notebook: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    work = fresh["root"] / name
    work.mkdir(parents=True, exist_ok=True)
    source, result = work / "in.ipynb", work / "out.ipynb"
    nbformat.write(notebook, source)
    done = subprocess.run(
        [fresh["python"], "-c", DRIVER, str(source), str(result), str(work)],
        cwd=work,
        env=fresh["env"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    return nbformat.read(result, as_version=4)


def text_of(cell: nbformat.NotebookNode) -> str:
    return "".join(
        output.get("text", "") + json.dumps(output.get("data", {})) for output in cell.get("outputs", [])
    )


@pytest.fixture(scope="module")
def installed(fresh: dict, published: dict[str, str]) -> nbformat.NotebookNode:
    """Chapter 1's first part, run where the package is missing: its install cell installs it."""
    return run(fresh, first_part(REPO / "book" / "ch01_recurrence.ipynb"), "install")


def test_the_install_cell_installs_the_package_at_the_notebooks_version(
    installed: nbformat.NotebookNode, fresh: dict, published: dict[str, str]
) -> None:
    (info,) = fresh["site"].glob("rnncourse-*.dist-info")
    assert info.name == f"rnncourse-{published['version']}.dist-info"
    direct = json.loads((info / "direct_url.json").read_text())
    assert direct["url"] == published["address"], "installed from the published repository's address"
    assert direct["vcs_info"]["requested_revision"] == f"v{published['version']}"
    assert "error" not in text_of(installed.cells[1]).lower()


def test_the_cell_after_it_imports_the_installed_package(installed: nbformat.NotebookNode) -> None:
    code = [cell for cell in installed.cells if cell.cell_type == "code"]
    assert len(code) >= 2
    assert all(output.get("output_type") != "error" for output in code[1].get("outputs", []))


def test_the_first_part_of_every_notebook_runs_on_the_installed_package(
    installed: nbformat.NotebookNode, fresh: dict
) -> None:
    """One kernel runs, page after page, each notebook's first part and a probe of where the
    package comes from (one kernel: each would otherwise spend seconds importing torch)."""
    combined = nbformat.v4.new_notebook()
    for page in NOTEBOOKS:
        cells = [cell for cell in first_part(REPO / page).cells if cell.cell_type == "code"]
        for cell in cells:
            cell.source = f"# {page}\n{cell.source}"  # an error names its notebook
            cell.outputs = []
            cell.id = f"cell-{len(combined.cells) + cells.index(cell)}"
        probe = nbformat.v4.new_code_cell(f"# {page}\nimport rnncourse\nprint(rnncourse.__file__)")
        combined.cells += [*cells, probe]
    ran = run(fresh, combined, "first-parts")
    for page in NOTEBOOKS:
        cells = [cell for cell in ran.cells if cell.source.startswith(f"# {page}\n")]
        assert len(cells) >= 3, page  # the install cell, the notebook's setup, the probe
        assert cells[0].outputs == [], (
            f"{page}: the install cell prints nothing where the package is installed"
        )
        assert text_of(cells[-1]).strip().startswith(str(fresh["site"])), f"{page}: imported from elsewhere"
