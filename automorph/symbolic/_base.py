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
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple, TypeVar

from automorph.symbolic._format import _FormatContext
from automorph.symbolic._keypath import Key, KeyPath
from automorph.symbolic._spec import ROOT, ValueSpec
from automorph.symbolic._txn import Transaction, record_adoption
from automorph.symbolic._updates import _check_no_overlap, _updates_from_function
from automorph.utils import (
    MISSING,
    KeyPathError,
    PathNotFoundError,
    RebindError,
    WritePermissionError,
)

S = TypeVar("S", bound="Symbolic")

# Leaf types that are immutable and compared cheaply.
ATOMIC = (int, float, str, bool, type(None), bytes, complex)


class _Flags:
    """Features that cost something on write paths, switched on at first use.

    Until a container is given an `onchange_callback`, a node is sealed, or a
    class defines `_on_parent_change`/`_on_path_change`, the write paths pay
    one attribute read for each of them, and construction and clone nothing.
    """

    __slots__ = ("callbacks", "moves", "sealed")

    def __init__(self) -> None:
        self.callbacks = False
        self.moves = False
        self.sealed = False


FLAGS = _Flags()


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
    # Whether instances want `_on_parent_change` / `_on_path_change`.
    _sym_moves: bool = False
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

    def _on_parent_change(self, old_parent: Symbolic | None, new_parent: Symbolic | None) -> None:
        """Called after this node was placed under another parent (or taken out)."""

    def _on_path_change(self, old_path: KeyPath, new_path: KeyPath) -> None:
        """Called after this node's key path changed (it, or an ancestor, moved)."""

    def _sym_default(self, key: Key) -> Any:
        """The default of the child at `key` (`MISSING` where there is none)."""
        return MISSING

    def _sym_without_defaults(self) -> Symbolic:
        """A copy in which object fields that hold their default are `MISSING`."""
        return self

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
                parent = None
            elif parent is None:
                record_adoption(value)
            if FLAGS.moves:
                old_key = value._sym_key
                object.__setattr__(value, "_sym_key", key)
                object.__setattr__(value, "_sym_parent", self)
                moved(value, parent, old_key)
                return value
            object.__setattr__(value, "_sym_key", key)
            object.__setattr__(value, "_sym_parent", self)
        return value

    def sym_ancestor(self, where: Callable[[Symbolic], bool] | None = None) -> Symbolic | None:
        """The nearest node above this one for which `where(node)` is true.

        Args:
            where: A predicate on a node; None takes the parent.

        Returns:
            That node, or None if no ancestor matches.

        >>> import automorph as am
        >>> tree = am.Dict(model=am.Dict(layers=am.List([am.Dict(units=8)])))
        >>> layer = tree["model"]["layers"][0]
        >>> layer.sym_ancestor(lambda node: isinstance(node, am.Dict)) is tree["model"]
        True
        """
        node = self._sym_parent
        while node is not None:
            if where is None or where(node):
                return node
            node = node._sym_parent
        return None

    def sym_has(self, path: str | KeyPath | Key) -> bool:
        """Whether a value exists at `path` (relative to this node).

        Raises:
            KeyPathError: If `path` is not a well-formed key path.
        """
        keys = (path,) if type(path) is int else KeyPath.parse(path)._keys  # type: ignore[arg-type]
        node: Any = self
        for key in keys:
            if not isinstance(node, Symbolic):
                return False
            node = node._sym_peek(node._sym_normalize_key(key))
            if node is MISSING:
                return False
        return True

    # --- sealing -------------------------------------------------------------

    @property
    def sym_sealed(self) -> bool:
        """Whether this node refuses changes (see `seal`)."""
        return bool(getattr(self, "_sym_sealed", False))

    is_sealed = sym_sealed

    def seal(self: S, sealed: bool = True) -> S:
        """Seals (or, with `sealed=False`, unseals) this node and all under it.

        A sealed node refuses `rebind`, attribute and item assignment and the
        container mutators with a `WritePermissionError`; reading, `clone`
        (whose copy is not sealed) and JSON work as before.

        >>> import automorph as am
        >>> config = am.Dict(lr=0.1).seal()
        >>> config.rebind(lr=0.2)
        Traceback (most recent call last):
          ...
        automorph.utils._errors.WritePermissionError: cannot change `lr`: the Dict is sealed; \
call .seal(False) to unseal it
        >>> config.seal(False).rebind(lr=0.2)
        {'lr': 0.2}
        """
        if sealed:
            FLAGS.sealed = True
        for _, node in Symbolic.walk(self, include_leaves=False):
            object.__setattr__(node, "_sym_sealed", sealed)
        return self

    def _sym_refuse_write(self, what: str) -> None:
        if FLAGS.sealed and getattr(self, "_sym_sealed", False):
            raise WritePermissionError(
                f"cannot {what}: the {type(self).__name__} is sealed; call .seal(False) "
                "to unseal it",
                path=self.sym_path,
            )

    # --- partial values, defaults ---------------------------------------------

    @property
    def sym_partial(self) -> bool:
        """Whether a required value is missing somewhere under this node.

        A partial object comes from `Cls.partial(...)`; it becomes complete
        when every missing value is rebound.
        """
        return bool(self.missing_values())

    is_partial = sym_partial

    def missing_values(self, flatten: bool = True) -> dict[Any, Any]:
        """The required values that are missing under this node, as `MISSING`.

        Args:
            flatten: Key the result by key path (str) if True; nest it as
                the tree is nested if False.
        """
        from automorph.symbolic._ops import collect

        return collect(self, flatten, missing=True)

    def non_default_values(self, flatten: bool = True) -> dict[Any, Any]:
        """The values under this node that differ from their fields' defaults.

        Dict and list items have no default, so they all count.

        Args:
            flatten: Key the result by key path (str) if True; nest it as
                the tree is nested if False.

        >>> import automorph as am
        >>> class Opt(am.Object):
        ...     lr: float
        ...     momentum: float = 0.9
        >>> am.Dict(opt=Opt(0.1), epochs=3).non_default_values()
        {'opt.lr': 0.1, 'epochs': 3}
        """
        from automorph.symbolic._ops import collect

        return collect(self, flatten, missing=False)

    # --- rebind --------------------------------------------------------------

    def rebind(
        self: S,
        updates: Mapping[str | KeyPath, Any]
        | Callable[[KeyPath, Any, Symbolic], Any]
        | None = None,
        /,
        *,
        notify: bool = True,
        notify_parents: bool = True,
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
            notify_parents: If False, `_on_change` runs only on nodes at or
                under this one, not on its ancestors.
            **kwargs: More updates, by field name of this node.

        Returns:
            This node.

        Raises:
            KeyPathError: If a key path is malformed; then nothing changed.
            PathNotFoundError: If a key path leads nowhere; then nothing changed.
            UnknownFieldError: If an update names no field; then nothing changed.
            FieldTypeError: If a new value has the wrong type; then nothing changed.
            FieldValueError: If a new value breaks its field's rule; then nothing
                changed.
            WritePermissionError: If a node to change is sealed (`seal()`).

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
            self._apply_updates(items, notify, None if notify_parents else self)
        return self

    def _apply_updates(
        self, items: list[tuple[KeyPath, Any]], notify: bool, stop: Symbolic | None = None
    ) -> None:
        resolved: list[tuple[KeyPath, Any, Symbolic, Key]] = []
        for path, value in items:
            keys = path._keys
            if not keys:
                raise KeyPathError("rebind needs a path to a child, got the empty path")
            container = self._sym_container_at(keys)
            resolved.append((path, value, container, container._sym_normalize_key(keys[-1])))
            if FLAGS.sealed and container.sym_sealed:
                container._sym_refuse_write(f"change `{path}`")
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
                if FLAGS.moves:
                    moved(old, container, key)
            if new is MISSING:
                container._sym_remove(key)
            else:
                container._sym_store(key, container._sym_adopt(key, new))
            changes.append((container, key, old, new))
        if notify and changes:
            try:
                _notify(changes, stop)
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
        where: Callable[[Any], bool] | Callable[[Any, Any], bool] | None = None,
        type: type | tuple[type, ...] | None = None,  # noqa: A002 - reads naturally
        enter_selected: bool = True,
    ) -> dict[KeyPath, Any]:
        """The values under this node (itself included) that match every given test.

        Args:
            path: A regular expression that must match the whole key path
                (relative to this node), or a predicate on the key path.
            where: A predicate on the value, `where(value)`, or on the value
                and the node that holds it, `where(value, parent)` (the
                parent of this node itself is None).
            type: A class or tuple of classes the value must be an instance of.
            enter_selected: Whether to look under a value that matched too;
                if False, a match's children are not visited (PyGlove's
                default).

        Returns:
            A dict from key paths (relative to this node) to values, top-down.

        >>> import automorph as am
        >>> tree = am.Dict(a=am.Dict(x=1), b=am.List([1]))
        >>> tree.query(where=lambda value, parent: value == 1 and isinstance(parent, dict))
        {KeyPath('a.x'): 1}
        """
        from automorph.symbolic._ops import query

        return query(self, path, where, type, enter_selected)

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

    def to_json(self, hide_default_values: bool = False) -> Any:
        """A JSON-compatible value (dicts, lists, str, numbers) for this node.

        Args:
            hide_default_values: Leave out fields whose value is their
                default; reading the JSON back fills them in again.
        """
        from automorph.symbolic._json import to_json

        return to_json(self, hide_default_values=hide_default_values)

    def to_json_str(self, indent: int | None = None) -> str:
        """This node as JSON text."""
        from automorph.symbolic._json import to_json_str

        return to_json_str(self, indent=indent)


