"""Synthetic test functions for hyper-parameter optimization, and their benchmarks.

The functions and constants are those of Surjanovic & Bingham's Virtual
Library of Simulation Experiments (https://www.sfu.ca/~ssurjano/). Each
function takes points as a numpy array whose last axis holds the coordinates
(shape `(d,)` for one point, `(n, d)` for `n` points) and returns an array of
values (0-d for one point). Functions are minimized; the registered benchmarks
(`branin`, `hartmann6`, `rosenbrock`, `ackley`, `levy`) reward `-f(x)`, since
searches maximize.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

import automorph as am
from automorph.benchmarks._base import BENCHMARKS, Benchmark
from automorph.utils import FieldValueError

__all__ = [
    "SyntheticBenchmark",
    "ackley",
    "branin",
    "hartmann6",
    "levy",
    "rosenbrock",
]

Array = npt.NDArray[np.float64]

BRANIN_MIN = 0.39788735772973816
"""The minimum of Branin, reached at (-pi, 12.275), (pi, 2.275) and (3 pi, 2.475)."""

HARTMANN6_MIN = -3.322368011415514
"""The minimum of Hartmann-6 (published as -3.32237), found by L-BFGS-B from the
published minimizer (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)."""

_HARTMANN6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_HARTMANN6_A = np.array(
    [
        [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
        [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
        [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
        [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
    ]
)
_HARTMANN6_P = 1e-4 * np.array(
    [
        [1312.0, 1696.0, 5569.0, 124.0, 8283.0, 5886.0],
        [2329.0, 4135.0, 8307.0, 3736.0, 1004.0, 9991.0],
        [2348.0, 1451.0, 3522.0, 2883.0, 3047.0, 6650.0],
        [4047.0, 8828.0, 8732.0, 5743.0, 1091.0, 381.0],
    ]
)


def _points(x: npt.ArrayLike, name: str, dim: int | None = None, min_dim: int = 1) -> Array:
    """`x` as a float array whose last axis has `dim` (or >= `min_dim`) coordinates."""
    points = np.asarray(x, dtype=np.float64)
    size = points.shape[-1] if points.ndim else 0
    if (dim is not None and size != dim) or size < min_dim:
        wanted = f"{dim}" if dim is not None else f"at least {min_dim}"
        raise FieldValueError(
            f"{name}: the last axis of `x` must hold {wanted} coordinates, "
            f"got an array of shape {points.shape}"
        )
    return points


def branin(x: npt.ArrayLike) -> Array:
    """Branin (Branin-Hoo), 2-D, on [-5, 10] x [0, 15]; minimum 0.397887 at three points.

    >>> round(float(branin([np.pi, 2.275])), 6)
    0.397887
    >>> branin([[-np.pi, 12.275], [0.0, 0.0]]).round(4).tolist()
    [0.3979, 55.6021]
    """
    p = _points(x, "branin", dim=2)
    x1, x2 = p[..., 0], p[..., 1]
    b = 5.1 / (4 * math.pi**2)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    return np.asarray((x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * np.cos(x1) + 10)


def hartmann6(x: npt.ArrayLike) -> Array:
    """Hartmann-6, 6-D, on [0, 1]^6; minimum -3.32237.

    >>> x_min = [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]
    >>> round(float(hartmann6(x_min)), 5)
    -3.32237
    """
    p = _points(x, "hartmann6", dim=6)
    inner = np.sum(_HARTMANN6_A * (p[..., None, :] - _HARTMANN6_P) ** 2, axis=-1)
    return np.asarray(-np.sum(_HARTMANN6_ALPHA * np.exp(-inner), axis=-1))


def rosenbrock(x: npt.ArrayLike) -> Array:
    """Rosenbrock, d-D (d >= 2), on [-5, 10]^d; minimum 0 at (1, ..., 1).

    >>> float(rosenbrock([1.0, 1.0, 1.0, 1.0])), float(rosenbrock([0.0, 0.0]))
    (0.0, 1.0)
    """
    p = _points(x, "rosenbrock", min_dim=2)
    head, tail = p[..., :-1], p[..., 1:]
    return np.asarray(np.sum(100 * (tail - head**2) ** 2 + (head - 1) ** 2, axis=-1))


def ackley(x: npt.ArrayLike) -> Array:
    """Ackley (a=20, b=0.2, c=2 pi), d-D, on [-32.768, 32.768]^d; minimum 0 at 0.

    >>> abs(float(ackley([0.0, 0.0, 0.0, 0.0]))) < 1e-12
    True
    >>> round(float(ackley([1.0, 1.0])), 6)  # 20 - 20 exp(-0.2)
    3.625385
    """
    p = _points(x, "ackley")
    a, b, c = 20.0, 0.2, 2 * math.pi
    root_mean_square = np.sqrt(np.mean(p**2, axis=-1))
    mean_cos = np.mean(np.cos(c * p), axis=-1)
    return np.asarray(-a * np.exp(-b * root_mean_square) - np.exp(mean_cos) + a + math.e)


def levy(x: npt.ArrayLike) -> Array:
    """Levy, d-D, on [-10, 10]^d; minimum 0 at (1, ..., 1).

    >>> abs(float(levy([1.0, 1.0, 1.0, 1.0]))) < 1e-12
    True
    """
    p = _points(x, "levy")
    w = 1 + (p - 1) / 4
    first = np.sin(math.pi * w[..., 0]) ** 2
    head = w[..., :-1]
    middle = np.sum((head - 1) ** 2 * (1 + 10 * np.sin(math.pi * head + 1) ** 2), axis=-1)
    last = w[..., -1]
    return np.asarray(first + middle + (last - 1) ** 2 * (1 + np.sin(2 * math.pi * last) ** 2))


class SyntheticBenchmark(Benchmark):
    """A synthetic function as a benchmark: maximize `-f(x)` over a box.

    The space is an `am.Dict` with one `am.floatv` per coordinate (`x0`,
    `x1`, ...); `reward` and `test_score` are both `-f(x)`, and `optimum` is
    `-f_min`.

    >>> bench = SyntheticBenchmark("branin", branin, [(-5.0, 10.0), (0.0, 15.0)], BRANIN_MIN)
    >>> space = bench.space()
    >>> sorted(space.keys()), am.dna_spec(space).size
    (['x0', 'x1'], inf)
    >>> round(bench.reward({"x0": np.pi, "x1": 2.275}) - bench.optimum, 9)
    0.0

    Args:
        name: The benchmark's name.
        function: The function to minimize (points on the last axis).
        bounds: `(low, high)` of each coordinate.
        minimum: The function's minimum over the box.
    """

    def __init__(
        self,
        name: str,
        function: Callable[[npt.ArrayLike], Array],
        bounds: Sequence[tuple[float, float]],
        minimum: float,
    ) -> None:
        self.name = name
        self.function = function
        self.bounds = tuple((float(low), float(high)) for low, high in bounds)
        self.keys = tuple(f"x{i}" for i in range(len(self.bounds)))
        self.optimum = 0.0 - float(minimum)  # not -0.0

    @property
    def dim(self) -> int:
        """The number of coordinates."""
        return len(self.bounds)

    def space(self) -> am.Dict:
        """`am.Dict(x0=am.floatv(low, high), ...)`, one entry per coordinate."""
        return am.Dict(
            {
                key: am.floatv(low, high)
                for key, (low, high) in zip(self.keys, self.bounds, strict=True)
            }
        )

    def point(self, example: Mapping[str, Any]) -> Array:
        """The coordinates `(x0, x1, ...)` of a materialized example."""
        return np.array([example[key] for key in self.keys], dtype=np.float64)

    def reward(self, example: Mapping[str, Any]) -> float:
        """`-f(x)` for the example `{"x0": ..., "x1": ...}`."""
        return -float(self.function(self.point(example)))

    def test_score(self, example: Mapping[str, Any]) -> float:
        """`-f(x)`, the same as `reward`."""
        return self.reward(example)


def _check_dim(name: str, dim: int, min_dim: int) -> None:
    if not isinstance(dim, int) or isinstance(dim, bool) or dim < min_dim:
        raise FieldValueError(f"{name}: `dim` must be an int >= {min_dim}, got {dim!r}")


@BENCHMARKS.register("branin")
def branin_benchmark() -> SyntheticBenchmark:
    """Branin on [-5, 10] x [0, 15]; optimum -0.397887."""
    return SyntheticBenchmark("branin", branin, [(-5.0, 10.0), (0.0, 15.0)], BRANIN_MIN)


@BENCHMARKS.register("hartmann6")
def hartmann6_benchmark() -> SyntheticBenchmark:
    """Hartmann-6 on [0, 1]^6; optimum 3.32237."""
    return SyntheticBenchmark("hartmann6", hartmann6, [(0.0, 1.0)] * 6, HARTMANN6_MIN)


@BENCHMARKS.register("rosenbrock")
def rosenbrock_benchmark(dim: int = 4) -> SyntheticBenchmark:
    """Rosenbrock on [-5, 10]^dim; optimum 0."""
    _check_dim("rosenbrock", dim, 2)
    return SyntheticBenchmark("rosenbrock", rosenbrock, [(-5.0, 10.0)] * dim, 0.0)


@BENCHMARKS.register("ackley")
def ackley_benchmark(dim: int = 4) -> SyntheticBenchmark:
    """Ackley on [-32.768, 32.768]^dim; optimum 0."""
    _check_dim("ackley", dim, 1)
    return SyntheticBenchmark("ackley", ackley, [(-32.768, 32.768)] * dim, 0.0)


@BENCHMARKS.register("levy")
def levy_benchmark(dim: int = 4) -> SyntheticBenchmark:
    """Levy on [-10, 10]^dim; optimum 0."""
    _check_dim("levy", dim, 1)
    return SyntheticBenchmark("levy", levy, [(-10.0, 10.0)] * dim, 0.0)
