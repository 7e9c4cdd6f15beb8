"""nbgrader's steps after the sandbox, on a real gradebook: recording once, and the feedback page.

One course (the repository's config and solutions, exercise 1 released and
registered with nbgrader) and one correct submission graded by the single
pass (``submission.grade``), in this process.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbconvert.exporters import HTMLExporter
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import CheckCellMetadata, SaveAutoGrades

from rnncourse.autograder import autograde, batch, record, sandbox, secret, submission
from tests.grading.notebooks import filled, released_course, solution_sources

# nbgrader's own: its gradebook adds objects through relationships SQLAlchemy 2 warns about
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")

ASSIGNMENT = "ch01_recurrence"
PNG = (  # a 1x1 PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory, repo: Path, tool_env: dict[str, str]):
    root = tmp_path_factory.mktemp("record")
    source, release = released_course(root, repo, tool_env, ASSIGNMENT)
    config = batch.load_config(root)
    config.SandboxedExecute.course_root = str(root)
    db_url = batch.gradebook_url(root, config)
    assert record.register(root, config, db_url, [ASSIGNMENT], {}) == {}
    setup = submission.Setup(
        config,
        record.with_lock_wait(db_url),
        sandbox.Limits(cell_seconds=20),
        None,
        secret.load(root),
        {ASSIGNMENT: nbformat.writes(release)},
    )
    notebook = filled(release, solution_sources(source))
    task = submission.Task("ada", ASSIGNMENT, f"{ASSIGNMENT}.ipynb", nbformat.writes(notebook).encode())
    graded = submission.grade(task, setup)
    assert graded.outcome.graded and graded.feedback, graded.outcome.problems
    return setup, release, graded


def test_recording_leaves_out_only_the_second_metadata_check(course) -> None:
    setup, _, _ = course
    steps = [type(step) for step in record._after_the_sandbox(setup.config)]
    assert CheckCellMetadata in autograde.SANITIZE  # the one check, when sanitising
    assert not any(issubclass(step, CheckCellMetadata) for step in steps)
    assert SaveAutoGrades in steps, steps


def test_nothing_after_sanitising_writes_nbgrader_metadata(course) -> None:
    """Why one check is enough: the metadata that reaches the gradebook is the one that was checked."""
    _, release, graded = course
    # the autograded notebook, as recorded, against the release the learner started from
    recorded = nbformat.reads(graded.notebook, as_version=4)
    released = {
        cell.metadata["nbgrader"]["grade_id"]: cell.metadata["nbgrader"]
        for cell in release.cells
        if "nbgrader" in cell.get("metadata", {})
    }
    kept = {
        cell.metadata["nbgrader"]["grade_id"]: cell.metadata["nbgrader"]
        for cell in recorded.cells
        if "nbgrader" in cell.get("metadata", {})
    }
    assert kept == released
    MetadataValidator().validate_nb(recorded)  # raises if nbgrader would refuse it


def test_feedback_is_the_page_nbconverts_html_exporter_writes(course) -> None:
    """The same elements, attributes and text as HTMLExporter's page (which parses its page again)."""
    setup, _, graded = course
    ours = record._once("feedback", setup.config, record._feedback_exporter)
    theirs = HTMLExporter(parent=ours.parent, config=ours.config)
    for step in ours._preprocessors:
        theirs.register_preprocessor(step)
    notebook = nbformat.reads(graded.notebook, as_version=4)
    # an output image without alt text, one with it, and the learner's own <img> tag (which the
    # course's c.HTMLExporter.sanitize_html shows as text)
    code = next(
        cell for cell in notebook.cells if cell.cell_type == "code" and not autograde.is_test_cell(cell)
    )
    code.outputs += [
        nbformat.v4.new_output("display_data", {"image/png": PNG}),
        nbformat.v4.new_output("display_data", {"image/png": PNG}, metadata={"image/png": {"alt": "a dot"}}),
        nbformat.v4.new_output("display_data", {"text/html": '<p>x &gt; 1</p><img src="dot.png" width="1">'}),
    ]
    given = record.resources(ASSIGNMENT, "ada", setup.db_url)
    page, _ = ours.from_notebook_node(copy.deepcopy(notebook), copy.deepcopy(given))
    expected, _ = theirs.from_notebook_node(copy.deepcopy(notebook), copy.deepcopy(given))

    def elements(html: str) -> list[tuple[str, list[tuple[str, str]]]]:
        soup = BeautifulSoup(html, features="html.parser")
        return [(tag.name, sorted((k, str(v)) for k, v in tag.attrs.items())) for tag in soup.find_all(True)]

    assert elements(page) == elements(expected)
    assert BeautifulSoup(page, "html.parser").get_text() == BeautifulSoup(expected, "html.parser").get_text()
    images = BeautifulSoup(page, "html.parser").find_all("img")
    assert [image.get("alt") for image in images] == [record.NO_DESCRIPTION, "a dot"]
    assert '&lt;img src="dot.png"' in page
    assert graded.feedback is not None and "Part 1" in graded.feedback
