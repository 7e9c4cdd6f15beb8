"""How outputs are judged: one file per kind of output. Import from the module.

===============  ===========================================================
``bleu``         BLEU: corpus and smoothed sentence
``vectors``      word vectors: neighbours, analogies, similarity scores
``forecasting``  forecasts without leakage: split, scale, window, baselines, skill
``anomaly``      anomaly detection by prediction error, and its scores
``ngram``        an interpolated Kneser-Ney n-gram model: the baseline a language model must beat
``probes``       looking inside a network: single units and linear probes of its states, held out
``dialogue``     chat replies: diversity, held-out perplexity, recall@1 among candidates, MMI
===============  ===========================================================
"""
