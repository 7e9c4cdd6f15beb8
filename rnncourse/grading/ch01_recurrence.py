"""Checks for exercise 1, recurrence: vocabulary, encoding, cell, sequence, classifier.

Each check takes the learner's function and, optionally, a seed and shapes,
so that the hidden tests of the notebook can use inputs that the learner
has not seen. Shapes are (N batch, T steps, D features, H hidden, C classes).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np

from rnncourse.data.text import PAD, UNK, Vocabulary, pad_batch, tokenize
from rnncourse.grading.core import (
    GradingFailure,
    check_array,
    compare,
    float64_inputs,
    run_learner_code,
    substituted,
    unchanged,
)
from rnncourse.scratch.activations import softmax
from rnncourse.scratch.rnn import rnn_forward, rnn_step_forward

VISIBLE_SENTENCES = ("The cat sat", "the dog sat down", "A cat and a dog")


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


# -- Part 1: vocabulary --------------------------------------------------------------


def check_build_vocab(
    build_vocab: Callable[[list[str]], dict[str, int]], sentences: Sequence[str] = VISIBLE_SENTENCES
) -> None:
    """``build_vocab(sentences)`` must return the course's vocabulary as a dict."""
    name = "build_vocab"
    expected = Vocabulary.build(sentences).index
    result = run_learner_code(build_vocab, list(sentences), name=name)
    if not isinstance(result, dict):
        raise GradingFailure(f"{name} returned {type(result).__name__}; return a dict from token to index.")
    if result.get(PAD) != 0 or result.get(UNK) != 1:
        raise GradingFailure(
            f"{name}: {PAD!r} must have index 0 and {UNK!r} index 1 "
            f"(got {result.get(PAD)!r} and {result.get(UNK)!r})."
        )
    if any(token != token.lower() for token in result if token not in (PAD, UNK)):
        raise GradingFailure(f'{name}: tokens must be lower-cased ("The" and "the" are one token).')
    if set(result) != set(expected):
        missing = sorted(set(expected) - set(result))
        extra = sorted(set(result) - set(expected))
        raise GradingFailure(
            f"{name}: wrong set of tokens (missing {missing}, unexpected {extra}); "
            "split each lower-cased sentence on white space."
        )
    if sorted(result.values()) != list(range(len(expected))):
        raise GradingFailure(
            f"{name}: indices must be 0, 1, ..., {len(expected) - 1} with no gaps or repeats; "
            "give a token an index only the first time you see it."
        )
    if result != expected:
        raise GradingFailure(
            f"{name}: indices are in the wrong order; number tokens in order of first "
            "appearance, sentence by sentence, word by word (not alphabetically)."
        )


# -- Part 2: encoding and padding ----------------------------------------------------


