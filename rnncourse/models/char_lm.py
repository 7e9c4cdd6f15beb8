"""Character-level language models in PyTorch: the recurrent ``CharLM`` and a causal CNN.

The recurrent model reads ids ``x_1..x_T`` and predicts each next id:

    e_t = E[x_t]            (an embedding row, or the one-hot vector when no embedding)
    h_t = cell(e_t, h_{t-1})  (any kind of ``rnncourse.kinds``; torch.nn's layer, the
                              course's twin, or a regularised LSTM of ``rnncourse.nn.regularised``)
    z_t = W_hy h_t + b_y      logits over the V characters
    L   = (1 / (B T)) sum_{b,t} -log softmax(z_{b,t})[y_{b,t}]     nats per character

Bits per character are nats / ln 2. A model that knows nothing (uniform over
V characters) scores ln V nats; the entropy of English text is about 1 to 1.5
bits per character for the best models.

Every character model here has one face: ``model(x, state=None) -> (logits, state)``,
x (B, T) int64 and logits (B, T, V), so that one loss, one training loop and
one evaluation serve them all (:class:`CausalCNN` keeps no state and returns None).

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
:func:`tbptt_step` is one such step written out (chapter 2 teaches it);
:func:`train_tbptt` runs many through ``rnncourse.training.fit(stateful=True)``.

Shapes: B batch (parallel rows), T (= k) steps, V characters, E embedding size,
H hidden units, L layers, C channels.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnncourse.checks import check_shape
from rnncourse.data.char_stream import CharVocab, num_chunks, torch_stream_chunks
from rnncourse.kinds import Kind
from rnncourse.nn.recurrent import Implementation, recurrent_layer
from rnncourse.nn.sampling import sample_next
from rnncourse.training import History, detach_state, fit

State = Tensor | tuple[Tensor, Tensor]  # h, or (h, c) for the LSTM; each (L, B, H)


class CharLM(nn.Module):
    """Embedding (or one-hot) -> recurrent layer(s) -> linear, over V characters.

    Args:
        vocab_size: V.
        hidden_size: H.
        kind: the cell, ``"rnn_tanh"``, ``"rnn_relu"``, ``"lstm"`` or ``"gru"``.
        embedding_dim: E, or None to feed one-hot vectors (E = V), as min-char-rnn does.
        num_layers: L.
        implementation: ``"torch"`` for ``torch.nn``'s layers, ``"course"`` for
            ``rnncourse.nn.recurrent``'s (same names and results, slower), or for an
            LSTM ``"variational"`` / ``"layernorm"`` (``rnncourse.nn.regularised``).
        dropout: on the embedded inputs and on the last layer's outputs, and
            between stacked layers; for ``"variational"`` the input mask of every layer.
        recurrent_dropout: the mask on h_{t-1} (``"variational"`` only).

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
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        variational = implementation == "variational"
        if recurrent_dropout and not variational:
            raise ValueError("recurrent_dropout needs implementation='variational'")
        self.vocab_size = vocab_size
        self.kind = kind
        self.embedding = nn.Embedding(vocab_size, embedding_dim) if embedding_dim else None
        # Plain dropout on the inputs and outputs; the variational layers mask their own inputs.
        self.drop = nn.Dropout(0.0 if variational else dropout)
        options: dict[str, float] = {}
        if variational:
            options = {"dropout": dropout, "recurrent_dropout": recurrent_dropout}
        elif implementation in ("torch", "course") and num_layers > 1:
            options = {"dropout": dropout}  # between the layers
        input_size = embedding_dim or vocab_size
        self.rnn = recurrent_layer(kind, input_size, hidden_size, num_layers, implementation, **options)
        self.head = nn.Linear(hidden_size, vocab_size)

    def features(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """The last layer's hidden states (B, T, H) for x (B, T) int64, and the final state."""
        check_shape("x", x, {"B": None, "T": None})
        if x.dtype != torch.int64:
            raise TypeError(f"x has dtype {x.dtype}; expected torch.int64 character ids")
        if self.embedding is not None:
            inputs = self.embedding(x)  # (B, T, E)
        else:
            inputs = F.one_hot(x, self.vocab_size).to(self.head.weight.dtype)  # (B, T, V)
        return self.rnn(self.drop(inputs), state)

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """Logits of the next character at every step, and the final state.

        Args:
            x: (B, T) int64 character ids.
            state: the state to start from, (L, B, H) (a pair for the LSTM); zeros if None.

        Returns:
            logits (B, T, V), and the state after the last step.
        """
        h, state = self.features(x, state)  # (B, T, H)
        return self.head(self.drop(h)), state


class CausalCNN(nn.Module):
    """A 1-D convolutional character model: Embedding -> L causal convolutions -> Linear.

    Layer l convolves with kernel size k and dilation 2**l, padded on the left
    only, so the output at step t sees steps t - R + 1 .. t and never the
    future; its receptive field is R = 1 + (k - 1)(2**L - 1) characters. Each
    layer is ``h = relu(conv(h)) + h`` (a residual connection), so that the
    stack trains as easily as one layer.

    Args:
        vocab_size: V; embed: E; channels: C; layers: L; kernel: k.

    ``model(x, state=None) -> (logits, None)``: x (B, T) int64, logits (B, T, V);
    a convolution keeps no state between windows, the pair is the face of every
    character model here.
    """

    def __init__(
        self, vocab_size: int, embed: int = 32, channels: int = 128, layers: int = 4, kernel: int = 3
    ):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        self.inp = nn.Linear(embed, channels)
        self.convs = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, dilation=2**i) for i in range(layers)
        )
        self.kernel = kernel
        self.head = nn.Linear(channels, vocab_size)

    @property
    def receptive_field(self) -> int:
        return 1 + (self.kernel - 1) * (2 ** len(self.convs) - 1)

    def forward(self, x: Tensor, state: None = None) -> tuple[Tensor, None]:
        h = self.inp(self.embed(x)).transpose(1, 2)  # (B, C, T): Conv1d wants channels first
        for i, conv in enumerate(self.convs):
            left = (self.kernel - 1) * 2**i  # pad the past only: step t must not see t + 1
            h = torch.relu(conv(F.pad(h, (left, 0)))) + h
        return self.head(h.transpose(1, 2)), None


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


