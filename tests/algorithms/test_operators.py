"""Tests of the evolution operators: selectors, Pareto ranking, mutation, crossover."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import automorph as am
from automorph import algorithms as alg
from automorph.algorithms import Individual, OperatorContext
from automorph.geno import DNA, Space
from automorph.symbolic import from_json, sym_eq
from automorph.testing import BitString, contract_spaces
from automorph.utils import AutomorphError, FieldValueError

SPACES = contract_spaces()
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)


def ctx(spec: Space | None = None, seed: int = 0) -> OperatorContext:
    return OperatorContext(spec if spec is not None else Space(), np.random.default_rng(seed))


def population(rewards: list[Any]) -> list[Individual]:
    return [Individual(DNA({"x": i}), r, birth=i) for i, r in enumerate(rewards)]


def flat(n: int = 6, k: int = 3) -> Space:
    return am.dna_spec(am.List([am.oneof(list(range(k))) for _ in range(n)]))


# --- composition and serialization -----------------------------------------------


def test_rshift_flattens_into_one_pipeline() -> None:
    pipeline = alg.Sample(3) >> alg.Top(1) >> alg.Mutate()
    assert [type(op).__name__ for op in pipeline.operators] == ["Sample", "Top", "Mutate"]
    nested = (alg.Sample(3) >> alg.Top(1)) >> (alg.Mutate() >> alg.UniformCrossover())
    assert len(nested.operators) == 4


def test_rshift_copies_an_operator_that_already_has_a_parent() -> None:
    top = alg.Top(1)
    first = alg.Sample(2) >> top
    second = alg.Last(2) >> first.operators[1]
    assert first.operators[1].sym_parent is not None
    assert second.operators[1] is not first.operators[1]
    assert second.operators[1] == top


def test_rshift_refuses_a_non_operator() -> None:
    with pytest.raises(TypeError):
        alg.Top(1) >> 3  # type: ignore[operator]


def test_empty_pipeline_returns_its_input() -> None:
    members = population([1.0, 2.0])
    assert alg.Pipeline()(members, ctx()) == members


@pytest.mark.parametrize(
    "operator",
    [
        alg.Sample(3) >> alg.Top(1) >> alg.Mutate(rate=0.25, sigma=0.2),
        alg.Tournament(2, count=2) >> alg.PointCrossover(num_points=2),
        alg.Last(7),
        alg.UniformCrossover(),
    ],
)
def test_operators_survive_json(operator: alg.Operator) -> None:
    copy = from_json(operator.to_json())
    assert sym_eq(copy, operator)
    assert type(copy) is type(operator)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: alg.Sample(0), "out of bounds"),
        (lambda: alg.Top(0), "out of bounds"),
        (lambda: alg.Tournament(2, count=0), "out of bounds"),
        (lambda: alg.Mutate(rate=1.5), "out of bounds"),
        (lambda: alg.Mutate(sigma=-0.1), "out of bounds"),
        (lambda: alg.PointCrossover(num_points=0), "out of bounds"),
    ],
)
def test_bad_fields_are_refused(make: Any, match: str) -> None:
    with pytest.raises(FieldValueError, match=match):
        make()


# --- selectors ---------------------------------------------------------------------


def test_sample_draws_distinct_individuals() -> None:
    members = population([float(i) for i in range(10)])
    for seed in range(20):
        picked = alg.Sample(4)(members, ctx(seed=seed))
        assert len({id(x) for x in picked}) == 4


def test_sample_takes_everyone_when_the_population_is_small() -> None:
    members = population([1.0, 2.0])
    assert sorted(x.birth for x in alg.Sample(5)(members, ctx())) == [0, 1]
    assert alg.Sample(5)([], ctx()) == []


def test_sample_is_uniform_enough() -> None:
    members = population([float(i) for i in range(4)])
    rng_ctx = ctx(seed=3)
    counts = np.zeros(4)
    for _ in range(2000):
        counts[alg.Sample(1)(members, rng_ctx)[0].birth] += 1
    assert counts.min() > 400


def test_top_picks_the_best_first() -> None:
    members = population([3.0, 9.0, 1.0, 7.0])
    assert [x.reward for x in alg.Top(3)(members, ctx())] == [9.0, 7.0, 3.0]
    assert len(alg.Top(10)(members, ctx())) == 4


def test_top_breaks_ties_for_the_newer_individual() -> None:
    members = population([5.0, 5.0, 1.0])
    assert alg.Top(1)(members, ctx())[0].birth == 1


def test_top_refuses_unevaluated_individuals() -> None:
    members = [Individual(DNA({"x": 0}))]
    with pytest.raises(AutomorphError, match="no reward yet"):
        alg.Top(1)(members, ctx())


def test_top_refuses_mixed_rewards() -> None:
    with pytest.raises(AutomorphError, match="mixes float and tuple"):
        alg.Top(1)(population([1.0, (1.0, 2.0)]), ctx())


def test_last_keeps_the_newest_oldest_first() -> None:
    members = population([1.0] * 6)
    shuffled = [members[i] for i in (4, 0, 5, 2, 1, 3)]
    assert [x.birth for x in alg.Last(3)(shuffled, ctx())] == [3, 4, 5]
    assert [x.birth for x in alg.Last(9)(shuffled, ctx())] == [0, 1, 2, 3, 4, 5]


def test_tournament_of_everyone_picks_the_best() -> None:
    members = population([3.0, 9.0, 1.0, 7.0])
    winners = alg.Tournament(4, count=3)(members, ctx())
    assert [x.reward for x in winners] == [9.0, 9.0, 9.0]


def test_tournament_never_crowns_the_worst() -> None:
    members = population([float(i) for i in range(6)])
    winners = alg.Tournament(2, count=500)(members, ctx(seed=1))
    rewards = [x.reward for x in winners]
    assert 0.0 not in rewards
    assert rewards.count(5.0) > rewards.count(1.0)  # better individuals win more often
    assert alg.Tournament(2)([], ctx()) == []


# --- Pareto ranking --------------------------------------------------------------

# Known fronts (maximization): A, B, C are not dominated; D is dominated by B
# only; E by D; F (equal to C) shares C's front; G is dominated by C.
PARETO = {
    "A": (5.0, 1.0),
    "B": (4.0, 4.0),
    "C": (1.0, 5.0),
    "D": (3.0, 3.0),
    "E": (2.0, 2.0),
    "F": (1.0, 5.0),
    "G": (0.0, 5.0),
}


def test_non_dominated_sort_finds_the_known_fronts() -> None:
    names = list(PARETO)
    fronts = alg.non_dominated_sort(list(PARETO.values()))
    assert [[names[i] for i in front] for front in fronts] == [
        ["A", "B", "C", "F"],
        ["D", "G"],
        ["E"],
    ]
    assert alg.non_dominated_sort([]) == []


def test_crowding_distance_of_a_hand_computed_front() -> None:
    # Objective ranges are 4 and 4: B's neighbours span 4 in each, so 1 + 1.
    assert alg.crowding_distance([(5, 1), (4, 4), (1, 5)]) == [math.inf, 2.0, math.inf]
    assert alg.crowding_distance([(0, 4), (1, 2), (2, 1), (4, 0)]) == [
        math.inf,
        1.25,
        1.25,
        math.inf,
    ]
    assert alg.crowding_distance([(1, 1)] * 3) == [math.inf, 0.0, math.inf]
    assert alg.crowding_distance([]) == []


def test_pareto_helpers_refuse_ragged_rewards() -> None:
    with pytest.raises(AutomorphError, match="same number of objectives"):
        alg.non_dominated_sort([(1.0, 2.0), (1.0,)])


def test_top_ranks_by_front_then_crowding() -> None:
    members = population(list(PARETO.values()))
    names = list(PARETO)
    # The first front has four members: the ends (A and C/F) are infinitely
    # crowded; B is the interior point; F is newer than C, which it equals.
    best = [names[x.birth] for x in alg.Top(5)(members, ctx())]
    assert set(best[:4]) == {"A", "B", "C", "F"}
    assert best[4] in {"D", "G"}
    two = {names[x.birth] for x in alg.Top(2)(members, ctx())}
    assert "B" not in two  # the interior point of the front goes first


def test_tournament_compares_fronts_for_tuple_rewards() -> None:
    members = population([(1.0, 1.0), (2.0, 2.0)])
    assert alg.Tournament(2)(members, ctx())[0].reward == (2.0, 2.0)


# --- mutation ------------------------------------------------------------------------


def changed(a: DNA, b: DNA) -> set[str]:
    return {k for k in set(a) | set(b) if a.get(k) != b.get(k)}


def test_mutation_changes_exactly_one_decision() -> None:
    spec = flat(n=10)
    rng = np.random.default_rng(0)
    for _ in range(100):
        parent = spec.random_dna(rng)
        child = alg.Mutate().mutate(parent, spec, rng)
        assert len(changed(parent, child)) == 1
        spec.validate(child)


def test_mutation_rate_mutates_each_decision_independently() -> None:
    spec = flat(n=40)
    rng = np.random.default_rng(0)
    parent = spec.random_dna(rng)
    assert len(changed(parent, alg.Mutate(rate=1.0).mutate(parent, spec, rng))) == 40
    counts = [
        len(changed(parent, alg.Mutate(rate=0.25).mutate(parent, spec, rng))) for _ in range(50)
    ]
    assert 7 < np.mean(counts) < 13
    # A tiny rate still mutates one decision.
    assert len(changed(parent, alg.Mutate(rate=0.0).mutate(parent, spec, rng))) == 1


def test_mutation_is_deterministic_per_generator() -> None:
    spec = SPACES["conditional"]
    parent = spec.random_dna(np.random.default_rng(5))
    a = alg.Mutate(rate=0.5).mutate(parent, spec, np.random.default_rng(9))
    b = alg.Mutate(rate=0.5).mutate(parent, spec, np.random.default_rng(9))
    assert a == b


@pytest.mark.parametrize("name", list(SPACES))
@pytest.mark.parametrize("rate", [None, 0.5])
@PROPERTY
@given(seed=st.integers(0, 2**32 - 1))
def test_mutation_keeps_dna_valid(name: str, rate: float | None, seed: int) -> None:
    spec = SPACES[name]
    rng = np.random.default_rng(seed)
    parent = spec.random_dna(rng)
    child = alg.Mutate(rate=rate).mutate(parent, spec, rng)
    spec.validate(child)


def test_mutation_steps_floats_locally() -> None:
    spec = am.dna_spec(am.Dict(x=am.floatv(0.0, 1.0)))
    rng = np.random.default_rng(0)
    parent = DNA({"x": 0.5})
    steps = np.array([alg.Mutate().mutate(parent, spec, rng)["x"] - 0.5 for _ in range(500)])
    assert 0.08 < steps.std() < 0.12
    wide = [alg.Mutate(sigma=5.0).mutate(parent, spec, rng)["x"] for _ in range(100)]
    assert set(wide) >= {0.0, 1.0}  # clipped to the bounds
    assert all(0.0 <= x <= 1.0 for x in wide)


def test_mutation_steps_log_floats_in_log_space() -> None:
    spec = am.dna_spec(am.Dict(x=am.floatv(1e-4, 1.0, scale="log")))
    rng = np.random.default_rng(0)
    parent = DNA({"x": 1e-2})
    children = [alg.Mutate().mutate(parent, spec, rng)["x"] for _ in range(500)]
    log_steps = np.log(children) - math.log(1e-2)
    assert 0.1 * math.log(1e4) * 0.8 < log_steps.std() < 0.1 * math.log(1e4) * 1.2
    assert all(1e-4 <= x <= 1.0 for x in children)


def test_mutation_moves_ints_to_another_value() -> None:
    spec = am.dna_spec(am.Dict(n=am.intv(0, 3)))
    rng = np.random.default_rng(0)
    values = {alg.Mutate().mutate(DNA({"n": 2}), spec, rng)["n"] for _ in range(100)}
    assert values == {0, 1, 3}


def test_mutating_a_choice_draws_the_new_candidates_subdecisions() -> None:
    spec = SPACES["conditional"]
    rng = np.random.default_rng(0)
    parent = DNA({"block": 1, "rate": 0.1})  # the "pool" candidate has no sub-decision
    seen = set()
    for _ in range(100):
        child = alg.Mutate().mutate(parent, spec, rng)
        spec.validate(child)
        if child["block"] != 1:
            seen.add(child["block"])
            assert child["rate"] == 0.1
            assert any(k.startswith(f"block[={child['block']}]") for k in child)
    assert seen == {0, 2}


def test_mutating_a_sorted_distinct_multi_pick_replaces_one_candidate() -> None:
    spec = am.dna_spec(am.Dict(ops=am.manyof(3, list("abcde"), distinct=True, sorted=True)))
    rng = np.random.default_rng(0)
    parent = DNA({"ops[0]": 0, "ops[1]": 2, "ops[2]": 4})
    for _ in range(50):
        child = alg.Mutate().mutate(parent, spec, rng)
        spec.validate(child)
        old, new = set(parent.values()), set(child.values())
        assert len(old - new) == 1
        assert len(new - old) == 1


def test_mutating_a_distinct_multi_pick_swaps_when_needed() -> None:
    spec = am.dna_spec(am.Dict(ops=am.manyof(2, list("abc"), distinct=True)))
    rng = np.random.default_rng(0)
    parent = DNA({"ops[0]": 0, "ops[1]": 1})
    children = {alg.Mutate().mutate(parent, spec, rng) for _ in range(100)}
    for child in children:
        spec.validate(child)
    assert DNA({"ops[0]": 1, "ops[1]": 0}) in children  # a swap
    assert DNA({"ops[0]": 2, "ops[1]": 1}) in children  # a free candidate


def test_mutation_leaves_a_full_sorted_multi_pick_alone() -> None:
    spec = am.dna_spec(
        am.Dict(ops=am.manyof(3, list("abc"), distinct=True, sorted=True), n=am.intv(0, 9))
    )
    rng = np.random.default_rng(0)
    parent = DNA({"ops[0]": 0, "ops[1]": 1, "ops[2]": 2, "n": 4})
    for _ in range(20):
        assert changed(parent, alg.Mutate().mutate(parent, spec, rng)) == {"n"}


def test_mutation_returns_the_parent_when_nothing_can_change() -> None:
    spec = am.dna_spec(am.Dict(a=am.oneof(["only"]), n=am.intv(3, 3)))
    parent = DNA({"a": 0, "n": 3})
    assert alg.Mutate().mutate(parent, spec, np.random.default_rng(0)) is parent


def test_mutation_of_a_custom_decision_calls_its_hook() -> None:
    spec = am.dna_spec(am.Dict(bits=am.custom(BitString(length=6))))
    rng = np.random.default_rng(0)
    parent = DNA({"bits": (0, 0, 0, 0, 0, 0)})
    for _ in range(20):
        child = alg.Mutate().mutate(parent, spec, rng)
        assert sum(child["bits"]) == 1  # BitString.mutate flips exactly one bit


def test_mutate_operator_makes_unevaluated_children() -> None:
    spec = flat()
    members = [
        Individual(spec.random_dna(np.random.default_rng(i)), 1.0, birth=i) for i in range(3)
    ]
    children = alg.Mutate()(members, ctx(spec))
    assert len(children) == 3
    assert all(c.reward is None and c.birth == -1 for c in children)
    assert all(len(changed(p.dna, c.dna)) == 1 for p, c in zip(members, children, strict=True))


# --- crossover -----------------------------------------------------------------------


def from_a_parent(child: DNA, a: DNA, b: DNA, sorted_picks: str = "") -> bool:
    """Whether each decision of `child` that a parent has is that parent's; the
    picks of a sorted multi-pick `sorted_picks` (sorted after crossing) only
    need to be picks of a parent."""
    for k in child:
        if sorted_picks and k.startswith(f"{sorted_picks}["):
            union = {
                v for p in (a, b) for key, v in p.items() if key.startswith(f"{sorted_picks}[")
            }
            if child[k] not in union:
                return False
        elif (k in a or k in b) and not (
            (k in a and child[k] == a[k]) or (k in b and child[k] == b[k])
        ):
            return False
    return True


@pytest.mark.parametrize("crossover", [alg.UniformCrossover(), alg.PointCrossover(num_points=2)])
@pytest.mark.parametrize("name", ["choices", "conditional", "numeric", "multi_pick"])
@PROPERTY
@given(seed=st.integers(0, 2**32 - 1))
def test_crossover_takes_each_decision_from_a_parent(
    crossover: alg.Recombinator, name: str, seed: int
) -> None:
    spec = SPACES[name]
    rng = np.random.default_rng(seed)
    a, b = spec.random_dna(rng), spec.random_dna(rng)
    child = crossover.recombine(a, b, spec, rng)
    spec.validate(child)
    assert from_a_parent(child, a, b, sorted_picks="ops" if name == "multi_pick" else "")


def test_uniform_crossover_mixes_both_parents() -> None:
    spec = flat(n=20, k=2)
    a, b = spec.dna_from_numbers([0] * 20), spec.dna_from_numbers([1] * 20)
    rng = np.random.default_rng(0)
    shares = [
        sum(alg.UniformCrossover().recombine(a, b, spec, rng).to_numbers()) for _ in range(50)
    ]
    assert 8 < np.mean(shares) < 12
    assert min(shares) < max(shares)


@pytest.mark.parametrize("num_points", [1, 2, 3])
def test_point_crossover_alternates_at_the_cuts(num_points: int) -> None:
    spec = flat(n=10, k=2)
    a, b = spec.dna_from_numbers([0] * 10), spec.dna_from_numbers([1] * 10)
    rng = np.random.default_rng(num_points)
    for _ in range(20):
        numbers = alg.PointCrossover(num_points).recombine(a, b, spec, rng).to_numbers()
        switches = sum(x != y for x, y in itertools.pairwise(numbers))
        assert numbers[0] == 0
        assert switches == num_points


def test_point_crossover_of_a_single_decision_keeps_the_first_parent() -> None:
    spec = flat(n=1, k=3)
    a, b = DNA({"[0]": 0}), DNA({"[0]": 2})
    assert alg.PointCrossover().recombine(a, b, spec, np.random.default_rng(0)) == a


def test_crossover_follows_the_parent_whose_candidate_it_took() -> None:
    spec = SPACES["conditional"]
    a = DNA({"block": 0, "block[=0].width": 3, "rate": 0.5})
    b = DNA({"block": 2, "block[=2].depth": 1, "block[=2].scale": 0.25, "rate": 0.01})
    rng = np.random.default_rng(0)
    kinds = set()
    for _ in range(40):
        child = alg.UniformCrossover().recombine(a, b, spec, rng)
        kinds.add(child["block"])
        expected = a if child["block"] == 0 else b
        assert {k: v for k, v in child.items() if k.startswith("block")} == {
            k: v for k, v in expected.items() if k.startswith("block")
        }
    assert kinds == {0, 2}


def test_crossover_of_custom_decisions_calls_the_hook() -> None:
    spec = am.dna_spec(am.Dict(bits=am.custom(BitString(length=6))))
    a, b = DNA({"bits": (0,) * 6}), DNA({"bits": (1,) * 6})
    rng = np.random.default_rng(0)
    for crossover in (alg.UniformCrossover(), alg.PointCrossover()):
        for _ in range(10):
            bits = crossover.recombine(a, b, spec, rng)["bits"]
            assert bits not in (a["bits"], b["bits"])  # BitString.crossover cuts inside
            assert set(bits) == {0, 1}


def test_crossover_keeps_distinct_picks_from_the_parents() -> None:
    spec = am.dna_spec(am.Dict(ops=am.manyof(3, list("abcdef"), distinct=True)))
    a = DNA({"ops[0]": 0, "ops[1]": 1, "ops[2]": 2})
    b = DNA({"ops[0]": 1, "ops[1]": 0, "ops[2]": 3})
    rng = np.random.default_rng(0)
    for _ in range(50):
        child = alg.UniformCrossover().recombine(a, b, spec, rng)
        spec.validate(child)
        assert set(child.values()) <= {0, 1, 2, 3}


def test_recombinator_pairs_its_parents() -> None:
    spec = flat()
    rng = np.random.default_rng(0)
    members = [Individual(spec.random_dna(rng), 1.0, birth=i) for i in range(5)]
    children = alg.UniformCrossover()(members, ctx(spec))
    assert len(children) == 3
    assert all(c.reward is None and c.birth == -1 for c in children)
    assert from_a_parent(children[0].dna, members[0].dna, members[1].dna)
    assert from_a_parent(children[1].dna, members[2].dna, members[3].dna)
    assert children[2].dna == members[4].dna  # the odd parent is copied


def test_a_selector_after_a_mutator_explains_itself() -> None:
    spec = flat()
    members = [Individual(spec.random_dna(np.random.default_rng(0)), 1.0, birth=0)]
    with pytest.raises(AutomorphError, match="selector placed after a mutator"):
        (alg.Mutate() >> alg.Top(1))(members, ctx(spec))


class Incomplete(alg.Operator, type_name="tests.algorithms.Incomplete"):
    """An operator that forgot `__call__`."""


class IncompleteCrossover(alg.Recombinator, type_name="tests.algorithms.IncompleteCrossover"):
    """A recombinator that forgot `recombine`."""


def test_unfinished_subclasses_say_what_to_implement() -> None:
    with pytest.raises(NotImplementedError, match="Incomplete must implement `__call__`"):
        Incomplete()(population([1.0]), ctx())
    spec = flat()
    members = [
        Individual(spec.random_dna(np.random.default_rng(i)), 1.0, birth=i) for i in range(2)
    ]
    with pytest.raises(NotImplementedError, match="must implement `recombine`"):
        IncompleteCrossover()(members, ctx(spec))
