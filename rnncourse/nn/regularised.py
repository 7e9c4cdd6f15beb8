"""LSTM layers with the two regularisers of chapter 8's practice page: variational dropout, layer norm.

Both have the face of ``torch.nn.LSTM(..., batch_first=True)``: constructor
``(input_size, hidden_size, num_layers=1, ...)``, input (N, T, D), and
``layer(x, hx=None) -> (output, (h_n, c_n))`` with output (N, T, H) (the last
layer's h_t at every step) and h_n, c_n (L, N, H). Each layer keeps one bias
where torch keeps two (only their sum matters in an LSTM), so the parameters of
layer l are ``layers.{l}.weight_ih`` (4H, D_l), ``layers.{l}.weight_hh`` (4H, H)
and ``layers.{l}.bias`` (4H,) (and its norms), gates in torch's order i, f, g, o,
drawn as torch draws them: uniform in +-1/sqrt(H), layer by layer.

Shapes: N sequences, T steps, D inputs, H hidden units, L layers.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnncourse.kinds import init_bound

from .cells import lstm_step

__all__ = ["LayerNormLSTM", "VariationalLSTM"]

LSTMState = tuple[Tensor, Tensor]  # (h, c), each (L, N, H)


class _LayerWeights(nn.Module):
    """One LSTM layer's W_xh (4H, D), W_hh (4H, H) and b (4H,), uniform in +-1/sqrt(H)."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias = nn.Parameter(torch.empty(4 * hidden_size))
        bound = init_bound(hidden_size)
        for p in (self.weight_ih, self.weight_hh, self.bias):
            nn.init.uniform_(p, -bound, bound)


class _LayerNormWeights(_LayerWeights):
    """One layer-normalised LSTM layer: the weights, then the norms LN_x, LN_h (4H) and LN_c (H)."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.ln_x, self.ln_h = nn.LayerNorm(4 * hidden_size), nn.LayerNorm(4 * hidden_size)
        self.ln_c = nn.LayerNorm(hidden_size)


class _StackedLSTM(nn.Module):
    """L stacked LSTM layers, made and run layer by layer."""

    layer_type: type[_LayerWeights] = _LayerWeights

    def __init__(self, input_size: int, hidden_size: int, num_layers: int) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.layers = nn.ModuleList(
            self.layer_type(input_size if layer == 0 else hidden_size, hidden_size)
            for layer in range(num_layers)
        )

    def initial(self, x: Tensor, hx: LSTMState | None, layer: int) -> LSTMState:
        """Layer ``layer``'s (h_0, c_0), each (N, H): from ``hx``, or zeros."""
        if hx is None:
            h = x.new_zeros(x.shape[0], self.hidden_size)
            return h, torch.zeros_like(h)
        return hx[0][layer], hx[1][layer]

    def forward(self, x: Tensor, hx: LSTMState | None = None) -> tuple[Tensor, LSTMState]:
        """Every layer in turn over x (N, T, D) from hx = (h_0, c_0), each (L, N, H), or zeros.

        Returns:
            output (N, T, H), the last layer's h_t at every step, and (h_n, c_n), each (L, N, H).
        """
        if x.dim() != 3:
            raise ValueError(f"input must be (N, T, D) (batch first), got shape {tuple(x.shape)}")
        finals = []
        for layer, weights in enumerate(self.layers):
            assert isinstance(weights, _LayerWeights)
            x, final = self._layer(x, *self.initial(x, hx, layer), weights)
            finals.append(final)
        return x, (torch.stack([h for h, _ in finals]), torch.stack([c for _, c in finals]))

    def _layer(self, x: Tensor, h: Tensor, c: Tensor, weights: _LayerWeights) -> tuple[Tensor, LSTMState]:
        """One layer over x (N, T, D_l) from (h, c): outputs (N, T, H) and the final (h, c)."""
        raise NotImplementedError


