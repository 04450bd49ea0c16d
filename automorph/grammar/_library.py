"""Grammars of known spaces: NAS-Bench-201's cell and the hierarchical NAS-Bench-201 space."""

from __future__ import annotations

from automorph.grammar._grammar import Grammar

__all__ = [
    "NB201_GRAMMAR",
    "HIERARCHICAL_NB201_GRAMMAR",
    "hierarchical_nb201_grammar",
    "nb201_grammar",
]

NB201_GRAMMAR = """\
# NAS-Bench-201: one cell, an operation on each of its six edges
# (edges 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2, NAS-Bench-201's order).
CELL -> Cell(OP, OP, OP, OP, OP, OP)
@level
OP -> none | skip_connect | nor_conv_1x1 | nor_conv_3x3 | avg_pool_3x3
"""
"""The text of NAS-Bench-201's cell grammar (`nb201_grammar` parses it)."""

HIERARCHICAL_NB201_GRAMMAR = """\
# The hierarchical NAS-Bench-201 space of Schrodi et al.: macro topology (D2),
# stages (D1 ends by downsampling, D0 does not), blocks (C, DOWN), the
# NAS-Bench-201 cell, its operations, and the convolution blocks inside them.
# As in the paper's grammar, an operation may be a convolution block through
# either of two (identical) productions; sizes count derivations.
D2 -> Sequential3(D1, D1, D0) | Sequential3(D0, D1, D1) | Sequential4(D1, D1, D0, D0)
@level
D1 -> Sequential3(C, C, DOWN) | Sequential4(C, C, C, DOWN) | Residual3(C, C, DOWN, DOWN)
D0 -> Sequential3(C, C, CELL) | Sequential4(C, C, C, CELL) | Residual3(C, C, CELL, CELL)
@level
DOWN -> Sequential2(CELL, down) | Sequential3(CELL, CELL, down) | Residual2(CELL, down, down)
C -> Sequential2(CELL, CELL) | Sequential3(CELL, CELL, CELL) | Residual2(CELL, CELL, CELL)
@level
CELL -> Cell(OP, OP, OP, OP, OP, OP)
@level
OP -> id | zero | avg_pool | Sequential1(CONVBLOCK) | Sequential1(CONVBLOCK)
CONVBLOCK -> Sequential3(ACT, CONV, NORM)
@level
ACT -> relu | hardswish | mish
CONV -> conv3x3 | conv1x1 | dconv3x3
NORM -> batch | instance | layer
"""
"""The text of the hierarchical NAS-Bench-201 grammar (`hierarchical_nb201_grammar` parses it)."""


def nb201_grammar() -> Grammar:
    """NAS-Bench-201's cell space as a grammar: exactly its 5^6 = 15,625 cells.

    >>> nb201_grammar().size()
    15625
    """
    return Grammar.parse(NB201_GRAMMAR)


def hierarchical_nb201_grammar() -> Grammar:
    """The hierarchical NAS-Bench-201 space: macro stages, blocks, cells, operations.

    >>> g = hierarchical_nb201_grammar()
    >>> len(str(g.size())) - 1  # order of magnitude
    446
    """
    return Grammar.parse(HIERARCHICAL_NB201_GRAMMAR)
