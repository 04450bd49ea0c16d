"""`MultiFidelity`: algorithms that learn from a study's learning curves.

A search algorithm normally hears only a trial's final reward
(`feedback(dna, reward)`). A multi-fidelity algorithm (BOHB) also models how
trials did part of the way (at a few budgets along the step axis) and comes
with the early-stopping policy that decides how far each trial runs. Both
live in the search loop, above this layer, so the contract is two plain
hooks that `automorph.tuning` calls when a loop starts:

* `use_curves(source)`: a function the algorithm calls, when it proposes, for
  every trial of the study (this worker's and every other worker's, read
  from the study's store) with its `(step, reward)` measurements so far;
* `stopping_policy()`: the early-stopping policy to run the search with (by
  its registered name and fields, as `automorph.early_stopping.create` takes
  them), unless the user gave one.

Without a source (the algorithm driven by hand with `propose`/`feedback`)
a multi-fidelity algorithm sees only final rewards, as any other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from automorph.geno import DNA

Curve = Sequence[tuple[int, float]]
"""A trial's `(step, reward)` measurements, in report order (higher is better)."""

CurveSource = Callable[[], Sequence[tuple[DNA, Curve]]]
"""Returns every trial of the study that has measurements, in trial order, as
`(dna, curve)`: running and ended trials alike. Rewards are given as the
algorithm takes them (a minimized objective negated)."""


class MultiFidelity:
    """Mixin of algorithms that read learning curves (see the module docstring).

    The subclass implements `stopping_policy`; it reads the curves with
    `_read_curves()`, which returns nothing while no source is attached.
    The source is not a field: it is not serialized, not copied by `clone`,
    and `setup` (which resets the search state) keeps it.
    """

    _curve_source: CurveSource | None

    def use_curves(self, source: CurveSource | None) -> None:
        """Reads the study's learning curves from `source` from now on (None:
        final rewards only). `automorph.tuning` calls it when a search loop
        starts; a user driving the algorithm by hand can give any function
        returning `[(dna, [(step, reward), ...]), ...]`."""
        if source is not None and not callable(source):
            raise TypeError(
                f"`use_curves` takes a function returning (dna, curve) pairs, got "
                f"{type(source).__name__}"
            )
        self._curve_source = source

    @property
    def reads_curves(self) -> bool:
        """Whether a curve source is attached."""
        return getattr(self, "_curve_source", None) is not None

    def stopping_policy(self) -> tuple[str, dict[str, Any]]:
        """The early-stopping policy the algorithm is designed for: a name
        registered in `automorph.early_stopping` and its fields."""
        raise NotImplementedError

    def _read_curves(self) -> list[tuple[DNA, list[tuple[int, float]]]]:
        """The source's curves (checked: integer steps, float rewards), or []."""
        source = getattr(self, "_curve_source", None)
        if source is None:
            return []
        out: list[tuple[DNA, list[tuple[int, float]]]] = []
        for dna, curve in source():
            out.append((dna, [(int(step), float(reward)) for step, reward in curve]))
        return out


def value_at(curve: Curve, step: int) -> float | None:
    """The best reward a curve had when it reached `step` (its first
    measurement at `step` or beyond, and those before it), or None if it has
    not reached `step`: the value successive halving compares at a rung.

    >>> value_at([(1, 0.2), (2, 0.5), (3, 0.4), (5, 0.9)], 3)
    0.5
    >>> value_at([(1, 0.2), (2, 0.5)], 3) is None
    True
    """
    best = -float("inf")
    for s, reward in curve:
        best = max(best, reward)
        if s >= step:
            return best
    return None
