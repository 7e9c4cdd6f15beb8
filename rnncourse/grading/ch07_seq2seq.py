"""Checks for exercise 7, sequence to sequence: masked loss, attention, greedy and beam search, BLEU.

``PARTS`` lists the five parts (``parts.Part``), as in chapter 1: the notebook
calls ``check.<part>(<the learner's function>)`` for the visible cases; the
autograder runs them and the hidden cases (their shapes and kinds here, their
values drawn from the instructor's secret at grading time) in its sandbox and
verifies what came back here.

Shapes: N batch, T target steps, V vocabulary, S source steps, Hq query
size, Hk key size, A attention units. The decoding parts read a *score
table* ``scores`` (L, V, V): ``scores[t, prev]`` are the log-probabilities
of the token at step t (t = 0 for the first token after ``<bos>``) given the
previous token ``prev``; the notebook's ``step_log_probs(scores, t, prev)``
returns that row, and is replaced by a correct copy while a part runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import sacrebleu

from rnncourse.data.pairs import BOS_ID, EOS_ID, PairVocabulary, characters, date_pairs
from rnncourse.evaluation.bleu import brevity_penalty, clipped_matches, ngrams, sentence_bleu
from rnncourse.grading import core, parts
from rnncourse.grading.substitutes import ch07_seq2seq as correct
from rnncourse.grading.substitutes import source_of
from rnncourse.results import load_arrays
from rnncourse.scratch.decoding import PrefixDecoder, length_penalty
from rnncourse.scratch.decoding import beam_search as reference_beam_search
from rnncourse.scratch.decoding import greedy_search as reference_greedy_search
from rnncourse.scratch.losses import padded_mean_cross_entropy, softmax_cross_entropy
from rnncourse.scratch.seq2seq import NumpySeq2Seq


def _scalar(name: str, result: object, what: str) -> float:
    """The learner's number as a float, or a failure that says what came back instead."""
    if isinstance(result, np.ndarray) and result.size == 1 and np.issubdtype(result.dtype, np.floating):
        result = float(result.reshape(()))
    if isinstance(result, bool) or not isinstance(result, (int, float)):
        raise core.GradingFailure(f"{name} returned {core.type_name(result)}; return {what} as one float.")
    if not math.isfinite(result):
        raise core.GradingFailure(f"{name} returned {result}; {what} is a finite number.")
    return float(result)


def _compare_scalar(result: float, expected: float, name: str, mistakes: dict[str, float]) -> None:
    core.compare(
        np.array([result]), np.array([expected]), name, {k: np.array([v]) for k, v in mistakes.items()}
    )


# -- Correct helpers, defined while a part runs (NumPy only) --------------------------


# -- Part 1: masked cross-entropy -----------------------------------------------------

LossShape = tuple[Sequence[int], int, int] | tuple[Sequence[int], int, int, float]  # (lengths, T, V[, scale])

_VISIBLE_LOSS: tuple[int, tuple[LossShape, ...]] = (70, (((4, 2, 1), 4, 5), ((3, 3), 3, 4)))
_HIDDEN_LOSS: dict[str, LossShape] = {
    "one sequence of one token": ((1,), 1, 3),
    "batch of one, no padding": ((5,), 5, 6),
    "heavy padding": ((1, 6, 2, 1, 3), 6, 4),
    "every sequence full": ((4, 4, 4), 4, 7),
    "large logits (hundreds)": ((3, 1, 2), 3, 6, 300.0),
}


def loss_cases(seed: int, shapes: Sequence[LossShape]) -> list[parts.Case]:
    """``masked_cross_entropy(logits, y, lengths)`` cases, case i drawn with seed + i.

    ``y`` (N, T + 1) is ``<bos>`` (id 2) then the target ids; past each
    length it holds padding drawn at random (not 0), as a careless batch might.
    The logits are ``scale`` (2 unless given) times normal draws; with a large
    scale they are also shifted up by 3 * scale, so that ``exp`` of them overflows.
    """
    cases = []
    for i, (lengths_given, T, V, *rest) in enumerate(shapes):
        lengths = np.array(lengths_given, dtype=np.int64)
        rng = np.random.default_rng(seed + i)
        scale = float(rest[0]) if rest else 2.0
        logits = scale * rng.normal(size=(len(lengths), T, V)) + (3.0 * scale if scale > 10 else 0.0)
        y = rng.integers(0, V, size=(len(lengths), T + 1)).astype(np.int64)
        y[:, 0] = 2 % V
        cases.append(parts.Case(f"lengths {tuple(lengths.tolist())}, T={T}, V={V}", (logits, y, lengths)))
    return cases


def _visible_loss() -> list[parts.Case]:
    return loss_cases(*_VISIBLE_LOSS)


