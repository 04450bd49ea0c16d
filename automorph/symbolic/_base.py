"""`Symbolic`: what every node of a symbolic tree can do.

A symbolic tree is made of `am.Object`s, `am.List`s and `am.Dict`s whose
leaves are ordinary values. Every node knows its parent and the key under
which the parent holds it, so it knows its key path. All changes to a tree go
through one place (`_apply_updates`), which validates every change before
making any, then notifies the changed nodes and their ancestors.
"""

from __future__ import annotations

import abc
import copy
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple, TypeVar

from automorph.symbolic._keypath import Key, KeyPath
from automorph.symbolic._spec import ROOT, ValueSpec
from automorph.symbolic._txn import Transaction, record_adoption
from automorph.utils import MISSING, KeyPathError, PathNotFoundError, RebindError

S = TypeVar("S", bound="Symbolic")

# Leaf types that are immutable and compared cheaply.
ATOMIC = (int, float, str, bool, type(None), bytes, complex)


class FieldUpdate(NamedTuple):
    """One change of a tree, as passed to `Object._on_change`.

    Attributes:
        path: Path of the changed value, relative to the notified node.
        target: The node that holds the changed value.
        key: The changed value's key in `target`.
        old_value: The value before the change (`MISSING` if it was added).
        new_value: The value after the change (`MISSING` if it was removed).

    >>> import automorph as am
    >>> class Box(am.Object):
    ...     size: int
    ...     def _on_change(self, updates):
    ...         for path, update in updates.items():
    ...             print(f"{path}: {update.old_value} -> {update.new_value}")
    >>> _ = Box(1).rebind(size=2)
    size: 1 -> 2
    """

    path: KeyPath
    target: Symbolic
    key: Key
    old_value: Any
    new_value: Any


