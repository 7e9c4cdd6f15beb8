"""Exercise 7's checks, called directly: right answers pass, each named mistake is named.

The correct answers are the notebook's solutions and the differently written
ones of ``ch07_seq2seq_answers``; the mistakes are written out below, one
function each, and every one must fail with the message that names it.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sacrebleu

from rnncourse.evaluation.bleu import corpus_bleu as course_bleu
from rnncourse.grading import ch07_seq2seq as check
from rnncourse.grading.core import GradingFailure
from rnncourse.grading.parts import defined_alone
from rnncourse.grading.substitutes import ch07_seq2seq as given
from tests.grading import ch07_seq2seq_answers as answers
from tests.grading.hidden import graded_cases, hidden_cases, run_hidden

SOLUTION = Path(__file__).resolve().parents[2] / "solutions" / "ch07_seq2seq" / "ch07_seq2seq.ipynb"


def _namespace() -> dict[str, Any]:
    """The notebook's setup: what an answer cell may use."""
    namespace: dict[str, Any] = {"np": np, "math": math, "Counter": Counter}
    namespace["step_log_probs"] = defined_alone(given.step_log_probs)
    return namespace


def _define(source: str, name: str) -> Any:
    namespace = _namespace()
    exec(source, namespace)
    return namespace[name]


def _solutions() -> dict[str, str]:
    cells = json.loads(SOLUTION.read_text())["cells"]
    return {
        c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"])
        for c in cells
        if c["metadata"].get("nbgrader", {}).get("solution")
    }


PARTS = {p.function: p for p in check.PARTS}
PART_CHECKS = {
    "masked_cross_entropy": check.masked_cross_entropy,
    "additive_attention": check.additive_attention,
    "greedy_decode": check.greedy_decode,
    "beam_search": check.beam_search,
    "corpus_bleu": check.corpus_bleu,
}


@pytest.mark.parametrize("part", list(PART_CHECKS))
@pytest.mark.parametrize("kind", ["solution", "alternative"])
def test_correct_answers_pass_every_case(part: str, kind: str) -> None:
    source = _solutions()[part] if kind == "solution" else answers.ALTERNATIVE[part]
    function = _define(source, part)
    PART_CHECKS[part](function)
    run_hidden(PARTS[part], function)


def test_parts_and_points() -> None:
    assert [p.function for p in check.PARTS] == list(PART_CHECKS)
    assert sum(p.points for p in check.PARTS) == 13
    for part in check.PARTS:
        cases = graded_cases(part)
        assert any(c.hidden for c in cases) and any(not c.hidden for c in cases)


def test_the_bleu_check_agrees_with_sacrebleu_and_the_course() -> None:
    for case in graded_cases(check.CORPUS_BLEU):
        hypotheses, references = case.args
        theirs = sacrebleu.corpus_bleu(
            [" ".join(h) for h in hypotheses],
            [[" ".join(r) for r in references]],
            tokenize="none",
            smooth_method="none",
        ).score
        if case.name == "no 4-gram matches anywhere":  # the one case whose BLEU is 0, by construction
            assert theirs == 0.0 and check._bleu_variant(hypotheses, references, smooth=check._floor) > 0.01
        else:
            assert theirs > 10.0, case.name  # no other case is a trivial zero
        assert abs(100 * course_bleu(hypotheses, references) - theirs) < 1e-9
        assert abs(100 * check._bleu_variant(hypotheses, references) - theirs) < 1e-9


@pytest.mark.parametrize("seed", range(40))
def test_the_beam_procedure_of_the_check_is_the_course_reference(seed: int) -> None:
    from rnncourse.scratch.decoding import beam_search as reference

    rng = np.random.default_rng(seed)
    V, L, k, alpha = (
        int(rng.integers(2, 7)),
        int(rng.integers(1, 7)),
        int(rng.integers(1, 6)),
        rng.uniform(0, 2),
    )
    table = check.random_table(seed, L, V, rng.normal())
    step = lambda tokens, t: (table[t, tokens], t + 1)  # noqa: E731
    best = reference(step, np.zeros(1, dtype=np.int64), check.BOS, check.EOS, k, L, alpha)[0]
    tokens, score = check.beam_variant(table, k, L, alpha)
    assert tokens == list(best.tokens) and abs(score - best.score) < 1e-12


