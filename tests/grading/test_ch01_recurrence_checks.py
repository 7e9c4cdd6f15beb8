"""Exercise 1's checks, called directly: right answers pass, wrong ones are named.

Every message test feeds one mutant (a known mistake), asserts that the
right check fails and that its message names that mistake; the correct
variants (loops, einsum, other names, float64 summed in another order, and
shapes of 1) must pass every check with no diagnosis at all.
"""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest

from rnncourse.grading import ch01_recurrence as check
from rnncourse.grading.core import TOLERANCE, GradingFailure, compare, named_mistakes

# -- correct answers, written as a learner might ------------------------------------------


def vocab_loop(sentences):
    vocab = {"<pad>": 0, "<unk>": 1}
    for sentence in sentences:
        for word in sentence.lower().split():
            vocab.setdefault(word, len(vocab))
    return vocab


def encode_loop(sentences, vocab, max_len):
    ids = np.zeros((len(sentences), max_len), dtype=np.int64)
    lengths = np.zeros(len(sentences), dtype=np.int64)
    for row, sentence in enumerate(sentences):
        tokens = sentence.lower().split()[:max_len]
        lengths[row] = len(tokens)
        for col, token in enumerate(tokens):
            ids[row, col] = vocab.get(token, 1)
    return ids, lengths


def encode_lists(texts, table, width):
    rows = [[table.get(w, table["<unk>"]) for w in t.lower().split()][:width] for t in texts]
    ids = np.array([r + [0] * (width - len(r)) for r in rows], dtype=int).reshape(len(texts), width)
    return ids, (ids != 0).sum(axis=1)  # no real token has index 0


def cell(x_t, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)


def cell_einsum(inputs, state, A, B, bias):
    return np.tanh(bias + np.einsum("nh,kh->nk", state, B) + np.einsum("nd,hd->nh", inputs, A))


def cell_loops(x_t, h_prev, W_xh, W_hh, b_h):
    # Sums each pre-activation term by term, in reverse order: rounding differs from BLAS.
    out = np.empty((x_t.shape[0], W_hh.shape[0]))
    for n in range(x_t.shape[0]):
        for j in range(W_hh.shape[0]):
            total = sum(W_hh[j, k] * h_prev[n, k] for k in reversed(range(W_hh.shape[1])))
            total += sum(W_xh[j, k] * x_t[n, k] for k in reversed(range(W_xh.shape[1])))
            out[n, j] = np.tanh(total + b_h[j])
    return out


def forward(x, h0, W_xh, W_hh, b_h):
    h, states = h0, []
    for t in range(x.shape[1]):
        h = rnn_cell_forward(x[:, t], h, W_xh, W_hh, b_h)
        states.append(h)
    return np.stack(states, axis=1)


def rnn_cell_forward(x_t, h_prev, W_xh, W_hh, b_h):  # the name a learner's rnn_forward calls
    raise AssertionError("the check must substitute a correct cell for this one")


def forward_preallocated(inputs, first, A, B, bias):
    out = np.zeros((inputs.shape[0], inputs.shape[1], first.shape[1]))
    state = first
    for t in range(inputs.shape[1]):
        state = np.tanh(np.einsum("nd,hd->nh", inputs[:, t], A) + state @ B.T + bias)
        out[:, t] = state
    return out


def stable_softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_log_sum_exp(scores):
    top = np.max(scores, axis=-1, keepdims=True)
    return np.exp(scores - top - np.log(np.sum(np.exp(scores - top), axis=-1, keepdims=True)))


def softmax(z):  # the name a learner's classify calls
    raise AssertionError("the check must substitute a correct softmax for this one")


def rnn_forward(x, h0, W_xh, W_hh, b_h):  # the name a learner's classify calls
    raise AssertionError("the check must substitute a correct rnn_forward for this one")


def classify_gather(x, lengths, h0, W_xh, W_hh, b_h, W_hy, b_y):
    h = rnn_forward(x, h0, W_xh, W_hh, b_h)
    return softmax(h[np.arange(len(lengths)), lengths - 1] @ W_hy.T + b_y)


