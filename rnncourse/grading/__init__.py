"""What learners meet: the checks that the exercise notebooks run.

A notebook imports its chapter's module, ``from rnncourse.grading import
ch01_recurrence as check``, and calls ``check.rnn_cell_forward(rnn_cell_forward)``.
A failed check raises ``core.GradingFailure``, an ``AssertionError``: what
nbgrader counts as a failed test. The instructor's pipeline that grades a
class with these parts is ``rnncourse.autograder``.

=======================  ===================================================
``core``                 calling a learner's function, tolerances, messages
``parts``                a part: visible cases, hidden ones drawn from a secret, verification, substitutes
``_codec``               the plain values that cross the sandbox's wall
``substitutes``          correct earlier parts and given code, one file per chapter
``ch01_recurrence``      exercise 1's parts
``ch02_bptt``            exercise 2's parts
``ch03_vanishing``       exercise 3's parts
``ch04_lstm``            exercise 4's parts
``ch05_gru``             exercise 5's parts
``ch06_embeddings``      exercise 6's parts
``ch07_seq2seq``         exercise 7's parts
``ch08_applications``    exercise 8's parts
=======================  ===================================================
"""
