"""nbgrader records a graded notebook and writes its feedback, on the notebook already in memory.

``rnncourse.autograder.submission`` has run and verified a notebook once; here
nbgrader's own steps finish it without reading it again:

- :func:`record`: the submission in the gradebook (``update_or_create_submission``
  with its timestamp, as nbgrader's ``Autograde`` does), then the steps of
  ``c.Autograde.autograde_preprocessors`` that come after the sandbox
  (``IgnorePattern``, ``ClearMetadataPreprocessor``, ``LimitOutput``,
  ``SaveAutoGrades``, ``AssignLatePenalties``, ``CheckCellMetadata`` in the
  course's config);
- :func:`feedback`: ``GenerateFeedback``'s preprocessors (scores and comments
  from the gradebook) and its HTML exporter with the course's template
  (:class:`FeedbackExporter`: the same page, without a second parse of it).

``CheckCellMetadata`` is one of nbgrader's sanitising steps and, in the
course's config, also the last autograde step; the single pass runs it once,
when sanitising (:func:`_after_the_sandbox`).

Every process builds these steps once and keeps them, and gives every
``Gradebook`` of one URL the same SQLAlchemy engine (:func:`keep_engines`) and
has nbgrader check its metadata schema once (:func:`check_schemas_once`). The
gradebook is any SQLAlchemy URL; SQLite connections wait for another process's
lock (``SQLITE_LOCK_WAIT``).
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import nbformat
import nbgrader.api
import nbgrader.nbgraderformat.common as nbgrader_format
import sqlalchemy
from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import Preprocessor
from nbgrader.api import Gradebook
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import CheckCellMetadata, Execute
from nbgrader.utils import parse_utc
from traitlets import Bool, Integer
from traitlets.config import Config
from traitlets.utils.importstring import import_item

SQLITE_LOCK_WAIT = 120  # seconds a process waits for the gradebook's lock
NO_RESPONSE = "No response."  # nbgrader's automatic comment on an answer cell left as released
FEEDBACK_TEMPLATES = Path(__file__).with_name("feedback")
NO_DESCRIPTION = "No description has been provided for this image"  # nbconvert's alt text
# An <img> tag with no alt attribute. The page's <img> tags are the template's own: every
# learner-written piece (markdown, HTML outputs) has been through nbconvert's clean_html
# (c.HTMLExporter.sanitize_html), which shows an <img> tag as text. Attribute values are
# quoted and escaped, so a tag ends at its first '>'.
_IMAGE_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\salt\s*=)", re.IGNORECASE)


def with_lock_wait(db_url: str) -> str:
    """A SQLite URL whose connections wait for a lock held by another process."""
    if db_url.startswith("sqlite:///") and "?" not in db_url:
        return f"{db_url}?timeout={SQLITE_LOCK_WAIT}"
    return db_url


# -- one engine per gradebook, in each process ------------------------------------------------
# nbgrader's Gradebook makes a new SQLAlchemy engine every time it is opened: six times for
# one submission (the submission's row, OverwriteKernelspec, OverwriteCells, SaveAutoGrades,
# AssignLatePenalties, GetGrades). A new engine starts with an empty cache of compiled SQL, so
# every query of every submission was compiled again: about a quarter of the time a
# submission spent outside the sandbox (bench/bench_grading_steps.py). SQLAlchemy's engines are
# meant to be made once per process and URL; Gradebook.close() still disposes of the engine's
# connections, so nothing is held open between submissions. The process id is in the key:
# a forked worker must not use its parent's engine.
_ENGINES: dict[tuple[int, str, str], sqlalchemy.engine.Engine] = {}


def _kept_engine(url: str, **options: Any) -> sqlalchemy.engine.Engine:
    key = (os.getpid(), str(url), repr(sorted(options.items())))
    if key not in _ENGINES:
        _ENGINES[key] = sqlalchemy.create_engine(url, **options)
    return _ENGINES[key]


def keep_engines() -> None:
    """From now on, nbgrader's ``Gradebook``s in this process take one engine per URL.

    ``Gradebook.__init__`` calls ``nbgrader.api.create_engine``; that name now
    gives back this process's engine for the URL. A test fails if a new
    nbgrader stops calling it (``tests/autograder/test_record.py``).
    """
    nbgrader.api.create_engine = _kept_engine


# -- nbgrader's metadata schema, checked once in each process --------------------------------
# CheckCellMetadata checks every cell's nbgrader metadata with jsonschema.validate, which first
# checks the schema itself against JSON Schema's meta-schema: for every cell of every
# submission, the same schema file, and nine tenths of CheckCellMetadata's time
# (bench/bench_grading_steps.py). Checking each schema once per process, then validating with
# a validator made from it, is what jsonschema.validate does, without the repeat: the same
# verdict and the same error (its best match) for every cell.
class _SchemasCheckedOnce:
    """Stands in for the ``jsonschema`` module where nbgrader's metadata validators use it."""

    def __init__(self) -> None:
        self._validators: dict[str, Any] = {}

    def validate(self, instance: object, schema: dict[str, Any]) -> None:
        key = json.dumps(schema, sort_keys=True)
        validator = self._validators.get(key)
        if validator is None:
            kind = jsonschema.validators.validator_for(schema)
            kind.check_schema(schema)  # a broken schema raises here, every time, as before
            validator = self._validators[key] = kind(schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error


def check_schemas_once() -> None:
    """From now on, nbgrader's metadata checks in this process check their schema once.

    ``BaseMetadataValidator.validate_cell`` calls ``jsonschema.validate`` through
    ``nbgrader.nbgraderformat.common``'s name ``jsonschema``, which now holds
    :class:`_SchemasCheckedOnce`. A test fails if a new nbgrader stops calling it
    (``tests/autograder/test_record.py``).
    """
    if not isinstance(nbgrader_format.jsonschema, _SchemasCheckedOnce):
        nbgrader_format.jsonschema = _SchemasCheckedOnce()


def resources(assignment: str, student: str, db_url: str) -> dict[str, Any]:
    """What nbgrader's converters hand their preprocessors (``BaseConverter.init_single_notebook_resources``)."""
    return {
        "unique_key": assignment,
        "output_files_dir": f"{assignment}_files",
        "nbgrader": {"notebook": assignment, "assignment": assignment, "student": student, "db_url": db_url},
    }


_BUILT: dict[tuple[str, str], Any] = {}  # what this process built, by kind and configuration


def _once(kind: str, config: Config, build: Any) -> Any:
    key = (kind, repr(config))
    if key not in _BUILT:
        _BUILT[key] = build(config)
    return _BUILT[key]


def _after_the_sandbox(config: Config) -> list[Preprocessor]:
    """The configured autograde steps after nbgrader's Execute (which the sandbox replaced).

    Except ``CheckCellMetadata``: sanitising (``autograde.SANITIZE``) checked
    this same notebook's nbgrader metadata, and nothing since writes any (the
    sandbox's results are outputs, and ``fill_notebook`` writes its own key).
    A second check could never fail, and cost a fifth of recording.
    """
    configured = list(config.Autograde.get("autograde_preprocessors", []))
    if not configured:
        from nbgrader.converters import Autograde

        configured = Autograde.class_traits()["autograde_preprocessors"].default()
    classes = [import_item(c) if isinstance(c, str) else c for c in configured]
    runs = [i for i, c in enumerate(classes) if issubclass(c, Execute)]
    after = classes[runs[-1] + 1 if runs else 0 :]
    return [step(config=config) for step in after if not issubclass(step, CheckCellMetadata)]


def record(
    notebook: nbformat.NotebookNode,
    assignment: str,
    student: str,
    timestamp: str | None,
    config: Config,
    db_url: str,
) -> nbformat.NotebookNode:
    """Record the verified ``notebook`` in the gradebook with nbgrader's steps; the autograded notebook."""
    record_submission(assignment, student, timestamp, db_url)
    given = resources(assignment, student, db_url)
    for step in steps_after_the_sandbox(config):
        notebook, given = step(notebook, given)
    return notebook


def record_submission(assignment: str, student: str, timestamp: str | None, db_url: str) -> None:
    """The learner and their submission in the gradebook, with its timestamp, as nbgrader's ``Autograde`` does."""
    with Gradebook(db_url) as gradebook:
        gradebook.update_or_create_student(student)
        gradebook.find_assignment(assignment)  # MissingEntry: it was never registered
        if timestamp:
            gradebook.update_or_create_submission(assignment, student, timestamp=parse_utc(timestamp))
        else:
            gradebook.update_or_create_submission(assignment, student)


def steps_after_the_sandbox(config: Config) -> list[Preprocessor]:
    """This process's instances of the configured autograde steps after the sandbox (built once)."""
    steps: list[Preprocessor] = _once("record", config, _after_the_sandbox)
    return steps


class HideNoResponse(Preprocessor):  # type: ignore[misc]
    """Feedback without nbgrader's automatic 'No response.' box under every answer cell.

    Runs after ``GetGrades`` (``c.GenerateFeedback.preprocessors`` in
    ``nbgrader_config.py``): a grader's own comment is kept.
    """

    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell: Any, resources: Any, index: int) -> tuple[Any, Any]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("comment") == NO_RESPONSE:
            meta["comment"] = None
        return cell, resources


