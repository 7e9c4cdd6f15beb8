"""Write the course's lock files from the packages installed in ``.venv`` (`make lock`).

    .venv/bin/python tools/lock.py [--suffix .new]

The course has four environments, one on top of the other, each named by an extra of
``pyproject.toml`` (its roots, as ranges) and locked here as the closure of those roots
(their dependencies, and the dependencies' extras, down to the leaves), every package at
the version installed in the environment that runs this script:

- ``requirements-book.lock``: ``[book]``, the website's tools (`make book`);
- ``requirements.lock``: the learner's environment, ``[book]``, ``[lab]`` and the
  package's own dependencies (`make lab`, `make validate`, ``environment.yml``); it holds
  the book's pins too, so that it alone installs the whole of it;
- ``requirements-grade.lock``: ``[grade]``, the instructor's grading tools (Dask,
  PostgreSQL's driver, copydetect), less what ``requirements.lock`` pins already
  (`make grade`, `make similarity`, `make bench`);
- ``requirements-test.lock``: ``[test]``, the test and style tools, less what the two
  locks below it pin already (`make test`, `make style`).

Left out of every lock: pip itself (the Makefile upgrades it first), this package,
rfc3987-syntax (see ``LEFT_OUT``), and the data-only packages of ``requirements-data.lock``.
Every lock is a whole closure and is installed with ``--no-deps``. torch is not among the pins but on a ``# cpu-build: torch==X`` line at the end of
``requirements.lock``, which pip reads as a comment and ``tools/install_torch.py``
installs (the CPU build, ``--no-deps``): listed among the others, it would make pip take
PyPI's CUDA build and resolve its NVIDIA packages.

Each file is written as ``<name><suffix>`` to review before it replaces the lock; then
copy ``requirements.lock``'s pins into ``environment.yml`` (``tests/test_environment.py``
checks both).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
# rfc3987-syntax is jsonschema's optional IRI format check (asked for by jupyter-events'
# jsonschema[format-nongpl]); importing it compiles 38 grammars, 2.5 s of CPU in every process
# that imports nbformat (each nbgrader command, `make validate`, every grading worker), and
# nothing the course runs validates an IRI. Without it jsonschema skips that one format.
# Because it is left out, the locks are installed with --no-deps (each is a whole closure).
LEFT_OUT = {"pip", "rnncourse", "rfc3987-syntax"}
DATA_LOCK = REPO / "requirements-data.lock"

BOOK_LOCK, LEARNER_LOCK = "requirements-book.lock", "requirements.lock"
GRADE_LOCK, TEST_LOCK = "requirements-grade.lock", "requirements-test.lock"
HEADERS = {
    BOOK_LOCK: """\
# The website's tools (`make book`): pyproject.toml's [book] extra and everything it needs,
# at the tested versions. requirements.lock holds these pins too. Regenerate with 'make lock'
# (tools/lock.py).
""",
    LEARNER_LOCK: """\
# The learner's environment (`make lab`, `make validate`; environment.yml, which Binder
# builds): pyproject.toml's [book] and [lab] extras and the package's own dependencies, with
# everything they need, at the tested versions. Regenerate with 'make lock' (tools/lock.py);
# tests/test_environment.py keeps environment.yml in step.
""",
    GRADE_LOCK: """\
# The instructor's grading tools (`make grade`, `make similarity`, `make bench`), installed on
# top of requirements.lock: pyproject.toml's [grade] extra and what it needs beyond
# requirements.lock, at the tested versions. Regenerate with 'make lock' (tools/lock.py).
""",
    TEST_LOCK: """\
