"""Figures of chapter 8's chatbot page draw the numbers they are given, within the page's rules."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from matplotlib.figure import Figure

import rnncourse.figures.ch08_applications_chatbot as figs
from tests.figures.page_rules import rule_breaks, unchecked_figures

PAGE = Path(__file__).resolve().parents[2] / "book" / "ch08_applications_chatbot.ipynb"


def renders(fig: Figure) -> bool:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()[:4] == b"\x89PNG"


def widths(ax) -> dict[str, float]:
    return {bar.get_gid(): bar.get_width() for bar in ax.patches}


def labels(ax) -> list[str]:
    """The y tick labels from top to bottom."""
    ticks = sorted(ax.get_yticklabels(), key=lambda t: -ax.transData.transform((0, t.get_position()[1]))[1])
    return [t.get_text() for t in ticks]


def bar_order(ax) -> list[str]:
    """The bars' names from top to bottom (the first row is on top: the y axis is inverted)."""
    assert ax.yaxis_inverted()
    return [bar.get_gid() for bar in sorted(ax.patches, key=lambda bar: bar.get_y())]


def built() -> dict[str, Figure]:
    perplexity = {"language model": 19.0, "seq2seq": 16.5}
    recall = {"chance": 0.1, "retrieval": 0.2, "MMI": 0.3}
    diversity = {
        "greedy": {"top reply share": 0.3, "distinct-2": 0.1},
        "MMI": {"top reply share": 0.15, "distinct-2": 0.6},
    }
    return {
        "plot_chat_scores": figs.plot_chat_scores(perplexity, recall),
        "plot_generic_replies": figs.plot_generic_replies(diversity),
    }


def test_chat_scores_draw_every_bar_in_order() -> None:
    fig = built()["plot_chat_scores"]
    top, bottom = fig.axes
    assert widths(top) == {"language model": 19.0, "seq2seq": 16.5}
    assert widths(bottom) == {"chance": 0.1, "retrieval": 0.2, "MMI": 0.3}
    assert labels(top) == ["language model", "seq2seq"] == bar_order(top)
    assert labels(bottom) == ["chance", "retrieval", "MMI"] == bar_order(bottom)
    assert renders(fig)
    with pytest.raises(ValueError, match="at least one bar"):
        figs.plot_chat_scores({}, {"a": 0.1})


def test_generic_replies_show_share_and_variety_in_the_same_order() -> None:
    fig = built()["plot_generic_replies"]
    left, right = fig.axes
    assert widths(left) == {"greedy": 0.3, "MMI": 0.15}
    assert widths(right) == {"greedy": 0.1, "MMI": 0.6}
    assert labels(left) == ["greedy", "MMI"] == bar_order(right)  # the right panel's rows match the left's
    assert renders(fig)


def test_every_figure_is_built_here_and_keeps_the_page_rules() -> None:
    figures = built()
    assert unchecked_figures(figs, figures, PAGE) == {}
    for name, fig in figures.items():
        assert rule_breaks(fig) == [], name
