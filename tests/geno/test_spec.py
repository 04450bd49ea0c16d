"""Tests of the DNASpec (`am.DNASpec` = `automorph.geno.Space`): exact sizes,
enumeration order and float grids, random DNA, the `fill` hook, validation
errors that name the decision id, conversions from numbers and dicts, names,
ill-defined spaces and the JSON round trip.

Spaces here are built from the decision points themselves (no hyper-values),
as a search algorithm sees them."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import automorph as am
from automorph.geno import Choices, CustomDecisionPoint, CustomHooks, Float, Int, Space
from automorph.testing import BitString

# --- module-level hooks ------------------------------------------------------


class Opaque(CustomHooks):
    """Hooks with only `random`: an infinite custom decision that cannot be listed."""

    def random(self, rng: np.random.Generator) -> Any:
        return ("opaque", int(rng.integers(100)))


PULLED: list[int] = []


class Counted(CustomHooks):
    """A finite custom decision that records how many of its values were listed."""

    count: int = 1000

    def random(self, rng: np.random.Generator) -> Any:
        return int(rng.integers(self.count))

    def size(self) -> int | float:
        return self.count

    def values(self) -> Iterator[Any]:
        for value in range(self.count):
            PULLED.append(value)
            yield value


# --- helpers -------------------------------------------------------------------


def space(*elements: Any) -> Space:
    return Space(elements=list(elements))


def leaves(n: int) -> list[Space]:
    """`n` candidates without decisions of their own."""
    return [Space() for _ in range(n)]


def choice(location: str, candidates: list[Space], **kwargs: Any) -> Choices:
    return Choices(location=location, candidates=candidates, **kwargs)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def brute_size(point: Choices) -> int:
    """Size of a choice by its definition: every k-tuple of candidates that
    the rules allow, each counting the product of its candidates' sizes."""
    sizes = [c.size for c in point.candidates]
    total = 0
    for picks in itertools.product(range(len(sizes)), repeat=point.num_choices):
        if point.distinct and len(set(picks)) < len(picks):
            continue
        if point.sorted and list(picks) != sorted(picks):
            continue
        total += math.prod(sizes[i] for i in picks)  # type: ignore[misc]
    return total


def mixed_candidates() -> list[Space]:
    """Four candidate sub-spaces of sizes 1, 2, 3 and 6."""
    return [
        Space(),
        space(Int(location="w", min_value=0, max_value=1)),
        space(choice("c", leaves(3))),
        space(
            Int(location="a", min_value=0, max_value=1), Int(location="b", min_value=0, max_value=2)
        ),
    ]


CONDITIONAL = space(
    choice(
        "op",
        [
            space(Int(location="filters", min_value=1, max_value=3)),
            Space(),
            space(
                choice("act", leaves(2), name="act"),
                Float(location="rate", min_value=0.0, max_value=1.0),
            ),
        ],
        name="op",
    ),
    choice("ops", leaves(4), num_choices=2, distinct=True, sorted=True),
    Float(location="lr", min_value=1e-4, max_value=1.0, scale="log", name="lr"),
    Int(location="n", min_value=0, max_value=3),
)


def dna(**values: Any) -> am.DNA:
    return am.DNA(values)


# --- size ------------------------------------------------------------------------


def test_size_of_flat_decisions_is_the_product() -> None:
    spec = space(choice("a", leaves(3)), Int(location="n", min_value=-2, max_value=2))
    assert spec.size == 15
    assert spec.is_finite
    assert len(list(spec.iter_dna())) == 15


