"""Constrained search in the algorithms layer: feedback with constraints,
Deb's rules in TPE and NSGA-II, `recover` exactness, and `hypervolume`."""

from __future__ import annotations

import math

import numpy as np
import pytest

import automorph as am
from automorph import algorithms
from automorph.algorithms import Individual, hypervolume, non_dominated_sort, ranking
from automorph.geno import DNA
from automorph.utils import FeedbackError, FieldValueError

SPACE = am.dna_spec(am.Dict(x=am.floatv(-2.0, 2.0), y=am.floatv(-2.0, 2.0)))


def _objective(dna: DNA) -> tuple[float, list[float]]:
    """Minimize x^2 + y^2 subject to x + y >= 1 (as a reward to maximize and
    one constraint `1 - x - y <= 0`); the optimum is (0.5, 0.5), reward -0.5."""
    x, y = dna["x"], dna["y"]
    return -(x * x + y * y), [1.0 - x - y]


def _run(search: algorithms.SearchAlgorithm, steps: int, constrained: bool = True) -> list:
    search.setup(SPACE)
    history = []
    for _ in range(steps):
        dna = search.propose()
        reward, constraints = _objective(dna)
        given = constraints if constrained else None
        if search.multi_objective:
            search.feedback(dna, (reward,), given)
        else:
            search.feedback(dna, reward, given)
        history.append((dna, reward, constraints))
    return history


def _best_feasible(history: list) -> tuple[DNA, float]:
    feasible = [(dna, r) for dna, r, c in history if algorithms.is_feasible(c)]
    return max(feasible, key=lambda pair: pair[1])


# --- TPE -------------------------------------------------------------------------


def test_tpe_ends_on_the_feasible_optimum() -> None:
    history = _run(algorithms.TPE(seed=0), 80)
    dna, reward = _best_feasible(history)
    assert reward > -0.6, (dna, reward)  # the optimum is -0.5 at (0.5, 0.5)
    # the optimum is on the constraint's boundary: about half the late
    # proposals fall on its feasible side (without the constraint, almost none)
    late = history[40:]
    feasible_late = sum(algorithms.is_feasible(c) for _, _, c in late)
    assert feasible_late >= 0.45 * len(late), feasible_late


def test_tpe_without_constraints_goes_to_the_infeasible_origin() -> None:
    """The control: the same search told nothing of the constraint mostly
    proposes near (0, 0), which breaks it, so the constraint is what steers."""
    late = _run(algorithms.TPE(seed=0), 80, constrained=False)[40:]
    feasible_late = sum(algorithms.is_feasible(c) for _, _, c in late)
    assert feasible_late < 0.15 * len(late), feasible_late


def test_tpe_prefers_the_least_infeasible_while_none_is_feasible() -> None:
    """With every observation infeasible, the good set is the least violating
    one, whatever its reward: proposals go near x = 7.3 (the only feasible
    place) although the reward is best at x = 0, where an unconstrained
    search goes."""

    def proposals(constrained: bool) -> np.ndarray:
        tpe = algorithms.TPE(seed=1, num_initial=10)
        tpe.setup(am.dna_spec(am.Dict(x=am.floatv(0.0, 10.0))))
        for x in np.linspace(0.0, 10.0, 21):  # none within 0.05 of 7.3
            constraints = [abs(x - 7.3) - 0.05] if constrained else None
            tpe.feedback(am.DNA({"x": float(x)}), -x, constraints)
        out = []
        for _ in range(20):
            dna = tpe.propose()
            tpe.discard(dna)  # no constant liar: every proposal sees the same model
            out.append(dna["x"])
        return np.array(out)

    assert 6.5 < np.median(proposals(True)) < 8.5
    assert np.median(proposals(False)) < 1.0


def test_tpe_is_unchanged_when_every_trial_is_feasible() -> None:
    a, b = algorithms.TPE(seed=4), algorithms.TPE(seed=4)
    a.setup(SPACE)
    b.setup(SPACE)
    for _ in range(25):
        dna_a, dna_b = a.propose(), b.propose()
        assert dna_a == dna_b
        reward = _objective(dna_a)[0]
        a.feedback(dna_a, reward)
        b.feedback(dna_b, reward, [-1.0, 0.0])


# --- NSGA-II and evolution ----------------------------------------------------------


