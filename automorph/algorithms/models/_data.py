"""The data a model is fitted on: bounded training sets, refit points, clean targets.

Model-based searches keep every observation but fit on a bounded number of
them (`training_indices`: all while there are few, then the best half and
the most recent of the rest), refit costly hyper-parameters only at refit
points of the number of observations (`refit_point`), and fit on finite,
standardized rewards (`finite`, `standardize`). `Rows` is the growable
matrix the observations are kept in.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import ndtri  # type: ignore[import-untyped]

Array = npt.NDArray[np.float64]
Indices = npt.NDArray[np.int64]


class Rows:
    """A growable float matrix (appending a row is amortized O(width)).

    >>> rows = Rows(2)
    >>> rows.append(np.array([1.0, 2.0]))
    >>> rows.data.tolist()
    [[1.0, 2.0]]
    """

    def __init__(self, width: int) -> None:
        self._data = np.empty((64, width))
        self.size = 0

    def append(self, row: Array) -> None:
        """Adds one row."""
        if self.size == self._data.shape[0]:
            self._data = np.concatenate([self._data, np.empty_like(self._data)])
        self._data[self.size] = row
        self.size += 1

    @property
    def data(self) -> Array:
        """The rows so far (a view)."""
        return self._data[: self.size]


def training_indices(rewards: Array, limit: int) -> Indices:
    """At most `limit` observations, in their order: all of them, or the best
    `limit // 2` (ties: the earlier) and the most recent of the rest.

    >>> training_indices(np.array([5.0, 9.0, 1.0, 8.0, 2.0, 0.0]), 4).tolist()
    [1, 3, 4, 5]
    """
    n = rewards.shape[0]
    if n <= limit:
        return np.arange(n)
    num_best = limit // 2
    best = np.argsort(-rewards, kind="stable")[:num_best]
    rest = np.ones(n, dtype=bool)
    rest[best] = False
    recent = np.flatnonzero(rest)[n - limit :]
    return np.sort(np.concatenate([best, recent]))


def refit_point(n: int, first: int, every: int) -> int:
    """The last refit point <= `n` (`first` if there is none yet).

    Refit points are `first`, then every `every` more observations, or every
    tenth more once that is larger (past 100 observations a new one moves a
    fit less, and a study with many workers gets rewards faster than it
    could refit at a fixed step).

    >>> [refit_point(n, 4, 5) for n in (3, 4, 8, 9, 100, 108)]
    [4, 4, 4, 9, 92, 101]
    """
    m = first
    while True:
        step = max(every, m // 10)
        if m + step > n:
            return m
        m += step


def finite(rewards: Array) -> Array:
    """`rewards` with infinities replaced by the extreme finite rewards (0 if none).

    >>> finite(np.array([1.0, -np.inf, 3.0, np.inf])).tolist()
    [1.0, 1.0, 3.0, 3.0]
    """
    ok = np.isfinite(rewards)
    if ok.all():
        return rewards
    if not ok.any():
        return np.zeros_like(rewards)
    low, high = float(rewards[ok].min()), float(rewards[ok].max())
    out: Array = np.where(ok, rewards, np.where(rewards > 0, high, low))
    return out


def standardize(y: Array) -> tuple[Array, float, float]:
    """`(y - mean) / std`, the mean and the std (1 where `y` is constant).

    >>> z, mean, std = standardize(np.array([1.0, 3.0]))
    >>> z.tolist(), mean, std
    ([-1.0, 1.0], 2.0, 1.0)
    """
    std = float(y.std()) if y.shape[0] else 0.0
    scale = std if std > 1e-12 else 1.0
    mean = float(y.mean()) if y.shape[0] else 0.0
    out: Array = (y - mean) / scale
    return out, mean, scale


WARPS = ("none", "half_rank", "rank")
"""The reward warps `warp_rewards` knows."""


class RewardWarp:
    """A monotone map of rewards, fitted on training rewards (see `warp_rewards`).

    Calling it maps any rewards: piecewise linear between the training
    rewards, clamped to the warped range outside them.
    """

    def __init__(self, knots: Array, values: Array) -> None:
        self.knots, self.values = knots, values

    def __call__(self, rewards: Array) -> Array:
        if self.knots.shape[0] == 0:
            return np.asarray(rewards, dtype=np.float64)
        out: Array = np.interp(rewards, self.knots, self.values)
        return out


def warp_rewards(y: Array, kind: str) -> tuple[Array, RewardWarp]:
    """`y` warped by `kind`, and the map that did it (monotone, higher stays higher).

    - "none": unchanged.
    - "rank": every reward replaced by the normal quantile of its rank,
      `ndtri((rank + 0.5) / n)` (ties share their mean rank): only the order
      is kept, so a few rewards far below the rest (a failed trial, an
      objective that spans orders of magnitude) no longer flatten the others.
    - "half_rank": the better half (at least the median) is kept as it is;
      each reward below the median is replaced by the median plus `s` times
      the normal quantile of its rank, `s` the root mean square distance of
      the better half from the median. The region a maximizer cares about
      keeps its scale, and the worse half cannot stretch the model's range.

    >>> z, warp = warp_rewards(np.array([-1e6, 0.0, 1.0, 2.0]), "half_rank")
    >>> [round(v, 3) for v in z.tolist()]
    [-0.786, 0.144, 1.0, 2.0]
    >>> bool(warp(np.array([1.5]))[0] == 1.5)
    True
    """
    if kind not in WARPS:
        raise ValueError(f"unknown reward warp {kind!r}; known: {', '.join(WARPS)}")
    n = y.shape[0]
    if kind == "none" or n < 2:
        return y, RewardWarp(np.empty(0), np.empty(0))
    order = np.argsort(y, kind="stable")
    sorted_y = y[order]
    # Mean rank of each distinct value (ties share one warped value).
    knots, first, counts = np.unique(sorted_y, return_index=True, return_counts=True)
    quantiles = ndtri((first + (counts - 1) / 2.0 + 0.5) / n)
    if kind == "rank":
        values: Array = quantiles
    else:
        median = float(np.median(y))
        better = y[y >= median]
        spread = float(np.sqrt(np.mean((better - median) ** 2)))
        if spread <= 1e-12:
            spread = float(y.std()) or 1.0
        values = np.where(knots >= median, knots, median + spread * np.minimum(quantiles, 0.0))
    warp = RewardWarp(knots, values)
    return warp(y), warp
