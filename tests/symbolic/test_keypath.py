"""Tests of `am.KeyPath`: parsing, printing, comparison, navigation and lookup."""

# am.Object copies mutable field defaults per instance, so `table: dict[str, Any] = {}` is safe.

from __future__ import annotations

import pickle
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import automorph as am
from automorph.symbolic import KeyPath


class Leaf(am.Object):
    value: int


class Holder(am.Object):
    items: list[Leaf]
    table: dict[str, Any] = {}


# --- parsing and printing ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("", ()),
        ("a", ("a",)),
        ("a.b", ("a", "b")),
        ("model.layers[2].filters", ("model", "layers", 2, "filters")),
        ("a[-1]", ("a", -1)),
        ("[0]", (0,)),
        ("[0].x", (0, "x")),
        ("[0][1]", (0, 1)),
        ("a[10][-3]", ("a", 10, -3)),
        ("d['a b']", ("d", "a b")),
        ('d["a b"]', ("d", "a b")),
        ("['1st'].x", ("1st", "x")),
        ("d['']", ("d", "")),
        ("d['a.b'].c", ("d", "a.b", "c")),
        ("d['[0]']", ("d", "[0]")),
        ("_private.x_1", ("_private", "x_1")),
    ],
)
def test_parse_reads_keys(text: str, keys: tuple[Any, ...]) -> None:
    assert KeyPath.parse(text).keys == keys


@pytest.mark.parametrize(
    ("keys", "text"),
    [
        ((), ""),
        (("a",), "a"),
        (("model", "layers", 2, "filters"), "model.layers[2].filters"),
        ((0, "x"), "[0].x"),
        (("a", -1), "a[-1]"),
        (("d", "a b"), "d['a b']"),
        (("d", "a.b", "c"), "d['a.b'].c"),
        (("d", "it's"), 'd["it\'s"]'),
        (("2x",), "['2x']"),
        (("d", ""), "d['']"),
    ],
)
def test_str_writes_python_access_syntax(keys: tuple[Any, ...], text: str) -> None:
    path = KeyPath(keys)
    assert str(path) == text
    assert repr(path) == f"KeyPath({text!r})"
    assert KeyPath.parse(text).keys == keys


@pytest.mark.parametrize(
    "key",
    [
        "a b",
        "it's",
        'say "hi"',
        "both ' and \"",
        "back\\slash",
        "new\nline",
        "tab\t",
        "\x00",
        "\u2028",
        "é",
        "😀",
        "a]b",
        "a['b']",
    ],
)
def test_quoted_keys_round_trip(key: str) -> None:
    path = KeyPath(["d", key, 3])
    assert KeyPath.parse(str(path)).keys == ("d", key, 3)


_keys = st.one_of(st.integers(min_value=-(10**6), max_value=10**6), st.text(max_size=8))


@given(st.lists(_keys, max_size=6))
def test_any_key_path_round_trips_through_str(keys: list[Any]) -> None:
    path = KeyPath(keys)
    parsed = KeyPath.parse(str(path))
    assert parsed.keys == tuple(keys)
    assert parsed == path
    assert hash(parsed) == hash(path)


def test_parse_returns_a_key_path_as_is() -> None:
    path = KeyPath(["a", 1])
    assert KeyPath.parse(path) is path


def test_non_canonical_text_parses_to_canonical_path() -> None:
    path = KeyPath.parse("d['a']")
    assert path.keys == ("d", "a")
    assert str(path) == "d.a"


