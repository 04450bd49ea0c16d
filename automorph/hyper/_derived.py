"""Derived values: values of a search space that follow other values.

A derived value makes no decision of its own. When a program is
materialized, it is replaced by what `derive` computes from the values it
references, read from the materialized program: `same_as("a")` (PyGlove's
`ValueReference(["a"])`) ties a value to the decision at `a`, so two places
that must agree (the width of two layers, an encoder and its decoder) are
searched as one decision.

A reference path is relative: it is looked up from the derived value's
parent, then from each ancestor in turn up to the root, and the first node
where the path exists is used (as PyGlove resolves it).
"""

from __future__ import annotations

from typing import Any

from automorph.symbolic import (
    CustomTyping,
    Key,
    KeyPath,
    Object,
    Symbolic,
    ValueSpec,
    clone,
)
from automorph.utils import SearchSpaceError


class DerivedValue(Object, CustomTyping, type_name="automorph.DerivedValue"):
    """Base of values computed from other values of the materialized program.

    Subclass it and implement `derive(*values)`, which gets the values at
    `reference_paths`, in order.

    Attributes:
        reference_paths: Key paths of the referenced values (see the module
            docstring for how they are resolved).

    >>> import automorph as am
    >>> class Sum(am.hyper.DerivedValue):
    ...     def derive(self, *values):
    ...         return sum(values)
    >>> space = am.Dict(a=am.oneof([1, 2]), b=am.oneof([10, 20]), total=Sum(["a", "b"]))
    >>> [p["total"] for p in am.iterate(space)]
    [11, 21, 12, 22]
    """

    reference_paths: list[str]

    def _on_bound(self) -> None:
        for path in self.reference_paths:
            KeyPath.parse(path)  # a malformed path fails here, not at materialize

    def sym_custom_apply(self, spec: ValueSpec, parent: KeyPath, key: Key | None) -> Any:
        return self  # its type is checked when the materialized program takes its value

    def derive(self, *values: Any) -> Any:
        """The value that stands here, computed from the referenced `values`."""
        raise NotImplementedError(f"{type(self).__name__} must implement `derive`")

    def resolve(self) -> list[Any]:
        """The referenced values, read from the tree this value is in.

        Raises:
            SearchSpaceError: If a path exists under no ancestor, or leads to
                (or into) another derived value.
        """
        values = []
        for text in self.reference_paths:
            path = KeyPath.parse(text)
            node = self.sym_parent
            while node is not None and not node.sym_has(path):
                node = node.sym_parent
            if node is None:
                raise SearchSpaceError(
                    f"the reference {text!r} is found from no node above this derived value; "
                    "give a key path that exists from its parent or an ancestor",
                    path=self.sym_path,
                )
            value = path.get(node)
            if _holds_derived(value):
                raise SearchSpaceError(
                    f"the reference {text!r} leads to another derived value; reference the "
                    "value it follows instead",
                    path=self.sym_path,
                )
            values.append(value)
        return values


class ValueReference(DerivedValue, type_name="automorph.ValueReference"):
    """The value at one other place of the program (PyGlove's `ValueReference`;
    `same_as(path)` makes one).

    >>> import automorph as am
    >>> space = am.Dict(a=am.oneof([1, 2]), b=am.hyper.same_as("a"))
    >>> am.dna_spec(space).size, list(am.iterate(space))
    (2, [{'a': 1, 'b': 1}, {'a': 2, 'b': 2}])
    """

    def _on_bound(self) -> None:
        super()._on_bound()
        if len(self.reference_paths) != 1:
            raise SearchSpaceError(
                f"a value reference follows exactly one path, got {len(self.reference_paths)} "
                f"({self.reference_paths}); subclass `DerivedValue` to combine several"
            )

    def derive(self, *values: Any) -> Any:
        (value,) = values
        return clone(value) if isinstance(value, Symbolic) else value


def same_as(path: str) -> Any:
    """A value equal to the one at key path `path` in the materialized
    program: a tied choice that adds no decision (`ValueReference([path])`)."""
    return ValueReference(reference_paths=[path])


def _holds_derived(value: Any) -> bool:
    if isinstance(value, DerivedValue):
        return True
    if isinstance(value, Symbolic):
        return any(_holds_derived(v) for _, v in value.sym_items())
    return False


def find_derived(value: Any) -> list[DerivedValue]:
    """The derived values in the tree `value`, top-down."""
    if isinstance(value, DerivedValue):
        return [value]
    found: list[DerivedValue] = []
    if isinstance(value, Symbolic):
        for _, child in value.sym_items():
            found.extend(find_derived(child))
    elif type(value) is tuple:
        for child in value:
            found.extend(find_derived(child))
    return found


def resolve_derived(program: Any) -> Any:
    """`program` with every derived value in it replaced by its value.

    Raises:
        SearchSpaceError: If a derived value is the whole program, inside a
            tuple, or its references cannot be resolved.
    """
    derived = find_derived(program)
    if not derived:
        return program
    updates: dict[str, Any] = {}
    for value in derived:
        if value.sym_parent is None or value is program:
            raise SearchSpaceError(
                "a derived value needs a place in a symbolic tree (it cannot be the whole "
                "space, or an item of a tuple)"
            )
        updates[str(value.sym_path)] = value.derive(*value.resolve())
    program.rebind(updates)
    return program
