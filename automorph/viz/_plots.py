"""History and parallel-coordinate plots of a study's trials (matplotlib, Agg).

matplotlib is an optional extra (`pip install 'automorph[viz]'`); it is
imported when a plot is drawn, never when `automorph.viz` is imported.
Figures are drawn on their own Agg canvas, without pyplot, so plotting
changes no global state and works in threads and on machines without a
display.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from automorph.algorithms import pareto_mask
from automorph.geno import Space
from automorph.tuning import Study, StudyResult
from automorph.viz._data import Decision, TrialLike, TrialTable, decisions_of, spec_of, table_of

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure, FigureBase
    from matplotlib.legend import Legend

FloatArray = np.ndarray[Any, np.dtype[np.float64]]

DPI = 120
MAX_AXES = 20  # decision axes drawn, at most, in parallel coordinates
MAX_LINES = 2000  # lines drawn, at most, in parallel coordinates
MAX_CATEGORIES = 12  # distinct values up to which an unlabelled int axis is categorical
_INACTIVE = -0.12  # where a decision that a trial does not have sits on its axis


def new_figure(width: float, height: float) -> Figure:
    """A matplotlib figure on an Agg canvas.

    Raises:
        ImportError: If matplotlib is not installed (naming the `viz` extra).
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "automorph.viz needs matplotlib: `pip install 'automorph[viz]'` "
            "(or `pip install matplotlib`)"
        ) from None
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def save(figure: Figure, path: str | os.PathLike[str]) -> Path:
    """Writes `figure` as PNG to `path` (parent folders must exist)."""
    out = Path(path)
    figure.savefig(out, format="png", dpi=DPI)
    return out


def plot_history(
    trials: Iterable[TrialLike] | TrialTable | StudyResult | Study,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    directions: str | Sequence[str] | None = None,
) -> Path:
    """Plots how the search went and writes it as a PNG.

    One objective: the best reward so far against the trial number (it
    climbs when maximized, falls when minimized), each completed trial's
    reward as a faint point, the best trial starred, and failed and skipped
    trials marked along the bottom. Several objectives:
    the first two objectives against each other, points coloured by trial
    number, the Pareto front (over every objective) highlighted. In a
    constrained study, infeasible trials are grey crosses, and the best so
    far, the star and the Pareto front count feasible trials only (the
    least infeasible ones while none is feasible).

    Args:
        trials: Storage `TrialRecord`s or tuning `Trial`s (or a `TrialTable`),
            or a `StudyResult` or stored `Study`, which brings its directions.
        path: Where to write the PNG.
        title: The plot's title (by default it names what is drawn).
        directions: "maximize" or "minimize" per objective (one for all); by
            default the study's when `trials` is a result or a study, else
            maximized (ignored for a `TrialTable`, which has its own).

    Returns:
        The path written.

    Raises:
        ImportError: If matplotlib is not installed.
        FieldValueError: If a direction is neither "maximize" nor "minimize".

    >>> import tempfile, pathlib
    >>> from automorph.storage import TrialRecord
    >>> trials = [TrialRecord("demo", i, {"x": i}, "completed", reward=i / 10) for i in range(1, 6)]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     png = plot_history(trials, pathlib.Path(folder) / "history.png")
    ...     png.stat().st_size > 10_000
    True
    """
    table = table_of(trials, directions)
    figure = new_figure(9.0, 4.8)
    draw_history(figure, table, title=title)
    return save(figure, path)


