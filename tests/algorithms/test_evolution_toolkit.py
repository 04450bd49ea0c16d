"""Tests of the evolution toolkit beyond `>>`: selectors with fractional and
scheduled sizes, the operator algebra, multi-parent and permutation
crossovers, uniform float mutation and multi-pick neighbours (issue 20)."""

from __future__ import annotations

import math
from collections.abc import Callable
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
from automorph.testing import check_algorithm, contract_spaces
from automorph.utils import AutomorphError, FieldTypeError, FieldValueError

PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)


def ctx(spec: Space | None = None, seed: int = 0, step: int = 0) -> OperatorContext:
    return OperatorContext(spec if spec is not None else Space(), np.random.default_rng(seed), step)


def population(rewards: list[Any]) -> list[Individual]:
    return [Individual(DNA({"x": i}), r, birth=i) for i, r in enumerate(rewards)]


def births(operator: alg.Operator, members: list[Individual], **kw: Any) -> list[int]:
    return [x.birth for x in operator(members, ctx(**kw))]


SIX = population([float(i) for i in range(6)])


# --- selectors ------------------------------------------------------------------------


def test_first_and_bottom() -> None:
    members = population([3.0, 9.0, 1.0, 7.0])
    assert births(alg.First(2), members) == [0, 1]
    assert [x.reward for x in alg.Bottom(3)(members, ctx())] == [1.0, 3.0, 7.0]
    assert births(alg.First(9), members) == [0, 1, 2, 3]


def test_sizes_as_fractions_of_the_population() -> None:
    # ceil(fraction * len), as PyGlove's selectors count (probed: First(0.5) of 6 -> 3,
    # First(0.1) -> 1, Last(0.34) -> 3).
    assert births(alg.First(0.5), SIX) == [0, 1, 2]
    assert births(alg.First(0.1), SIX) == [0]
    assert births(alg.Last(0.34), SIX) == [3, 4, 5]
    assert births(alg.Top(1.0), SIX) == [5, 4, 3, 2, 1, 0]
    assert len(alg.Sample(0.5)(SIX, ctx())) == 3
    assert len(alg.Tournament(0.5, count=0.5)(SIX, ctx())) == 3


def test_sizes_as_schedules_of_the_step() -> None:
    top = alg.Top(alg.StepWise([(2, 3), (2, 2)], default=1))
    assert [len(top(SIX, ctx(step=s))) for s in range(6)] == [3, 3, 2, 2, 1, 1]
    shrinking = alg.First(alg.Linear(6, 2, num_steps=4, integer=True))
    assert [len(shrinking(SIX, ctx(step=s))) for s in (0, 2, 4, 8)] == [6, 4, 2, 2]
    fraction = alg.Last(alg.StepWise([(1, 0.5)], default=1.0))
    assert births(fraction, SIX, step=0) == [3, 4, 5]
    assert len(fraction(SIX, ctx(step=1))) == 6
    assert births(alg.First(lambda step: step), SIX, step=2) == [0, 1]  # a plain callable


def test_a_schedule_with_a_bad_value_explains_itself() -> None:
    with pytest.raises(AutomorphError, match=r"returned 2\.5 at step 0.*integer=True"):
        alg.Top(alg.Linear(2.5, 1.0, num_steps=3))(SIX, ctx())


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: alg.First(0), "out of bounds"),
        (lambda: alg.Bottom(0.0), "out of bounds"),
        (lambda: alg.Top(1.5), "out of bounds"),
        (lambda: alg.Proportional(2, temperature=0.0), "must be positive"),
        (lambda: alg.Proportional(2, mode="roulette"), "expected one of"),
        (lambda: alg.StepWise([]), "at least one"),
    ],
)
def test_bad_sizes_are_refused(make: Callable[[], Any], match: str) -> None:
    with pytest.raises(FieldValueError, match=match):
        make()


def test_proportional_draws_in_proportion_to_the_rewards() -> None:
    members = population([0.0, 1.0, 3.0])
    picks = alg.Proportional(4000)(members, ctx(seed=1))
    counts = np.bincount([x.birth for x in picks], minlength=3)
    assert counts[0] == 0
    assert 2.6 < counts[2] / counts[1] < 3.4
    again = alg.Proportional(50)(members, ctx(seed=1))
    assert [x.birth for x in again] == [x.birth for x in alg.Proportional(50)(members, ctx(seed=1))]


