"""Hyper-values: turning symbolic programs into search spaces.

`oneof`, `manyof`, `permutate`, `floatv`, `intv` and `custom` stand for
decisions inside a program; `dna_spec` gives the program's genotype,
`materialize` a concrete program for a DNA, `encode` the DNA of a program.
Derived values (`same_as`, `ValueReference`, `DerivedValue`) follow other
values of the program and make no decision of their own.
"""

from __future__ import annotations

from automorph.hyper._compile import (
    Template,
    dna_spec,
    encode,
    iterate,
    materialize,
    random_sample,
)
from automorph.hyper._derived import DerivedValue, ValueReference, same_as
from automorph.hyper._dynamic import DynamicSpace, define_by_run
from automorph.hyper._values import (
    CustomHyper,
    FloatValue,
    HyperValue,
    IntValue,
    ManyOf,
    OneOf,
    custom,
    floatv,
    intv,
    manyof,
    oneof,
    permutate,
)

__all__ = [
    "CustomHyper",
    "DerivedValue",
    "DynamicSpace",
    "FloatValue",
    "HyperValue",
    "IntValue",
    "ManyOf",
    "OneOf",
    "Template",
    "ValueReference",
    "custom",
    "define_by_run",
    "dna_spec",
    "encode",
    "floatv",
    "intv",
    "iterate",
    "manyof",
    "materialize",
    "oneof",
    "permutate",
    "random_sample",
    "same_as",
]