@pytest.mark.parametrize(
    "secret", [b"first secret for the beam cases!!", b"second secret for the beam cases!"]
)
def test_the_structured_beam_cases_tell_their_mistake_apart(secret: bytes) -> None:
    cases = {c.name: c for c in hidden_cases(check.BEAM_SEARCH, secret)}
    for name, mistake in [
        ("one finishes early, the best is live at max_len", {"live_at_max_len": False}),
        ("the beam shrinks when one finishes", {"shrink": False}),
    ]:
        table, _, _, k, max_len, alpha = cases[name].args
        right, wrong = (
            check.beam_variant(table, k, max_len, alpha),
            check.beam_variant(table, k, max_len, alpha, **mistake),
        )
        assert right[0] != wrong[0], name
        assert np.allclose(np.exp(table).sum(axis=-1), 1.0)  # rows are log-probabilities


def test_the_stored_date_model_decodes_dates_with_the_course_decoders() -> None:
    from rnncourse.scratch.decoding import beam_search as reference

    model = check.date_model()
    dates = model.test_dates(30)
    right = 0
    for date, iso in dates:
        decoder = model.decoder(date)
        greedy = _define(_solutions()["greedy_decode"], "greedy_decode")
        given = _namespace()["step_log_probs"]
        assert np.array_equal(given(decoder, [model.bos]), decoder.log_probs([model.bos]))
        tokens = greedy(decoder, model.bos, model.eos, 12)
        right += model.text(tokens) == iso
        best = reference(
            model.network.step_function(),
            model.network.encode(model.source.encode(date)),
            model.bos,
            model.eos,
            3,
            12,
        )[0]
        beam = _define(_solutions()["beam_search"], "beam_search")
        assert beam(decoder, model.bos, model.eos, 3, 12, 0.0)[0] == list(best.tokens)
    assert right >= 27  # the stored model got 99.7% of the chapter's 300 test dates right


def test_the_hand_made_tables_give_the_answers_the_text_states() -> None:
    greedy = _define(_solutions()["greedy_decode"], "greedy_decode")
    beam = _define(_solutions()["beam_search"], "beam_search")
    assert greedy(check.trap_table(), 1, 0, 2) == [2, 0]
    tokens, score = beam(check.trap_table(), 1, 0, 2, 2, 0.0)
    assert tokens == [1, 0] and abs(score - (-1.11)) < 1e-12
    assert beam(check.length_table(), 1, 0, 2, 3, 0.0)[0] == [0]
    tokens, score = beam(check.length_table(), 1, 0, 2, 3, 1.0)
    assert tokens == [1, 1, 0] and abs(score - (-1.2 / (8 / 6))) < 1e-12


# -- mistakes: each one is named -------------------------------------------------------

LOSS_START = """
def masked_cross_entropy(logits, y, lengths):
    N, T, V = logits.shape
    z = logits - logits.max(axis=-1, keepdims=True)
    lp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    tok = -np.take_along_axis(lp, y[:, {target}, None], axis=-1)[..., 0]
    mask = np.arange(T)[None, :] < lengths[:, None]
    return float({value})
"""

ATTENTION_START = """
def additive_attention(query, keys, mask, W_q, W_k, v):
    pre = (query @ W_q.T)[:, None, :] + keys @ W_k.T
    scores = {scores}
    {masking}
    e = np.exp(scores - scores.max(axis={axis}, keepdims=True))
    w = e / e.sum(axis={axis}, keepdims=True)
    {after}
    return {context}, w
"""

_ATT = {
    "scores": "np.tanh(pre) @ v",
    "masking": "scores = np.where(mask > 0, scores, -np.inf)",
    "axis": "1",
    "after": "",
    "context": "(w[:, :, None] * keys).sum(axis=1)",
}

BLEU_START = """
def corpus_bleu(hypotheses, references):
    def grams(tokens, n):
        return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    m = np.array([[sum((grams(h, n) & grams(r, n)).values()) for n in range(1, 5)]
                  for h, r in zip(hypotheses, references)], dtype=float)
    t = np.array([[max(len(h) - n + 1, 0) for n in range(1, 5)] for h in hypotheses], dtype=float)
    {precisions}
    if min(p) <= 0:
        return 0.0
    {average}
    {penalty}
"""
_CORPUS = "p = m.sum(0) / t.sum(0)"
_ADD_ONE = "p = np.concatenate([[m.sum(0)[0] / t.sum(0)[0]], (m.sum(0)[1:] + 1) / (t.sum(0)[1:] + 1)])"
_FLOOR = "p = np.where(m.sum(0) > 0, m.sum(0), 0.1) / t.sum(0)"
_PER_SENTENCE = (
    "p = np.array([np.mean([m[i, n] / t[i, n] for i in range(len(m)) if t[i, n] > 0]) for n in range(4)])"
)
_GEOMETRIC = "score = math.exp(np.mean(np.log(p)))"
_ARITHMETIC = "score = float(np.mean(p))"
_BP = """c, r = sum(map(len, hypotheses)), sum(map(len, references))
    return score * (1.0 if c > r else math.exp(1 - r / c))"""