class Symbolic:
    """Base of every symbolic node: `Object`, `List` and `Dict`.

    Lifecycle: a node is created without a parent; placing it in another
    node (as a field, list item or dict value) sets its parent and key. A node
    has at most one parent: placing a node that already has a parent somewhere
    else stores a copy of it there.

    Invariants: every change goes through `rebind` (attribute assignment and
    the container mutators call it), is validated before anything changes,
    and is followed by `_on_change` on the changed nodes and their ancestors.

    >>> import automorph as am
    >>> inner = am.List([1, 2])
    >>> outer = am.Dict(xs=inner)
    >>> inner.sym_parent is outer, str(inner.sym_path), inner.sym_root is outer
    (True, 'xs', True)
    >>> copy = am.Dict(ys=inner)          # `inner` already has a parent: copied
    >>> copy["ys"] is inner, copy["ys"] == inner
    (False, True)
    """

    __slots__ = ()

    _sym_parent: Symbolic | None
    _sym_key: Key | None
    # Whether instances want `_on_change`; lets trees without hooks skip the work.
    _sym_hooks: bool = False
    # Symbolic is not an ABC on purpose: ABCMeta slows every `isinstance` check
    # and clashes with the metaclasses of third-party classes we wrap.

    # --- what each kind of node implements --------------------------------

    @abc.abstractmethod
    def sym_items(self) -> Iterator[tuple[Key, Any]]:
        """The (key, value) pairs of this node's children, in order."""

    @abc.abstractmethod
    def sym_get(self, key: Key, where: KeyPath | None = None) -> Any:
        """The child at `key`.

        Raises:
            PathNotFoundError: If there is no such child.
        """

    @abc.abstractmethod
    def _sym_spec_for(self, key: Key, where: KeyPath) -> ValueSpec:
        """The spec a new value at `key` must satisfy (errors name `where`)."""

    @abc.abstractmethod
    def _sym_store(self, key: Key, value: Any) -> None:
        """Stores an already validated and adopted value at `key`."""

    @abc.abstractmethod
    def _sym_missing(self, key: Key, where: KeyPath) -> Any:
        """What `rebind` to `MISSING` at `key` means: a default, or a removal."""

    @abc.abstractmethod
    def _sym_clone(self: S, deep: bool, memo: dict[int, Any]) -> S:
        """A copy without a parent."""

    @abc.abstractmethod
    def _sym_format(self, ctx: _FormatContext, indent: int) -> str:
        """The text of this node for `format`."""

    def _on_change(self, updates: dict[KeyPath, FieldUpdate]) -> None:
        """Called after this node or a descendant changed (if `_sym_hooks`)."""

    # --- position in the tree ---------------------------------------------

    @property
    def sym_parent(self) -> Symbolic | None:
        """The node that holds this one, or None for a root."""
        return self._sym_parent

    @property
    def sym_root(self) -> Symbolic:
        """The root of the tree this node is in."""
        node = self
        while node._sym_parent is not None:
            node = node._sym_parent
        return node

    @property
    def sym_path(self) -> KeyPath:
        """The key path of this node from the root of its tree."""
        keys: list[Key] = []
        node: Symbolic = self
        while node._sym_parent is not None:
            keys.append(node._sym_key)  # type: ignore[arg-type]
            node = node._sym_parent
        if not keys:
            return ROOT
        keys.reverse()
        return KeyPath._trusted(tuple(keys))

    def _sym_adopt(self, key: Key, value: Any) -> Any:
        """Links `value` under this node at `key`; copies it if it has a parent."""
        if isinstance(value, Symbolic):
            parent = value._sym_parent
            if parent is not None and (parent is not self or value._sym_key != key):
                value = value._sym_clone(False, {})
            elif parent is None:
                record_adoption(value)
            object.__setattr__(value, "_sym_key", key)
            object.__setattr__(value, "_sym_parent", self)
        return value

    # --- rebind --------------------------------------------------------------

    def rebind(
        self: S,
        updates: Mapping[str | KeyPath, Any]
        | Callable[[KeyPath, Any, Symbolic], Any]
        | None = None,
        /,
        *,
        notify: bool = True,
        **kwargs: Any,
    ) -> S:
        """Changes values in the tree under this node, validated, all or none.

        Args:
            updates: A mapping from key paths (relative to this node) to new
                values, or a function `fn(path, value, parent)` called on
                every value under this node, top-down, that returns a new
                value to replace it (the returned value's own children are not
                visited) or the value itself to keep it.
            notify: Whether to call `_on_change` on changed nodes and their
                ancestors, so derived state follows.
            **kwargs: More updates, by field name of this node.

        Returns:
            This node.

        Raises:
            KeyPathError, PathNotFoundError, UnknownFieldError, FieldTypeError,
            FieldValueError: If any update is not valid; then nothing changed.

        >>> import automorph as am
        >>> d = am.Dict(a=am.List([1, 2]), b="x")
        >>> d.rebind({"a[1]": 3}, b="y")
        {'a': [1, 3], 'b': 'y'}
        >>> d.rebind(lambda path, value, parent: value * 10 if isinstance(value, int) else value)
        {'a': [10, 30], 'b': 'y'}
        """
        if updates is None or type(updates) is dict or isinstance(updates, Mapping):
            items = [(KeyPath.parse(k), v) for k, v in (updates or {}).items()]
        elif callable(updates):
            items = _updates_from_function(self, updates)
        else:
            raise RebindError(
                "`rebind` takes a mapping of key paths to values ({'a.b': 1}), a function "
                "fn(path, value, parent) returning the new value, or keyword arguments "
                f"(a=1); got {type(updates).__name__} ({updates!r:.60})",
                path=self.sym_path,
            )
        for name, value in kwargs.items():
            items.append((KeyPath._trusted((name,)), value))
        if items:
            self._apply_updates(items, notify)
        return self

    def _apply_updates(self, items: list[tuple[KeyPath, Any]], notify: bool) -> None:
        resolved: list[tuple[KeyPath, Any, Symbolic, Key]] = []
        for path, value in items:
            keys = path._keys
            if not keys:
                raise KeyPathError("rebind needs a path to a child, got the empty path")
            container = self._sym_container_at(keys)
            resolved.append((path, value, container, container._sym_normalize_key(keys[-1])))
        if len(resolved) > 1:
            _check_no_overlap(resolved)
        plan: list[tuple[Symbolic, Key, Any]] = []
        with Transaction():
            for _, value, container, key in resolved:
                parent_path = container.sym_path
                spec = container._sym_spec_for(key, parent_path.child(key))
                if value is not MISSING and value is container._sym_peek(key):
                    continue  # Already there, e.g. `obj.xs += [...]` assigns `obj.xs` back.
                if value is MISSING:
                    value = container._sym_missing(key, parent_path.child(key))
                    if value is MISSING:
                        plan.append((container, key, MISSING))
                        continue
                plan.append((container, key, spec.apply(value, parent_path, key)))
        changes: list[tuple[Symbolic, Key, Any, Any]] = []
        for container, key, new in plan:
            old = container._sym_peek(key)
            if old is new or (type(old) is type(new) and type(new) in ATOMIC and old == new):
                continue
            if isinstance(old, Symbolic):
                object.__setattr__(old, "_sym_parent", None)
            if new is MISSING:
                container._sym_remove(key)
            else:
                container._sym_store(key, container._sym_adopt(key, new))
            changes.append((container, key, old, new))
        if notify and changes:
            try:
                _notify(changes)
            except BaseException:
                # A hook refused the new state (an `_on_bound` check): put the
                # old values back, recompute derived state, and re-raise.
                _undo(changes)
                raise

    @abc.abstractmethod
    def _sym_peek(self, key: Key) -> Any:
        """The child at `key`, or `MISSING` if there is none."""

    def _sym_normalize_key(self, key: Key) -> Key:
        """The canonical form of `key` (list indices become non-negative)."""
        return key

    def _sym_remove(self, key: Key) -> None:
        raise PathNotFoundError(f"cannot remove {key!r}", path=self.sym_path.child(key))

    def _sym_container_at(self, keys: tuple[Key, ...]) -> Symbolic:
        """The node that holds the value at `keys` (relative to this node)."""
        node: Any = self
        for i in range(len(keys) - 1):
            node = node.sym_get(keys[i])
            if not isinstance(node, Symbolic):
                where = self.sym_path / KeyPath._trusted(keys[: i + 1])
                raise PathNotFoundError(
                    f"cannot go into the {type(node).__name__} at `{where}`: "
                    "only symbolic objects, lists and dicts have children",
                    path=self.sym_path / KeyPath._trusted(keys),
                )
        return node  # type: ignore[no-any-return]

    # --- copies, equality --------------------------------------------------

    def clone(self: S, deep: bool = False) -> S:
        """A copy of this node without a parent.

        Symbolic nodes are always copied (a node has only one parent). With
        `deep=False` the non-symbolic leaves (numbers, strings, arrays, other
        objects) are shared with the original; with `deep=True` mutable leaves
        are deep-copied too.
        """
        return self._sym_clone(deep, {})

    def __copy__(self: S) -> S:
        return self._sym_clone(False, {})

    def __deepcopy__(self: S, memo: dict[int, Any]) -> S:
        return self._sym_clone(True, memo)

    def sym_eq(self, other: Any) -> bool:
        """Structural equality: same types and equal values all the way down."""
        return sym_eq(self, other)

    def sym_hash(self) -> int:
        """A hash consistent with `sym_eq`."""
        return sym_hash(self)

    # --- inspection ----------------------------------------------------------

    def walk(self, include_leaves: bool = True) -> Iterator[tuple[KeyPath, Any]]:
        """Yields (path relative to this node, value) for this node and all under it, top-down."""
        yield ROOT, self
        yield from _walk(self, ROOT, include_leaves)

    def query(
        self,
        path: str | Callable[[KeyPath], bool] | None = None,
        where: Callable[[Any], bool] | None = None,
        type: type | tuple[type, ...] | None = None,  # noqa: A002 - reads naturally
    ) -> dict[KeyPath, Any]:
        """The values under this node (itself included) that match every given test.

        Args:
            path: A regular expression that must match the whole key path
                (relative to this node), or a predicate on the key path.
            where: A predicate on the value.
            type: A class or tuple of classes the value must be an instance of.

        Returns:
            A dict from key paths (relative to this node) to values, top-down.
        """
        path_ok: Callable[[KeyPath], bool]
        if isinstance(path, str):
            regex = re.compile(path)
            path_ok = lambda p: regex.fullmatch(str(p)) is not None  # noqa: E731
        else:
            path_ok = path if path is not None else (lambda p: True)
        found: dict[KeyPath, Any] = {}
        for p, value in Symbolic.walk(self):
            if type is not None and not isinstance(value, type):
                continue
            if path_ok(p) and (where is None or where(value)):
                found[p] = value
        return found

    def format(
        self,
        compact: bool = False,
        verbose: bool = True,
        hide_defaults: bool = False,
    ) -> str:
        """Readable text of this node.

        Args:
            compact: One line if True; indented lines if False.
            verbose: If False, long strings and long lists are shortened.
            hide_defaults: Leave out fields whose value equals their default.
        """
        return self._sym_format(_FormatContext(compact, verbose, hide_defaults), 0)

    def __str__(self) -> str:
        return Symbolic.format(self, compact=False)

    def __repr__(self) -> str:
        return Symbolic.format(self, compact=True)

    def to_json(self) -> Any:
        """A JSON-compatible value (dicts, lists, str, numbers) for this node."""
        from automorph.symbolic._json import to_json

        return to_json(self)

    def to_json_str(self, indent: int | None = None) -> str:
        """This node as JSON text."""
        from automorph.symbolic._json import to_json_str

        return to_json_str(self, indent=indent)


