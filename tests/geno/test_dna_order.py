"""Walking a space from a given DNA (`first_dna`, `next_dna`, `iter_dna(start)`),
the order of DNA (`<`, `sorted`), choice and literal dicts (`DNA.to_dict(...,
value_type=...)`, `DNA.from_dict`), and DNA inside any JSON value (issue 20)."""

from __future__ import annotations

import random

import pytest

import automorph as am
from automorph.geno import Choices, Float, Int, Space


def leaves(n: int) -> list[Space]:
    return [Space() for _ in range(n)]


def mixed_space() -> Space:
    """A choice, a multi-pick choice whose first candidate has a sub-decision, an int."""
    return Space(
        elements=[
            Choices(location="a", candidates=leaves(3), name="alpha"),
            Choices(
                location="ops",
                num_choices=2,
                candidates=[
                    Space(elements=[Choices(location="x", candidates=leaves(2))]),
                    Space(),
                    Space(),
                ],
            ),
            Int(location="n", min_value=0, max_value=1),
        ]
    )


def test_first_and_next_dna_walk_the_whole_space_as_iter_dna() -> None:
    spec = mixed_space()
    everything = list(spec.iter_dna())
    assert len(everything) == spec.size
    dna = spec.first_dna()
    assert dna == everything[0] == spec.next_dna(None)
    walked = [dna]
    while (dna := spec.next_dna(dna)) is not None:  # type: ignore[assignment]
        walked.append(dna)
    assert walked == everything
    assert spec.next_dna(everything[-1]) is None


