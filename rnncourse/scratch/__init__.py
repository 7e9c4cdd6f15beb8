"""Recurrent networks from scratch in NumPy.

Every operation is a pair: ``*_forward`` returns its output and a cache,
``*_backward`` takes the upstream gradient and that cache and returns the
gradients of every input. Arrays are batch-first: a sequence batch is
``(N, T, D)`` (batch, time, features); a hidden state is ``(N, H)``.
Weight matrices are stored as ``(out_features, in_features)``, as in
``torch.nn``, so that ``W @ x`` in the book's column-vector equations is
``x @ W.T`` for a batch of row vectors.
"""
