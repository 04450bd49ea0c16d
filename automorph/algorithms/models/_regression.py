"""Predictors of reward over feature rows, as the model-based searches query them.

A `Predictor` gives the mean and standard deviation of the reward at rows of
features (`predict`, in reward units) and, from those, the log expected
improvement over the best reward it was fitted on. Two kinds:

- `GPPredictor` (in `_surrogate.py`): a Gaussian process;
- `Ridge`: linear ridge regression with an intercept (one weight per
  feature column, e.g. per candidate of each decision), the cheapest one;
  its standard deviation is that of the fitted mean.
"""

from __future__ import annotations

import numpy as np

from automorph.algorithms.models._acquisition import log_expected_improvement
from automorph.algorithms.models._data import Array, standardize, training_indices


class Predictor:
    """Mean and standard deviation of the reward at feature rows (see the module docstring).

    Attributes:
        best: The best (largest) reward the predictor was fitted on.
    """

    best: float = 0.0

    def predict(self, x: Array) -> tuple[Array, Array]:
        """Mean and standard deviation of the reward at each row of `x`."""
        raise NotImplementedError

    def log_expected_improvement(self, x: Array, xi: float = 0.0) -> Array:
        """The log expected improvement over `best + xi` at each row of `x`."""
        mean, std = self.predict(x)
        return log_expected_improvement(mean, std, self.best + xi)


class Ridge(Predictor):
    """Linear ridge regression with an intercept (see the module docstring).

    Fits on at most `max_points` observations (`training_indices`), on
    standardized rewards.

    Args:
        x: Inputs, one row per observation.
        y: Rewards.
        alpha: The penalty on the weights (in standardized-reward units).
        max_points: The most observations fitted on.

    >>> x = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    >>> model = Ridge(x, np.array([1.0, 2.0, 3.0, 1.0, 2.0, 3.0]), alpha=1e-3)
    >>> np.round(model.predict(np.eye(3))[0], 2).tolist()
    [1.0, 2.0, 3.0]
    """

    def __init__(self, x: Array, y: Array, alpha: float = 1.0, max_points: int = 400) -> None:
        keep = training_indices(np.asarray(y, dtype=np.float64), max_points)
        x = np.asarray(x, dtype=np.float64)[keep]
        y = np.asarray(y, dtype=np.float64)[keep]
        z, self.y_mean, self.y_std = standardize(y)
        self.best = float(y.max()) if len(y) else 0.0
        self.x_mean = x.mean(axis=0) if len(x) else np.zeros(x.shape[1])
        xc = x - self.x_mean
        a = xc.T @ xc + alpha * np.eye(x.shape[1])
        self.weights = np.linalg.solve(a, xc.T @ z)
        resid = z - xc @ self.weights
        self._sigma = float(np.sqrt(max(resid.var(), 1e-6))) if len(z) > 1 else 1.0
        self._a_inv = np.linalg.inv(a)

    def predict(self, x: Array) -> tuple[Array, Array]:
        xc = np.asarray(x, dtype=np.float64) - self.x_mean
        mean = xc @ self.weights
        std = self._sigma * np.sqrt(np.maximum((xc @ self._a_inv * xc).sum(axis=1), 1e-12))
        return mean * self.y_std + self.y_mean, std * self.y_std
