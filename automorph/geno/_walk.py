"""Walks over a DNASpec: random draws, decision ids, and lazy enumeration.

Helpers of `_spec`: `Draws` hands out uniform numbers in batches; `join`
builds decision ids; `product` enumerates the concatenations of several
enumerations (lazily, optionally from a start DNA's values on); the
symmetric sums count multi-pick spaces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from automorph.utils import MISSING

if TYPE_CHECKING:
    from automorph.geno._spec import DecisionPoint


class Draws:
    """Uniform numbers in [0, 1) from a numpy generator, drawn in batches."""

    __slots__ = ("_buf", "_pos", "rng")

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self._buf: list[float] = []
        self._pos = 0

    def next(self) -> float:
        if self._pos >= len(self._buf):
            self._buf = self.rng.random(32).tolist()
            self._pos = 0
        u = self._buf[self._pos]
        self._pos += 1
        return u


def join(prefix: str, location: str) -> str:
    """The id of a decision at `location` under a candidate whose id prefix is `prefix`."""
    if not prefix:
        return location
    if not location:
        return prefix
    return prefix + location if location[0] == "[" else f"{prefix}.{location}"


class _NoDraws(Draws):
    """Draws for walks that must never sample (every value comes from `fill`)."""

    def __init__(self) -> None:
        pass

    def next(self) -> float:
        return 0.0


NO_DRAWS = _NoDraws()


Pairs = list[tuple[str, Any]]
Start = Mapping[str, Any] | None
Factory = Callable[[Start], Iterator[Pairs]]


def factory(element: DecisionPoint, prefix: str, float_points: int | None) -> Factory:
    """A function that starts a fresh enumeration of `element` under `prefix`
    (from a start DNA's values on, when given one)."""
    return lambda start: element._enumerate(prefix, float_points, start)


def constant(pairs: Pairs) -> Factory:
    """A factory of enumerations of the one item `pairs`."""
    return lambda start: iter([pairs])


def on_path(part: Pairs, start: Start) -> bool:
    """Whether `part` holds exactly `start`'s values (the walk is still on
    `start`'s path, so what follows starts from `start` too)."""
    return start is not None and all(start.get(k, MISSING) == v for k, v in part)


def product(factories: list[Factory], start: Start = None) -> Iterator[Pairs]:
    """Concatenations of one item from each factory's enumeration, the last
    varying fastest (as `itertools.product`); with a `start`, only those not
    below it.

    Lazy: enumerations are restarted rather than stored, so the first items
    of a huge space come at once and memory stays proportional to its depth.
    """
    n = len(factories)
    if n == 0:
        yield []
        return
    if start is None:
        yield from _fresh_product(factories)
        return
    iters: list[Iterator[Pairs]] = [factories[0](start)]
    # Per level: whether its enumeration started from `start` and has not
    # yet moved past `start`'s own item.
    fresh: list[bool] = [start is not None]
    parts: list[Pairs] = []
    while iters:
        level = len(iters) - 1
        part = next(iters[-1], None)
        if part is None:
            iters.pop()
            fresh.pop()
            continue
        follows = fresh[level] and on_path(part, start)
        fresh[level] = False
        del parts[level:]
        parts.append(part)
        if len(iters) == n:
            yield [pair for p in parts for pair in p]
        else:
            iters.append(factories[len(iters)](start if follows else None))
            fresh.append(follows)


def elementary_symmetric(values: list[int], k: int) -> int:
    """Sum over k-subsets of the product of their values."""
    e = [1] + [0] * k
    for v in values:
        for j in range(k, 0, -1):
            e[j] += e[j - 1] * v
    return e[k]


def complete_symmetric(values: list[int], k: int) -> int:
    """Sum over k-multisets of the product of their values."""
    h = [1] + [0] * k
    for v in values:
        for j in range(1, k + 1):
            h[j] += h[j - 1] * v
    return h[k]


def _fresh_product(factories: list[Factory]) -> Iterator[Pairs]:
    """`product` without a start (the common case, kept lean)."""
    n = len(factories)
    iters: list[Iterator[Pairs]] = [factories[0](None)]
    parts: list[Pairs] = []
    while iters:
        part = next(iters[-1], None)
        if part is None:
            iters.pop()
            continue
        del parts[len(iters) - 1 :]
        parts.append(part)
        if len(iters) == n:
            yield [pair for p in parts for pair in p]
        else:
            iters.append(factories[len(iters)](None))
