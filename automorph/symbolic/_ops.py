"""Operations on any value, symbolic or not: `clone`, `query`, `sym_lt`."""

from __future__ import annotations

import copy
import functools
import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any

from automorph.symbolic._base import Symbolic, sym_eq
from automorph.symbolic._keypath import Key, KeyPath
from automorph.symbolic._spec import ROOT
from automorph.utils import MISSING

__all__ = ["clone", "collect", "query", "sym_compare", "sym_lt", "without_defaults"]


def clone(value: Any, deep: bool = False) -> Any:
    """A copy of any value: symbolic nodes are cloned, other values copied.

    Args:
        value: Any value.
        deep: Copy everything inside too (`copy.deepcopy` for non-symbolic
            values); if False, a symbolic node is cloned as `Symbolic.clone`
            does and another value is copied shallowly (`copy.copy`).

    >>> import automorph as am
    >>> inner = [1, 2]
    >>> outer = am.clone({"a": inner}, deep=True)
    >>> outer == {"a": [1, 2]}, outer["a"] is inner
    (True, False)
    """
    if isinstance(value, Symbolic):
        return value._sym_clone(deep, {})
    return copy.deepcopy(value) if deep else copy.copy(value)


def query(
    value: Any,
    path: str | Callable[[KeyPath], bool] | None = None,
    where: Callable[[Any], bool] | Callable[[Any, Any], bool] | None = None,
    type: type | tuple[type, ...] | None = None,  # noqa: A002 - reads naturally
    enter_selected: bool = True,
) -> dict[KeyPath, Any]:
    """The values in `value` (itself included) that match every given test.

    Works as `Symbolic.query` (see it for the arguments) on any value; under
    a plain list, tuple or dict it also looks inside.

    >>> import automorph as am
    >>> am.query({"a": [1, 2], "b": 2}, where=lambda v: v == 2)
    {KeyPath('a[1]'): 2, KeyPath('b'): 2}
    """
    path_ok: Callable[[KeyPath], bool]
    if isinstance(path, str):
        regex = re.compile(path)
        path_ok = lambda p: regex.fullmatch(str(p)) is not None  # noqa: E731
    else:
        path_ok = path if path is not None else (lambda p: True)
    test: Callable[[Any, Any], bool] | None = None
    if where is not None:
        if _arity(where) >= 2:
            test = where  # type: ignore[assignment]
        else:
            test = lambda v, _parent: where(v)  # type: ignore[call-arg]  # noqa: E731
    plain = not isinstance(value, Symbolic)
    found: dict[KeyPath, Any] = {}

    def visit(node: Any, at: KeyPath, parent: Any) -> None:
        selected = (
            (type is None or isinstance(node, type))
            and path_ok(at)
            and (test is None or test(node, parent))
        )
        if selected:
            found[at] = node
            if not enter_selected:
                return
        for key, child in _children(node, plain):
            visit(child, at.child(key), node)

    visit(value, ROOT, None)
    return found


def _arity(fn: Callable[..., Any]) -> int:
    """How many positional arguments `fn` takes (2 if it takes *args)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    count = 0
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            return 2
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


def _children(node: Any, plain: bool) -> Iterator[tuple[Key, Any]]:
    if isinstance(node, Symbolic):
        return node.sym_items()
    if plain and isinstance(node, (list, tuple)):
        return enumerate(node)
    if plain and isinstance(node, dict):
        return iter(node.items())
    return iter(())


# --- symbolic ordering ---------------------------------------------------------

_KIND = {type(None): 1, bool: 2, int: 2, float: 2, str: 3}


def _kind(value: Any) -> tuple[int, str]:
    """The rank of a value's kind in `sym_lt`'s order across types."""
    rank = _KIND.get(type(value))
    if rank is not None:
        return rank, ""
    if value is MISSING:
        return 0, ""
    for rank, base in ((2, (int, float)), (3, str), (4, list), (5, tuple), (6, (set, frozenset))):
        if isinstance(value, base):
            return rank, ""
    if isinstance(value, dict):
        return 7, ""
    return 8, f"{type(value).__qualname__} {type(value).__module__}"


def sym_compare(a: Any, b: Any) -> int:
    """-1, 0 or 1 as `a` is before, the same as, or after `b` in `sym_lt`'s order."""
    if a is b:
        return 0
    ka, kb = _kind(a), _kind(b)
    if ka != kb:
        return -1 if ka < kb else 1
    if ka[0] in (2, 3):
        if a != b:
            return -1 if a < b else 1
    elif isinstance(a, Symbolic) or ka[0] in (4, 5, 7):
        items_a, items_b = _ordered_items(a), _ordered_items(b)
        for (key_a, va), (key_b, vb) in zip(items_a, items_b, strict=False):
            if key_a != key_b:
                return -1 if _key_order(key_a) < _key_order(key_b) else 1
            result = sym_compare(va, vb)
            if result:
                return result
        if len(items_a) != len(items_b):
            return -1 if len(items_a) < len(items_b) else 1
    elif ka[0] == 6:
        result = sym_compare(_sorted(a), _sorted(b))
        if result:
            return result
    else:
        result = _leaf_compare(a, b)
        if result:
            return result
    # Equal by value: tell apart types that `sym_eq` tells apart (1 and 1.0,
    # a list and an am.List), by type name.
    if type(a) is not type(b):
        ta = f"{type(a).__qualname__} {type(a).__module__}"
        tb = f"{type(b).__qualname__} {type(b).__module__}"
        return -1 if ta < tb else 1
    return 0