def _token_losses(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """-log softmax(logits)[target] at every position, (N, T)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]


@parts.verifier
def _verify_loss(case: parts.Case, result: object) -> None:
    name = "masked_cross_entropy"
    parts.raise_if_error(name, result, case)
    logits, y, lengths = case.args
    T = logits.shape[1]
    if (
        isinstance(result, (float, np.ndarray))
        and not np.all(np.isfinite(result))
        and np.abs(logits).max() > 100
    ):
        raise core.GradingFailure(
            f"{name} returned {result} on logits of up to {np.abs(logits).max():.0f}: exp of such logits "
            "overflows to inf (and inf / inf is NaN), or a probability rounds to 0 and its log is -inf. Compute "
            "the log-softmax as z - m - log(sum(exp(z - m))), with m the maximum of each row z."
        )
    value = _scalar(name, result, "the loss")
    mask = np.arange(T)[None, :] < lengths[:, None]
    targets = y[:, 1:]
    expected = softmax_cross_entropy(logits, targets, mask)[0]
    token = _token_losses(logits, targets)
    shifted = _token_losses(logits, y[:, :-1])
    mistakes = {
        "the mask is ignored: padded positions are averaged in. Count only the first lengths[n] "
        "positions of row n": float(token.mean()),
        "the sum is divided by N*T, every position of the padded array (Dive into Deep Learning's "
        "older loss): divide by the number of real tokens, lengths.sum()": padded_mean_cross_entropy(
            logits, targets, mask
        )[0],
        "each sequence is averaged first, then the sequences: every token must weigh the same, "
        "so divide the sum over all real tokens by lengths.sum()": float(
            np.mean((token * mask).sum(axis=1) / lengths)
        ),
        "this is the sum, not the mean over real tokens": float((token * mask).sum()),
        "off by one between decoder input and target: logits[:, t] predicts y[:, t + 1], the "
        "token after the one the decoder read; compare with y[:, 1:], not y[:, :-1]": float(
            (shifted * mask).sum() / mask.sum()
        ),
    }
    _compare_scalar(value, expected, name, mistakes)


MASKED_CROSS_ENTROPY = parts.Part(
    grade_id="test_masked_cross_entropy",
    function="masked_cross_entropy",
    title="Part 1: masked cross-entropy over padded targets",
    points=2,
    visible=_visible_loss,
    hidden=parts.hidden_from(loss_cases, _HIDDEN_LOSS),
    verify=_verify_loss,
    parameters=("logits", "y", "lengths"),
)


def masked_cross_entropy(fn: Callable[..., float]) -> None:
    """``masked_cross_entropy(logits, y, lengths)`` -> the mean over real target tokens (a float)."""
    parts.run_part_in_process(MASKED_CROSS_ENTROPY, fn)


# -- Part 2: additive attention with a padding mask -----------------------------------

AttentionShape = tuple[Sequence[int], int, int, int, int]  # (lengths, S, Hq, Hk, A)

_VISIBLE_ATTENTION: tuple[int, tuple[AttentionShape, ...]] = (
    90,
    (((5, 2, 3), 5, 4, 6, 3), ((2, 4), 4, 3, 3, 5)),
)
_HIDDEN_ATTENTION: dict[str, AttentionShape] = {
    "one source of one token": ((1,), 1, 2, 3, 2),
    "batch of one, no padding": ((6,), 6, 3, 4, 4),
    "heavy padding": ((1, 7, 2, 1), 7, 5, 2, 3),
    "one attention unit": ((3, 1, 2), 3, 2, 2, 1),
}


def attention_cases(seed: int, shapes: Sequence[AttentionShape]) -> list[parts.Case]:
    """``additive_attention(query, keys, mask, W_q, W_k, v)`` cases, case i drawn with seed + i.

    The keys at padded positions are not zero (an encoder's states after the
    end are not), so attention that reaches them changes the context.
    """
    cases = []
    for i, (lengths_given, S, Hq, Hk, A) in enumerate(shapes):
        lengths = np.array(lengths_given, dtype=np.int64)
        N = len(lengths)
        p = core.float64_inputs(seed + i, query=(N, Hq), keys=(N, S, Hk), W_q=(A, Hq), W_k=(A, Hk), v=(A,))
        mask = (np.arange(S)[None, :] < lengths[:, None]).astype(np.float64)
        keys = p["keys"] * 2.0
        name = f"lengths {tuple(lengths.tolist())}, S={S}, Hq={Hq}, Hk={Hk}, A={A}"
        cases.append(parts.Case(name, (p["query"], keys, mask, p["W_q"] * 2.0, p["W_k"] * 2.0, p["v"] * 2.0)))
    return cases


def _visible_attention() -> list[parts.Case]:
    return attention_cases(*_VISIBLE_ATTENTION)


def _softmax_rows(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(scores - scores.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _attention(
    query: np.ndarray, keys: np.ndarray, mask: np.ndarray, W_q: np.ndarray, W_k: np.ndarray, v: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The check's own arithmetic: scores (N, S), weights (N, S), context (N, Hk)."""
    scores = np.tanh((query @ W_q.T)[:, None, :] + keys @ W_k.T) @ v
    weights = _softmax_rows(np.where(mask > 0, scores, -np.inf))
    return scores, weights, np.einsum("ns,nsk->nk", weights, keys)


@parts.verifier
def _verify_attention(case: parts.Case, result: object) -> None:
    name = "additive_attention"
    parts.raise_if_error(name, result, case)
    query, keys, mask, W_q, W_k, v = case.args
    N, S, Hk = keys.shape
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise core.GradingFailure(
            f"{name} returned {core.type_name(result)}; return two arrays: `return context, weights`."
        )
    context = core.check_array(result[0], name, (N, Hk), "the context (N, Hk), first")
    weights = core.check_array(result[1], name, (N, S), "the weights (N, S), second")
    scores, expected_weights, expected_context = _attention(query, keys, mask, W_q, W_k, v)
    unmasked = _softmax_rows(scores)
    after = unmasked * mask
    over_batch = _softmax_rows(np.where(mask > 0, scores, -1e9), axis=0) * (mask > 0)
    linear = _softmax_rows(np.where(mask > 0, ((query @ W_q.T)[:, None, :] + keys @ W_k.T) @ v, -np.inf))
    weight_mistakes = {
        "softmax over padding: the mask is ignored, so padded positions get weight. Set their "
        "scores to -inf (np.where(mask > 0, scores, -np.inf)) before the softmax": unmasked,
        "the weights are masked after the softmax, so the real ones no longer sum to 1: mask the "
        "scores before the softmax": after,
        "the softmax is taken over axis 0 (the batch); take it over the source positions, axis -1": over_batch,
        "tanh is missing: the score is v . tanh(W_q q + W_k k)": linear,
    }
    core.compare(weights, expected_weights, name + "'s weights", weight_mistakes)
    context_mistakes = {
        "the context is a plain mean of the keys; weight each key by its attention weight": (
            keys * mask[..., None]
        ).sum(axis=1)
        / mask.sum(axis=1, keepdims=True),
    }
    core.compare(context, expected_context, name + "'s context", context_mistakes)


ADDITIVE_ATTENTION = parts.Part(
    grade_id="test_additive_attention",
    function="additive_attention",
    title="Part 2: additive attention with a padding mask",
    points=3,
    visible=_visible_attention,
    hidden=parts.hidden_from(attention_cases, _HIDDEN_ATTENTION),
    verify=_verify_attention,
    parameters=("query", "keys", "mask", "W_q", "W_k", "v"),
)


def additive_attention(fn: Callable[..., tuple[np.ndarray, np.ndarray]]) -> None:
    """``additive_attention(query, keys, mask, W_q, W_k, v)`` -> context (N, Hk), weights (N, S)."""
    parts.run_part_in_process(ADDITIVE_ATTENTION, fn)


# -- Decoders for the decoding parts ---------------------------------------------------
#
# The learner reads a decoder through ``step_log_probs(decoder, tokens)`` (given in the
# notebook): the log-probabilities of the next token after ``tokens``, ``<bos>`` first. In
# the tests the decoder is a score table (L, V, V) whose row [t, prev] holds them for step
# t = len(tokens) - 1 after the token prev = tokens[-1]; the notebook's last cell passes a
# trained network instead (:func:`date_model`).

BOS, EOS = 1, 0


def trap_table() -> np.ndarray:
    """A table (2, 3, 3) worked out by hand: greedy takes token 2 first (-0.4) and ends at -2.7,
    while 1 then <eos> costs -1.11. Token 0 is <eos>, 1 is <bos>."""
    table = np.full((2, 3, 3), -5.0)
    table[0, 1] = [-5.0, -1.1, -0.4]
    table[1, 2] = [-2.3, -2.4, -2.5]
    table[1, 1] = [-0.01, -5.0, -5.0]
    return table


def length_table() -> np.ndarray:
    """A table (3, 3, 3): <eos> at once has log p -1.0; "1 1 <eos>" has -1.2, which wins with alpha 1."""
    table = np.full((3, 3, 3), -9.0)
    table[0, 1] = [-1.0, -0.4, -9.0]
    table[1, 1] = [-9.0, -0.4, -9.0]
    table[2, 1] = [-0.4, -9.0, -9.0]
    return table


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def random_table(seed: int, L: int, V: int, eos_bias: float = 0.0) -> np.ndarray:
    """A random table of log-probabilities (L, V, V), rows normalised; ``eos_bias`` adds to <eos>'s logit."""
    logits = 2.0 * np.random.default_rng(seed).normal(size=(L, V, V))
    logits[..., EOS] += eos_bias
    return _log_softmax(logits)


def _table_step(scores: np.ndarray) -> Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    def step(tokens: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return scores[t, tokens], t + 1

    return step


def _greedy(scores: np.ndarray, max_len: int) -> list[int]:
    tokens, _ = reference_greedy_search(_table_step(scores), np.zeros(1, dtype=np.int64), BOS, EOS, max_len)
    row = tokens[0].tolist()
    return row[: row.index(EOS) + 1] if EOS in row else row


def _tokens(name: str, result: object, what: str) -> list[int]:
    if isinstance(result, np.ndarray) and result.ndim == 1 and np.issubdtype(result.dtype, np.integer):
        result = result.tolist()
    if not isinstance(result, (list, tuple)) or not all(
        isinstance(x, int) and not isinstance(x, bool) for x in result
    ):
        raise core.GradingFailure(
            f"{name} returned {core.type_name(result)}; return {what} as a list of int token ids."
        )
    return [int(x) for x in result]


_READING_ADVICE = (
    "Read the decoder as step_log_probs(decoder, tokens), with tokens the list of tokens read so far, "
    "<bos> first: [bos] at the first step, then [bos] followed by the tokens chosen."
)


def _raise_if_decoding_error(name: str, result: object, case: parts.Case) -> None:
    """A failure for an exception; when it may come from reading the decoder, how to read it."""
    if isinstance(result, parts.LearnerError):
        reading = "step_log_probs" in result.line + result.message or (
            result.type_name in ("IndexError", "TypeError") and "out of range" in result.message
        )
        advice = f"If it was raised reading the decoder: {_READING_ADVICE}" if reading else ""
        raise core.GradingFailure(parts.error_message(name, result, case, advice))


# -- Part 3: greedy decoding ----------------------------------------------------------


def _greedy_draw(V: int, max_len: int, eos_bias: float = 0.0) -> parts.Draw:
    """A hidden greedy case: a random table of ``max_len`` steps over ``V`` tokens."""
    return lambda rng: (random_table(parts.seed_of(rng), max_len, V, eos_bias), BOS, EOS, max_len)


_HIDDEN_GREEDY: dict[str, parts.Draw] = {
    "max_len 1": _greedy_draw(4, 1),
    "five tokens, <eos> likely": _greedy_draw(5, 6, 1.5),
    "runs to max_len": _greedy_draw(6, 5, -4.0),
    "two tokens": _greedy_draw(2, 8),
}


def _visible_greedy() -> list[parts.Case]:
    return [
        parts.Case("random table, V=6, max_len=7", (random_table(9, 7, 6, 0.5), BOS, EOS, 7)),
        parts.Case("random table without <eos>, max_len=5", (random_table(13, 5, 6, -4.0), BOS, EOS, 5)),
        parts.Case("the hand-made table", (trap_table(), BOS, EOS, 2)),
    ]


def _one_short(expected: list[int], max_len: int) -> str:
    """Why an output equal to ``expected[:-1]`` stopped one token short, every cause these inputs allow."""
    keep_eos = "keep the <eos> token at the end of the output (it was generated)"
    whole_loop = (
        "the loop stops one step early: generate up to max_len tokens, steps t = 0, 1, ..., max_len - 1"
    )
    if expected[-1] != EOS:
        return whole_loop
    if len(expected) < max_len:
        return keep_eos
    return f"{keep_eos}; or {whole_loop}"


@parts.verifier
def _verify_greedy(case: parts.Case, result: object) -> None:
    name = "greedy_decode"
    _raise_if_decoding_error(name, result, case)
    scores, _, _, max_len = case.args
    tokens = _tokens(name, result, "the tokens")
    expected = _greedy(scores, max_len)
    if tokens == expected:
        return
    full = [
        int(x)
        for x in reference_greedy_search(_table_step(scores), np.zeros(1, dtype=np.int64), BOS, EOS, max_len)[
            0
        ][0]
    ]
    if tokens == [BOS, *expected]:
        raise core.GradingFailure(
            f"{name}: leave <bos> out of the output; it is the first input, not a generated token."
        )
    if expected and tokens == expected[:-1]:
        raise core.GradingFailure(
            f"{name}: the output stops one token short. Likely mistake: {_one_short(expected, max_len)}."
        )
    if EOS in expected and len(tokens) > len(expected) and tokens[: len(expected)] == expected:
        raise core.GradingFailure(f"{name}: stop at the first <eos>; the output ends with it.")
    if tokens == full and tokens != expected:
        raise core.GradingFailure(f"{name}: stop at the first <eos>; nothing comes after it.")
    shown = "" if case.hidden else f" Expected {expected}, got {tokens}."
    raise core.GradingFailure(
        f"{name}: wrong tokens.{shown} At each step read step_log_probs(decoder, tokens) with the tokens so far "
        "(<bos> first), take its argmax, append it, and stop after <eos> or max_len tokens."
    )


GREEDY_DECODE = parts.Part(
    grade_id="test_greedy_decode",
    function="greedy_decode",
    title="Part 3: greedy decoding",
    points=2,
    visible=_visible_greedy,
    hidden=_HIDDEN_GREEDY,
    verify=_verify_greedy,
    substitutes={"step_log_probs": source_of(correct.step_log_probs)},
    parameters=("decoder", "bos", "eos", "max_len"),
)


def greedy_decode(fn: Callable[..., list[int]]) -> None:
    """``greedy_decode(decoder, bos, eos, max_len)`` -> the greedy tokens, ending with <eos> if produced."""
    parts.run_part_in_process(GREEDY_DECODE, fn)


# -- Part 4: beam search with length normalisation ------------------------------------


def beam_variant(
    scores: np.ndarray,
    beam_size: int,
    max_len: int,
    alpha: float,
    penalty: Callable[[int, float], float] = length_penalty,
    shrink: bool = True,
    live_at_max_len: bool = True,
) -> tuple[list[int], float]:
    """Beam search over a table as the notebook states it, or with one of the named mistakes.

    The defaults are the procedure itself (tests prove it equal to
    ``rnncourse.scratch.decoding.beam_search``). ``penalty(|y|, alpha)`` divides
    the log-probability; ``shrink=False`` keeps ``beam_size`` live hypotheses
    even when some of the best extensions ended in <eos>;
    ``live_at_max_len=False`` finishes the hypotheses still live after the
    last step only when none ended in <eos>.

    Returns:
        The best finished hypothesis's tokens and normalised score.
    """
    live: list[tuple[tuple[int, ...], float]] = [((), 0.0)]
    finished: list[tuple[tuple[int, ...], float]] = []
    for t in range(max_len):
        candidates = [
            (prefix + (w,), log_p + float(value))
            for prefix, log_p in live
            for w, value in enumerate(scores[t, prefix[-1] if prefix else BOS])
        ]
        candidates.sort(key=lambda c: -c[1])  # stable: ties keep (hypothesis, token) order
        best = candidates[:beam_size]
        finished += [c for c in best if c[0][-1] == EOS]
        live = [c for c in (best if shrink else candidates) if c[0][-1] != EOS][:beam_size]
        if not live:
            break
    if live_at_max_len or not finished:
        finished += live
    ranked = [(list(prefix), log_p / penalty(len(prefix), alpha)) for prefix, log_p in finished]
    return max(ranked, key=lambda h: h[1])  # max keeps the first of equal scores


def _differing_table(
    rng: np.random.Generator,
    draw: Callable[[np.random.Generator], np.ndarray],
    beam_size: int,
    max_len: int,
    alpha: float,
    mistake: dict[str, bool],
) -> np.ndarray:
    """A table from ``draw`` on which ``mistake`` (options of :func:`beam_variant`) changes the answer."""
    for _ in range(200):
        table = draw(rng)
        right = beam_variant(table, beam_size, max_len, alpha)
        wrong = beam_variant(table, beam_size, max_len, alpha, **mistake)  # type: ignore[arg-type]
        if right[0] != wrong[0] and abs(right[1] - wrong[1]) > 1e-3:
            return table
    raise RuntimeError("no table told the mistake apart in 200 draws")  # pragma: no cover


def _early_finish_draw(rng: np.random.Generator) -> np.ndarray:
    """<eos> among the best first tokens, then no <eos> at all: the best output is live at max_len."""
    V, L = 6, 5
    logits = rng.normal(size=(L, V, V))
    first = logits[0, BOS]
    first[:] = -3.0 + 0.3 * rng.normal(size=V)
    best = int(rng.integers(2, V))
    first[best], first[EOS] = 2.0, 2.0 - rng.uniform(0.2, 0.6)
    logits[1:, :, EOS] = -30.0  # nothing else finishes
    peaks = rng.integers(2, V, size=(L, V))
    np.put_along_axis(logits[1:], peaks[1:, :, None], 6.0, axis=-1)  # one likely token per row
    return _log_softmax(logits)


def _shrink_draw(rng: np.random.Generator) -> np.ndarray:
    """<eos> second best at the first step; the third token's branch finishes well, the best one's does not."""
    V, L = 8, 3
    logits = rng.normal(size=(L, V, V))
    a, b = (int(x) for x in rng.choice(np.arange(2, V), size=2, replace=False))
    first = logits[0, BOS]
    first[:] = -4.0 + 0.3 * rng.normal(size=V)
    d1 = rng.uniform(0.5, 0.9)
    first[a], first[EOS], first[b] = 2.0, 2.0 - d1, 2.0 - d1 - rng.uniform(0.02, 0.08)
    logits[1, a] = 0.3 * rng.normal(size=V)  # after the best token: nothing good
    logits[1, a, EOS] = -8.0
    logits[1, b] = -4.0 + 0.3 * rng.normal(size=V)  # after the third: <eos>, almost surely
    logits[1, b, EOS] = 4.0
    return _log_softmax(logits)


def _beam_draw(V: int, beam_size: int, max_len: int, alpha: float, eos_bias: float = 0.0) -> parts.Draw:
    """A hidden beam case: a random table of ``max_len`` steps over ``V`` tokens."""
    return lambda rng: (
        random_table(parts.seed_of(rng), max_len, V, eos_bias),
        BOS,
        EOS,
        beam_size,
        max_len,
        alpha,
    )


def _told_apart(
    draw: Callable[[np.random.Generator], np.ndarray],
    beam_size: int,
    max_len: int,
    alpha: float,
    **mistake: bool,
) -> parts.Draw:
    """A hidden beam case drawn until ``mistake`` gives another answer than the procedure."""
    return lambda rng: (
        _differing_table(rng, draw, beam_size, max_len, alpha, mistake),
        BOS,
        EOS,
        beam_size,
        max_len,
        alpha,
    )


_HIDDEN_BEAM: dict[str, parts.Draw] = {
    "beam of one is greedy": _beam_draw(5, 1, 6, 0.0, 1.0),
    "beam wider than the vocabulary": _beam_draw(3, 7, 4, 0.6, 0.5),
    "max_len 1": _beam_draw(4, 3, 1, 1.0),
    "strong length normalisation": _beam_draw(6, 4, 7, 2.0, 0.8),
    "no normalisation, beam 3": _beam_draw(6, 3, 6, 0.0, 0.8),
    "runs to max_len": _beam_draw(5, 2, 5, 0.7, -3.0),
    "one finishes early, the best is live at max_len": _told_apart(
        _early_finish_draw, 3, 5, 1.0, live_at_max_len=False
    ),
    "the beam shrinks when one finishes": _told_apart(_shrink_draw, 2, 3, 1.0, shrink=False),
}


def _visible_beam() -> list[parts.Case]:
    return [
        parts.Case("the hand-made table, beam 2", (trap_table(), BOS, EOS, 2, 2, 0.0)),
        parts.Case("short or long, alpha 1", (length_table(), BOS, EOS, 2, 3, 1.0)),
        parts.Case(
            "random table, V=5, beam 3, alpha 0.6", (random_table(40, 6, 5, 0.8), BOS, EOS, 3, 6, 0.6)
        ),
    ]


_PENALTY_MISTAKES: dict[str, Callable[[int, float], float]] = {
    "the length penalty is inverted: the score is log p / lp with lp = ((5 + |y|) / 6) ** alpha; "
    "multiplying by lp (or dividing by 1 / lp) favours short outputs": lambda n, a: (
        1.0 / length_penalty(n, a)
    ),
    "the length penalty is missing: rank finished hypotheses by log p / lp, lp = ((5 + |y|) / 6) ** alpha": (
        lambda n, a: 1.0
    ),
    "|y| leaves out <eos>: count every generated token, <eos> included": lambda n, a: length_penalty(
        n - 1, a
    ),
    "the penalty divides by the length itself, |y| ** alpha: use GNMT's ((5 + |y|) / 6) ** alpha": (
        lambda n, a: float(n) ** a
    ),
}

_SEARCH_MISTAKES: dict[str, dict[str, bool]] = {
    "the beam never shrinks: of all extensions keep the beam_size best; those ending in <eos> are "
    "finished, and only the others stay live, so fewer than beam_size may go on": {"shrink": False},
    "the hypotheses still live after the last step are left out when others have finished: after step "
    "max_len - 1 finish every live hypothesis as it is and rank it with those that ended in <eos>": {
        "live_at_max_len": False
    },
}


@parts.verifier
def _verify_beam(case: parts.Case, result: object) -> None:
    name = "beam_search"
    _raise_if_decoding_error(name, result, case)
    scores, _, _, k, max_len, alpha = case.args
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise core.GradingFailure(
            f"{name} returned {core.type_name(result)}; return the best tokens and their score: `return tokens, score`."
        )
    tokens = _tokens(name, result[0], "the best hypothesis's tokens")
    score = _scalar(name, result[1], "the best hypothesis's normalised score")
    best = reference_beam_search(
        _table_step(scores), np.zeros(1, dtype=np.int64), BOS, EOS, k, max_len, alpha
    )[0]
    expected_tokens, expected_score = list(best.tokens), best.score
    variants = {
        description: beam_variant(scores, k, max_len, alpha, penalty=penalty)
        for description, penalty in _PENALTY_MISTAKES.items()
    } | {
        description: beam_variant(scores, k, max_len, alpha, **options)  # type: ignore[arg-type]
        for description, options in _SEARCH_MISTAKES.items()
    }
    if tokens == expected_tokens:
        for description, (_, wrong_score) in variants.items():
            if (
                abs(score - wrong_score) < 1e-9 * max(1.0, abs(score))
                and abs(wrong_score - expected_score) > 1e-6
            ):
                raise core.GradingFailure(
                    f"{name}: right tokens, wrong score. Likely mistake: {description}."
                )
        _compare_scalar(score, expected_score, name + "'s score", {})
        return
    # Every mistake that explains the tokens is named: on one table two may agree.
    named = [description for description, (wrong_tokens, _) in variants.items() if tokens == wrong_tokens]
    if named:
        raise core.GradingFailure(f"{name}: wrong hypothesis. Likely mistake: {'; or '.join(named)}.")
    greedy = _greedy(scores, max_len)
    if tokens == greedy and k > 1:
        raise core.GradingFailure(
            f"{name} returned the greedy output: keep the beam_size best extensions of every live hypothesis "
            "at each step, not only the best one."
        )
    shown = "" if case.hidden else f" Expected {expected_tokens} (score {expected_score:.4f}), got {tokens}."
    raise core.GradingFailure(
        f"{name}: wrong hypothesis.{shown} Follow the steps above: extend every live hypothesis by every token, "
        "keep the beam_size best by total log-probability, move those ending in <eos> to the finished list, and "
        "rank the finished ones by log p / lp."
    )


BEAM_SEARCH = parts.Part(
    grade_id="test_beam_search",
    function="beam_search",
    title="Part 4: beam search with length normalisation",
    points=3,
    visible=_visible_beam,
    hidden=_HIDDEN_BEAM,
    verify=_verify_beam,
    substitutes={"step_log_probs": source_of(correct.step_log_probs)},
    parameters=("decoder", "bos", "eos", "beam_size", "max_len", "alpha"),
)


def beam_search(fn: Callable[..., tuple[list[int], float]]) -> None:
    """``beam_search(decoder, bos, eos, beam_size, max_len, alpha)`` -> (best tokens, normalised score)."""
    parts.run_part_in_process(BEAM_SEARCH, fn)


# -- The notebook's last cell: a trained model to decode ------------------------------


@dataclass(frozen=True)
class DateModel:
    """Chapter 7's date model with additive attention, stored as arrays and run with NumPy.

    ``decoder(date)`` encodes a written date and returns what ``step_log_probs``
    reads in the notebook: an object whose ``log_probs(tokens)`` gives the
    log-probabilities of the next character after ``tokens`` (``<bos>`` first).
    """

    network: NumpySeq2Seq
    source: PairVocabulary
    target: PairVocabulary
    bos: int = BOS_ID
    eos: int = EOS_ID

    def decoder(self, date: str) -> PrefixDecoder:
        """The decoder of one written date (e.g. "saturday the 21st of november 2026")."""
        return PrefixDecoder(self.network.step_function(), self.network.encode(self.source.encode(date)))

    def text(self, tokens: Sequence[int]) -> str:
        """The characters of ``tokens`` up to ``<eos>``."""
        return "".join(self.target.decode(tokens))

    def test_dates(self, count: int) -> list[tuple[str, str]]:
        """``count`` dates the model never saw, with their ISO form (the chapter's test dates)."""
        return date_pairs(count, 1000)


def date_model() -> DateModel:
    """The trained date model that exercise 7's last cell decodes (``python -m
    rnncourse.experiments.ch07_seq2seq --part model`` stored it)."""
    arrays = load_arrays("ch07_seq2seq_date_model")
    source = PairVocabulary([str(t) for t in arrays.pop("source_tokens")], characters)
    target = PairVocabulary([str(t) for t in arrays.pop("target_tokens")], characters)
    return DateModel(NumpySeq2Seq(arrays), source, target)


# -- Part 5: corpus BLEU ----------------------------------------------------------------

VISIBLE_BLEU = (
    (
        ["the", "cat", "sat", "on", "the", "mat"],
        ["there", "is", "a", "cat", "on", "the", "mat"],
        ["the", "the", "the", "the", "the"],
    ),
    (
        ["the", "cat", "is", "sitting", "on", "the", "mat"],
        ["there", "is", "a", "cat", "on", "the", "mat"],
        ["the", "cat", "is", "here"],
    ),
)


def random_corpus(seed: int, n: int, words: int = 8) -> tuple[list[list[str]], list[list[str]]]:
    """``n`` references of 3..11 tokens, and hypotheses made from them by dropping, changing and adding words."""
    rng = np.random.default_rng(seed)
    vocabulary = [f"w{i}" for i in range(words)]
    references = [[str(w) for w in rng.choice(vocabulary, size=int(rng.integers(3, 12)))] for _ in range(n)]
    hypotheses = []
    for reference in references:
        kept = [
            w if rng.random() > 0.25 else str(rng.choice(vocabulary))
            for w in reference
            if rng.random() > 0.15
        ]
        hypotheses.append(kept + [str(w) for w in rng.choice(vocabulary, size=int(rng.integers(0, 3)))])
    return hypotheses, references


def _visible_bleu() -> list[parts.Case]:
    hypotheses, references = random_corpus(50, 12)
    return [
        parts.Case(
            "three sentences", ([list(h) for h in VISIBLE_BLEU[0]], [list(r) for r in VISIBLE_BLEU[1]])
        ),
        parts.Case("random corpus of 12", (hypotheses, references)),
    ]


def _longer_hypotheses(rng: np.random.Generator) -> tuple[list[list[str]], list[list[str]]]:
    hypotheses, references = random_corpus(parts.seed_of(rng), 10, 5)
    return [h + h[:3] for h in hypotheses], references


def _one_sentence(rng: np.random.Generator) -> tuple[list[list[str]], list[list[str]]]:
    _, references = random_corpus(parts.seed_of(rng), 1, 3)
    return [references[0][:-1] + ["w0"]], references[:1]


def _no_four_gram(rng: np.random.Generator) -> tuple[list[list[str]], list[list[str]]]:
    """Every fourth word of every hypothesis replaced by one no reference holds: no 4-gram matches."""
    hypotheses, references = random_corpus(parts.seed_of(rng), 12, 6)
    return [[w if i % 4 != 3 else "zz" for i, w in enumerate(h)] for h in hypotheses], references


_HIDDEN_BLEU: dict[str, parts.Draw] = {
    "hypotheses longer than references": _longer_hypotheses,
    "one sentence": _one_sentence,
    "a larger corpus": lambda rng: random_corpus(parts.seed_of(rng), 40, 12),
    "a corpus of repeated words": lambda rng: random_corpus(parts.seed_of(rng), 15, 3),
    "no 4-gram matches anywhere": _no_four_gram,
}


def _sacrebleu(hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> float:
    joined = [" ".join(h) for h in hypotheses]
    return float(
        sacrebleu.corpus_bleu(
            joined, [[" ".join(r) for r in references]], tokenize="none", smooth_method="none"
        ).score
        / 100.0
    )


def _gram_counts(
    hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]], orders: int, clip: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Matches and hypothesis n-grams (sentences, orders): clipped, or every hypothesis n-gram in the reference."""
    matches, totals = np.zeros((len(hypotheses), orders)), np.zeros((len(hypotheses), orders))
    for i, (h, r) in enumerate(zip(hypotheses, references)):
        for n in range(1, orders + 1):
            matches[i, n - 1], totals[i, n - 1] = clipped_matches(h, r, n)
            if not clip:
                ref = ngrams(r, n)
                matches[i, n - 1] = sum(count for gram, count in ngrams(h, n).items() if gram in ref)
    return matches, totals


def _bleu_variant(
    hypotheses: Sequence[Sequence[str]],
    references: Sequence[Sequence[str]],
    clip: bool = True,
    penalty: Callable[[int, int], float] = brevity_penalty,
    weights: Sequence[float] = (0.25, 0.25, 0.25, 0.25),
    smooth: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    average: str = "geometric",
    sentence_penalty: bool = False,
    sentence_precisions: bool = False,
) -> float:
    """Corpus BLEU as the notebook defines it (the defaults), or with one of the named mistakes.

    ``smooth(matches, totals)`` returns smoothed precisions (4,); ``average``
    "arithmetic" averages the precisions instead of taking their geometric
    mean; ``sentence_penalty`` averages the sentences' brevity penalties;
    ``sentence_precisions`` averages the sentences' precisions.
    """
    matches, totals = _gram_counts(hypotheses, references, len(weights), clip)
    if sentence_precisions:
        with np.errstate(divide="ignore", invalid="ignore"):
            precisions = np.nanmean(np.where(totals > 0, matches / totals, np.nan), axis=0)
    elif smooth is not None:
        precisions = smooth(matches.sum(axis=0), totals.sum(axis=0))
    else:
        precisions = matches.sum(axis=0) / np.maximum(totals.sum(axis=0), 1)
    if min(precisions) <= 0 or not np.all(np.isfinite(precisions)):
        return 0.0
    if sentence_penalty:
        bp = float(np.mean([penalty(len(h), len(r)) for h, r in zip(hypotheses, references)]))
    else:
        bp = penalty(sum(len(h) for h in hypotheses), sum(len(r) for r in references))
    if average == "arithmetic":
        return bp * float(np.dot(weights, precisions))
    return bp * math.exp(sum(w * math.log(p) for w, p in zip(weights, precisions)))


def _add_one(matches: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Add-one smoothing of every order above 1 (sacrebleu's "add-k", k = 1)."""
    smoothed = (matches + 1.0) / (totals + 1.0)
    smoothed[0] = matches[0] / totals[0]
    return smoothed


def _floor(matches: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """A zero count replaced by 0.1 (sacrebleu's "floor")."""
    return np.where(matches > 0, matches, 0.1) / totals


def _exp_smoothing(matches: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """The k-th zero count replaced by 1 / 2^k (Chen and Cherry's method 3, sacrebleu's "exp")."""
    zeros = np.cumsum(matches == 0)
    return np.where(matches > 0, matches, 1.0 / 2.0**zeros) / totals


@parts.verifier
def _verify_bleu(case: parts.Case, result: object) -> None:
    name = "corpus_bleu"
    parts.raise_if_error(name, result, case)
    hypotheses, references = case.args
    value = _scalar(name, result, "BLEU (between 0 and 1)")
    expected = _sacrebleu(hypotheses, references)
    if expected > 0 and abs(value - 100 * expected) < 1e-6 * 100 * expected:
        raise core.GradingFailure(
            f"{name} returned BLEU times 100 (as sacrebleu prints it); return it between 0 and 1."
        )
    h, r = hypotheses, references
    no_smoothing = "corpus BLEU is not smoothed: p_n = m_n / t_n, and BLEU is 0 when some order has no match"
    mistakes = {
        "n-gram counts are not clipped: a hypothesis n-gram matches at most as many times as the reference "
        "holds it, min(count_h, count_r)": _bleu_variant(h, r, clip=False),
        "the brevity penalty is inverted: it is exp(1 - r / c) when the hypotheses are SHORTER (c <= r), "
        "1 when they are longer": _bleu_variant(
            h, r, penalty=lambda c, n: 1.0 if c <= n else math.exp(1.0 - c / n)
        ),
        "the brevity penalty's ratio is upside down: it is exp(1 - r / c), with c the hypotheses' total "
        "length and r the references'": _bleu_variant(
            h, r, penalty=lambda c, n: 1.0 if c > n else math.exp(1.0 - c / n)
        ),
        "the brevity penalty is applied to longer hypotheses too: it is 1 when c > r": _bleu_variant(
            h, r, penalty=lambda c, n: math.exp(1.0 - n / c)
        ),
        "the brevity penalty is missing: multiply by exp(1 - r / c) when c <= r": _bleu_variant(
            h, r, penalty=lambda c, n: 1.0
        ),
        "the brevity penalty is computed sentence by sentence and averaged: it is one penalty for the "
        "corpus, from the total lengths c and r": _bleu_variant(h, r, sentence_penalty=True),
        "the precisions are weighted 1/2^n (as in Dive into Deep Learning); BLEU's weights are uniform, 1/4 each": _bleu_variant(
            h, r, weights=(0.5, 0.25, 0.125, 0.0625)
        ),
        "n stops at 3: BLEU uses the n-grams of n = 1, 2, 3 and 4 (range(1, 5))": _bleu_variant(
            h, r, weights=(1 / 3, 1 / 3, 1 / 3)
        ),
        "the precisions are averaged arithmetically: BLEU takes their geometric mean, "
        "exp(sum_n 1/4 log p_n)": _bleu_variant(h, r, average="arithmetic"),
        "the precisions are averaged over sentences: corpus BLEU sums the matches and the n-gram counts "
        "over all sentences first, then divides": _bleu_variant(h, r, sentence_precisions=True),
        f"add-one smoothing: {no_smoothing}": _bleu_variant(h, r, smooth=_add_one),
        f"a zero count is floored (smoothing): {no_smoothing}": _bleu_variant(h, r, smooth=_floor),
        f"zero counts are smoothed (sentence BLEU's exp method): {no_smoothing}": _bleu_variant(
            h, r, smooth=_exp_smoothing
        ),
        "this is the mean of sentence scores: corpus BLEU sums the matches, n-gram counts and lengths over "
        "all sentences first, then takes the ratios": float(
            np.mean([sentence_bleu(a, b) for a, b in zip(h, r)])
        ),
        "this is the mean of unsmoothed sentence scores: corpus BLEU sums the matches, n-gram counts and "
        "lengths over all sentences first, then takes the ratios": float(
            np.mean([_bleu_variant([a], [b]) for a, b in zip(h, r)])
        ),
    }
    if expected == 0.0 and value != 0.0:
        named = [
            d for d, wrong in mistakes.items() if wrong != 0.0 and abs(wrong - value) <= 1e-9 * abs(value)
        ]
        cause = f" Likely mistake: {'; or '.join(named)}." if named else ""
        raise core.GradingFailure(
            f"{name} gives {value:.4g}, but some n-gram order has no match in the whole corpus, so BLEU is 0: "
            f"return 0 without smoothing.{cause}"
        )
    _compare_scalar(value, expected, name, mistakes)


CORPUS_BLEU = parts.Part(
    grade_id="test_corpus_bleu",
    function="corpus_bleu",
    title="Part 5: corpus BLEU",
    points=3,
    visible=_visible_bleu,
    hidden=_HIDDEN_BLEU,
    verify=_verify_bleu,
    parameters=("hypotheses", "references"),
)


def corpus_bleu(fn: Callable[..., float]) -> None:
    """``corpus_bleu(hypotheses, references)`` -> BLEU in [0, 1], as sacrebleu computes it (divided by 100)."""
    parts.run_part_in_process(CORPUS_BLEU, fn)


#: The graded parts, in notebook order.
PARTS: list[parts.Part] = [MASKED_CROSS_ENTROPY, ADDITIVE_ATTENTION, GREEDY_DECODE, BEAM_SEARCH, CORPUS_BLEU]