def plot_parallel_coordinates(
    trials: Iterable[TrialLike] | TrialTable | StudyResult | Study,
    path: str | os.PathLike[str],
    *,
    dna_spec: Space | str | None = None,
    max_lines: int = MAX_LINES,
    seed: int = 0,
    directions: str | Sequence[str] | None = None,
) -> Path:
    """Plots each completed trial as a line across one axis per decision and
    a reward axis, coloured by reward, and writes it as a PNG.

    Numeric decisions are scaled to the range the trials cover (a log-scale
    float on a log axis); a choice's candidates are categories, labelled by
    the candidates' values when `dna_spec` is given. A trial without a
    decision (an inactive branch) meets that axis below its range. With more
    than `max_lines` completed trials, the best `max_lines // 10` are always
    drawn and the rest are sampled at random; the title says so.

    Args:
        trials: Storage `TrialRecord`s or tuning `Trial`s (or a `TrialTable`),
            or a `StudyResult` or stored `Study`, which brings its directions
            and its DNASpec.
        path: Where to write the PNG.
        dna_spec: The study's DNASpec (or its JSON text) to know each
            decision's kind; by default the result's or the study's; without
            one, kinds are read from the values.
        max_lines: The most lines to draw.
        seed: Seed of the sample of lines.
        directions: As for `plot_history`: which lines are the best.

    Returns:
        The path written.

    Raises:
        ImportError: If matplotlib is not installed.
        ValueError: If `max_lines` is less than 1.
        FieldValueError: If a direction is neither "maximize" nor "minimize".
    """
    if max_lines < 1:
        raise ValueError(f"`max_lines` ({max_lines}) must be at least 1")
    table = table_of(trials, directions)
    decisions = decisions_of(dna_spec if dna_spec is not None else spec_of(trials))
    width = min(4.0 + 1.15 * min(len(table.decision_ids), MAX_AXES), 26.0)
    figure = new_figure(max(width, 9.0), 5.2)
    draw_parallel_coordinates(figure, table, decisions, max_lines=max_lines, seed=seed)
    return save(figure, path)


# --- history -----------------------------------------------------------------------------


def draw_history(target: FigureBase, table: TrialTable, *, title: str | None = None) -> None:
    """Draws `plot_history` on a figure or subfigure."""
    axes = target.subplots()
    done = table.completed
    if not done.any():
        _empty(axes, table, "no completed trial to plot")
    elif table.multi_objective and table.num_objectives >= 2:
        _pareto_scatter(target, axes, table, title)
    else:
        _best_so_far(axes, table, title)


def _best_so_far(axes: Axes, table: TrialTable, title: str | None) -> None:
    completed = table.completed
    done = table.leading()
    ids = table.ids[done]
    rewards = table.rewards[done, 0]
    order = np.argsort(ids, kind="stable")
    ids, rewards = ids[order], rewards[order]
    sign = -1.0 if table.minimized(0) else 1.0
    n = len(ids)
    which = _leading_kind(table, done)
    axes.scatter(
        ids,
        rewards,
        s=10 if n < 2000 else 4,
        alpha=_alpha(n, 0.55),
        color="C0",
        linewidths=0,
        rasterized=True,
        label=f"reward ({n:,} {which})",
    )
    others = completed & ~done
    _infeasible(axes, table.ids[others], table.rewards[others, 0])
    best = sign * np.maximum.accumulate(sign * rewards)  # falls when minimized
    last = max(int(table.ids.max()), int(ids[-1]))
    axes.step(
        np.append(ids, last),
        np.append(best, best[-1]),
        where="post",
        color="C1",
        lw=2,
        label="best so far",
    )
    top = int(np.argmax(sign * rewards))
    axes.scatter(
        [ids[top]],
        [rewards[top]],
        marker="*",
        s=220,
        color="C3",
        edgecolors="black",
        linewidths=0.6,
        zorder=5,
        label=f"best: trial {ids[top]} ({rewards[top]:.4g})",
    )
    _mark_unfinished(axes, table)
    low, high, clipped = _robust_limits(sign * table.rewards[completed, 0])  # cuts the worst
    if sign < 0:  # back to the rewards as reported: the curve goes down
        low, high = -high, -low
    if any(s in ("failed", "skipped") for s in table.status):
        low -= 0.1 * (high - low)  # an empty strip at the bottom for their marks
    axes.set_ylim(low, high)
    axes.set_xlim(0, last + max(1.0, 0.01 * last))
    axes.set_xlabel("trial")
    axes.set_ylabel("reward" + (" (objective 0)" if table.num_objectives > 1 else ""))
    axes.grid(alpha=0.3)
    legend = axes.legend(
        loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False
    )
    _opaque(legend)
    way = ", minimized" if sign < 0 else ""
    count = int(completed.sum())
    if table.constrained:
        feasible = int((completed & table.feasible).sum())
        way += f", {feasible:,} feasible" if feasible else ", none feasible"
    text = title or f"Best reward by trial ({len(table):,} trials, {count:,} completed{way})"
    if clipped:
        worse = "higher" if sign < 0 else "lower"
        text += f"\n(y axis cut at the 1st percentile; {worse} rewards not shown)"
    axes.set_title(text, fontsize="medium")