@pytest.mark.parametrize(
    ("k", "distinct", "sorted_", "expected"),
    [
        (3, True, False, 5 * 4 * 3),  # ordered picks without repeats
        (3, True, True, math.comb(5, 3)),  # subsets
        (3, False, False, 5**3),  # ordered picks with repeats
        (3, False, True, math.comb(5 + 3 - 1, 3)),  # multisets
        (5, True, False, math.factorial(5)),  # permutations
        (1, True, False, 5),
    ],
)
def test_size_of_multi_pick_choice_of_plain_candidates(
    k: int, distinct: bool, sorted_: bool, expected: int
) -> None:
    spec = space(choice("ops", leaves(5), num_choices=k, distinct=distinct, sorted=sorted_))
    assert spec.size == expected
    all_dna = list(spec.iter_dna())
    assert len(all_dna) == len(set(all_dna)) == expected


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("distinct", [True, False])
@pytest.mark.parametrize("sorted_", [True, False])
def test_size_with_candidate_sub_spaces_matches_enumeration(
    k: int, distinct: bool, sorted_: bool
) -> None:
    point = choice("ops", mixed_candidates(), num_choices=k, distinct=distinct, sorted=sorted_)
    spec = space(point, Int(location="tail", min_value=0, max_value=1))
    expected = brute_size(spec.elements[0]) * 2  # type: ignore[arg-type]
    assert spec.size == expected
    all_dna = list(spec.iter_dna())
    assert len(all_dna) == len(set(all_dna)) == expected
    for each in all_dna:
        spec.validate(each)


def test_size_of_nested_conditional_space() -> None:
    inner = choice("inner", [space(choice("deep", leaves(2))), Space(), Space()])
    spec = space(
        choice("outer", [space(inner), space(Int(location="k", min_value=0, max_value=4))])
    )
    assert spec.size == (2 + 1 + 1) + 5
    assert len(list(spec.iter_dna())) == 9


@pytest.mark.parametrize(
    ("distinct", "sorted_", "expected"),
    [
        (True, True, math.comb(40, 20) * 10**20),
        (True, False, math.perm(40, 20) * 10**20),
        (False, True, math.comb(40 + 20 - 1, 20) * 10**20),
        (False, False, 400**20),
    ],
)
def test_size_of_a_huge_space_is_an_exact_int(distinct: bool, sorted_: bool, expected: int) -> None:
    candidates = [space(Int(location="x", min_value=0, max_value=9)) for _ in range(40)]
    spec = space(choice("ops", candidates, num_choices=20, distinct=distinct, sorted=sorted_))
    assert type(spec.size) is int
    assert spec.size == expected  # no float rounding: these are beyond 2**53
    assert spec.is_finite


def test_size_of_many_independent_decisions_is_exact() -> None:
    spec = space(*(choice(f"d{i}", leaves(7)) for i in range(40)))
    assert spec.size == 7**40
    assert type(spec.size) is int


def test_size_beyond_floats_times_an_infinite_decision_is_inf() -> None:
    def huge(location: str) -> Int:  # more values than a float can count
        return Int(location=location, min_value=0, max_value=10**400)

    def unit(location: str) -> Float:
        return Float(location=location, min_value=0.0, max_value=1.0)

    for spec in (space(huge("n"), unit("f")), space(unit("f"), huge("n"))):
        assert spec.size == math.inf and not spec.is_finite
    assert space(huge("n"), huge("m")).size == (10**400 + 1) ** 2  # still exact when finite
    for k in (1, 2):  # a choice between such a space and an infinite one
        options = [space(huge("n")), space(unit("f"))]
        spec = space(choice("c", options, num_choices=k), huge("m"))
        assert spec.size == math.inf and not spec.is_finite


def test_size_is_infinite_with_floats_or_unlisted_custom_decisions() -> None:
    floats = space(Float(location="x", min_value=0.0, max_value=1.0))
    assert floats.size == math.inf
    assert not floats.is_finite
    in_candidate = space(
        choice("op", [Space(), space(Float(location="x", min_value=0.0, max_value=1.0))])
    )
    assert in_candidate.size == math.inf
    in_picks = space(
        choice(
            "ops",
            [Space(), space(Float(location="x", min_value=0.0, max_value=1.0))],
            num_choices=2,
            distinct=False,
        )
    )
    assert in_picks.size == math.inf
    opaque = space(CustomDecisionPoint(location="c", hooks=Opaque()))
    assert opaque.size == math.inf
    listed = space(CustomDecisionPoint(location="bits", hooks=BitString(length=5)))
    assert listed.size == 32
    assert listed.is_finite


