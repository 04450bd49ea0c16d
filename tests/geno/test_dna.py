"""Tests of `am.DNA`: an immutable ordered mapping, equality and hashing
independent of insertion order, numbers, dicts, JSON and pickling, and
property tests of the round trips over random DNA of random specs."""

from __future__ import annotations

import json
import pickle
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import automorph as am
from automorph.geno import Choices, CustomDecisionPoint, Float, Int, Space
from automorph.testing import BitString

PROPERTY = settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

SPEC = Space(
    elements=[
        Choices(
            location="op",
            candidates=[Space(), Space(elements=[Int(location="k", min_value=1, max_value=7)])],
        ),
        Float(location="lr", min_value=1e-3, max_value=1.0, scale="log", name="rate"),
        CustomDecisionPoint(location="bits", hooks=BitString(length=3)),
    ]
)


# --- mapping ------------------------------------------------------------------------


def test_dna_is_an_ordered_read_only_mapping() -> None:
    source = {"op": 1, "op[=1].k": 3, "lr": 0.5}
    dna = am.DNA(source)
    assert isinstance(dna, Mapping)
    assert len(dna) == 3
    assert list(dna) == ["op", "op[=1].k", "lr"]
    assert dna["op[=1].k"] == 3
    assert "lr" in dna and "bits" not in dna
    assert dna.get("bits", "none") == "none"
    assert list(dna.items()) == list(source.items())
    with pytest.raises(KeyError):
        dna["bits"]
    with pytest.raises(TypeError):
        dna["op"] = 0  # type: ignore[index]
    with pytest.raises(AttributeError):
        dna.extra = 1  # type: ignore[attr-defined]
    source["op"] = 0
    assert dna["op"] == 1  # the DNA copied its values
    assert am.DNA() == am.DNA({}) and len(am.DNA()) == 0
    assert repr(am.DNA({"op": 1})) == "DNA({'op': 1})"


def test_equality_and_hash_do_not_depend_on_insertion_order() -> None:
    a = am.DNA({"op": 1, "lr": 0.5, "bits": (0, 1, 1)})
    b = am.DNA({"bits": (0, 1, 1), "lr": 0.5, "op": 1})
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert {a: "seen"}[b] == "seen"
    assert a != am.DNA({"op": 1, "lr": 0.25, "bits": (0, 1, 1)})
    assert a != am.DNA({"op": 1, "lr": 0.5})
    assert a != am.DNA({"op": 1, "lr": 0.5, "bits": (0, 1, 1), "n": 0})


def test_to_numbers_in_decision_order() -> None:
    dna = SPEC.dna_from_dict({"bits": (1, 0, 1), "lr": 0.1, "op[=1].k": 4, "op": 1})
    assert dna.to_numbers() == [1, 4, 0.1, (1, 0, 1)]
    assert am.DNA.from_numbers(SPEC, [1, 4, 0.1, (1, 0, 1)]) == dna


def test_to_dict_by_id_and_by_name() -> None:
    dna = SPEC.dna_from_dict({"op": 0, "rate": 0.1, "bits": (0, 0, 0)})
    assert dna.to_dict() == {"op": 0, "lr": 0.1, "bits": (0, 0, 0)}
    assert dna.to_dict(SPEC, key="name") == {"op": 0, "rate": 0.1, "bits": (0, 0, 0)}
    assert am.DNA.from_dict(SPEC, dna.to_dict(SPEC, key="name")) == dna
    with pytest.raises(ValueError, match="needs the DNA's space: pass it as `space`"):
        dna.to_dict(key="name")
    with pytest.raises(ValueError, match="`key` must be"):
        dna.to_dict(SPEC, key="label")


# --- JSON and pickle -------------------------------------------------------------------


def test_json_round_trip_keeps_custom_tuples() -> None:
    dna = am.DNA(
        {"op": 1, "op[=1].k": 2, "lr": 0.1 + 0.2, "bits": (1, 0, 1), "nested": ((1, 2), [3])}
    )
    text = json.dumps(dna.to_json())
    back = am.DNA.from_json(json.loads(text))
    assert back == dna
    assert type(back["bits"]) is tuple
    assert back["lr"] == 0.1 + 0.2  # floats exactly
    assert list(back) == list(dna)
    SPEC.validate(
        am.DNA.from_json(
            json.loads(json.dumps(SPEC.random_dna(np.random.default_rng(0)).to_json()))
        )
    )


