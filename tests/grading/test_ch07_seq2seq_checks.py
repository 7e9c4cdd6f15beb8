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
        assert theirs > 10.0, case.name  # no case is a trivial zero
        assert abs(100 * course_bleu(hypotheses, references) - theirs) < 1e-9


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
    ("greedy_decode", answers.WRONG["greedy_decode"], "leave <bos> out"),
    (
        "greedy_decode",
        """
def greedy_decode(scores, bos, eos, max_len):
    out, prev = [], bos
    for t in range(max_len):
        prev = int(np.argmax(step_log_probs(scores, t, prev)))
        out.append(prev)
    return out
""",
        "stop at the first <eos>",
    ),
    (
        "greedy_decode",
        """
def greedy_decode(scores, bos, eos, max_len):
    out, prev = [], bos
    for t in range(max_len):
        prev = int(np.argmax(step_log_probs(scores, t, prev)))
        if prev == eos:
            break
        out.append(prev)
    return out
""",
        "keep the <eos> token",
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