# --- iter_dna ------------------------------------------------------------------


def test_iter_dna_order_last_decision_fastest_and_sub_decisions_after_their_choice() -> None:
    spec = space(
        choice("a", [Space(), space(Int(location="n", min_value=0, max_value=1))]),
        Int(location="b", min_value=0, max_value=1),
    )
    got = list(spec.iter_dna())
    assert [dict(d) for d in got] == [
        {"a": 0, "b": 0},
        {"a": 0, "b": 1},
        {"a": 1, "a[=1].n": 0, "b": 0},
        {"a": 1, "a[=1].n": 0, "b": 1},
        {"a": 1, "a[=1].n": 1, "b": 0},
        {"a": 1, "a[=1].n": 1, "b": 1},
    ]
    assert list(got[2]) == ["a", "a[=1].n", "b"]  # keys in decision order


def test_iter_dna_of_multi_pick_choices() -> None:
    unordered = space(choice("ops", leaves(3), num_choices=2))
    assert [(d["ops[0]"], d["ops[1]"]) for d in unordered.iter_dna()] == [
        (0, 1),
        (0, 2),
        (1, 0),
        (1, 2),
        (2, 0),
        (2, 1),
    ]
    nested = space(
        choice("ops", [Space(), space(Int(location="x", min_value=0, max_value=1))], num_choices=2)
    )
    assert [dict(d) for d in nested.iter_dna()] == [
        {"ops[0]": 0, "ops[1]": 1, "ops[1][=1].x": 0},
        {"ops[0]": 0, "ops[1]": 1, "ops[1][=1].x": 1},
        {"ops[0]": 1, "ops[0][=1].x": 0, "ops[1]": 0},
        {"ops[0]": 1, "ops[0][=1].x": 1, "ops[1]": 0},
    ]


def test_iter_dna_float_grid_linear_and_log() -> None:
    linear = space(Float(location="x", min_value=0.0, max_value=1.0))
    assert [d["x"] for d in linear.iter_dna(float_points=5)] == [0.0, 0.25, 0.5, 0.75, 1.0]
    log = space(Float(location="lr", min_value=1e-3, max_value=10.0, scale="log"))
    values = [d["lr"] for d in log.iter_dna(float_points=5)]
    assert values == pytest.approx([1e-3, 1e-2, 1e-1, 1.0, 10.0], rel=1e-9)
    for each in log.iter_dna(float_points=7):
        log.validate(each)  # the ends stay inside the bounds
    assert [d["x"] for d in linear.iter_dna(float_points=1)] == [0.0]


def test_iter_dna_grid_combines_with_other_decisions() -> None:
    spec = space(
        Float(location="x", min_value=-1.0, max_value=1.0),
        Int(location="n", min_value=0, max_value=2),
    )
    got = list(spec.iter_dna(float_points=3))
    assert len(got) == 9
    assert [(d["x"], d["n"]) for d in got[:4]] == [(-1.0, 0), (-1.0, 1), (-1.0, 2), (0.0, 0)]


def test_iter_dna_without_float_points_raises_before_yielding() -> None:
    spec = space(
        choice("op", [Space(), space(Float(location="x", min_value=0.0, max_value=1.0))]),
    )
    walk = spec.iter_dna()
    with pytest.raises(am.SearchSpaceError, match="float_points") as info:
        next(walk)  # the float is in the second candidate: still no DNA comes first
    assert info.value.path == "op[=1].x"


def test_iter_dna_of_custom_decisions() -> None:
    listed = space(CustomDecisionPoint(location="bits", hooks=BitString(length=2)))
    assert [d["bits"] for d in listed.iter_dna()] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    opaque = space(
        Int(location="n", min_value=0, max_value=1),
        CustomDecisionPoint(location="c", hooks=Opaque()),
    )
    with pytest.raises(am.SearchSpaceError, match="Opaque cannot enumerate its values"):
        next(opaque.iter_dna())