def test_nsga2_ends_on_the_feasible_optimum() -> None:
    search = algorithms.nsga2(population_size=16, seed=0)
    history = _run(search, 300)
    dna, reward = _best_feasible(history)
    assert reward > -0.6, (dna, reward)
    assert all(x.violation == 0.0 for x in search.population), search.population


def test_nsga2_front_of_a_constrained_two_objective_problem() -> None:
    """Maximize (-x^2, -y^2) subject to x + y >= 1: the feasible front is the
    segment x + y = 1, x and y in [0, 1]; the survivors end near it."""
    search = algorithms.nsga2(population_size=20, seed=2)
    space = am.dna_spec(am.Dict(x=am.floatv(-1.0, 2.0), y=am.floatv(-1.0, 2.0)))
    search.setup(space)
    for _ in range(400):
        dna = search.propose()
        x, y = dna["x"], dna["y"]
        search.feedback(dna, (-x * x, -y * y), [1.0 - x - y])
    population = search.population
    assert all(p.violation == 0.0 for p in population)
    sums = [p.dna["x"] + p.dna["y"] for p in population]
    assert np.median(sums) < 1.08, sums
    # the front spreads along the segment: its hypervolume above (-1, -1) is
    # close to that of the segment (sampled densely)
    points = [p.reward for p in population]
    xs = np.linspace(0.0, 1.0, 2001)
    segment = hypervolume(np.stack([-(xs**2), -((1 - xs) ** 2)], axis=1), (-1.5, -1.5))
    assert hypervolume(points, (-1.5, -1.5)) > 0.8 * segment


def test_regularized_evolution_ranks_feasible_first() -> None:
    search = algorithms.regularized_evolution(population_size=20, tournament_size=5, seed=0)
    history = _run(search, 250)
    dna, reward = _best_feasible(history)
    assert reward > -0.7, (dna, reward)


def test_constrained_non_dominated_sort() -> None:
    rewards = [(3.0, 3.0), (1.0, 0.0), (0.0, 1.0), (2.0, 2.0), (5.0, 5.0)]
    violations = [0.0, 0.0, 0.0, 0.5, 0.25]
    assert non_dominated_sort(rewards, violations) == [[0], [1, 2], [4], [3]]
    # without an infeasible point the sort is the plain one
    assert non_dominated_sort(rewards, [0.0] * 5) == non_dominated_sort(rewards)
    with pytest.raises(am.AutomorphError, match="one per reward"):
        non_dominated_sort(rewards, [1.0])


def test_ranking_follows_debs_rules() -> None:
    population = [
        Individual(DNA({"x": 0}), 9.0, birth=0, violation=1.0),
        Individual(DNA({"x": 1}), 1.0, birth=1),
        Individual(DNA({"x": 2}), 5.0, birth=2, violation=0.5),
        Individual(DNA({"x": 3}), 2.0, birth=3),
    ]
    keys = ranking(population)
    order = sorted(range(4), key=keys.__getitem__)
    assert order == [3, 1, 2, 0]


# --- the base class: checks and recover ----------------------------------------------


@pytest.mark.parametrize(
    ("constraints", "match"),
    [
        ([float("nan")], "finite"),
        ([math.inf, 0.0], "finite"),
        ([], "at least one"),
        (["0.5"], "must be numbers"),
        (0.5, "must be a list"),
        ([True], "must be numbers"),
    ],
)
def test_malformed_constraints_are_refused(constraints: object, match: str) -> None:
    tpe = algorithms.TPE(seed=0)
    tpe.setup(SPACE)
    dna = tpe.propose()
    with pytest.raises(FeedbackError, match=match):
        tpe.feedback(dna, 1.0, constraints)  # type: ignore[arg-type]
    assert tpe.num_feedback == 0 and tpe.num_constraints is None


def test_constraints_of_another_length_are_refused() -> None:
    search = algorithms.Random(seed=0)  # ignores constraints, still checks them
    search.setup(SPACE)
    search.feedback(search.propose(), 1.0, [0.0, -1.0])
    with pytest.raises(
        FeedbackError, match="expected 2 constraint values, as earlier feedback gave, got 1"
    ):
        search.feedback(search.propose(), 1.0, [0.0])
    search.feedback(search.propose(), 1.0)  # none at all: feasible, accepted
    assert search.num_feedback == 2