def _walk(node: Symbolic, path: KeyPath, include_leaves: bool) -> Iterator[tuple[KeyPath, Any]]:
    for key, value in node.sym_items():
        child = path.child(key)
        if isinstance(value, Symbolic):
            yield child, value
            yield from _walk(value, child, include_leaves)
        elif include_leaves:
            yield child, value


def _notify(changes: list[tuple[Symbolic, Key, Any, Any]], stop: Symbolic | None = None) -> None:
    """Calls `_on_change` once on each changed node and each ancestor, deepest first.

    Each hooked node receives the updates under it, keyed by paths relative
    to itself. Trees without hooks pay only for walking up the parents. With
    `stop`, ancestors above `stop` are not notified.
    """
    pending: dict[int, tuple[Symbolic, int, dict[KeyPath, FieldUpdate]]] = {}
    callbacks = FLAGS.callbacks
    for container, key, old, new in changes:
        chain: list[Symbolic] = []
        node: Symbolic | None = container
        hooked = False
        while node is not None:
            chain.append(node)
            hooked = hooked or type(node)._sym_hooks
            if node is stop:
                break
            node = node._sym_parent
        if not hooked and not (callbacks and any(_has_callback(n) for n in chain)):
            continue
        rel: tuple[Key, ...] = (key,)
        for level, target in enumerate(chain):
            if level:
                rel = (chain[level - 1]._sym_key, *rel)  # type: ignore[arg-type]
            if not type(target)._sym_hooks and not (callbacks and _has_callback(target)):
                continue
            entry = pending.get(id(target))
            if entry is None:
                entry = pending[id(target)] = (target, len(chain) - level, {})
            path = KeyPath._trusted(rel)
            entry[2][path] = FieldUpdate(path, container, key, old, new)
    for target, _, updates in sorted(pending.values(), key=lambda e: -e[1]):
        target._on_change(updates)


