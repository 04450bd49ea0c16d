"""Synthetic functions: known minima, hand-computed values, benchmarks."""

from __future__ import annotations

import math

import numpy as np
import pytest

import automorph as am
from automorph import benchmarks
from automorph.benchmarks import ackley, branin, hartmann6, levy, rosenbrock

HARTMANN6_X_MIN = [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]


def _hartmann6_reference(x: list[float]) -> float:
    """Hartmann-6 written out with scalars, from the published constants."""
    alpha = [1.0, 1.2, 3.0, 3.2]
    a = [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
    p = [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
    total = 0.0
    for i in range(4):
        inner = sum(a[i][j] * (x[j] - p[i][j] * 1e-4) ** 2 for j in range(6))
        total -= alpha[i] * math.exp(-inner)
    return total


@pytest.mark.parametrize("x", [(-math.pi, 12.275), (math.pi, 2.275), (9.42478, 2.475)])
def test_branin_minimizers(x: tuple[float, float]) -> None:
    assert float(branin(x)) == pytest.approx(0.397887, abs=1e-6)


def test_branin_other_points() -> None:
    assert float(branin([0.0, 0.0])) == pytest.approx(56 - 10 / (8 * math.pi))
    by_hand = (
        (15 - 5.1 * 100 / (4 * math.pi**2) + 50 / math.pi - 6) ** 2
        + 10 * (1 - 1 / (8 * math.pi)) * math.cos(10)
        + 10
    )
    assert float(branin([10.0, 15.0])) == pytest.approx(by_hand)


def test_hartmann6_minimum_and_reference() -> None:
    assert float(hartmann6(HARTMANN6_X_MIN)) == pytest.approx(-3.32237, abs=1e-5)
    rng = np.random.default_rng(0)
    points = rng.uniform(0, 1, size=(5, 6))
    values = hartmann6(points)
    assert values.shape == (5,)
    for point, value in zip(points, values, strict=True):
        assert value == pytest.approx(_hartmann6_reference(point.tolist()))
    assert float(hartmann6(np.zeros(6))) == pytest.approx(_hartmann6_reference([0.0] * 6))


def test_rosenbrock_values() -> None:
    assert float(rosenbrock(np.ones(4))) == 0.0
    assert float(rosenbrock(np.ones(7))) == 0.0
    assert float(rosenbrock(np.zeros(4))) == 3.0
    assert float(rosenbrock([1.0, 2.0])) == 100.0
    assert float(rosenbrock([-1.0, 1.0, 0.0])) == 104.0


def test_ackley_values() -> None:
    assert float(ackley(np.zeros(4))) == pytest.approx(0.0, abs=1e-12)
    assert float(ackley(np.ones(2))) == pytest.approx(20 - 20 * math.exp(-0.2))
    assert float(ackley([1.0, 0.0])) == pytest.approx(20 - 20 * math.exp(-0.2 / math.sqrt(2)))


def test_levy_values() -> None:
    assert float(levy(np.ones(4))) == pytest.approx(0.0, abs=1e-12)
    assert float(levy([5.0])) == pytest.approx(1.0)
    assert float(levy([-3.0, 5.0])) == pytest.approx(2 + 10 * math.sin(1) ** 2)
    middle = 0.0625 * (1 + 10 * math.sin(0.75 * math.pi + 1) ** 2)
    assert float(levy(np.zeros(4))) == pytest.approx(0.5 + 3 * middle + 0.125)


def test_functions_are_vectorized() -> None:
    points = np.array([[1.0, 1.0], [0.0, 0.0]])
    assert rosenbrock(points).tolist() == [0.0, 1.0]
    assert branin(np.zeros((3, 4, 2))).shape == (3, 4)


@pytest.mark.parametrize(
    ("function", "x", "match"),
    [
        (branin, [1.0, 2.0, 3.0], r"branin: the last axis of `x` must hold 2 coordinates"),
        (hartmann6, np.zeros((2, 5)), r"hartmann6: .* 6 coordinates, got an array of shape"),
        (rosenbrock, [1.0], r"rosenbrock: .* at least 2 coordinates"),
        (ackley, 1.0, r"ackley: .* at least 1 coordinates, got an array of shape \(\)"),
    ],
)
def test_wrong_dimension(function: object, x: object, match: str) -> None:
    with pytest.raises(am.FieldValueError, match=match):
        function(x)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("name", "dim", "optimum", "minimizer"),
    [
        ("branin", 2, -0.397887, {"x0": math.pi, "x1": 2.275}),
        ("hartmann6", 6, 3.32237, {f"x{i}": v for i, v in enumerate(HARTMANN6_X_MIN)}),
        ("rosenbrock", 4, 0.0, {f"x{i}": 1.0 for i in range(4)}),
        ("ackley", 4, 0.0, {f"x{i}": 0.0 for i in range(4)}),
        ("levy", 4, 0.0, {f"x{i}": 1.0 for i in range(4)}),
    ],
)
def test_registered_benchmarks(
    name: str, dim: int, optimum: float, minimizer: dict[str, float]
) -> None:
    bench = benchmarks.create(name)
    assert bench.optimum is not None
    assert name in benchmarks.names() and bench.name == name
    assert bench.optimum == pytest.approx(optimum, abs=1e-5)
    space = bench.space()
    spec = am.dna_spec(space)
    assert [p.location for p in spec.decision_points()] == [f"x{i}" for i in range(dim)]
    assert bench.reward(minimizer) == pytest.approx(optimum, abs=1e-5)
    assert bench.reward(minimizer) <= bench.optimum + 1e-12
    for example in am.random_sample(space, num_examples=20, seed=0):
        reward = bench.reward(example)
        assert reward == bench.test_score(example) <= bench.optimum + 1e-12


def test_benchmark_bounds_and_reward_sign() -> None:
    bench = benchmarks.create("branin")
    example = am.materialize(bench.space(), am.DNA({"x0": 0.0, "x1": 0.0}))
    assert bench.reward(example) == pytest.approx(-(56 - 10 / (8 * math.pi)))
    point = bench.space()["x0"]
    assert (point.min_value, point.max_value) == (-5.0, 10.0)
    assert len(benchmarks.create("rosenbrock", dim=7).space()) == 7


@pytest.mark.parametrize("name", ["rosenbrock", "ackley", "levy"])
def test_bad_dim(name: str) -> None:
    with pytest.raises(am.FieldValueError, match=rf"{name}: `dim` must be an int >= \d, got 0"):
        benchmarks.create(name, dim=0)
