"""What `rebind` is given, as checked updates: the updates a function over
the tree asks for, and the refusal of two updates of one value."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from automorph.symbolic._keypath import Key, KeyPath
from automorph.symbolic._spec import ROOT
from automorph.utils import KeyPathError

if TYPE_CHECKING:
    from automorph.symbolic._base import Symbolic


def _updates_from_function(
    root: Symbolic, fn: Callable[[KeyPath, Any, Symbolic], Any]
) -> list[tuple[KeyPath, Any]]:
    from automorph.symbolic._base import Symbolic  # _base imports this module

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