def check_encode_and_pad(
    encode_and_pad: Callable[[list[str], dict[str, int], int], np.ndarray],
    vocab_sentences: Sequence[str] = VISIBLE_SENTENCES,
    sentences: Sequence[str] = ("the cat sat down", "a bird", "The dog and a cat sat down today"),
    max_len: int = 5,
) -> None:
    """``encode_and_pad(sentences, vocab, max_len)`` -> (N, max_len) integer array."""
    name = "encode_and_pad"
    vocabulary = Vocabulary.build(vocab_sentences)
    vocab = dict(vocabulary.index)
    expected, _ = pad_batch([vocabulary.encode(s) for s in sentences], max_len)
    result = run_learner_code(encode_and_pad, list(sentences), copy.deepcopy(vocab), max_len, name=name)
    if not isinstance(result, np.ndarray):
        raise GradingFailure(f"{name} returned {type(result).__name__}; return a NumPy array.")
    if result.shape != expected.shape:
        longest = max(len(tokenize(s)) for s in sentences)
        if result.shape == (len(sentences), longest):
            raise GradingFailure(
                f"{name} returned shape {result.shape}: cut sentences longer than max_len={max_len} "
                "to their first max_len tokens."
            )
        raise GradingFailure(
            f"{name} returned shape {result.shape}; expected {expected.shape} (sentences, max_len)."
        )
    if not np.issubdtype(result.dtype, np.integer):
        raise GradingFailure(
            f"{name} returned dtype {result.dtype}; indices must be integers (e.g. np.int64)."
        )
    pre_padded = np.zeros_like(expected)
    kept_last = np.zeros_like(expected)
    for row, sentence in enumerate(sentences):
        ids = vocabulary.encode(sentence)
        head = ids[:max_len]
        if head:
            pre_padded[row, max_len - len(head) :] = head
        tail = ids[-max_len:]
        kept_last[row, : len(tail)] = tail
    if np.array_equal(result, pre_padded) and not np.array_equal(result, expected):
        raise GradingFailure(f"{name}: pad at the end of each sentence (after its tokens), not at the start.")
    if np.array_equal(result, kept_last) and not np.array_equal(result, expected):
        raise GradingFailure(f"{name}: keep the first max_len tokens of a long sentence, not the last.")
    unknown = vocab[UNK]
    unknown_positions = [
        (row, col)
        for row, sentence in enumerate(sentences)
        for col, token in enumerate(tokenize(sentence)[:max_len])
        if token not in vocab
    ]
    if any(result[row, col] != unknown for row, col in unknown_positions):
        raise GradingFailure(
            f"{name}: a word missing from the vocabulary must become {UNK!r}, index {unknown}."
        )
    if not np.array_equal(result, expected):
        raise GradingFailure(
            f"{name}: wrong indices. Expected\n{expected}\ngot\n{result}\n"
            "Lower-case and split each sentence, look every token up in vocab, then pad with 0."
        )


# -- Part 3: one step of the recurrence ----------------------------------------------


def _correct_cell(
    x_t: np.ndarray, h_prev: np.ndarray, W_xh: np.ndarray, W_hh: np.ndarray, b_h: np.ndarray
) -> np.ndarray:
    return rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h)[0]


def check_rnn_cell_forward(
    rnn_cell_forward: Callable[..., np.ndarray],
    seed: int = 0,
    shapes: Sequence[tuple[int, int, int]] = ((3, 4, 5), (2, 6, 6)),
) -> None:
    """``rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h)`` -> h_t of shape (N, H).

    ``shapes`` lists (N, D, H); include one with D == H, where a transposed
    weight does not fail on shape and has to be recognised by its values.
    """
    name = "rnn_cell_forward"
    for case, (N, D, H) in enumerate(shapes):
        p = float64_inputs(seed + case, x_t=(N, D), h_prev=(N, H), W_xh=(H, D), W_hh=(H, H), b_h=(H,))
        before = copy.deepcopy(p)
        result = run_learner_code(
            rnn_cell_forward, p["x_t"], p["h_prev"], p["W_xh"], p["W_hh"], p["b_h"], name=name
        )
        unchanged(before, p, name)
        result = check_array(result, name, (N, H), "the new hidden state h_t (N, H)")
        x_part, h_part, b = p["x_t"] @ p["W_xh"].T, p["h_prev"] @ p["W_hh"].T, p["b_h"]
        mistakes = {
            "the bias b_h is missing": np.tanh(x_part + h_part),
            "no activation: apply tanh to the pre-activation": x_part + h_part + b,
            "the activation should be tanh, not ReLU": np.maximum(x_part + h_part + b, 0),
            "the activation should be tanh, not sigmoid": _sigmoid(x_part + h_part + b),
            "the previous hidden state h_prev is ignored (W_hh @ h_prev is missing)": np.tanh(x_part + b),
            "the input x_t is ignored (W_xh @ x_t is missing)": np.tanh(h_part + b),
        }
        # W_hh is square, so a transposed W_hh never fails on shape; W_xh only when D == H.
        h_transposed = p["h_prev"] @ p["W_hh"]
        mistakes["W_hh is transposed: it maps h_prev to the new state as h_prev @ W_hh.T"] = np.tanh(
            x_part + h_transposed + b
        )
        if D == H:
            x_transposed = p["x_t"] @ p["W_xh"]
            mistakes |= {
                "W_xh is transposed: it has shape (H, D), so use x_t @ W_xh.T": np.tanh(
                    x_transposed + h_part + b
                ),
                "both weights are transposed: use x_t @ W_xh.T and h_prev @ W_hh.T": np.tanh(
                    x_transposed + h_transposed + b
                ),
            }
        compare(result, _correct_cell(p["x_t"], p["h_prev"], p["W_xh"], p["W_hh"], p["b_h"]), name, mistakes)