def test_proportional_with_a_temperature_takes_negative_rewards() -> None:
    members = population([-5.0, 0.0, -100.0])
    picks = alg.Proportional(2000, temperature=2.0)(members, ctx(seed=2))
    counts = np.bincount([x.birth for x in picks], minlength=3)
    expected = math.exp(2.5)  # softmax ratio of the rewards 0 and -5 at temperature 2
    assert 0.8 * expected < counts[1] / counts[0] < 1.2 * expected
    assert counts[2] == 0


def test_proportional_allocation_matches_pyglove() -> None:
    # Probed with pg.evolution.selectors.Proportional on DNA(0..5).
    cases = [
        (5, [1, 2, 0, 3, 0, 4], [1, 3, 3, 5, 5]),
        (4, [1, 1, 1, 1, 1, 1], [2, 3, 4, 5]),
        (7, [5, 1, 1, 0, 0, 0], [0, 0, 0, 0, 0, 1, 2]),
        (0.5, [1, 1, 1, 1, 1, 1], [3, 4, 5]),
    ]
    for k, weights, expected in cases:
        selector = alg.Proportional(k, weights=lambda xs, w=weights: w, mode="allocate")
        assert births(selector, SIX) == expected


@pytest.mark.parametrize(
    ("rewards", "match"),
    [
        ([1.0, -1.0], "non-negative weights"),
        ([0.0, 0.0], "non-negative weights"),
        ([(1.0, 2.0), (2.0, 1.0)], "must be one float"),
    ],
)
def test_proportional_refuses_weights_it_cannot_use(rewards: list[Any], match: str) -> None:
    with pytest.raises(AutomorphError, match=match):
        alg.Proportional(2)(population(rewards), ctx())


def test_proportional_refuses_weights_of_the_wrong_shape() -> None:
    with pytest.raises(AutomorphError, match=r"one finite weight per individual \(2\)"):
        alg.Proportional(2, weights=lambda xs: [1.0])(population([1.0, 2.0]), ctx())
    with pytest.raises(AutomorphError, match="one finite weight"):
        alg.Proportional(2, weights=lambda xs: [1.0, math.nan])(population([1.0, 2.0]), ctx())


# --- the operator algebra (each expectation probed with PyGlove 0.4.5) -----------------


def test_concatenation_repeat_and_power() -> None:
    assert births(alg.First(2) + alg.Last(2), SIX) == [0, 1, 4, 5]
    assert births(alg.First(1) * 3, SIX) == [0, 0, 0]
    assert births(alg.Identity()[1:] ** 2, SIX) == [2, 3, 4, 5]
    assert births(alg.Identity()[1:] ** 0, SIX) == [0, 1, 2, 3, 4, 5]
    scheduled = alg.First(1) * alg.StepWise([(1, 1)], default=2)
    assert births(scheduled, SIX, step=0) == [0]
    assert births(scheduled, SIX, step=5) == [0, 0]


def test_union_and_intersection_compare_by_identity() -> None:
    assert births(alg.First(3) | alg.Last(4), SIX) == [0, 1, 2, 3, 4, 5]
    assert births(alg.First(1) * 2 | alg.First(1), SIX) == [0]  # repeats removed
    assert births(alg.First(4) & alg.Last(4), SIX) == [2, 3]
    assert births(alg.Last(4) & alg.First(4), SIX) == [2, 3]
    assert births((alg.Identity()[2] * 2) & alg.First(4), SIX) == [2, 2]  # first's repeats kept
    # Two children with equal DNA are two individuals: a union keeps both.
    spec = am.dna_spec(am.Dict(x=am.oneof([0, 1])))
    members = [Individual(DNA({"x": 0}), 1.0, birth=0)]
    union = alg.Mutate() | alg.Mutate()
    children = union(members, ctx(spec))
    assert len(children) == 2 and children[0].dna == children[1].dna