class StreamChunks:
    """A text's ids as B parallel streams cut into chunks of k, re-readable: one pass per ``iter``.

    Yields (x, y), each (B, k) int64, y one character ahead of x
    (``rnncourse.data.char_stream.torch_stream_chunks``).
    """

    def __init__(self, ids: np.ndarray, batch_size: int, k: int) -> None:
        if num_chunks(len(ids), batch_size, k) == 0:
            raise ValueError(
                f"{len(ids)} ids are too few for {batch_size} rows (each needs an input and its target): "
                "use a longer text or a smaller batch_size"
            )
        self.ids, self.batch_size, self.k = ids, batch_size, k

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        return torch_stream_chunks(self.ids, self.batch_size, self.k)


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
) -> History:
    """Train on one stream with stateful truncated BPTT (Adam unless an optimizer is given).

    ``rnncourse.training.fit`` with ``stateful=True``: every epoch reads the B
    parallel rows from the start, with a zero state; within an epoch the state
    is carried from chunk to chunk (and detached).

    Args:
        model: the model, trained in place.
        ids: (L,) int64 character ids.
        batch_size: B. k: chunk length. epochs: passes over the stream.
        lr: Adam's learning rate (ignored if ``optimizer`` is given).
        max_norm: global-norm clipping threshold, or None.
        max_steps: stop after this many chunks in all.

    Returns:
        ``fit``'s history: ``step_loss`` and ``grad_norm`` hold every chunk's loss
        (nats per character) and gradient norm before clipping.
    """
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    return fit(
        model,
        StreamChunks(ids, batch_size, k),
        None,
        char_loss,
        optimizer,
        epochs,
        clip_norm=max_norm,
        progress=False,
        seed=None,
        restore_best=False,
        max_steps=max_steps,
        stateful=True,
    )


@torch.no_grad()
def evaluate_nats(model: nn.Module, ids: np.ndarray, batch_size: int, k: int, stateful: bool = True) -> float:
    """Mean nats per character over a stream read as ``batch_size`` rows in chunks of k.

    With ``stateful`` (the default) the state is carried across chunks, as in
    training; ``stateful=False`` starts every chunk from a zero state, as a model
    trained on independent windows would, so each chunk's first characters are
    predicted without context.
    """
    model.eval()
    total, count, state = 0.0, 0, None
    if num_chunks(len(ids), batch_size, k) == 0:
        raise ValueError("the stream is too short to evaluate")
    for x, y in torch_stream_chunks(ids, batch_size, k):
        logits, new_state = model(x, state)
        state = new_state if stateful else None
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
    generator: torch.Generator | np.random.Generator,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> str:
    """Continue ``prompt`` by ``length`` characters drawn one at a time.

    The prompt is read in one pass to set the state; then each drawn
    character is fed back as the next input. The generator is the only
    source of randomness (see ``rnncourse.nn.sampling``): a ``torch.Generator``
    draws from the float32 logits, a NumPy ``Generator`` from them in float64.

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
        if isinstance(generator, np.random.Generator):
            drawn.append(
                int(sample_next(logits[0, -1].double().numpy(), generator, temperature, top_k, top_p))
            )
        else:
            next_id = sample_next(logits[:, -1], generator, temperature, top_k, top_p)  # (1,)
            assert isinstance(next_id, Tensor)
            drawn.append(int(next_id[0]))
        logits, state = model(torch.tensor([[drawn[-1]]]), state)
    model.train()
    return prompt + vocab.decode(drawn)
