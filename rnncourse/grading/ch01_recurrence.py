"""Checks for exercise 1, recurrence: vocabulary, encoding, cell, sequence, softmax, classifier.

The notebook imports this module as ``check`` and calls ``check.<part>(<the
learner's function>)``; every check is named after the part it grades. Each
takes optional seeds, shapes or sentences, so that the hidden tests can use
inputs the learner has not seen. Shapes are (N batch, T steps, D features,
H hidden, C classes). Every check compares with the course's reference to
``core.TOLERANCE`` and names a known mistake only when that mistake, and no
correct answer, explains the result (``core.named_mistakes``).
"""

from __future__ import annotations

import copy
import string
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from rnncourse.data.text import PAD, UNK, Vocabulary, pad_batch, tokenize
from rnncourse.gradcheck import rel_error
from rnncourse.grading.core import (
    TOLERANCE,
    GradingFailure,
    check_array,
    compare,
    float64_inputs,
    run_learner_code,
    substituted,
    unchanged,
)
from rnncourse.scratch.activations import softmax as reference_softmax
from rnncourse.scratch.rnn import rnn_forward as reference_rnn_forward
from rnncourse.scratch.rnn import rnn_step_forward

VISIBLE_SENTENCES = ("The cat sat", "the dog sat down", "A cat and a dog")

_WHITE_SPACE_RULE = (
    "split each lower-cased sentence on white space only, `sentence.lower().split()`: "
    "punctuation stays part of its token, so 'world!' is one token and a lone '?' another"
)


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def _has_punctuation(tokens: Iterable[object]) -> bool:
    """Whether a real token holds punctuation (which the white-space rule keeps)."""
    return any(
        isinstance(token, str) and token not in (PAD, UNK) and any(c in string.punctuation for c in token)
        for token in tokens
    )


# -- Part 1: vocabulary --------------------------------------------------------------


def build_vocab(
    build_vocab_fn: Callable[[list[str]], dict[str, int]], sentences: Sequence[str] = VISIBLE_SENTENCES
) -> None:
    """``build_vocab(sentences)`` must return the course's vocabulary as a dict."""
    name = "build_vocab"
    expected = Vocabulary.build(sentences).index
    result = run_learner_code(build_vocab_fn, list(sentences), name=name)
    if not isinstance(result, dict):
        raise GradingFailure(f"{name} returned {type(result).__name__}; return a dict from token to index.")
    if result.get(PAD) != 0 or result.get(UNK) != 1:
        raise GradingFailure(
            f"{name}: {PAD!r} must have index 0 and {UNK!r} index 1 "
            f"(got {result.get(PAD)!r} and {result.get(UNK)!r})."
        )
    if "" in result:
        raise GradingFailure(
            f"{name}: the empty string is a token; split with `.split()` (no argument), which "
            "treats any run of spaces, tabs and newlines as one separator, not `.split(' ')`."
        )
    if any(isinstance(token, str) and token != token.lower() for token in result if token not in (PAD, UNK)):
        raise GradingFailure(f'{name}: tokens must be lower-cased ("The" and "the" are one token).')
    if set(result) != set(expected):
        missing = sorted(set(expected) - set(result))
        extra = sorted(set(result) - set(expected), key=str)
        rule = (
            _WHITE_SPACE_RULE
            if _has_punctuation(missing)
            else "split each lower-cased sentence on white space"
        )
        raise GradingFailure(f"{name}: wrong set of tokens (missing {missing}, unexpected {extra}); {rule}.")
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


def encode_and_pad(
    encode_and_pad_fn: Callable[[list[str], dict[str, int], int], tuple[np.ndarray, np.ndarray]],
    vocab_sentences: Sequence[str] = VISIBLE_SENTENCES,
    sentences: Sequence[str] = ("the cat sat down", "a bird", "The dog and a cat sat down today"),
    max_len: int = 5,
) -> None:
    """``encode_and_pad(sentences, vocab, max_len)`` -> ids (N, max_len) and lengths (N,), integers."""
    name = "encode_and_pad"
    vocabulary = Vocabulary.build(vocab_sentences)
    vocab = dict(vocabulary.index)
    expected, expected_lengths = pad_batch([vocabulary.encode(s) for s in sentences], max_len)
    result = run_learner_code(encode_and_pad_fn, list(sentences), copy.deepcopy(vocab), max_len, name=name)
    if isinstance(result, np.ndarray):
        raise GradingFailure(
            f"{name} returned one array; return two, the ids and the lengths: `return ids, lengths`."
        )
    if not isinstance(result, tuple) or len(result) != 2:
        raise GradingFailure(
            f"{name} returned {type(result).__name__}; return a pair of NumPy arrays: `return ids, lengths`."
        )
    ids, lengths = (np.asarray(part) for part in result)
    _check_ids(name, ids, expected, vocabulary, sentences, max_len)
    _check_lengths(name, lengths, expected_lengths, sentences)