def test_iter_dna_is_lazy() -> None:
    PULLED.clear()
    spec = space(
        CustomDecisionPoint(location="c", hooks=Counted()),
        Int(location="n", min_value=0, max_value=2),
    )
    first = list(itertools.islice(spec.iter_dna(), 4))
    assert [(d["c"], d["n"]) for d in first] == [(0, 0), (0, 1), (0, 2), (1, 0)]
    assert PULLED == [0, 1]  # values are listed as the walk needs them, not up front


def test_iter_dna_starts_at_once_on_a_huge_space() -> None:
    spec = space(choice("ops", leaves(30), num_choices=12, distinct=False))  # 30**12 DNA
    first = list(itertools.islice(spec.iter_dna(), 3))
    assert [d["ops[11]"] for d in first] == [0, 1, 2]
    assert all(d["ops[0]"] == 0 for d in first)


# --- random_dna ------------------------------------------------------------------


def test_random_dna_is_valid() -> None:
    generator = rng(0)
    for _ in range(200):
        CONDITIONAL.validate(CONDITIONAL.random_dna(generator))


def test_random_dna_is_reproducible_per_seed() -> None:
    first = [CONDITIONAL.random_dna(g) for g in [rng(7)] for _ in range(20)]
    again = [CONDITIONAL.random_dna(g) for g in [rng(7)] for _ in range(20)]
    other = [CONDITIONAL.random_dna(g) for g in [rng(8)] for _ in range(20)]
    assert first == again
    assert first != other


def test_random_dna_reaches_every_candidate_and_value() -> None:
    spec = space(
        choice("op", leaves(5)),
        choice("ops", leaves(4), num_choices=2, distinct=True, sorted=True),
        choice("rep", leaves(3), num_choices=2, distinct=False),
        Int(location="n", min_value=-3, max_value=3),
    )
    generator = rng(1)
    samples = [spec.random_dna(generator) for _ in range(600)]
    assert Counter(d["op"] for d in samples).keys() == set(range(5))
    assert {(d["ops[0]"], d["ops[1]"]) for d in samples} == set(itertools.combinations(range(4), 2))
    assert {(d["rep[0]"], d["rep[1]"]) for d in samples} == set(
        itertools.product(range(3), repeat=2)
    )
    assert {d["n"] for d in samples} == set(range(-3, 4))
    counts = Counter(d["op"] for d in samples)
    assert min(counts.values()) > 60  # about 120 each


def test_random_floats_cover_their_scale() -> None:
    spec = space(
        Float(location="x", min_value=2.0, max_value=4.0),
        Float(location="lr", min_value=1e-6, max_value=1.0, scale="log"),
    )
    generator = rng(2)
    samples = [spec.random_dna(generator) for _ in range(400)]
    xs = [d["x"] for d in samples]
    lrs = [d["lr"] for d in samples]
    assert all(2.0 <= x <= 4.0 for x in xs)
    assert all(1e-6 <= v <= 1.0 for v in lrs)
    assert 0.35 < sum(x < 3.0 for x in xs) / 400 < 0.65
    # Log scale: half of the draws below the geometric mean (1e-3), not ~0.1%.
    assert 0.35 < sum(v < 1e-3 for v in lrs) / 400 < 0.65


def test_random_multi_picks_respect_distinct_and_sorted() -> None:
    spec = space(choice("ops", leaves(6), num_choices=4, distinct=True, sorted=True))
    generator = rng(3)
    for _ in range(100):
        each = spec.random_dna(generator)
        picks = [each[f"ops[{j}]"] for j in range(4)]
        assert picks == sorted(set(picks))


def test_random_custom_decision_uses_its_hooks() -> None:
    spec = space(CustomDecisionPoint(location="bits", hooks=BitString(length=6)))
    values = {spec.random_dna(g)["bits"] for g in [rng(4)] for _ in range(50)}
    assert all(isinstance(v, tuple) and len(v) == 6 for v in values)
    assert len(values) > 10


