"""Moving LSTM weights between frameworks: gate orders, transposes and biases.

Every framework stacks the four blocks of an LSTM's weights in one matrix, but
not in the same order, not with the same orientation and not with the same
number of biases. With H hidden units and D inputs:

==================  ===========  ===================================  ==========================
framework           gate order   input weights                        biases
==================  ===========  ===================================  ==========================
torch.nn.LSTM       i, f, g, o   ``weight_ih`` (4H, D), rows          ``bias_ih``, ``bias_hh``
this course         i, f, g, o   ``W_xh`` (4H, D), rows               ``b`` = their sum
Keras ``LSTM``      i, f, c, o   ``kernel`` (D, 4H), columns          ``bias`` (4H,), one
ONNX ``LSTM``       i, o, f, c   ``W`` (4H, D) per direction, rows    ``Wb``, ``Rb`` (as torch)
TF1 ``LSTMCell``    i, j, f, o   ``kernel`` (D + H, 4H), columns      one
==================  ===========  ===================================  ==========================

``g``, ``c`` and ``j`` are three names of the same block, the tanh candidate.
So torch and Keras share the order (i, f, candidate, o): porting between
them is a transpose and a sum of biases, *not* a reordering, whatever blog
posts say. Reordering is needed for ONNX and TF1 layouts, and for code that
slices the blocks as i, f, o, g. A reordering is a permutation of the H-row
blocks (:func:`reorder_gates`), the same for weights and biases.

torch adds ``bias_ih + bias_hh`` before every nonlinearity, so only their sum
matters: a one-bias framework gets the sum, and going back the sum can be put
in ``bias_ih`` with ``bias_hh = 0`` (any split gives the same function).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from rnncourse.checks import check_shape
from rnncourse.kinds import torch_param_name
from rnncourse.scratch.gru import gru_step_forward
from rnncourse.scratch.lstm import lstm_step_forward
from rnncourse.scratch.stacked import Bidirectional, StackedRecurrent

#: Gate orders by layout; "g" is the candidate block whatever a framework calls it.
GATE_ORDERS: dict[str, str] = {
    "torch": "ifgo",
    "course": "ifgo",
    "keras": "ifgo",
    "onnx": "iofg",
    "tf1": "igfo",
}


def reorder_gates(array: np.ndarray, source: str, target: str, axis: int = 0) -> np.ndarray:
    """Permute the four H-wide gate blocks of ``array`` along ``axis`` from one order to another.

    Args:
        array: (4H, ...) stacked weights or a (4H,) bias (or (..., 4H) with ``axis=-1``).
        source, target: gate orders as four letters from "ifgo" (e.g. ``"iofg"`` for ONNX),
            or a layout name of ``GATE_ORDERS``.
        axis: the stacked axis.

    Returns:
        A new array of the same shape whose block k is the source's block of gate ``target[k]``.
    """
    src, dst = GATE_ORDERS.get(source, source), GATE_ORDERS.get(target, target)
    for name, order in (("source", src), ("target", dst)):
        if sorted(order) != sorted("ifgo"):
            raise ValueError(f"{name} order must be a permutation of 'ifgo', got {order!r}")
    size = array.shape[axis]
    if size % 4:
        raise ValueError(f"axis {axis} has size {size}; expected 4H, a multiple of 4")
    blocks = np.split(array, 4, axis=axis)
    return np.concatenate([blocks[src.index(gate)] for gate in dst], axis=axis)


def torch_to_keras(state: Mapping[str, np.ndarray], layer: int = 0) -> dict[str, np.ndarray]:
    """One torch.nn.LSTM layer as Keras ``LSTM`` weights: transpose, sum the biases.

    Args:
        state: torch names -> arrays (``weight_ih_l0`` (4H, D), ``weight_hh_l0`` (4H, H),
            ``bias_ih_l0``, ``bias_hh_l0`` (4H,)), e.g. ``{k: v.numpy() for k, v in lstm.state_dict().items()}``.
        layer: which layer.

    Returns:
        ``kernel`` (D, 4H), ``recurrent_kernel`` (H, 4H), ``bias`` (4H,), the order of Keras's
        ``layer.set_weights([kernel, recurrent_kernel, bias])``.
    """
    w_ih, w_hh = state[torch_param_name("weight_ih", layer)], state[torch_param_name("weight_hh", layer)]
    bias = state[torch_param_name("bias_ih", layer)] + state[torch_param_name("bias_hh", layer)]
    return {"kernel": w_ih.T.copy(), "recurrent_kernel": w_hh.T.copy(), "bias": bias}


def keras_to_torch(
    kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray, layer: int = 0
) -> dict[str, np.ndarray]:
    """Keras ``LSTM`` weights as one torch.nn.LSTM layer's state dict entries.

    Args:
        kernel: (D, 4H), recurrent_kernel: (H, 4H), bias: (4H,), gates i, f, c, o on the columns.
        layer: the torch layer index the names get.

    Returns:
        ``weight_ih_l<layer>`` (4H, D), ``weight_hh_l<layer>`` (4H, H), ``bias_ih_l<layer>`` = bias
        and ``bias_hh_l<layer>`` = 0 (4H,): only the sum of torch's two biases matters.
    """
    H = check_shape("recurrent_kernel", recurrent_kernel, [("H", None), ("4H", None)])[0]
    check_shape("recurrent_kernel", recurrent_kernel, [("H", H), ("4H", 4 * H)])
    check_shape("kernel", kernel, [("D", None), ("4H", 4 * H)])
    check_shape("bias", bias, [("4H", 4 * H)])
    # .T of a (D, 4H) kernel, not .reshape(4H, D): a reshape has the right shape and wrong values.
    return {
        torch_param_name("weight_ih", layer): kernel.T.copy(),
        torch_param_name("weight_hh", layer): recurrent_kernel.T.copy(),
        torch_param_name("bias_ih", layer): bias.copy(),
        torch_param_name("bias_hh", layer): np.zeros_like(bias),
    }


def course_params_from_torch(
    state: Mapping[str, np.ndarray], layer: int = 0, reverse: bool = False
) -> dict[str, np.ndarray]:
    """The course's NumPy LSTM parameters of one torch layer and direction.

    The course keeps torch's order and orientation, so ``W_xh = weight_ih``,
    ``W_hh = weight_hh``; its single bias is ``b = bias_ih + bias_hh`` (leaving
    out ``bias_hh`` is the classic porting bug: the output is close, not equal).

    Args:
        state: torch names -> arrays (float64 for exact comparisons).
        layer, reverse: which layer and direction.

    Returns:
        ``W_xh`` (4H, D), ``W_hh`` (4H, H), ``b`` (4H,), copies.
    """

    def get(name: str) -> np.ndarray:
        key = torch_param_name(name, layer, reverse)
        if key not in state:
            raise KeyError(f"{key} is not in the state dict (it has {sorted(state)})")
        return np.array(state[key], copy=True)

    return {"W_xh": get("weight_ih"), "W_hh": get("weight_hh"), "b": get("bias_ih") + get("bias_hh")}


def torch_lstm_layout(state: Mapping[str, np.ndarray]) -> tuple[int, bool]:
    """(num_layers, bidirectional) of a torch.nn.LSTM state dict, read from its names."""
    layers = sum(1 for key in state if key.startswith("weight_ih_l") and not key.endswith("_reverse"))
    if layers == 0:
        raise KeyError(f"no weight_ih_l<k> in the state dict (it has {sorted(state)})")
    return layers, any(key.endswith("_reverse") for key in state)


def stacked_from_torch(state: Mapping[str, np.ndarray]) -> StackedRecurrent:
    """A course ``StackedRecurrent`` LSTM that computes what the torch.nn.LSTM of ``state`` computes.

    Args:
        state: a torch.nn.LSTM's state dict as arrays (any number of layers, one
            or two directions); their dtype becomes the layer's.

    Returns:
        The stack, with ``forward(x, None, lengths)`` equal to torch's ``batch_first``
        output on a packed batch (zeros at padding) and its final states equal
        to ``h_n``, ``c_n``.
    """
    layers, bidirectional = torch_lstm_layout(state)
    first = state[torch_param_name("weight_ih", 0)]
    hidden = state[torch_param_name("weight_hh", 0)].shape[1]
    stack = StackedRecurrent(
        "lstm", first.shape[1], hidden, layers, dtype=first.dtype, bidirectional=bidirectional
    )
    for index, layer in enumerate(stack.layers):
        if isinstance(layer, Bidirectional):
            layer.forward_layer.params = course_params_from_torch(state, index)
            layer.reverse_layer.params = course_params_from_torch(state, index, reverse=True)
        else:
            layer.params = course_params_from_torch(state, index)
    return stack


def gate_activations(kind: str, state: Mapping[str, np.ndarray], x: np.ndarray) -> dict[str, np.ndarray]:
    """The gates of a trained one-layer torch LSTM or GRU at every step, through the course's NumPy step.

    Opens a trained network: its weights (a ``torch.nn.LSTM`` or ``torch.nn.GRU``
    state dict, layer 0) run through the reference step functions of
    ``rnncourse.scratch.lstm`` and ``rnncourse.scratch.gru``, from zero states,
    and every step's cache is kept. The states are the ones torch computes.

    Args:
        kind: ``"lstm"`` or ``"gru"``.
        state: the layer's state dict as arrays (``weight_ih_l0``, ``weight_hh_l0``,
            ``bias_ih_l0``, ``bias_hh_l0``); float64 for exact comparisons.
        x: (N, T, D) inputs.

    Returns:
        Each (N, T, H): for the LSTM ``i``, ``f``, ``g``, ``o``, ``c`` and ``h``;
        for the GRU ``r``, ``z``, ``n`` and ``h``.
    """
    check_shape("x", x, {"N": None, "T": None, "D": None})
    W_xh, W_hh = state[torch_param_name("weight_ih")], state[torch_param_name("weight_hh")]
    b_ih, b_hh = state[torch_param_name("bias_ih")], state[torch_param_name("bias_hh")]
    N, H = x.shape[0], W_hh.shape[1]
    h = np.zeros((N, H), dtype=x.dtype)
    trace: dict[str, list[np.ndarray]] = {}
    if kind == "lstm":
        c = np.zeros_like(h)
        for t in range(x.shape[1]):
            h, c, lstm_cache = lstm_step_forward(x[:, t], h, c, W_xh, W_hh, b_ih + b_hh)
            for name in "ifgo":
                trace.setdefault(name, []).append(getattr(lstm_cache, name))
            trace.setdefault("c", []).append(c)
            trace.setdefault("h", []).append(h)
    elif kind == "gru":
        for t in range(x.shape[1]):
            h, gru_cache = gru_step_forward(x[:, t], h, W_xh, W_hh, b_ih, b_hh)
            for name in "rzn":
                trace.setdefault(name, []).append(getattr(gru_cache, name))
            trace.setdefault("h", []).append(h)
    else:
        raise ValueError(f"kind must be 'lstm' or 'gru', got {kind!r}")
    return {name: np.stack(steps, axis=1) for name, steps in trace.items()}
