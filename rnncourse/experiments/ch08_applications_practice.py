"""Chapter 8, training practice: the models and measurements of the practice page.

==============================  ===========================================================
name                            what it is for
==============================  ===========================================================
``CharData``, ``char_data``     a play as character ids, split chronologically
``char_batches``                non-overlapping windows (x, y = x shifted by one)
``VariationalLSTM``             an LSTM layer with one dropout mask per sequence (Gal 2016)
``LayerNormLSTM``               an LSTM layer with layer normalisation (Ba et al. 2016)
``CharLM``                      embedding -> recurrent layers -> linear, any of the above
``CausalCNN``                   embedding -> dilated causal convolutions -> linear
``count_parameters``            the number of trainable numbers of a model
``keras_init_``                 Keras' default initialisation applied to a torch LSTM
``gradient_reach``              how far back a loss's gradient reaches at initialisation
``norm_depends_on_batch``       the same sequence normalised alone and inside a batch
``train_char_model``            ``rnncourse.training.fit`` on a character model
``time_recurrent``              CPU time of one training step of an LSTM, per shape
==============================  ===========================================================

Shapes: N sequences, T steps, V characters, E embedding size, H hidden units.
Character models are trained with cross-entropy in nats per character; the
page reports bits per character, the same number divided by ln 2.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnncourse.data.shakespeare import play_text
from rnncourse.nn.cells import lstm_step
from rnncourse.training import History, fit, set_seed

__all__ = [
    "CausalCNN",
    "CharData",
    "CharLM",
    "LayerNormLSTM",
    "VariationalLSTM",
    "bits_per_char",
    "char_batches",
    "char_data",
    "count_parameters",
    "gradient_reach",
    "keras_init_",
    "norm_depends_on_batch",
    "time_recurrent",
    "train_char_model",
]

Kind = Literal["lstm", "gru", "variational", "layernorm"]

# -- data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CharData:
    """Character ids of one play: the first part for training, the next for validation, the rest for test.

    Attributes:
        chars: the vocabulary, index -> character (index 0 is any character unseen in training).
        train, val, test: 1-D int64 tensors of ids.
    """

    chars: str
    train: Tensor
    val: Tensor
    test: Tensor

    @property
    def vocab_size(self) -> int:
        return len(self.chars)


def char_data(
    play: str = "hamlet", n_train: int = 100_000, n_val: int = 20_000, n_test: int = 20_000
) -> CharData:
    """A play's text split in order: train = the first ``n_train`` characters, then val, then test.

    The split is chronological, not random: windows cut from one stretch of
    text overlap in content with their neighbours, so a random split would
    put near-copies of validation text into training.
    """
    text = play_text(play)
    if n_train + n_val + n_test > len(text):
        raise ValueError(f"{play} has {len(text)} characters, fewer than {n_train + n_val + n_test}")
    chars = "\0" + "".join(sorted(set(text[:n_train])))
    index = {c: i for i, c in enumerate(chars)}

    def ids(part: str) -> Tensor:
        return torch.tensor([index.get(c, 0) for c in part], dtype=torch.int64)

    a, b = n_train, n_train + n_val
    return CharData(chars, ids(text[:a]), ids(text[a:b]), ids(text[b : b + n_test]))


def char_batches(
    ids: Tensor, seq_len: int, batch_size: int, shuffle: bool = False, seed: int = 0
) -> list[tuple[Tensor, Tensor]]:
    """Cut ``ids`` into non-overlapping windows of ``seq_len`` + 1 and batch them.

    Returns:
        A list of (x, y) pairs, each (N, seq_len) int64, ``y`` being ``x``
        shifted one character ahead (the next character at every step).
        The last, shorter batch is kept; a tail shorter than a window is dropped.
    """
    if seq_len < 1 or batch_size < 1:
        raise ValueError(f"seq_len and batch_size must be positive, got {seq_len}, {batch_size}")
    n = (len(ids) - 1) // seq_len
    if n < 1:
        raise ValueError(f"{len(ids)} ids are too few for one window of {seq_len} + 1")
    starts = torch.arange(n) * seq_len
    if shuffle:
        starts = starts[torch.randperm(n, generator=torch.Generator().manual_seed(seed))]
    windows = torch.stack([ids[s : s + seq_len + 1] for s in starts.tolist()])  # (n, seq_len + 1)
    return [(w[:, :-1], w[:, 1:]) for w in windows.split(batch_size)]


# -- recurrent layers with the regularisers the page compares ----------------------------------


def _init_uniform(module: nn.Module, hidden: int) -> None:
    bound = 1 / math.sqrt(hidden)  # torch's default for its recurrent layers
    for p in module.parameters():
        nn.init.uniform_(p, -bound, bound)


class VariationalLSTM(nn.Module):
    """One LSTM layer with variational ("recurrent") dropout, batch first.

    In training, two masks are drawn once per sequence and used at *every*
    step: ``m_x`` (N, D) on the inputs and ``m_h`` (N, H) on the previous state
    inside the recurrence, each entry 0 with probability p and 1/(1-p)
    otherwise (Gal and Ghahramani 2016; Keras' ``dropout`` and
    ``recurrent_dropout`` arguments). A fresh mask at every step, as plain
    dropout would draw, would add noise to the state T times over and wash
    out the memory; the same mask removes the same units for the whole
    sequence, like a thinner network. In eval mode there are no masks.

    Args:
        input_size: D; hidden_size: H; dropout: p on the inputs;
        recurrent_dropout: p on h_{t-1}.

    ``forward(x)``: x (N, T, D) -> outputs (N, T, H).
    """

    def __init__(
        self, input_size: int, hidden_size: int, dropout: float = 0.0, recurrent_dropout: float = 0.0
    ):
        super().__init__()
        if not (0.0 <= dropout < 1.0 and 0.0 <= recurrent_dropout < 1.0):
            raise ValueError(f"dropout rates must be in [0, 1), got {dropout}, {recurrent_dropout}")
        self.hidden_size, self.dropout, self.recurrent_dropout = hidden_size, dropout, recurrent_dropout
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias = nn.Parameter(torch.empty(4 * hidden_size))
        _init_uniform(self, hidden_size)

    def _mask(self, like: Tensor, p: float) -> Tensor:
        if not self.training or p == 0.0:
            return torch.ones_like(like)
        return torch.bernoulli(torch.full_like(like, 1 - p)) / (1 - p)

    def forward(self, x: Tensor) -> Tensor:
        N, T, _ = x.shape
        h = x.new_zeros(N, self.hidden_size)
        c = torch.zeros_like(h)
        m_x = self._mask(x[:, 0], self.dropout)  # (N, D), the same at every step
        m_h = self._mask(h, self.recurrent_dropout)  # (N, H), the same at every step
        x_part = (x * m_x[:, None]) @ self.weight_ih.T + self.bias  # (N, T, 4H), all steps at once
        outputs = []
        for t in range(T):
            h, c = lstm_step(x_part[:, t], h * m_h, c, self.weight_hh, None)
            outputs.append(h)
        return torch.stack(outputs, dim=1)


class LayerNormLSTM(nn.Module):
    """One LSTM layer with layer normalisation (Ba, Kiros and Hinton 2016), batch first.

        a_t = LN_x(W_xh x_t) + LN_h(W_hh h_{t-1}) + b      (N, 4H)
        i, f, g, o from a_t as in the LSTM
        c_t = f ⊙ c_{t-1} + i ⊙ g
        h_t = o ⊙ tanh(LN_c(c_t))

    Each LN normalises one example's vector over its own features (mean 0,
    variance 1, then a learned gain and shift): the statistics never mix
    examples or time steps, so the layer computes the same thing for a batch
    of one, for any batch, at any step and in training and eval mode alike.

    ``forward(x)``: x (N, T, D) -> outputs (N, T, H).
    """

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias = nn.Parameter(torch.empty(4 * hidden_size))
        _init_uniform(self, hidden_size)
        self.ln_x, self.ln_h, self.ln_c = (
            nn.LayerNorm(4 * hidden_size),
            nn.LayerNorm(4 * hidden_size),
            nn.LayerNorm(hidden_size),
        )

    def forward(self, x: Tensor) -> Tensor:
        N, T, _ = x.shape
        h = x.new_zeros(N, self.hidden_size)
        c = torch.zeros_like(h)
        x_part = self.ln_x(x @ self.weight_ih.T) + self.bias  # (N, T, 4H)
        outputs = []
        for t in range(T):
            a = x_part[:, t] + self.ln_h(h @ self.weight_hh.T)
            a_i, a_f, a_g, a_o = a.chunk(4, dim=-1)
            c = torch.sigmoid(a_f) * c + torch.sigmoid(a_i) * torch.tanh(a_g)
            h = torch.sigmoid(a_o) * torch.tanh(self.ln_c(c))
            outputs.append(h)
        return torch.stack(outputs, dim=1)


class CharLM(nn.Module):
    """A character model: Embedding(V, E) -> recurrent layers (H) -> Linear(H, V), batch first.

    Args:
        vocab_size: V; embed: E; hidden: H; layers: L (stacked).
        kind: ``"lstm"`` / ``"gru"`` (torch's layers, dropout between layers),
            ``"variational"`` (``VariationalLSTM`` layers) or ``"layernorm"``
            (``LayerNormLSTM`` layers).
        dropout: between layers and on the embedding and the last outputs
            (for ``"variational"``: the input mask of every layer).
        recurrent_dropout: the mask on h_{t-1} (``"variational"`` only).

    ``forward(x)``: x (N, T) int64 -> logits (N, T, V).
    """

    def __init__(
        self,
        vocab_size: int,
        embed: int = 32,
        hidden: int = 128,
        layers: int = 1,
        kind: Kind = "lstm",
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if recurrent_dropout and kind != "variational":
            raise ValueError("recurrent_dropout needs kind='variational'")
        self.kind = kind
        self.embed = nn.Embedding(vocab_size, embed)
        self.drop = nn.Dropout(dropout if kind != "variational" else 0.0)
        self.rnn: nn.Module
        if kind in ("lstm", "gru"):
            layer = nn.LSTM if kind == "lstm" else nn.GRU
            self.rnn = layer(embed, hidden, layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)
        elif kind == "variational":
            sizes = [embed] + [hidden] * layers
            self.rnn = nn.Sequential(
                *(VariationalLSTM(d, hidden, dropout, recurrent_dropout) for d in sizes[:-1])
            )
        elif kind == "layernorm":
            self.rnn = nn.Sequential(*(LayerNormLSTM(d, hidden) for d in [embed] + [hidden] * (layers - 1)))
        else:
            raise ValueError(f"unknown kind {kind!r}")
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, x: Tensor) -> Tensor:
        e = self.drop(self.embed(x))  # (N, T, E)
        out = self.rnn(e)
        if isinstance(out, tuple):  # torch's layers return (outputs, state)
            out = out[0]
        return self.head(self.drop(out))  # (N, T, V)


class CausalCNN(nn.Module):
    """A 1-D convolutional character model: Embedding -> L causal convolutions -> Linear.

    Layer l convolves with kernel size k and dilation 2**l, padded on the left
    only, so the output at step t sees steps t - R + 1 .. t and never the
    future; its receptive field is R = 1 + (k - 1)(2**L - 1) characters. Each
    layer is ``h = relu(conv(h)) + h`` (a residual connection), so that the
    stack trains as easily as one layer.

    ``forward(x)``: x (N, T) int64 -> logits (N, T, V).
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

    def forward(self, x: Tensor) -> Tensor:
        h = self.inp(self.embed(x)).transpose(1, 2)  # (N, C, T): Conv1d wants channels first
        for i, conv in enumerate(self.convs):
            left = (self.kernel - 1) * 2**i  # pad the past only: step t must not see t + 1
            h = torch.relu(conv(F.pad(h, (left, 0)))) + h
        return self.head(h.transpose(1, 2))


def count_parameters(model: nn.Module) -> int:
    """The number of trainable numbers in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# -- initialisation --------------------------------------------------------------------------


def keras_init_(lstm: nn.LSTM, forget_bias: float = 1.0) -> nn.LSTM:
    """Give a torch ``nn.LSTM`` Keras' default initialisation, in place.

    Keras' ``LSTM`` layer starts with ``kernel_initializer="glorot_uniform"``
    (its input kernel (D, 4H): uniform in +-sqrt(6 / (D + 4H))),
    ``recurrent_initializer="orthogonal"`` (the recurrent kernel (H, 4H) with
    orthonormal rows) and zero biases except ``unit_forget_bias=True``: the
    forget gate's bias is 1, so f = sigmoid(1) = 0.73 before training and the
    cell keeps most of its memory from the first step. torch instead draws
    every weight and both biases uniformly in +-1/sqrt(H). torch stores the
    transposes, (4H, D) and (4H, H), and two biases; only ``bias_ih`` gets the 1.
    """
    H = lstm.hidden_size
    for name, p in lstm.named_parameters():
        if name.startswith("weight_ih"):
            nn.init.xavier_uniform_(p)  # symmetric in fan-in and fan-out: same bound for the transpose
        elif name.startswith("weight_hh"):
            nn.init.orthogonal_(p)  # (4H, H): orthonormal columns, i.e. Keras' (H, 4H) with orthonormal rows
        elif name.startswith("bias"):
            nn.init.zeros_(p)
            if name.startswith("bias_ih"):
                with torch.no_grad():
                    p[H : 2 * H] = forget_bias  # gate order i, f, g, o: rows H..2H are the forget gate
    return lstm


def gradient_reach(lstm: nn.LSTM, steps: int = 100, batch: int = 16, seed: int = 0) -> tuple[Tensor, float]:
    """How strongly the last output depends on each earlier input, for an untrained LSTM.

    Random inputs x (N, T, D) ~ N(0, 1) go through ``lstm``; the loss is the
    sum of the last step's outputs. Returns the norm of its gradient with
    respect to each x_t, averaged over the batch (shape (T,), last step last),
    and the mean forget gate activation over all steps and units.
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, steps, lstm.input_size, generator=g, requires_grad=True)
    out, _ = lstm(x)
    out[:, -1].sum().backward()
    assert x.grad is not None
    reach = x.grad.norm(dim=2).mean(dim=0)  # (T,)
    H = lstm.hidden_size
    with torch.no_grad():  # the forget gates of layer 0, recomputed from its weights and the states
        h_prev = torch.cat([torch.zeros_like(out[:, :1]), out[:, :-1]], dim=1)
        w_ih, w_hh, b_ih, b_hh = (
            getattr(lstm, f"{name}_l0") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        )
        a_f = x @ w_ih[H : 2 * H].T + h_prev @ w_hh[H : 2 * H].T + b_ih[H : 2 * H] + b_hh[H : 2 * H]
    return reach.detach(), torch.sigmoid(a_f).mean().item()


