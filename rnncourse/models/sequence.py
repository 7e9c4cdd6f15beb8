"""A recurrent layer and a linear read-out: the model of the synthetic and series tasks.

    h_1 .. h_T = recurrent layer(x_1 .. x_T)        (N, T, H), any kind of ``rnncourse.kinds``
    y_t = W_hy h_t + b_y   at every step            (N, T, O)   per_step=True
    y   = W_hy h_T + b_y   from the last state      (N, O)      per_step=False

One model serves the adding problem (chapters 3 to 5: two input channels,
one output from the last state), the counting language a^n b^n and the
character windows of chapter 5's comparison (a prediction at every step),
and chapter 8's forecasting windows (one value in, the next value out).

Shapes: N sequences, T steps, D input features, H hidden units, O outputs.
"""

from __future__ import annotations

from typing import cast

from torch import Tensor, nn

from rnncourse.checks import check_shape
from rnncourse.kinds import Kind, spec
from rnncourse.nn.recurrent import recurrent_layer

__all__ = ["SequenceModel", "recurrent_param_count"]


class SequenceModel(nn.Module):
    """One ``torch.nn`` recurrent layer of ``kind`` and a linear read-out.

    Args:
        kind: ``"rnn_tanh"``, ``"rnn_relu"``, ``"lstm"`` or ``"gru"``.
        input_size: D; hidden_size: H; output_size: O.
        per_step: read out every step (N, T, O), or only the last one (N, O).

    ``model(x)``: x (N, T, D) -> (N, T, O) if ``per_step``, else (N, O). A 2-D x
    (N, T) is read as one feature per step (D = 1): a window of a series.
    """

    def __init__(
        self, kind: Kind, input_size: int, hidden_size: int, output_size: int = 1, per_step: bool = False
    ) -> None:
        super().__init__()
        self.kind, self.per_step = kind, per_step
        self.rnn = cast(nn.RNNBase, recurrent_layer(kind, input_size, hidden_size))
        self.head = nn.Linear(hidden_size, output_size)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 2 and self.rnn.input_size == 1:
            x = x.unsqueeze(-1)  # (N, T) -> (N, T, 1)
        check_shape("x", x, {"N": None, "T": None, "D": self.rnn.input_size})
        h, _ = self.rnn(x)  # (N, T, H)
        return self.head(h if self.per_step else h[:, -1])


def recurrent_param_count(kind: Kind, input_size: int, hidden_size: int, output_size: int) -> int:
    """Parameters of a :class:`SequenceModel`: G (H D + H H + 2 H) + H O + O.

    G is the number of gate blocks (``rnncourse.kinds``: 1, 4, 3); torch keeps two
    bias vectors per layer; the read-out has a weight (O, H) and a bias (O,).
    """
    G = spec(kind).num_gates
    return G * (hidden_size * input_size + hidden_size * hidden_size + 2 * hidden_size) + (
        hidden_size * output_size + output_size
    )