# --- fill --------------------------------------------------------------------------


def test_fill_keeping_every_value_gives_the_same_dna() -> None:
    parent = CONDITIONAL.random_dna(rng(5))
    child = CONDITIONAL.random_dna(rng(99), fill=lambda i, p: parent.get(i, am.MISSING))
    assert child == parent


def test_fill_redraws_sub_decisions_of_a_changed_choice() -> None:
    parent = CONDITIONAL.dna_from_dict(
        {"op": 0, "op[=0].filters": 2, "ops[0]": 1, "ops[1]": 3, "lr": 0.01, "n": 1}
    )
    asked: list[str] = []

    def fill(decision_id: str, point: Any) -> Any:
        asked.append(decision_id)
        if decision_id == "op":
            return 2
        return parent.get(decision_id, am.MISSING)

    child = CONDITIONAL.random_dna(rng(0), fill=fill)
    CONDITIONAL.validate(child)
    assert child["op"] == 2
    assert "op[=0].filters" not in child
    assert {"op[=2].act", "op[=2].rate"} <= child.keys()  # drawn afresh
    assert (child["ops[0]"], child["ops[1]"], child["lr"], child["n"]) == (1, 3, 0.01, 1)
    assert asked[:2] == ["op", "op[=2].act"]


def test_fill_repeating_a_distinct_pick_is_redrawn() -> None:
    spec = space(choice("ops", leaves(3), num_choices=3, distinct=True))
    child = spec.random_dna(rng(0), fill=lambda i, p: 1)
    spec.validate(child)
    assert sorted(child.values()) == [0, 1, 2]
    assert child["ops[0]"] == 1


def test_fill_with_an_impossible_choice_raises() -> None:
    with pytest.raises(am.InvalidDNAError, match=r"index in \[0, 2\], got 7") as info:
        CONDITIONAL.random_dna(rng(0), fill=lambda i, p: 7 if i == "op" else am.MISSING)
    assert info.value.path == "op"


# --- validate ---------------------------------------------------------------------

VALID = {"op": 1, "ops[0]": 0, "ops[1]": 2, "lr": 0.5, "n": 3}


def test_validate_accepts_a_valid_dna_and_a_plain_mapping() -> None:
    CONDITIONAL.validate(am.DNA(VALID))
    CONDITIONAL.validate(VALID)
    CONDITIONAL.validate(
        {**VALID, "op": 2, "op[=2].act": 1, "op[=2].rate": 1.0, "lr": 1e-4, "n": 0}
    )


@pytest.mark.parametrize(
    ("changes", "path", "match"),
    [
        ({"n": None}, "n", "missing the decision 'n'"),
        ({"op": 0}, "op[=0].filters", r"missing the decision 'op\[=0\].filters'"),
        ({"ops[1]": None}, "ops[1]", r"missing the decision 'ops\[1\]'"),
        ({"op": 3}, "op", r"index in \[0, 2\], got 3"),
        ({"op": -1}, "op", r"index in \[0, 2\], got -1"),
        ({"op": 1.0}, "op", r"index in \[0, 2\], got 1.0"),
        ({"op": True}, "op", r"index in \[0, 2\], got True"),
        ({"op": "1"}, "op", r"index in \[0, 2\], got '1'"),
        ({"ops[1]": 4}, "ops[1]", r"index in \[0, 3\], got 4"),
        ({"lr": 2.0}, "lr", r"expected a float in \[0.0001, 1.0\], got 2.0"),
        ({"lr": 0.0}, "lr", r"expected a float in \[0.0001, 1.0\], got 0.0"),
        ({"lr": math.nan}, "lr", "got nan"),
        ({"lr": "0.5"}, "lr", "got '0.5'"),
        ({"lr": True}, "lr", "got True"),
        ({"n": 4}, "n", r"expected an int in \[0, 3\], got 4"),
        ({"n": -1}, "n", r"expected an int in \[0, 3\], got -1"),
        ({"n": 2.0}, "n", r"expected an int in \[0, 3\], got 2.0"),
        ({"n": False}, "n", "got False"),
        ({"ops[1]": 0}, "ops[1]", "pick 0 repeats an earlier pick"),
        ({"ops[0]": 3, "ops[1]": 1}, "ops[1]", r"picks must be sorted; 1 < 3"),
        ({"extra": 0}, "extra", "unknown decision 'extra'"),
        ({"op[=0].filters": 1}, "op[=0].filters", r"unknown decision 'op\[=0\].filters'"),
    ],
)
def test_validate_errors_name_the_decision(changes: dict[str, Any], path: str, match: str) -> None:
    values = {**VALID, **changes}
    values = {k: v for k, v in values.items() if v is not None}
    with pytest.raises(am.InvalidDNAError, match=match) as info:
        CONDITIONAL.validate(am.DNA(values))
    assert info.value.path == path
    assert isinstance(info.value, ValueError)