def classify_each_alone(x, lengths, h0, W_xh, W_hh, b_h, W_hy, b_y):
    rows = []
    for n, length in enumerate(lengths):
        h = h0[n : n + 1]
        for t in range(length):  # only the real tokens
            h = np.tanh(x[n : n + 1, t] @ W_xh.T + h @ W_hh.T + b_h)
        rows.append(stable_softmax(h @ W_hy.T + b_y))
    return np.concatenate(rows, axis=0)


def classify_masked(x, lengths, h0, W_xh, W_hh, b_h, W_hy, b_y):
    h = h0
    for t in range(x.shape[1]):
        new = np.tanh(x[:, t] @ W_xh.T + h @ W_hh.T + b_h)
        h = np.where((t < lengths)[:, None], new, h)  # a padded step keeps the state
    return softmax_log_sum_exp(h @ W_hy.T + b_y)


ONES = {
    "cell": [(1, 1, 1), (1, 3, 1), (4, 1, 2), (2, 2, 1)],
    "sequence": [(1, 1, 1, 1), (1, 4, 1, 2), (3, 1, 2, 1), (2, 5, 1, 1)],
    "softmax": [(1, 1), (1, 4), (5, 1), (3, 2)],
    "classify": [((1,), 1, 1, 1, 2), ((1,), 4, 2, 1, 1), ((2, 1), 3, 1, 1, 3), ((1, 1, 1), 2, 2, 2, 2)],
}


@pytest.mark.parametrize("fn", [cell, cell_einsum, cell_loops])
def test_right_cells_pass(fn) -> None:
    check.rnn_cell_forward(fn)
    check.rnn_cell_forward(fn, seed=8127, shapes=ONES["cell"] + [(5, 3, 7), (4, 8, 8)])


@pytest.mark.parametrize("fn", [forward, forward_preallocated])
def test_right_sequences_pass(fn) -> None:
    check.rnn_forward(fn)
    check.rnn_forward(fn, seed=4242, shapes=ONES["sequence"] + [(2, 12, 4, 4), (4, 3, 6, 3)])


@pytest.mark.parametrize("fn", [stable_softmax, softmax_log_sum_exp])
def test_right_softmaxes_pass(fn) -> None:
    check.softmax(fn)
    check.softmax(fn, seed=777, shapes=ONES["softmax"], logits=[check.MIXED_SCALES, np.full((2, 3), -5e5)])


@pytest.mark.parametrize("fn", [classify_gather, classify_each_alone, classify_masked])
def test_right_classifiers_pass(fn) -> None:
    check.classify(fn)
    check.classify(fn, seed=9090, cases=ONES["classify"] + [((6, 3, 1, 5, 2, 4), 6, 3, 5, 3)])


@pytest.mark.parametrize("fn", [encode_loop, encode_lists])
def test_right_text_parts_pass(fn) -> None:
    punctuated = ["How are you today ?", "Hello, world!", "hello world"]
    for sentences in (check.VISIBLE_SENTENCES, punctuated, ["Zebra apple  zebra", "", "APPLE\tb"], []):
        check.build_vocab(vocab_loop, sentences=sentences)
    check.encode_and_pad(fn)
    check.encode_and_pad(
        fn, vocab_sentences=punctuated, sentences=["hello, you !", "", "world! today ?"], max_len=2
    )
    check.encode_and_pad(fn, vocab_sentences=["a b c"], sentences=["c b a", "d"], max_len=1)


# -- mistakes, each with the words its message must contain ------------------------------


def relu_cell(x, h, A, B, b):
    return np.maximum(x @ A.T + h @ B.T + b, 0)