_SENTENCE_BP = """return score * np.mean([1.0 if len(h) > len(r) else math.exp(1 - len(r) / len(h))
                            for h, r in zip(hypotheses, references)])"""

MISTAKES = [
    ("masked_cross_entropy", LOSS_START.format(target="1:", value="tok.mean()"), "the mask is ignored"),
    (
        "masked_cross_entropy",
        LOSS_START.format(target="1:", value="(tok * mask).sum() / (N * T)"),
        "divided by N*T",
    ),
    (
        "masked_cross_entropy",
        LOSS_START.format(target=":-1", value="(tok * mask).sum() / mask.sum()"),
        "off by one between decoder input and target",
    ),
    (
        "masked_cross_entropy",
        LOSS_START.format(target="1:", value="np.mean((tok * mask).sum(1) / lengths)"),
        "each sequence is averaged first",
    ),
    ("masked_cross_entropy", LOSS_START.format(target="1:", value="(tok * mask).sum()"), "this is the sum"),
    ("additive_attention", ATTENTION_START.format(**(_ATT | {"masking": ""})), "softmax over padding"),
    (
        "additive_attention",
        ATTENTION_START.format(**(_ATT | {"masking": "", "after": "w = w * mask"})),
        "masked after the softmax",
    ),
    ("additive_attention", ATTENTION_START.format(**(_ATT | {"scores": "pre @ v"})), "tanh is missing"),
    (
        "additive_attention",
        ATTENTION_START.format(
            **(_ATT | {"context": "(keys * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)"})
        ),
        "plain mean of the keys",
    ),
    (
        "masked_cross_entropy",
        """
def masked_cross_entropy(logits, y, lengths):
    N, T, V = logits.shape
    p = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)  # no shift: overflows
    tok = -np.log(np.take_along_axis(p, y[:, 1:, None], axis=-1)[..., 0])
    mask = np.arange(T)[None, :] < lengths[:, None]
    return float((tok * mask).sum() / mask.sum())
""",
        "exp of such logits overflows",
    ),
    (
        "masked_cross_entropy",
        """
def masked_cross_entropy(logits, y, lengths):
    N, T, V = logits.shape
    z = logits - logits.max(axis=-1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    tok = -np.log(np.take_along_axis(p, y[:, 1:, None], axis=-1)[..., 0])  # log of a rounded 0
    mask = np.arange(T)[None, :] < lengths[:, None]
    return float((tok * mask).sum() / mask.sum())
""",
        "a probability rounds to 0",
    ),
    ("greedy_decode", answers.WRONG["greedy_decode"], "leave <bos> out"),
    (
        "greedy_decode",
        """
def greedy_decode(decoder, bos, eos, max_len):
    read = [bos]
    for t in range(max_len):
        read.append(int(np.argmax(step_log_probs(decoder, read))))
    return read[1:]
""",
        "stop at the first <eos>",
    ),
    (
        "greedy_decode",
        """
def greedy_decode(decoder, bos, eos, max_len):
    read = [bos]
    for t in range(max_len):
        token = int(np.argmax(step_log_probs(decoder, read)))
        if token == eos:
            break
        read.append(token)
    return read[1:]
""",
        "Likely mistake: keep the <eos> token",
    ),
    (
        "greedy_decode",
        """
def greedy_decode(decoder, bos, eos, max_len):
    read = [bos]
    for t in range(max_len - 1):
        read.append(int(np.argmax(step_log_probs(decoder, read))))
        if read[-1] == eos:
            break
    return read[1:]
""",
        "Likely mistake: the loop stops one step early",
    ),
    (
        "greedy_decode",
        """
def greedy_decode(decoder, bos, eos, max_len):
    out = []
    for t in range(max_len):
        out.append(int(np.argmax(step_log_probs(decoder, out))))
        if out[-1] == eos:
            break
    return out
""",
        "<bos> first: [bos] at the first step",
    ),
    ("beam_search", answers.WRONG["beam_search"], "the length penalty is inverted"),
    (
        "beam_search",
        answers.ALTERNATIVE["beam_search"].replace("math.pow((5.0 + len(prefix)) / 6.0, alpha)", "1.0"),
        "the length penalty is missing",
    ),
    (
        "beam_search",
        answers.ALTERNATIVE["beam_search"].replace(
            "math.pow((5.0 + len(prefix)) / 6.0, alpha)", "math.pow(len(prefix), alpha)"
        ),
        "divides by the length itself",
    ),
    (
        "beam_search",
        answers.ALTERNATIVE["beam_search"].replace("[:beam_size]", "[:1]"),
        "returned the greedy output",
    ),
    (
        "beam_search",
        answers.ALTERNATIVE["beam_search"].replace(
            """        beams = {p: s for p, s in best if p[-1] != eos}""",
            """        beams = dict([(p, s) for p, s in sorted(expanded.items(), key=lambda item: item[1], reverse=True)
                      if p[-1] != eos][:beam_size])""",
        ),
        "the beam never shrinks",
    ),
    (
        "beam_search",
        answers.ALTERNATIVE["beam_search"].replace(
            "    done.update(beams)\n", "    if not done:\n        done.update(beams)\n"
        ),
        "the hypotheses still live after the last step are left out",
    ),
    ("corpus_bleu", answers.WRONG["corpus_bleu"], "n-gram counts are not clipped"),
    (
        "corpus_bleu",
        answers.ALTERNATIVE["corpus_bleu"].replace("min(0.0, 1.0 - r / c)", "min(0.0, 1.0 - c / r)"),
        "the brevity penalty is inverted",
    ),
    (
        "corpus_bleu",
        answers.ALTERNATIVE["corpus_bleu"].replace(" + min(0.0, 1.0 - r / c)", ""),
        "the brevity penalty is missing",
    ),
    ("corpus_bleu", answers.ALTERNATIVE["corpus_bleu"].replace("0.25 * (", "0.5 ** n * ("), "weighted 1/2^n"),
    (
        "corpus_bleu",
        answers.ALTERNATIVE["corpus_bleu"].replace("min(0.0, 1.0 - r / c)", "1.0 - r / c"),
        "applied to longer hypotheses too",
    ),
    (
        "corpus_bleu",
        answers.ALTERNATIVE["corpus_bleu"]
        .replace("for n in (4, 3, 2, 1):", "for n in (3, 2, 1):")
        .replace("0.25 * (", "(1 / 3) * ("),
        "n stops at 3",
    ),
    (
        "corpus_bleu",
        BLEU_START.format(precisions=_CORPUS, average=_ARITHMETIC, penalty=_BP),
        "averaged arithmetically",
    ),
    (
        "corpus_bleu",
        BLEU_START.format(precisions=_ADD_ONE, average=_GEOMETRIC, penalty=_BP),
        "add-one smoothing",
    ),
    (
        "corpus_bleu",
        BLEU_START.format(precisions=_FLOOR, average=_GEOMETRIC, penalty=_BP),
        "a zero count is floored",
    ),
    (
        "corpus_bleu",
        BLEU_START.format(precisions=_PER_SENTENCE, average=_GEOMETRIC, penalty=_BP),
        "averaged over sentences",
    ),
    (
        "corpus_bleu",
        BLEU_START.format(precisions=_CORPUS, average=_GEOMETRIC, penalty=_SENTENCE_BP),
        "computed sentence by sentence",
    ),
    (
        "corpus_bleu",
        BLEU_START.format(
            precisions=_CORPUS, average=_GEOMETRIC, penalty=_BP.replace("1 - r / c", "1 - c / r")
        ),
        "ratio is upside down",
    ),
    (
        "corpus_bleu",
        answers.ALTERNATIVE["corpus_bleu"].replace(
            "return math.exp(log_sum + min(0.0, 1.0 - r / c))",
            "return 100 * math.exp(log_sum + min(0.0, 1.0 - r / c))",
        ),
        "times 100",
    ),
]