def test_validate_rejects_dna_of_another_space() -> None:
    other = space(choice("op", leaves(3)), Int(location="depth", min_value=0, max_value=9))
    foreign = other.random_dna(rng(0))
    with pytest.raises(am.InvalidDNAError, match=r"missing the decision|unknown decision"):
        CONDITIONAL.validate(foreign)
    wider = space(choice("op", leaves(3)), Int(location="n", min_value=0, max_value=3))
    narrow = space(choice("op", leaves(3)))
    with pytest.raises(am.InvalidDNAError, match="another search space") as info:
        narrow.validate(wider.random_dna(rng(0)))
    assert info.value.path == "n"


def test_validate_rejects_custom_values_the_hooks_reject() -> None:
    spec = space(CustomDecisionPoint(location="bits", hooks=BitString(length=4)))
    spec.validate(dna(bits=(0, 1, 1, 0)))
    for bad in [(0, 1, 1), (0, 1, 2, 0), [0, 1, 1, 0], "0110"]:
        with pytest.raises(
            am.InvalidDNAError, match="invalid custom value: expected a tuple of 4 bits"
        ) as info:
            spec.validate(dna(bits=bad))
        assert info.value.path == "bits"


def test_validate_rechecks_after_the_space_changes() -> None:
    spec = space(Int(location="n", min_value=0, max_value=5))
    valid = dna(n=5)
    spec.validate(valid)
    spec.rebind({"elements[0].max_value": 4})
    with pytest.raises(am.InvalidDNAError, match=r"expected an int in \[0, 4\], got 5"):
        spec.validate(valid)


# --- numbers and dicts ---------------------------------------------------------------


def test_dna_from_numbers_round_trip() -> None:
    for seed in range(30):
        each = CONDITIONAL.random_dna(rng(seed))
        assert CONDITIONAL.dna_from_numbers(each.to_numbers()) == each
    got = CONDITIONAL.dna_from_numbers([0, 3, 1, 2, 1, 2])
    assert dict(got) == {"op": 0, "op[=0].filters": 3, "ops[0]": 1, "ops[1]": 2, "lr": 1.0, "n": 2}
    assert type(got["lr"]) is float  # an int for a float decision reads as a float


def test_dna_from_numbers_too_few_or_too_many() -> None:
    with pytest.raises(am.InvalidDNAError, match="too few numbers: nothing for 'n'") as info:
        CONDITIONAL.dna_from_numbers([1, 0, 1, 0.5])
    assert info.value.path == "n"
    with pytest.raises(
        am.InvalidDNAError, match=r"too few numbers: nothing for 'op\[=2\].rate'"
    ) as info:
        CONDITIONAL.dna_from_numbers([2, 1])
    assert info.value.path == "op[=2].rate"
    with pytest.raises(am.InvalidDNAError, match="2 numbers left over after reading a DNA of 5"):
        CONDITIONAL.dna_from_numbers([1, 0, 1, 0.5, 2, 7, 8])
    with pytest.raises(am.InvalidDNAError, match=r"index in \[0, 2\], got 5") as info:
        CONDITIONAL.dna_from_numbers([5, 0, 1, 0.5, 2])
    assert info.value.path == "op"
    with pytest.raises(am.InvalidDNAError, match="expected an int") as info:
        CONDITIONAL.dna_from_numbers([1, 0, 1, 0.5, 9])
    assert info.value.path == "n"


