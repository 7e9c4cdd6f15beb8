"""The chapters' measurements: a model from ``models/``, ``training.fit`` and a few settings.

Each module runs what its reading page trains or measures (seeded, small
enough for the page's time budget), and its ``main`` makes the longer runs
stored in :mod:`rnncourse.results` (``python -m rnncourse.experiments.<module> --help``
lists what it makes). The models come from :mod:`rnncourse.models`, the
loop is :func:`rnncourse.training.fit`; a loop written out in a module is one
its page teaches or times, and the module's docstring says so.

=================================  =========================================================
``ch02_bptt``                      chapter 2
``ch03_vanishing``                 chapter 3, and its table of adding-problem runs
``ch04_lstm``                      chapter 4
``ch05_gru``                       chapter 5, and its stored comparison of the three cells
``ch06_embeddings``                chapter 6
``ch07_seq2seq``                   chapter 7
``ch08_applications``              chapter 8, time series, and the chapter's table
``ch08_applications_practice``     chapter 8, training practice, and the GPU timings
``ch08_applications_chatbot``      chapter 8, the chatbot measured by what moves
``ch08_applications_music``        chapter 8, music: ABC tunes against character bigrams
``ch08_applications_captioning``   chapter 8, captioning digit strips and emoji icons
``ch08_applications_text``         chapter 8, character language models, looking inside
``ch08_applications_translation``  chapter 8, translation with the practice page's protocol
``ch08_applications_sentiment``    chapter 8, sentiment and the generated negation set
=================================  =========================================================
"""