def _mark_unfinished(axes: Axes, table: TrialTable) -> None:
    """Failed and skipped trials as marks along the bottom of `axes`."""
    transform = axes.get_xaxis_transform()  # x in data, y in axes coordinates
    for status, marker, color, height in (
        ("failed", "x", "C3", 0.03),
        ("skipped", "|", "0.4", 0.07),
    ):
        ids = table.ids[[s == status for s in table.status]] if len(table) else table.ids
        if ids.size:
            axes.scatter(
                ids,
                np.full(ids.size, height),
                transform=transform,
                marker=marker,
                s=18,
                color=color,
                alpha=_alpha(ids.size, 0.8),
                linewidths=0.8,
                rasterized=True,
                label=f"{status} ({ids.size:,})",
                clip_on=False,
            )


def _pareto_scatter(target: FigureBase, axes: Axes, table: TrialTable, title: str | None) -> None:
    completed = table.completed
    done = table.leading()
    ids = table.ids[done]
    points = table.rewards[done]
    front = pareto_mask(table.signed[done])
    n, k = len(ids), table.num_objectives
    others = completed & ~done
    _infeasible(axes, table.rewards[others, 0], table.rewards[others, 1])
    dots = axes.scatter(
        points[:, 0],
        points[:, 1],
        c=ids,
        cmap="viridis",
        s=12 if n < 2000 else 5,
        alpha=_alpha(n, 0.7),
        linewidths=0,
        rasterized=True,
        label=f"trial ({n:,} {_leading_kind(table, done)})",
    )
    from matplotlib.cm import ScalarMappable

    # A bar of its own: the dots' transparency would wash it out.
    target.colorbar(ScalarMappable(dots.norm, dots.cmap), ax=axes, label="trial", pad=0.01)
    axes.scatter(
        points[front, 0],
        points[front, 1],
        s=40,
        facecolors="none",
        edgecolors="C3",
        linewidths=1.2,
        zorder=4,
        label=f"Pareto front ({int(front.sum()):,})",
    )
    if k == 2:
        line = points[front][np.argsort(points[front, 0])]
        axes.step(line[:, 0], line[:, 1], where="post", color="C3", lw=1, alpha=0.8)
    axes.set_xlabel("objective 0" + (" (minimized)" if table.minimized(0) else ""))
    axes.set_ylabel("objective 1" + (" (minimized)" if table.minimized(1) else ""))
    axes.grid(alpha=0.3)
    handles, labels = axes.get_legend_handles_labels()
    _opaque(
        target.legend(
            handles, labels, loc="outside lower center", ncols=2, fontsize="small", frameon=False
        )
    )
    failed, skipped = table.count("failed"), table.count("skipped")
    text = title or (
        f"Objectives 0 and 1 of {k} ({len(table):,} trials, {int(completed.sum()):,} completed"
        + (f"; {failed:,} failed and {skipped:,} skipped not shown" if failed or skipped else "")
        + ")\nPareto front over all objectives"
        + (f", of the {_leading_kind(table, done)} trials" if table.constrained else "")
    )
    axes.set_title(text, fontsize="medium")


def _leading_kind(table: TrialTable, done: np.ndarray[Any, np.dtype[np.bool_]]) -> str:
    """What the trials `table.leading()` picks are: 'completed' (no
    constraints), 'feasible', or 'least infeasible' (none is feasible)."""
    if not table.constrained:
        return "completed"
    return "feasible" if table.feasible[done].all() else "least infeasible"


def _opaque(legend: Legend) -> None:
    """Legend marks at full opacity (faint points would give faint marks)."""
    for handle in legend.legend_handles:
        if handle is not None:
            handle.set_alpha(1.0)


def _robust_limits(values: FloatArray) -> tuple[float, float, bool]:
    """y limits that keep a few very low rewards from squashing the rest."""
    low, high = float(values.min()), float(values.max())
    clipped = False
    if values.size >= 50:
        floor = float(np.percentile(values, 1))
        if floor - low > 3 * (high - floor) > 0:
            low, clipped = floor, True
    pad = (high - low) * 0.06 or max(abs(high) * 0.06, 0.5)
    return low - pad, high + pad, clipped


def _alpha(n: int, most: float) -> float:
    """An opacity that keeps `n` overlapping marks readable."""
    return float(np.clip(most * 300 / max(n, 1), 0.08, most))


def _infeasible(axes: Any, x: np.ndarray, y: np.ndarray) -> None:
    """Completed trials that break their constraints: grey crosses, counted in the legend."""
    if len(x):
        axes.scatter(
            x,
            y,
            marker="x",
            s=14,
            color="0.55",
            alpha=_alpha(len(x), 0.7),
            linewidths=0.8,
            rasterized=True,
            label=f"infeasible ({len(x):,})",
        )