def _check_ids(
    name: str,
    result: np.ndarray,
    expected: np.ndarray,
    vocabulary: Vocabulary,
    sentences: Sequence[str],
    max_len: int,
) -> None:
    if result.shape != expected.shape:
        longest = max((len(tokenize(s)) for s in sentences), default=0)
        if result.shape == (len(sentences), longest):
            raise GradingFailure(
                f"{name} returned ids of shape {result.shape}: cut sentences longer than "
                f"max_len={max_len} to their first max_len tokens, and pad the others to max_len."
            )
        raise GradingFailure(
            f"{name} returned ids of shape {result.shape}; expected {expected.shape} (sentences, max_len)."
        )
    if not np.issubdtype(result.dtype, np.integer):
        raise GradingFailure(
            f"{name} returned ids of dtype {result.dtype}; indices must be integers (e.g. np.int64)."
        )
    if np.array_equal(result, expected):
        return
    pre_padded = np.zeros_like(expected)
    kept_last = np.zeros_like(expected)
    for row, sentence in enumerate(sentences):
        ids = vocabulary.encode(sentence)
        head = ids[:max_len]
        if head:
            pre_padded[row, max_len - len(head) :] = head
        tail = ids[-max_len:] if max_len else []
        kept_last[row, : len(tail)] = tail
    if np.array_equal(result, pre_padded):
        raise GradingFailure(f"{name}: pad at the end of each sentence (after its tokens), not at the start.")
    if np.array_equal(result, kept_last):
        raise GradingFailure(f"{name}: keep the first max_len tokens of a long sentence, not the last.")
    unknown = vocabulary.index[UNK]
    unknown_positions = [
        (row, col)
        for row, sentence in enumerate(sentences)
        for col, token in enumerate(tokenize(sentence)[:max_len])
        if token not in vocabulary.index
    ]
    if any(result[row, col] != unknown for row, col in unknown_positions):
        raise GradingFailure(
            f"{name}: a word missing from the vocabulary must become {UNK!r}, index {unknown}."
        )
    hint = (
        _WHITE_SPACE_RULE
        if _has_punctuation(t for s in sentences for t in tokenize(s))
        else "lower-case and split each sentence, look every token up in vocab, then pad with 0"
    )
    raise GradingFailure(
        f"{name}: wrong indices. Expected\n{expected}\ngot\n{result}\n{hint[0].upper()}{hint[1:]}."
    )


def _check_lengths(name: str, result: np.ndarray, expected: np.ndarray, sentences: Sequence[str]) -> None:
    if result.shape != expected.shape:
        raise GradingFailure(
            f"{name} returned lengths of shape {result.shape}; expected {expected.shape}, "
            "one length per sentence."
        )
    if not np.issubdtype(result.dtype, np.integer):
        raise GradingFailure(
            f"{name} returned lengths of dtype {result.dtype}; lengths are integers (e.g. np.int64)."
        )
    if np.array_equal(result, expected):
        return
    uncut = np.array([len(tokenize(s)) for s in sentences], dtype=np.int64).reshape(expected.shape)
    if np.array_equal(result, uncut):
        raise GradingFailure(
            f"{name}: lengths count the tokens before the cut; a sentence cut to max_len has "
            "length max_len: the length is how many entries of its row are real tokens."
        )
    raise GradingFailure(
        f"{name}: wrong lengths {result.tolist()}, expected {expected.tolist()}: the length of "
        "a sentence is the number of its tokens that fit in the row (not its number of characters)."
    )


# -- Part 3: one step of the recurrence ----------------------------------------------


def _correct_cell(
    x_t: np.ndarray, h_prev: np.ndarray, W_xh: np.ndarray, W_hh: np.ndarray, b_h: np.ndarray
) -> np.ndarray:
    return rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h)[0]


