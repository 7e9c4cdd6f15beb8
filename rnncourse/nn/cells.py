"""One step of a vanilla RNN, an LSTM and a GRU, as ``torch.nn`` modules.

The same equations as the NumPy code in ``rnncourse.scratch``, written with
plain tensor operations (matrix products, ``sigmoid``, ``tanh``) so that
autograd does the backward pass for us. Nothing here calls ``torch.nn.RNN``,
``torch.nn.LSTM``, ``torch.nn.GRU`` or torch's fused cell functions.

Parameter names, shapes and initialisation are those of ``torch.nn.RNNCell``,
``torch.nn.LSTMCell`` and ``torch.nn.GRUCell``, so a state dict moves between
a torch cell and ours in both directions. The book's symbols map to them as:

===============  ==============  ===========================================
book             torch name      shape
===============  ==============  ===========================================
``W_xh``         ``weight_ih``   (G*H, D): the G gate blocks stacked on rows
``W_hh``         ``weight_hh``   (G*H, H)
``b_xh``         ``bias_ih``     (G*H,)
``b_hh``         ``bias_hh``     (G*H,)
===============  ==============  ===========================================

G is the number of gate blocks: 1 for the vanilla RNN, 4 for the LSTM (in the
order i, f, g, o), 3 for the GRU (in the order r, z, n). torch keeps two
biases where the book has one, ``b_h = b_xh + b_hh``; for the RNN and the LSTM
only their sum matters, for the GRU they differ because ``b_hn`` sits inside
the reset gate's product.

Shapes: N batch, D input features, H hidden units. A batch of row vectors
``x`` (N, D) gives ``x @ W_xh.T`` for the book's column-vector ``W_xh x``.

The ``*_step`` functions take the input part of the pre-activations,
``x_t @ W_xh.T + b_xh``, already computed. A cell computes it for one step;
a sequence layer (``rnncourse.nn.recurrent``) computes it for every step
in one matrix product and then only the recurrent part waits for the step
before.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from rnncourse.checks import check_floating, check_same_dtype, check_shape
from rnncourse.kinds import KIND_SPECS, init_bound

Nonlinearity = Literal["tanh", "relu"]

__all__ = [
    "GRUCell",
    "LSTMCell",
    "RNNCell",
    "gru_step",
    "lstm_step",
    "rnn_step",
]


def _linear(h: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """``h @ weight.T + bias`` (bias may be absent)."""
    out = h @ weight.T
    return out if bias is None else out + bias


def rnn_step(
    x_part: Tensor,
    h_prev: Tensor,
    weight_hh: Tensor,
    bias_hh: Tensor | None,
    nonlinearity: Nonlinearity = "tanh",
) -> Tensor:
    """One vanilla RNN step from the precomputed input part.

        a_t = W_xh x_t + b_xh + W_hh h_{t-1} + b_hh
        h_t = f(a_t),  f = tanh or ReLU

    Args:
        x_part: (N, H) ``x_t @ W_xh.T + b_xh``.
        h_prev: (N, H) h_{t-1}.
        weight_hh: (H, H) W_hh.
        bias_hh: (H,) b_hh, or None.
        nonlinearity: ``"tanh"`` or ``"relu"``.

    Returns:
        h_t: (N, H).
    """
    a = x_part + _linear(h_prev, weight_hh, bias_hh)
    if nonlinearity == "tanh":
        return torch.tanh(a)
    if nonlinearity == "relu":
        return torch.relu(a)
    raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")


def lstm_step(
    x_part: Tensor,
    h_prev: Tensor,
    c_prev: Tensor,
    weight_hh: Tensor,
    bias_hh: Tensor | None,
) -> tuple[Tensor, Tensor]:
    """One LSTM step from the precomputed input part.

    The four blocks of ``a_t = W_xh x_t + b_xh + W_hh h_{t-1} + b_hh``
    (4H rows, in the order i, f, g, o) give

        i_t = sigmoid(a_i)            input gate
        f_t = sigmoid(a_f)            forget gate
        g_t = tanh(a_g)               candidate cell values
        o_t = sigmoid(a_o)            output gate
        c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
        h_t = o_t ⊙ tanh(c_t)

    where ⊙ is the elementwise product.

    Args:
        x_part: (N, 4H) ``x_t @ W_xh.T + b_xh``.
        h_prev: (N, H) h_{t-1}.
        c_prev: (N, H) c_{t-1}.
        weight_hh: (4H, H) W_hh.
        bias_hh: (4H,) b_hh, or None.

    Returns:
        h_t (N, H) and c_t (N, H).
    """
    a = x_part + _linear(h_prev, weight_hh, bias_hh)  # (N, 4H)
    a_i, a_f, a_g, a_o = a.chunk(4, dim=-1)  # each (N, H)
    i = torch.sigmoid(a_i)
    f = torch.sigmoid(a_f)
    g = torch.tanh(a_g)
    o = torch.sigmoid(a_o)
    c = f * c_prev + i * g
    h = o * torch.tanh(c)
    return h, c


def gru_step(
    x_part: Tensor,
    h_prev: Tensor,
    weight_hh: Tensor,
    bias_hh: Tensor | None,
) -> Tensor:
    """One GRU step from the precomputed input part (torch's convention).

    With the blocks (3H rows, in the order r, z, n) of the input part
    ``W_xh x_t + b_xh`` and of the recurrent part ``W_hh h_{t-1} + b_hh``:

        r_t = sigmoid(W_xr x_t + b_xr + W_hr h_{t-1} + b_hr)       reset gate
        z_t = sigmoid(W_xz x_t + b_xz + W_hz h_{t-1} + b_hz)       update gate
        n_t = tanh(W_xn x_t + b_xn + r_t ⊙ (W_hn h_{t-1} + b_hn))  candidate
        h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}

    The reset gate multiplies ``W_hn h_{t-1} + b_hn`` *after* the matrix
    product (torch and cuDNN do this; the original paper resets h_{t-1}
    before it), which is why the two biases cannot be merged for n.
    ⊙ is the elementwise product.

    Args:
        x_part: (N, 3H) ``x_t @ W_xh.T + b_xh``.
        h_prev: (N, H) h_{t-1}.
        weight_hh: (3H, H) W_hh.
        bias_hh: (3H,) b_hh, or None.

    Returns:
        h_t: (N, H).
    """
    x_r, x_z, x_n = x_part.chunk(3, dim=-1)  # each (N, H)
    h_r, h_z, h_n = _linear(h_prev, weight_hh, bias_hh).chunk(3, dim=-1)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h_prev


class _CellBase(nn.Module):
    """Parameters and initialisation shared by the three cells.

    ``gates`` is G, the number of H-row blocks in ``weight_ih``/``weight_hh``.
    """

    gates: int = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        rows = self.gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size))  # W_xh
        self.weight_hh = nn.Parameter(torch.empty(rows, hidden_size))  # W_hh
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(rows))  # b_xh
            self.bias_hh = nn.Parameter(torch.empty(rows))  # b_hh
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_like_torch(self, self.hidden_size)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        return s if self.bias else s + ", bias=False"

    def _check(self, x: Tensor, states: dict[str, Tensor | None]) -> None:
        """Raise unless x is (N, D) or (D,) and every state (N, H) or (H,), all of x's float dtype."""
        check_floating("x", x)
        if x.dim() == 1:
            check_shape("x", x, {"D": self.input_size})
            batch: dict[str, int | None] = {}
        else:
            N = check_shape("x", x, {"N": None, "D": self.input_size})[0]
            batch = {"N": N}
        for name, state in states.items():
            if state is not None:
                check_shape(name, state, {**batch, "H": self.hidden_size})
        check_same_dtype(("x", x), {**states, **dict(self.named_parameters())})

    def _input_part(self, x: Tensor) -> Tensor:
        """``x @ W_xh.T + b_xh``: (N, G*H) from (N, D)."""
        return _linear(x, self.weight_ih, self.bias_ih)

    def _zeros(self, x: Tensor) -> Tensor:
        return x.new_zeros(x.shape[0], self.hidden_size)


