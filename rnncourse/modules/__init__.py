"""Recurrent layers in PyTorch, written from the equations: chapter 4 onwards.

``RNNCell``, ``LSTMCell`` and ``GRUCell`` compute one time step;
``RNN``, ``LSTM`` and ``GRU`` run them over whole (optionally padded,
bidirectional, stacked) sequences. Every class has the constructor arguments,
parameter names and return values of its ``torch.nn`` namesake, so weights
move between the two with ``load_state_dict`` and the results can be checked
against torch number for number. The tensor code uses only matrix products
and elementwise functions, autograd supplies the backward pass.
"""

from .cells import GRUCell, LSTMCell, RNNCell, gru_step, lstm_step, rnn_step
from .recurrent import GRU, LSTM, RNN

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "GRUCell",
    "LSTMCell",
    "RNNCell",
    "gru_step",
    "lstm_step",
    "rnn_step",
]