CELL_MISTAKES = [
    (lambda x, h, A, B, b: np.tanh(x @ A.T + h @ B.T), "bias b_h is missing"),
    (lambda x, h, A, B, b: np.tanh(x @ A.T + h @ B.T) + b, "bias b_h is added after tanh"),
    (lambda x, h, A, B, b: np.clip(x @ A.T + h @ B.T + b, -1, 1), "clipped to \\[-1, 1\\]"),
    (relu_cell, "not ReLU"),
    (lambda x, h, A, B, b: 1 / (1 + np.exp(-(x @ A.T + h @ B.T + b))), "not sigmoid"),
    (lambda x, h, A, B, b: x @ A.T + h @ B.T + b, "no activation"),
    (lambda x, h, A, B, b: np.tanh(x @ A.T + h @ B + b), "W_hh is transposed"),
    (lambda x, h, A, B, b: np.tanh(x @ A.T + b), "h_prev is ignored"),
    (lambda x, h, A, B, b: np.tanh(h @ B.T + b), "x_t is ignored"),
    (lambda x, h, A, B, b: np.tanh(x @ A + h @ B.T + b), "raised ValueError"),
    (lambda x, h, A, B, b: cell(x, h, A, B, b)[:, :-1], "shape"),
    (lambda x, h, A, B, b: (cell(x, h, A, B, b), None), "tuple"),
    (lambda x, h, A, B, b: cell(*(a.astype(np.float32) for a in (x, h, A, B, b))), "float32 arithmetic"),
    (
        lambda x, h, A, B, b: cell(*(a.astype(np.float32) for a in (x, h, A, B, b))).astype(np.float64),
        "float32 arithmetic somewhere",
    ),
]


@pytest.mark.parametrize(("wrong", "message"), CELL_MISTAKES)
def test_cell_mistakes_are_named(wrong, message: str) -> None:
    with pytest.raises(GradingFailure, match=message):
        check.rnn_cell_forward(wrong)


def test_transposed_weights_are_named_when_square() -> None:
    with pytest.raises(GradingFailure, match="W_xh is transposed"):
        check.rnn_cell_forward(lambda x, h, A, B, b: np.tanh(x @ A + h @ B.T + b), shapes=[(2, 6, 6)])
    with pytest.raises(GradingFailure, match="both weights are transposed"):
        check.rnn_cell_forward(lambda x, h, A, B, b: np.tanh(x @ A + h @ B + b), shapes=[(2, 6, 6)])


def test_a_mistake_that_changes_nothing_is_never_blamed() -> None:
    # With one hidden unit W_hh is its own transpose, and with D = H = 1 so is W_xh:
    # the "mistake" is a correct answer on these shapes, and it passes.
    both_transposed = lambda x, h, A, B, b: np.tanh(x @ A + h @ B + b)  # noqa: E731
    check.rnn_cell_forward(both_transposed, shapes=[(3, 1, 1), (1, 1, 1)])
    check.rnn_cell_forward(lambda x, h, A, B, b: np.tanh(x @ A.T + h @ B + b), shapes=ONES["cell"][:2])
    # A "mistake" closer to the truth than float32 rounding explains nothing: it is never
    # named, even for an answer that matches it exactly.
    right = np.array([[0.5, -0.25]])
    nearly = right + 1e-8
    assert named_mistakes(nearly.copy(), right, {"nearly right": nearly}) == []
    far = right + 1e-3
    assert named_mistakes(far.copy(), right, {"far": far}) == ["far"]
    # An answer as far from the mistake as from the truth is not blamed on it either.
    assert named_mistakes(right + 5e-4, right, {"far": far}) == []


def test_coinciding_mistakes_are_named_together() -> None:
    # Pre-activations inside [-1, 1]: clipping changes nothing, so clip = no activation,
    # and a check cannot tell which of the two was made.
    a = np.array([[0.5, -0.75, 0.25]])
    mistakes = {"no activation": a, "clipped": np.clip(a, -1, 1), "ReLU": np.maximum(a, 0)}
    assert named_mistakes(np.clip(a, -1, 1), np.tanh(a), mistakes) == ["no activation", "clipped"]
    with pytest.raises(GradingFailure, match="Likely mistake: no activation; or clipped"):
        compare(a.copy(), np.tanh(a), "cell", mistakes)


