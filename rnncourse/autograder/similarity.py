"""``make similarity``: every learner's answers against every other's and the course's public code.

Every exercise's reference implementation is public (the book teaches from
it), so copying it, or a classmate's answer, is how a learner would cheat.
This report uses ``copydetect`` (a maintained implementation of MOSS's
winnowing: code is tokenised, names become one placeholder, and k-gram
fingerprints are compared), never a home-made comparison:

- each learner's answer cells (nbgrader's solution cells of the notebook
  ``make grade`` grades) are one file;
- the references are the other learners' files and the course's public code
  for the assignment: the ``rnncourse`` modules its checks import (the
  reference implementations) and the correct earlier parts
  (``rnncourse/grading/substitutes/``);
- what the release gives everyone (signatures, docstrings, stubs) is
  boilerplate: shared by all, it counts for nothing.

``similarity/<assignment>.html`` ranks the pairs, most similar first, with
the shared code highlighted on both sides; the terminal shows the top of the
ranking. It changes no grade: it is evidence for a person to read.
"""

from __future__ import annotations

import argparse
import html
import inspect
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from rnncourse.autograder import batch, submission

# Shorter than copydetect's defaults (25): an answer is a handful of short functions.
NOISE_CHARACTERS = 15  # shared runs of tokenised code shorter than this are noise
GUARANTEE_CHARACTERS = 20  # shared runs at least this long are always found
SHOWN = 0.5  # pairs sharing at least this share of one side's fingerprints are shown in full


@dataclass(frozen=True)
class Pair:
    """Two files and how much of each the other holds (0 to 1, copydetect's similarity)."""

    first: str  # a learner
    second: str  # another learner, or "reference: <module>"
    share_first: float  # of the first's fingerprints, the share found in the second
    share_second: float
    code_first: str  # HTML, shared code highlighted
    code_second: str

    @property
    def score(self) -> float:
        return max(self.share_first, self.share_second)


def answers(notebook: nbformat.NotebookNode) -> str:
    """The learner's own code: the sources of the notebook's answer (solution) cells."""
    return "\n\n".join(
        cell.source
        for cell in notebook.cells
        if cell.cell_type == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("solution")
    )


def public_code(assignment: str) -> dict[str, str]:
    """The course's public code for ``assignment``: module name -> source."""
    import importlib

    found: dict[str, str] = {}
    try:
        checks = importlib.import_module(f"rnncourse.grading.{assignment}")
    except ImportError:
        return found
    modules = {inspect.getmodule(value) for value in vars(checks).values()}
    for module in modules:
        name = getattr(module, "__name__", "")
        if not name.startswith("rnncourse.") or (
            name.startswith("rnncourse.grading.") and not name.startswith("rnncourse.grading.substitutes.")
        ):
            continue
        try:
            found[name] = inspect.getsource(module)  # type: ignore[arg-type]
        except (OSError, TypeError):
            continue
    return found