class _FormatContext(NamedTuple):
    compact: bool
    verbose: bool
    hide_defaults: bool


def format_value(value: Any, ctx: _FormatContext, indent: int) -> str:
    """Text of any value inside a tree, for `format`."""
    if isinstance(value, Symbolic):
        return value._sym_format(ctx, indent)
    if isinstance(value, str) and not ctx.verbose and len(value) > 40:
        return repr(value[:37] + "...")
    if isinstance(value, type):
        return value.__qualname__
    return repr(value)


def format_block(
    opening: str, closing: str, parts: list[str], ctx: _FormatContext, indent: int
) -> str:
    """Joins formatted children on one line, or one per line indented."""
    if not parts:
        return opening + closing
    if ctx.compact:
        return opening + ", ".join(parts) + closing
    pad = "  " * (indent + 1)
    body = "".join(f"{pad}{part},\n" for part in parts)
    return f"{opening}\n{body}{'  ' * indent}{closing}"


def _walk(node: Symbolic, path: KeyPath, include_leaves: bool) -> Iterator[tuple[KeyPath, Any]]:
    for key, value in node.sym_items():
        child = path.child(key)
        if isinstance(value, Symbolic):
            yield child, value
            yield from _walk(value, child, include_leaves)
        elif include_leaves:
            yield child, value