def rnn_cell_forward(
    rnn_cell_forward_fn: Callable[..., np.ndarray],
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
            rnn_cell_forward_fn, p["x_t"], p["h_prev"], p["W_xh"], p["W_hh"], p["b_h"], name=name
        )
        unchanged(before, p, name)
        result = check_array(result, name, (N, H), "the new hidden state h_t (N, H)")
        x_part, h_part, b = p["x_t"] @ p["W_xh"].T, p["h_prev"] @ p["W_hh"].T, p["b_h"]
        a = x_part + h_part + b
        h_transposed = p["h_prev"] @ p["W_hh"]
        mistakes = {
            "the bias b_h is missing": np.tanh(x_part + h_part),
            "the bias b_h is added after tanh; it belongs inside, tanh(x_t W_xh^T + h_prev W_hh^T + b_h)": np.tanh(
                x_part + h_part
            )
            + b,
            "no activation: apply tanh to the pre-activation": a,
            "the activation is clipped to [-1, 1]; use np.tanh, which squashes smoothly": np.clip(
                a, -1.0, 1.0
            ),
            "the activation should be tanh, not ReLU": np.maximum(a, 0),
            "the activation should be tanh, not sigmoid": _sigmoid(a),
            "the previous hidden state h_prev is ignored (W_hh @ h_prev is missing)": np.tanh(x_part + b),
            "the input x_t is ignored (W_xh @ x_t is missing)": np.tanh(h_part + b),
            # W_hh is square, so a transposed W_hh never fails on shape; W_xh only when D == H.
            "W_hh is transposed: for rows, the recurrent term is h_prev @ W_hh.T": np.tanh(
                x_part + h_transposed + b
            ),
        }
        if D == H:
            x_transposed = p["x_t"] @ p["W_xh"]
            mistakes["W_xh is transposed: it has shape (H, D), so use x_t @ W_xh.T"] = np.tanh(
                x_transposed + h_part + b
            )
            mistakes["both weights are transposed: use x_t @ W_xh.T and h_prev @ W_hh.T"] = np.tanh(
                x_transposed + h_transposed + b
            )
        compare(result, _correct_cell(p["x_t"], p["h_prev"], p["W_xh"], p["W_hh"], p["b_h"]), name, mistakes)


# -- Part 4: the recurrence over a sequence ------------------------------------------


def _correct_rnn_forward(
    x: np.ndarray, h0: np.ndarray, W_xh: np.ndarray, W_hh: np.ndarray, b_h: np.ndarray
) -> np.ndarray:
    return reference_rnn_forward(x, h0, W_xh, W_hh, b_h)[0]