@pytest.mark.parametrize(
    ("data", "error", "match"),
    [
        ([1, 2], am.SerializationError, "DNA JSON must be an object of decisions, got list"),
        ('{"op": 1}', am.SerializationError, "must be an object of decisions, got str"),
        (None, am.SerializationError, "got NoneType"),
        ({1: 0}, am.SerializationError, "DNA JSON keys must be decision ids, got 1"),
        ({"bits": {"_type": "no.such.Type"}}, am.UnknownTypeError, "no.such.Type"),
    ],
)
def test_malformed_json_is_a_serialization_error(data: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match) as info:
        am.DNA.from_json(data)
    assert isinstance(info.value, am.SerializationError)


def test_pickle_round_trip() -> None:
    dna = SPEC.random_dna(np.random.default_rng(3))
    back = pickle.loads(pickle.dumps(dna))
    assert back == dna
    assert hash(back) == hash(dna)
    assert list(back) == list(dna)
    SPEC.validate(back)


# --- property tests ------------------------------------------------------------------

_LOCATIONS = ["a", "b", "c", "d"]


@st.composite
def decision_points(draw: st.DrawFn, location: str, depth: int, floats: bool) -> Any:
    kinds = ["choice", "int"] + (["float"] if floats else []) + (["custom"] if depth < 2 else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "float":
        low = draw(st.floats(1e-3, 10.0))
        width = draw(st.floats(1e-2, 100.0))
        return Float(
            location=location,
            min_value=low,
            max_value=low + width,
            scale=draw(st.sampled_from(["linear", "log"])),
        )
    if kind == "int":
        low = draw(st.integers(-5, 5))
        return Int(location=location, min_value=low, max_value=low + draw(st.integers(0, 5)))
    if kind == "custom":
        return CustomDecisionPoint(
            location=location, hooks=BitString(length=draw(st.integers(1, 4)))
        )
    n = draw(st.integers(1, 4))
    candidates = [
        draw(spaces(depth + 1, floats)) if depth < 2 and draw(st.booleans()) else Space()
        for _ in range(n)
    ]
    distinct = draw(st.booleans())
    k = draw(st.integers(1, n if distinct else 3))
    return Choices(
        location=location,
        candidates=candidates,
        num_choices=k,
        distinct=distinct,
        sorted=draw(st.booleans()),
    )


@st.composite
def spaces(draw: st.DrawFn, depth: int = 0, floats: bool = True) -> Space:
    n = draw(st.integers(1 if depth == 0 else 0, 3))
    return Space(elements=[draw(decision_points(_LOCATIONS[i], depth, floats)) for i in range(n)])


@PROPERTY
@given(spaces(), st.integers(0, 2**32 - 1))
def test_random_dna_round_trips(spec: Space, seed: int) -> None:
    dna = spec.random_dna(np.random.default_rng(seed))
    spec.validate(dna)
    assert am.DNA.from_numbers(spec, dna.to_numbers()) == dna
    assert am.DNA.from_dict(spec, dna.to_dict()) == dna
    assert am.DNA.from_dict(spec, dict(reversed(list(dna.to_dict().items())))) == dna
    back = am.DNA.from_json(json.loads(json.dumps(dna.to_json())))
    assert back == dna
    assert hash(back) == hash(dna)
    spec.validate(back)
    same_spec = am.from_json(json.loads(json.dumps(spec.to_json())))
    same_spec.validate(dna)
    assert same_spec.size == spec.size


@PROPERTY
@given(spaces(floats=False), st.integers(0, 2**32 - 1))
def test_random_dna_is_one_of_the_enumerated_of_a_finite_space(spec: Space, seed: int) -> None:
    assert spec.is_finite
    assume(spec.size <= 2000)
    everything = list(spec.iter_dna())
    assert len(everything) == len(set(everything)) == spec.size
    assert spec.random_dna(np.random.default_rng(seed)) in set(everything)


@PROPERTY
@given(spaces(floats=False), st.integers(0, 2**32 - 1))
def test_enumeration_is_sorted_and_walks_on_from_any_dna(spec: Space, seed: int) -> None:
    assume(spec.size <= 500)
    everything = list(spec.iter_dna())
    assert sorted(everything) == everything  # `<` agrees with the enumeration order
    start = spec.random_dna(np.random.default_rng(seed))
    i = everything.index(start)
    assert list(spec.iter_dna(start)) == everything[i + 1 :]
    assert spec.next_dna(start) == (everything[i + 1] if i + 1 < len(everything) else None)
    for value_type in ("choice", "literal"):
        written = start.to_dict(spec, key="name", value_type=value_type)  # type: ignore[arg-type]
        assert (
            am.DNA.from_dict(spec, written, use_ints_as_literals=value_type == "literal") == start
        )
    assert am.from_json(am.to_json(start)) == start
