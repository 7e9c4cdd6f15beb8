"""The analogy and similarity files shipped by gensim, read without importing gensim."""

from __future__ import annotations

import sys

from rnncourse.data.word_tests import is_semantic, load_analogies, load_simlex999, load_wordsim353


def test_analogy_file_has_its_published_size_and_sections() -> None:
    questions = load_analogies()
    assert len(questions) == 19_544
    sections = {q.section for q in questions}
    assert len(sections) == 14 and sum(is_semantic(s) for s in sections) == 5
    assert questions[0][1:] == ("athens", "greece", "baghdad", "iraq")
    assert all(w == w.lower() for q in questions[:500] for w in q[1:])


def test_similarity_files_have_their_published_sizes_and_score_range() -> None:
    wordsim, simlex = load_wordsim353(), load_simlex999()
    assert len(wordsim) == 353 and len(simlex) == 999
    assert all(0 <= p.score <= 10 for p in wordsim + simlex)


def test_gensim_is_never_imported() -> None:
    load_analogies()
    assert "gensim" not in sys.modules
