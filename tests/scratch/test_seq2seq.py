"""The NumPy encoder-decoder computes what the torch model computes, from the same arrays."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnncourse.data.pairs import BOS_ID, EOS_ID
from rnncourse.gradcheck import rel_error
from rnncourse.models.seq2seq import Seq2Seq
from rnncourse.scratch.decoding import PrefixDecoder, beam_search, greedy_search
from rnncourse.scratch.seq2seq import NumpySeq2Seq


def _models(attention: str | None, bidirectional: bool) -> tuple[Seq2Seq, NumpySeq2Seq]:
    torch.manual_seed(0)
    model = Seq2Seq(11, 9, 5, 7, attention, bidirectional).double().eval()
    with torch.no_grad():
        for parameter in model.parameters():  # larger weights than the initialisation: sharper outputs
            parameter.mul_(2.0)
    arrays = {name: tensor.numpy() for name, tensor in model.state_dict().items()}
    return model, NumpySeq2Seq(arrays)


@pytest.mark.parametrize(
    ("attention", "bidirectional"),
    [(None, False), (None, True), ("additive", False), ("multiplicative", True)],
)
def test_every_step_equals_the_torch_model(attention: str | None, bidirectional: bool) -> None:
    model, numpy_model = _models(attention, bidirectional)
    source = [4, 7, 5, 10, 6, EOS_ID]
    with torch.no_grad():
        theirs = model.encode(torch.tensor([source]), torch.tensor([len(source)]))
    ours = numpy_model.encode(source)
    assert rel_error(ours.state, theirs.state.numpy()) < 1e-12
    assert rel_error(ours.memory, theirs.memory.numpy()) < 1e-12
    step_theirs, step_ours = model.step_function(), numpy_model.step_function()
    for token in [BOS_ID, 5, 8, 4]:  # teacher-forced through a few tokens
        log_theirs, theirs = step_theirs(np.array([token]), theirs)
        log_ours, ours = step_ours(np.array([token]), ours)
        assert rel_error(log_ours, log_theirs) < 1e-10
        assert abs(np.exp(log_ours).sum() - 1.0) < 1e-12


def test_greedy_and_beam_search_decode_the_same_tokens() -> None:
    model, numpy_model = _models("additive", False)
    source = [6, 4, 9, EOS_ID]
    with torch.no_grad():
        theirs = model.encode(torch.tensor([source]), torch.tensor([len(source)]))
    ours = numpy_model.encode(source)
    assert np.array_equal(
        greedy_search(numpy_model.step_function(), ours, BOS_ID, EOS_ID, 8)[0],
        greedy_search(model.step_function(), theirs, BOS_ID, EOS_ID, 8)[0],
    )
    best_ours = beam_search(numpy_model.step_function(), ours, BOS_ID, EOS_ID, 3, 8, 0.6)[0]
    best_theirs = beam_search(model.step_function(), theirs, BOS_ID, EOS_ID, 3, 8, 0.6)[0]
    assert best_ours.tokens == best_theirs.tokens and abs(best_ours.log_prob - best_theirs.log_prob) < 1e-9


def test_a_prefix_decoder_gives_each_prefix_the_log_probabilities_of_its_state() -> None:
    _, numpy_model = _models("additive", True)
    source = [4, 4, 8, EOS_ID]
    step = numpy_model.step_function()
    decoder = PrefixDecoder(step, numpy_model.encode(source))
    state, expected = numpy_model.encode(source), {}
    prefix = [BOS_ID, 6, 5, 7]
    for t, token in enumerate(prefix):
        log_probs, state = step(np.array([token]), state)
        expected[tuple(prefix[: t + 1])] = log_probs[0]
    # asked out of order, and a branch that shares a prefix
    for key in [prefix, prefix[:2], prefix[:3], prefix[:1]]:
        assert rel_error(decoder.log_probs(key), expected[tuple(key)]) < 1e-14
    branch = decoder.log_probs([BOS_ID, 6, 8])
    log_probs, _ = step(
        np.array([8]), step(np.array([6]), step(np.array([BOS_ID]), numpy_model.encode(source))[1])[1]
    )
    assert rel_error(branch, log_probs[0]) < 1e-14
    decoder.log_probs(prefix)[:] = 0.0  # the caller's copy: the decoder's own is unchanged
    assert rel_error(decoder.log_probs(prefix), expected[tuple(prefix)]) < 1e-14
    with pytest.raises(ValueError, match="<bos>"):
        decoder.log_probs([])


def test_wrong_weights_and_sources_are_refused() -> None:
    with pytest.raises(ValueError, match="not a Seq2Seq"):
        NumpySeq2Seq({"bridge.weight": np.zeros((2, 2))})
    _, numpy_model = _models(None, False)
    with pytest.raises(ValueError, match="non-empty"):
        numpy_model.encode([])
