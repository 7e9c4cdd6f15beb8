"""Recurrent networks from scratch in NumPy.

Every operation is a pair: ``*_forward`` returns its output and a cache,
``*_backward`` takes the upstream gradient and that cache and returns the
gradients of every input. Arrays are batch-first: a sequence batch is
``(N, T, D)`` (batch, time, features); a hidden state is ``(N, H)``.
Weight matrices are stored as ``(out_features, in_features)``, as in
``torch.nn``, so that ``W @ x`` in the book's column-vector equations is
``x @ W.T`` for a batch of row vectors.

One concept per file (``rnncourse.kinds`` holds the gate layout of every kind):

================  ==========================================================
``activations``   sigmoid, tanh/ReLU and their derivatives, softmax
``shapes``        argument checks with uniform messages (also used by torch code)
``rnn``           the vanilla RNN: step reference, then the sequence path
``lstm``, ``gru`` the gated cells, likewise
``recurrent``     ``RecurrentLayer``: any kind behind one interface, padding
``stacked``       ``Bidirectional`` and ``StackedRecurrent``
``tbptt``         truncated backpropagation through time
``dense``         the affine output layer
``embedding``     lookup of token vectors
``losses``        cross-entropy and MSE with a padding mask
``optim``         clipping, SGD, Adam
================  ==========================================================
"""