def test_dna_from_dict_by_id_orders_as_the_space() -> None:
    got = CONDITIONAL.dna_from_dict({"n": 0, "lr": 0.5, "ops[1]": 3, "ops[0]": 2, "op": 1})
    assert list(got) == ["op", "ops[0]", "ops[1]", "lr", "n"]
    assert got == am.DNA({"op": 1, "ops[0]": 2, "ops[1]": 3, "lr": 0.5, "n": 0})


def test_dna_from_dict_by_name_and_id_mixed() -> None:
    got = CONDITIONAL.dna_from_dict(
        {"op": 2, "act": 1, "op[=2].rate": 0.25, "ops[0]": 0, "ops[1]": 1, "lr": 0.1, "n": 2}
    )
    assert got["op[=2].act"] == 1
    assert list(got)[:3] == ["op", "op[=2].act", "op[=2].rate"]
    by_name = CONDITIONAL.dna_from_dict(
        {"n": 2, "lr": 0.1, "ops[1]": 1, "ops[0]": 0, "op": 2, "act": 1, "op[=2].rate": 0.25}
    )
    assert by_name == got


def test_dna_from_dict_errors() -> None:
    with pytest.raises(am.InvalidDNAError, match=r"index in \[0, 2\], got 4") as info:
        CONDITIONAL.dna_from_dict({**VALID, "op": 4})
    assert info.value.path == "op"
    with pytest.raises(am.InvalidDNAError, match=r"index in \[0, 2\], got 'conv'"):
        CONDITIONAL.dna_from_dict({**VALID, "op": "conv"})
    with pytest.raises(am.InvalidDNAError, match="unknown decision 'depth'") as info:
        CONDITIONAL.dna_from_dict({**VALID, "depth": 3})
    assert info.value.path == "depth"
    with pytest.raises(am.InvalidDNAError, match="missing the decision 'n'"):
        CONDITIONAL.dna_from_dict({k: v for k, v in VALID.items() if k != "n"})


def test_names_of_keys_named_decisions_by_name() -> None:
    each = CONDITIONAL.dna_from_dict(
        {"op": 2, "op[=2].act": 0, "op[=2].rate": 0.5, "ops[0]": 0, "ops[1]": 3, "lr": 0.01, "n": 1}
    )
    assert CONDITIONAL.names_of(each) == {
        "op": 2,
        "act": 0,
        "op[=2].rate": 0.5,
        "ops[0]": 0,
        "ops[1]": 3,
        "lr": 0.01,
        "n": 1,
    }
    assert CONDITIONAL.dna_from_dict(CONDITIONAL.names_of(each)) == each


def test_names_of_a_named_multi_pick_choice_round_trips() -> None:
    inner = space(Int(location="w", min_value=0, max_value=3, name="width"))
    spec = space(choice("m", [inner, Space()], num_choices=2, distinct=False, name="picks"))
    each = spec.dna_from_dict({"m[0]": 0, "m[0][=0].w": 1, "m[1]": 0, "m[1][=0].w": 2})
    named = spec.names_of(each)
    # The picks are `name[j]`; a name active twice is the first, the other keeps its id.
    assert named == {"picks[0]": 0, "width": 1, "picks[1]": 0, "m[1][=0].w": 2}
    assert spec.dna_from_dict(named) == each
    assert each.to_dict(spec, key="name") == named
    assert am.DNA.from_dict(spec, named) == each


def test_point_by_name() -> None:
    assert CONDITIONAL.point("act").location == "act"
    assert CONDITIONAL.point("lr").scale == "log"  # type: ignore[attr-defined]
    with pytest.raises(KeyError):
        CONDITIONAL.point("nope")


# --- ill-defined spaces -------------------------------------------------------------