# -- Part 4: the recurrence over a sequence ------------------------------------------


def check_rnn_forward(
    rnn_forward_fn: Callable[..., np.ndarray],
    seed: int = 100,
    shapes: Sequence[tuple[int, int, int, int]] = ((2, 3, 4, 5), (3, 1, 2, 2)),
) -> None:
    """``rnn_forward(x, h0, W_xh, W_hh, b_h)`` -> every hidden state, (N, T, H).

    ``shapes`` lists (N, T, D, H). While it runs, the learner's own
    ``rnn_cell_forward`` is replaced by a correct one.
    """
    name = "rnn_forward"
    for case, (N, T, D, H) in enumerate(shapes):
        p = float64_inputs(seed + case, x=(N, T, D), h0=(N, H), W_xh=(H, D), W_hh=(H, H), b_h=(H,))
        before = copy.deepcopy(p)
        with substituted(rnn_forward_fn, {"rnn_cell_forward": _correct_cell}):
            result = run_learner_code(
                rnn_forward_fn,
                p["x"],
                p["h0"],
                p["W_xh"],
                p["W_hh"],
                p["b_h"],
                name=name,
                allowed=(_correct_cell,),
            )
        unchanged(before, p, name)
        if isinstance(result, np.ndarray) and result.shape == (N, T + 1, H):
            raise GradingFailure(f"{name} returned T+1 states: return h_1..h_T, without h0.")
        if isinstance(result, np.ndarray) and result.shape == (T, N, H) and T != N:
            raise GradingFailure(
                f"{name} returned shape (T, N, H) = {result.shape}; stack the states on axis 1 to get (N, T, H)."
            )
        if isinstance(result, np.ndarray) and result.shape == (N, H):
            raise GradingFailure(
                f"{name} returned only one state (N, H); return every hidden state, shape (N, T, H)."
            )
        result = check_array(result, name, (N, T, H), "the hidden states h_1..h_T (N, T, H)")
        expected, _ = rnn_forward(p["x"], p["h0"], p["W_xh"], p["W_hh"], p["b_h"])
        from_h0_every_step = np.stack(
            [_correct_cell(p["x"][:, t], p["h0"], p["W_xh"], p["W_hh"], p["b_h"]) for t in range(T)], axis=1
        )
        from_zero, _ = rnn_forward(p["x"], np.zeros_like(p["h0"]), p["W_xh"], p["W_hh"], p["b_h"])
        mistakes = {
            "every step starts again from h0; feed each new state into the next step": from_h0_every_step,
            "the given h0 is ignored (the loop starts from zeros)": from_zero,
        }
        if T > 1:
            mistakes["the states are in reverse order"] = expected[:, ::-1]
        compare(result, expected, name, mistakes)


# -- Part 5: softmax -----------------------------------------------------------------


