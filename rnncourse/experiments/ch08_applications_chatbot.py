"""Chapter 8, the chatbot: a sequence-to-sequence model measured by what moves.

==========================  ===============================================================
name                        what it is for
==========================  ===============================================================
``chat_split``              chatterbot-corpus pairs, each once, split at random within topics
``reply_only``              the same pairs without their prompts: a language model's data
``train_chat_model``        ``Seq2Seq`` with early stopping, from scratch or from another model
``train_models``            the page's three models on one split (``ChatRun``)
``pair_log_probs``          ``log p(reply | prompt)`` of pairs, and their lengths
``held_out_perplexity``     perplexity per word of the reference replies of held-out pairs
``greedy_replies``          the most likely word at every step
``sampled_replies``         words drawn from the model's distribution at a temperature
``retrieval_scores``        the baseline scorers of candidate replies (``TfIdf`` cosines)
``recall_scores``           recall@1 of 10 for every scorer, MMI at every weight
``mmi_rerank``              the candidate with the highest MMI score, per prompt
``chat_scores``             recall, diversity and examples of one split
``run``                     the stored result
==========================  ===============================================================

The measures are ``rnncourse.evaluation.dialogue``'s; the model is
``rnncourse.models.seq2seq.Seq2Seq`` (bidirectional GRU encoder, additive
attention) trained with ``rnncourse.training.fit`` and early stopping on the
validation loss. ``python -m rnncourse.experiments.ch08_applications_chatbot``
makes the stored run, ``rnncourse/results/ch08_applications_chatbot.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnncourse.data.dialogue import dialogue_pairs, topics
from rnncourse.data.pairs import BOS_ID, EOS_ID, PairVocabulary, encode_pairs, words
from rnncourse.evaluation.dialogue import (
    candidate_sets,
    distinct_n,
    mmi_scores,
    perplexity,
    recall_at_1,
    sequence_log_probs,
    top_reply_share,
)
from rnncourse.models.retrieval import RetrievalModel
from rnncourse.models.seq2seq import Seq2Seq, pair_batches, seq2seq_loss
from rnncourse.nn.sampling import sample_next
from rnncourse.scratch.decoding import greedy_search
from rnncourse.training import ShuffledBatches, fit

__all__ = [
    "ChatModel",
    "chat_scores",
    "chat_split",
    "greedy_replies",
    "pair_log_probs",
    "reply_only",
    "retrieval_scores",
    "sampled_replies",
    "train_chat_model",
]

Pairs = list[tuple[str, str]]

#: Longest prompt and reply kept, in words: a few replies are whole paragraphs.
MAX_WORDS = 20
DATA = "chatterbot-corpus 1.3.3 (BSD-3), the 21 English topic files, each distinct pair once"
SPLIT = "random within each topic: 80% train, 10% validation, 10% test"


def chat_split(seed: int, test_share: float = 0.1, val_share: float = 0.1) -> tuple[Pairs, Pairs, Pairs]:
    """(train, validation, test) pairs of at most ``MAX_WORDS`` words a side, drawn at random within
    each topic, so that every topic is in every part (a split by whole topic files would test on
    subjects the bot never saw).

    Each distinct (prompt, reply) pair is kept once, in its first place: the corpus
    repeats some pairs (``tech_support.yml`` is 10 pairs written 1,050 times), and a
    copy of a training pair in the test would be answered from memory.
    """
    if min(test_share, val_share) <= 0 or test_share + val_share >= 1:
        raise ValueError(f"shares must be positive with a sum below 1, got {test_share}, {val_share}")
    rng = np.random.default_rng(seed)
    train: Pairs = []
    val: Pairs = []
    test: Pairs = []
    for topic in topics():
        kept = (
            p
            for p in dialogue_pairs(topic, skip_malformed=True)
            if max(len(words(p[0])), len(words(p[1]))) <= MAX_WORDS
        )
        pairs = list(dict.fromkeys(kept))  # each pair once: tech_support repeats 10 pairs 1,050 times
        order = rng.permutation(len(pairs))
        n_test, n_val = round(test_share * len(pairs)), round(val_share * len(pairs))
        test += [pairs[i] for i in order[:n_test]]
        val += [pairs[i] for i in order[n_test : n_test + n_val]]
        train += [pairs[i] for i in order[n_test + n_val :]]
    return train, val, test


def reply_only(pairs: Sequence[tuple[str, str]]) -> Pairs:
    """The pairs with every prompt emptied: a model trained on them is a language model of replies."""
    return [("", reply) for _, reply in pairs]


@dataclass
class ChatModel:
    """A trained ``Seq2Seq``, its two vocabularies and its ``fit`` history (losses in nats per token)."""

    model: Seq2Seq
    source: PairVocabulary
    target: PairVocabulary
    train_loss: list[float]
    val_loss: list[float]
    best_epoch: int


def train_chat_model(
    train: Sequence[tuple[str, str]],
    val: Sequence[tuple[str, str]],
    target: PairVocabulary,
    max_epochs: int = 40,
    embed: int = 64,
    hidden: int = 128,
    batch_size: int = 32,
    lr: float = 2e-3,
    patience: int = 3,
    seed: int = 0,
    start_from: Seq2Seq | None = None,
) -> ChatModel:
    """``Seq2Seq`` (bidirectional GRU encoder, additive attention) on (prompt, reply) pairs.

    The source vocabulary keeps the prompts' words seen at least twice; the
    target vocabulary ``target`` is given, so that a chatbot and a language
    model of replies predict the same words and their perplexities compare.
    Adam, gradient norm clipped at 1; after every epoch the validation loss;
    training stops after ``patience`` epochs without a lower one and the best
    weights are restored (``rnncourse.training.fit``).

    ``start_from``: a trained ``Seq2Seq`` of the same sizes and target words (the
    reply-only language model) whose weights start this one, all but the
    prompts' embedding: its decoder already writes replies, and training
    only has to learn what the prompt adds (pre-training the decoder as a
    language model, Ramachandran et al. 2017).
    """
    torch.manual_seed(seed)
    source = PairVocabulary.from_texts([s for s, _ in train], words, min_count=2)
    model = Seq2Seq(len(source), len(target), embed, hidden, "additive", bidirectional=True)
    if start_from is not None:  # every weight but the prompt's embedding, which has other words
        mine = model.state_dict()
        model.load_state_dict(
            {k: v for k, v in start_from.state_dict().items() if not k.startswith("encoder.embedding")}
            | {k: v for k, v in mine.items() if k.startswith("encoder.embedding")}
        )
    make_val = pair_batches(val, source, target)
    val_batches = [make_val(torch.arange(i, min(i + 256, len(val)))) for i in range(0, len(val), 256)]
    history = fit(
        model,
        ShuffledBatches(
            len(train),
            batch_size,
            pair_batches(train, source, target),
            torch.Generator().manual_seed(seed),
        ),
        val_batches,
        seq2seq_loss,
        torch.optim.Adam(model.parameters(), lr=lr),
        max_epochs,
        clip_norm=1.0,
        patience=patience,
        progress=False,
        seed=None,
    )
    model.eval()
    return ChatModel(
        model, source, target, history.train_loss, history.val_loss, int(history.best_epoch or 0)
    )


def pair_log_probs(chat: ChatModel, pairs: Sequence[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    """(log p(reply | prompt) summed over the reply's tokens with its ``<eos>``, the number of those
    tokens), each (n,), under the model in eval mode."""
    src, src_len, tgt, tgt_len = (torch.from_numpy(a) for a in encode_pairs(pairs, chat.source, chat.target))
    chat.model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(pairs), 256):
            rows = slice(i, i + 256)
            logits, _ = chat.model(src[rows], src_len[rows], tgt[rows, :-1])
            out.append(sequence_log_probs(logits, tgt[rows, 1:], tgt_len[rows]))
    return torch.cat(out).numpy(), tgt_len.numpy().astype(np.float64)


def _encoded(chat: ChatModel, prompts: Sequence[str]) -> Any:
    src, src_len, _, _ = encode_pairs([(p, "") for p in prompts], chat.source, chat.target)
    chat.model.eval()
    with torch.no_grad():
        return chat.model.encode(torch.from_numpy(src), torch.from_numpy(src_len))


def greedy_replies(chat: ChatModel, prompts: Sequence[str], max_len: int = 25) -> list[list[str]]:
    """The most likely word at every step until ``<eos>``: one word list per prompt."""
    tokens, _ = greedy_search(chat.model.step_function(), _encoded(chat, prompts), BOS_ID, EOS_ID, max_len)
    return [chat.target.decode(row.tolist()) for row in tokens]


def sampled_replies(
    chat: ChatModel,
    prompts: Sequence[str],
    samples: int,
    temperature: float,
    rng: np.random.Generator,
    max_len: int = 25,
) -> list[list[list[str]]]:
    """``samples`` replies per prompt, each word drawn from ``softmax(logits / temperature)``."""
    encoded = _encoded(chat, [p for p in prompts for _ in range(samples)])
    state, tokens = encoded.state, np.full(len(prompts) * samples, BOS_ID, dtype=np.int64)
    rows = np.full((len(tokens), max_len), EOS_ID, dtype=np.int64)
    with torch.no_grad():
        for t in range(max_len):
            logits, state, _ = chat.model.decoder.step(
                torch.from_numpy(tokens), state, encoded.memory, encoded.mask, encoded.summary
            )
            tokens = np.asarray(sample_next(logits.double().numpy(), rng, temperature=temperature))
            rows[:, t] = tokens
    decoded = [chat.target.decode(r.tolist()) for r in rows]
    return [decoded[i * samples : (i + 1) * samples] for i in range(len(prompts))]


class TfIdf:
    """Bags of lower-cased words weighted by inverse document frequency, ``log(N / df(w))``.

    Args:
        texts: the N documents the frequencies are counted in.

    ``vectors(texts)`` -> (n, W) rows of unit length (zero for a text with no
    known word), so that the product of two rows is their cosine.
    """

    def __init__(self, texts: Sequence[str]) -> None:
        if not texts:
            raise ValueError("TfIdf needs at least one text")
        docs = [Counter(w.lower() for w in words(t)) for t in texts]
        df = Counter(w for d in docs for w in d)
        self.index = {w: i for i, w in enumerate(df)}
        self.idf = np.array([math.log(len(docs) / df[w]) + 1e-3 for w in self.index])

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(self.index)))
        for row, text in enumerate(texts):
            for w, n in Counter(w.lower() for w in words(text)).items():
                if w in self.index:
                    out[row, self.index[w]] = n * self.idf[self.index[w]]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)


def retrieval_scores(
    train: Sequence[tuple[str, str]], prompts: Sequence[str], candidates: Sequence[Sequence[str]]
) -> dict[str, np.ndarray]:
    """Two retrieval scorers of candidate replies, each (n, k) for n prompts and k candidates each.

    * ``"cosine of prompt and reply"``: the tf-idf cosine of the prompt and the candidate
      (a reply often repeats its prompt's rare words);
    * ``"cosine with the nearest prompt's reply"``: the cosine of the candidate and the reply
      that ``RetrievalModel`` (the training prompt most like this one) gives: the candidate
      most like what the corpus answered to a similar prompt wins.

    The words' weights are counted on the training prompts and replies.
    """
    tfidf = TfIdf([t for pair in train for t in pair])
    retrieval = RetrievalModel(train)
    prompt_vectors = tfidf.vectors(prompts)  # (n, W)
    nearest_vectors = tfidf.vectors([retrieval.reply(p) for p in prompts])  # (n, W)
    candidate_vectors = np.stack([tfidf.vectors(row) for row in candidates])  # (n, k, W)
    return {
        "cosine of prompt and reply": np.einsum("nw,nkw->nk", prompt_vectors, candidate_vectors),
        "cosine with the nearest prompt's reply": np.einsum("nw,nkw->nk", nearest_vectors, candidate_vectors),
    }


def diversity(replies: Sequence[Sequence[str]]) -> dict[str, Any]:
    """distinct-1, distinct-2, the most frequent reply and its share, of word lists."""
    top, share = top_reply_share([" ".join(r) for r in replies])
    return {
        "distinct-1": round(distinct_n(replies, 1), 4),
        "distinct-2": round(distinct_n(replies, 2), 4),
        "top reply": top,
        "top reply share": round(share, 4),
    }


#: The MMI weights lambda tried on the validation pairs.
MMI_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
#: Candidates per prompt in the ranking test: the true reply and 9 replies to other prompts.
CANDIDATES = 10


def recall_scores(
    bot: ChatModel,
    language_model: ChatModel,
    train: Sequence[tuple[str, str]],
    pairs: Sequence[tuple[str, str]],
    rng: np.random.Generator,
) -> dict[str, float]:
    """Recall@1 of ``CANDIDATES`` candidates on ``pairs`` for every scorer: the two retrieval
    scorers, the reply-only language model, and the chatbot's MMI score at every weight of
    ``MMI_WEIGHTS`` (``"MMI 0.0"`` is plain likelihood per token)."""
    prompts, replies = [p for p, _ in pairs], [r for _, r in pairs]
    sets = candidate_sets(replies, CANDIDATES, rng)
    flat = [(prompts[i], replies[j]) for i, row in enumerate(sets) for j in row]
    log_p, lengths = pair_log_probs(bot, flat)
    log_p_lm, _ = pair_log_probs(language_model, reply_only(flat))
    retrieval = retrieval_scores(train, prompts, [[replies[j] for j in row] for row in sets])
    out = {f"retrieval, {name}": recall_at_1(scores) for name, scores in retrieval.items()}
    out["reply-only language model"] = recall_at_1((log_p_lm / lengths).reshape(sets.shape))
    for weight in MMI_WEIGHTS:
        out[f"MMI {weight}"] = recall_at_1(mmi_scores(log_p, log_p_lm, lengths, weight).reshape(sets.shape))
    return {name: round(value, 4) for name, value in out.items()}


def mmi_rerank(
    bot: ChatModel,
    language_model: ChatModel,
    prompts: Sequence[str],
    pool: Sequence[Sequence[list[str]]],
    weight: float,
) -> list[list[str]]:
    """For every prompt, the candidate of its ``pool`` with the highest MMI score at ``weight``."""
    flat = [(prompts[i], " ".join(c)) for i in range(len(prompts)) for c in pool[i]]
    log_p, lengths = pair_log_probs(bot, flat)
    log_p_lm, _ = pair_log_probs(language_model, reply_only(flat))
    scores = mmi_scores(log_p, log_p_lm, lengths, weight)
    out, start = [], 0
    for candidates in pool:
        out.append(candidates[int(np.argmax(scores[start : start + len(candidates)]))])
        start += len(candidates)
    return out


#: Sampled candidates per prompt for the re-ranking, and their temperature.
POOL_SAMPLES, POOL_TEMPERATURE = 10, 0.7


def chat_scores(
    bot: ChatModel,
    language_model: ChatModel,
    train: Sequence[tuple[str, str]],
    val: Sequence[tuple[str, str]],
    test: Sequence[tuple[str, str]],
    seed: int,
) -> dict[str, Any]:
    """Recall@1 (lambda chosen on ``val``), the replies' diversity for retrieval and for greedy,
    sampled and MMI-re-ranked decoding, and examples."""
    rng = np.random.default_rng(seed)
    prompts = [p for p, _ in test]
    val_recall = recall_scores(bot, language_model, train, val, rng)
    weight = max(MMI_WEIGHTS, key=lambda w: val_recall[f"MMI {w}"])  # the first of the best
    test_recall = recall_scores(bot, language_model, train, test, rng)
    greedy = greedy_replies(bot, prompts)
    samples = sampled_replies(bot, prompts, POOL_SAMPLES, POOL_TEMPERATURE, rng)
    sampled_at_1 = [s[0] for s in sampled_replies(bot, prompts, 1, 1.0, rng)]
    reranked = mmi_rerank(bot, language_model, prompts, [[g, *s] for g, s in zip(greedy, samples)], weight)
    replies = {
        "retrieval": [words(r) for r in (RetrievalModel(train).reply(p) for p in prompts)],
        "seq2seq, greedy": greedy,
        "seq2seq, sampled (T = 1)": sampled_at_1,
        "seq2seq, MMI re-ranking": reranked,
        "reference replies": [words(r) for _, r in test],
    }
    shown = rng.choice(len(prompts), size=8, replace=False)
    return {
        "recall@1 of 10, validation": val_recall,
        "mmi weight": weight,
        "recall@1 of 10": test_recall,
        "diversity": {name: diversity(r) for name, r in replies.items()},
        "examples": [
            {"prompt": prompts[i], **{name: " ".join(r[i]) for name, r in replies.items()}} for i in shown
        ],
    }


# -- the stored run: ``python -m rnncourse.experiments.ch08_applications_chatbot`` ---------------

RESULT = Path(__file__).resolve().parents[1] / "results" / "ch08_applications_chatbot.json"
SEED = 0
#: Adam's step size from scratch, and when starting from the language model.
LR, FINE_TUNE_LR = 2e-3, 1e-3


@dataclass
class ChatRun:
    """The three models of the page, trained on one split: the reply-only language model, the
    chatbot trained from scratch, and the chatbot started from the language model."""

    train: Pairs
    val: Pairs
    test: Pairs
    language_model: ChatModel
    from_scratch: ChatModel
    bot: ChatModel


def train_models(seed: int = SEED, from_scratch: bool = True, max_epochs: int = 40) -> ChatRun:
    """Split, then train the language model of replies (prompts removed), the chatbot from scratch
    (skipped when ``from_scratch`` is False: then it is the language model) and the chatbot started
    from the language model: the same network, settings and reply vocabulary (words seen twice in
    the training replies), so that their perplexities compare."""
    train, val, test = chat_split(seed)
    target = PairVocabulary.from_texts([r for _, r in train], words, min_count=2)
    language_model = train_chat_model(
        reply_only(train), reply_only(val), target, lr=LR, seed=seed, max_epochs=max_epochs
    )
    scratch = (
        train_chat_model(train, val, target, lr=LR, seed=seed, max_epochs=max_epochs)
        if from_scratch
        else language_model
    )
    bot = train_chat_model(
        train,
        val,
        target,
        lr=FINE_TUNE_LR,
        seed=seed,
        start_from=language_model.model,
        max_epochs=max_epochs,
    )
    return ChatRun(train, val, test, language_model, scratch, bot)


def held_out_perplexity(chat: ChatModel, pairs: Sequence[tuple[str, str]], prompts: bool = True) -> float:
    """Perplexity per reply token (``<eos>`` included) of the reference replies of ``pairs``; with
    ``prompts=False`` the prompts are removed first (for the language model)."""
    return perplexity(*pair_log_probs(chat, pairs if prompts else reply_only(pairs)))


def _history(chat: ChatModel) -> dict[str, Any]:
    return {
        "epochs run": len(chat.train_loss),
        "best epoch": chat.best_epoch + 1,
        "train_loss": [round(v, 4) for v in chat.train_loss],
        "val_loss": [round(v, 4) for v in chat.val_loss],
    }


def run(seed: int = SEED, max_epochs: int = 40) -> dict[str, Any]:
    """Split, train the three models (at most ``max_epochs`` each), score them: the stored result."""
    start = time.process_time()
    models = train_models(seed, max_epochs=max_epochs)
    train, val, test = models.train, models.val, models.test
    bot, language_model, scratch = models.bot, models.language_model, models.from_scratch
    return {
        "command": "python -m rnncourse.experiments.ch08_applications_chatbot",
        "seed": seed,
        "torch": torch.__version__,
        "data": f"{DATA}, pairs of at most {MAX_WORDS} words a side",
        "split": SPLIT,
        "settings": "Seq2Seq(E=64, H=128, bidirectional GRU encoder, additive attention); prompt words "
        "seen twice, reply words seen twice; Adam (2e-3; 1e-3 when started from the language model), "
        "batch 32, clip 1; early stopping on the validation loss (patience 3, at most 40 epochs); the "
        "language model is the same network trained with every prompt removed",
        "pairs": {"train": len(train), "validation": len(val), "test": len(test)},
        "vocabulary": {"prompts": len(bot.source), "replies": len(bot.target)},
        "training": {
            "reply-only language model": _history(language_model),
            "seq2seq from scratch": _history(scratch),
            "seq2seq from the language model": _history(bot),
        },
        "held-out perplexity": {
            split: {
                "reply-only language model": round(held_out_perplexity(language_model, pairs, False), 3),
                "seq2seq from scratch": round(held_out_perplexity(scratch, pairs), 3),
                "seq2seq from the language model": round(held_out_perplexity(bot, pairs), 3),
            }
            for split, pairs in (("validation", val), ("test", test))
        },
        **chat_scores(bot, language_model, train, val, test, seed),
        "cpu_seconds": round(time.process_time() - start, 1),
    }


def main(argv: list[str] | None = None) -> None:
    """``python -m rnncourse.experiments.ch08_applications_chatbot [--quick]``: the stored run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one epoch per model, print only")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    result = run(max_epochs=1 if args.quick else 40)
    text = json.dumps(result, indent=1, ensure_ascii=False) + "\n"
    if args.quick:
        print(text)
        return
    RESULT.write_text(text, encoding="utf-8")
    print("wrote", RESULT, file=sys.stderr)


if __name__ == "__main__":
    main()
