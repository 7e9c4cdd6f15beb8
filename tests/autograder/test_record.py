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
    ours = record._once("feedback", setup.config, record.feedback_exporter)
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


def test_kept_cells_never_show_another_learners_text(course) -> None:
    """Pages made one after another by one exporter, which keeps the HTML of cells it has seen.

    A learner whose answer and markdown differ gets a page with their own text, equal to
    HTMLExporter's; a learner whose cells are all the same as another's gets the same page.
    """
    setup, _, graded = course
    ours = record._once("feedback", setup.config, record.feedback_exporter)
    theirs = HTMLExporter(parent=ours.parent, config=ours.config)
    for step in ours._preprocessors:
        theirs.register_preprocessor(step)
    given = record.resources(ASSIGNMENT, "ada", setup.db_url)
    first = nbformat.reads(graded.notebook, as_version=4)
    second = copy.deepcopy(first)
    answer = next(
        cell for cell in second.cells if cell.get("metadata", {}).get("nbgrader", {}).get("solution")
    )
    answer.source += "\nspelled_only_by_the_second_learner = 1"
    text = next(cell for cell in second.cells if cell.cell_type == "markdown")
    text.source += "\n\nA sentence only the *second* learner wrote."
    pages = []
    for notebook in (first, second, first):
        page, _ = ours.from_notebook_node(copy.deepcopy(notebook), copy.deepcopy(given))
        expected, _ = theirs.from_notebook_node(copy.deepcopy(notebook), copy.deepcopy(given))
        assert (
            BeautifulSoup(page, "html.parser").get_text() == BeautifulSoup(expected, "html.parser").get_text()
        )
        pages.append(page)
    assert "spelled_only_by_the_second_learner" in pages[1] and "<em>second</em> learner" in pages[1]
    assert "spelled_only_by_the_second_learner" not in pages[0] + pages[2]
    assert "<em>second</em>" not in pages[0] + pages[2]
    assert pages[0] == pages[2]


def test_kept_results_are_bounded_and_least_recently_used_go_first() -> None:
    kept = record.Kept(entries=2, longest=10)
    made: list[str] = []

    def make(text: str):
        return lambda: made.append(text) or text.upper()

    assert kept.get(("a",), "a", make("a")) == "A"
    assert kept.get(("b",), "b", make("b")) == "B"
    assert kept.get(("a",), "a", make("a")) == "A"  # kept: not made again, and now the most recent
    assert kept.get(("c",), "c", make("c")) == "C"  # "b" goes
    assert kept.get(("b",), "b", make("b")) == "B"
    assert made == ["a", "b", "c", "b"]
    assert list(kept.results) == [("c",), ("b",)]
    assert kept.get(("long",), "x" * 10, make("long")) == "LONG" and ("long",) not in kept.results
    none = record.Kept(entries=0)
    assert none.get(("a",), "a", make("a")) == none.get(("a",), "a", make("a")) == "A"
    assert made[-2:] == ["a", "a"] and not none.results


def test_gradebooks_of_one_url_share_this_processs_engine(course, tmp_path: Path) -> None:
    """``keep_engines`` (called by the single pass) reaches nbgrader's ``Gradebook``: one engine per URL.

    Fails if a new nbgrader stops making its engine through ``nbgrader.api.create_engine``.
    """
    from nbgrader.api import Gradebook

    setup, _, _ = course
    record.keep_engines()
    with Gradebook(setup.db_url) as first, Gradebook(setup.db_url) as second:
        assert first.engine is second.engine
        assert first.find_assignment(ASSIGNMENT).name == ASSIGNMENT
    other = f"sqlite:///{tmp_path / 'other.db'}"
    with Gradebook(other) as elsewhere, Gradebook(setup.db_url) as again:
        assert elsewhere.engine is not again.engine
        assert again.find_assignment(ASSIGNMENT).name == ASSIGNMENT  # usable after the close above


def test_nbgraders_metadata_checks_check_their_schema_once(course, monkeypatch: pytest.MonkeyPatch) -> None:
    """``check_schemas_once`` (called by the single pass) reaches nbgrader's metadata checks.

    The schema is checked once for a whole notebook; a broken cell fails with
    jsonschema's own error, the one ``jsonschema.validate`` gives. Fails if a new
    nbgrader stops validating through ``nbgrader.nbgraderformat.common.jsonschema``.
    """
    import jsonschema
    import nbgrader.nbgraderformat.common as nbgrader_format

    _, release, _ = course
    record.check_schemas_once()
    assert isinstance(nbgrader_format.jsonschema, record._SchemasCheckedOnce)
    monkeypatch.setattr(nbgrader_format, "jsonschema", record._SchemasCheckedOnce())  # none checked yet
    schema = MetadataValidator().schema
    kind = jsonschema.validators.validator_for(schema)
    checked: list[object] = []
    check = kind.check_schema
    monkeypatch.setattr(
        kind, "check_schema", lambda schema, **options: checked.append(schema) or check(schema)
    )
    graded_cells = [cell for cell in release.cells if "nbgrader" in cell.metadata]
    assert len(graded_cells) > 3
    CheckCellMetadata().preprocess(copy.deepcopy(release), {})
    assert len(checked) == 1, f"the schema was checked {len(checked)} times for {len(graded_cells)} cells"

    broken = copy.deepcopy(release)
    cell = next(cell for cell in broken.cells if cell.metadata.get("nbgrader", {}).get("grade"))
    cell.metadata.nbgrader.points = "ten"
    with pytest.raises(jsonschema.ValidationError) as raised:
        MetadataValidator().validate_nb(broken)
    assert len(checked) == 1
    with pytest.raises(jsonschema.ValidationError) as expected:
        jsonschema.validate(dict(cell.metadata.nbgrader), schema)  # nbgrader's own call, unchanged
    assert raised.value.message == expected.value.message and "'ten'" in raised.value.message
    assert list(raised.value.path) == list(expected.value.path) == ["points"]
