"""What the learner sees in the lab: a failed check's one short box, and ``%%try_it`` cells."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell

from rnncourse.grading import ch01_recurrence as check
from rnncourse.grading import lab
from rnncourse.grading.core import BOX_WIDTH, GradingFailure, failure_box

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_the_box_names_the_part_then_the_whole_message_wrapped() -> None:
    message = (
        "Visible check 'N=3': rnn_cell_forward gives wrong values. " + "Likely mistake: W_hh transposed. " * 6
    )
    lines = [ANSI.sub("", line) for line in failure_box(message, "Part 3: one step of the recurrence")]
    assert lines[0] == "FAILED  Part 3: one step of the recurrence"
    assert all(len(line) <= BOX_WIDTH for line in lines)
    assert " ".join(lines[1:]).split() == message.split()  # every word, in order, nothing added
    assert ANSI.sub("", failure_box("x")[0]) == "FAILED"


def test_a_failed_check_shows_itself_as_the_box_with_its_part() -> None:
    def build_vocab(sentences: list[str]) -> dict[str, int]:
        return {}

    with pytest.raises(GradingFailure) as failure:
        check.build_vocab(build_vocab)
    assert failure.value.part == check.BUILD_VOCAB.title
    shown = "\n".join(failure.value._render_traceback_())
    assert check.BUILD_VOCAB.title in shown and str(failure.value).split()[0] in shown
    assert "Traceback" not in shown and "File " not in shown and ".py" not in shown


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    shell = InteractiveShell.instance()
    lab.register(shell)
    shell.run_cell("def build_vocab(sentences):\n    raise NotImplementedError()\n")
    shell.run_cell("def helper():\n    raise NotImplementedError('not a part')\n")
    yield shell
    InteractiveShell.clear_instance()


def test_a_cell_that_uses_an_unwritten_part_prints_one_line_and_succeeds(shell, capsys) -> None:
    result = shell.run_cell("%%try_it\nx = 1\nbuild_vocab(['a b'])\nx = 2\n")
    assert result.success
    out = capsys.readouterr().out
    assert out == "This cell uses build_vocab: write part 1 first (it still raises NotImplementedError).\n"
    assert shell.user_ns["x"] == 1  # the cell stopped there


def test_a_try_it_cell_runs_as_any_cell_once_its_parts_are_written(shell, capsys) -> None:
    shell.run_cell("def build_vocab(sentences):\n    return {'a': 1}\n")
    result = shell.run_cell("%%try_it\nbuild_vocab(['a'])['a'] + 41\n")
    assert result.success
    assert "42" in capsys.readouterr().out  # the last expression is shown, as in any cell


@pytest.mark.parametrize("body", ["1 / 0", "helper()"])
def test_any_other_error_fails_the_cell(shell, capsys, body: str) -> None:
    result = shell.run_cell(f"%%try_it\n{body}\n")
    assert not result.success
    captured = capsys.readouterr()
    assert "write part" not in captured.out