def _key_order(key: Key) -> tuple[int, Any]:
    return (0, key) if type(key) is int else (1, key)


def _ordered_items(value: Any) -> list[tuple[Key, Any]]:
    if isinstance(value, Symbolic):
        items = list(value.sym_items())
    elif isinstance(value, dict):
        items = list(value.items())
    else:
        items = list(enumerate(value))
    if isinstance(value, dict):
        items.sort(key=lambda kv: _key_order(kv[0]))
    return items


def _sorted(values: Any) -> list[Any]:
    return sorted(values, key=functools.cmp_to_key(sym_compare))


def _leaf_compare(a: Any, b: Any) -> int:
    own = getattr(type(a), "sym_lt", None)
    if own is not None and not isinstance(a, type):
        if a.sym_lt(b):
            return -1
        return 1 if b.sym_lt(a) else 0
    if sym_eq(a, b):
        return 0
    try:
        if bool(a < b):
            return -1
        if bool(b < a):
            return 1
    except Exception:  # noqa: BLE001 - values without an order of their own
        pass
    return 0


def sym_lt(a: Any, b: Any) -> bool:
    """Whether `a` comes before `b` in the symbolic order of values.

    A total order over values of any types, consistent with `sym_eq`
    (neither is before the other exactly when they are `sym_eq`, for values
    that can be compared at all):

    - across kinds: `MISSING` < None < numbers (bool, int, float) < str <
      lists < tuples < sets < dicts < any other class (by class name);
    - numbers and strings by `<`; equal numbers of different types by type
      name (`1 < 1.0`);
    - lists, tuples and symbolic objects by their first differing item,
      then by length; dicts the same way, with their keys in sorted order;
    - a non-symbolic leaf with a `sym_lt(other)` method decides for itself.

    >>> import automorph as am
    >>> am.sym_lt(None, 0), am.sym_lt(1, "a"), am.sym_lt([1, 2], [1, 3]), am.sym_lt("b", "a")
    (True, True, True, False)
    """
    return sym_compare(a, b) < 0


def collect(node: Symbolic, flatten: bool, missing: bool) -> dict[Any, Any]:
    """`missing_values` (missing=True) or `non_default_values` of `node`."""
    out: dict[Any, Any] = {}
    for key, value in node.sym_items():
        default = node._sym_default(key)
        if value is MISSING:
            if missing:
                out[key] = MISSING
            continue
        if isinstance(value, Symbolic):
            if not missing and default is not MISSING and sym_eq(value, default):
                continue
            inner = collect(value, flatten, missing)
            if inner:
                out[key] = inner
        elif not missing and (default is MISSING or not sym_eq(value, default)):
            out[key] = value
    if flatten:
        return {str(p): v for p, v in _flat(out, ROOT)}
    return out


def _flat(nested: dict[Any, Any], at: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
    for key, value in nested.items():
        if type(value) is dict:
            yield from _flat(value, at.child(key))
        else:
            yield at.child(key), value


def without_defaults(value: Any) -> Any:
    """A copy of `value` whose object fields that hold their default are `MISSING`.

    Used to write JSON without default values (`to_json(hide_default_values=True)`).
    """
    if isinstance(value, Symbolic):
        return value._sym_without_defaults()
    if isinstance(value, (list, tuple)):
        return type(value)(without_defaults(v) for v in value)
    if isinstance(value, dict):
        return type(value)((k, without_defaults(v)) for k, v in value.items())
    return value
