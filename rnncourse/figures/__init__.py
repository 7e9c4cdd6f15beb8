"""The book's figures, drawn with matplotlib.

Every function builds and returns a :class:`matplotlib.figure.Figure`; none
calls ``plt.show`` or touches pyplot's global state, so the figures can be
drawn headless (any backend, including ``Agg``), saved with ``fig.savefig``,
or displayed in a notebook by returning them from a cell.

Shapes follow the rest of the package: N batch, T steps, D input features,
H hidden units, C classes or outputs.
"""

from rnncourse.figures.ch01_recurrence import (
    draw_io_patterns,
    draw_padding_vs_steps,
    draw_step_shapes,
    draw_unrolled,
    plot_activations,
    plot_hidden_states,
    plot_step_outputs,
)

__all__ = [
    "draw_io_patterns",
    "draw_padding_vs_steps",
    "draw_step_shapes",
    "draw_unrolled",
    "plot_activations",
    "plot_hidden_states",
    "plot_step_outputs",
]