class Kept:
    """The last ``entries`` results of a function of strings, kept by its arguments (least recently used out).

    A class's notebooks share most of their cells (the instructor's text, the
    released code, often the answers), so each distinct cell is turned into
    HTML once per worker instead of once per learner. Only sources shorter than
    ``longest`` characters are kept, so that memory stays bounded.
    """

    def __init__(self, entries: int = 512, longest: int = 10_000) -> None:
        self.entries = entries
        self.longest = longest
        self.results: OrderedDict[tuple[Any, ...], str] = OrderedDict()

    def get(self, key: tuple[Any, ...], source: str, make: Callable[[], str]) -> str:
        if len(source) >= self.longest or self.entries <= 0:
            return make()
        if key in self.results:
            self.results.move_to_end(key)
            return self.results[key]
        result = self.results[key] = make()
        if len(self.results) > self.entries:
            self.results.popitem(last=False)
        return result


class KeptHighlight(Highlight2HTML):  # type: ignore[misc]
    """nbconvert's code highlighter, whose pages are kept by source, language and magics language."""

    def __init__(self, entries: int = 512, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kept = Kept(entries)

    def __call__(self, source: str, language: str | None = None, metadata: Any = None) -> str:
        magics = metadata.get("magics_language") if isinstance(metadata, dict) else None
        key = (source, language or self.pygments_lexer, magics)
        return self.kept.get(
            key, source, lambda: str(super(KeptHighlight, self).__call__(source, language, metadata))
        )


class FeedbackExporter(HTMLExporter):  # type: ignore[misc]
    """nbconvert's ``HTMLExporter``, without parsing again the page it has just rendered, and with kept cells.

    ``HTMLExporter.from_notebook_node`` renders the template, then parses the
    whole page with BeautifulSoup to give an alt text to every image without
    one and a tabindex to JupyterLab's cells; that parse was half of a
    feedback page's cost (``bench/bench_grading.py``). nbgrader's feedback
    template is the classic one, which has no JupyterLab cells, so here the
    page is rendered with the same filters and images get the same alt text
    by a search for ``<img`` tags without one.

    Code highlighting and markdown, most of what is left of a page's cost, are
    pure functions of a cell's text: their HTML is kept (:class:`Kept`) and
    reused for the next learner's identical cell (``c.FeedbackExporter.kept_cells``
    of them; 0 keeps none). ``tests/autograder/test_record.py``
    compares the pages with ``HTMLExporter``'s element by element, for
    learners whose cells differ and for those whose cells are the same.
    """

    kept_cells = Integer(
        512, help="cells whose HTML each worker keeps, highlighted and rendered (0: none)"
    ).tag(config=True)
    # nbconvert validates the notebook after each of GenerateFeedback's four preprocessors; once,
    # after the last, is nbconvert's own option, and a broken notebook still fails the page.
    optimistic_validation = Bool(True, help=HTMLExporter.optimistic_validation.help).tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.highlighters: dict[str | None, Highlight2HTML] = {}  # by the notebook's lexer
        self.markdown = Kept(self.kept_cells)

    @pass_context
    def markdown2html(self, context: Any, source: str) -> str:
        """``HTMLExporter.markdown2html``, kept by source and path (cells with attachments: made each time)."""
        if context.get("cell", {}).get("attachments"):
            return str(super().markdown2html(context, source))
        path = context.get("resources", {}).get("metadata", {}).get("path", "")
        return self.markdown.get(
            (source, path), source, lambda: str(super(FeedbackExporter, self).markdown2html(context, source))
        )

    def from_notebook_node(  # type: ignore[override]
        self, nb: nbformat.NotebookNode, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[str, dict[str, Any]]:
        # The two filters HTMLExporter registers for each notebook: its language's
        # highlighter (unless configured) and the choice among an output's formats.
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name"))
        if lexer not in self.highlighters:
            self.highlighters[lexer] = KeptHighlight(self.kept_cells, pygments_lexer=lexer, parent=self)
        self.register_filter("highlight_code", self.filters.get("highlight_code", self.highlighters[lexer]))
        resources = self._init_resources(resources)
        choose = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources)
        self.register_filter("filter_data_type", choose)
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return _IMAGE_WITHOUT_ALT.sub(f'<img alt="{NO_DESCRIPTION}"', html), resources


def feedback_exporter(config: Config) -> HTMLExporter:
    """GenerateFeedback's exporter and preprocessors, with the templates of this installation."""
    config = copy.deepcopy(config)
    import nbgrader

    # the paths in nbgrader_config.py are the instructor's; a Dask worker has its own
    config.HTMLExporter.extra_template_basedirs = [
        str(FEEDBACK_TEMPLATES),
        str(Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"),
    ]
    converter = GenerateFeedback(coursedir=CourseDirectory(config=config), config=config)
    exporter = FeedbackExporter(parent=converter, config=converter.config)
    for step in converter.preprocessors:
        exporter.register_preprocessor(step)  # as GenerateFeedback registers them
    return exporter


def feedback(
    notebook: nbformat.NotebookNode, assignment: str, student: str, config: Config, db_url: str
) -> str:
    """The feedback page of a recorded notebook, as ``nbgrader generate_feedback`` writes it."""
    html, _ = _once("feedback", config, feedback_exporter).from_notebook_node(
        notebook, resources(assignment, student, db_url)
    )
    return str(html)


def register(
    root: Path, config: Config, db_url: str, assignments: list[str], due: dict[str, Any]
) -> dict[str, str]:
    """nbgrader's ``generate_assignment`` of each assignment (its test cells into the gradebook) and its due date.

    Returns:
        assignment -> why it could not be registered (empty when all were).
    """
    from nbgrader.apps import NbGraderAPI

    config = Config(config)
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = with_lock_wait(db_url)
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    failed = {}
    for assignment in assignments:
        result = api.generate_assignment(assignment, force=True, create=True)
        if not result.get("success"):
            failed[assignment] = str(result.get("error") or result.get("log"))[-2000:]
    with Gradebook(db_url) as gradebook:
        for assignment in assignments:
            if assignment not in failed:
                gradebook.update_or_create_assignment(assignment, duedate=due.get(assignment))
    return failed
