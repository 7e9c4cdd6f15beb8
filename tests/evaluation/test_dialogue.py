"""The chat measures of ``rnncourse.evaluation.dialogue`` on cases worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnncourse.evaluation.dialogue import (
    candidate_sets,
    distinct_n,
    mmi_scores,
    perplexity,
    recall_at_1,
    sequence_log_probs,
    top_reply_share,
)


def test_distinct_n_counts_over_the_whole_set() -> None:
    replies = [["i", "am", "fine"], ["i", "am", "a", "bot"]]
    # unigrams: i am fine i am a bot -> 7, distinct {i, am, fine, a, bot} = 5
    assert distinct_n(replies, 1) == pytest.approx(5 / 7)
    # bigrams: (i am) (am fine) (i am) (am a) (a bot) -> 5, distinct 4
    assert distinct_n(replies, 2) == pytest.approx(4 / 5)
    # the same reply to everyone: one distinct unigram per word of it
    assert distinct_n([["yes"]] * 10, 1) == pytest.approx(0.1)
    assert distinct_n([["yes"]], 2) == 0.0  # no bigram at all
    with pytest.raises(ValueError, match="at least 1"):
        distinct_n(replies, 0)


def test_top_reply_share_and_its_tie_rule() -> None:
    assert top_reply_share(["a", "b", "a", "c"]) == ("a", 0.5)
    assert top_reply_share(["b", "a"]) == ("b", 0.5)  # a tie: the first seen
    with pytest.raises(ValueError, match="no replies"):
        top_reply_share([])


def test_sequence_log_probs_sums_only_the_real_steps() -> None:
    # two target steps over V = 2; uniform logits give log(1/2) per step
    logits = torch.zeros(2, 2, 2)
    logits[0, 0] = torch.tensor([math.log(3.0), 0.0])  # p = (3/4, 1/4) at row 0, step 0
    targets = torch.tensor([[0, 1], [1, 0]])
    lengths = torch.tensor([2, 1])  # row 1 stops after its first step: step 2 is padding
    got = sequence_log_probs(logits, targets, lengths)
    assert got.dtype == torch.float64
    assert got.tolist() == pytest.approx([math.log(3 / 4) + math.log(1 / 2), math.log(1 / 2)])
    with pytest.raises(ValueError, match="length"):
        sequence_log_probs(logits, targets, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="expected logits"):
        sequence_log_probs(logits[0], targets, lengths)


def test_perplexity_of_a_uniform_model_is_the_vocabulary_size() -> None:
    lengths = np.array([3, 5])
    log_p = -lengths * math.log(7.0)  # every token has probability 1/7
    assert perplexity(log_p, lengths) == pytest.approx(7.0)
    with pytest.raises(ValueError, match="no tokens"):
        perplexity(np.zeros(0), np.zeros(0))


def test_candidate_sets_put_the_truth_first_and_skip_copies_of_it() -> None:
    replies = ["hi", "hi", "bye", "ok", "no", "yes"]
    sets = candidate_sets(replies, 3, np.random.default_rng(0))
    assert sets.shape == (6, 3)
    assert sets[:, 0].tolist() == list(range(6))
    for i, row in enumerate(sets):
        assert len(set(row.tolist())) == 3  # no candidate twice
        assert all(replies[j] != replies[i] for j in row[1:])  # no copy of the true reply
    assert not {0, 1} & set(sets[0, 1:].tolist()) and not {0, 1} & set(sets[1, 1:].tolist())
    with pytest.raises(ValueError, match="unlike it"):
        candidate_sets(["a", "a", "b"], 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="at least 2"):
        candidate_sets(replies, 1, np.random.default_rng(0))


def test_recall_at_1_counts_ties_as_misses() -> None:
    scores = np.array([[3.0, 1.0, 2.0], [1.0, 2.0, 0.0], [2.0, 2.0, 1.0], [5.0, 4.0, 4.0]])
    assert recall_at_1(scores) == pytest.approx(2 / 4)  # rows 0 and 3; row 2 is a tie
    assert recall_at_1(np.zeros((5, 10))) == 0.0
    with pytest.raises(ValueError, match="k >= 2"):
        recall_at_1(np.zeros((3, 1)))


def test_mmi_penalises_the_reply_that_is_likely_anywhere() -> None:
    # reply A: generic, likely with or without the prompt; reply B: fits this prompt only
    log_p_given_prompt = np.array([-2.0, -3.0])
    log_p_reply = np.array([-2.5, -9.0])
    lengths = np.array([2, 2])
    plain = mmi_scores(log_p_given_prompt, log_p_reply, lengths, 0.0)
    assert plain.tolist() == pytest.approx([-1.0, -1.5])  # likelihood prefers A
    mmi = mmi_scores(log_p_given_prompt, log_p_reply, lengths, 0.5)
    assert mmi.tolist() == pytest.approx([(-2.0 + 1.25) / 2, (-3.0 + 4.5) / 2])  # MMI prefers B
    with pytest.raises(ValueError, match="at least one token"):
        mmi_scores(log_p_given_prompt, log_p_reply, np.array([0, 2]), 0.5)
    with pytest.raises(ValueError, match="shapes differ"):
        mmi_scores(log_p_given_prompt, log_p_reply[:1], lengths, 0.5)