def init_like_torch(module: nn.Module, hidden_size: int) -> None:
    """Every weight and bias of ``module`` ~ uniform(-1/sqrt(H), 1/sqrt(H)), as torch initialises its RNNs."""
    bound = init_bound(hidden_size)
    for p in module.parameters():
        nn.init.uniform_(p, -bound, bound)


def _batched(x: Tensor) -> tuple[Tensor, bool]:
    """Allow an unbatched (D,) input, as torch's cells do: returns (N, D) and a flag."""
    return (x.unsqueeze(0), True) if x.dim() == 1 else (x, False)


def _state(h: Tensor, unbatched: bool) -> Tensor:
    return h.unsqueeze(0) if unbatched else h


class RNNCell(_CellBase):
    """Vanilla (Elman) RNN cell: ``h_t = f(W_xh x_t + b_xh + W_hh h_{t-1} + b_hh)``.

    Parameters (names and shapes of ``torch.nn.RNNCell``):
        weight_ih: (H, D) W_xh.
        weight_hh: (H, H) W_hh.
        bias_ih, bias_hh: (H,) each, absent if ``bias=False``.

    Call ``cell(x, h)``:
        x: (N, D), or (D,) for a single example.
        h: (N, H) h_{t-1}; zeros if omitted.

    Returns h_t: (N, H) (or (H,)).
    """

    gates = KIND_SPECS["rnn_tanh"].num_gates

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: Nonlinearity = "tanh",
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias)
        self.nonlinearity = nonlinearity

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + f", nonlinearity={self.nonlinearity!r}"

    def forward(self, x: Tensor, h: Tensor | None = None) -> Tensor:
        self._check(x, {"h": h})
        x, unbatched = _batched(x)
        h = self._zeros(x) if h is None else _state(h, unbatched)
        h_new = rnn_step(self._input_part(x), h, self.weight_hh, self.bias_hh, self.nonlinearity)
        return h_new.squeeze(0) if unbatched else h_new