def test_in_place_modification_is_named() -> None:
    def modifies(x, h, A, B, b):
        h += 0.0 * h + 1.0
        return np.tanh(x @ A.T + h @ B.T + b)

    with pytest.raises(GradingFailure, match="in place"):
        check.rnn_cell_forward(modifies)


def shifted(x, h0, A, B, b):
    states = [h0]
    for t in range(x.shape[1] - 1):
        states.append(rnn_cell_forward(x[:, t], states[-1], A, B, b))
    return np.stack(states, axis=1)


def float32_buffer(x, h0, A, B, b):
    out = np.zeros((x.shape[0], x.shape[1], h0.shape[1]), dtype=np.float32)
    h = h0
    for t in range(x.shape[1]):
        h = rnn_cell_forward(x[:, t], h, A, B, b)
        out[:, t] = h
    return out


SEQUENCE_MISTAKES = [
    (
        lambda x, h0, A, B, b: np.stack(
            [rnn_cell_forward(x[:, t], h0, A, B, b) for t in range(x.shape[1])], 1
        ),
        "starts again from h0",
    ),
    (lambda x, h0, A, B, b: forward(x, np.zeros_like(h0), A, B, b), "h0 is ignored"),
    (shifted, "shifted by one step"),
    (lambda x, h0, A, B, b: forward(x, h0, A, B, b)[:, ::-1], "reverse order"),
    (lambda x, h0, A, B, b: np.concatenate([h0[:, None], forward(x, h0, A, B, b)], 1), "without h0"),
    (lambda x, h0, A, B, b: forward(x, h0, A, B, b)[:, -1], "only one state"),
    (lambda x, h0, A, B, b: forward(x, h0, A, B, b).transpose(1, 0, 2), "axis 1"),
    (float32_buffer, "float32 arithmetic"),
]


@pytest.mark.parametrize(("wrong", "message"), SEQUENCE_MISTAKES)
def test_sequence_mistakes_are_named(wrong, message: str) -> None:
    # The mutants call this module's rnn_cell_forward, which the check replaces by a correct cell.
    with pytest.raises(GradingFailure, match=message):
        check.rnn_forward(wrong)


def test_states_stacked_on_axis_0_are_named_when_square() -> None:
    with pytest.raises(GradingFailure, match="stacked on axis 0"):
        check.rnn_forward(
            lambda x, h0, A, B, b: forward(x, h0, A, B, b).transpose(1, 0, 2), shapes=[(3, 3, 2, 4)]
        )


def global_max(z):
    e = np.exp(z - z.max())
    return e / e.sum(axis=1, keepdims=True)


