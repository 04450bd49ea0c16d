"""`diff`: where two symbolic trees differ."""

from __future__ import annotations

from typing import Any

from automorph.symbolic._base import Symbolic, sym_eq
from automorph.symbolic._keypath import KeyPath
from automorph.symbolic._spec import ROOT


class Diff(dict[KeyPath, tuple[Any, Any]]):
    """The differences between two values: key path -> (left, right).

    A value missing on one side shows as `am.MISSING`. An empty `Diff` means
    the two values are structurally equal.

    >>> import automorph as am
    >>> d = am.diff(am.Dict(a=1, b=2), am.Dict(a=1))
    >>> d
    {KeyPath('b'): (2, MISSING)}
    >>> print(am.diff(am.Dict(a=1), am.Dict(a=1)))
    no differences
    """

    def __str__(self) -> str:
        if not self:
            return "no differences"
        return "\n".join(
            f"{path or '<root>'}: {left!r} -> {right!r}" for path, (left, right) in self.items()
        )


def diff(left: Any, right: Any) -> Diff:
    """The smallest subtrees where `left` and `right` differ.

    Nodes of the same symbolic type are compared child by child; anything else
    that is not structurally equal is reported whole.

    >>> import automorph as am
    >>> a = am.Dict(lr=0.1, layers=am.List([8, 16]))
    >>> b = am.Dict(lr=0.1, layers=am.List([8, 32, 64]))
    >>> print(am.diff(a, b))
    layers[1]: 16 -> 32
    layers[2]: MISSING -> 64
    """
    out = Diff()
    _diff(left, right, ROOT, out)
    return out


def _diff(left: Any, right: Any, path: KeyPath, out: Diff) -> None:
    if left is right:
        return
    if isinstance(left, Symbolic) and type(left) is type(right):
        keys = [k for k, _ in left.sym_items()]
        known = set(keys)
        keys += [k for k, _ in right.sym_items() if k not in known]
        for key in keys:
            _diff(left._sym_peek(key), right._sym_peek(key), path.child(key), out)
        return
    if not sym_eq(left, right):
        out[path] = (left, right)
