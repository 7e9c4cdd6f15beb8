"""The retrieval baseline answers with the target of the nearest source by tf-idf cosine."""

from __future__ import annotations

import pytest

from rnncourse.models.retrieval import RetrievalModel


def test_retrieval_finds_the_nearest_source_by_rare_words() -> None:
    pairs = [("the cat sat", "A"), ("the dog ran", "B"), ("a red bird", "C")]
    model = RetrievalModel(pairs)
    assert model.reply("the cat sat") == "A"
    assert model.reply("The DOG") == "B"  # case folded
    # "the" is in two sources, "bird" in one: the rare word decides
    assert model.reply("the bird") == "C"
    assert model.reply("zebra") == "A"  # nothing in common: the first pair


def test_no_pairs_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one pair"):
        RetrievalModel([])