def test_difference_and_symmetric_difference() -> None:
    assert births(alg.Identity() - alg.First(2), SIX) == [2, 3, 4, 5]
    assert births(alg.Identity() - alg.Bottom(1), SIX) == [1, 2, 3, 4, 5]
    assert births(alg.Identity() - alg.First(1) - alg.Last(1), SIX) == [1, 2, 3, 4]
    assert births(alg.First(3) ^ alg.Last(4), SIX) == [0, 1, 3, 4, 5]


def test_a_repeat_schedule_with_a_bad_value_explains_itself() -> None:
    with pytest.raises(AutomorphError, match=r"Power: the schedule of `k` returned 1\.5 at step 0"):
        (alg.Identity() ** alg.Linear(1.5, 2.0, num_steps=2))(SIX, ctx())
    with pytest.raises(AutomorphError, match=r"Repeat: .*returned -1"):
        (alg.Identity() * (lambda step: -1))(SIX, ctx())


class Incomplete(alg.Schedule, type_name="tests.algorithms.IncompleteSchedule"):
    """A schedule that forgot `__call__`."""


class IncompleteCondition(alg.Condition, type_name="tests.algorithms.IncompleteCondition"):
    """A condition that forgot `__call__`."""


class IncompletePermutation(
    alg.PermutationCrossover, type_name="tests.algorithms.IncompletePermutation"
):
    """A permutation crossover that forgot `permute`."""


def test_unfinished_subclasses_say_what_to_implement() -> None:
    with pytest.raises(NotImplementedError, match="Incomplete must implement `__call__`"):
        alg.Top(Incomplete())(SIX, ctx())
    with pytest.raises(NotImplementedError, match="IncompleteCondition must implement"):
        alg.Top(1).if_true(IncompleteCondition())(SIX, ctx())
    spec = am.dna_spec(am.Dict(p=am.permutate([0, 1, 2])))
    a = DNA({"p[0]": 0, "p[1]": 1, "p[2]": 2})
    with pytest.raises(NotImplementedError, match="must implement `permute`"):
        IncompletePermutation().recombine(a, a, spec, np.random.default_rng(0))


def test_slicing() -> None:
    identity = alg.Identity()
    assert births(identity[1:4], SIX) == [1, 2, 3]
    assert births(identity[2], SIX) == [2]
    assert births(identity[-1], SIX) == [5]
    assert births(identity[::2], SIX) == [0, 2, 4]
    assert births(identity[9], SIX) == []
    with pytest.raises(FieldTypeError, match="sliced by an int or a slice"):
        identity["x"]  # type: ignore[index]


def test_conditional_application() -> None:
    top = alg.Top(2)
    assert births(top.if_true(lambda xs: len(xs) > 3), SIX) == [5, 4]
    assert births(top.if_true(lambda xs: len(xs) > 10), SIX) == [0, 1, 2, 3, 4, 5]
    assert births(top.if_true(lambda xs, step: step > 3), SIX, step=5) == [5, 4]
    assert births(top.if_false(lambda xs, step: step > 3), SIX, step=5) == [0, 1, 2, 3, 4, 5]
    every = top.if_true(alg.Every(2))
    assert [len(every(SIX, ctx(step=s))) for s in range(4)] == [2, 6, 2, 6]
    assert len(top.if_true(alg.PopulationSize(at_least=7))(SIX, ctx())) == 6
    both = alg.Conditional(alg.StepRange(stop=2), true_op=alg.First(1), false_op=alg.Last(1))
    assert births(both, SIX, step=1) == [0]
    assert births(both, SIX, step=2) == [5]


def test_choice_applies_operators_with_their_probabilities() -> None:
    # Probed with pg.evolution.Choice: certain operators run in a row, `limit` stops early.
    chain = alg.Choice([(alg.First(4), 1.0), (alg.Last(2), 1.0), (alg.First(1), 1.0)], limit=2)
    assert births(chain, SIX) == [2, 3]
    assert births(alg.Choice([(alg.First(4), 0.0), (alg.Last(2), 1.0)]), SIX) == [4, 5]
    assert births(alg.First(2).with_prob(1.0), SIX) == [0, 1]
    assert births(alg.First(2).with_prob(0.0), SIX) == [0, 1, 2, 3, 4, 5]
    rng_ctx = ctx(seed=4)
    maybe = alg.First(1).with_prob(alg.StepWise([(1, 0.3)]))
    applied = sum(len(maybe(SIX, rng_ctx)) == 1 for _ in range(1000))
    assert 250 < applied < 350
    assert [len(maybe(SIX, ctx(seed=s))) for s in range(20)] == [
        len(maybe(SIX, ctx(seed=s))) for s in range(20)
    ]


