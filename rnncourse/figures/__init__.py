"""The book's figures, drawn with matplotlib: one module per chapter.

==========================================  ==================================================
module                                      what it holds
==========================================  ==================================================
``rnncourse.figures._draw``                 the shared drawing kit: palette, page sizing,
                                            boxes, arrows, heatmaps, learning curves
``rnncourse.figures.ch01_recurrence``       chapter 1: the loop, shapes of one step, padding,
                                            the input/output patterns, activations, heatmaps
                                            of states and outputs, the order experiment
==========================================  ==================================================

Import from the chapter's module, not from this package::

    from rnncourse.figures import ch01_recurrence as figs
    figs.draw_unrolled(steps=4)

Every function builds and returns a :class:`matplotlib.figure.Figure`; none
calls ``plt.show`` or touches pyplot's global state, so the figures can be
drawn headless (any backend, including ``Agg``), saved with ``fig.savefig``,
or displayed in a notebook by returning them from a cell.

Shapes follow the rest of the package: N batch, T steps, D input features,
H hidden units, C classes or outputs.
"""
