"""Tests of automorph's JSON errors (naming their key path), saving and loading,
and the type registry."""

from __future__ import annotations

import builtins
import importlib
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import automorph as am
from automorph.symbolic import _registry
from tests.symbolic._json_types import (
    HERE,
    Bag,
    Conv,
    Custom,
    Leaf,
    Net,
    Pair,
    Wrapper,
    sample_net,
    schedule,
)


@pytest.fixture
def isolated_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lets a test register classes without leaving them registered."""
    monkeypatch.setattr(_registry, "_TYPES", dict(_registry._TYPES))


# --- errors: unknown types and no imports -------------------------------------


def test_unknown_type_name_is_an_unknown_type_error() -> None:
    with pytest.raises(
        am.UnknownTypeError, match=r"unknown type 'no\.such\.Type'.*never imports"
    ) as info:
        am.from_json({"_type": "no.such.Type", "x": 1})
    assert isinstance(info.value, am.SerializationError)
    assert isinstance(info.value, ValueError)
    assert info.value.path == ""


def test_unknown_type_error_names_the_path() -> None:
    with pytest.raises(am.UnknownTypeError, match=r"unknown type 'nope'.* at `a\[1\]\.b`") as info:
        am.from_json({"a": [0, {"b": {"_type": "nope"}}]})
    assert info.value.path == "a[1].b"
    with pytest.raises(am.UnknownTypeError, match=r"unknown type 'nope'") as cls_info:
        am.from_json([{"_class": "nope"}])
    assert cls_info.value.path == "[0]"


@pytest.mark.parametrize(
    "name",
    [
        "antigravity.Fly",
        "this.Zen",
        "tests.symbolic.not_a_module.Thing",
        "os.system",
        "subprocess.Popen",
        "builtins.eval",
        "automorph.Object",
        "automorph.symbolic._functor.Functor",
        "automorph.symbolic._functor.ClassWrapper",
    ],
)
def test_type_names_in_json_are_never_imported_or_called(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = name.rpartition(".")[0]
    was_imported = module in sys.modules
    requested: list[str] = []
    real_import = builtins.__import__

    def spy_import(mod: str, *args: Any, **kwargs: Any) -> Any:
        requested.append(mod)
        return real_import(mod, *args, **kwargs)

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("JSON ran code")

    monkeypatch.setattr(os, "system", forbidden)
    monkeypatch.setattr(subprocess, "Popen", forbidden)
    monkeypatch.setattr(importlib, "import_module", forbidden)
    monkeypatch.setattr(builtins, "__import__", spy_import)
    for data in ({"_type": name, "args": ["echo hi"]}, {"_class": name}, [{"_type": name}]):
        with pytest.raises(am.UnknownTypeError, match=re.escape(repr(name))):
            am.from_json(data)
        with pytest.raises(am.UnknownTypeError):
            am.from_json_str(json.dumps(data))
    assert (module in sys.modules) == was_imported
    assert module not in requested


def test_type_name_must_be_a_string() -> None:
    for bad in (1, None, ["x"], {"a": 1}, True):
        with pytest.raises(
            am.SerializationError, match=r"`_type` must be a type name \(str\)"
        ) as info:
            am.from_json({"a": {"_type": bad}})
        assert info.value.path == "a"


# --- errors: malformed markers, keys -------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"_tuple": 3}, r"`_tuple` must hold a list, got 3"),
        ({"_tuple": {"a": 1}}, r"`_tuple` must hold a list"),
        ({"_tuple": "abc"}, r"`_tuple` must hold a list, got 'abc'"),
        ({"_tuple": None}, r"`_tuple` must hold a list"),
        ({"_float": "NaN"}, r"`_float` must be 'nan', 'inf' or '-inf', got 'NaN'"),
        ({"_float": "1.5"}, r"`_float` must be 'nan', 'inf' or '-inf'"),
        ({"_float": 1.5}, r"`_float` must be 'nan', 'inf' or '-inf', got 1.5"),
        ({"_float": ["nan"]}, r"`_float` must be"),
        ({"_dict": [1]}, r"`_dict` must hold an object, got \[1\]"),
        ({"_dict": "x"}, r"`_dict` must hold an object"),
        ({"_dict": None}, r"`_dict` must hold an object"),
        ({"_class": 3}, r"`_class` must hold a type name, got 3"),
        ({"_class": ["a"]}, r"`_class` must hold a type name"),
        ({"_class": {"_type": "x"}}, r"`_class` must hold a type name"),
    ],
    ids=repr,
)
def test_bad_marker_bodies_are_serialization_errors(data: dict[str, Any], message: str) -> None:
    with pytest.raises(am.SerializationError, match=message) as info:
        am.from_json(data)
    assert info.value.path == ""
    with pytest.raises(am.SerializationError, match=message) as nested:
        am.from_json({"outer": [1, data]})
    assert nested.value.path == "outer[1]"


def test_long_bad_values_are_shortened_in_messages() -> None:
    with pytest.raises(am.SerializationError, match=r"got \[0, 1, 2.*\.\.\.$"):
        am.from_json({"_float": list(range(100))})


@pytest.mark.parametrize(
    "data",
    [
        {"_tuple": [1], "a": 2},
        {"_float": "nan", "_dict": {}},
        {"_dict": {}, "x": None},
        {"_class": f"{HERE}.Conv", "filters": 1},
        {"a": 1, "_tuple": []},
    ],
    ids=repr,
)
def test_reserved_key_must_be_alone(data: dict[str, Any]) -> None:
    with pytest.raises(
        am.SerializationError, match=r"a reserved key \(_\w+.*\) must be alone"
    ) as info:
        am.from_json({"k": {"j": data}})
    assert info.value.path == "k.j"


def test_reserved_keys_next_to_type_are_unknown_fields() -> None:
    with pytest.raises(am.UnknownFieldError, match=r"Conv: no field '_tuple'") as info:
        am.from_json({"_type": f"{HERE}.Conv", "filters": 1, "_tuple": []})
    assert info.value.path == "_tuple"


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({1: "a"}, ""),
        ({"a": {None: 1}}, "a"),
        ([{("t",): 1}], "[0]"),
        ({"_dict": {"ok": 1, 2.5: 1}}, ""),
        ({"x": {"_type": f"{HERE}.Conv", "filters": 1, 7: 1}}, "x"),
    ],
    ids=repr,
)
def test_non_string_dict_keys_are_serialization_errors(data: Any, path: str) -> None:
    with pytest.raises(am.SerializationError, match=r"object keys must be str, got \w+") as info:
        am.from_json(data)
    assert info.value.path == path


# --- errors: field validation names the full path ---------------------------------


def _net_json(**layer1: Any) -> dict[str, Any]:
    data = am.to_json(sample_net())
    data["layers"][1].update(layer1)
    return data


def test_invalid_field_value_names_the_full_path() -> None:
    with pytest.raises(
        am.FieldTypeError,
        match=r"Conv: expected int.*got str \('x'\) at "
        r"`layers\[1\]\.filters`",
    ) as info:
        am.from_json(_net_json(filters="x"))
    assert info.value.path == "layers[1].filters"
    assert isinstance(info.value, TypeError)
    with pytest.raises(am.FieldValueError, match=r"out of bounds \[1, 1024\]") as bounds:
        am.from_json({"runs": [{"net": _net_json(filters=0)}]})
    assert bounds.value.path == "runs[0].net.layers[1].filters"
    assert isinstance(bounds.value, ValueError)


def test_bool_is_not_accepted_for_an_int_field() -> None:
    with pytest.raises(am.FieldTypeError, match=r"expected int.*got bool") as info:
        am.from_json(_net_json(kernel=True))
    assert info.value.path == "layers[1].kernel"


def test_wrong_container_type_for_a_field_names_the_path() -> None:
    data = am.to_json(sample_net())
    data["shape"] = [3, 3]  # a list where the field wants a tuple
    with pytest.raises(am.FieldTypeError, match=r"Net: expected tuple\[int, \.\.\.\]") as info:
        am.from_json(data)
    assert info.value.path == "shape"
    data = am.to_json(sample_net())
    data["layers"].append(5)
    with pytest.raises(am.FieldTypeError, match=r"expected .*Conv.*got int") as item:
        am.from_json(data)
    assert item.value.path == "layers[2]"


def test_class_field_rejects_a_class_outside_its_bound() -> None:
    data = am.to_json(Net(layers=[]))
    data["block"] = {"_class": f"{HERE}.Conv"}
    assert am.from_json(data).block is Conv
    data = am.to_json(Wrapper(model=Net(layers=[])))
    data["model"]["block"] = 3
    with pytest.raises(am.FieldTypeError, match=r"expected type\[Object\]") as info:
        am.from_json(data)
    assert info.value.path == "model.block"


def test_unknown_field_in_json_names_the_path() -> None:
    with pytest.raises(
        am.UnknownFieldError,
        match=r"Conv: no field 'stride'.* at "
        r"`layers\[1\]\.stride`",
    ) as info:
        am.from_json(_net_json(stride=2))
    assert info.value.path == "layers[1].stride"


def test_missing_required_field_names_the_path() -> None:
    data = _net_json()
    del data["layers"][1]["filters"]
    with pytest.raises(am.MissingFieldError, match=r"Conv: missing a value for 'filters'") as info:
        am.from_json(data)
    assert info.value.path == "layers[1].filters"
    with pytest.raises(am.MissingFieldError, match=r"missing a value for 'layers'") as top:
        am.from_json({"_type": f"{HERE}.Net"})
    assert top.value.path == "layers"


def test_failing_constructor_hook_becomes_a_serialization_error() -> None:
    with pytest.raises(
        am.SerializationError,
        match=r"constructing '.*Fragile' from JSON failed: "
        r"ZeroDivisionError",
    ) as info:
        am.from_json({"xs": [{"_type": f"{HERE}.Fragile", "n": 0}]})
    assert info.value.path == "xs[0]"
    assert am.from_json({"_type": f"{HERE}.Fragile", "n": 4}).inverse == 0.25


# --- errors: malformed text ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"a": [1, 2,]}', "line 1, column 13"),
        ("", "line 1, column 1"),
        ("[1] x", "line 1, column 5"),
        ('{\n  "a": 1,\n  "b": \n}', "line 4, column 1"),
        ("{'a': 1}", "line 1, column 2"),
    ],
    ids=repr,
)
def test_malformed_json_text_names_line_and_column(text: str, where: str) -> None:
    with pytest.raises(am.SerializationError, match=rf"malformed JSON: .*\({where}\)"):
        am.from_json_str(text)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_rejected(literal: str) -> None:
    with pytest.raises(am.SerializationError, match=rf"{re.escape(literal)} is not JSON"):
        am.from_json_str(f'{{"x": [1, {literal}]}}')
    assert math.isinf(am.from_json_str('{"_float": "-inf"}'))


def test_written_text_never_contains_nan_literals() -> None:
    text = am.to_json_str([math.nan, math.inf, -math.inf, Leaf(math.nan)])
    assert json.loads(text, parse_constant=lambda name: pytest.fail(name)) is not None


def test_non_text_is_a_serialization_error() -> None:
    with pytest.raises(am.SerializationError, match=r"malformed JSON"):
        am.from_json_str(b"\xff\xfe\x00")
    with pytest.raises(am.SerializationError, match=r"malformed JSON.*must be str, bytes"):
        am.from_json_str(12)  # type: ignore[arg-type]
    assert am.from_json_str(b'{"a": [1]}') == {"a": [1]}


# --- errors: depth ---------------------------------------------------------------

DEPTH = 100_000


def _deep_list(depth: int) -> list[Any]:
    root: list[Any] = []
    node = root
    for _ in range(depth):
        child: list[Any] = []
        node.append(child)
        node = child
    return root


def test_deeply_nested_json_text_is_a_serialization_error() -> None:
    with pytest.raises(am.SerializationError, match=r"nested too deeply"):
        am.from_json_str("[" * DEPTH + "]" * DEPTH)
    with pytest.raises(am.SerializationError, match=r"nested too deeply"):
        am.from_json_str('{"a":' * DEPTH + "1" + "}" * DEPTH)


def test_deeply_nested_python_value_is_a_serialization_error() -> None:
    deep = _deep_list(DEPTH)
    with pytest.raises(am.SerializationError, match=r"JSON is nested too deeply to read"):
        am.from_json(deep)
    with pytest.raises(am.SerializationError, match=r"nested too deeply to write"):
        am.to_json(deep)
    with pytest.raises(am.SerializationError, match=r"nested too deeply to write"):
        am.to_json_str(Leaf((deep,)))  # a tuple is a leaf: its content is not validated


def test_moderately_nested_json_still_reads() -> None:
    depth = 200
    back = am.from_json_str("[" * depth + "]" * depth)
    for _ in range(depth - 1):
        back = back[0]
    assert back == []


# --- errors: writing values JSON cannot hold --------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "path"),
    [
        (object(), "builtins.object", ""),
        (Leaf(object()), "builtins.object", "value"),
        (Leaf([1, {"s": {1, 2}}]), "builtins.set", "value[1].s"),
        (Bag(table={"bytes": b"x"}), "builtins.bytes", "table.bytes"),
        ((1, [2, 1j]), "builtins.complex", "[1][1]"),
        (Wrapper(model=Pair(left=int)), "builtins.type", "model.left"),
        (Net(layers=[Conv(1)], rates={"a": 1.0}).rebind, "builtins.method", ""),
    ],
    ids=repr,
)
def test_unwritable_leaf_is_a_serialization_error_naming_its_path(
    value: Any, kind: str, path: str
) -> None:
    with pytest.raises(
        am.SerializationError, match=rf"cannot write a {re.escape(kind)} to JSON"
    ) as info:
        am.to_json(value)
    assert info.value.path == path
    with pytest.raises(am.SerializationError):
        am.to_json_str(value)


def test_non_string_keys_of_plain_dicts_cannot_be_written() -> None:
    with pytest.raises(
        am.SerializationError,
        match=r"dict keys must be str to write JSON, "
        r"got int \(1\)",
    ) as info:
        am.to_json(Leaf(({1: "a"},)))
    assert info.value.path == "value[0]"


# --- save and load ---------------------------------------------------------------


def test_load_of_malformed_text_names_the_file(tmp_path: Path) -> None:
    target = tmp_path / "bad.json"
    target.write_text('{"a": [1,', encoding="utf-8")
    with pytest.raises(
        am.SerializationError,
        match=rf"^{re.escape(str(target))}: malformed JSON"
        r".*line 1, column 10",
    ):
        am.load(target)


def test_load_of_invalid_content_names_the_file_and_the_path(tmp_path: Path) -> None:
    target = tmp_path / "net.json"
    target.write_text(json.dumps(_net_json(filters="x")), encoding="utf-8")
    with pytest.raises(
        am.FieldTypeError, match=rf"^{re.escape(str(target))}: Conv: expected int"
    ) as info:
        am.load(str(target))
    assert info.value.path == "layers[1].filters"
    assert str(info.value).endswith("at `layers[1].filters`")
    target.write_text('[{"_type": "nope"}]', encoding="utf-8")
    with pytest.raises(am.UnknownTypeError, match=re.escape(str(target))) as unknown:
        am.load(target)
    assert unknown.value.path == "[0]"


def test_load_of_a_file_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    target = tmp_path / "binary.json"
    target.write_bytes(b"\xff\xfe{}")
    with pytest.raises(am.SerializationError, match=rf"^{re.escape(str(target))}: not UTF-8"):
        am.load(target)


def test_failed_save_leaves_the_existing_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "model.json"
    am.save(Conv(8), target)
    before = target.read_bytes()
    with pytest.raises(am.SerializationError, match=r"cannot write a builtins.object") as info:
        am.save(Wrapper(model=[Conv(1), object()]), target)
    assert info.value.path == "model[1]"
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.json"]
    assert am.load(target) == Conv(8)


def test_save_that_fails_while_replacing_removes_its_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "model.json"
    am.save(Conv(8), target)
    before = target.read_bytes()

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        am.save(Conv(9), target)
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.json"]


def test_failed_save_to_a_new_path_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(am.SerializationError):
        am.save({"a": {1, 2}}, tmp_path / "new.json")
    assert os.listdir(tmp_path) == []


# --- the registry ------------------------------------------------------------------


def test_custom_type_name_is_used_in_json() -> None:
    assert Custom._sym_type_name == "tests.json.custom"
    assert am.to_json(Custom(2)) == {"_type": "tests.json.custom", "size": 2}
    assert am.to_json(Custom) == {"_class": "tests.json.custom"}
    assert "tests.json.custom" in am.symbolic.registered_names()
    with pytest.raises(am.UnknownTypeError):
        am.from_json({"_type": f"{HERE}.Custom"})


def test_default_type_name_is_module_and_qualified_name() -> None:
    assert Conv._sym_type_name == f"{HERE}.Conv"
    assert schedule._sym_type_name == f"{HERE}.schedule"
    assert f"{HERE}.Conv" in am.symbolic.registered_names()


def test_functor_and_wrapper_bases_are_not_registered() -> None:
    names = am.symbolic.registered_names()
    assert "automorph.symbolic._functor.Functor" not in names
    assert "automorph.symbolic._functor.ClassWrapper" not in names
    assert names == sorted(names)


@pytest.mark.usefixtures("isolated_registry")
def test_two_classes_claiming_one_type_name_is_a_registration_error() -> None:
    class First(am.Object, type_name="tests.json.dup"):
        x: int = 0

    with pytest.raises(
        am.RegistrationError,
        match=r"type name 'tests\.json\.dup' is already "
        r"registered by .*First; pass another `type_name` for .*Second",
    ):

        class Second(am.Object, type_name="tests.json.dup"):
            y: int = 0

    assert am.from_json({"_type": "tests.json.dup", "x": 3}) == First(3)
    with pytest.raises(am.RegistrationError, match=r"already registered"):
        am.symbolize(type_name="tests.json.dup")(lambda a: a)
    with pytest.raises(ValueError):

        class Third(am.Object, type_name="tests.json.dup"):
            pass


@pytest.mark.usefixtures("isolated_registry")
def test_class_cannot_take_the_default_name_of_another() -> None:
    with pytest.raises(am.RegistrationError, match=rf"{re.escape(HERE)}\.Conv"):

        class Impostor(am.Object, type_name=f"{HERE}.Conv"):
            pass

    assert am.from_json({"_type": f"{HERE}.Conv", "filters": 2}) == Conv(2)


def _define_same(default: int) -> type[am.Object]:
    class Same(am.Object, type_name="tests.json.same"):
        x: int = default

    return Same


def _define_same_default_name(default: int) -> type[am.Object]:
    class Redefined(am.Object):
        x: int = default

    return Redefined


@pytest.mark.usefixtures("isolated_registry")
@pytest.mark.parametrize("define", [_define_same, _define_same_default_name])
def test_redefining_the_same_class_replaces_it_silently(define: Any) -> None:
    old = define(1)
    new = define(2)
    assert old is not new
    assert old._sym_type_name == new._sym_type_name
    back = am.from_json(am.to_json(old()))
    assert type(back) is new
    assert back.x == 1
    assert am.from_json({"_type": new._sym_type_name}).x == 2
    assert am.from_json({"_class": new._sym_type_name}) is new


def test_isolated_registry_fixture_restores_the_registry() -> None:
    assert "tests.json.dup" not in am.symbolic.registered_names()
    assert "tests.json.same" not in am.symbolic.registered_names()
