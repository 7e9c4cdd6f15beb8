"""The instructor's pipeline: grading a class with nbgrader, every notebook in a sandbox.

It imports ``rnncourse.grading`` (the parts and checks learners meet), never
the reverse.

===============  ===========================================================
``batch``        ``make grade``: find, collect, register, grade (locally or on Dask), write, export
``submission``   one submission in one pass: read, sanitise, sandbox, verify, record, feedback
``autograde``    nbgrader's autograde step with the sandbox in place of Execute
``record``       nbgrader's steps on the notebook in memory: grades into the gradebook, feedback
``collect``      a learning platform's zip: the newest attempt per learner, every skip named
``files``        reading only a learner's own regular files: a link, FIFO or device is never followed
``lateness``     due dates and the late penalty (``c.Deadlines``, ``c.LatePenalty``)
``sheet``        ``grades.csv`` (a row and a status per learner and assignment) and per part
``cluster``      ``--scheduler``: the per-submission work on a Dask cluster
``similarity``   ``make similarity``: copydetect's ranking of answers and the course's code
``sandbox``      bubblewrap, limits, the memory cgroup, and the plain values that come back
``runner``       the standalone program that runs a notebook inside the sandbox
``validate``     ``make validate``: every part of one notebook, with its message
``secret``       ``make secret``: the course's grading secret, which hidden cases are drawn from
===============  ===========================================================

``feedback/`` holds the feedback template (``HTMLExporter`` in ``nbgrader_config.py``).
"""
