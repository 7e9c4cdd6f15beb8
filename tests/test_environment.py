"""The install paths agree: requirements.lock, environment.yml, pyproject.toml, Makefile, README."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)$")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        match = PIN.match(line.strip())
        if match:
            found[normalise(match.group(1))] = match.group(2)
    return found


def lock_pins(repo: Path) -> dict[str, str]:
    lines = [
        line
        for line in (repo / "requirements.lock").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    unpinned = [line for line in lines if not PIN.match(line.strip())]
    assert unpinned == [], f"every line of requirements.lock must be name==version: {unpinned}"
    return pins(lines)


def test_environment_yml_lists_the_lock_pin_for_pin(repo: Path) -> None:
    environment = yaml.safe_load((repo / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert pins(pip_section) == lock_pins(repo)
    assert "python=3.11" in environment["dependencies"]


def test_torch_is_the_pinned_cpu_build_everywhere(repo: Path) -> None:
    assert lock_pins(repo)["torch"] == "2.13.0"
    assert '"torch==2.13.0"' in (repo / "pyproject.toml").read_text()


def test_the_lock_covers_what_the_course_imports(repo: Path) -> None:
    needed = {
        "numpy",
        "torch",
        "matplotlib",
        "tqdm",
        "jupyter-book",
        "nbgrader",
        "jupyterlab",
        "nbval",
        "pytest",
        "hypothesis",
        "django-static-mathjax",
    }
    assert needed <= set(lock_pins(repo))
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


def test_every_make_target_is_defined(repo: Path) -> None:
    for target in ["book", "test", "lab", "release", "grade", "bench"]:
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