def mean_shift(z):
    e = np.exp(z - z.mean(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


SOFTMAX_MISTAKES = [
    (lambda z: np.exp(z) / np.exp(z).sum(axis=1, keepdims=True), "Subtract each row's maximum"),
    (global_max, "maximum of the whole array"),
    (mean_shift, "each row's mean"),
    (
        lambda z: (
            z - z.max(1, keepdims=True) - np.log(np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True))
        ),
        "log-probabilities",
    ),
    (lambda z: np.exp(z - z.max(0)) / np.exp(z - z.max(0)).sum(0, keepdims=True), "axis 0"),
    (lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum(), "normalised together"),
    (lambda z: stable_softmax(z.astype(np.float32)), "float32 arithmetic"),
]


@pytest.mark.parametrize(("wrong", "message"), SOFTMAX_MISTAKES)
def test_softmax_mistakes_are_named(wrong, message: str) -> None:
    with pytest.raises(GradingFailure, match=message):
        check.softmax(wrong)


@pytest.mark.parametrize(("wrong", "message"), SOFTMAX_MISTAKES[1:3])
def test_unsafe_shifts_fail_only_on_rows_of_different_scales(wrong, message: str) -> None:
    # Without the mixed-scale rows, these shifts pass: the rows are what catch them.
    check.softmax(wrong, logits=[])
    with pytest.raises(GradingFailure, match=message):
        check.softmax(
            wrong, shapes=[], logits=[[[-1e-3, 0.0, 1e-3], [1000.0, 1001.0, 999.0], [-900.0, 0.0, 900.0]]]
        )


def classify_with(read):
    def classify(x, lengths, h0, W_xh, W_hh, b_h, W_hy, b_y):
        h = rnn_forward(x, h0, W_xh, W_hh, b_h)
        return softmax(read(h, lengths) @ W_hy.T + b_y)

    return classify


CLASSIFY_MISTAKES = [
    (classify_with(lambda h, L: h[:, -1]), "read the state after the padding"),
    (classify_with(lambda h, L: h[np.arange(len(L)), L]), "used lengths off by one"),
    (classify_with(lambda h, L: h[np.arange(len(L)), L - 2]), "used lengths off by one"),
    (classify_with(lambda h, L: h[:, 0]), "first hidden state"),
    (classify_with(lambda h, L: h.mean(axis=1)), "mean of the hidden states"),
    (classify_with(lambda h, L: h[:, L - 1]), "Index both axes"),
    (
        lambda x, L, h0, A, B, b, W, y: rnn_forward(x, h0, A, B, b)[np.arange(len(L)), L - 1] @ W.T + y,
        "these are logits",
    ),
    (
        lambda x, L, h0, A, B, b, W, y: softmax(rnn_forward(x, h0, A, B, b)[np.arange(len(L)), L - 1] @ W.T),
        "output bias b_y is missing",
    ),
    (
        lambda x, L, h0, A, B, b, W, y: softmax(rnn_forward(x, h0, A, B, b) @ W.T + y),
        "prediction for every step",
    ),
]


@pytest.mark.parametrize(("wrong", "message"), CLASSIFY_MISTAKES)
def test_classify_mistakes_are_named(wrong, message: str) -> None:
    with pytest.raises(GradingFailure, match=message):
        check.classify(wrong)


def test_off_by_one_past_the_end_is_explained() -> None:
    # Every length differs and one is T: h[n, lengths[n]] runs off the array.
    with pytest.raises(GradingFailure, match=r"IndexError.*index L - 1"):
        check.classify(
            classify_with(lambda h, L: h[np.arange(len(L)), L]), cases=[((4, 2, 1, 3), 4, 2, 4, 2)]
        )


def test_state_after_padding_passes_only_without_padding() -> None:
    after_padding = classify_with(lambda h, L: h[:, -1])
    check.classify(after_padding, cases=[((3, 3), 3, 2, 2, 2), ((1,), 1, 1, 1, 2)])
    with pytest.raises(GradingFailure, match="after the padding"):
        check.classify(after_padding, cases=[((1,), 2, 1, 1, 2)])


def regex_vocab(sentences):
    vocab = {"<pad>": 0, "<unk>": 1}
    for sentence in sentences:
        for word in re.findall(r"\w+", sentence.lower()):
            vocab.setdefault(word, len(vocab))
    return vocab


TEXT_MISTAKES = [
    (check.build_vocab, regex_vocab, {"sentences": ["How are you today ?"]}, "white space only"),
    (check.build_vocab, regex_vocab, {"sentences": ["Hello, world!"]}, "'yes!' is one token"),
    (
        check.build_vocab,
        lambda s: vocab_loop([" ".join(re.findall(r"\w+|[^\w\s]", t)) for t in s]),
        {"sentences": ["Hello, world!"]},
        "white space only",
    ),
    (
        check.build_vocab,
        lambda s: (
            {"<pad>": 0, "<unk>": 1}
            | {w: i + 2 for i, w in enumerate(sorted({w for t in s for w in t.lower().split()}))}
        ),
        {},
        "not alphabetically",
    ),
    (check.build_vocab, lambda s: vocab_loop(s) | {"": len(vocab_loop(s))}, {}, "empty string"),
    (
        check.build_vocab,
        lambda s: {w: i for i, w in enumerate(["<pad>", "<unk>", *dict.fromkeys(" ".join(s).split())])},
        {},
        "lower-cased",
    ),
    (check.encode_and_pad, lambda s, v, m: encode_loop(s, v, m)[0], {}, "return two"),
    (
        check.encode_and_pad,
        lambda s, v, m: (encode_loop(s, v, m)[0], np.array([len(t.split()) for t in s])),
        {},
        "before the cut",
    ),
    (
        check.encode_and_pad,
        lambda s, v, m: encode_loop([" ".join(t.split()[-m:]) for t in s], v, m),
        {},
        "first max_len tokens",
    ),
    (
        check.encode_and_pad,
        lambda s, v, m: encode_loop([" ".join(re.findall(r"\w+", t)) for t in s], v, m),
        {"vocab_sentences": ["Hello, world!", "how are you ?"], "sentences": ["hello, you ?"], "max_len": 3},
        "white space only",
    ),
    (
        check.encode_and_pad,
        lambda s, v, m: (encode_loop(s, v, m)[0].astype(float), encode_loop(s, v, m)[1]),
        {},
        "integers",
    ),
]


@pytest.mark.parametrize(("part", "wrong", "inputs", "message"), TEXT_MISTAKES)
def test_text_mistakes_are_named(part, wrong, inputs, message: str) -> None:
    with pytest.raises(GradingFailure, match=message):
        part(wrong, **inputs)


def test_padding_at_the_start_is_named() -> None:
    def pre_pad(sentences, vocab, max_len):
        ids, lengths = encode_loop(sentences, vocab, max_len)
        return np.stack([np.roll(row, max_len - n) for row, n in zip(ids, lengths)]), lengths

    with pytest.raises(GradingFailure, match="not at the start"):
        check.encode_and_pad(pre_pad)


def test_calls_into_the_course_or_torch_are_refused_however_imported() -> None:
    from rnncourse.scratch import rnn as course

    alias = course.rnn_step_forward
    with pytest.raises(GradingFailure, match="earn no points"):
        check.rnn_cell_forward(lambda *args: alias(*args)[0])
    torch = pytest.importorskip("torch")
    with pytest.raises(GradingFailure, match="torch"):
        check.softmax(lambda z: torch.softmax(torch.from_numpy(z), 1).numpy())


def test_switching_off_the_monitor_is_refused() -> None:
    def sneaky(x, h, A, B, b):
        sys.setprofile(None)
        return cell(x, h, A, B, b)

    with pytest.raises(GradingFailure, match="switched off"):
        check.rnn_cell_forward(sneaky)


def test_later_parts_are_checked_with_a_correct_earlier_part() -> None:
    namespace: dict = {"np": np}
    exec(
        "def rnn_cell_forward(x, h, A, B, b):\n    return x @ A.T\n"  # wrong on purpose
        "def rnn_forward(x, h0, A, B, b):\n"
        "    h, out = h0, []\n"
        "    for t in range(x.shape[1]):\n"
        "        h = rnn_cell_forward(x[:, t], h, A, B, b)\n"
        "        out.append(h)\n"
        "    return np.stack(out, 1)\n",
        namespace,
    )
    check.rnn_forward(namespace["rnn_forward"])
    assert namespace["rnn_cell_forward"].__code__.co_name == "rnn_cell_forward"  # restored afterwards
    with pytest.raises(GradingFailure):
        check.rnn_cell_forward(namespace["rnn_cell_forward"])


def test_not_implemented_is_explained() -> None:
    def stub(*args):
        raise NotImplementedError()

    with pytest.raises(GradingFailure, match="replace the line"):
        check.build_vocab(stub)


def test_the_tolerance_separates_float64_rounding_from_float32() -> None:
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, size=(50, 50))
    b = rng.uniform(-1, 1, size=(50, 50))
    blas, by_hand = a @ b, np.einsum("ik,kj->ij", a, b)
    reordered = np.array(
        [[sum(a[i, k] * b[k, j] for k in reversed(range(50))) for j in range(50)] for i in range(50)]
    )
    from rnncourse.gradcheck import rel_error

    assert rel_error(blas, reordered) < TOLERANCE / 1e3 and rel_error(blas, by_hand) < TOLERANCE / 1e3
    assert rel_error(blas, (a.astype(np.float32) @ b.astype(np.float32)).astype(np.float64)) > TOLERANCE * 10
