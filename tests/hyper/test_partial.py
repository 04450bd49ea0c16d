"""Partial templates (`where=`) and materializing from choice and literal
dicts (issue 20)."""

from __future__ import annotations

from typing import Any

import pytest

import automorph as am
from automorph.hyper import OneOf, Template


class Layer(am.Object, type_name="tests.hyper.partial.Layer"):
    units: int
    act: str = "relu"


def is_choice(hyper: Any) -> bool:
    return isinstance(hyper, OneOf)


# --- materialize from dicts -------------------------------------------------------


def test_materialize_reads_choice_strings_and_literals() -> None:
    space = am.Dict(a=am.oneof([1, 2, 3], name="a"), b=am.oneof(["x", "y"]), f=am.floatv(0.0, 1.0))
    assert am.materialize(space, {"a": "2/3", "b": "y", "f": 0.5}) == {"a": 3, "b": "y", "f": 0.5}
    assert am.materialize(space, {"a": 2, "b": "'x'", "f": 0.5}, use_ints_as_literals=True) == {
        "a": 2,
        "b": "x",
        "f": 0.5,
    }
    spec = am.dna_spec(space)
    dna = am.DNA({"a": 1, "b": 1, "f": 0.25})
    for value_type in ("value", "choice", "literal"):
        written = dna.to_dict(spec, key="name", value_type=value_type)  # type: ignore[arg-type]
        literal = value_type == "literal"
        assert am.materialize(space, written, use_ints_as_literals=literal) == am.materialize(
            space, dna
        )
    with pytest.raises(am.InvalidDNAError, match="'z' is none of the 2 candidates") as info:
        am.materialize(space, {"a": 0, "b": "z", "f": 0.5})
    assert info.value.path == "b"


# --- partial templates ---------------------------------------------------------------


def test_dna_spec_where_keeps_only_the_selected_decisions() -> None:
    space = am.Dict(
        a=am.oneof([1, 2]), net=Layer(units=am.intv(8, 16), act=am.oneof(["relu", "gelu"]))
    )
    spec = am.dna_spec(space, where=is_choice)
    assert [p.location for p in spec.decision_points()] == ["a", "net.act"]
    assert spec.size == 4


def test_materialize_where_leaves_the_other_hyper_values_in_place() -> None:
    space = am.Dict(
        a=am.oneof([1, 2]), net=Layer(units=am.intv(8, 16), act=am.oneof(["relu", "gelu"]))
    )
    partial = am.materialize(space, am.DNA({"a": 1, "net.act": 0}), where=is_choice)
    assert partial["a"] == 2 and partial["net"].act == "relu"
    assert isinstance(partial["net"].units, am.hyper.IntValue)  # still a search space
    rest = am.dna_spec(partial)
    assert [p.location for p in rest.decision_points()] == ["net.units"]
    final = am.materialize(partial, am.DNA({"net.units": 12}))
    assert final == am.Dict(a=2, net=Layer(units=12, act="relu"))
    # The space itself is untouched, and encoding reads the partial program back.
    assert isinstance(space["a"], OneOf)
    assert Template(space, where=is_choice).encode(partial) == am.DNA({"a": 1, "net.act": 0})


def test_where_applies_inside_candidates() -> None:
    space = am.Dict(op=am.oneof([Layer(units=am.intv(1, 2), act=am.oneof(["a", "b"])), "skip"]))
    spec = am.dna_spec(space, where=is_choice)
    assert [p.location for p in spec.decision_points()] == ["op", "act"]
    partial = am.materialize(space, {"op": 0, "op[=0].act": 1}, where=is_choice)
    assert partial["op"].act == "b" and isinstance(partial["op"].units, am.hyper.IntValue)


def test_where_is_refused_for_define_by_run_spaces() -> None:
    space = am.define_by_run(lambda: am.oneof([1, 2]))
    with pytest.raises(am.SearchSpaceError, match="cannot take `where`"):
        am.dna_spec(space, where=is_choice)


def test_materialize_reads_an_int_as_whatever_it_can_be_and_refuses_ambiguity() -> None:
    space = am.Dict(w=am.oneof([16, 32]), same=am.oneof([0, 1, 2]), a=am.oneof([1, 2, 3]))
    # 32 can only be a literal, 1 an index; for `same` both readings agree.
    assert am.materialize(space, {"w": 32, "same": 1, "a": "1/3"}) == {"w": 32, "same": 1, "a": 2}
    with pytest.raises(
        am.InvalidDNAError, match="both the index of candidate 2 and the literal"
    ) as info:
        am.materialize(space, {"w": 0, "same": 0, "a": 2})
    assert info.value.path == "a"
    assert am.materialize(space, {"w": 0, "same": 0, "a": 2}, use_ints_as_literals=False)["a"] == 3
    assert am.materialize(space, {"w": 16, "same": 0, "a": 2}, use_ints_as_literals=True)["a"] == 2
    with pytest.raises(am.InvalidDNAError, match="must be an index"):
        am.materialize(space, {"w": 16, "same": 0, "a": 0}, use_ints_as_literals=False)
