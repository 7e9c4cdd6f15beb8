"""A character-level language model in PyTorch, trained with stateful truncated BPTT.

The model reads ids ``x_1..x_T`` and predicts each next id:

    e_t = E[x_t]            (an embedding row, or the one-hot vector when no embedding)
    h_t = cell(e_t, h_{t-1})  (RNN with tanh, LSTM or GRU; torch.nn or rnncourse.nn)
    z_t = W_hy h_t + b_y      logits over the V characters
    L   = (1 / (B T)) sum_{b,t} -log softmax(z_{b,t})[y_{b,t}]     nats per character

Bits per character are nats / ln 2. A model that knows nothing (uniform over
V characters) scores ln V nats; the entropy of English text is about 1 to 1.5
bits per character for the best models.

**Stateful truncated BPTT** (:func:`tbptt_step`, :func:`train_tbptt`). The
stream is cut into consecutive chunks of k steps for B parallel rows
(``rnncourse.data.char_stream``). The state at the end of chunk i is the
initial state of chunk i + 1, so the model sees the whole text as one
sequence, but at the boundary it is ``detach()``-ed: the *value* carries on,
the graph that made it is cut, and the backward of chunk i + 1 stops there.
Without the detach, the second ``backward()`` tries to go through chunk i's
graph again, whose buffers the first backward freed, and torch raises
"Trying to backward through the graph a second time". Passing
``retain_graph=True`` silences that error but makes every backward run
through *all* earlier chunks: full BPTT whose cost grows with every chunk.

Shapes: B batch (parallel rows), T (= k) steps, V characters, E embedding
size, H hidden units, L layers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnncourse.checks import check_shape
from rnncourse.data.char_stream import CharVocab, num_chunks, torch_stream_chunks
from rnncourse.nn import recurrent as course_recurrent
from rnncourse.nn.sampling import sample_next

Kind = Literal["rnn", "lstm", "gru"]
Implementation = Literal["torch", "course"]
State = Tensor | tuple[Tensor, Tensor]  # h, or (h, c) for the LSTM; each (L, B, H)

_LAYERS: dict[Implementation, dict[Kind, Callable[..., nn.Module]]] = {
    "torch": {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU},
    "course": {"rnn": course_recurrent.RNN, "lstm": course_recurrent.LSTM, "gru": course_recurrent.GRU},
}


class CharLM(nn.Module):
    """Embedding (or one-hot) -> recurrent layer(s) -> linear, over V characters.

    Args:
        vocab_size: V.
        hidden_size: H.
        kind: ``"rnn"`` (tanh), ``"lstm"`` or ``"gru"``.
        embedding_dim: E, or None to feed one-hot vectors (E = V), as min-char-rnn does.
        num_layers: L.
        implementation: ``"torch"`` for ``torch.nn``'s layers, ``"course"`` for
            ``rnncourse.nn.recurrent``'s (same names and results, slower).

    ``model(x, state=None) -> (logits, state)`` with x (B, T) int64, logits
    (B, T, V) and state as :data:`State`.
    """

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int,
        kind: Kind = "lstm",
        embedding_dim: int | None = None,
        num_layers: int = 1,
        implementation: Implementation = "torch",
    ) -> None:
        super().__init__()
        if kind not in ("rnn", "lstm", "gru"):
            raise ValueError(f"kind must be 'rnn', 'lstm' or 'gru', got {kind!r}")
        if implementation not in _LAYERS:
            raise ValueError(f"implementation must be 'torch' or 'course', got {implementation!r}")
        self.vocab_size = vocab_size
        self.kind = kind
        self.embedding = nn.Embedding(vocab_size, embedding_dim) if embedding_dim else None
        input_size = embedding_dim or vocab_size
        self.rnn = _LAYERS[implementation][kind](input_size, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """Logits of the next character at every step, and the final state.

        Args:
            x: (B, T) int64 character ids.
            state: the state to start from, (L, B, H) (a pair for the LSTM); zeros if None.

        Returns:
            logits (B, T, V), and the state after the last step.
        """
        check_shape("x", x, {"B": None, "T": None})
        if x.dtype != torch.int64:
            raise TypeError(f"x has dtype {x.dtype}; expected torch.int64 character ids")
        if self.embedding is not None:
            inputs = self.embedding(x)  # (B, T, E)
        else:
            inputs = F.one_hot(x, self.vocab_size).to(self.head.weight.dtype)  # (B, T, V)
        h, state = self.rnn(inputs, state)  # (B, T, H)
        return self.head(h), state


def detach_state(state: State | None) -> State | None:
    """The same values with the graph cut: what truncated BPTT does at a chunk boundary."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return (state[0].detach(), state[1].detach())
    return state.detach()