def _has_callback(node: Symbolic) -> bool:
    return getattr(node, "_sym_callback", None) is not None


def moved(node: Symbolic, old_parent: Symbolic | None, old_key: Key | None) -> None:
    """Tells `node` (and the nodes under it) that it was moved, if they ask.

    Called (only once some class defines `_on_parent_change` or
    `_on_path_change`) after `node` was linked under a new parent or taken
    out of its old one.
    """
    new_parent = node._sym_parent
    if new_parent is not old_parent and type(node)._sym_moves:
        node._on_parent_change(old_parent, new_parent)
    old_path = ROOT if old_parent is None else old_parent.sym_path.child(old_key)  # type: ignore[arg-type]
    new_path = node.sym_path
    if old_path != new_path:
        for rel, sub in Symbolic.walk(node, include_leaves=False):
            if type(sub)._sym_moves:
                sub._on_path_change(old_path / rel, new_path / rel)


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
    A leaf that is not symbolic but has a `sym_eq(other)` method of its own
    decides for itself (whatever the other value's type).

    >>> import automorph as am
    >>> am.sym_eq(am.List([1, 2]), am.List([1, 2]))
    True
    >>> am.sym_eq(am.List([1]), am.List([1.0]))
    False
    """
    if a is b:
        return True
    if type(a) is not type(b):
        return _leaf_sym_eq(a, b) is True
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
    if type(a) not in ATOMIC:
        own = _leaf_sym_eq(a, b)
        if own is not None:
            return own
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


def _leaf_sym_eq(a: Any, b: Any) -> bool | None:
    """What a non-symbolic leaf's own `sym_eq` says (either side), or None."""
    for x, y in ((a, b), (b, a)):
        method = getattr(type(x), "sym_eq", None)
        if method is not None and not isinstance(x, (Symbolic, type)):
            return bool(x.sym_eq(y))
    return None


def sym_hash(value: Any) -> int:
    """A hash consistent with `sym_eq`, for symbolic and plain values.

    A non-symbolic leaf with a `sym_hash()` method of its own is hashed by it.
    """
    if isinstance(value, Symbolic):
        items = list(value.sym_items())
        if isinstance(value, dict):
            items.sort(key=lambda kv: kv[0])
        return hash((type(value), tuple((k, sym_hash(v)) for k, v in items)))
    if isinstance(value, (list, tuple)):
        return hash((type(value), tuple(sym_hash(v) for v in value)))
    if isinstance(value, dict):
        return hash((dict, tuple(sorted((k, sym_hash(v)) for k, v in value.items()))))
    if type(value) not in ATOMIC and not isinstance(value, type):
        own = getattr(type(value), "sym_hash", None)
        if own is not None:
            return int(value.sym_hash())
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
