"""The page's rules for a chapter's figures, shared by the chapters' figure tests.

A figure is at most ``PAGE_WIDTH`` wide and every text on it is at least
``MIN_FONT_PT`` (``rnncourse/figures/_draw.py``, module docstring); a chapter's
test builds every figure of its module as the page builds it and checks both.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from matplotlib.figure import Figure

from rnncourse.figures._draw import MIN_FONT_PT, PAGE_WIDTH, text_sizes


def figure_functions(module: ModuleType) -> set[str]:
    """The names of the ``draw_*`` and ``plot_*`` functions ``module`` defines (not those it imports)."""
    return {
        name
        for name, value in vars(module).items()
        if name.startswith(("draw_", "plot_")) and getattr(value, "__module__", "") == module.__name__
    }


def not_on_the_page(names: set[str], page: Path) -> set[str]:
    """The names of ``names`` that the notebook ``page`` never calls as ``figs.<name>(``."""
    source = page.read_text(encoding="utf-8")
    return {name for name in names if f"figs.{name}(" not in source}


def unchecked_figures(module: ModuleType, built: Iterable[str], page: Path) -> dict[str, set[str]]:
    """What a chapter's test leaves unchecked: figures of ``module`` it does not build, names it
    builds that ``module`` does not define, figures ``page`` never calls; empty if nothing."""
    names = figure_functions(module)
    gaps = {
        "not built by the test": names - set(built),
        "built but not in the module": set(built) - names,
        "not on the page": not_on_the_page(names, page),
    }
    return {gap: found for gap, found in gaps.items() if found}


def rule_breaks(fig: Figure) -> list[str]:
    """What in ``fig`` breaks the page's rules: too wide, or texts below ``MIN_FONT_PT``; empty if nothing."""
    breaks = []
    width = fig.get_size_inches()[0]
    if width > PAGE_WIDTH + 1e-9:
        breaks.append(f"{width:.2f} in wide, the column is {PAGE_WIDTH} in")
    breaks += [f"{text!r} at {size} pt" for text, size in text_sizes(fig) if size < MIN_FONT_PT]
    return breaks