# --- malformed paths -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("a..b", 2),
        ("a.", 1),
        (".a", 0),
        ("a[", 1),
        ("a[x]", 1),
        ("a['x", 1),
        ("a b", 1),
        ("[0]x", 3),
        ("a]", 1),
        ("a[1", 1),
        ("a[1.5]", 1),
        ("a['x'b]", 5),
        ("a.1", 2),
        ("a[ 1]", 1),
    ],
)
def test_malformed_path_raises_key_path_error_naming_input(text: str, position: int) -> None:
    expected = f"malformed key path {re.escape(repr(text))} at position {position}: "
    with pytest.raises(am.KeyPathError, match=expected) as info:
        KeyPath.parse(text)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, am.AutomorphError)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("a..b", "expected a name"),
        ("a.", "may not start or end with '.'"),
        (".a", "may not start or end with '.'"),
        ("a[x]", "must hold an integer index or a quoted key"),
        ("a['x", "unterminated quoted key"),
        ("a b", "expected '.' or '\\[', found ' '"),
        ("a['x'b]", "expected '\\]' after a quoted key"),
    ],
)
def test_malformed_path_message_says_why(text: str, why: str) -> None:
    with pytest.raises(am.KeyPathError, match=why):
        KeyPath.parse(text)


@pytest.mark.parametrize("bad", [3, 1.5, None, ["a"], b"a"])
def test_parse_rejects_non_str(bad: Any) -> None:
    with pytest.raises(
        am.KeyPathError, match=f"a key path must be a str or a KeyPath, got {type(bad).__name__}"
    ):
        KeyPath.parse(bad)


@pytest.mark.parametrize(
    ("keys", "index", "type_name"),
    [
        ([1.5], 0, "float"),
        (["a", None], 1, "NoneType"),
        (["a", "b", True], 2, "bool"),
        ([("a",)], 0, "tuple"),
        ([b"a"], 0, "bytes"),
    ],
)
def test_constructor_rejects_keys_that_are_not_str_or_int(
    keys: list[Any], index: int, type_name: str
) -> None:
    with pytest.raises(
        am.KeyPathError,
        match=f"key #{index} of a key path must be a str or an int, got {type_name}",
    ):
        KeyPath(keys)


# --- equality, hashing, ordering -------------------------------------------


def test_equals_and_hashes_like_its_string() -> None:
    path = KeyPath(["a", 0, "b c"])
    assert path == "a[0]['b c']"
    assert "a[0]['b c']" == path
    assert hash(path) == hash("a[0]['b c']")
    assert path != "a[1]['b c']"
    assert {path: 1}["a[0]['b c']"] == 1
    assert "a[0]['b c']" in {path}


def test_equality_between_paths_is_by_keys() -> None:
    assert KeyPath(["a", 1]) == KeyPath.parse("a[1]")
    assert KeyPath(["a", 1]) != KeyPath(["a", "1"])
    assert KeyPath(["a"]) != KeyPath(["a", "b"])
    assert KeyPath() == ""
    assert KeyPath(["a"]) != 1
    assert KeyPath(["a"]) != ["a"]


def test_sorting_puts_indices_before_names() -> None:
    paths = [KeyPath.parse(p) for p in ["b", "a[1]", "a.x", "a[0]", "a"]]
    assert [str(p) for p in sorted(paths)] == ["a", "a[0]", "a[1]", "a.x", "b"]


def test_pickle_round_trip() -> None:
    path = KeyPath(["d", "a b", -2])
    restored = pickle.loads(pickle.dumps(path))
    assert restored == path
    assert restored.keys == path.keys


def test_iteration_and_len() -> None:
    path = KeyPath.parse("a[2].b")
    assert list(path) == ["a", 2, "b"]
    assert len(path) == path.depth == 3
    assert not KeyPath().keys and KeyPath().depth == 0


# --- navigation ---------------------------------------------------------------


def test_parent_key_and_child() -> None:
    path = KeyPath.parse("a.b[3]")
    assert path.key == 3
    assert path.parent == "a.b"
    assert path.parent.parent == "a"
    assert path.parent.parent.parent == ""
    assert path.parent.parent.parent.is_root
    assert not path.is_root
    assert path.parent.child(3) == path
    assert KeyPath().child("x") == "x"
    assert KeyPath().child(0) == "[0]"
    assert KeyPath().key is None


def test_root_has_no_parent() -> None:
    with pytest.raises(am.PathNotFoundError, match="the root key path has no parent"):
        _ = KeyPath().parent


