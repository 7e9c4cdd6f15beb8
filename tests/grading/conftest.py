"""Fixtures of :class:`tests.grading.exercise_proof.ExerciseProof`: one graded course per test class."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tests.grading.exercise_proof import Submissions, grade_class, standard_submissions
from tests.grading.notebooks import read, released_course


@pytest.fixture(scope="class")
def course(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, repo: Path, tool_env
) -> Path:
    """A course with the repository's config and solutions, the class's exercise freshly released."""
    assignment = request.cls.ASSIGNMENT
    root = tmp_path_factory.mktemp(assignment)
    released_course(root, repo, tool_env, assignment)
    return root


@pytest.fixture(scope="class")
def source(request: pytest.FixtureRequest, course: Path) -> nbformat.NotebookNode:
    assignment = request.cls.ASSIGNMENT
    return read(course / "solutions" / assignment / f"{assignment}.ipynb")


@pytest.fixture(scope="class")
def release(request: pytest.FixtureRequest, course: Path) -> nbformat.NotebookNode:
    assignment = request.cls.ASSIGNMENT
    return read(course / "exercises" / assignment / f"{assignment}.ipynb")


@pytest.fixture(scope="class")
def submissions(request: pytest.FixtureRequest, source, release) -> Submissions:
    proof = request.cls()
    return standard_submissions(source, release, proof.ANSWERS) | proof.extra_submissions(source, release)


@pytest.fixture(scope="class")
def graded(
    request: pytest.FixtureRequest, course: Path, submissions: Submissions, tool_env
) -> tuple[Path, str]:
    proof = request.cls
    return course, grade_class(course, proof.ASSIGNMENT, submissions, tool_env, proof.CELL_TIMEOUT)
