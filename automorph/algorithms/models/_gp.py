"""Gaussian-process regression with numpy: one model, two kinds of kernel, one fit.

A kernel is either

- `Matern52`: an ARD Matérn-5/2 over feature columns grouped by decision
  (one column for a number, a one-hot block for a choice); each group `g`
  has its own length scale `l_g`, so with `S_g` the squared distance of two
  points in group `g`'s columns,

      r^2 = sum_g S_g / l_g^2,   k = s^2 (1 + sqrt(5) r + 5 r^2 / 3) exp(-sqrt(5) r);

- `Precomputed`: a kernel the caller computes between items of its own
  kind (graph kernels over architectures), scaled by the signal variance:
  `k = s^2 K(a, b)`.

The hyper-parameters `theta = [log l_1, ..., log l_G, log s^2, log noise]`
(no length scales for a precomputed kernel) maximize the log marginal
likelihood of standardized targets, plus a weak log-normal prior on the
length scales, by Adam (`automorph.algorithms.models.Adam`) from a default
and a few random starting points, clipped to fixed bounds
(`fit_hyperparameters`). `GaussianProcess` is the posterior for given
hyper-parameters; `add` conditions it on one more point in O(n^2).
Everything is deterministic given its inputs and the random generator.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from automorph.algorithms.models._nets import Adam

Array = npt.NDArray[np.float64]

_SQRT5 = math.sqrt(5.0)
_LOG_2PI = math.log(2.0 * math.pi)

# Bounds of the hyper-parameters (features live in [0, 1]; targets are standardized).
LOG_LENGTH_BOUNDS = (math.log(0.01), math.log(20.0))
LOG_SIGNAL_BOUNDS = (math.log(0.05), math.log(20.0))
LOG_NOISE_BOUNDS = (math.log(1e-6), math.log(1.0))
# The weak prior on each log length scale: normal, centred on log(0.5).
_PRIOR_MEAN, _PRIOR_SD = math.log(0.5), 1.5

# What a fit evaluates at each step: the kernel matrix (signal included) and
# a function from A = alpha alpha^T - K^-1 to the gradient of the log
# marginal likelihood in the log length scales, before the factor 1/2.
Terms = Callable[[Array, float], tuple[Array, Callable[[Array], Array]]]


def matern52(r2: Array, signal: float) -> Array:
    """The Matérn-5/2 kernel at squared scaled distances `r2`."""
    r = np.sqrt(np.maximum(r2, 0.0))
    out: Array = signal * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r2) * np.exp(-_SQRT5 * r)
    return out


class Kernel:
    """What a `GaussianProcess` needs of a kernel (see the module docstring)."""

    num_lengths: int = 0

    def fit_terms(self, x: Any) -> Terms:
        """The kernel matrix of training points `x` as a function of the log
        length scales and the signal variance, with its length-scale gradient."""
        raise NotImplementedError

    def matrix(self, log_lengths: Array, signal: float, a: Any, b: Any) -> Array:
        """The kernel values between points `a` (rows) and `b` (columns)."""
        raise NotImplementedError

    def variance(self, signal: float, a: Any) -> Array:
        """The kernel value of each point of `a` with itself."""
        raise NotImplementedError

    def append(self, x: Any, row: Any) -> Any:
        """Training points `x` with one more point `row`."""
        raise NotImplementedError


class Matern52(Kernel):
    """An ARD Matérn-5/2 kernel over numpy feature rows, one length scale per
    group of columns (see the module docstring).

    Args:
        groups: The columns of each group (usually one decision each).

    >>> kernel = Matern52([slice(0, 1), slice(1, 3)])
    >>> x = np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 1.0]])
    >>> k = kernel.matrix(np.log([0.5, 1.0]), 1.0, x, x)
    >>> bool(k[0, 0] == 1.0 and 0.0 < k[0, 1] < 1.0)
    True
    """

    def __init__(self, groups: Sequence[slice]) -> None:
        self.groups = list(groups)
        self.num_lengths = len(self.groups)

    def group_sq_dists(self, x: Array) -> Array:
        """Squared distances between the rows of `x`, per group: shape (n, n, G)."""
        n = x.shape[0]
        out = np.empty((n, n, len(self.groups)))
        for g, cols in enumerate(self.groups):
            block = x[:, cols]
            sq = np.sum(block * block, axis=1)
            d = sq[:, None] + sq[None, :] - 2.0 * block @ block.T
            out[:, :, g] = np.maximum(d, 0.0)
        return out

    def fit_terms(self, x: Array) -> Terms:
        sq_dists = self.group_sq_dists(x)

        def terms(log_lengths: Array, signal: float) -> tuple[Array, Callable[[Array], Array]]:
            inv_sq = np.exp(-2.0 * log_lengths)
            r2 = sq_dists @ inv_sq
            r = np.sqrt(r2)
            decay = np.exp(-_SQRT5 * r)
            k_f: Array = signal * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r2) * decay

            def length_grad(a: Array) -> Array:
                # dK/dlog l_g = s^2 (5/3) (1 + sqrt5 r) exp(-sqrt5 r) S_g / l_g^2
                w = a * (signal * (5.0 / 3.0) * (1.0 + _SQRT5 * r) * decay)
                out: Array = np.tensordot(w, sq_dists, axes=([0, 1], [0, 1])) * inv_sq
                return out

            return k_f, length_grad

        return terms

    def column_scales(self, log_lengths: Array, num_columns: int) -> Array:
        """1 / length scale of each column (the length scale of its group)."""
        scales = np.empty(num_columns)
        for g, cols in enumerate(self.groups):
            scales[cols] = math.exp(-float(log_lengths[g]))
        return scales

    def matrix(self, log_lengths: Array, signal: float, a: Array, b: Array) -> Array:
        scales = self.column_scales(log_lengths, a.shape[1])
        xa, xb = a * scales, b * scales
        sa, sb = np.sum(xa * xa, axis=1), np.sum(xb * xb, axis=1)
        r2 = np.maximum(sa[:, None] + sb[None, :] - 2.0 * xa @ xb.T, 0.0)
        return matern52(r2, signal)

    def variance(self, signal: float, a: Array) -> Array:
        return np.full(a.shape[0], signal)

    def append(self, x: Array, row: Array) -> Array:
        out: Array = np.vstack([x, row[None, :]])
        return out


class Precomputed(Kernel):
    """A kernel the caller computes between its own items (e.g. graph kernels).

    Args:
        gram: `gram(a, b)`, the kernel matrix between two lists of items.
        diagonal: `diagonal(a)`, the kernel value of each item with itself.

    >>> kernel = Precomputed(lambda a, b: np.equal.outer(a, b) * 1.0, lambda a: np.ones(len(a)))
    >>> kernel.matrix(np.zeros(0), 2.0, ["x", "y"], ["x"]).tolist()
    [[2.0], [0.0]]
    """

    num_lengths = 0

    def __init__(self, gram: Callable[[Any, Any], Array], diagonal: Callable[[Any], Array]) -> None:
        self.gram = gram
        self.diagonal = diagonal

    def fit_terms(self, x: Sequence[Any]) -> Terms:
        base = np.asarray(self.gram(x, x), dtype=np.float64)

        def terms(log_lengths: Array, signal: float) -> tuple[Array, Callable[[Array], Array]]:
            return signal * base, lambda a: np.zeros(0)

        return terms

    def matrix(self, log_lengths: Array, signal: float, a: Any, b: Any) -> Array:
        out: Array = signal * np.asarray(self.gram(a, b), dtype=np.float64)
        return out

    def variance(self, signal: float, a: Any) -> Array:
        out: Array = signal * np.asarray(self.diagonal(a), dtype=np.float64)
        return out

    def append(self, x: Any, row: Any) -> Any:
        return [*x, row]


def cholesky(k: Array) -> Array:
    """Lower Cholesky factor of `k`, adding jitter to the diagonal if needed.

    Raises:
        numpy.linalg.LinAlgError: If even a jitter of 1e-2 does not make `k`
            positive definite.
    """
    jitter = 0.0
    eye = np.eye(k.shape[0])
    for _ in range(6):
        try:
            factor = np.linalg.cholesky(k + jitter * eye)
            return np.asarray(factor, dtype=np.float64)
        except np.linalg.LinAlgError:
            jitter = 1e-8 if jitter == 0.0 else jitter * 100.0
    raise np.linalg.LinAlgError("the kernel matrix is not positive definite")


def neg_log_posterior(theta: Array, terms: Terms, y: Array) -> tuple[float, Array]:
    """Minus (log marginal likelihood + log prior) and its gradient in `theta`.

    Args:
        theta: `[log lengths..., log signal, log noise]`.
        terms: The kernel's `fit_terms` of the training points.
        y: Standardized targets.
    """
    n, num_lengths = y.shape[0], theta.shape[0] - 2
    log_lengths = theta[:num_lengths]
    signal, noise = math.exp(float(theta[-2])), math.exp(float(theta[-1]))
    k_f, length_grad = terms(log_lengths, signal)
    factor = cholesky(k_f + noise * np.eye(n))
    inv_factor = np.linalg.inv(factor)
    k_inv = inv_factor.T @ inv_factor
    alpha = k_inv @ y
    log_ml = -0.5 * float(y @ alpha) - float(np.sum(np.log(np.diag(factor)))) - 0.5 * n * _LOG_2PI
    a = np.outer(alpha, alpha) - k_inv
    grad = np.empty_like(theta)
    grad[:num_lengths] = 0.5 * length_grad(a)
    grad[-2] = 0.5 * float(np.sum(a * k_f))
    grad[-1] = 0.5 * noise * float(np.trace(a))
    z = (log_lengths - _PRIOR_MEAN) / _PRIOR_SD
    log_prior = -0.5 * float(z @ z)
    grad[:num_lengths] -= z / _PRIOR_SD
    return -(log_ml + log_prior), -grad


def _bounds(num_lengths: int) -> tuple[Array, Array]:
    low = np.array(
        [LOG_LENGTH_BOUNDS[0]] * num_lengths + [LOG_SIGNAL_BOUNDS[0], LOG_NOISE_BOUNDS[0]]
    )
    high = np.array(
        [LOG_LENGTH_BOUNDS[1]] * num_lengths + [LOG_SIGNAL_BOUNDS[1], LOG_NOISE_BOUNDS[1]]
    )
    return low, high


def default_theta(num_lengths: int) -> Array:
    """The first starting point: length scales 0.5, unit signal, noise 1e-3."""
    return np.array([math.log(0.5)] * num_lengths + [0.0, math.log(1e-3)])


def fit_hyperparameters(
    kernel: Kernel,
    x: Any,
    y: Array,
    rng: np.random.Generator,
    restarts: int = 3,
    iterations: int = 50,
    learning_rate: float = 0.1,
) -> Array:
    """The hyper-parameters with the best objective (`neg_log_posterior`) after
    Adam from `default_theta` and `restarts - 1` random starting points.

    Args:
        kernel: The kernel.
        x: The training points (as the kernel takes them).
        y: Standardized targets.
        rng: Draws the random starting points.
        restarts: Starting points.
        iterations: Adam steps from each.
        learning_rate: Adam's step size.

    >>> x = np.linspace(0.0, 1.0, 10)[:, None]
    >>> y = np.sin(4.0 * x[:, 0])
    >>> theta = fit_hyperparameters(Matern52([slice(0, 1)]), x, (y - y.mean()) / y.std(),
    ...                             np.random.default_rng(0))
    >>> theta.shape
    (3,)
    """
    terms = kernel.fit_terms(x)
    num_lengths = kernel.num_lengths
    low, high = _bounds(num_lengths)
    starts = [default_theta(num_lengths)]
    for _ in range(restarts - 1):
        start = np.concatenate(
            [
                rng.uniform(math.log(0.05), math.log(2.0), num_lengths),
                [rng.uniform(math.log(0.2), math.log(5.0)), rng.uniform(math.log(1e-5), -2.0)],
            ]
        )
        starts.append(start)
    best, best_value = starts[0], math.inf
    for start in starts:
        theta, value = _descend(start, terms, y, low, high, iterations, learning_rate)
        if value < best_value:
            best, best_value = theta, value
    return best


def _descend(
    theta: Array,
    terms: Terms,
    y: Array,
    low: Array,
    high: Array,
    iterations: int,
    learning_rate: float,
) -> tuple[Array, float]:
    """Adam steps on `neg_log_posterior`, clipped to [low, high]; the best point seen."""
    params = {"theta": theta.copy()}
    adam = Adam(learning_rate)
    best, best_value = theta.copy(), math.inf
    for _ in range(iterations):
        try:
            value, grad = neg_log_posterior(params["theta"], terms, y)
        except np.linalg.LinAlgError:
            break
        if value < best_value:
            best, best_value = params["theta"].copy(), value
        adam.step(params, {"theta": grad})
        np.clip(params["theta"], low, high, out=params["theta"])
    return best, best_value


class GaussianProcess:
    """The GP posterior given training points `x`, standardized targets `y`
    and hyper-parameters `theta` (see the module docstring).

    Args:
        kernel: The kernel.
        x: Training points (feature rows for `Matern52`; any items for
            `Precomputed`).
        y: Standardized targets.
        theta: Hyper-parameters, as `fit_hyperparameters` gives them.

    >>> x = np.linspace(0.0, 1.0, 12)[:, None]
    >>> y = np.sin(6.0 * x[:, 0])
    >>> kernel = Matern52([slice(0, 1)])
    >>> theta = fit_hyperparameters(kernel, x, y, np.random.default_rng(0))
    >>> mean, std = GaussianProcess(kernel, x, y, theta).predict(np.array([[0.25]]))
    >>> bool(abs(mean[0] - np.sin(1.5)) < 0.05), bool(std[0] < 0.1)
    (True, True)
    """

    def __init__(self, kernel: Kernel, x: Any, y: Array, theta: Array) -> None:
        self.kernel = kernel
        self.log_lengths = theta[: kernel.num_lengths]
        self.signal = math.exp(float(theta[-2]))
        self.noise = math.exp(float(theta[-1]))
        self.x = x
        self.y = np.asarray(y, dtype=np.float64)
        k = kernel.matrix(self.log_lengths, self.signal, x, x)
        factor = cholesky(k + self.noise * np.eye(self.y.shape[0]))
        self.inv_factor = np.linalg.inv(factor)
        self.alpha = self.inv_factor.T @ (self.inv_factor @ self.y)

    def add(self, point: Any, value: float) -> None:
        """Conditions on one more observation (`point`, standardized `value`)
        in O(n^2): the inverse Cholesky factor grows by a row."""
        kernel = self.kernel
        single = point[None, :] if isinstance(point, np.ndarray) else [point]
        cross = kernel.matrix(self.log_lengths, self.signal, single, self.x)[0]
        projected = self.inv_factor @ cross
        own = float(kernel.variance(self.signal, single)[0])
        last = math.sqrt(max(own + self.noise - float(projected @ projected), 1e-12))
        n = projected.shape[0]
        grown = np.zeros((n + 1, n + 1))
        grown[:n, :n] = self.inv_factor
        grown[n, :n] = -(projected @ self.inv_factor) / last
        grown[n, n] = 1.0 / last
        self.inv_factor = grown
        self.x = kernel.append(self.x, point)
        self.y = np.append(self.y, value)
        self.alpha = grown.T @ (grown @ self.y)

    def predict(self, x: Any) -> tuple[Array, Array]:
        """Posterior mean and standard deviation (of the latent function) at `x`."""
        k = self.kernel.matrix(self.log_lengths, self.signal, x, self.x)
        mean: Array = k @ self.alpha
        v = self.inv_factor @ k.T
        var = np.maximum(self.kernel.variance(self.signal, x) - np.sum(v * v, axis=0), 1e-12)
        return mean, np.sqrt(var)