def char_loss(logits: Tensor, targets: Tensor, reduction: Literal["mean", "sum"] = "mean") -> Tensor:
    """Cross-entropy in nats: the mean (or sum) over every position of -log p(target).

    Args:
        logits: (B, T, V); targets: (B, T) int64.
        reduction: "mean" (nats per character) or "sum" (B T times larger, and
            so is its gradient: the learning rate and clipping threshold must shrink to match).
    """
    B, T, V = check_shape("logits", logits, {"B": None, "T": None, "V": None})
    check_shape("targets", targets, {"B": B, "T": T})
    return F.cross_entropy(logits.reshape(B * T, V), targets.reshape(B * T), reduction=reduction)


def nats_to_bits(nats: float) -> float:
    """Bits per character from nats per character: divide by ln 2."""
    return nats / math.log(2)


@dataclass(frozen=True)
class StepResult:
    """What one truncated-BPTT step returns."""

    loss: float  # nats per character of the chunk, before the update
    grad_norm: float  # global norm of the gradient, before clipping
    state: State  # the final state, still attached to this chunk's graph


def tbptt_step(
    model: CharLM,
    optimizer: torch.optim.Optimizer,
    x: Tensor,
    y: Tensor,
    state: State | None,
    max_norm: float | None = 1.0,
) -> StepResult:
    """One chunk of stateful truncated BPTT: detach, forward, backward, clip, update.

    Args:
        model: the language model.
        optimizer: over ``model.parameters()``.
        x, y: (B, k) int64 inputs and targets of this chunk.
        state: the final state of the previous chunk of the same rows (None at the start).
        max_norm: clip the gradient to this global norm (None: no clipping).

    Returns:
        the chunk's loss, the gradient's norm before clipping, and the new state.
    """
    state = detach_state(state)  # the boundary: keep the values, cut the graph
    logits, new_state = model(x, state)
    loss = char_loss(logits, y)
    optimizer.zero_grad()
    loss.backward()
    params = [p for p in model.parameters() if p.grad is not None]
    if max_norm is None:
        norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in params]))
    else:
        norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    optimizer.step()
    return StepResult(float(loss.detach()), float(norm), new_state)


@dataclass
class TrainHistory:
    """Per chunk: the training loss (nats per character) and the gradient norm before clipping."""

    losses: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)


def train_tbptt(
    model: CharLM,
    ids: np.ndarray,
    batch_size: int,
    k: int,
    epochs: int = 1,
    lr: float = 3e-3,
    max_norm: float | None = 1.0,
    max_steps: int | None = None,
    optimizer: torch.optim.Optimizer | None = None,
) -> TrainHistory:
    """Train on one stream with stateful truncated BPTT (Adam unless an optimizer is given).

    Every epoch reads the B parallel rows from the start, with a zero state;
    within an epoch the state is carried from chunk to chunk (and detached).

    Args:
        model: the model, trained in place.
        ids: (L,) int64 character ids.
        batch_size: B. k: chunk length. epochs: passes over the stream.
        lr: Adam's learning rate (ignored if ``optimizer`` is given).
        max_norm: global-norm clipping threshold, or None.
        max_steps: stop after this many chunks in all.

    Returns:
        The loss and gradient norm of every chunk.
    """
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    history = TrainHistory()
    model.train()
    for _ in range(epochs):
        state: State | None = None
        for x, y in torch_stream_chunks(ids, batch_size, k):
            if max_steps is not None and len(history.losses) >= max_steps:
                return history
            result = tbptt_step(model, optimizer, x, y, state, max_norm)
            history.losses.append(result.loss)
            history.grad_norms.append(result.grad_norm)
            state = result.state
    return history


@torch.no_grad()
def evaluate_nats(model: CharLM, ids: np.ndarray, batch_size: int, k: int) -> float:
    """Mean nats per character over a stream, the state carried across chunks as in training."""
    model.eval()
    total, count, state = 0.0, 0, None
    if num_chunks(len(ids), batch_size, k) == 0:
        raise ValueError("the stream is too short to evaluate")
    for x, y in torch_stream_chunks(ids, batch_size, k):
        logits, state = model(x, state)
        total += float(char_loss(logits, y, reduction="sum"))
        count += y.numel()
    model.train()
    return total / count


@torch.no_grad()
def generate(
    model: CharLM,
    vocab: CharVocab,
    prompt: str,
    length: int,
    generator: torch.Generator,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> str:
    """Continue ``prompt`` by ``length`` characters drawn one at a time.

    The prompt is read in one pass to set the state; then each drawn
    character is fed back as the next input. The generator is the only
    source of randomness (see ``rnncourse.nn.sampling``).

    Returns:
        The prompt followed by the ``length`` new characters.
    """
    if not prompt:
        raise ValueError("generation needs a prompt of at least one character")
    model.eval()
    x = torch.from_numpy(vocab.encode(prompt))[None]  # (1, len(prompt))
    logits, state = model(x)
    drawn: list[int] = []
    for _ in range(length):
        next_id = sample_next(logits[:, -1], generator, temperature, top_k, top_p)  # (1,)
        assert isinstance(next_id, Tensor)
        drawn.append(int(next_id[0]))
        logits, state = model(next_id.reshape(1, 1), state)
    model.train()
    return prompt + vocab.decode(drawn)