def _updates_from_function(
    root: Symbolic, fn: Callable[[KeyPath, Any, Symbolic], Any]
) -> list[tuple[KeyPath, Any]]:
    items: list[tuple[KeyPath, Any]] = []

    def visit(node: Symbolic, path: KeyPath) -> None:
        for key, value in node.sym_items():
            child = path.child(key)
            new = fn(child, value, node)
            if new is not value:
                items.append((child, new))
            elif isinstance(value, Symbolic):
                visit(value, child)

    visit(root, ROOT)
    return items


def _check_no_overlap(resolved: list[tuple[KeyPath, Any, Symbolic, Key]]) -> None:
    """Refuses two updates of one value, or of a value and something inside it,
    however their paths are spelled (`xs[-1]` and `xs[2]` may be the same)."""
    targets: dict[tuple[int, Key], KeyPath] = {}
    for path, _, container, key in resolved:
        other = targets.setdefault((id(container), key), path)
        if other is not path:
            _conflict(other, path)
    for path, _, container, _ in resolved:
        node = container
        while node._sym_parent is not None:
            found = targets.get((id(node._sym_parent), node._sym_key))  # type: ignore[arg-type]
            if found is not None:
                _conflict(found, path)
            node = node._sym_parent


def _conflict(a: KeyPath, b: KeyPath) -> None:
    first, second = sorted([a, b])
    raise KeyPathError(
        f"conflicting updates: `{first}` and `{second}` change the same value "
        "(or one changes a value inside the other)"
    )


def _notify(changes: list[tuple[Symbolic, Key, Any, Any]]) -> None:
    """Calls `_on_change` once on each changed node and each ancestor, deepest first.

    Each hooked node receives the updates under it, keyed by paths relative
    to itself. Trees without hooks pay only for walking up the parents.
    """
    pending: dict[int, tuple[Symbolic, int, dict[KeyPath, FieldUpdate]]] = {}
    for container, key, old, new in changes:
        chain: list[Symbolic] = []
        node: Symbolic | None = container
        hooked = False
        while node is not None:
            chain.append(node)
            hooked = hooked or type(node)._sym_hooks
            node = node._sym_parent
        if not hooked:
            continue
        rel: tuple[Key, ...] = (key,)
        for level, target in enumerate(chain):
            if level:
                rel = (chain[level - 1]._sym_key, *rel)  # type: ignore[arg-type]
            if not type(target)._sym_hooks:
                continue
            entry = pending.get(id(target))
            if entry is None:
                entry = pending[id(target)] = (target, len(chain) - level, {})
            path = KeyPath._trusted(rel)
            entry[2][path] = FieldUpdate(path, container, key, old, new)
    for target, _, updates in sorted(pending.values(), key=lambda e: -e[1]):
        target._on_change(updates)