def test_evolution_passes_the_step_to_its_operators() -> None:
    spec = am.dna_spec(am.Dict(x=am.oneof(list(range(10)))))
    seen: list[tuple[str, int]] = []

    class Spy(alg.Operator, type_name="tests.algorithms.Spy"):
        what: str

        def __call__(self, population: list[Individual], c: OperatorContext) -> list[Individual]:
            seen.append((self.what, c.step))
            return population

    search = alg.Evolution(
        Spy("reproduce") >> alg.Top(1) >> alg.Mutate(),
        population_update=Spy("update"),
        population_init_size=2,
        seed=0,
    )
    search.setup(spec)
    for _ in range(4):
        dna = search.propose()
        search.feedback(dna, float(dna["x"]))
    assert seen == [
        ("update", 0),
        ("update", 1),
        ("reproduce", 2),
        ("update", 2),
        ("reproduce", 3),
        ("update", 3),
    ]


def test_compositions_flatten_as_documented() -> None:
    a, b, c = alg.First(1), alg.Last(1), alg.Top(1)
    assert len((a + b + c).operators) == 3
    assert len(((a | b) | (c | a)).operators) == 4
    assert len((a & b & c).operators) == 3
    assert len((a - b - c).operators) == 3
    assert len((a - (b - c)).operators) == 2
    assert len(((a ^ b) ^ c).operators) == 2


def test_composing_with_a_non_operator_is_refused() -> None:
    for compose in (
        lambda: alg.Top(1) + 3,
        lambda: alg.Top(1) | 3,
        lambda: alg.Top(1) & 3,
        lambda: alg.Top(1) - 3,
        lambda: alg.Top(1) ^ 3,
    ):
        with pytest.raises(TypeError):
            compose()


COMPOSITES = [
    (alg.Tournament(0.5) + alg.Proportional(2, temperature=1.0)) >> alg.Mutate(),
    (alg.First(alg.StepWise([(10, 2)], default=1)) | alg.Top(0.25)) & alg.Last(5),
    (alg.Identity() - alg.Bottom(alg.Linear(1, 3, num_steps=5, integer=True)))[1:3],
    ((alg.Top(1) >> alg.Mutate(float_step="uniform")) * 2) ** alg.StepWise([(3, 1)]),
    alg.Top(1).if_true(alg.Every(3, offset=1)) ^ alg.Last(2).if_false(alg.PopulationSize(4, 9)),
    alg.Sample(4) >> alg.UniformCrossover(num_parents=None) >> alg.Swap(),
    alg.Tournament(2, count=2) >> alg.OrderCrossover() >> alg.CycleCrossover(),
    alg.Choice([(alg.Mutate(), 0.5), (alg.Swap(), alg.Linear(0.0, 1.0, 10))], limit=1),
]


@pytest.mark.parametrize("operator", COMPOSITES, ids=range(len(COMPOSITES)))
def test_new_operators_survive_json_and_print(operator: alg.Operator) -> None:
    copy = from_json(operator.to_json())
    assert sym_eq(copy, operator)
    assert repr(copy) == repr(operator)
    assert type(operator).__name__ in repr(operator)


# --- multi-parent uniform crossover -------------------------------------------------------


def test_multi_parent_uniform_crossover_draws_each_decision_from_any_parent() -> None:
    spec = am.dna_spec(am.List([am.oneof(list(range(4))) for _ in range(40)]))
    parents = [spec.dna_from_numbers([v] * 40) for v in range(4)]
    rng = np.random.default_rng(0)
    counts = np.zeros(4)
    for _ in range(20):
        child = alg.UniformCrossover(num_parents=4).recombine_all(parents, spec, rng)
        counts += np.bincount(child.to_numbers(), minlength=4)
    assert counts.min() > 150  # each of the four parents gives about 200 of 800