class VariationalLSTM(_StackedLSTM):
    """LSTM layers with variational ("recurrent") dropout (Gal and Ghahramani 2016).

    In training, two masks are drawn once per sequence and layer and used at
    *every* step: ``m_x`` (N, D_l) on the layer's inputs and ``m_h`` (N, H) on
    the previous state inside the recurrence, each entry 0 with probability p
    and 1/(1-p) otherwise (Keras' ``dropout`` and ``recurrent_dropout``). A
    fresh mask at every step, as plain dropout would draw, would add noise to
    the state T times over and wash out the memory; the same mask removes the
    same units for the whole sequence, like a thinner network. In eval mode
    there are no masks.

    Args:
        input_size: D; hidden_size: H; num_layers: L;
        dropout: p on every layer's inputs; recurrent_dropout: p on h_{t-1}.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
    ) -> None:
        if not (0.0 <= dropout < 1.0 and 0.0 <= recurrent_dropout < 1.0):
            raise ValueError(f"dropout rates must be in [0, 1), got {dropout}, {recurrent_dropout}")
        super().__init__(input_size, hidden_size, num_layers)
        self.dropout, self.recurrent_dropout = dropout, recurrent_dropout

    def _mask(self, like: Tensor, p: float) -> Tensor:
        if not self.training or p == 0.0:
            return torch.ones_like(like)
        return torch.bernoulli(torch.full_like(like, 1 - p)) / (1 - p)

    def _layer(self, x: Tensor, h: Tensor, c: Tensor, weights: _LayerWeights) -> tuple[Tensor, LSTMState]:
        W_xh, W_hh, b = weights.weight_ih, weights.weight_hh, weights.bias
        m_x = self._mask(x[:, 0], self.dropout)  # (N, D_l), the same at every step
        m_h = self._mask(h, self.recurrent_dropout)  # (N, H), the same at every step
        x_part = (x * m_x[:, None]) @ W_xh.T + b  # (N, T, 4H), all steps at once
        outputs = []
        for t in range(x.shape[1]):
            h, c = lstm_step(x_part[:, t], h * m_h, c, W_hh, None)
            outputs.append(h)
        return torch.stack(outputs, dim=1), (h, c)


class LayerNormLSTM(_StackedLSTM):
    """LSTM layers with layer normalisation (Ba, Kiros and Hinton 2016).

        a_t = LN_x(W_xh x_t) + LN_h(W_hh h_{t-1}) + b      (N, 4H)
        i, f, g, o from a_t as in the LSTM
        c_t = f ⊙ c_{t-1} + i ⊙ g
        h_t = o ⊙ tanh(LN_c(c_t))

    Each LN normalises one example's vector over its own features (mean 0,
    variance 1, then a learned gain and shift): the statistics never mix
    examples or time steps, so the layer computes the same thing for a batch
    of one, for any batch, at any step and in training and eval mode alike.

    Args:
        input_size: D; hidden_size: H; num_layers: L.
    """

    layer_type = _LayerNormWeights

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1) -> None:
        super().__init__(input_size, hidden_size, num_layers)  # torch.nn.LSTM's first three arguments

    def _layer(self, x: Tensor, h: Tensor, c: Tensor, weights: _LayerWeights) -> tuple[Tensor, LSTMState]:
        assert isinstance(weights, _LayerNormWeights)
        W_xh, W_hh, b = weights.weight_ih, weights.weight_hh, weights.bias
        ln_x, ln_h, ln_c = weights.ln_x, weights.ln_h, weights.ln_c
        x_part = ln_x(x @ W_xh.T) + b  # (N, T, 4H)
        outputs = []
        for t in range(x.shape[1]):
            a = x_part[:, t] + ln_h(h @ W_hh.T)
            a_i, a_f, a_g, a_o = a.chunk(4, dim=-1)
            c = torch.sigmoid(a_f) * c + torch.sigmoid(a_i) * torch.tanh(a_g)
            h = torch.sigmoid(a_o) * torch.tanh(ln_c(c))
            outputs.append(h)
        return torch.stack(outputs, dim=1), (h, c)