def _empty(axes: Axes, table: TrialTable, message: str) -> None:
    counts = ", ".join(f"{table.count(s):,} {s}" for s in sorted(set(table.status))) or "none"
    axes.text(
        0.5,
        0.5,
        f"{message}\n({len(table):,} trials: {counts})",
        ha="center",
        va="center",
        transform=axes.transAxes,
        color="0.3",
    )
    axes.set_axis_off()


# --- parallel coordinates ----------------------------------------------------------------


@dataclass
class _Axis:
    """One vertical axis: values of every drawn trial in [0, 1] (or `_INACTIVE`)."""

    label: str
    positions: FloatArray
    ticks: list[tuple[float, str]]


def draw_parallel_coordinates(
    target: FigureBase,
    table: TrialTable,
    decisions: dict[str, Decision],
    *,
    max_lines: int = MAX_LINES,
    seed: int = 0,
) -> None:
    """Draws `plot_parallel_coordinates` on a figure or subfigure."""
    axes = target.subplots()
    rows = np.flatnonzero(table.completed)
    if rows.size == 0:
        _empty(axes, table, "no completed trial to plot")
        return
    rows, note = _subsample(table, rows, max_lines, seed)
    rewards = table.rewards[rows]
    # Worst first, so that the best lines are drawn on top.
    order = np.argsort(table.signed[rows, 0], kind="stable")
    rows, rewards = rows[order], rewards[order]
    shown = table.decision_ids[:MAX_AXES]
    drawn = [_decision_axis(table, rows, d, decisions.get(d)) for d in shown]
    columns = [c for c in drawn if c is not None]
    for k in range(min(table.num_objectives, 4)):
        name = "reward" if table.num_objectives == 1 else f"reward.{k}"
        columns.append(_numeric_axis(name, rewards[:, k], log=False))
    colour_label = "reward" if table.num_objectives == 1 else "reward.0"
    _draw_lines(target, axes, columns, rewards[:, 0], colour_label)
    hidden = len(table.decision_ids) - (len(columns) - min(table.num_objectives, 4))
    text = f"Parallel coordinates: {note}"
    if hidden:
        text += f"\n{hidden} of {len(table.decision_ids)} decisions not shown"
    axes.set_title(text, fontsize="medium")


