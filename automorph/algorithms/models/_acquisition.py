"""Acquisition functions of Gaussian predictions (for maximization).

Each takes the predicted mean and standard deviation of the reward at some
points and scores how worth evaluating they are:

- `expected_improvement`: E[max(f - best, 0)] for f ~ N(mean, std^2);
- `log_expected_improvement`: its logarithm, computed so that it stays finite
  and ordered far below `best`, where the improvement itself underflows to 0
  (the search then still prefers the less hopeless points);
- `upper_confidence_bound`: mean + kappa * std.

With `z = (mean - best) / std`, EI = std * h(z) with h(z) = z Phi(z) + phi(z).
For z > -1 h is evaluated directly; below, h(z) = phi(z) (1 - |z| m(z)) with
the Mills ratio m(z) = Phi(z) / phi(z) = sqrt(pi / 2) erfcx(-z / sqrt(2)), and
for z below -1e6 the asymptote h(z) ~ phi(z) / z^2. The normal distribution
functions come from `scipy.special`.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import special  # type: ignore[import-untyped]

Array = npt.NDArray[np.float64]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT_HALF_PI = math.sqrt(0.5 * math.pi)
_TINY_STD = 1e-12


def _log_h(z: Array) -> Array:
    """log(z Phi(z) + phi(z)), elementwise, finite for every finite z."""
    out = np.empty_like(z)
    near = z > -1.0
    zn = z[near]
    out[near] = np.log(zn * special.ndtr(zn) + np.exp(-0.5 * zn * zn - _LOG_SQRT_2PI))
    mid = ~near & (z > -1e6)
    zm = z[mid]
    ratio = _SQRT_HALF_PI * special.erfcx(-zm / math.sqrt(2.0))
    out[mid] = -0.5 * zm * zm - _LOG_SQRT_2PI + np.log1p(zm * ratio)
    far = z <= -1e6
    zf = z[far]
    out[far] = -0.5 * zf * zf - _LOG_SQRT_2PI - 2.0 * np.log(-zf)
    return out


def _z(mean: Array, std: Array, best: float) -> tuple[Array, Array]:
    std = np.maximum(np.asarray(std, dtype=np.float64), _TINY_STD)
    z: Array = (np.asarray(mean, dtype=np.float64) - best) / std
    return z, std


def log_expected_improvement(mean: Array, std: Array, best: float) -> Array:
    """log E[max(f - best, 0)] for f ~ N(mean, std^2), elementwise.

    Args:
        mean: Predicted means.
        std: Predicted standard deviations (floored at 1e-12).
        best: The value to improve on (the incumbent, plus any margin).

    Returns:
        The log expected improvement of each point (finite, even where the
        improvement underflows).

    >>> values = log_expected_improvement(np.array([0.0, -50.0]), np.array([1.0, 1.0]), 0.0)
    >>> round(float(values[0]), 4), bool(np.isfinite(values[1]))
    (-0.9189, True)
    """
    z, std = _z(mean, std, best)
    out: Array = _log_h(z) + np.log(std)
    return out


def expected_improvement(mean: Array, std: Array, best: float) -> Array:
    """E[max(f - best, 0)] for f ~ N(mean, std^2), elementwise.

    Args:
        mean: Predicted means.
        std: Predicted standard deviations (floored at 1e-12).
        best: The value to improve on.

    >>> ei = expected_improvement(np.array([0.0, 1.0]), np.array([1.0, 1.0]), 0.5)
    >>> bool(ei[1] > ei[0] > 0)
    True
    """
    z, std = _z(mean, std, best)
    out: Array = std * np.exp(_log_h(z))
    return out


def upper_confidence_bound(mean: Array, std: Array, kappa: float = 2.0) -> Array:
    """mean + kappa * std, elementwise (larger `kappa` explores more).

    >>> upper_confidence_bound(np.array([1.0, 0.0]), np.array([0.1, 1.0])).tolist()
    [1.2, 2.0]
    """
    out: Array = np.asarray(mean, dtype=np.float64) + kappa * np.asarray(std, dtype=np.float64)
    return out
