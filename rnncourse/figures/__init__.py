"""The book's figures, drawn with matplotlib: the shared kit, then one module per chapter page.

=================================  =========================================================
``_draw``                          palette, page sizing, boxes, arrows, heatmaps, curves
``ch01_recurrence``                chapter 1
``ch02_bptt``                      chapter 2
``ch03_vanishing``                 chapter 3
``ch04_lstm``                      chapter 4
``ch05_gru``                       chapter 5
``ch06_embeddings``                chapter 6
``ch07_seq2seq``                   chapter 7
``ch08_applications``              chapter 8, the overview and time series
``ch08_applications_practice``     chapter 8, training practice
``ch08_applications_chatbot``      chapter 8, the chatbot
``ch08_applications_music``        chapter 8, music: ABC tunes against character bigrams
``ch08_applications_captioning``   chapter 8, captioning digit strips and emoji icons
``ch08_applications_sentiment``    chapter 8, sentiment
``ch08_applications_translation``  chapter 8, translation: attention, BLEU by length
=================================  =========================================================

Import from the chapter's module, ``from rnncourse.figures import ch01_recurrence as figs``.
Every function builds and returns a :class:`matplotlib.figure.Figure`; none
calls ``plt.show`` or touches pyplot's global state, so the figures draw
headless (``Agg``), save with ``fig.savefig``, or display when a cell returns them.
Shapes follow the rest of the package: N batch, T steps, D input features,
H hidden units, C classes or outputs.
"""
