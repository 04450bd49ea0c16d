"""Gaussian-process regression for Bayesian optimization, with numpy only.

The kernel is an ARD Matérn-5/2 over feature columns grouped by decision: each
group (one decision: one column for a number, a one-hot block for a choice)
has its own length scale, so

    r^2 = sum_g S_g / l_g^2,   k(r) = s^2 (1 + sqrt(5) r + 5 r^2 / 3) exp(-sqrt(5) r)

where `S_g` is the squared distance of two points in group `g`'s columns. The
targets are standardized before fitting; the model adds a noise variance to
the diagonal. Hyper-parameters (log length scales, log signal variance, log
noise variance) maximize the log marginal likelihood plus a weak log-normal
prior on the length scales, by Adam from a few starting points, clipped to
fixed bounds. Everything here is deterministic given its inputs and the
random generator passed in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

_SQRT5 = math.sqrt(5.0)
_LOG_2PI = math.log(2.0 * math.pi)
_LOG_SQRT_2PI = 0.5 * _LOG_2PI

# Bounds of the hyper-parameters (features live in [0, 1]; targets are standardized).
LOG_LENGTH_BOUNDS = (math.log(0.01), math.log(20.0))
LOG_SIGNAL_BOUNDS = (math.log(0.05), math.log(20.0))
LOG_NOISE_BOUNDS = (math.log(1e-6), math.log(1.0))
# The weak prior on each log length scale: normal, centred on log(0.5).
_PRIOR_MEAN, _PRIOR_SD = math.log(0.5), 1.5


def group_sq_dists(x: Array, groups: Sequence[slice]) -> Array:
    """Squared distances between the rows of `x`, per column group: shape (n, n, G)."""
    n = x.shape[0]
    out = np.empty((n, n, len(groups)))
    for g, cols in enumerate(groups):
        block = x[:, cols]
        sq = np.sum(block * block, axis=1)
        d = sq[:, None] + sq[None, :] - 2.0 * block @ block.T
        out[:, :, g] = np.maximum(d, 0.0)
    return out


def column_scales(log_lengths: Array, groups: Sequence[slice], num_columns: int) -> Array:
    """1 / length scale of each column (the length scale of its group)."""
    scales = np.empty(num_columns)
    for g, cols in enumerate(groups):
        scales[cols] = math.exp(-float(log_lengths[g]))
    return scales


def matern52(r2: Array, signal: float) -> Array:
    """The Matérn-5/2 kernel at squared scaled distances `r2`."""
    r = np.sqrt(np.maximum(r2, 0.0))
    out: Array = signal * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r2) * np.exp(-_SQRT5 * r)
    return out


def _cholesky(k: Array) -> Array:
    """Lower Cholesky factor of `k`, adding jitter to the diagonal if needed."""
    jitter = 0.0
    eye = np.eye(k.shape[0])
    for _ in range(6):
        try:
            factor = np.linalg.cholesky(k + jitter * eye)
            return np.asarray(factor, dtype=np.float64)
        except np.linalg.LinAlgError:
            jitter = 1e-8 if jitter == 0.0 else jitter * 100.0
    raise np.linalg.LinAlgError("the kernel matrix is not positive definite")


def neg_log_posterior(theta: Array, sq_dists: Array, y: Array) -> tuple[float, Array]:
    """Minus (log marginal likelihood + log prior) and its gradient in `theta`.

    `theta` is `[log l_1, ..., log l_G, log signal, log noise]`.
    """
    n, num_groups = y.shape[0], sq_dists.shape[2]
    log_lengths = theta[:num_groups]
    signal, noise = math.exp(float(theta[-2])), math.exp(float(theta[-1]))
    inv_sq = np.exp(-2.0 * log_lengths)
    r2 = sq_dists @ inv_sq
    r = np.sqrt(r2)
    decay = np.exp(-_SQRT5 * r)
    k_f = signal * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r2) * decay
    factor = _cholesky(k_f + noise * np.eye(n))
    inv_factor = np.linalg.inv(factor)
    k_inv = inv_factor.T @ inv_factor
    alpha = k_inv @ y
    log_ml = -0.5 * float(y @ alpha) - float(np.sum(np.log(np.diag(factor)))) - 0.5 * n * _LOG_2PI
    a = np.outer(alpha, alpha) - k_inv
    # dK/dlog l_g = s^2 (5/3) (1 + sqrt5 r) exp(-sqrt5 r) S_g / l_g^2
    w = a * (signal * (5.0 / 3.0) * (1.0 + _SQRT5 * r) * decay)
    grad = np.empty_like(theta)
    grad[:num_groups] = 0.5 * np.tensordot(w, sq_dists, axes=([0, 1], [0, 1])) * inv_sq
    grad[-2] = 0.5 * float(np.sum(a * k_f))
    grad[-1] = 0.5 * noise * float(np.trace(a))
    z = (log_lengths - _PRIOR_MEAN) / _PRIOR_SD
    log_prior = -0.5 * float(z @ z)
    grad[:num_groups] -= z / _PRIOR_SD
    return -(log_ml + log_prior), -grad


def _bounds(num_groups: int) -> tuple[Array, Array]:
    low = np.array(
        [LOG_LENGTH_BOUNDS[0]] * num_groups + [LOG_SIGNAL_BOUNDS[0], LOG_NOISE_BOUNDS[0]]
    )
    high = np.array(
        [LOG_LENGTH_BOUNDS[1]] * num_groups + [LOG_SIGNAL_BOUNDS[1], LOG_NOISE_BOUNDS[1]]
    )
    return low, high


def default_theta(num_groups: int) -> Array:
    """The first starting point: length scales 0.5, unit signal, noise 1e-3."""
    return np.array([math.log(0.5)] * num_groups + [0.0, math.log(1e-3)])


def fit_hyperparameters(
    x: Array,
    groups: Sequence[slice],
    y: Array,
    rng: np.random.Generator,
    restarts: int = 3,
    iterations: int = 50,
    learning_rate: float = 0.1,
) -> Array:
    """The hyper-parameters (see `neg_log_posterior`) with the best objective
    after Adam from `default_theta` and `restarts - 1` random starting points."""
    sq_dists = group_sq_dists(x, groups)
    num_groups = len(groups)
    low, high = _bounds(num_groups)
    starts = [default_theta(num_groups)]
    for _ in range(restarts - 1):
        start = np.concatenate(
            [
                rng.uniform(math.log(0.05), math.log(2.0), num_groups),
                [rng.uniform(math.log(0.2), math.log(5.0)), rng.uniform(math.log(1e-5), -2.0)],
            ]
        )
        starts.append(start)
    best, best_value = starts[0], math.inf
    for start in starts:
        theta, value = _adam(start, sq_dists, y, low, high, iterations, learning_rate)
        if value < best_value:
            best, best_value = theta, value
    return best


def _adam(
    theta: Array,
    sq_dists: Array,
    y: Array,
    low: Array,
    high: Array,
    iterations: int,
    learning_rate: float,
) -> tuple[Array, float]:
    """Adam steps on `neg_log_posterior`, clipped to [low, high]; the best point seen."""
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    best, best_value = theta.copy(), math.inf
    beta1, beta2 = 0.9, 0.999
    for step in range(1, iterations + 1):
        try:
            value, grad = neg_log_posterior(theta, sq_dists, y)
        except np.linalg.LinAlgError:
            break
        if value < best_value:
            best, best_value = theta.copy(), value
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad * grad
        m_hat = m / (1 - beta1**step)
        v_hat = v / (1 - beta2**step)
        theta = np.clip(theta - learning_rate * m_hat / (np.sqrt(v_hat) + 1e-8), low, high)
    return best, best_value


class Posterior:
    """The GP posterior given training rows `x`, standardized targets `y` and
    hyper-parameters `theta`; `predict` gives mean and standard deviation."""

    def __init__(self, x: Array, y: Array, groups: Sequence[slice], theta: Array) -> None:
        num_groups = len(groups)
        self.scales = column_scales(theta[:num_groups], groups, x.shape[1])
        self.signal = math.exp(float(theta[-2]))
        self.noise = noise = math.exp(float(theta[-1]))
        self.x = x * self.scales
        self.sq = np.sum(self.x * self.x, axis=1)
        self.y = np.asarray(y, dtype=float)
        k = matern52(self._r2(self.x), self.signal)
        factor = _cholesky(k + noise * np.eye(x.shape[0]))
        self.inv_factor = np.linalg.inv(factor)
        self.alpha = self.inv_factor.T @ (self.inv_factor @ y)

    def add(self, row: Array, value: float) -> None:
        """Conditions on one more observation (`row`, unscaled; `value`,
        standardized) in O(n^2): the inverse Cholesky factor grows by a row."""
        xs = row[None, :] * self.scales
        cross = matern52(self._r2(xs), self.signal)[0]
        projected = self.inv_factor @ cross
        last = math.sqrt(max(self.signal + self.noise - float(projected @ projected), 1e-12))
        n = projected.shape[0]
        grown = np.zeros((n + 1, n + 1))
        grown[:n, :n] = self.inv_factor
        grown[n, :n] = -(projected @ self.inv_factor) / last
        grown[n, n] = 1.0 / last
        self.inv_factor = grown
        self.x = np.vstack([self.x, xs])
        self.sq = np.append(self.sq, float(xs[0] @ xs[0]))
        self.y = np.append(self.y, value)
        self.alpha = grown.T @ (grown @ self.y)

    def _r2(self, xs: Array) -> Array:
        sq = np.sum(xs * xs, axis=1)
        r2: Array = np.maximum(sq[:, None] + self.sq[None, :] - 2.0 * xs @ self.x.T, 0.0)
        return r2

    def predict(self, x: Array) -> tuple[Array, Array]:
        """Posterior mean and standard deviation (of the latent function) at rows `x`."""
        k = matern52(self._r2(x * self.scales), self.signal)
        mean: Array = k @ self.alpha
        v = self.inv_factor @ k.T
        var = np.maximum(self.signal - np.sum(v * v, axis=0), 1e-12)
        return mean, np.sqrt(var)


def log_expected_improvement(mean: Array, std: Array, best: float) -> Array:
    """log E[max(f - best, 0)] under N(mean, std^2), stable far below `best`."""
    z = (mean - best) / std
    out = np.empty_like(z)
    far = z < -5.0
    near = ~far
    zn = z[near]
    cdf = 0.5 * np.array([math.erfc(-v / math.sqrt(2.0)) for v in zn.tolist()])
    pdf = np.exp(-0.5 * zn * zn - _LOG_SQRT_2PI)
    out[near] = np.log(np.maximum(zn * cdf + pdf, 1e-300))
    zf = z[far]
    # z Phi(z) + phi(z) = phi(z) / z^2 (1 - 3 / z^2 + 15 / z^4 - ...) for z -> -inf
    out[far] = (
        -0.5 * zf * zf - _LOG_SQRT_2PI - 2.0 * np.log(-zf) + np.log1p(-3.0 / zf**2 + 15.0 / zf**4)
    )
    result: Array = out + np.log(std)
    return result
