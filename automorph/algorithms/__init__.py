"""Search algorithms: they see only the genotype (DNASpec and DNA).

Every algorithm follows the `SearchAlgorithm` contract (`setup`, `propose`,
`feedback`, `recover`) and is registered by name (`names()`, `create()`).
"""

from __future__ import annotations

from automorph.algorithms._base import Reward, SearchAlgorithm
from automorph.algorithms._registry import create, names, register
from automorph.algorithms._simple import Grid, Random

__all__ = [
    "Grid",
    "Random",
    "Reward",
    "SearchAlgorithm",
    "create",
    "names",
    "register",
]
