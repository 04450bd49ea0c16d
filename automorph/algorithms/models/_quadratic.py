"""A linear-quadratic regression surrogate of an objective to minimize.

The global model of lq-CMA-ES (Hansen, "A Global Surrogate Assisted
CMA-ES", GECCO 2019), which `algorithms.CMAES(surrogate="lq")` ranks its
candidates with. Its form grows with the data it holds: linear at first,
then with a squared term per coordinate ("diagonal"), then with every
product of two coordinates ("full"), a form being used once
`0.75 * size >= 1.1 * parameters` (the paper's truncation ratio and least
relative size). The data are the latest observations, at most
`max(min_size, 2 * parameters of the full form)` of them, so old points from
far away drop out as the search moves.

A fit is weighted least squares over the best three quarters of the data
(at least parameters + 2 of them), the weights falling linearly from 20 for
the best to 1 for the worst fitted, so the model is most exact where the
search goes. Coordinates are centred and scaled per fit (the columns'
mean and spread), which leaves each form's span unchanged and keeps the
normal equations well conditioned as the data contract.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from automorph.algorithms.models._data import Array

# The fraction of the data (the best) a fit uses, and the data per parameter
# needed before a form is used (Hansen 2019).
_TRUNCATION = 0.75
_RELATIVE_SIZE = 1.1
# The weight of the best fitted observation (the worst has 1), and the data
# kept per parameter of the full form.
_MAX_WEIGHT = 20.0
_KEPT_PER_PARAMETER = 2
# Quadratic coefficients at most this times the largest linear one (in the
# fit's scaled coordinates) make a plane.
_FLAT = 1e-6


def _parameters(kind: str, dim: int) -> int:
    if kind == "full":
        return dim * (dim + 3) // 2 + 1
    if kind == "diagonal":
        return 2 * dim + 1
    return dim + 1


class QuadraticModel:
    """Linear-quadratic regression over the latest observations (see the module docstring).

    Args:
        dim: The length of a point.
        min_size: The fewest latest observations kept (the kept number is
            at least twice the parameters of the full form).

    >>> rng = np.random.default_rng(0)
    >>> model = QuadraticModel(2)
    >>> for x in rng.uniform(-1, 1, (30, 2)):
    ...     model.add(x, float((x[0] - 0.3) ** 2 + 10 * (x[1] + 0.2) ** 2))
    >>> model.kind, np.round(model.minimizer(), 6).tolist()
    ('full', [0.3, -0.2])
    """

    def __init__(self, dim: int, min_size: int = 0) -> None:
        if dim < 1:
            raise ValueError(f"`dim` ({dim}) must be at least 1")
        self.dim = dim
        self._upper = np.triu_indices(dim, k=1)  # the pairs of the full form's products
        self.max_size = max(min_size, _KEPT_PER_PARAMETER * _parameters("full", dim))
        self._points: deque[Array] = deque(maxlen=self.max_size)
        self._values: deque[float] = deque(maxlen=self.max_size)
        self._fit: tuple[str, Array, Array, Array] | None = None

    def __len__(self) -> int:
        return len(self._values)

    def reset(self) -> None:
        """Forgets every observation."""
        self._points.clear()
        self._values.clear()
        self._fit = None

    def add(self, point: Array, value: float) -> None:
        """Adds an observation (the oldest drops out when the model is full).

        Raises:
            ValueError: If `point` is not of length `dim` or `value` is not finite.
        """
        point = np.asarray(point, dtype=np.float64)
        if point.shape != (self.dim,):
            raise ValueError(f"a point of shape {point.shape}; the model's are ({self.dim},)")
        if not math.isfinite(value):
            raise ValueError(f"the value {value} is not finite")
        self._points.append(point)
        self._values.append(float(value))
        self._fit = None

    @property
    def kind(self) -> str:
        """The form the data allow: "linear", "diagonal" or "full"."""
        for kind in ("full", "diagonal"):
            if _TRUNCATION * len(self) >= _RELATIVE_SIZE * _parameters(kind, self.dim):
                return kind
        return "linear"

    def _features(self, z: Array, kind: str) -> Array:
        columns = [np.ones((len(z), 1)), z]
        if kind != "linear":
            columns.append(z * z)
        if kind == "full":
            columns.append(z[:, self._upper[0]] * z[:, self._upper[1]])
        return np.hstack(columns)

    def _fitted(self) -> tuple[str, Array, Array, Array]:
        """(kind, centre, scale, coefficients) of the current fit."""
        if self._fit is not None:
            return self._fit
        kind = self.kind
        points = np.array(self._points)
        values = np.array(self._values)
        used = min(
            len(values), max(_parameters(kind, self.dim) + 2, int(_TRUNCATION * (len(values) + 1)))
        )
        best = np.argsort(values, kind="stable")[:used]
        x, y = points[best], values[best]
        centre = x.mean(axis=0)
        scale = x.std(axis=0)
        scale = np.where(scale > 0.0, scale, 1.0)
        features = self._features((x - centre) / scale, kind)
        weights = np.sqrt(np.linspace(_MAX_WEIGHT, 1.0, used))
        coefficients = np.linalg.lstsq(features * weights[:, None], y * weights, rcond=None)[0]
        self._fit = (kind, centre, scale, coefficients)
        return self._fit

    def predict(self, points: Array) -> Array:
        """The model's value at each row of `points` (0 with no data)."""
        points = np.atleast_2d(np.asarray(points, dtype=np.float64))
        if not len(self):
            return np.zeros(len(points))
        kind, centre, scale, coefficients = self._fitted()
        out: Array = self._features((points - centre) / scale, kind) @ coefficients
        return out

    def minimizer(self, low: Array | None = None, high: Array | None = None) -> Array | None:
        """The point where the model is least, if it has one: a quadratic
        form with a positive definite Hessian. Otherwise, given a box
        (`low`, `high`), the box's corner the model's gradient at the data's
        centre descends to; else None."""
        if not len(self):
            return None
        kind, centre, scale, coefficients = self._fitted()
        d = self.dim
        linear = coefficients[1 : d + 1]
        if kind == "linear":
            return None
        hessian = np.diag(2.0 * coefficients[d + 1 : 2 * d + 1])
        if kind == "full":
            hessian[self._upper] = coefficients[2 * d + 1 :]
            hessian[(self._upper[1], self._upper[0])] = coefficients[2 * d + 1 :]
        try:
            np.linalg.cholesky(hessian)
        except np.linalg.LinAlgError:
            # no minimum; on data a plane fits (the quadratic terms vanish
            # next to the slope), the box's corner down the slope
            flat = np.abs(hessian).max() <= _FLAT * np.abs(linear).max()
            if low is None or high is None or not flat:
                return None
            corner: Array = np.where(linear > 0.0, low, high).astype(np.float64)
            return corner
        z = np.linalg.solve(hessian, -linear)
        out: Array = centre + scale * z
        return out

    def kendall_tau(self, latest: int) -> float:
        """Kendall's rank correlation between the model and the values of the
        `latest` observations (all if fewer); 0 for fewer than 3 or no variation."""
        from scipy.stats import kendalltau  # type: ignore[import-untyped]

        count = min(latest, len(self))
        if count < 3:
            return 0.0
        points = np.array(list(self._points)[-count:])
        values = np.array(list(self._values)[-count:])
        tau = kendalltau(values, self.predict(points)).statistic
        return float(tau) if math.isfinite(tau) else 0.0
