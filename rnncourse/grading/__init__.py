"""Grading: the checks that the exercise notebooks run, and the batch grader.

- ``core``: the shared machinery. It calls a learner's function on
  deterministic float64 inputs, refuses code that calls the course's own
  implementations, substitutes correct earlier parts so that every part
  earns its points on its own, and compares with the reference to a
  relative error (``core.TOLERANCE``), naming the likely mistake.
- ``ch01_recurrence``: exercise 1, one check per part, named after it. A
  notebook imports it as ``from rnncourse.grading import ch01_recurrence as check``
  and calls ``check.rnn_cell_forward(rnn_cell_forward)``.
- ``batch``: ``make grade``, nbgrader's autograding of every submission.

A failed check raises ``core.GradingFailure``, an ``AssertionError``: what
nbgrader counts as a failed test.
"""
