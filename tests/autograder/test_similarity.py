"""`make similarity` on a class where two learners share answers with renamed variables and one pasted the reference."""

from __future__ import annotations

import hashlib
import inspect
import io
import shutil
import tokenize
from pathlib import Path

import nbformat

from rnncourse.autograder import similarity
from rnncourse.data import text
from rnncourse.scratch import activations, rnn
from tests.grading import ch01_recurrence_answers as answers
from tests.grading.notebooks import filled, solution_sources

ASSIGNMENT = "ch01_recurrence"
RENAMED = {
    "vocab": "table",
    "sentence": "line",
    "sentences": "lines",
    "token": "word",
    "tokens": "words",
    "ids": "codes",
    "lengths": "sizes",
    "row": "i",
    "col": "j",
    "pre_activation": "z",
    "states": "history",
    "state": "current",
    "shifted": "centred",
    "exponentials": "powers",
    "hidden": "hs",
    "last": "final",
}


def renamed(source: str) -> str:
    """The same code with other variable names (Python's tokenizer: strings and comments untouched)."""
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    out = [(t.type, RENAMED.get(t.string, t.string) if t.type == tokenize.NAME else t.string) for t in tokens]
    return tokenize.untokenize(out)


def pasted(function: str, reference: object) -> str:
    """The course's reference function, pasted whole under the part's name."""
    code = inspect.getsource(reference)  # type: ignore[arg-type]
    name = getattr(reference, "__name__", "")
    return code.replace(f"def {name}(", f"def {function}(", 1)


def fingerprint(paths: list[Path]) -> list[str]:
    return [hashlib.sha256(path.read_bytes()).hexdigest() for path in paths]


def test_copies_rank_first_and_no_grade_changes(tmp_path: Path, repo: Path) -> None:
    source = nbformat.read(repo / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    release = nbformat.read(repo / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    (tmp_path / "exercises" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(repo / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", tmp_path / "exercises" / ASSIGNMENT)
    (tmp_path / "solutions" / ASSIGNMENT).mkdir(parents=True)
    correct = solution_sources(source)
    references = {
        "build_vocab": text.Vocabulary.__init__,
        "encode_and_pad": text.pad_batch,
        "rnn_cell_forward": rnn.rnn_step_forward,
        "rnn_forward": rnn.rnn_forward,
        "softmax": activations.softmax,
        "classify": rnn.rnn_forward,
    }
    class_ = {
        "ada": filled(release, correct),
        "bo": filled(release, {part: renamed(code) for part, code in correct.items()}),
        "cy": filled(release, {part: pasted(part, ref) for part, ref in references.items()}),
        "di": filled(release, answers.ALTERNATIVE),
        "ed": release,  # untouched: nothing of its own
    }
    for student, notebook in class_.items():
        folder = tmp_path / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{ASSIGNMENT}.ipynb")
    grades = [tmp_path / "gradebook.db", tmp_path / "grades.csv"]
    for path in grades:
        path.write_text(f"grades of {path.name}")
    before = fingerprint(grades)

    assert similarity.main(["--root", str(tmp_path), "--assignment", ASSIGNMENT]) == 0
    target, pairs = similarity.report(tmp_path, ASSIGNMENT)

    assert fingerprint(grades) == before, "the similarity report changed the grades"
    learners = {p.first for p in pairs} | {p.second for p in pairs if not p.second.startswith("reference")}
    assert learners == {"ada", "bo", "cy", "di"}  # the untouched release has no answer to compare
    copies = [{"ada", "bo"}, {"cy", "reference: the course's public code"}]
    assert sorted(map(sorted, copies)) == sorted(sorted({p.first, p.second}) for p in pairs[:2]), pairs[:3]
    shared = next(p for p in pairs if {p.first, p.second} == {"ada", "bo"})
    assert min(shared.share_first, shared.share_second) > 0.9  # renamed variables hide nothing
    [from_course] = [p for p in pairs if p.first == "cy" and p.second.startswith("reference")]
    assert from_course.share_first > 0.9  # nearly all of cy's answers are the course's own code
    rest = pairs[2:]
    # every honest pair, the differently written answer included, far below the copies
    assert max(p.score for p in rest) < 0.6 * pairs[1].score, [(p.first, p.second, p.score) for p in rest]
    assert any({p.first, p.second} == {"ada", "di"} for p in rest)

    page = target.read_text()
    first_row = page.split("<tr><td>1</td>", 1)[1].split("</tr>", 1)[0]
    assert ">ada<" in first_row or ">cy<" in first_row
    assert "<mark class='first'>" in page and "changes no grade" in page
    assert "http" not in page.split("</style>")[0]  # reads offline
