"""Tests of define-by-run spaces (`am.define_by_run`): hyper-values called
while ordinary code runs are collected on a first pass and decided from DNA
on later ones."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

import automorph as am
from automorph.hyper import DynamicSpace, OneOf
from automorph.testing import BitString

# --- module-level symbolic classes and builders --------------------------------------


class Layer(am.Object):
    units: int
    act: str = "relu"


SEEN: list[Any] = []


def build_mlp() -> list[Layer]:
    """A model builder that knows nothing of search spaces but their calls."""
    depth = am.intv(1, 3, name="depth")
    width = am.oneof([16, 32, 64])
    SEEN.append((depth, width))
    act = am.oneof(["relu", "gelu"], name="act")
    layers = [Layer(width, act=act) for _ in range(depth)]
    rate = am.floatv(0.0, 0.5, name="dropout")
    order = am.manyof(2, ["bn", "drop", "res"], name="order")
    return [*layers, Layer(int(rate * 100)), *[Layer(len(o)) for o in order]]


def build_branching() -> tuple[str, Any]:
    kind = am.oneof(["plain", "fancy"], name="kind")
    if kind == "fancy":
        return kind, am.floatv(0.0, 1.0, name="fancy_rate")
    return kind, None


def build_with_a_repeated_name() -> tuple[int, int]:
    return am.intv(0, 1, name="n"), am.intv(0, 1, name="n")


# --- collect, then apply -------------------------------------------------------------------


def test_collect_then_apply() -> None:
    SEEN.clear()
    space = am.define_by_run(build_mlp)
    assert isinstance(space, DynamicSpace)
    spec = am.dna_spec(space)
    # The collection pass saw the first candidate / the minimum of every decision.
    assert SEEN == [(1, 16)]
    assert [p.location for p in spec.decision_points()] == [
        "depth",
        "decision_1",
        "act",
        "dropout",
        "order",
    ]
    assert spec.size == float("inf")
    dna = spec.dna_from_dict(
        {"depth": 2, "decision_1": 2, "act": 1, "dropout": 0.25, "order[0]": 2, "order[1]": 0}
    )
    assert list(dna) == ["depth", "decision_1", "act", "dropout", "order[0]", "order[1]"]
    model = am.materialize(space, dna)
    assert model == [Layer(64, "gelu"), Layer(64, "gelu"), Layer(25), Layer(3), Layer(2)]
    assert SEEN[-1] == (2, 64)


def test_auto_ids_count_every_call() -> None:
    def build() -> list[Any]:
        return [am.oneof([1, 2]), am.intv(0, 3, name="named"), am.oneof(["a", "b"])]

    spec = am.dna_spec(am.define_by_run(build))
    assert [p.location for p in spec.decision_points()] == ["decision_0", "named", "decision_2"]
    assert [p.name for p in spec.decision_points()] == [None, "named", None]
    assert am.materialize(
        am.define_by_run(build), am.DNA({"decision_0": 1, "named": 3, "decision_2": 0})
    ) == [2, 3, "a"]


def test_symbolic_candidates_are_fresh_copies() -> None:
    template = Layer(8)

    def build() -> Layer:
        return am.oneof([template, Layer(16)])

    space = am.define_by_run(build)
    first = am.materialize(space, am.DNA({"decision_0": 0}))
    assert first == template
    assert first is not template
    first.rebind(units=99)
    assert template.units == 8
    assert am.materialize(space, am.DNA({"decision_0": 0})).units == 8


def test_iterate_and_random_sample_a_define_by_run_space() -> None:
    def build() -> tuple[int, str]:
        return am.intv(0, 1), am.oneof(["x", "y"])

    space = am.define_by_run(build)
    assert list(am.iterate(space)) == [(0, "x"), (0, "y"), (1, "x"), (1, "y")]
    assert list(am.random_sample(space, 8, seed=5)) == list(am.random_sample(space, 8, seed=5))
    assert {s for s in am.random_sample(space, 60, seed=1)} == {
        (0, "x"),
        (0, "y"),
        (1, "x"),
        (1, "y"),
    }


# --- errors ---------------------------------------------------------------------------------


def test_a_decision_name_used_twice_is_an_error() -> None:
    with pytest.raises(am.SearchSpaceError, match="the decision name 'n' is used twice") as info:
        am.dna_spec(am.define_by_run(build_with_a_repeated_name))
    assert info.value.path == "n"


def test_a_branch_not_seen_at_collection_is_an_invalid_dna() -> None:
    space = am.define_by_run(build_branching)
    spec = am.dna_spec(space)
    assert spec.size == 2  # only what the collection pass saw
    assert am.materialize(space, am.DNA({"kind": 0})) == ("plain", None)
    with pytest.raises(
        am.InvalidDNAError, match="asked for 'fancy_rate', which the DNA does not decide"
    ) as info:
        am.materialize(space, am.DNA({"kind": 1}))
    assert info.value.path == "fancy_rate"


def test_invalid_dna_is_refused_before_the_function_runs() -> None:
    SEEN.clear()
    space = am.define_by_run(build_mlp)
    spec = am.dna_spec(space)
    runs = len(SEEN)
    dna = spec.random_dna(np.random.default_rng(0))
    with pytest.raises(am.InvalidDNAError, match=r"expected an int in \[1, 3\], got 7") as info:
        am.materialize(space, am.DNA({**dna, "depth": 7}))
    assert info.value.path == "depth"
    assert len(SEEN) == runs + 1  # the collection pass of `materialize`, no decided run


def test_nesting_define_by_run_is_an_error() -> None:
    inner = am.define_by_run(lambda: am.intv(0, 1))

    def outer() -> Any:
        return am.dna_spec(inner)

    with pytest.raises(am.SearchSpaceError, match="define-by-run spaces cannot be nested"):
        am.dna_spec(am.define_by_run(outer))


def test_custom_hyper_values_cannot_be_used_define_by_run() -> None:
    with pytest.raises(
        am.SearchSpaceError, match="custom hyper-values cannot be used in define-by-run"
    ):
        am.dna_spec(am.define_by_run(lambda: am.custom(BitString())))


def test_encode_is_refused() -> None:
    with pytest.raises(am.SearchSpaceError, match="a define-by-run space cannot encode a value"):
        am.encode(am.define_by_run(build_branching), ("plain", None))


def test_the_context_ends_with_the_run_even_on_error() -> None:
    with pytest.raises(am.SearchSpaceError):
        am.dna_spec(am.define_by_run(build_with_a_repeated_name))
    assert isinstance(am.oneof([1, 2]), OneOf)  # outside a run: a hyper-value again


def test_a_run_in_one_thread_does_not_decide_hyper_values_of_another() -> None:
    started, release = threading.Event(), threading.Event()
    outside: list[Any] = []

    def build() -> int:
        value = am.intv(0, 9)
        started.set()
        release.wait(5)
        return value

    def other_thread() -> None:
        started.wait(5)
        outside.append(am.oneof([1, 2]))
        release.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    assert am.materialize(am.define_by_run(build), am.DNA({"decision_0": 7})) == 7
    thread.join(5)
    assert len(outside) == 1 and isinstance(outside[0], OneOf)
