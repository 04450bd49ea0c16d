"""Symbolic values: Python objects that know their place in a tree.

`Object`, `List` and `Dict` are the nodes; `symbolize` turns functions and
existing classes into symbolic ones, `compound` a factory function into a
symbolic class. Every node knows its parent and key path,
and supports `rebind`, `clone`, `query`, `walk`, `format`, structural
equality and hashing, and an exact JSON round trip.
"""

from __future__ import annotations

from automorph.symbolic._base import FieldUpdate, Symbolic, sym_eq, sym_hash
from automorph.symbolic._compound import Compound, compound, compound_class
from automorph.symbolic._containers import Dict, List
from automorph.symbolic._diff import Diff, diff
from automorph.symbolic._functor import ClassWrapper, Functor, symbolize
from automorph.symbolic._json import (
    from_json,
    from_json_str,
    load,
    register_json_type,
    save,
    to_json,
    to_json_str,
)
from automorph.symbolic._keypath import Key, KeyPath
from automorph.symbolic._object import Object, Schema
from automorph.symbolic._ops import clone, query, sym_lt
from automorph.symbolic._rebuild import rebuild
from automorph.symbolic._registry import registered_names
from automorph.symbolic._spec import (
    Bounds,
    CustomTyping,
    ListSpec,
    TupleSpec,
    UnionSpec,
    ValueSpec,
    compile_annotation,
)

__all__ = [
    "Bounds",
    "ClassWrapper",
    "Compound",
    "CustomTyping",
    "Dict",
    "Diff",
    "FieldUpdate",
    "Functor",
    "Key",
    "KeyPath",
    "List",
    "ListSpec",
    "Object",
    "Schema",
    "Symbolic",
    "TupleSpec",
    "UnionSpec",
    "ValueSpec",
    "clone",
    "compile_annotation",
    "compound",
    "compound_class",
    "diff",
    "from_json",
    "from_json_str",
    "load",
    "query",
    "rebuild",
    "register_json_type",
    "registered_names",
    "save",
    "sym_eq",
    "sym_hash",
    "sym_lt",
    "symbolize",
    "to_json",
    "to_json_str",
]
