"""Assembled torch networks, one file per family; any chapter may use them.

An experiment is a model from here, ``rnncourse.training.fit`` and a few
settings. Import from the module: ``from rnncourse.models.char_lm import CharLM``.

===============  ============================================================
``char_lm``      the character-level language models (recurrent, causal CNN), their
                 stateful truncated-BPTT training and generation
``sequence``     a recurrent layer and a read-out: adding, counting, series windows
``classifiers``  bag of words, mean of embeddings, a recurrent classifier
``chatbot``      the syllabus's chatbot (Embedding, LSTM, LSTM, softmax)
``seq2seq``      the encoder-decoder, with or without attention, and the captioner
``retrieval``    the nearest training source's target: a baseline for pairs
===============  ============================================================
"""
