"""The instructor's pipeline: grading a class with nbgrader, every notebook in a sandbox.

It imports ``rnncourse.grading`` (the parts and checks learners meet), never
the reverse.

===============  ===========================================================
``batch``        ``make grade``: stage, sandbox, record and feedback, per submission
``autograde``    nbgrader's autograde step with the sandbox in place of Execute
``record``       nbgrader's API: record grades, write feedback, export the CSV
``sandbox``      bubblewrap, limits, and the plain values that come back
``runner``       the standalone program that runs a notebook inside the sandbox
``validate``     ``make validate``: every part of one notebook, with its message
``secret``       ``make secret``: the course's grading secret, which hidden cases are drawn from
===============  ===========================================================

``feedback/`` holds the feedback template (``HTMLExporter`` in ``nbgrader_config.py``).
"""