def _subsample(
    table: TrialTable, rows: np.ndarray[Any, np.dtype[np.intp]], max_lines: int, seed: int
) -> tuple[np.ndarray[Any, np.dtype[np.intp]], str]:
    """The rows to draw, and a note that says how they were chosen."""
    n = rows.size
    if n <= max_lines:
        return rows, f"{n:,} completed trials"
    top_count = max(1, max_lines // 10)
    by_reward = rows[np.argsort(-table.signed[rows, 0], kind="stable")]
    top, rest = by_reward[:top_count], by_reward[top_count:]
    rng = np.random.default_rng(seed)
    sample = rng.choice(rest, size=max_lines - top_count, replace=False)
    note = (
        f"{max_lines:,} of {n:,} completed trials drawn "
        f"(best {top_count:,} always, the rest sampled at random)"
    )
    return np.concatenate([top, sample]), note


def _decision_axis(
    table: TrialTable,
    rows: np.ndarray[Any, np.dtype[np.intp]],
    decision_id: str,
    decision: Decision | None,
) -> _Axis | None:
    values = [table.dna[r].get(decision_id) for r in rows]
    present = [v for v in values if v is not None]
    label = decision_id if len(decision_id) <= 18 else "…" + decision_id[-17:]
    if decision is not None and decision.kind == "choice":
        count = len(decision.labels)
        return _category_axis(label, values, list(range(count)), list(decision.labels))
    if decision is not None and decision.kind in ("float", "int"):
        numbers = np.array([np.nan if v is None else float(v) for v in values])
        return _numeric_axis(label, numbers, log=decision.log, integer=decision.kind == "int")
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        distinct = sorted(set(present))
        if all(isinstance(v, int) for v in present) and len(distinct) <= MAX_CATEGORIES:
            return _category_axis(label, values, distinct, [str(v) for v in distinct])
        numbers = np.array([np.nan if v is None else float(v) for v in values])
        return _numeric_axis(label, numbers, log=False)
    keys = [None if v is None else repr(v) for v in values]
    distinct_keys = sorted({k for k in keys if k is not None})
    if not distinct_keys or len(distinct_keys) > MAX_CATEGORIES:
        return None
    return _category_axis(label, keys, distinct_keys, [k[:14] for k in distinct_keys])


def _category_axis(
    label: str, values: Sequence[Any], categories: list[Any], names: list[str]
) -> _Axis:
    span = max(len(categories) - 1, 1)
    where = {c: (i / span if len(categories) > 1 else 0.5) for i, c in enumerate(categories)}
    positions = np.array([_INACTIVE if v is None else where.get(v, np.nan) for v in values])
    ticks = [(where[c], name) for c, name in zip(categories, names, strict=True)]
    if len(ticks) > MAX_CATEGORIES:  # a choice among many candidates: label a few
        step = int(np.ceil(len(ticks) / MAX_CATEGORIES))
        ticks = ticks[::step]
    return _with_inactive(_Axis(label, positions, ticks))


def _numeric_axis(label: str, values: FloatArray, *, log: bool, integer: bool = False) -> _Axis:
    inactive = np.isnan(values)
    if log:
        values = np.log10(np.where(values > 0, values, np.nan))
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    span = high - low
    positions = (values - low) / span if span > 0 else np.where(np.isnan(values), np.nan, 0.5)
    positions = np.where(inactive, _INACTIVE, positions)
    ticks: list[tuple[float, str]] = []
    marks = [low, (low + high) / 2, high] if span > 0 else [low]
    for mark in marks:
        shown = 10**mark if log else mark
        if integer:
            text = f"{round(shown):d}"
        else:
            text = f"{shown:.4g}"
        ticks.append(((mark - low) / span if span > 0 else 0.5, text))
    return _with_inactive(_Axis(label, positions, ticks))


def _with_inactive(axis: _Axis) -> _Axis:
    if np.any(axis.positions == _INACTIVE):
        axis.ticks.append((_INACTIVE, "(inactive)"))
    return axis


def _draw_lines(
    target: FigureBase, axes: Axes, columns: list[_Axis], colour_by: FloatArray, colour_label: str
) -> None:
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize

    n, m = colour_by.size, len(columns)
    xs = np.arange(m, dtype=float)
    ys = np.stack([c.positions for c in columns], axis=1)
    segments = np.stack([np.broadcast_to(xs, ys.shape), ys], axis=2)
    # A few very poor trials must not wash out the colours of all the others:
    # the scale starts at the 5th percentile (lower values share its colour).
    low = float(np.percentile(colour_by, 5)) if n >= 20 else float(colour_by.min())
    high = float(colour_by.max())
    norm = Normalize(low, high if high > low else low + 1.0, clip=True)
    cmap = _colormap("viridis")
    colours = cmap(norm(colour_by))
    colours[:, 3] = float(np.clip(0.5 * 100 / max(n, 1), 0.06, 0.5))
    best = max(1, min(10, n // 100))  # the best lines are drawn last: emphasize them
    colours[-best:, 3] = 0.95
    widths = np.full(n, 0.8)
    widths[-best:] = 1.8
    lines = LineCollection(list(segments), colors=colours, linewidths=widths, rasterized=n > 500)
    axes.add_collection(lines)
    for x, column in zip(xs, columns, strict=True):
        axes.axvline(x, color="0.25", lw=0.8, zorder=3)
        for y, text in column.ticks:
            axes.text(
                x - 0.03,
                y,
                text,
                ha="right",
                va="center",
                fontsize="x-small",
                zorder=4,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75},
            )
    has_inactive = bool(np.any(ys == _INACTIVE))
    axes.set_xlim(-0.5, m - 0.6)
    axes.set_ylim(_INACTIVE - 0.06 if has_inactive else -0.05, 1.05)
    axes.set_xticks(
        xs,
        [c.label for c in columns],
        rotation=25 if m > 7 else 0,
        ha="right" if m > 7 else "center",
        fontsize="small",
    )
    axes.set_yticks([])
    for side in ("left", "right", "top"):
        axes.spines[side].set_visible(False)
    from matplotlib.cm import ScalarMappable

    mappable = ScalarMappable(norm=norm, cmap=cmap)
    target.colorbar(mappable, ax=axes, label=colour_label, pad=0.01)


def _colormap(name: str) -> Colormap:
    from matplotlib import colormaps

    return colormaps[name]