# -- normalisation: batch against layer ------------------------------------------------------


def norm_depends_on_batch(norm: nn.Module, features: int, seed: int = 0) -> float:
    """How much one example's normalised output changes when its batch-mates change.

    One example x (1, F) is normalised inside two batches of 8 that share
    only x (the other 7 drawn afresh); returns the largest absolute
    difference between x's two outputs. Batch normalisation (training mode)
    computes its mean and variance over the batch, so the answer for x
    depends on who else is in the batch; layer normalisation uses x's own
    features only and gives 0.
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(1, features, generator=g)
    first = torch.cat([x, torch.randn(7, features, generator=g)])
    second = torch.cat([x, 3.0 + 2.0 * torch.randn(7, features, generator=g)])
    with torch.no_grad():
        return (norm(first)[0] - norm(second)[0]).abs().max().item()


# -- training --------------------------------------------------------------------------------


def _loss(logits: Tensor, target: Tensor) -> Tensor:
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))


def train_char_model(
    model: nn.Module,
    data: CharData,
    epochs: int,
    seq_len: int = 64,
    batch_size: int = 32,
    lr: float = 3e-3,
    clip_norm: float | None = 1.0,
    patience: int | None = None,
    scheduler: str = "constant",
    restore_best: bool = True,
    checkpoint_path: str | None = None,
    seed: int = 0,
) -> History:
    """Train a character model with ``rnncourse.training.fit`` (Adam), one call.

    Args:
        model: ``CharLM`` or ``CausalCNN``; data: the split text.
        epochs, seq_len, batch_size, lr, clip_norm, patience, restore_best,
            checkpoint_path: passed on to ``fit`` or used to cut the batches.
        scheduler: ``"constant"``, ``"step"`` (halve every third of the run)
            or ``"warmup_cosine"`` (one epoch of warm-up, cosine to 5%).
        seed: seeds the batch order and every dropout mask.

    Returns:
        ``fit``'s ``History``; losses in nats per character.
    """
    from rnncourse.training import warmup_cosine  # local: keeps this module's index short

    set_seed(seed)
    train = char_batches(data.train, seq_len, batch_size, shuffle=True, seed=seed)
    val = char_batches(data.val, seq_len, 256)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched: object = None
    if scheduler == "step":
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, epochs // 3), gamma=0.5)
    elif scheduler == "warmup_cosine":
        sched = warmup_cosine(opt, warmup=1, total=epochs, floor=0.05)
    elif scheduler != "constant":
        raise ValueError(f"unknown scheduler {scheduler!r}")
    return fit(
        model,
        train,
        val,
        _loss,
        opt,
        epochs,
        clip_norm=clip_norm,
        scheduler=sched,
        patience=patience,
        checkpoint_path=checkpoint_path,
        progress=False,
        seed=seed,
        restore_best=restore_best,
    )


def bits_per_char(model: nn.Module, ids: Tensor, seq_len: int = 64) -> float:
    """Mean cross-entropy of ``model`` on ``ids`` in bits per character (eval mode)."""
    from rnncourse.training import evaluate

    return evaluate(model, char_batches(ids, seq_len, 256), _loss) / math.log(2)


# -- timing ----------------------------------------------------------------------------------


def _train_step(lstm: nn.LSTM, opt: torch.optim.Optimizer, x: Tensor) -> None:
    opt.zero_grad()
    out, _ = lstm(x)
    out.pow(2).mean().backward()
    opt.step()
    if x.is_cuda:
        torch.cuda.synchronize()  # CUDA calls return before the GPU is done: wait, or the clock lies


def time_recurrent(
    shapes: Sequence[tuple[int, int, int]],
    device: str = "cpu",
    repeats: int = 3,
    input_size: int = 64,
) -> list[dict[str, float | int | str]]:
    """Seconds per training step (forward, backward, Adam) of ``nn.LSTM`` for each (N, T, H).

    The best of ``repeats`` timed steps after one warm-up step; on a CUDA
    device the clock waits for the GPU (``torch.cuda.synchronize``).

    Returns:
        One record per shape: N, T, H, device, seconds, and characters per
        second (N * T / seconds).
    """
    records: list[dict[str, float | int | str]] = []
    for N, T, H in shapes:
        torch.manual_seed(0)
        lstm = nn.LSTM(input_size, H, batch_first=True).to(device)
        opt = torch.optim.Adam(lstm.parameters(), lr=1e-3)
        x = torch.randn(N, T, input_size, device=device)

        _train_step(lstm, opt, x)  # warm-up: allocations, kernel choice
        best = math.inf
        for _ in range(repeats):
            start = time.perf_counter()
            _train_step(lstm, opt, x)
            best = min(best, time.perf_counter() - start)
        records.append(
            {"N": N, "T": T, "H": H, "device": device, "seconds": best, "chars_per_s": N * T / best}
        )
    return records
