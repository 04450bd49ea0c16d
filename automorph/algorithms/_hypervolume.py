"""The hypervolume of a set of points: how much of the objective space they
dominate, the usual one-number quality of a Pareto front.

Every objective is maximized, as automorph's rewards are. The hypervolume of
points `P` with respect to a reference point `r` is the volume of the union
of the boxes `[r, p]` for `p` in `P`: the region that some point of `P`
dominates and that dominates `r`. A point not better than `r` in every
objective adds nothing. A larger hypervolume is a better front.

The computation is exact, by slicing (the HSO scheme of While et al. 2006):
the dominated points are dropped, the rest sorted by the last objective,
and each slab between consecutive values of it adds its thickness times the
hypervolume, one dimension down, of the points above the slab. Two
objectives take one sort and a running maximum, O(n log n); three take
O(n^2 log n); `d` objectives O(n^(d-1) log n), which suits the fronts of a
study (hundreds of points, a few objectives).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from automorph.algorithms._operators import pareto_mask
from automorph.utils import FieldValueError

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def hypervolume(
    points: Sequence[Sequence[float]] | FloatArray, reference: Sequence[float]
) -> float:
    """The volume that `points` dominate above `reference`, every objective
    maximized (see the module docstring).

    Args:
        points: One row per point, one column per objective (an empty list
            has hypervolume 0).
        reference: A point every useful point is better than in every
            objective, as many values as the points have objectives (for
            rewards in [0, 1], say, the origin). Points that are not better
            than it everywhere add nothing.

    Returns:
        The hypervolume, a float >= 0.

    Raises:
        FieldValueError: If a value is not finite, or the points and the
            reference have different numbers of objectives.

    >>> hypervolume([(1.0, 2.0), (2.0, 1.0)], reference=(0.0, 0.0))
    3.0
    >>> hypervolume([(1.0, 1.0, 1.0), (2.0, 0.5, 0.5)], reference=(0.0, 0.0, 0.0))
    1.25
    >>> hypervolume([(-1.0, 5.0)], reference=(0.0, 0.0))
    0.0
    """
    ref = np.asarray(reference, dtype=float)
    if ref.ndim != 1 or ref.size == 0:
        raise FieldValueError(
            f"`reference` must be a point (a non-empty list of numbers), got {reference!r}"
        )
    matrix = np.asarray(points, dtype=float)
    if matrix.size == 0:
        return 0.0
    if matrix.ndim != 2 or matrix.shape[1] != ref.size:
        raise FieldValueError(
            f"the points have {matrix.shape[-1] if matrix.ndim else 0} objectives but "
            f"`reference` has {ref.size}; give one value per objective"
        )
    if not np.all(np.isfinite(matrix)) or not np.all(np.isfinite(ref)):
        raise FieldValueError("the points and `reference` must be finite numbers")
    useful = matrix[np.all(matrix > ref, axis=1)]
    if len(useful) == 0:
        return 0.0
    front = useful[pareto_mask(useful)]
    return float(_volume(np.unique(front, axis=0), ref))


def _volume(points: FloatArray, ref: FloatArray) -> float:
    """The hypervolume of `points`, all strictly above `ref`."""
    d = points.shape[1]
    if d == 1:
        return float(points[:, 0].max() - ref[0])
    if d == 2:
        order = np.argsort(-points[:, 0], kind="stable")
        x, y = points[order, 0], points[order, 1]
        heights = np.maximum.accumulate(y) - ref[1]
        widths = x - np.append(x[1:], ref[0])
        return float(np.dot(widths, heights))
    order = np.argsort(-points[:, -1], kind="stable")
    ordered = points[order]
    last = ordered[:, -1]
    below = np.append(last[1:], ref[-1])
    total = 0.0
    for i in range(len(ordered)):
        thickness = last[i] - below[i]
        if thickness > 0.0:
            above = ordered[: i + 1, :-1]
            if len(above) > 1:
                above = above[pareto_mask(above)]
            total += thickness * _volume(above, ref[:-1])
    return total
