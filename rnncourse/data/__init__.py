"""Data: one file per source or task, generated in code or read from installed packages.

Nothing is downloaded at run time. Import from the module:
``from rnncourse.data.text import Vocabulary``.

==================  ========================================================
``text``            tokens, vocabularies, padding
``toy``             the book's small worked examples
``synthetic``       seeded tasks whose answer is known by construction
``adding``          the adding problem and its trivial baseline
``counting``        the counting language a^n b^n
``char_stream``     characters as ids; a stream cut into truncated-BPTT chunks
``pairs``           source-target pairs: dates, copying, English-French verses
``splits``          a list split in order, the last part for testing
``packaged``        files shipped by the data-only packages
``shakespeare``     Shakespeare's plays, and dialogue pairs from them
``python_source``   Python's standard library as text
``reviews``         film-review snippets labelled by sentiment
``glove``           pretrained GloVe vectors
``word_tests``      analogy and word-similarity test sets
``series``          real time series and speech features
``dialogue``        chatterbot question-reply pairs
``music``           folk tunes as ABC text, and ABC to notes
``midi``            a minimal MIDI file writer
``captions``        emoji icons captioned with their names
``digit_strips``    handwritten digits tiled into captioned strips
``negation``        generated sentences of negation and contrast
==================  ========================================================
"""
