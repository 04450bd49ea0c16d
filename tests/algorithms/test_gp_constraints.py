"""GP-BO steers by constraints; ParEGO searches several objectives."""

from __future__ import annotations

import numpy as np
import pytest

import automorph as am
from automorph import algorithms

PLANE = am.dna_spec(am.Dict(x=am.floatv(-2.0, 2.0), y=am.floatv(-2.0, 2.0)))


def _constrained_run(
    seed: int, constrained: bool, warp: str = "none"
) -> list[tuple[float, float, float]]:
    """GP-BO minimizing (x-1)^2 + (y-1)^2 subject to x + y <= 1 (optimum at
    (0.5, 0.5), reward -0.5); the constraints are given only if `constrained`."""
    search = algorithms.GPBO(seed=seed, num_initial=8, num_candidates=200, num_local=100, warp=warp)
    search.setup(PLANE)
    trials = []
    for _ in range(35):
        dna = search.propose()
        x, y = dna["x"], dna["y"]
        reward = -((x - 1.0) ** 2 + (y - 1.0) ** 2)
        search.feedback(dna, reward, [x + y - 1.0] if constrained else None)
        trials.append((x, y, reward))
    return trials


@pytest.mark.parametrize("warp", ["none", "half_rank"])
def test_gp_bo_finds_the_constrained_optimum_and_keeps_to_the_constraint(warp: str) -> None:
    for seed in range(2):
        steered = _constrained_run(seed, constrained=True, warp=warp)
        free = _constrained_run(seed, constrained=False, warp=warp)
        feasible = [t for t in steered if t[0] + t[1] <= 1.0]
        best = max(feasible, key=lambda t: t[2])
        assert abs(best[0] - 0.5) < 0.1 and abs(best[1] - 0.5) < 0.1, best
        assert best[2] > -0.52, best
        # Steered, most trials are feasible; without constraints most are not.
        free_feasible = sum(t[0] + t[1] <= 1.0 for t in free)
        assert len(feasible) > 2 * free_feasible, (len(feasible), free_feasible)


def test_gp_bo_looks_for_the_feasible_region_first() -> None:
    """With a small feasible corner and no feasible trial among the random
    ones, GP-BO maximizes the probability of feasibility and reaches it."""
    search = algorithms.GPBO(seed=0, num_initial=5, num_candidates=200, num_local=50)
    search.setup(PLANE)
    first = None
    for i in range(25):
        dna = search.propose()
        x, y = dna["x"], dna["y"]
        constraints = [1.8 - x, 1.8 - y]  # feasible: x, y >= 1.8 (1/400 of the plane)
        search.feedback(dna, -(x**2) - y**2, constraints)
        if first is None and algorithms.is_feasible(constraints):
            first = i
    assert first is not None and first < 12, first


def _zdt1(dna: am.DNA) -> tuple[float, float]:
    """ZDT1 over three variables, both objectives negated (maximized)."""
    x = [dna[f"x{i}"] for i in range(3)]
    g = 1.0 + 9.0 * (x[1] + x[2]) / 2.0
    return (-x[0], -g * (1.0 - np.sqrt(x[0] / g)))


def test_parego_beats_random_search_on_zdt1() -> None:
    spec = am.dna_spec(am.Dict(**{f"x{i}": am.floatv(0.0, 1.0) for i in range(3)}))
    reference = [-1.0, -2.0]
    parego, randoms = [], []
    for seed in range(3):
        search = algorithms.ParEGO(seed=seed, num_initial=8, num_candidates=200, num_local=100)
        search.setup(spec)
        for _ in range(40):
            dna = search.propose()
            search.feedback(dna, _zdt1(dna))
        parego.append(algorithms.hypervolume([r for _, r in search.history], reference))
        rng = np.random.default_rng(seed)
        points = [_zdt1(spec.random_dna(rng)) for _ in range(40)]
        randoms.append(algorithms.hypervolume(points, reference))
    assert np.mean(parego) > np.mean(randoms) + 0.3, (parego, randoms)


def test_parego_takes_constraints_and_refuses_a_changed_objective_count() -> None:
    spec = am.dna_spec(am.Dict(x=am.floatv(0.0, 1.0)))
    search = algorithms.ParEGO(seed=0, num_initial=4, num_candidates=100, num_local=20)
    search.setup(spec)
    for _ in range(12):
        dna = search.propose()
        search.feedback(dna, (dna["x"], 1.0 - dna["x"]), [dna["x"] - 0.5])
    late = [dna["x"] for dna, _ in search.history[4:]]
    assert sum(x <= 0.5 for x in late) >= len(late) - 2, late
    try:
        search.feedback(search.propose(), (0.1, 0.2, 0.3))
    except am.FeedbackError as e:
        assert "expected 2 objectives" in str(e), str(e)
    else:
        raise AssertionError("a reward with another number of objectives must be refused")