def test_a_decision_name_used_twice_is_an_error() -> None:
    with pytest.raises(am.SearchSpaceError, match="the decision name 'n' is used twice") as info:
        space(
            Int(location="a", min_value=0, max_value=1, name="n"),
            choice(
                "b", [Space(), space(Float(location="c", min_value=0.0, max_value=1.0, name="n"))]
            ),
        )
    assert info.value.path == "b[=1].c"
    assert "(at `a` and `b[=1].c`)" in info.value.message


def test_one_named_point_in_the_candidates_of_several_picks_is_not_a_clash() -> None:
    inner = space(Int(location="w", min_value=0, max_value=1, name="w"))
    spec = space(choice("m", [inner, Space()], num_choices=2, distinct=False))
    assert spec.point("w").location == "w"


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: choice("op", []), "a choice needs at least one candidate"),
        (lambda: choice("op", leaves(2), num_choices=0), r"`num_choices` \(0\) must be at least 1"),
        (
            lambda: choice("op", leaves(2), num_choices=3),
            "cannot pick 3 distinct candidates out of 2",
        ),
        (
            lambda: Int(location="op", min_value=3, max_value=1),
            r"`min_value` \(3\) must not exceed",
        ),
        (
            lambda: Float(location="op", min_value=1.0, max_value=1.0),
            "must be less than `max_value`",
        ),
        (
            lambda: Float(location="op", min_value=2.0, max_value=1.0),
            "must be less than `max_value`",
        ),
        (
            lambda: Float(location="op", min_value=0.0, max_value=1.0, scale="log"),
            "a log-scale float needs `min_value` > 0",
        ),
        (
            lambda: Float(location="op", min_value=-1.0, max_value=1.0, scale="log"),
            "a log-scale float needs `min_value` > 0",
        ),
    ],
)
def test_ill_defined_decisions(build: Any, match: str) -> None:
    with pytest.raises(am.SearchSpaceError, match=match) as info:
        build()
    assert info.value.path == "op"


def test_repeated_picks_may_exceed_the_candidates() -> None:
    spec = space(choice("op", leaves(2), num_choices=3, distinct=False))
    assert spec.size == 8


def test_single_value_int_is_a_space_of_one() -> None:
    spec = space(Int(location="n", min_value=4, max_value=4))
    assert spec.size == 1
    assert spec.random_dna(rng(0)) == dna(n=4)


# --- JSON -------------------------------------------------------------------------------


def test_spec_json_round_trip() -> None:
    spec = space(
        *CONDITIONAL.elements,
        CustomDecisionPoint(location="bits", hooks=BitString(length=3), name="bits"),
    )
    back = am.from_json(spec.to_json())
    assert isinstance(back, Space)
    assert back == spec
    assert back.size == spec.size
    assert back.point("act").location == "act"
    for seed in range(20):
        each = spec.random_dna(rng(seed))
        back.validate(each)
        assert back.random_dna(rng(seed)) == each
    text_back = am.from_json_str(am.to_json_str(spec))
    assert list(text_back.iter_dna(float_points=2))[:50] == list(spec.iter_dna(float_points=2))[:50]
    with pytest.raises(am.InvalidDNAError, match="got 9"):
        back.validate({**VALID, "n": 9, "bits": (0, 0, 0)})


def test_a_name_that_is_another_decisions_id_is_refused() -> None:
    import automorph as am

    space = am.Dict(a=am.oneof([1, 2], name="b"), b=am.oneof([3, 4]))
    with pytest.raises(am.SearchSpaceError, match=r"name 'b' \(at `a`\) is the id of another"):
        am.dna_spec(space)
    # A name equal to its own id is no clash, and names elsewhere are fine.
    spec = am.dna_spec(am.Dict(a=am.oneof([1, 2], name="a"), b=am.oneof([3, 4], name="c")))
    dna = spec.first_dna() if hasattr(spec, "first_dna") else next(iter(spec.iter_dna()))
    assert set(dna.to_dict(spec, key="name")) == {"a", "c"}
