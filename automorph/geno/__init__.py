"""The genotype: DNASpec (a tree of decision points) and DNA (one point).

Search algorithms see only this layer: a `Space` of decision points to
search and the `DNA` they propose. Nothing here knows the program being
searched.
"""

from __future__ import annotations

from automorph.geno._dna import DNA
from automorph.geno._points import CustomDecisionPoint, CustomHooks, Float, Int
from automorph.geno._spec import Choices, DecisionPoint, Space
from automorph.geno._walk import Draws, join

DNASpec = Space
"""The name PyGlove users know for `Space`: the tree of decision points of a search space."""

__all__ = [
    "DNA",
    "Choices",
    "CustomDecisionPoint",
    "CustomHooks",
    "DNASpec",
    "DecisionPoint",
    "Draws",
    "Float",
    "Int",
    "Space",
    "join",
]
