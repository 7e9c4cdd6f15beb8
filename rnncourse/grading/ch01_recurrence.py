"""Checks for exercise 1, recurrence: vocabulary, encoding, cell, sequence, softmax, classifier.

``PARTS`` lists the six parts (``parts.Part``): the nbgrader test cell each
scores, the learner's function, the deterministic visible cases, how to draw
each hidden case (its shapes and edge cases fixed here, its values drawn from
the instructor's secret at grading time) and ``verify``, which the autograder
runs outside the sandbox on what the function returned. The notebook imports
this module as ``check`` and calls ``check.<part>(<the learner's function>)``
for the visible cases, with the same ``verify`` run in the learner's kernel
(``parts.run_part_in_process``), so a message reads the same in the lab and
in the feedback. Each check also takes its own seeds, shapes or sentences
(custom visible cases).

Shapes are (N batch, T steps, D features, H hidden, C classes). Every check
compares with the course's reference to ``core.TOLERANCE`` and names a known
mistake only when that mistake, and no correct answer, explains the result
(``core.named_mistakes``). Messages about a hidden case never show its
inputs or expected values.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from rnncourse.data.text import PAD, UNK, Vocabulary, pad_batch, tokenize
from rnncourse.gradcheck import rel_error
from rnncourse.grading import core, parts
from rnncourse.grading.substitutes import ch01_recurrence as correct
from rnncourse.grading.substitutes import source_of
from rnncourse.scratch.activations import sigmoid
from rnncourse.scratch.activations import softmax as reference_softmax
from rnncourse.scratch.rnn import rnn_forward as reference_rnn_forward
from rnncourse.scratch.rnn import rnn_step_forward

VISIBLE_SENTENCES = ("The cat sat", "the dog sat down", "A cat and a dog")

_WHITE_SPACE_RULE = (
    "split each lower-cased sentence on white space only, `sentence.lower().split()`: "
    "punctuation stays part of its token, so 'yes!' is one token and a lone '?' another"
)


def _has_punctuation(tokens: Iterable[object]) -> bool:
    """Whether a real token holds punctuation (which the white-space rule keeps)."""
    return any(
        isinstance(token, str) and token not in (PAD, UNK) and any(c in string.punctuation for c in token)
        for token in tokens
    )


# -- Hidden sentences: drawn words, with the features each case is about -------------

#: Words the hidden sentences are drawn from (lower case; a draw may capitalise them).
_WORD_LIST = (
    "apple banana cherry dog cat bird fish horse mouse tiger zebra river mountain cloud rain "
    "sun moon star tree leaf stone sand water fire wind green red blue small large quick slow "
    "happy quiet loud early late run jump swim read write sing dance walk talk think know see"
)
WORDS = tuple(_WORD_LIST.split())
#: Words never in a hidden vocabulary: the unknown ones.
UNKNOWN_WORDS = ("xylophone", "quasar", "nebula", "walrus", "origami", "tundra", "lagoon", "cobalt")
PUNCTUATION = ("?", "!", ",", ".", ";", ":")


def _cased(rng: np.random.Generator, word: str) -> str:
    """``word`` as written: lower case, capitalised or upper case, at random."""
    return (word, word.capitalize(), word.upper())[int(rng.integers(3))]


def _odd_spaces(rng: np.random.Generator, tokens: Sequence[str]) -> str:
    """``tokens`` in one sentence, with tabs and runs of spaces between them and around them."""
    text = tokens[0]
    for token in tokens[1:]:
        text += ("  ", "\t", " \t ", "   ")[int(rng.integers(4))] + token
    return (" " if rng.random() < 0.5 else "") + text + ("\t" if rng.random() < 0.5 else "")


def _draw_words(rng: np.random.Generator, count: int) -> list[str]:
    return [str(word) for word in rng.choice(WORDS, size=count, replace=False)]


def _mixed_case_sentences(rng: np.random.Generator) -> list[str]:
    """Words repeated in other cases, tabs and runs of spaces, and one empty sentence."""
    words = _draw_words(rng, 5)
    sentences = []
    for _ in range(3):
        tokens = [_cased(rng, str(w)) for w in rng.choice(words, size=int(rng.integers(3, 6)))]
        sentences.append(_odd_spaces(rng, tokens))
    sentences.insert(int(rng.integers(1, 4)), "")
    return sentences


def _first_appearance_sentences(rng: np.random.Generator) -> list[str]:
    """New words first seen in a non-alphabetical order, between words seen before, then one in capitals."""
    order = _draw_words(rng, 5)
    while order == sorted(order):
        rng.shuffle(order)
    first, second, third, fourth, fifth = order
    return [
        f"{first} {second}",
        f"{third} {second} {first} {fourth}",
        f"{fourth} {fifth} {third}",
        first.upper(),
    ]


def _punctuated_sentences(rng: np.random.Generator, count: int = 3) -> list[str]:
    """Punctuation glued to words ("hello,") and alone ("?"), which the white-space rule keeps."""
    sentences = []
    for _ in range(count):
        tokens = [_cased(rng, w) for w in _draw_words(rng, int(rng.integers(2, 5)))]
        glued = int(rng.integers(len(tokens)))
        tokens[glued] += str(rng.choice(PUNCTUATION))
        if rng.random() < 0.6:
            tokens.append(str(rng.choice(PUNCTUATION)))
        sentences.append(" ".join(tokens))
    sentences.append(" ".join(w.rstrip("".join(PUNCTUATION)) for w in sentences[0].split()[:2]))
    return sentences


# -- Part 1: vocabulary --------------------------------------------------------------


def vocab_cases(sentences: Sequence[str], name: str | None = None) -> list[parts.Case]:
    """One case: ``build_vocab(sentences)``."""
    return [parts.Case(name or f"{len(sentences)} sentences", (list(sentences),))]


def _visible_vocab() -> list[parts.Case]:
    return vocab_cases(VISIBLE_SENTENCES)


_HIDDEN_VOCAB: dict[str, parts.Draw] = {
    "mixed case, tabs, repeated spaces and an empty sentence": lambda rng: (_mixed_case_sentences(rng),),
    "order of first appearance": lambda rng: (_first_appearance_sentences(rng),),
    "punctuation": lambda rng: (_punctuated_sentences(rng),),
    "no sentences": lambda rng: ([],),
}


@parts.verifier
def _verify_vocab(case: parts.Case, result: object) -> None:
    name = "build_vocab"
    parts.raise_if_error(name, result, case)
    expected = Vocabulary.build(case.args[0]).index
    if not isinstance(result, dict):
        raise core.GradingFailure(
            f"{name} returned {core.type_name(result)}; return a dict from token to index."
        )
    if result.get(PAD) != 0 or result.get(UNK) != 1:
        raise core.GradingFailure(
            f"{name}: {PAD!r} must have index 0 and {UNK!r} index 1 "
            f"(got {result.get(PAD)!r} and {result.get(UNK)!r})."
        )
    if "" in result:
        raise core.GradingFailure(
            f"{name}: the empty string is a token; split with `.split()` (no argument), which "
            "treats any run of spaces, tabs and newlines as one separator, not `.split(' ')`."
        )
    if any(isinstance(token, str) and token != token.lower() for token in result if token not in (PAD, UNK)):
        raise core.GradingFailure(f'{name}: tokens must be lower-cased ("The" and "the" are one token).')
    if set(result) != set(expected):
        missing = sorted(set(expected) - set(result))
        rule = (
            _WHITE_SPACE_RULE
            if _has_punctuation(missing)
            else "split each lower-cased sentence on white space"
        )
        if case.hidden:
            raise core.GradingFailure(f"{name}: wrong set of tokens; {rule}.")
        extra = sorted(set(result) - set(expected), key=str)
        raise core.GradingFailure(
            f"{name}: wrong set of tokens (missing {missing}, unexpected {extra}); {rule}."
        )
    indices = list(result.values())
    if not all(type(index) is int for index in indices) or sorted(indices) != list(range(len(expected))):
        raise core.GradingFailure(
            f"{name}: indices must be 0, 1, ..., {len(expected) - 1} with no gaps or repeats; "
            "give a token an index only the first time you see it."
        )
    if result != expected:
        raise core.GradingFailure(
            f"{name}: indices are in the wrong order; number tokens in order of first "
            "appearance, sentence by sentence, word by word (not alphabetically)."
        )


BUILD_VOCAB = parts.Part(
    grade_id="test_build_vocab",
    function="build_vocab",
    title="Part 1: the vocabulary",
    points=2,
    visible=_visible_vocab,
    verify=_verify_vocab,
    hidden=_HIDDEN_VOCAB,
    parameters=("sentences",),
)


def build_vocab(
    build_vocab_fn: Callable[[list[str]], dict[str, int]], sentences: Sequence[str] | None = None
) -> None:
    """``build_vocab(sentences)`` must return the course's vocabulary as a dict.

    Runs the visible cases, or one case of your own ``sentences``.
    """
    cases = None if sentences is None else vocab_cases(sentences)
    parts.run_part_in_process(BUILD_VOCAB, build_vocab_fn, cases=cases)


# -- Part 2: encoding and padding ----------------------------------------------------

_VISIBLE_ENCODE = (VISIBLE_SENTENCES, ("the cat sat down", "a bird", "The dog and a cat sat down today"), 5)


def encode_cases(
    vocab_sentences: Sequence[str], sentences: Sequence[str], max_len: int, name: str | None = None
) -> list[parts.Case]:
    """One case: ``encode_and_pad(sentences, vocab, max_len)`` with the vocabulary of ``vocab_sentences``."""
    vocab = dict(Vocabulary.build(vocab_sentences).index)
    name = name or f"{len(sentences)} sentences, max_len {max_len}"
    return [parts.Case(name, (list(sentences), vocab, max_len))]


def _visible_encode() -> list[parts.Case]:
    return encode_cases(*_VISIBLE_ENCODE)


def _encode_args(vocab_sentences: Sequence[str], sentences: Sequence[str], max_len: int) -> tuple[Any, ...]:
    return encode_cases(vocab_sentences, sentences, max_len)[0].args


def _long_and_unknown(rng: np.random.Generator) -> tuple[Any, ...]:
    """Sentences longer than max_len, in other cases, with unknown words, and an empty one."""
    known = _draw_words(rng, 8)
    vocab_sentences = [" ".join(known[i : i + 3]) for i in range(0, 8, 3)]
    max_len = int(rng.integers(4, 7))
    long = [_cased(rng, str(w)) for w in rng.choice(known, size=max_len + int(rng.integers(1, 4)))]
    long.insert(int(rng.integers(len(long))), str(rng.choice(UNKNOWN_WORDS)))
    short = [_cased(rng, str(w)) for w in rng.choice(known, size=int(rng.integers(1, 3)))]
    sentences = [" ".join(long), "", " ".join([*short, str(rng.choice(UNKNOWN_WORDS))]), str(known[0])]
    return _encode_args(vocab_sentences, sentences, max_len)


def _punctuated_encode(rng: np.random.Generator) -> tuple[Any, ...]:
    vocab_sentences = _punctuated_sentences(rng, 2)
    tokens = [t for s in vocab_sentences for t in s.lower().split()]
    sentences = []
    for _ in range(3):
        chosen = [_cased(rng, str(t)) for t in rng.choice(tokens, size=int(rng.integers(2, 5)))]
        sentences.append(" ".join(chosen))
    sentences[-1] += " " + str(rng.choice(UNKNOWN_WORDS)) + str(rng.choice(PUNCTUATION))
    return _encode_args(vocab_sentences, sentences, int(rng.integers(3, 5)))


def _one_token_rows(rng: np.random.Generator) -> tuple[Any, ...]:
    known = _draw_words(rng, 3)
    sentences = [" ".join(str(w) for w in rng.permutation(known)), str(rng.choice(UNKNOWN_WORDS))]
    return _encode_args([" ".join(known)], sentences, 1)


_HIDDEN_ENCODE: dict[str, parts.Draw] = {
    "long sentences, unknown words and an empty sentence": _long_and_unknown,
    "punctuation": _punctuated_encode,
    "max_len 1 and an unknown word": _one_token_rows,
}


@parts.verifier
def _verify_encode(case: parts.Case, result: object) -> None:
    name = "encode_and_pad"
    parts.raise_if_error(name, result, case)
    sentences, vocab, max_len = case.args
    vocabulary = Vocabulary(sorted(vocab, key=vocab.get))
    expected, expected_lengths = pad_batch([vocabulary.encode(s) for s in sentences], max_len)
    if isinstance(result, np.ndarray):
        raise core.GradingFailure(
            f"{name} returned one array; return two, the ids and the lengths: `return ids, lengths`."
        )
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise core.GradingFailure(
            f"{name} returned {core.type_name(result)}; return a pair of NumPy arrays: `return ids, lengths`."
        )
    ids, lengths = (np.asarray(part) for part in result)
    _check_ids(name, ids, expected, vocabulary, sentences, max_len, case.hidden)
    _check_lengths(name, lengths, expected_lengths, sentences, case.hidden)


def _check_ids(
    name: str,
    result: np.ndarray,
    expected: np.ndarray,
    vocabulary: Vocabulary,
    sentences: Sequence[str],
    max_len: int,
    hidden: bool,
) -> None:
    if result.shape != expected.shape:
        longest = max((len(tokenize(s)) for s in sentences), default=0)
        if result.shape == (len(sentences), longest):
            raise core.GradingFailure(
                f"{name} returned ids of shape {result.shape}: cut sentences longer than "
                f"max_len={max_len} to their first max_len tokens, and pad the others to max_len."
            )
        raise core.GradingFailure(
            f"{name} returned ids of shape {result.shape}; expected {expected.shape} (sentences, max_len)."
        )
    if not np.issubdtype(result.dtype, np.integer):
        raise core.GradingFailure(
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
        raise core.GradingFailure(
            f"{name}: pad at the end of each sentence (after its tokens), not at the start."
        )
    if np.array_equal(result, kept_last):
        raise core.GradingFailure(f"{name}: keep the first max_len tokens of a long sentence, not the last.")
    unknown = vocabulary.index[UNK]
    unknown_positions = [
        (row, col)
        for row, sentence in enumerate(sentences)
        for col, token in enumerate(tokenize(sentence)[:max_len])
        if token not in vocabulary.index
    ]
    if any(result[row, col] != unknown for row, col in unknown_positions):
        raise core.GradingFailure(
            f"{name}: a word missing from the vocabulary must become {UNK!r}, index {unknown}."
        )
    hint = (
        _WHITE_SPACE_RULE
        if _has_punctuation(t for s in sentences for t in tokenize(s))
        else "lower-case and split each sentence, look every token up in vocab, then pad with 0"
    )
    if hidden:
        raise core.GradingFailure(f"{name}: wrong indices. {hint[0].upper()}{hint[1:]}.")
    raise core.GradingFailure(
        f"{name}: wrong indices. Expected\n{expected}\ngot\n{result}\n{hint[0].upper()}{hint[1:]}."
    )


def _check_lengths(
    name: str, result: np.ndarray, expected: np.ndarray, sentences: Sequence[str], hidden: bool
) -> None:
    if result.shape != expected.shape:
        raise core.GradingFailure(
            f"{name} returned lengths of shape {result.shape}; expected {expected.shape}, "
            "one length per sentence."
        )
    if not np.issubdtype(result.dtype, np.integer):
        raise core.GradingFailure(
            f"{name} returned lengths of dtype {result.dtype}; lengths are integers (e.g. np.int64)."
        )
    if np.array_equal(result, expected):
        return
    uncut = np.array([len(tokenize(s)) for s in sentences], dtype=np.int64).reshape(expected.shape)
    if np.array_equal(result, uncut):
        raise core.GradingFailure(
            f"{name}: lengths count the tokens before the cut; a sentence cut to max_len has "
            "length max_len: the length is how many entries of its row are real tokens."
        )
    values = "" if hidden else f" {result.tolist()}, expected {expected.tolist()}"
    raise core.GradingFailure(
        f"{name}: wrong lengths{values}: the length of a sentence is the number of its tokens "
        "that fit in the row (not its number of characters)."
    )


ENCODE_AND_PAD = parts.Part(
    grade_id="test_encode_and_pad",
    function="encode_and_pad",
    title="Part 2: encoding and padding",
    points=2,
    visible=_visible_encode,
    verify=_verify_encode,
    hidden=_HIDDEN_ENCODE,
    parameters=("sentences", "vocab", "max_len"),
)


def encode_and_pad(
    encode_and_pad_fn: Callable[[list[str], dict[str, int], int], tuple[np.ndarray, np.ndarray]],
    vocab_sentences: Sequence[str] | None = None,
    sentences: Sequence[str] | None = None,
    max_len: int | None = None,
) -> None:
    """``encode_and_pad(sentences, vocab, max_len)`` -> ids (N, max_len) and lengths (N,), integers.

    Runs the visible case, or one case of your own (what is not given is the visible case's).
    """
    cases = None
    if vocab_sentences is not None or sentences is not None or max_len is not None:
        default_vocab, default_sentences, default_max_len = _VISIBLE_ENCODE
        cases = encode_cases(
            default_vocab if vocab_sentences is None else vocab_sentences,
            default_sentences if sentences is None else sentences,
            default_max_len if max_len is None else max_len,
        )
    parts.run_part_in_process(ENCODE_AND_PAD, encode_and_pad_fn, cases=cases)


# -- Part 3: one step of the recurrence ----------------------------------------------

_VISIBLE_CELL_SEED, _VISIBLE_CELL_SHAPES = 0, ((3, 4, 5), (2, 6, 6))
_HIDDEN_CELL_SHAPES = {
    "all sizes 1": (1, 1, 1),
    "more hidden units than inputs": (5, 3, 7),
    "square weights, D = H": (4, 8, 8),
    "one example, many inputs": (1, 10, 2),
    "one hidden unit": (3, 2, 1),
}


def cell_cases(seed: int, shapes: Sequence[tuple[int, int, int]]) -> list[parts.Case]:
    """``rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h)`` for each (N, D, H), case i drawn with seed + i."""
    cases = []
    for i, (N, D, H) in enumerate(shapes):
        p = core.float64_inputs(seed + i, x_t=(N, D), h_prev=(N, H), W_xh=(H, D), W_hh=(H, H), b_h=(H,))
        cases.append(
            parts.Case(f"N={N}, D={D}, H={H}", (p["x_t"], p["h_prev"], p["W_xh"], p["W_hh"], p["b_h"]))
        )
    return cases


def _visible_cell() -> list[parts.Case]:
    return cell_cases(_VISIBLE_CELL_SEED, _VISIBLE_CELL_SHAPES)


def _correct_cell(
    x_t: np.ndarray, h_prev: np.ndarray, W_xh: np.ndarray, W_hh: np.ndarray, b_h: np.ndarray
) -> np.ndarray:
    return rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h)[0]


@parts.verifier
def _verify_cell(case: parts.Case, result: object) -> None:
    name = "rnn_cell_forward"
    parts.raise_if_error(name, result, case)
    x_t, h_prev, W_xh, W_hh, b_h = case.args
    (N, D), H = x_t.shape, W_hh.shape[0]
    result = core.check_array(result, name, (N, H), "the new hidden state h_t (N, H)")
    x_part, h_part, b = x_t @ W_xh.T, h_prev @ W_hh.T, b_h
    a = x_part + h_part + b
    h_transposed = h_prev @ W_hh
    mistakes = {
        "the bias b_h is missing": np.tanh(x_part + h_part),
        "the bias b_h is added after tanh; it belongs inside, tanh(x_t W_xh^T + h_prev W_hh^T + b_h)": np.tanh(
            x_part + h_part
        )
        + b,
        "no activation: apply tanh to the pre-activation": a,
        "the activation is clipped to [-1, 1]; use np.tanh, which squashes smoothly": np.clip(a, -1.0, 1.0),
        "the activation should be tanh, not ReLU": np.maximum(a, 0),
        "the activation should be tanh, not sigmoid": sigmoid(a),
        "the previous hidden state h_prev is ignored (W_hh @ h_prev is missing)": np.tanh(x_part + b),
        "the input x_t is ignored (W_xh @ x_t is missing)": np.tanh(h_part + b),
        # W_hh is square, so a transposed W_hh never fails on shape; W_xh only when D == H.
        "W_hh is transposed: for rows, the recurrent term is h_prev @ W_hh.T": np.tanh(
            x_part + h_transposed + b
        ),
    }
    if D == H:
        x_transposed = x_t @ W_xh
        mistakes["W_xh is transposed: it has shape (H, D), so use x_t @ W_xh.T"] = np.tanh(
            x_transposed + h_part + b
        )
        mistakes["both weights are transposed: use x_t @ W_xh.T and h_prev @ W_hh.T"] = np.tanh(
            x_transposed + h_transposed + b
        )
    core.compare(result, _correct_cell(x_t, h_prev, W_xh, W_hh, b_h), name, mistakes)


RNN_CELL_FORWARD = parts.Part(
    grade_id="test_rnn_cell_forward",
    function="rnn_cell_forward",
    title="Part 3: one step of the recurrence",
    points=3,
    visible=_visible_cell,
    verify=_verify_cell,
    hidden=parts.hidden_from(cell_cases, _HIDDEN_CELL_SHAPES),
    parameters=("x_t", "h_prev", "W_xh", "W_hh", "b_h"),
)


def rnn_cell_forward(
    rnn_cell_forward_fn: Callable[..., np.ndarray],
    seed: int | None = None,
    shapes: Sequence[tuple[int, int, int]] | None = None,
) -> None:
    """``rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h)`` -> h_t of shape (N, H).

    Runs the visible cases, or cases of your own: ``shapes`` lists (N, D, H); include one with D == H, where a
    transposed weight does not fail on shape and has to be recognised by its values.
    """
    cases = None
    if seed is not None or shapes is not None:
        cases = cell_cases(
            _VISIBLE_CELL_SEED if seed is None else seed, _VISIBLE_CELL_SHAPES if shapes is None else shapes
        )
    parts.run_part_in_process(RNN_CELL_FORWARD, rnn_cell_forward_fn, cases=cases)


# -- Part 4: the recurrence over a sequence ------------------------------------------

_VISIBLE_SEQUENCE_SEED, _VISIBLE_SEQUENCE_SHAPES = 100, ((2, 3, 4, 5), (3, 1, 2, 2))
_HIDDEN_SEQUENCE_SHAPES = {
    "all sizes 1": (1, 1, 1, 1),
    "7 steps": (3, 7, 2, 5),
    "12 steps, D = H": (2, 12, 4, 4),
    "4 sequences of 3 steps": (4, 3, 6, 3),
    "N = T, one hidden unit": (3, 3, 2, 1),
}


def sequence_cases(seed: int, shapes: Sequence[tuple[int, int, int, int]]) -> list[parts.Case]:
    """``rnn_forward(x, h0, W_xh, W_hh, b_h)`` for each (N, T, D, H), case i drawn with seed + i."""
    cases = []
    for i, (N, T, D, H) in enumerate(shapes):
        p = core.float64_inputs(seed + i, x=(N, T, D), h0=(N, H), W_xh=(H, D), W_hh=(H, H), b_h=(H,))
        cases.append(
            parts.Case(f"N={N}, T={T}, D={D}, H={H}", (p["x"], p["h0"], p["W_xh"], p["W_hh"], p["b_h"]))
        )
    return cases


def _visible_sequence() -> list[parts.Case]:
    return sequence_cases(_VISIBLE_SEQUENCE_SEED, _VISIBLE_SEQUENCE_SHAPES)


def _correct_rnn_forward(
    x: np.ndarray, h0: np.ndarray, W_xh: np.ndarray, W_hh: np.ndarray, b_h: np.ndarray
) -> np.ndarray:
    return reference_rnn_forward(x, h0, W_xh, W_hh, b_h)[0]


@parts.verifier
def _verify_sequence(case: parts.Case, result: object) -> None:
    name = "rnn_forward"
    parts.raise_if_error(name, result, case)
    x, h0, W_xh, W_hh, b_h = case.args
    (N, T, _), H = x.shape, W_hh.shape[0]
    if isinstance(result, np.ndarray) and result.shape == (N, T + 1, H):
        raise core.GradingFailure(f"{name} returned T+1 states: return h_1..h_T, without h0.")
    if isinstance(result, np.ndarray) and result.shape == (T, N, H) and T != N:
        raise core.GradingFailure(
            f"{name} returned shape (T, N, H) = {result.shape}; stack the states on axis 1 to get (N, T, H)."
        )
    if isinstance(result, np.ndarray) and result.shape == (N, H) and T != 1:
        raise core.GradingFailure(
            f"{name} returned only one state (N, H); return every hidden state, shape (N, T, H)."
        )
    result = core.check_array(result, name, (N, T, H), "the hidden states h_1..h_T (N, T, H)")
    expected = _correct_rnn_forward(x, h0, W_xh, W_hh, b_h)
    from_h0_every_step = np.stack([_correct_cell(x[:, t], h0, W_xh, W_hh, b_h) for t in range(T)], axis=1)
    from_zero = _correct_rnn_forward(x, np.zeros_like(h0), W_xh, W_hh, b_h)
    mistakes = {
        "every step starts again from h0; feed each new state into the next step": from_h0_every_step,
        "the given h0 is ignored (the loop starts from zeros)": from_zero,
        "the states are shifted by one step: you returned h_0..h_{T-1}; store each state "
        "after computing it, and leave h0 out": np.concatenate([h0[:, None], expected[:, :-1]], axis=1),
        "the states are in reverse order": expected[:, ::-1],
    }
    if T == N:
        mistakes["the states are stacked on axis 0, shape (T, N, H); stack them on axis 1"] = (
            expected.transpose(1, 0, 2)
        )
    core.compare(result, expected, name, mistakes)


RNN_FORWARD = parts.Part(
    grade_id="test_rnn_forward",
    function="rnn_forward",
    title="Part 4: the recurrence over a sequence",
    points=3,
    visible=_visible_sequence,
    verify=_verify_sequence,
    hidden=parts.hidden_from(sequence_cases, _HIDDEN_SEQUENCE_SHAPES),
    substitutes={"rnn_cell_forward": source_of(correct.rnn_cell_forward)},
    parameters=("x", "h0", "W_xh", "W_hh", "b_h"),
)


def rnn_forward(
    rnn_forward_fn: Callable[..., np.ndarray],
    seed: int | None = None,
    shapes: Sequence[tuple[int, int, int, int]] | None = None,
) -> None:
    """``rnn_forward(x, h0, W_xh, W_hh, b_h)`` -> every hidden state, (N, T, H).

    Runs the visible cases, or cases of your own: ``shapes`` lists (N, T, D, H). While it runs, the learner's own
    ``rnn_cell_forward`` is replaced by a correct one.
    """
    cases = None
    if seed is not None or shapes is not None:
        cases = sequence_cases(
            _VISIBLE_SEQUENCE_SEED if seed is None else seed,
            _VISIBLE_SEQUENCE_SHAPES if shapes is None else shapes,
        )
    parts.run_part_in_process(RNN_FORWARD, rnn_forward_fn, cases=cases)


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

_VISIBLE_SOFTMAX = (200, ((4, 3), (2, 5)), (MIXED_SCALES,))
#: The three kinds of logits each shape is tried with, (name, offset, scale): ordinary, around +-1000.
_LOGIT_KINDS = (
    ("ordinary logits", 0.0, 1.0),
    ("large logits (around 1000)", 1000.0, 5.0),
    ("very negative logits (around -1000)", -1000.0, 5.0),
)


def softmax_cases(
    seed: int, shapes: Sequence[tuple[int, int]], logits: Sequence[Any] = ()
) -> list[parts.Case]:
    """``softmax(logits)`` cases.

    For every (N, C) in ``shapes``: ordinary logits, logits around +1000 and
    around -1000 (all drawn from one generator seeded with ``seed``); then each
    array of ``logits`` as given (rows of very different scales, where shifts
    other than each row's maximum break).
    """
    rng = np.random.default_rng(seed)
    cases = []
    for N, C in shapes:
        for kind, offset, scale in _LOGIT_KINDS:
            cases.append(parts.Case(f"{kind}, {N}x{C}", (offset + scale * rng.normal(size=(N, C)),)))
    for i, z in enumerate(logits):
        number = f" ({i + 1})" if len(logits) > 1 else ""
        cases.append(parts.Case(f"rows of very different scales{number}", (np.array(z, dtype=np.float64),)))
    return cases


def _visible_softmax() -> list[parts.Case]:
    return softmax_cases(*_VISIBLE_SOFTMAX)


def _rows_of_four_scales(rng: np.random.Generator) -> tuple[np.ndarray]:
    """Tiny scores, scores around +5000 and -30000, and one row spread over more than +-710.

    Shifting by the whole array's maximum underflows the -30000 row to 0/0, no
    shift overflows the +5000 row, and a shift by each row's mean overflows the spread row.
    """
    C = 4
    rows = [
        1e-3 * rng.normal(size=C),
        5000.0 + 5.0 * rng.normal(size=C),
        -3e4 + 2.0 * rng.normal(size=C),
        rng.permutation([-rng.uniform(720.0, 900.0), 0.0, rng.uniform(720.0, 900.0), rng.normal()]),
    ]
    return (np.array([rows[i] for i in rng.permutation(4)]),)


def _rows_around_plus_and_minus_1000(rng: np.random.Generator) -> tuple[np.ndarray]:
    middle = 1e-3 * rng.normal(size=3)
    rows = [-1000.0 + rng.normal(size=3), middle, 1000.0 + rng.normal(size=3)]
    return (np.array([rows[i] for i in rng.permutation(3)]),)


def _logits_draw(offset: float, scale: float, N: int, C: int) -> parts.Draw:
    return lambda rng: (offset + scale * rng.normal(size=(N, C)),)


_HIDDEN_SOFTMAX: dict[str, parts.Draw] = {
    f"{kind}, {N}x{C}": _logits_draw(offset, scale, N, C)
    for N, C in ((1, 1), (1, 4), (6, 2), (3, 9))
    for kind, offset, scale in _LOGIT_KINDS
}
_HIDDEN_SOFTMAX["rows of very different scales (1)"] = _rows_of_four_scales
_HIDDEN_SOFTMAX["rows of very different scales (2)"] = _rows_around_plus_and_minus_1000


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
    return rel_error(np.where(bad, 0.0, result), np.where(bad, 0.0, variant)) < core.TOLERANCE


@parts.verifier
def _verify_softmax(case: parts.Case, result: object) -> None:
    name = "softmax"
    parts.raise_if_error(name, result, case)
    (z,) = case.args
    if (
        isinstance(result, np.ndarray)
        and result.shape == z.shape
        and np.issubdtype(result.dtype, np.number)
        and not np.all(np.isfinite(result))
    ):
        for mistake, variant in _softmax_variants(z).items():
            if _same_breakdown(result, variant):
                raise core.GradingFailure(f"{name} returns NaN or inf: {mistake}.")
        raise core.GradingFailure(
            f"{name} returns NaN or inf. Subtract each row's maximum from the logits before exp; "
            "then the largest exponential is exactly 1 and the sum is at least 1."
        )
    result = core.check_array(result, name, z.shape, "probabilities (N, C)")
    expected = reference_softmax(z)
    with np.errstate(all="ignore"):
        over_rows = reference_softmax(z, axis=0)
        everything = np.exp(z - z.max())
        everything = everything / everything.sum()
    log_softmax = z - z.max(axis=-1, keepdims=True)
    log_softmax = log_softmax - np.log(np.exp(log_softmax).sum(axis=-1, keepdims=True))
    core.compare(
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


SOFTMAX = parts.Part(
    grade_id="test_softmax",
    function="softmax",
    title="Part 5: softmax",
    points=2,
    visible=_visible_softmax,
    verify=_verify_softmax,
    hidden=_HIDDEN_SOFTMAX,
    parameters=("logits",),
)


def softmax(
    softmax_fn: Callable[[np.ndarray], np.ndarray],
    seed: int | None = None,
    shapes: Sequence[tuple[int, int]] | None = None,
    logits: Sequence[Any] | None = None,
) -> None:
    """``softmax(logits)`` over the last axis of (N, C), safe for logits of any scale.

    Runs the visible cases, or cases of your own (see :func:`softmax_cases`;
    what is not given is the visible cases').
    """
    cases = None
    if seed is not None or shapes is not None or logits is not None:
        default_seed, default_shapes, default_logits = _VISIBLE_SOFTMAX
        cases = softmax_cases(
            default_seed if seed is None else seed,
            default_shapes if shapes is None else shapes,
            default_logits if logits is None else logits,
        )
    parts.run_part_in_process(SOFTMAX, softmax_fn, cases=cases)


# -- Part 6: many-to-one classifier of padded sentences ------------------------------

ClassifyShape = tuple[Sequence[int], int, int, int, int]

_VISIBLE_CLASSIFY: tuple[int, tuple[ClassifyShape, ...]] = (
    300,
    (((3, 1, 4), 5, 3, 5, 3), ((4, 2, 1, 3), 4, 2, 4, 2)),
)
_HIDDEN_CLASSIFY: dict[str, ClassifyShape] = {
    "one sequence of one step": ((1,), 1, 1, 1, 2),
    "every sequence of length 1": ((1, 1, 1), 6, 2, 3, 3),
    "six sequences, one as long as T": ((6, 3, 1, 5, 2, 4), 6, 3, 5, 3),
    "a short and a full sequence": ((2, 7), 7, 4, 4, 2),
    "one hidden unit, one class": ((1, 4), 5, 2, 1, 1),
}


def classify_cases(seed: int, shapes: Sequence[ClassifyShape]) -> list[parts.Case]:
    """``classify(x, lengths, h0, W_xh, W_hh, b_h, W_hy, b_y)`` cases, case i drawn with seed + i.

    ``shapes`` lists (lengths, T, D, H, C): a padded batch of N = len(lengths)
    sequences of T steps, sequence n real for its first lengths[n] steps
    (1 <= lengths[n] <= T). The inputs at the padded steps are not zero, as
    the embedding of ``<pad>`` is not: a state read after them is wrong.
    """
    cases = []
    for i, (lengths_given, T, D, H, C) in enumerate(shapes):
        lengths = np.array(lengths_given, dtype=np.int64)
        N = len(lengths)
        if N == 0 or lengths.min() < 1 or lengths.max() > T:
            raise ValueError(f"lengths must lie in 1..T={T}, got {lengths.tolist()}")
        p = core.float64_inputs(
            seed + i, x=(N, T, D), h0=(N, H), W_xh=(H, D), W_hh=(H, H), b_h=(H,), W_hy=(C, H), b_y=(C,)
        )
        args = (p["x"], lengths, p["h0"], p["W_xh"], p["W_hh"], p["b_h"], p["W_hy"], p["b_y"])
        cases.append(parts.Case(f"lengths {tuple(lengths.tolist())}, T={T}, D={D}, H={H}, C={C}", args))
    return cases


def _visible_classify() -> list[parts.Case]:
    return classify_cases(*_VISIBLE_CLASSIFY)


def _last_real_states(h: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    return h[np.arange(h.shape[0]), lengths - 1]


@parts.verifier
def _verify_classify(case: parts.Case, result: object) -> None:
    name = "classify"
    if isinstance(result, parts.LearnerError) and result.type_name == "IndexError":
        parts.raise_if_error(
            name,
            result,
            case,
            "The last real token of a sequence of length L is at index L - 1: "
            "you may have used lengths off by one.",
        )
    parts.raise_if_error(name, result, case)
    x, lengths, h0, W_xh, W_hh, b_h, W_hy, b_y = case.args
    (N, T, _), C = x.shape, W_hy.shape[0]
    if isinstance(result, np.ndarray) and result.shape == (N, T, C) and T != N:
        raise core.GradingFailure(
            f"{name} returned a prediction for every step (N, T, C); classify each sequence once, "
            "from its state at its last real token."
        )
    if isinstance(result, np.ndarray) and result.shape == (N, N, C) and N > 1:
        raise core.GradingFailure(
            f"{name} returned shape (N, N, C) = {result.shape}: `h[:, lengths - 1]` picks every "
            "sequence's state at every length. Index both axes: h[np.arange(N), lengths - 1]"
            + (" (or, since T = N here, you returned a prediction for every step)." if T == N else ".")
        )
    result = core.check_array(result, name, (N, C), "class probabilities (N, C)")
    h = _correct_rnn_forward(x, h0, W_xh, W_hh, b_h)

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
    core.compare(result, probabilities(last), name, mistakes)


CLASSIFY = parts.Part(
    grade_id="test_classify",
    function="classify",
    title="Part 6: a many-to-one classifier of padded sentences",
    points=3,
    visible=_visible_classify,
    verify=_verify_classify,
    hidden=parts.hidden_from(classify_cases, _HIDDEN_CLASSIFY),
    substitutes={
        "rnn_forward": source_of(correct.rnn_forward),
        "softmax": source_of(correct.softmax),
        "rnn_cell_forward": source_of(correct.rnn_cell_forward),
    },
    parameters=("x", "lengths", "h0", "W_xh", "W_hh", "b_h", "W_hy", "b_y"),
)


def classify(
    classify_fn: Callable[..., np.ndarray],
    seed: int | None = None,
    cases: Sequence[ClassifyShape] | None = None,
) -> None:
    """``classify(x, lengths, h0, W_xh, W_hh, b_h, W_hy, b_y)`` -> class probabilities (N, C).

    Runs the visible cases, or cases of your own (``cases`` as
    :func:`classify_cases`'s ``shapes``). While it
    runs, the learner's own ``rnn_forward``, ``rnn_cell_forward`` and
    ``softmax`` are replaced by correct ones.
    """
    own = None
    if seed is not None or cases is not None:
        own = classify_cases(
            _VISIBLE_CLASSIFY[0] if seed is None else seed, _VISIBLE_CLASSIFY[1] if cases is None else cases
        )
    parts.run_part_in_process(CLASSIFY, classify_fn, cases=own)


#: The graded parts, in notebook order.
PARTS: list[parts.Part] = [BUILD_VOCAB, ENCODE_AND_PAD, RNN_CELL_FORWARD, RNN_FORWARD, SOFTMAX, CLASSIFY]