def compare(learners: dict[str, str], references: dict[str, str], boilerplate: str) -> list[Pair]:
    """Every learner against every other and every reference, most similar first."""
    from copydetect import CopyDetector
    from copydetect.utils import highlight_overlap

    with tempfile.TemporaryDirectory(prefix="similarity-") as folder:
        base = Path(folder)
        names: dict[str, str] = {}
        for kind, files in (
            ("learners", learners),
            ("references", references),
            ("boilerplate", {"release": boilerplate}),
        ):
            (base / kind).mkdir()
            for index, (name, code) in enumerate(sorted(files.items())):
                path = base / kind / f"{index:05d}.py"
                path.write_text(code)
                names[str(path)] = name if kind == "learners" else f"reference: {name}"
        detector = CopyDetector(
            test_dirs=[str(base / "learners")],
            ref_dirs=[str(base / "learners"), str(base / "references")],
            boilerplate_dirs=[str(base / "boilerplate")],
            extensions=["py"],
            noise_t=NOISE_CHARACTERS,
            guarantee_t=GUARANTEE_CHARACTERS,
            display_t=0.0,
            autoopen=False,
            silent=True,
        )
        detector.run()
        pairs: dict[frozenset[str], Pair] = {}
        if detector.similarity_matrix.size == 0:
            return []
        for i, test in enumerate(detector.test_files):
            for j, ref in enumerate(detector.ref_files):
                share_test, share_ref = detector.similarity_matrix[i, j]
                key = frozenset((test, ref))
                if test == ref or share_test < 0 or key in pairs:
                    continue
                if (test, ref) in detector.slice_matrix:
                    slices = detector.slice_matrix[(test, ref)]
                elif (ref, test) in detector.slice_matrix:
                    slices = detector.slice_matrix[(ref, test)][::-1]
                else:
                    slices = None
                shown: list[str] = []
                for path, cut, tag in ((test, 0, "first"), (ref, 1, "second")):
                    raw = detector.file_data[path].raw_code
                    if slices is None:
                        shown.append(html.escape(raw))
                    else:
                        marked, _ = highlight_overlap(
                            raw, slices[cut], f"<mark class='{tag}'>", "</mark>", escape_html=True
                        )
                        shown.append(marked)
                pairs[key] = Pair(names[test], names[ref], float(share_test), float(share_ref), *shown)
    return sorted(pairs.values(), key=lambda p: (-p.score, p.first, p.second))


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Similarity: {assignment}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 80em; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 0.2em 0.8em; border-bottom: 1px solid #ccc; text-align: left; }}
pre {{ white-space: pre-wrap; background: #f6f6f6; padding: 0.5em; font-size: 12px; }}
mark.first {{ background: #f6c6c6; }} mark.second {{ background: #c6f0c6; }}
.pair {{ display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }}
</style></head><body>
<h1>Similarity of the answers to {assignment}</h1>
<p>{learners} learners, compared with each other and with the course's public code ({references}) by
copydetect {version} (MOSS's winnowing: names do not matter, only the shape of the code; k = {noise}
characters of tokenised code). The release's own code counts for nothing. A share is the part of one
side's fingerprints found in the other. <b>This changes no grade</b>: read the pairs, then decide.</p>
<h2>Ranking</h2>
<table><tr><th>#</th><th>learner</th><th>compared with</th><th>share of the first</th><th>share of the second</th></tr>
{rows}
</table>
<h2>Pairs sharing at least {shown:.0%} of one side</h2>
{details}
</body></html>
"""


def page(assignment: str, pairs: list[Pair], learners: int, references: list[str]) -> str:
    from copydetect import __version__

    rows = "\n".join(
        f"<tr><td>{n}</td><td><a href='#pair{n}'>{html.escape(p.first)}</a></td><td>{html.escape(p.second)}</td>"
        f"<td>{p.share_first:.0%}</td><td>{p.share_second:.0%}</td></tr>"
        for n, p in enumerate(pairs, start=1)
    )
    details = "\n".join(
        f"<h3 id='pair{n}'>{n}. {html.escape(p.first)} and {html.escape(p.second)}: "
        f"{p.share_first:.0%} and {p.share_second:.0%}</h3>"
        f"<div class='pair'><pre>{p.code_first}</pre><pre>{p.code_second}</pre></div>"
        for n, p in enumerate(pairs, start=1)
        if p.score >= SHOWN
    )
    return PAGE.format(
        assignment=html.escape(assignment),
        learners=learners,
        references=html.escape(", ".join(references) or "none"),
        version=__version__,
        noise=NOISE_CHARACTERS,
        rows=rows,
        shown=SHOWN,
        details=details or "<p>None.</p>",
    )


def report(root: Path, assignment: str) -> tuple[Path, list[Pair]]:
    """Compare the submissions of ``assignment`` under ``root/submitted``; write and return the report."""
    learners: dict[str, str] = {}
    for student, _ in batch.find_submissions(root, [assignment], None):
        task = batch.task_for(root, student, assignment)
        if task.content is None:
            continue
        notebook, _notes = submission.read_notebook(task.content, task.file_name)
        if notebook is not None and answers(notebook).strip():
            learners[student] = answers(notebook)
    release = root / "exercises" / assignment / f"{assignment}.ipynb"
    boilerplate = answers(nbformat.read(release, as_version=4)) if release.is_file() else ""
    learners = {student: code for student, code in learners.items() if code != boilerplate}  # untouched
    modules = public_code(assignment)
    # one reference, so that code pasted from several modules adds up
    references = {"the course's public code": "\n\n".join(modules[name] for name in sorted(modules))}
    pairs = compare(learners, references if modules else {}, boilerplate) if learners else []
    target = root / "similarity" / f"{assignment}.html"
    target.parent.mkdir(exist_ok=True)
    target.write_text(page(assignment, pairs, len(learners), sorted(modules)))
    return target, pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="course root (holds submitted/)")
    parser.add_argument("--assignment", help="only this assignment (default: every one with submissions)")
    parser.add_argument("--top", type=int, default=10, help="pairs to print per assignment")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if not (root / "submitted").is_dir():
        parser.error(f"nothing to compare: {root / 'submitted'} does not exist")
    assignments = (
        [args.assignment]
        if args.assignment
        else sorted(
            {
                a
                for _, a in batch.find_submissions(
                    root, sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir()), None
                )
            }
        )
    )
    for assignment in assignments:
        target, pairs = report(root, assignment)
        print(f"{assignment}: {target.relative_to(root)}")
        for pair in pairs[: args.top]:
            print(f"  {pair.score:4.0%}  {pair.first} and {pair.second}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