def _undo(changes: list[tuple[Symbolic, Key, Any, Any]]) -> None:
    """Restores the values `changes` replaced, newest first, and notifies."""
    restored: list[tuple[Symbolic, Key, Any, Any]] = []
    for container, key, old, new in reversed(changes):
        if isinstance(new, Symbolic) and new._sym_parent is container:
            object.__setattr__(new, "_sym_parent", None)
        if old is MISSING:
            container._sym_remove(key)
        else:
            if isinstance(old, Symbolic):
                object.__setattr__(old, "_sym_parent", None)
            container._sym_store(key, container._sym_adopt(key, old))
        restored.append((container, key, new, old))
    try:
        _notify(restored)
    except BaseException:  # noqa: BLE001 - the original error is the one to report
        pass


def sym_eq(a: Any, b: Any) -> bool:
    """Structural equality of two values, symbolic or not.

    Unlike `==`, it also compares symbolized third-party objects (which keep
    their own `==`) by their symbolic arguments, and requires the same types.

    >>> import automorph as am
    >>> am.sym_eq(am.List([1, 2]), am.List([1, 2]))
    True
    >>> am.sym_eq(am.List([1]), am.List([1.0]))
    False
    """
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, Symbolic):
        items_a, items_b = list(a.sym_items()), list(b.sym_items())
        if len(items_a) != len(items_b):
            return False
        if isinstance(a, dict):
            items_a.sort(key=lambda kv: kv[0])
            items_b.sort(key=lambda kv: kv[0])
        return all(
            ka == kb and sym_eq(va, vb) for (ka, va), (kb, vb) in zip(items_a, items_b, strict=True)
        )
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(sym_eq(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(sym_eq(a[k], b[k]) for k in a)
    try:
        result = a == b
        if isinstance(result, bool):
            return result
        # Array-like values (numpy): equal when shapes and all elements are.
        if getattr(a, "shape", None) != getattr(b, "shape", None):
            return False
        reduce_all = getattr(result, "all", None)
        return bool(reduce_all() if reduce_all is not None else result)
    except Exception:  # noqa: BLE001 - values whose == cannot answer
        return False


def values_equal(a: Any, b: Any) -> bool:
    """`a == b` as a bool, also where a leaf's `==` gives no bool.

    Containers are compared item by item; a leaf whose `==` raises or gives
    an array (numpy) is compared as `sym_eq` does (same shape, all elements).
    This is what `==` of symbolic values falls back to.
    """
    try:
        return bool(a == b)
    except (ValueError, TypeError):
        pass
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    return sym_eq(a, b)


def sym_hash(value: Any) -> int:
    """A hash consistent with `sym_eq`, for symbolic and plain values."""
    if isinstance(value, Symbolic):
        items = list(value.sym_items())
        if isinstance(value, dict):
            items.sort(key=lambda kv: kv[0])
        return hash((type(value), tuple((k, sym_hash(v)) for k, v in items)))
    if isinstance(value, (list, tuple)):
        return hash((type(value), tuple(sym_hash(v) for v in value)))
    if isinstance(value, dict):
        return hash((dict, tuple(sorted((k, sym_hash(v)) for k, v in value.items()))))
    try:
        return hash((type(value), value))
    except TypeError:
        # Unhashable leaves (arrays): hash what equal values share.
        return hash((type(value), getattr(value, "shape", None)))


def clone_value(value: Any, deep: bool, memo: dict[int, Any]) -> Any:
    """Copies a value found in a tree, as `Symbolic.clone` does."""
    if isinstance(value, Symbolic):
        return value._sym_clone(deep, memo)
    if deep and type(value) not in ATOMIC:
        return copy.deepcopy(value, memo)
    return value
