"""The Validate button's answer: make validate's report as the HTML of nbgrader's dialog."""

from __future__ import annotations

from rnncourse.autograder.validate_button import STYLE, answer

REPORT = """Validating exercises/ch01_recurrence/ch01_recurrence.ipynb

passed  Part 1: a vocabulary  2 of 2 points
FAILED  Part 2: encoding and padding  0 of 2 points
        encode_and_pad raised ValueError: <script>alert(1)</script> & more

NOT OK: 1 of 2 parts pass the visible tests (2 of 4 points); 0 other cell(s) raised an error."""


def test_the_dialog_gets_one_entry_holding_the_whole_report() -> None:
    value = answer(REPORT)
    assert value["success"] is True
    (entry,) = value["value"]["failed"]
    assert entry["source"] == ""  # the dialog's source box, hidden by the style
    shown = entry["error"]
    assert shown.startswith(STYLE) and "<script>" not in STYLE
    assert "passed  Part 1: a vocabulary  2 of 2 points" in shown
    assert (
        '<span class="rnncourse-failed">FAILED  Part 2: encoding and padding  0 of 2 points</span>' in shown
    )
    assert "NOT OK: 1 of 2 parts" in shown


def test_what_the_learners_code_printed_is_text_never_markup() -> None:
    shown = answer(REPORT)["value"]["failed"][0]["error"]
    assert "<script>" not in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in shown