def test_multi_parent_uniform_crossover_groups_its_parents() -> None:
    spec = am.dna_spec(am.List([am.oneof(list(range(7))) for _ in range(5)]))
    members = [Individual(spec.dna_from_numbers([i] * 5), 1.0, birth=i) for i in range(7)]
    children = alg.UniformCrossover(num_parents=3)(members, ctx(spec))
    assert len(children) == 3
    assert set(children[0].dna.to_numbers()) <= {0, 1, 2}
    assert set(children[1].dna.to_numbers()) <= {3, 4, 5}
    assert children[2].dna == members[6].dna  # a parent left alone is copied
    everyone = alg.UniformCrossover(num_parents=None)(members, ctx(spec))
    assert len(everyone) == 1


@pytest.mark.parametrize("name", list(contract_spaces()))
@PROPERTY
@given(seed=st.integers(0, 2**32 - 1))
def test_multi_parent_children_are_valid(name: str, seed: int) -> None:
    spec = contract_spaces()[name]
    rng = np.random.default_rng(seed)
    parents = [spec.random_dna(rng) for _ in range(3)]
    child = alg.UniformCrossover(num_parents=3).recombine_all(parents, spec, rng)
    spec.validate(child)
    # Sorted picks are re-sorted and custom decisions crossed by their hooks;
    # every other decision is one of the parents' values.
    mixed = {"multi_pick": "ops[", "custom": "bits"}.get(name)
    for key, value in child.items():
        having = [p[key] for p in parents if key in p]
        if having and not (mixed and key.startswith(mixed)):
            assert value in having


# --- permutation crossovers -------------------------------------------------------------

PERMUTATION_CROSSOVERS = [
    alg.PartiallyMappedCrossover(),
    alg.OrderCrossover(),
    alg.CycleCrossover(),
]


@pytest.mark.parametrize("crossover", PERMUTATION_CROSSOVERS)
@PROPERTY
@given(
    data=st.data(),
    n=st.integers(2, 12),
    seed=st.integers(0, 2**32 - 1),
)
def test_permutation_crossover_gives_a_permutation(
    crossover: alg.PermutationCrossover, data: st.DataObject, n: int, seed: int
) -> None:
    a = data.draw(st.permutations(list(range(n))))
    b = data.draw(st.permutations(list(range(n))))
    child = crossover.permute(list(a), list(b), np.random.default_rng(seed))
    assert sorted(child) == list(range(n))
    if isinstance(crossover, alg.CycleCrossover):
        assert all(c in (x, y) for c, x, y in zip(child, a, b, strict=True))


def test_pmx_and_ox_keep_a_segment_of_the_first_parent() -> None:
    a, b = list(range(8)), [7, 5, 3, 1, 6, 4, 2, 0]
    rng = np.random.default_rng(3)
    for crossover in (alg.PartiallyMappedCrossover(), alg.OrderCrossover()):
        for _ in range(30):
            child = crossover.permute(a, b, rng)
            same = [i for i in range(8) if child[i] == a[i]]
            assert same and child != b


@pytest.mark.parametrize("crossover", PERMUTATION_CROSSOVERS)
@PROPERTY
@given(seed=st.integers(0, 2**32 - 1))
def test_permutation_crossover_of_dna_carries_sub_decisions(
    crossover: alg.PermutationCrossover, seed: int
) -> None:
    spec = am.dna_spec(
        am.Dict(
            route=am.permutate(
                [am.Dict(w=am.intv(0, 9)), "b", am.Dict(v=am.floatv(0.0, 1.0)), "d"]
            ),
            rate=am.floatv(0.0, 1.0),
        )
    )
    rng = np.random.default_rng(seed)
    a, b = spec.random_dna(rng), spec.random_dna(rng)
    child = crossover.recombine(a, b, spec, rng)
    spec.validate(child)
    assert child["rate"] == a["rate"]

    def subs(dna: DNA) -> dict[str, Any]:
        return {k.split("]", 1)[1]: v for k, v in dna.items() if "[=" in k}

    assert subs(child) == subs(a)  # each candidate kept the first parent's sub-decisions


