"""Plain dicts and lists holding hyper-values are searched as am.Dict / am.List."""

from __future__ import annotations

import pytest

import automorph as am
from automorph.hyper import Template


def plain_space() -> dict[str, object]:
    return {"x": am.intv(0, 3), "y": [am.oneof([1, 2]), {"z": am.oneof(["a", "b"])}]}


def test_a_plain_dict_is_searched_with_its_nested_plain_containers() -> None:
    template = Template(plain_space())
    ids = [p.location for p in template.spec.decision_points()]
    assert ids == ["x", "y[0]", "y[1].z"]
    example = template.materialize(am.DNA({"x": 2, "y[0]": 1, "y[1].z": 0}))
    assert example == {"x": 2, "y": [2, {"z": "a"}]}
    # Examples come back as am.Dict / am.List: dict and list subclasses.
    assert isinstance(example, am.Dict) and isinstance(example, dict)
    assert isinstance(example["y"], am.List) and isinstance(example["y"], list)


def test_every_example_of_a_plain_space_is_decided() -> None:
    examples = list(am.iterate(plain_space()))
    assert len(examples) == 4 * 2 * 2
    assert all(not isinstance(v, am.hyper.HyperValue) for e in examples for v in e.values())
    result = am.tune(lambda e: float(e["x"]), plain_space(), am.algorithms.Grid())
    assert result.best_example["x"] == 3 and result.num_completed == 16


def test_a_plain_list_and_encode_with_plain_values() -> None:
    space = [am.oneof([16, 32]), am.floatv(0.0, 1.0)]
    assert [p.location for p in am.dna_spec(space).decision_points()] == ["[0]", "[1]"]
    dna = am.encode(space, [32, 0.5])
    assert dna == am.DNA({"[0]": 1, "[1]": 0.5})
    assert am.materialize(space, dna) == [32, 0.5]
    assert am.encode(plain_space(), {"x": 1, "y": [2, {"z": "b"}]}) == am.DNA(
        {"x": 1, "y[0]": 1, "y[1].z": 1}
    )


def test_plain_containers_in_a_top_level_tuple() -> None:
    examples = list(am.iterate((am.oneof([1, 2]), {"a": am.oneof(["p", "q"])})))
    assert examples == [(1, {"a": "p"}), (1, {"a": "q"}), (2, {"a": "p"}), (2, {"a": "q"})]


def test_a_plain_container_deep_in_a_symbolic_tree_is_refused_with_the_fix() -> None:
    space = am.List([am.oneof([1, 2]), (3, {"a": am.oneof(["p", "q"])})])
    with pytest.raises(
        am.SearchSpaceError, match=r"plain dict .* write it as am\.Dict.*\[1\]\[1\]"
    ):
        Template(space)
    space = am.List([(3, [am.intv(0, 2)])])
    with pytest.raises(am.SearchSpaceError, match=r"plain list .* am\.List"):
        Template(space)
