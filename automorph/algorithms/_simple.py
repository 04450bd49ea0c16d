"""Random search and grid search."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from automorph.algorithms._base import Reward, SearchAlgorithm
from automorph.algorithms._registry import register
from automorph.algorithms.models import Unseen
from automorph.geno import DNA
from automorph.utils import SearchExhaustedError


@register("random")
class Random(SearchAlgorithm, type_name="automorph.algorithms.Random"):
    """Uniform random search.

    Attributes:
        dedup: Never propose the same DNA twice; on a finite space, stop
            (`SearchExhaustedError`) once every DNA has been proposed.
        max_attempts: Draws per proposal before giving up on finding an
            unseen DNA (with `dedup`).

    >>> import automorph as am
    >>> from automorph import algorithms
    >>> search = algorithms.Random(seed=0, dedup=True)
    >>> search.setup(am.dna_spec(am.Dict(x=am.oneof([1, 2, 3]))))
    >>> sorted(search.propose()["x"] for _ in range(3))
    [0, 1, 2]
    """

    dedup: bool = False
    max_attempts: int = 1000

    needs_feedback = False

    def _setup(self) -> None:
        self._seen = Unseen()
        self._size = self._spec.size

    def _propose(self, rng: np.random.Generator) -> DNA:
        if not self.dedup:
            return self._spec.random_dna(rng)
        if len(self._seen) >= self._size:
            raise SearchExhaustedError(f"all {self._size} DNA of the space have been proposed")
        dna, new = self._seen.draw(lambda: self._spec.random_dna(rng), self.max_attempts)
        if new:
            self._seen.add(dna)
            return dna
        raise SearchExhaustedError(
            f"no unseen DNA in {self.max_attempts} draws ({len(self._seen)} seen)"
        )

    def _replay(self, dna: DNA, reward: Reward | None) -> None:
        if self.dedup:
            self._seen.add(dna)


@register("grid")
class Grid(SearchAlgorithm, type_name="automorph.algorithms.Grid"):
    """Every DNA of the space in order, then `SearchExhaustedError`.

    Attributes:
        float_points: Grid points per float decision (on its scale).

    >>> import automorph as am
    >>> from automorph import algorithms
    >>> grid = algorithms.Grid()
    >>> grid.setup(am.dna_spec(am.Dict(a=am.oneof([1, 2]), b=am.floatv(0.0, 1.0))))
    >>> [grid.propose().to_numbers() for _ in range(4)]
    [[0, 0.0], [0, 1.0], [1, 0.0], [1, 1.0]]
    """

    float_points: int = 2

    needs_feedback = False

    def _setup(self) -> None:
        self._cursor: Iterator[DNA] = self._spec.iter_dna(float_points=self.float_points)

    def _propose(self, rng: np.random.Generator) -> DNA:
        dna = next(self._cursor, None)
        if dna is None:
            raise SearchExhaustedError("the grid has been walked to its end")
        return dna

    def _replay(self, dna: DNA, reward: Reward | None) -> None:
        next(self._cursor, None)