# The test and style tools (`make test`, `make style`), installed on top of requirements.lock
# and requirements-grade.lock: pyproject.toml's [test] extra and what it needs beyond them, at
# the tested versions. Regenerate with 'make lock' (tools/lock.py).
""",
}
TORCH = """\
# torch is not in the list above: from PyPI, pip would take its CUDA build on Linux and, through
# its dependencies, several GB of NVIDIA packages. tools/install_torch.py installs this pin after
# the rest, the CPU build, with --no-deps (its pure-Python dependencies are pinned above):
# cpu-build: torch=={version}
"""


def canonical(name: str) -> str:
    """A distribution's name in its normal form (PEP 503), pip's order for its own listings."""
    return re.sub(r"[-_.]+", "-", name).lower()


def data_only() -> set[str]:
    """The packages of requirements-data.lock, installed with --no-deps and never imported."""
    lines = DATA_LOCK.read_text().splitlines()
    return {canonical(line.partition("==")[0]) for line in lines if line.strip() and not line.startswith("#")}


def roots(pyproject: Path = REPO / "pyproject.toml") -> dict[str, list[Requirement]]:
    """The roots of each environment, from pyproject.toml: book, learner (book + lab + the package), test."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    book = [Requirement(r) for r in extras["book"]]
    learner = book + [Requirement(r) for r in [*extras["lab"], *project["dependencies"]]]
    return {
        "book": book,
        "learner": learner,
        "grade": [Requirement(r) for r in extras["grade"]],
        "test": [Requirement(r) for r in extras["test"]],
    }


def closure(start: Iterable[Requirement]) -> dict[str, str]:
    """Every installed distribution ``start`` needs (name -> version), extras followed."""
    done: dict[str, set[str]] = {}
    found: dict[str, str] = {}
    todo = [(canonical(r.name), set(r.extras)) for r in start]
    while todo:
        name, extras = todo.pop()
        if name in LEFT_OUT or (name in done and extras <= done[name]):
            continue
        done[name] = done.get(name, set()) | extras
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise SystemExit(f"{name} is needed by the course's environments but is not installed") from None
        found[name] = f"{distribution.metadata['Name']}=={distribution.version}"
        environments = [{"extra": extra} for extra in {"", *done[name]}]
        for line in distribution.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or any(requirement.marker.evaluate(env) for env in environments):
                todo.append((canonical(requirement.name), set(requirement.extras)))
    return found


def lock_text(header: str, pins: dict[str, str], torch: str | None = None) -> str:
    """The pins sorted by normal name, the torch line last (its local build label dropped)."""
    lines = [pins[name] for name in sorted(pins)]
    text = header + "\n".join(lines) + "\n"
    if torch is not None:
        text += TORCH.format(version=torch.split("+")[0])
    return text


def locks() -> dict[str, str]:
    """The four lock files' texts, from the environment that runs this."""
    environments = {name: closure(requirements) for name, requirements in roots().items()}
    leave = data_only()
    book = {n: pin for n, pin in environments["book"].items() if n not in leave and n != "torch"}
    learner = {n: pin for n, pin in environments["learner"].items() if n not in leave}
    torch = learner.pop("torch", None)
    if torch is None:
        raise SystemExit("torch is not installed: run `make .venv/.installed` first")
    grade = {
        n: pin
        for n, pin in environments["grade"].items()
        if n not in learner and n not in leave and n != "torch"
    }
    test = {
        n: pin
        for n, pin in environments["test"].items()
        if n not in learner and n not in grade and n not in leave and n != "torch"
    }
    return {
        BOOK_LOCK: lock_text(HEADERS[BOOK_LOCK], book),
        LEARNER_LOCK: lock_text(HEADERS[LEARNER_LOCK], learner, torch.partition("==")[2]),
        GRADE_LOCK: lock_text(HEADERS[GRADE_LOCK], grade),
        TEST_LOCK: lock_text(HEADERS[TEST_LOCK], test),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suffix", default=".new", help="written next to each lock: <lock><suffix>")
    args = parser.parse_args(argv)
    for name, text in locks().items():
        (REPO / f"{name}{args.suffix}").write_text(text)
        print(f"wrote {name}{args.suffix}")
    print("review them, replace the locks, and copy requirements.lock's pins into environment.yml")


if __name__ == "__main__":
    main()