@pytest.mark.parametrize(("part", "source", "message"), MISTAKES, ids=[f"{p}-{m}" for p, _, m in MISTAKES])
def test_each_mistake_fails_with_its_name(part: str, source: str, message: str) -> None:
    function = _define(source, part)
    with pytest.raises(GradingFailure) as failure:
        PART_CHECKS[part](function)
        run_hidden(PARTS[part], function)
    assert message in str(failure.value), str(failure.value)


def test_mean_of_sentence_bleus_is_named() -> None:
    from rnncourse.evaluation.bleu import sentence_bleu

    def mean_of_sentences(hypotheses, references):
        return float(np.mean([sentence_bleu(h, r) for h, r in zip(hypotheses, references)]))

    case = check.CORPUS_BLEU.visible()[1]
    message = check.CORPUS_BLEU.verify(case, mean_of_sentences(*case.args))
    assert message is not None and "mean of sentence scores" in message


def test_hidden_messages_do_not_show_expected_tokens() -> None:
    wrong = _define(
        answers.ALTERNATIVE["beam_search"].replace("[:beam_size]", "[:beam_size + 1]"), "beam_search"
    )
    for case in hidden_cases(check.BEAM_SEARCH):
        if case.hidden:
            message = check.BEAM_SEARCH.verify(case, wrong(*case.args))
            assert message is None or "Expected" not in message
