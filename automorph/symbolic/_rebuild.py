"""`rebuild`: a new node of a node's kind, holding new children."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from automorph.symbolic._base import Symbolic
from automorph.symbolic._containers import Dict, List
from automorph.symbolic._keypath import Key
from automorph.symbolic._object import Object
from automorph.symbolic._spec import ANY, ROOT


def rebuild(node: Symbolic, children: dict[Key, Any], check: Sequence[Key] = ()) -> Any:
    """A new node of `node`'s type (same class, same item spec) holding `children`.

    Children are taken as they are, except those whose keys are in `check`,
    which are validated (and converted) by the node's spec for that key. The
    new node has no parent; `_on_bound` runs as on construction. Materializing
    a search space uses it to build a program without re-validating what the
    space already validated.

    >>> import automorph as am
    >>> from automorph.symbolic import rebuild
    >>> rebuild(am.Dict(a=1, b=2), {"a": 5, "b": [1]}, check=["b"])
    {'a': 5, 'b': [1]}
    """
    if isinstance(node, Object):
        specs = type(node).sym_schema().specs
        for key in check:
            children[key] = specs[key].apply(children[key], ROOT, key)  # type: ignore[index]
        return type(node)._sym_trusted(children)  # type: ignore[arg-type]
    spec = getattr(node, "_sym_spec", ANY)
    for key in check:
        children[key] = spec.apply(children[key], ROOT, key)
    if isinstance(node, List):
        return List._sym_trusted([children[i] for i in range(len(node))], spec)
    return Dict._sym_trusted(children, spec)  # type: ignore[arg-type]
