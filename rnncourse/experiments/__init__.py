"""The experiments of the chapters: one module per chapter, ``chNN_<slug>.py``.

Each runs what its reading page trains or measures (seeded, small enough
for the page's time budget) and, where the page shows a longer run, the
script that produced the stored result in :mod:`rnncourse.results`.
"""