def check_softmax(
    softmax_fn: Callable[[np.ndarray], np.ndarray],
    seed: int = 200,
    shapes: Sequence[tuple[int, int]] = ((4, 3), (2, 5)),
) -> None:
    """``softmax(logits)`` over the last axis of (N, C), safe for large logits."""
    name = "softmax"
    rng = np.random.default_rng(seed)
    for N, C in shapes:
        cases = {
            "ordinary logits": rng.normal(size=(N, C)),
            "large logits (around 1000)": 1000.0 + 5.0 * rng.normal(size=(N, C)),
            "very negative logits (around -1000)": -1000.0 + 5.0 * rng.normal(size=(N, C)),
        }
        for description, logits in cases.items():
            before = {"logits": logits.copy()}
            with np.errstate(all="ignore"):
                result = run_learner_code(softmax_fn, logits, name=name)
            unchanged(before, {"logits": logits}, name)
            if isinstance(result, np.ndarray) and result.shape == (N, C) and not np.all(np.isfinite(result)):
                raise GradingFailure(
                    f"{name} returns NaN or inf for {description}: exp overflows or the sum underflows. "
                    "Subtract each row's maximum from the logits before exp (the result does not change)."
                )
            result = check_array(result, name, (N, C), "probabilities (N, C)")
            with np.errstate(all="ignore"):
                over_rows = np.exp(logits - logits.max(axis=0, keepdims=True))
                over_rows = over_rows / over_rows.sum(axis=0, keepdims=True)
                global_max = np.exp(logits - logits.max())
                global_max = global_max / global_max.sum()
            compare(
                result,
                softmax(logits),
                name,
                {
                    "softmax is taken over axis 0 (the batch); take it over the last axis, the classes": over_rows,
                    "everything is normalised together; normalise each row on its own (sum over axis=-1, keepdims=True)": global_max,
                },
            )


# -- Part 6: many-to-one classifier ---------------------------------------------------


def check_classify(
    classify: Callable[..., np.ndarray],
    seed: int = 300,
    shapes: Sequence[tuple[int, int, int, int, int]] = ((2, 4, 3, 5, 3), (3, 2, 2, 4, 2)),
) -> None:
    """``classify(x, h0, W_xh, W_hh, b_h, W_hy, b_y)`` -> class probabilities (N, C).

    ``shapes`` lists (N, T, D, H, C). While it runs, the learner's own
    ``rnn_forward`` and ``softmax`` are replaced by correct ones.
    """
    name = "classify"
    for case, (N, T, D, H, C) in enumerate(shapes):
        p = float64_inputs(
            seed + case, x=(N, T, D), h0=(N, H), W_xh=(H, D), W_hh=(H, H), b_h=(H,), W_hy=(C, H), b_y=(C,)
        )
        before = copy.deepcopy(p)
        args = (p["x"], p["h0"], p["W_xh"], p["W_hh"], p["b_h"], p["W_hy"], p["b_y"])
        replacements = {
            "rnn_forward": _correct_rnn_forward,
            "softmax": softmax,
            "rnn_cell_forward": _correct_cell,
        }
        with substituted(classify, replacements):
            result = run_learner_code(classify, *args, name=name, allowed=tuple(replacements.values()))
        unchanged(before, p, name)
        if isinstance(result, np.ndarray) and result.shape == (N, T, C):
            raise GradingFailure(
                f"{name} returned a prediction for every step (N, T, C); classify from the last state h_T only."
            )
        result = check_array(result, name, (N, C), "class probabilities (N, C)")
        h, _ = rnn_forward(p["x"], p["h0"], p["W_xh"], p["W_hh"], p["b_h"])
        logits = h[:, -1] @ p["W_hy"].T + p["b_y"]
        mistakes = {
            "the prediction uses the first hidden state h_1; use the last one, h[:, -1]": softmax(
                h[:, 0] @ p["W_hy"].T + p["b_y"]
            ),
            "the prediction uses the mean of the hidden states; use the last one, h[:, -1]": softmax(
                h.mean(axis=1) @ p["W_hy"].T + p["b_y"]
            ),
            "the output bias b_y is missing": softmax(h[:, -1] @ p["W_hy"].T),
            "these are logits: apply softmax to get probabilities": logits,
        }
        compare(result, softmax(logits), name, mistakes)


def _correct_rnn_forward(
    x: np.ndarray, h0: np.ndarray, W_xh: np.ndarray, W_hh: np.ndarray, b_h: np.ndarray
) -> np.ndarray:
    return rnn_forward(x, h0, W_xh, W_hh, b_h)[0]