@pytest.mark.parametrize(
    "make",
    [
        lambda: algorithms.TPE(seed=5, num_initial=5),
        lambda: algorithms.nsga2(population_size=6, seed=5),
        lambda: algorithms.regularized_evolution(population_size=6, tournament_size=3, seed=5),
    ],
    ids=["tpe", "nsga2", "regularized_evolution"],
)
def test_recover_with_constraints_is_exact(make) -> None:  # type: ignore[no-untyped-def]
    live = make()
    history = _run(live, 30)
    objectives = live.multi_objective
    past = [(dna, (r,) if objectives else r, c) for dna, r, c in history]
    revived = make()
    revived.setup(SPACE)
    revived.recover(past)
    assert [revived.propose() for _ in range(6)] == [live.propose() for _ in range(6)]
    # the constraints matter: recovering without them gives another state
    blind = make()
    blind.setup(SPACE)
    blind.recover([(dna, r) for dna, r, _ in past])
    fresh = make()
    fresh.setup(SPACE)
    fresh.recover(past)
    assert [blind.propose() for _ in range(6)] != [fresh.propose() for _ in range(6)]


def test_recover_refuses_malformed_items() -> None:
    tpe = algorithms.TPE(seed=0)
    tpe.setup(SPACE)
    dna = tpe.propose()
    with pytest.raises(FeedbackError, match=r"\(dna, reward\) or \(dna, reward, constraints\)"):
        tpe.recover([(dna,)])  # type: ignore[list-item]
    with pytest.raises(FeedbackError, match="finite"):
        tpe.recover([(dna, 1.0, [math.nan])])


# --- hypervolume ----------------------------------------------------------------------


def test_hypervolume_by_hand() -> None:
    assert hypervolume([(1.0, 2.0), (2.0, 1.0)], (0.0, 0.0)) == 3.0
    # a dominated point and a duplicate add nothing
    assert hypervolume([(1.0, 2.0), (2.0, 1.0), (0.5, 0.5), (2.0, 1.0)], (0.0, 0.0)) == 3.0
    # the reference cuts: only the part above it counts; a point below it adds nothing
    assert hypervolume([(3.0, 3.0), (-1.0, 9.0)], (1.0, 2.0)) == 2.0
    assert hypervolume([(4.0,), (2.0,)], (1.0,)) == 3.0
    # three objectives: a unit cube plus a 2 x 0.5 x 0.5 box, overlapping in 1 x 0.5 x 0.5
    cube = [(1.0, 1.0, 1.0), (2.0, 0.5, 0.5)]
    assert hypervolume(cube, (0.0, 0.0, 0.0)) == pytest.approx(1.0 + 0.5 - 0.25)
    # three boxes along the axes: inclusion-exclusion gives 3 * 2 - 3 * 1 + 1 = 4
    boxes = [(2.0, 1.0, 1.0), (1.0, 2.0, 1.0), (1.0, 1.0, 2.0)]
    assert hypervolume(boxes, (0.0, 0.0, 0.0)) == pytest.approx(4.0)
    # four objectives
    assert hypervolume([(1.0, 1.0, 1.0, 2.0), (1.0, 1.0, 2.0, 1.0)], (0.0,) * 4) == pytest.approx(
        3.0
    )
    assert hypervolume([], (0.0, 0.0)) == 0.0


@pytest.mark.parametrize("dims", [2, 3, 4])
def test_hypervolume_agrees_with_monte_carlo(dims: int) -> None:
    rng = np.random.default_rng(dims)
    # points on a concave front (with some dominated ones) in [0, 1]^d
    raw = rng.random((25, dims))
    points = raw / np.linalg.norm(raw, axis=1, keepdims=True) * rng.uniform(0.8, 1.0, (25, 1))
    ref = np.zeros(dims)
    exact = hypervolume(points, ref)
    samples = rng.random((200_000, dims))
    dominated = np.zeros(len(samples), dtype=bool)
    for p in points:
        dominated |= np.all(samples <= p, axis=1)
    estimate = dominated.mean()  # the box [0, 1]^d has volume 1
    error = 4.0 * math.sqrt(estimate * (1 - estimate) / len(samples))
    assert abs(exact - estimate) < error, (exact, estimate)


def test_hypervolume_errors() -> None:
    with pytest.raises(FieldValueError, match="2 objectives but `reference` has 3"):
        hypervolume([(1.0, 2.0)], (0.0, 0.0, 0.0))
    with pytest.raises(FieldValueError, match="finite"):
        hypervolume([(1.0, math.nan)], (0.0, 0.0))
    with pytest.raises(FieldValueError, match="`reference` must be a point"):
        hypervolume([(1.0, 2.0)], ())
