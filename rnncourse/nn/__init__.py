"""The torch twins of ``scratch/``, with ``torch.nn``'s face: written from the equations.

Every class has the constructor arguments, parameter names and return values
of its ``torch.nn`` namesake, so weights move between the two with
``load_state_dict`` and results can be checked against torch number for
number; autograd supplies the backward pass. Import from the module:
``from rnncourse.nn.recurrent import LSTM``.

==============  ============================================================
``cells``       one step: ``RNNCell``, ``LSTMCell``, ``GRUCell``
``recurrent``   ``RNN``, ``LSTM``, ``GRU`` over (padded, stacked, bidirectional) sequences, and
                ``recurrent_layer``: the one place where a kind becomes a torch layer
``regularised`` LSTM layers with variational dropout or layer normalisation
``attention``   additive and multiplicative attention with a padding mask
``sampling``    the next token from logits: temperature, top-k, top-p
==============  ============================================================
"""