def test_division_joins_paths() -> None:
    base = KeyPath.parse("a")
    assert base / "b.c" == "a.b.c"
    assert base / 2 == "a[2]"
    assert base / KeyPath([0, "x"]) == "a[0].x"
    assert KeyPath() / "x" == "x"


def test_is_prefix_of() -> None:
    a = KeyPath.parse("a.b")
    assert a.is_prefix_of("a.b")
    assert a.is_prefix_of("a.b[0].c")
    assert a.is_prefix_of(KeyPath(["a", "b", "x"]))
    assert not a.is_prefix_of("a")
    assert not a.is_prefix_of("a.bc")
    assert not a.is_prefix_of("x.a.b")
    assert KeyPath().is_prefix_of("anything[0]")


def test_relative_to() -> None:
    path = KeyPath.parse("model.layers[2].filters")
    assert path.relative_to("model") == "layers[2].filters"
    assert path.relative_to(KeyPath(["model", "layers"])) == "[2].filters"
    assert path.relative_to(path) == ""
    assert path.relative_to("") == path


def test_relative_to_a_non_prefix_raises() -> None:
    path = KeyPath.parse("a.b")
    with pytest.raises(am.KeyPathError, match=re.escape("a.c is not a prefix of a.b")):
        path.relative_to("a.c")
    with pytest.raises(am.KeyPathError, match=re.escape("a.b.c is not a prefix of a.b")):
        path.relative_to("a.b.c")


# --- get -----------------------------------------------------------------------


def test_get_on_plain_nested_dicts_and_lists() -> None:
    root = {"a": [10, {"b c": (1, 2, 3)}], "x": {"y": None}}
    assert KeyPath.parse("a[0]").get(root) == 10
    assert KeyPath.parse("a[-1]['b c'][2]").get(root) == 3
    assert KeyPath.parse("x.y").get(root) is None
    assert KeyPath().get(root) is root


def test_get_on_symbolic_objects() -> None:
    holder = Holder([Leaf(1), Leaf(2)], table={"k": [5, 6]})
    assert KeyPath.parse("items[1].value").get(holder) == 2
    assert KeyPath.parse("items[-2]").get(holder) is holder.items[0]
    assert KeyPath.parse("table.k[1]").get(holder) == 6
    # get() on a node resolves relative to that node.
    assert KeyPath.parse("value").get(holder.items[0]) == 1


@pytest.mark.parametrize(
    ("path", "missing_at", "message"),
    [
        ("items[5].value", "items[5]", "no index 5 in a list of 2 items"),
        ("items[0].nope", "items[0].nope", "Leaf has no field 'nope'"),
        ("nope", "nope", "Holder has no field 'nope'"),
        ("table.zz", "table.zz", "no key 'zz' in the dict"),
        ("items.x", "items.x", "no index 'x'"),
        ("items[0].value.deeper", "items[0].value.deeper", "no key 'deeper' in the int"),
    ],
)
def test_get_missing_key_raises_path_not_found(path: str, missing_at: str, message: str) -> None:
    holder = Holder([Leaf(1), Leaf(2)], table={"k": 1})
    with pytest.raises(am.PathNotFoundError, match=re.escape(message)) as info:
        KeyPath.parse(path).get(holder)
    assert info.value.path == missing_at
    assert isinstance(info.value, LookupError)


@pytest.mark.parametrize(
    ("root", "path", "missing_at"),
    [
        ({"a": [1, 2]}, "a[2]", "a[2]"),
        ({"a": [1, 2]}, "a[-3]", "a[-3]"),
        ({"a": [1, 2]}, "a.b", "a.b"),
        ({"a": {"b": 1}}, "a[0]", "a[0]"),
        ({"a": {"b": 1}}, "a.c.d", "a.c"),
        ([1], "x", "x"),
    ],
)
def test_get_missing_key_in_plain_values(root: Any, path: str, missing_at: str) -> None:
    with pytest.raises(am.PathNotFoundError, match="no key") as info:
        KeyPath.parse(path).get(root)
    assert info.value.path == missing_at
