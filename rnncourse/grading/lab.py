"""What the exercise notebooks add to IPython: the ``%%try_it`` cell magic.

Cells that try the learner's functions without grading them (a demo after a
part, "Putting it together") start with ``%%try_it``. The cell runs as any
other; if it stops because a part it calls is not written yet (the part's
function still raises ``NotImplementedError``), it prints one line that says
which part to write first, instead of a traceback, and does not fail: *Run
All* goes on to the next cell. Any other error is shown as usual and fails the
cell.

Importing ``rnncourse.grading`` (the notebook's setup cell) registers the
magic in a running IPython; the grader's sandbox, where the course's package
cannot be imported, registers its own (``rnncourse.autograder.runner``): it
names an unwritten function in one line too, so the feedback reads the same.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

#: The cell magic's name, as cells write it: ``%%try_it``.
TRY_IT = "try_it"


def part_title(function: str) -> str | None:
    """The title of the part whose function is ``function``, among the chapters' checks imported so far."""
    for name, module in list(sys.modules.items()):
        if name.startswith("rnncourse.grading.ch"):
            for part in getattr(module, "PARTS", ()):
                if part.function == function:
                    return str(part.title)
    return None


def not_written_message(traceback: TracebackType | None) -> str | None:
    """The line a ``%%try_it`` cell prints when ``NotImplementedError`` came from an unwritten part, else None.

    The part is the function whose frame raised (the innermost of ``traceback``).
    """
    frame = None
    while traceback is not None:
        frame, traceback = traceback.tb_frame, traceback.tb_next
    if frame is None:
        return None
    function = frame.f_code.co_name
    title = part_title(function)
    if title is None:
        return None
    number = title.split(":", 1)[0].lower()  # "part 3"
    return f"This cell uses {function}: write {number} first (it still raises NotImplementedError)."


class CellFailed(Exception):
    """A ``%%try_it`` cell's error, already shown by IPython: it fails the cell without a second traceback."""

    def _render_traceback_(self) -> list[str]:
        return []


def try_it(line: str, cell: str) -> None:
    """Run the cell; a part it uses that is not written yet is named in one line, not raised."""
    from IPython import get_ipython

    shell = get_ipython()
    named: list[str] = []

    def unwritten(
        shell: Any, kind: type, error: BaseException, traceback: TracebackType, tb_offset: Any = None
    ) -> None:
        message = not_written_message(traceback)
        if message is None:
            shell.showtraceback((kind, error, traceback), tb_offset=tb_offset)
        else:
            named.append(message)
            print(message)

    saved = shell.custom_exceptions, shell.CustomTB
    shell.set_custom_exc((NotImplementedError,), unwritten)
    try:
        result = shell.run_cell(cell, store_history=False)
    finally:
        shell.custom_exceptions, shell.CustomTB = saved
    if (result.error_before_exec or result.error_in_exec) is not None and not named:
        raise CellFailed("the cell raised an error (shown above)")


def register(shell: Any = None) -> None:
    """Register ``%%try_it`` in ``shell`` (the running IPython, if any; nothing outside IPython)."""
    if shell is None:
        ipython = sys.modules.get("IPython")  # not imported: not running in IPython
        shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        shell.register_magic_function(try_it, magic_kind="cell", magic_name=TRY_IT)