def test_permutation_crossover_leaves_other_spaces_to_the_first_parent() -> None:
    spec = contract_spaces()["choices"]
    rng = np.random.default_rng(0)
    a, b = spec.random_dna(rng), spec.random_dna(rng)
    assert alg.PartiallyMappedCrossover().recombine(a, b, spec, rng) == a


# --- mutation ---------------------------------------------------------------------------


def test_uniform_float_mutation_resamples_the_whole_range() -> None:
    spec = am.dna_spec(am.Dict(x=am.floatv(0.0, 1.0), y=am.floatv(1e-4, 1.0, scale="log")))
    rng = np.random.default_rng(0)
    parent = DNA({"x": 0.5, "y": 1e-2})
    uniform = alg.Mutate(rate=1.0, float_step="uniform")
    children = [uniform.mutate(parent, spec, rng) for _ in range(2000)]
    xs = np.array([c["x"] for c in children])
    logs = np.log10([c["y"] for c in children])
    assert abs(xs.std() - math.sqrt(1 / 12)) < 0.02  # uniform over [0, 1]
    assert xs.min() < 0.01 and xs.max() > 0.99
    assert abs(np.mean(logs) + 2.0) < 0.1 and logs.min() < -3.9 and logs.max() > -0.1
    gaussian = [alg.Mutate(rate=1.0).mutate(parent, spec, rng)["x"] for _ in range(500)]
    assert np.std(gaussian) < 0.12  # the default is still the local step


SUB = 2  # the candidate with a sub-decision


def neighbours(parent: list[tuple[int, Any]], n: int, distinct: bool, sort: bool) -> set[Any]:
    """One-step neighbours of a multi-pick value: one pick replaced by another
    candidate (a distinct unsorted collision swaps the two picks); each pick
    keeps its sub-decision; a new candidate `SUB` gets any of its sub-values."""
    out: set[Any] = set()
    for j in range(len(parent)):
        for candidate in range(n):
            if candidate == parent[j][0]:
                continue
            fresh = [(candidate, s) for s in range(3)] if candidate == SUB else [(candidate, None)]
            for new in fresh:
                picks = list(parent)
                held = [i for i, (c, _) in enumerate(picks) if c == candidate]
                if distinct and held:
                    if sort:
                        continue
                    picks[held[0]] = parent[j]
                    new = parent[held[0]]
                picks[j] = new
                if sort:
                    picks.sort(key=lambda pick: pick[0])
                out.add(tuple(picks))
    return out


@pytest.mark.parametrize(
    ("distinct", "sort", "start"),
    [
        (True, False, [2, 0, 1]),
        (True, True, [1, 2, 4]),
        (False, True, [1, 2, 2]),
        (False, False, [3, 2, 2]),
    ],
)
def test_mutation_reaches_every_one_step_neighbour_of_a_multi_pick(
    distinct: bool, sort: bool, start: list[int]
) -> None:
    candidates = ["a", "b", am.Dict(s=am.intv(0, 2)), "d", "e"]
    spec = am.dna_spec(am.Dict(ops=am.manyof(3, candidates, distinct=distinct, sorted=sort)))
    values: dict[str, Any] = {f"ops[{j}]": c for j, c in enumerate(start)}
    for j, c in enumerate(start):
        if c == SUB:
            values[f"ops[{j}][={SUB}].s"] = 1
    parent = DNA(values)
    spec.validate(parent)

    def picks(dna: DNA) -> tuple[tuple[int, Any], ...]:
        return tuple((dna[f"ops[{j}]"], dna.get(f"ops[{j}][={SUB}].s")) for j in range(3))

    start_picks = list(picks(parent))
    sub_changes = {
        tuple((c, s if i != j else v) for i, (c, s) in enumerate(start_picks))
        for j, (c, s) in enumerate(start_picks)
        if c == SUB
        for v in range(3)
        if v != s
    }
    expected = neighbours(start_picks, len(candidates), distinct, sort) | sub_changes
    rng = np.random.default_rng(0)
    seen = {picks(alg.Mutate().mutate(parent, spec, rng)) for _ in range(3000)}
    assert seen == expected


