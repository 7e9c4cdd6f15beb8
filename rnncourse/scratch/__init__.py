"""Recurrent networks from scratch in NumPy.

Every operation is a pair: ``*_forward`` returns its output and a cache,
``*_backward`` takes the upstream gradient and that cache and returns the
gradients of every input. Arrays are batch-first: a sequence batch is
``(N, T, D)`` (batch, time, features); a hidden state is ``(N, H)``.
Weight matrices are stored as ``(out_features, in_features)``, as in
``torch.nn``, so that ``W @ x`` in the book's column-vector equations is
``x @ W.T`` for a batch of row vectors.

One concept per file (``rnncourse.kinds`` holds the gate layout of every
kind, ``rnncourse.checks`` the argument checks):

========================  ==================================================
``activations``           sigmoid, tanh/ReLU and their derivatives, softmax
``rnn``                   the vanilla RNN: step reference, then the sequence path
``lstm``, ``gru``         the gated cells, likewise
``lstm_variants``         LSTM without forget gate, with coupled gates, with peepholes
``recurrent``             ``RecurrentLayer``: any kind behind one interface, padding
``stacked``               ``Bidirectional`` and ``StackedRecurrent``
``tbptt``                 truncated backpropagation through time
``gradient_flow``         Jacobian products through time, their bounds and spectra
``dense``                 the affine output layer
``embedding``             lookup of token vectors
``losses``                cross-entropy and MSE with a padding mask
``optim``                 clipping, SGD, Adam
``word2vec``              skip-gram and CBOW with negative sampling
``hierarchical_softmax``  balanced and Huffman trees, path probabilities
``decoding``              greedy and beam search over a step function, read by prefixes
``attention``             additive and multiplicative attention with a padding mask (forward)
``seq2seq``               a trained encoder-decoder's forward, from its arrays (decoding)
========================  ==================================================
"""