class LSTMCell(_CellBase):
    """Long short-term memory cell (gates in torch's order i, f, g, o).

        i_t = sigmoid(W_xi x_t + b_xi + W_hi h_{t-1} + b_hi)
        f_t = sigmoid(W_xf x_t + b_xf + W_hf h_{t-1} + b_hf)
        g_t = tanh(W_xg x_t + b_xg + W_hg h_{t-1} + b_hg)
        o_t = sigmoid(W_xo x_t + b_xo + W_ho h_{t-1} + b_ho)
        c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
        h_t = o_t ⊙ tanh(c_t)

    ⊙ is the elementwise product. ``W_xh`` stacks W_xi, W_xf, W_xg, W_xo on
    its rows, and likewise ``W_hh`` and the biases.

    Parameters (names and shapes of ``torch.nn.LSTMCell``):
        weight_ih: (4H, D) W_xh.
        weight_hh: (4H, H) W_hh.
        bias_ih, bias_hh: (4H,) each, absent if ``bias=False``.

    Call ``cell(x, (h, c))``:
        x: (N, D), or (D,) for a single example.
        (h, c): (N, H) each, h_{t-1} and c_{t-1}; zeros if omitted.

    Returns (h_t, c_t): (N, H) each (or (H,)).
    """

    gates = KIND_SPECS["lstm"].num_gates

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        self._check(x, {} if state is None else {"h": state[0], "c": state[1]})
        x, unbatched = _batched(x)
        if state is None:
            h, c = self._zeros(x), self._zeros(x)
        else:
            h, c = _state(state[0], unbatched), _state(state[1], unbatched)
        h_new, c_new = lstm_step(self._input_part(x), h, c, self.weight_hh, self.bias_hh)
        if unbatched:
            return h_new.squeeze(0), c_new.squeeze(0)
        return h_new, c_new


class GRUCell(_CellBase):
    """Gated recurrent unit cell (gates in torch's order r, z, n).

        r_t = sigmoid(W_xr x_t + b_xr + W_hr h_{t-1} + b_hr)
        z_t = sigmoid(W_xz x_t + b_xz + W_hz h_{t-1} + b_hz)
        n_t = tanh(W_xn x_t + b_xn + r_t ⊙ (W_hn h_{t-1} + b_hn))
        h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}

    ⊙ is the elementwise product. ``W_xh`` stacks W_xr, W_xz, W_xn on its
    rows, and likewise ``W_hh`` and the biases.

    Parameters (names and shapes of ``torch.nn.GRUCell``):
        weight_ih: (3H, D) W_xh.
        weight_hh: (3H, H) W_hh.
        bias_ih, bias_hh: (3H,) each, absent if ``bias=False``.

    Call ``cell(x, h)``:
        x: (N, D), or (D,) for a single example.
        h: (N, H) h_{t-1}; zeros if omitted.

    Returns h_t: (N, H) (or (H,)).
    """

    gates = KIND_SPECS["gru"].num_gates

    def forward(self, x: Tensor, h: Tensor | None = None) -> Tensor:
        self._check(x, {"h": h})
        x, unbatched = _batched(x)
        h = self._zeros(x) if h is None else _state(h, unbatched)
        h_new = gru_step(self._input_part(x), h, self.weight_hh, self.bias_hh)
        return h_new.squeeze(0) if unbatched else h_new
