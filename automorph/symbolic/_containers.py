"""Symbolic containers: `am.List` and `am.Dict`.

They behave as the built-in `list` and `dict` (they subclass them), and are
also symbolic nodes: their items know their key paths, every change is
validated against the container's item spec, and changes notify ancestors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, SupportsIndex, cast

from automorph.symbolic import _spec
from automorph.symbolic._base import (
    FLAGS,
    FieldUpdate,
    Symbolic,
    _notify,
    clone_value,
    moved,
    sym_hash,
    values_equal,
)
from automorph.symbolic._format import _FormatContext, format_block, format_value
from automorph.symbolic._keypath import Key, KeyPath
from automorph.symbolic._ops import without_defaults
from automorph.symbolic._spec import ANY, ValueSpec
from automorph.symbolic._txn import Transaction
from automorph.utils import MISSING, FieldTypeError, PathNotFoundError

__all__ = ["Dict", "List"]

OnChange = Callable[[dict[KeyPath, FieldUpdate]], Any]


def _set_callback(node: Symbolic, callback: OnChange | None) -> None:
    if callback is not None:
        if not callable(callback):
            raise FieldTypeError(
                "`onchange_callback` must be a function taking the updates "
                f"(dict of key path to FieldUpdate), got {type(callback).__name__}"
            )
        FLAGS.callbacks = True
        object.__setattr__(node, "_sym_callback", callback)


def _link_moved(node: Symbolic, items: Iterable[tuple[Key, Any]]) -> None:
    """Tells the children of a new node (a copy) that they have a parent now."""
    for key, value in items:
        if isinstance(value, Symbolic):
            moved(value, None, key)


class List(list, Symbolic):  # type: ignore[type-arg]
    """A symbolic list: a `list` whose items know their key paths.

    >>> import automorph as am
    >>> layers = am.List([am.Dict(units=8), am.Dict(units=16)])
    >>> str(layers[1].sym_path)
    '[1]'
    >>> layers.append(am.Dict(units=32))
    >>> layers.query(path=r"\\[\\d+\\]\\.units")
    {KeyPath('[0].units'): 8, KeyPath('[1].units'): 16, KeyPath('[2].units'): 32}

    `+`, `*` and `copy()` give `am.List`s (`[...] + am.List(...)` gives a
    plain list, as with any list subclass). `onchange_callback(updates)` is
    called after every change of the list or anything under it, with the
    updates keyed by key path (relative to the list).
    """

    __slots__ = ("_sym_callback", "_sym_key", "_sym_parent", "_sym_sealed", "_sym_spec")

    _sym_spec: ValueSpec

    def __init__(
        self, items: Iterable[Any] = (), *, onchange_callback: OnChange | None = None
    ) -> None:
        object.__setattr__(self, "_sym_parent", None)
        object.__setattr__(self, "_sym_key", None)
        object.__setattr__(self, "_sym_spec", ANY)
        with Transaction():
            list.__init__(self, self._sym_validate_items(list(items), 0, _spec.ROOT))
        if onchange_callback is not None:
            _set_callback(self, onchange_callback)

    @classmethod
    def _sym_from_spec(cls, value: list[Any], item: ValueSpec, path: KeyPath) -> List:
        """The `am.List` to store for `value` under a field whose items match `item`."""
        if type(value) is List and value._sym_parent is None and value._sym_spec is item:
            return value
        new = list.__new__(List)
        object.__setattr__(new, "_sym_parent", None)
        object.__setattr__(new, "_sym_key", None)
        object.__setattr__(new, "_sym_spec", item)
        list.__init__(new, new._sym_validate_items(value, 0, path))
        return new

    @classmethod
    def _sym_trusted(cls, items: list[Any], item: ValueSpec) -> List:
        new = list.__new__(List)
        object.__setattr__(new, "_sym_parent", None)
        object.__setattr__(new, "_sym_key", None)
        object.__setattr__(new, "_sym_spec", item)
        for i, value in enumerate(items):
            if isinstance(value, Symbolic):
                object.__setattr__(value, "_sym_key", i)
                object.__setattr__(value, "_sym_parent", new)
        list.__init__(new, items)
        if FLAGS.moves:
            _link_moved(new, enumerate(items))
        return new

    def _sym_validate_items(self, values: list[Any], start: int, path: KeyPath) -> list[Any]:
        spec = self._sym_spec
        adopt = self._sym_adopt
        out: list[Any] = []
        i = start
        for value in values:
            if value is MISSING:  # MISSING means "no value": the item is left out
                continue
            value = spec.apply(value, path, i)
            out.append(adopt(i, value) if isinstance(value, Symbolic) else value)
            i += 1
        return out

    # --- Symbolic ----------------------------------------------------------

    def sym_items(self) -> Iterator[tuple[Key, Any]]:
        return enumerate(list.__iter__(self))

    def sym_get(self, key: Key, where: KeyPath | None = None) -> Any:
        if type(key) is int and -len(self) <= key < len(self):
            return list.__getitem__(self, key)
        where = self.sym_path if where is None else where
        raise PathNotFoundError(
            f"no index {key!r} in a list of {len(self)} items", path=where.child(key)
        )

    def _sym_peek(self, key: Key) -> Any:
        if type(key) is int and 0 <= key < len(self):
            return list.__getitem__(self, key)
        return MISSING

    def _sym_normalize_key(self, key: Key) -> Key:
        if type(key) is int and key < 0:
            return key + len(self)
        return key

    def _sym_spec_for(self, key: Key, where: KeyPath) -> ValueSpec:
        if type(key) is int and 0 <= key < len(self):
            return self._sym_spec
        raise PathNotFoundError(
            f"no index {key!r} in a list of {len(self)} items (use append or insert to add items)",
            path=where,
        )

    def _sym_store(self, key: Key, value: Any) -> None:
        list.__setitem__(self, cast(int, key), value)

    def _sym_missing(self, key: Key, where: KeyPath) -> Any:
        raise PathNotFoundError(
            "list items cannot be rebound to MISSING; use `del` or `pop`", path=where
        )

    def _sym_clone(self, deep: bool, memo: dict[int, Any]) -> List:
        return List._sym_trusted(
            [clone_value(v, deep, memo) for v in list.__iter__(self)], self._sym_spec
        )

    def _sym_format(self, ctx: _FormatContext, indent: int) -> str:
        items = list(list.__iter__(self))
        parts = [format_value(v, ctx, indent + 1) for v in items[: None if ctx.verbose else 10]]
        if not ctx.verbose and len(items) > 10:
            parts.append(f"... {len(items) - 10} more")
        return format_block("[", "]", parts, ctx, indent)

    def _sym_without_defaults(self) -> List:
        return List._sym_trusted([without_defaults(v) for v in list.__iter__(self)], self._sym_spec)

    def _on_change(self, updates: dict[KeyPath, FieldUpdate]) -> None:
        callback = getattr(self, "_sym_callback", None)
        if callback is not None:
            callback(updates)

    # --- copies and operators that give am.Lists ------------------------------

    def copy(self) -> List:
        """A copy, as `clone()` (symbolic items are copied: a node has one parent)."""
        return self._sym_clone(False, {})

    def __add__(self, other: Any) -> List:
        if not isinstance(other, list):
            return NotImplemented
        return List._sym_from_spec([*list.__iter__(self), *other], self._sym_spec, _spec.ROOT)

    def __mul__(self, n: SupportsIndex) -> List:
        if not hasattr(n, "__index__"):
            return NotImplemented
        return List._sym_from_spec(list(list.__iter__(self)) * int(n), self._sym_spec, _spec.ROOT)

    __rmul__ = __mul__

    # --- list mutators, validated and notified ------------------------------

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            items = list(list.__iter__(self))
            items[index] = list(value)
            self._sym_replace_all(items)
        else:
            self._apply_updates([(KeyPath._trusted((index,)), value)], True)

    def __delitem__(self, index: Any) -> None:
        items = list(list.__iter__(self))
        del items[index]
        self._sym_replace_all(items)

    def append(self, value: Any) -> None:
        if value is MISSING:  # no value: nothing to append
            return
        if FLAGS.sealed:
            self._sym_refuse_write("append to the list")
        i = len(self)
        value = self._sym_validate_items([value], i, self.sym_path)[0]
        list.append(self, value)
        _notify([(self, i, MISSING, value)])

    def extend(self, values: Iterable[Any]) -> None:
        self._sym_replace_all([*list.__iter__(self), *values])

    def insert(self, index: SupportsIndex, value: Any) -> None:
        items = list(list.__iter__(self))
        items.insert(index, value)
        self._sym_replace_all(items)

    def pop(self, index: SupportsIndex = -1) -> Any:
        items = list(list.__iter__(self))
        value = items.pop(index)
        self._sym_replace_all(items)
        return value

    def remove(self, value: Any) -> None:
        items = list(list.__iter__(self))
        items.remove(value)
        self._sym_replace_all(items)

    def clear(self) -> None:
        self._sym_replace_all([])

    def sort(self, *, key: Callable[[Any], Any] | None = None, reverse: bool = False) -> None:
        self._sym_replace_all(sorted(list.__iter__(self), key=key, reverse=reverse))

    def reverse(self) -> None:
        self._sym_replace_all(list(reversed(list(list.__iter__(self)))))

    def __iadd__(self, values: Iterable[Any]) -> List:  # type: ignore[misc]
        self.extend(values)
        return self

    def __imul__(self, n: SupportsIndex) -> List:
        self._sym_replace_all(list(list.__iter__(self)) * int(n))
        return self

    def _sym_replace_all(self, items: list[Any]) -> None:
        """Makes the list hold `items`: new ones validated, old ones re-keyed."""
        if FLAGS.sealed:
            self._sym_refuse_write("change the list")
        old = list(list.__iter__(self))
        mine = {id(v) for v in old if isinstance(v, Symbolic)}
        path = self.sym_path
        seen: set[int] = set()
        new: list[Any] = []
        for i, value in enumerate(v for v in items if v is not MISSING):
            if id(value) in mine and id(value) not in seen:
                seen.add(id(value))
                new.append(value)
            else:
                value = self._sym_spec.apply(value, path, i)
                # A node held elsewhere (or a second copy of one of ours) is copied.
                if isinstance(value, Symbolic) and value._sym_parent is not None:
                    value = value._sym_clone(False, {})
                new.append(value)
        moves = FLAGS.moves
        was: list[tuple[Symbolic, Any, Any]] = []
        for value in old:
            if isinstance(value, Symbolic) and id(value) not in seen:
                object.__setattr__(value, "_sym_parent", None)
                if moves:
                    was.append((value, self, value._sym_key))
        for i, value in enumerate(new):
            if isinstance(value, Symbolic):
                if moves:
                    was.append((value, value._sym_parent, value._sym_key))
                object.__setattr__(value, "_sym_parent", None)
                if moves:
                    _relink(self, i, value)
                else:
                    self._sym_adopt(i, value)
        list.__init__(self, new)
        for node, old_parent, old_key in was:
            if node._sym_parent is not old_parent or node._sym_key != old_key:
                moved(node, old_parent, old_key)
        changes = [
            (self, i, old[i] if i < len(old) else MISSING, new[i] if i < len(new) else MISSING)
            for i in range(max(len(old), len(new)))
            if i >= len(old) or i >= len(new) or old[i] is not new[i]
        ]
        if changes:
            _notify(changes)  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        try:
            return list.__eq__(self, other)
        except (ValueError, TypeError):
            return values_equal(list(list.__iter__(self)), other)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:  # type: ignore[override]
        try:
            return hash(tuple(list.__iter__(self)))
        except TypeError:  # an unhashable leaf (a numpy array)
            return sym_hash(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore_list, (list(list.__iter__(self)), self._sym_spec))


class Dict(dict, Symbolic):  # type: ignore[type-arg]
    """A symbolic dict with str keys whose values know their key paths.

    >>> import automorph as am
    >>> config = am.Dict(optimizer=am.Dict(lr=0.1), epochs=10)
    >>> str(config["optimizer"].sym_path)
    'optimizer'
    >>> config.rebind({"optimizer.lr": 0.01})
    {'optimizer': {'lr': 0.01}, 'epochs': 10}

    Keys are also attributes: `config.optimizer.lr` reads,
    `config.epochs = 20` sets and `del config.epochs` removes a key. A key
    named like a dict method (`keys`, `items`, `copy`, ...) or an automorph
    method (`rebind`, `clone`, ...) is read with `config["keys"]`: the
    attribute is the method. `copy()` gives an `am.Dict`.
    `onchange_callback(updates)` is called after every change of the dict or
    anything under it, with the updates keyed by key path (relative to it).

    >>> config.optimizer.lr
    0.01
    >>> config.epochs = 20
    >>> del config.optimizer
    >>> config
    {'epochs': 20}
    """

    __slots__ = ("_sym_callback", "_sym_key", "_sym_parent", "_sym_sealed", "_sym_spec")

    _sym_spec: ValueSpec

    def __init__(
        self,
        items: Mapping[str, Any] | Iterable[tuple[str, Any]] = (),
        *,
        onchange_callback: OnChange | None = None,
        **kwargs: Any,
    ) -> None:
        object.__setattr__(self, "_sym_parent", None)
        object.__setattr__(self, "_sym_key", None)
        object.__setattr__(self, "_sym_spec", ANY)
        merged = dict(items, **kwargs)
        with Transaction():
            dict.__init__(self, self._sym_validate_items(merged, _spec.ROOT))
        if onchange_callback is not None:
            _set_callback(self, onchange_callback)

    @classmethod
    def _sym_from_spec(cls, value: dict[Any, Any], item: ValueSpec, path: KeyPath) -> Dict:
        """The `am.Dict` to store for `value` under a field whose values match `item`."""
        if type(value) is Dict and value._sym_parent is None and value._sym_spec is item:
            return value
        new = dict.__new__(Dict)
        object.__setattr__(new, "_sym_parent", None)
        object.__setattr__(new, "_sym_key", None)
        object.__setattr__(new, "_sym_spec", item)
        dict.__init__(new, new._sym_validate_items(value, path))
        return new

    @classmethod
    def _sym_trusted(cls, items: dict[str, Any], item: ValueSpec) -> Dict:
        new = dict.__new__(Dict)
        object.__setattr__(new, "_sym_parent", None)
        object.__setattr__(new, "_sym_key", None)
        object.__setattr__(new, "_sym_spec", item)
        for key, value in items.items():
            if isinstance(value, Symbolic):
                object.__setattr__(value, "_sym_key", key)
                object.__setattr__(value, "_sym_parent", new)
        dict.__init__(new, items)
        if FLAGS.moves:
            _link_moved(new, items.items())
        return new

    def _sym_validate_items(self, values: dict[Any, Any], path: KeyPath) -> dict[str, Any]:
        spec = self._sym_spec
        out = {}
        for key, value in values.items():
            if type(key) is not str:
                raise FieldTypeError(
                    f"dict keys must be str, got {type(key).__name__} ({key!r})", path=path
                )
            if value is MISSING:  # MISSING means "no value": the key is left out
                continue
            value = spec.apply(value, path, key)
            out[key] = self._sym_adopt(key, value) if isinstance(value, Symbolic) else value
        return out

    # --- Symbolic ----------------------------------------------------------

    def sym_items(self) -> Iterator[tuple[Key, Any]]:
        return iter(dict.items(self))

    def sym_get(self, key: Key, where: KeyPath | None = None) -> Any:
        if type(key) is str and dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        where = self.sym_path if where is None else where
        raise PathNotFoundError(f"no key {key!r} in the dict", path=where.child(key))

    def _sym_peek(self, key: Key) -> Any:
        return dict.get(self, key, MISSING)

    def _sym_spec_for(self, key: Key, where: KeyPath) -> ValueSpec:
        if type(key) is not str:
            raise PathNotFoundError(f"dict keys are str; {key!r} is not", path=where)
        return self._sym_spec

    def _sym_store(self, key: Key, value: Any) -> None:
        dict.__setitem__(self, key, value)

    def _sym_remove(self, key: Key) -> None:
        dict.__delitem__(self, key)

    def _sym_missing(self, key: Key, where: KeyPath) -> Any:
        if not dict.__contains__(self, key):
            raise PathNotFoundError(f"no key {key!r} in the dict to remove", path=where)
        return MISSING

    def _sym_clone(self, deep: bool, memo: dict[int, Any]) -> Dict:
        return Dict._sym_trusted(
            {k: clone_value(v, deep, memo) for k, v in dict.items(self)}, self._sym_spec
        )

    def _sym_format(self, ctx: _FormatContext, indent: int) -> str:
        parts = [f"{k!r}: {format_value(v, ctx, indent + 1)}" for k, v in dict.items(self)]
        return format_block("{", "}", parts, ctx, indent)

    def _sym_without_defaults(self) -> Dict:
        return Dict._sym_trusted(
            {k: without_defaults(v) for k, v in dict.items(self)}, self._sym_spec
        )

    def _on_change(self, updates: dict[KeyPath, FieldUpdate]) -> None:
        callback = getattr(self, "_sym_callback", None)
        if callback is not None:
            callback(updates)

    def copy(self) -> Dict:
        """A copy, as `clone()` (symbolic values are copied: a node has one parent)."""
        return self._sym_clone(False, {})

    # --- keys as attributes (only where no attribute of that name exists) ----

    def __getattr__(self, name: str) -> Any:
        # Runs only when normal lookup fails: methods and slots come first.
        if not name.startswith("_") and dict.__contains__(self, name):
            return dict.__getitem__(self, name)
        raise AttributeError(
            f"{type(self).__name__} has no attribute or key {name!r}"
            + ("" if name.startswith("_") else f"; its keys are: {', '.join(self)}")
        )

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self[name] = value

    def __delattr__(self, name: str) -> None:
        if name.startswith("_"):
            object.__delattr__(self, name)
        elif dict.__contains__(self, name):
            del self[name]
        else:
            raise PathNotFoundError(
                f"no key {name!r} in the dict to delete", path=self.sym_path.child(name)
            )

    # --- dict mutators, validated and notified ------------------------------

    def __setitem__(self, key: str, value: Any) -> None:
        if type(key) is not str:
            raise FieldTypeError(
                f"dict keys must be str, got {type(key).__name__} ({key!r})", path=self.sym_path
            )
        self._apply_updates([(KeyPath._trusted((key,)), value)], True)

    def __delitem__(self, key: str) -> None:
        if not dict.__contains__(self, key):
            raise KeyError(key)
        self._apply_updates([(KeyPath._trusted((key,)), MISSING)], True)

    def update(self, *args: Any, **kwargs: Any) -> None:
        changes = dict(*args, **kwargs)
        for key in changes:
            if type(key) is not str:
                raise FieldTypeError(
                    f"dict keys must be str, got {type(key).__name__} ({key!r})",
                    path=self.sym_path,
                )
        if changes:
            self._apply_updates([(KeyPath._trusted((k,)), v) for k, v in changes.items()], True)

    def __ior__(self, other: Any) -> Dict:  # type: ignore[misc]
        self.update(other)
        return self

    def setdefault(self, key: str, default: Any = None) -> Any:
        if not dict.__contains__(self, key):
            self[key] = default
        return dict.__getitem__(self, key)

    def pop(self, key: str, *default: Any) -> Any:
        if dict.__contains__(self, key):
            value = dict.__getitem__(self, key)
            del self[key]
            return value
        if default:
            return default[0]
        raise KeyError(key)

    def popitem(self) -> tuple[str, Any]:
        if not self:
            raise KeyError("popitem(): dictionary is empty")
        key = next(reversed(dict.keys(self)))
        return key, self.pop(key)

    def clear(self) -> None:
        if self:
            self._apply_updates([(KeyPath._trusted((k,)), MISSING) for k in list(self)], True)

    def __eq__(self, other: object) -> bool:
        try:
            return dict.__eq__(self, other)
        except (ValueError, TypeError):
            return values_equal(dict(dict.items(self)), other)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:  # type: ignore[override]
        try:
            return hash(frozenset(dict.items(self)))
        except TypeError:  # an unhashable leaf (a numpy array)
            return sym_hash(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore_dict, (dict(dict.items(self)), self._sym_spec))


def _relink(parent: Symbolic, key: Key, node: Symbolic) -> None:
    """Links `node` under `parent` without telling it (its caller does)."""
    object.__setattr__(node, "_sym_key", key)
    object.__setattr__(node, "_sym_parent", parent)


def _restore_list(items: list[Any], item: ValueSpec) -> List:
    return List._sym_trusted(items, item)


def _restore_dict(items: dict[str, Any], item: ValueSpec) -> Dict:
    return Dict._sym_trusted(items, item)


_spec._bind_containers(List, Dict)