def test_iter_dna_from_a_start_yields_the_dna_after_it() -> None:
    spec = mixed_space()
    everything = list(spec.iter_dna())
    for i in (0, 1, 7, len(everything) // 2, len(everything) - 2, len(everything) - 1):
        assert list(spec.iter_dna(everything[i])) == everything[i + 1 :]


def test_multi_pick_choices_enumerate_depth_first_as_pyglove() -> None:
    # Pick 0's candidate decisions come before pick 1 (PyGlove's order).
    spec = Space(
        elements=[
            Choices(
                location="ops",
                num_choices=2,
                candidates=[
                    Space(elements=[Int(location="x", min_value=0, max_value=1)]),
                    *leaves(2),
                ],
            )
        ]
    )
    assert [d.to_numbers() for d in spec.iter_dna()] == [
        [0, 0, 1],
        [0, 0, 2],
        [0, 1, 1],
        [0, 1, 2],
        [1, 0, 0],
        [1, 0, 1],
        [1, 2],
        [2, 0, 0],
        [2, 0, 1],
        [2, 1],
    ]


def test_iter_dna_start_on_float_grids() -> None:
    spec = Space(
        elements=[
            Choices(location="c", candidates=leaves(2)),
            Float(location="f", min_value=0.0, max_value=1.0),
        ]
    )
    grid = list(spec.iter_dna(float_points=3))
    assert [d.to_numbers() for d in grid] == [
        [0, 0.0],
        [0, 0.5],
        [0, 1.0],
        [1, 0.0],
        [1, 0.5],
        [1, 1.0],
    ]
    assert list(spec.iter_dna(grid[1], float_points=3)) == grid[2:]
    off_grid = am.DNA({"c": 0, "f": 0.2})  # the walk goes on from the next grid point
    assert list(spec.iter_dna(off_grid, float_points=3)) == grid[1:]
    assert spec.next_dna(grid[-1], float_points=3) is None
    with pytest.raises(am.SearchSpaceError, match="give `float_points`"):
        spec.next_dna(grid[0])


def test_iter_dna_start_errors() -> None:
    spec = mixed_space()
    with pytest.raises(am.InvalidDNAError, match="missing the decision 'ops\\[0\\]'"):
        list(spec.iter_dna(am.DNA({"a": 0})))
    with pytest.raises(TypeError, match=r"pass the grid size by keyword: `iter_dna\(float_points"):
        list(spec.iter_dna(3))  # type: ignore[arg-type]


def test_sorting_dna_follows_the_enumeration_order() -> None:
    spec = mixed_space()
    everything = list(spec.iter_dna())
    shuffled = everything[:]
    random.Random(0).shuffle(shuffled)
    assert sorted(shuffled) == everything
    assert everything[0] < everything[1] and not everything[1] < everything[0]
    assert everything[3] <= everything[3] and everything[4] >= everything[3]
    assert max(shuffled) == everything[-1]
    assert am.DNA({"x": 0.25}) < am.DNA({"x": 0.5})


def test_ordering_errors() -> None:
    with pytest.raises(am.InvalidDNAError, match="cannot order DNA of different spaces"):
        _ = am.DNA({"a": 0}) < am.DNA({"b": 1})
    with pytest.raises(TypeError, match="can only be ordered against a DNA"):
        _ = am.DNA({"a": 0}) < 1
    with pytest.raises(TypeError, match="values of decision 'a' cannot be ordered"):
        _ = am.DNA({"a": (1,)}) < am.DNA({"a": "x"})


def literal_space() -> Space:
    return am.dna_spec(
        am.Dict(
            a=am.oneof([1, 2, 3], name="a"),
            b=am.manyof(2, ["x", "y", "z"], name="b"),
            c=am.oneof([am.Dict(d=am.oneof([5.0, 6.0])), 7]),
            f=am.floatv(0.0, 1.0),
        )
    )


def test_to_dict_choice_and_literal_values() -> None:
    spec = literal_space()
    dna = am.DNA({"a": 1, "b[0]": 2, "b[1]": 0, "c": 0, "c[=0].d": 1, "f": 0.5})
    assert dna.to_dict(spec, value_type="choice") == {
        "a": "1/3",
        "b[0]": "2/3",
        "b[1]": "0/3",
        "c": "0/2",
        "c[=0].d": "1/2",
        "f": 0.5,
    }
    # A candidate that is not a plain value keeps its choice string.
    assert dna.to_dict(spec, key="name", value_type="literal") == {
        "a": 2,
        "b[0]": "z",
        "b[1]": "x",
        "c": "0/2",
        "c[=0].d": 6.0,
        "f": 0.5,
    }
    for value_type in ("value", "choice", "literal"):
        for key in ("id", "name"):
            written = dna.to_dict(spec, key=key, value_type=value_type)  # type: ignore[arg-type]
            assert (
                am.DNA.from_dict(spec, written, use_ints_as_literals=value_type == "literal") == dna
            )


def test_from_dict_reads_literals_and_choice_strings() -> None:
    spec = literal_space()
    # A literal as the candidate itself, or as its text ("'y'", PyGlove's form).
    dna = am.DNA.from_dict(spec, {"a": "2/3", "b[0]": "x", "b[1]": "'y'", "c": "1/2", "f": 0.0})
    assert dna == am.DNA({"a": 2, "b[0]": 0, "b[1]": 1, "c": 1, "f": 0.0})
    written = {**dna.to_dict(spec, value_type="choice"), "a": 3}
    assert am.DNA.from_dict(spec, written, use_ints_as_literals=True)["a"] == 2


def test_from_dict_choice_errors() -> None:
    spec = literal_space()
    base = {"b[0]": 0, "b[1]": 1, "c": 1, "f": 0.0}
    with pytest.raises(am.InvalidDNAError, match=r"out of 2 candidates, but this decision has 3"):
        am.DNA.from_dict(spec, {**base, "a": "1/2"})
    with pytest.raises(am.InvalidDNAError, match=r"'w' is none of the 3 candidates") as info:
        am.DNA.from_dict(spec, {**base, "a": 0, "b[0]": "w"})
    assert info.value.path == "b[0]"
    with pytest.raises(ValueError, match="`value_type` must be 'value', 'choice' or 'literal'"):
        am.DNA({"a": 0}).to_dict(spec, value_type="text")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs the DNA's space"):
        am.DNA({"a": 0}).to_dict(value_type="choice")


def test_dna_is_json_like_any_value() -> None:
    dna = am.DNA({"a": 1, "bits": (0, 1), "lr": 0.5})
    assert am.from_json(am.to_json(dna)) == dna
    tree = am.Dict(best=dna, history=am.List([dna, am.DNA({"a": 0})]))
    back = am.from_json_str(am.to_json_str(tree))
    assert back["best"] == dna and isinstance(back["best"], am.DNA)
    assert back["history"][1] == am.DNA({"a": 0})
    assert back["best"]["bits"] == (0, 1)


def test_malformed_dna_json_is_a_serialization_error() -> None:
    with pytest.raises(am.SerializationError, match="exactly one field, `decisions`"):
        am.from_json({"_type": "automorph.DNA", "values": {}})
