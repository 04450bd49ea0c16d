"""`plot_importance`: each decision's share of the reward's variance, as bars."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from automorph.tuning import Importances, Study, StudyResult, importance
from automorph.utils import FieldValueError
from automorph.viz._plots import new_figure, save

if TYPE_CHECKING:
    from matplotlib.figure import FigureBase

MAX_BARS = 20  # decisions drawn, at most


def plot_importance(
    source: Importances | Mapping[str, float] | Study | StudyResult,
    path: str | os.PathLike[str],
    *,
    objective: int = 0,
    seed: int | None = 0,
    max_bars: int = MAX_BARS,
    title: str | None = None,
) -> Path:
    """Plots the importance of each decision (`am.importance`) as horizontal
    bars, most important on top, and writes it as a PNG.

    Each bar is the fraction of the reward's variance the decision explains
    by itself; a whisker shows its standard deviation over the forest's
    trees. The title gives the number of trials and the fraction that only
    interactions of decisions explain.

    Args:
        source: Importances (what `am.importance` returns, or any mapping
            of decision id to fraction), or a `Study` or `StudyResult` to
            compute them for (needs scikit-learn, the `importance` extra).
        path: Where to write the PNG.
        objective: For a study: which objective.
        seed: For a study: the seed of `am.importance`.
        max_bars: The most decisions to draw (the rest are counted in the title).
        title: The plot's title (by default it says what is drawn).

    Returns:
        The path written.

    Raises:
        ImportError: If matplotlib (or, to compute importances, scikit-learn)
            is not installed.
        FieldValueError: If `max_bars` is less than 1.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     png = plot_importance({"lr": 0.7, "depth": 0.2}, pathlib.Path(folder) / "imp.png")
    ...     png.stat().st_size > 5_000
    True
    """
    if max_bars < 1:
        raise FieldValueError(f"`max_bars` ({max_bars}) must be at least 1")
    if isinstance(source, (Study, StudyResult)):
        source = importance(source, objective=objective, seed=seed)
    figure = new_figure(8.0, 1.6 + 0.32 * min(max(len(source), 1), max_bars))
    draw_importance(figure, source, max_bars=max_bars, title=title)
    return save(figure, path)


def draw_importance(
    target: FigureBase,
    values: Importances | Mapping[str, float],
    *,
    max_bars: int = MAX_BARS,
    title: str | None = None,
) -> None:
    """Draws `plot_importance` on a figure or subfigure."""
    axes = target.subplots()
    order = sorted(values, key=lambda k: -values[k])
    shown = order[:max_bars]
    if not shown:
        axes.text(0.5, 0.5, "no decision to rate", ha="center", va="center", color="0.3")
        axes.set_axis_off()
        return
    heights = np.array([values[k] for k in shown], dtype=float)
    spread = None
    if isinstance(values, Importances):
        spread = np.array([values.std.get(k, 0.0) for k in shown], dtype=float)
    rows = np.arange(len(shown))
    axes.barh(rows, heights, xerr=spread, color="C0", ecolor="0.35", capsize=2, height=0.7)
    ends = heights + (spread if spread is not None else 0.0)  # past the whisker
    for row, height, end in zip(rows, heights, ends, strict=True):
        axes.text(float(end), float(row), f"  {height:.3f}", va="center", fontsize="small")
    labels = [k if len(k) <= 32 else "…" + k[-31:] for k in shown]
    axes.set_yticks(rows, labels, fontsize="small")
    axes.invert_yaxis()  # the most important on top
    top = float(np.max(ends))
    axes.set_xlim(0.0, min(1.0, max(top, 0.05) * 1.18) if top <= 1.0 else top * 1.1)
    axes.set_xlabel("fraction of the reward's variance explained alone (fANOVA main effect)")
    axes.grid(axis="x", alpha=0.3)
    if title is None:
        title = _default_title(values, len(order) - len(shown))
    axes.set_title(title, fontsize="medium")


def _default_title(values: Importances | Mapping[str, float], hidden: int) -> str:
    if isinstance(values, Importances):
        who = f" of study {values.study!r}" if values.study else ""
        which = f", objective {values.objective}" if values.objective else ""
        text = (
            f"Decision importance{who} ({values.num_trials:,} trials{which}); "
            f"interactions: {values.interactions:.3f}"
        )
    else:
        text = "Decision importance"
    if hidden:
        text += f"\n{hidden:,} less important decisions not shown"
    return text