def rnn_forward(
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
        if isinstance(result, np.ndarray) and result.shape == (N, H) and T != 1:
            raise GradingFailure(
                f"{name} returned only one state (N, H); return every hidden state, shape (N, T, H)."
            )
        result = check_array(result, name, (N, T, H), "the hidden states h_1..h_T (N, T, H)")
        expected = _correct_rnn_forward(p["x"], p["h0"], p["W_xh"], p["W_hh"], p["b_h"])
        from_h0_every_step = np.stack(
            [_correct_cell(p["x"][:, t], p["h0"], p["W_xh"], p["W_hh"], p["b_h"]) for t in range(T)], axis=1
        )
        from_zero = _correct_rnn_forward(p["x"], np.zeros_like(p["h0"]), p["W_xh"], p["W_hh"], p["b_h"])
        mistakes = {
            "every step starts again from h0; feed each new state into the next step": from_h0_every_step,
            "the given h0 is ignored (the loop starts from zeros)": from_zero,
            "the states are shifted by one step: you returned h_0..h_{T-1}; store each state "
            "after computing it, and leave h0 out": np.concatenate(
                [p["h0"][:, None], expected[:, :-1]], axis=1
            ),
            "the states are in reverse order": expected[:, ::-1],
        }
        if T == N:
            mistakes["the states are stacked on axis 0, shape (T, N, H); stack them on axis 1"] = (
                expected.transpose(1, 0, 2)
            )
        compare(result, expected, name, mistakes)


# -- Part 5: softmax -----------------------------------------------------------------

#: Rows of very different scales side by side: a shift that is not each
#: row's own maximum overflows or underflows on one of them.
MIXED_SCALES = np.array(
    [
        [1000.0, 1001.0, 999.0],
        [-1e-3, 0.0, 1e-3],
        [-1000.0, -1001.0, -999.5],
        [-800.0, 0.0, 800.0],
    ]
)


def _softmax_variants(logits: np.ndarray) -> dict[str, np.ndarray]:
    """What the unsafe ways of computing softmax return; NaN where they break."""
    with np.errstate(all="ignore"):
        unshifted = np.exp(logits)
        global_max = np.exp(logits - logits.max())
        mean_shift = np.exp(logits - logits.mean(axis=-1, keepdims=True))
        return {
            "exp overflows (inf/inf) or underflows (0/0) without a shift. Subtract each row's "
            "maximum from the logits before exp (the result does not change)": unshifted
            / unshifted.sum(axis=-1, keepdims=True),
            "it subtracts the maximum of the whole array: a row far below that maximum underflows "
            "to 0/0. Subtract each row's own maximum, logits.max(axis=-1, keepdims=True)": global_max
            / global_max.sum(axis=-1, keepdims=True),
            "it subtracts each row's mean: exp still overflows when a row's scores spread far "
            "(e.g. [-800, 0, 800]). Subtract each row's maximum instead": mean_shift
            / mean_shift.sum(axis=-1, keepdims=True),
        }


def _same_breakdown(result: np.ndarray, variant: np.ndarray) -> bool:
    """Whether ``result`` is NaN/inf exactly where ``variant`` is, and equal elsewhere."""
    if result.shape != variant.shape:
        return False
    bad = ~np.isfinite(variant)
    if not np.array_equal(bad, ~np.isfinite(result)) or not bad.any():
        return False
    return rel_error(np.where(bad, 0.0, result), np.where(bad, 0.0, variant)) < TOLERANCE


def softmax(
    softmax_fn: Callable[[np.ndarray], np.ndarray],
    seed: int = 200,
    shapes: Sequence[tuple[int, int]] = ((4, 3), (2, 5)),
    logits: Sequence[np.ndarray] = (MIXED_SCALES,),
) -> None:
    """``softmax(logits)`` over the last axis of (N, C), safe for logits of any scale.

    For every (N, C) in ``shapes`` it tries ordinary logits and logits around
    +1000 and -1000; then each array of ``logits`` as given (rows of very
    different scales, where shifts other than each row's maximum break).
    """
    name = "softmax"
    rng = np.random.default_rng(seed)
    cases = []
    for N, C in shapes:
        cases += [
            ("ordinary logits", rng.normal(size=(N, C))),
            ("large logits (around 1000)", 1000.0 + 5.0 * rng.normal(size=(N, C))),
            ("very negative logits (around -1000)", -1000.0 + 5.0 * rng.normal(size=(N, C))),
        ]
    cases += [("rows of very different scales", np.array(z, dtype=np.float64)) for z in logits]
    for description, z in cases:
        before = {"logits": z.copy()}
        with np.errstate(all="ignore"):
            result = run_learner_code(softmax_fn, z, name=name)
        unchanged(before, {"logits": z}, name)
        if isinstance(result, np.ndarray) and result.shape == z.shape and not np.all(np.isfinite(result)):
            for mistake, variant in _softmax_variants(z).items():
                if _same_breakdown(result, variant):
                    raise GradingFailure(f"{name} returns NaN or inf for {description}: {mistake}.")
            raise GradingFailure(
                f"{name} returns NaN or inf for {description}. Subtract each row's maximum from "
                "the logits before exp; then the largest exponential is exactly 1 and the sum is at least 1."
            )
        result = check_array(result, name, z.shape, "probabilities (N, C)")
        expected = reference_softmax(z)
        with np.errstate(all="ignore"):
            over_rows = reference_softmax(z, axis=0)
            everything = np.exp(z - z.max())
            everything = everything / everything.sum()
        log_softmax = z - z.max(axis=-1, keepdims=True)
        log_softmax = log_softmax - np.log(np.exp(log_softmax).sum(axis=-1, keepdims=True))
        compare(
            result,
            expected,
            name,
            {
                "softmax is taken over axis 0 (the batch); take it over the last axis, the classes": over_rows,
                "everything is normalised together; normalise each row on its own (sum over axis=-1, keepdims=True)": everything,
                "these are log-probabilities (log-softmax); return the probabilities themselves, "
                "exp(z - max) / sum(exp(z - max))": log_softmax,
            },
        )


# -- Part 6: many-to-one classifier of padded sentences ------------------------------


def _last_real_states(h: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    return h[np.arange(h.shape[0]), lengths - 1]


def classify(
    classify_fn: Callable[..., np.ndarray],
    seed: int = 300,
    cases: Sequence[tuple[Sequence[int], int, int, int, int]] = (
        ((3, 1, 4), 5, 3, 5, 3),
        ((4, 2, 1, 3), 4, 2, 4, 2),
    ),
) -> None:
    """``classify(x, lengths, h0, W_xh, W_hh, b_h, W_hy, b_y)`` -> class probabilities (N, C).

    ``cases`` lists (lengths, T, D, H, C): a padded batch of N = len(lengths)
    sequences of T steps, sequence n real for its first lengths[n] steps
    (1 <= lengths[n] <= T). The inputs at the padded steps are not zero, as
    the embedding of ``<pad>`` is not: a state read after them is wrong.
    While it runs, the learner's own ``rnn_forward``, ``rnn_cell_forward``
    and ``softmax`` are replaced by correct ones.
    """
    for case, (lengths, T, D, H, C) in enumerate(cases):
        _classify_case(classify_fn, seed + case, lengths, T, D, H, C)


def _classify_case(
    classify_fn: Callable[..., np.ndarray],
    seed: int,
    lengths_given: Sequence[int],
    T: int,
    D: int,
    H: int,
    C: int,
) -> None:
    name = "classify"
    lengths = np.array(lengths_given, dtype=np.int64)
    N = len(lengths)
    if N == 0 or lengths.min() < 1 or lengths.max() > T:
        raise ValueError(f"lengths must lie in 1..T={T}, got {lengths.tolist()}")
    p = float64_inputs(
        seed, x=(N, T, D), h0=(N, H), W_xh=(H, D), W_hh=(H, H), b_h=(H,), W_hy=(C, H), b_y=(C,)
    )
    p["lengths"] = lengths
    before = copy.deepcopy(p)
    args = (p["x"], p["lengths"], p["h0"], p["W_xh"], p["W_hh"], p["b_h"], p["W_hy"], p["b_y"])
    replacements: dict[str, Callable[..., np.ndarray]] = {
        "rnn_forward": _correct_rnn_forward,
        "softmax": reference_softmax,
        "rnn_cell_forward": _correct_cell,
    }
    with substituted(classify_fn, replacements):
        try:
            result = run_learner_code(classify_fn, *args, name=name, allowed=tuple(replacements.values()))
        except GradingFailure as failure:
            if isinstance(failure.__cause__, IndexError):
                raise GradingFailure(
                    f"{failure} The last real token of a sequence of length L is at index L - 1: "
                    "you may have used lengths off by one."
                ) from failure
            raise
    unchanged(before, p, name)
    if isinstance(result, np.ndarray) and result.shape == (N, T, C) and T != N:
        raise GradingFailure(
            f"{name} returned a prediction for every step (N, T, C); classify each sequence once, "
            "from its state at its last real token."
        )
    if isinstance(result, np.ndarray) and result.shape == (N, N, C) and N > 1:
        raise GradingFailure(
            f"{name} returned shape (N, N, C) = {result.shape}: `h[:, lengths - 1]` picks every "
            "sequence's state at every length. Index both axes: h[np.arange(N), lengths - 1]"
            + (" (or, since T = N here, you returned a prediction for every step)." if T == N else ".")
        )
    result = check_array(result, name, (N, C), "class probabilities (N, C)")
    W_hy, b_y = p["W_hy"], p["b_y"]
    h = _correct_rnn_forward(p["x"], p["h0"], p["W_xh"], p["W_hh"], p["b_h"])

    def probabilities(states: np.ndarray) -> np.ndarray:
        """What a classifier that reads ``states`` (N, H) would return, (N, C)."""
        return reference_softmax(states @ W_hy.T + b_y)

    last = _last_real_states(h, lengths)
    mistakes = {
        "read the state after the padding: h[:, -1] is the state after the last padded step. "
        "Read each sequence's state at its last real token, h[np.arange(N), lengths - 1]": probabilities(
            h[:, -1]
        ),
        "used lengths off by one: a sequence of length L ends at index L - 1, so its last "
        "state is h[n, lengths[n] - 1], not h[n, lengths[n] - 2]": probabilities(
            _last_real_states(h, lengths - 1)
        ),
        "the prediction uses the first hidden state h_1; use the state at the last real token": probabilities(
            h[:, 0]
        ),
        "the prediction uses the mean of the hidden states; use the state at the last real token": probabilities(
            h.mean(axis=1)
        ),
        "the output bias b_y is missing": reference_softmax(last @ W_hy.T),
        "these are logits: apply softmax to get probabilities": last @ W_hy.T + b_y,
    }
    if lengths.max() < T:
        mistakes[
            "used lengths off by one: a sequence of length L ends at index L - 1, so its last state "
            "is h[n, lengths[n] - 1], not h[n, lengths[n]]"
        ] = probabilities(h[np.arange(N), lengths])
    compare(result, probabilities(last), name, mistakes)