NESTED = am.dna_spec(
    am.Dict(
        b=am.oneof(
            [
                am.Dict(
                    p=am.permutate(
                        [am.Dict(w=am.intv(0, 5)), "x", am.Dict(z=am.permutate([1, 2, 3]))]
                    )
                ),
                "none",
            ]
        ),
        q=am.manyof(
            3,
            [
                am.Dict(s=am.floatv(0.0, 1.0)),
                "a",
                am.Dict(
                    t=am.manyof(2, [0, 1, am.Dict(u=am.intv(0, 3))], sorted=True, distinct=False)
                ),
                "c",
            ],
            sorted=True,
        ),
    )
)


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1))
def test_variation_of_nested_multi_picks_stays_valid(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b, c = (NESTED.random_dna(rng) for _ in range(3))
    for mutator in (alg.Mutate(), alg.Mutate(rate=0.5), alg.Mutate(rate=1.0), alg.Swap()):
        NESTED.validate(mutator.mutate(a, NESTED, rng))
    for crossover in PERMUTATION_CROSSOVERS:
        NESTED.validate(crossover.recombine(a, b, NESTED, rng))
    NESTED.validate(alg.UniformCrossover(num_parents=3).recombine_all([a, b, c], NESTED, rng))


def test_swap_exchanges_two_picks_with_their_sub_decisions() -> None:
    spec = am.dna_spec(
        am.Dict(p=am.manyof(3, [am.Dict(s=am.intv(0, 9)), "b", "c"], distinct=False))
    )
    parent = DNA({"p[0]": 0, "p[0][=0].s": 7, "p[1]": 1, "p[2]": 2})
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(100):
        child = alg.Swap().mutate(parent, spec, rng)
        spec.validate(child)
        seen.add(tuple(sorted(child.items())))
        assert sorted(child[f"p[{j}]"] for j in range(3)) == [0, 1, 2]
        assert [v for k, v in child.items() if k.endswith(".s")] == [7]
    assert len(seen) == 3  # the three swaps of three positions
    sorted_only = am.dna_spec(am.Dict(p=am.manyof(2, ["a", "b", "c"], sorted=True)))
    fixed = DNA({"p[0]": 0, "p[1]": 2})
    assert alg.Swap().mutate(fixed, sorted_only, rng) is fixed


# --- algorithms built from the new operators pass the contract ----------------------------

TOOLKIT_FACTORIES: dict[str, Callable[[int], alg.SearchAlgorithm]] = {
    "algebra": lambda seed: alg.Evolution(
        ((alg.Tournament(0.5) + alg.Proportional(2, temperature=1.0)) >> alg.Mutate()) * 2,
        population_update=(alg.Identity() - alg.Bottom(1)).if_true(alg.PopulationSize(at_least=6)),
        population_init_size=3,
        seed=seed,
    ),
    "multi_parent": lambda seed: alg.Evolution(
        alg.Sample(alg.StepWise([(8, 3)], default=4))
        >> alg.UniformCrossover(num_parents=None)
        >> alg.Mutate(float_step="uniform", rate=0.3),
        population_update=alg.Last(alg.Linear(4, 8, num_steps=20, integer=True)),
        population_init_size=4,
        seed=seed,
    ),
    "permutation": lambda seed: alg.Evolution(
        alg.Tournament(2, count=2)
        >> alg.PartiallyMappedCrossover()
        >> (alg.Swap() ** 2).with_prob(0.5),
        population_update=alg.Proportional(5, temperature=0.5) | alg.Top(1),
        population_init_size=4,
        seed=seed,
    ),
}


@pytest.mark.parametrize("name", list(TOOLKIT_FACTORIES))
def test_toolkit_algorithms_pass_the_contract(name: str) -> None:
    spaces = dict(contract_spaces())
    spaces["permutation"] = am.dna_spec(
        am.Dict(p=am.permutate([am.Dict(w=am.intv(0, 3)), "b", "c", "d"]), x=am.floatv(0.0, 1.0))
    )
    check_algorithm(TOOLKIT_FACTORIES[name], spaces)
