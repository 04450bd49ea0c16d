"""The DNA a search has proposed, and new DNA that avoid them.

Searches that should not evaluate a DNA twice keep an `Unseen` set of what
they proposed (and what was replayed to them) and ask it for DNA outside
it: the first new one of repeated draws (`draw`, `random`), or the new ones
among a batch of candidates (`fresh`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np

from automorph.geno import DNA, Space

DEFAULT_ATTEMPTS = 100
"""Draws `random` makes before it settles for a DNA proposed already."""


class Unseen:
    """A set of proposed DNA, with helpers to find DNA not in it.

    >>> import automorph as am
    >>> spec = am.dna_spec(am.Dict(x=am.oneof([1, 2])))
    >>> seen = Unseen()
    >>> rng = np.random.default_rng(0)
    >>> first = seen.random(spec, rng)
    >>> seen.add(first)
    >>> second = seen.random(spec, rng)
    >>> first != second, len(seen.fresh([first, second, second]))
    (True, 1)
    """

    def __init__(self, dnas: Iterable[DNA] = ()) -> None:
        self._seen: set[DNA] = set(dnas)

    def add(self, dna: DNA) -> None:
        """Marks `dna` as proposed."""
        self._seen.add(dna)

    def __contains__(self, dna: object) -> bool:
        return dna in self._seen

    def __len__(self) -> int:
        return len(self._seen)

    def __iter__(self) -> Iterator[DNA]:
        return iter(self._seen)

    def draw(self, draw: Callable[[], DNA], attempts: int) -> tuple[DNA, bool]:
        """The first of up to `attempts` draws not proposed yet, and True; or
        the last draw and False if every one was proposed already."""
        dna = draw()
        for _ in range(attempts - 1):
            if dna not in self._seen:
                return dna, True
            dna = draw()
        return dna, dna not in self._seen

    def random(
        self, spec: Space, rng: np.random.Generator, attempts: int = DEFAULT_ATTEMPTS
    ) -> DNA:
        """A random DNA of `spec` not proposed yet (after `attempts` draws, the
        last one even if it was)."""
        return self.draw(lambda: spec.random_dna(rng), attempts)[0]

    def fresh(self, candidates: Iterable[DNA]) -> list[DNA]:
        """The distinct `candidates` not proposed yet, in their order."""
        return list(dict.fromkeys(d for d in candidates if d not in self._seen))
