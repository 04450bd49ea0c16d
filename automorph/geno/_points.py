"""Decision points that pick numbers (`Float`, `Int`) and structures through
user hooks (`CustomDecisionPoint`, `CustomHooks`); `Choices` and `Space` are
in `_spec`."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, ClassVar, Literal

import numpy as np

from automorph.geno._spec import DecisionPoint, _invalid
from automorph.geno._walk import Draws, Start, join
from automorph.symbolic import Object
from automorph.utils import MISSING, SearchSpaceError


class Float(DecisionPoint, type_name="automorph.Float"):
    """A real number in [min_value, max_value], drawn uniformly on a linear or log scale."""

    min_value: float
    max_value: float
    scale: Literal["linear", "log"] = "linear"

    def _on_bound(self) -> None:
        if not self.min_value < self.max_value:
            raise SearchSpaceError(
                f"`min_value` ({self.min_value}) must be less than `max_value` ({self.max_value})",
                path=self.location,
            )
        if self.scale == "log" and self.min_value <= 0:
            raise SearchSpaceError(
                f"a log-scale float needs `min_value` > 0, got {self.min_value}",
                path=self.location,
            )

    def _stand_in(self) -> Any:
        return self.min_value

    def _draw(self, draws: Draws) -> Any:
        u = draws.next()
        lo, hi = self.min_value, self.max_value
        if self.scale == "log":
            value = math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
        else:
            value = lo + u * (hi - lo)
        return min(max(value, lo), hi)

    def check_value(self, decision_id: str, value: Any) -> None:
        if type(value) not in (float, int) or not self.min_value <= value <= self.max_value:
            raise _invalid(
                decision_id,
                f"expected a float in [{self.min_value}, {self.max_value}], got {value!r}",
            )

    def _from_number(self, value: Any) -> Any:
        return float(value) if type(value) is int else value

    def grid(self, points: int) -> list[float]:
        """`points` evenly spaced values (on the decision's scale), ends included."""
        if points < 2:
            return [self.min_value]
        lo, hi = self.min_value, self.max_value
        if self.scale == "log":
            return [float(v) for v in np.geomspace(lo, hi, points)]
        return [float(v) for v in np.linspace(lo, hi, points)]

    def _check_enumerable(self, prefix: str, float_points: int | None) -> None:
        if float_points is None:
            next(self._enumerate(prefix, None))  # raises, naming the decision

    def _enumerate(
        self, prefix: str, float_points: int | None, start: Start = None
    ) -> Iterator[list[tuple[str, Any]]]:
        if float_points is None:
            raise SearchSpaceError(
                "a float decision has infinitely many values; give `float_points` to walk "
                "a grid over it",
                path=join(prefix, self.location),
            )
        decision_id = join(prefix, self.location)
        low: Any = start.get(decision_id, MISSING) if start is not None else MISSING
        for value in self.grid(float_points):
            if low is MISSING or value >= low:
                yield [(decision_id, value)]

    def _size(self) -> int | float:
        return math.inf


class Int(DecisionPoint, type_name="automorph.Int"):
    """An integer in [min_value, max_value], drawn uniformly."""

    min_value: int
    max_value: int

    def _on_bound(self) -> None:
        if self.min_value > self.max_value:
            raise SearchSpaceError(
                f"`min_value` ({self.min_value}) must not exceed `max_value` ({self.max_value})",
                path=self.location,
            )

    def _stand_in(self) -> Any:
        return self.min_value

    def _draw(self, draws: Draws) -> Any:
        span = self.max_value - self.min_value + 1
        return self.min_value + min(int(draws.next() * span), span - 1)

    def check_value(self, decision_id: str, value: Any) -> None:
        if type(value) is not int or not self.min_value <= value <= self.max_value:
            raise _invalid(
                decision_id,
                f"expected an int in [{self.min_value}, {self.max_value}], got {value!r}",
            )

    def _enumerate(
        self, prefix: str, float_points: int | None, start: Start = None
    ) -> Iterator[list[tuple[str, Any]]]:
        decision_id = join(prefix, self.location)
        low: Any = start.get(decision_id, MISSING) if start is not None else MISSING
        for value in range(self.min_value if low is MISSING else low, self.max_value + 1):
            yield [(decision_id, value)]

    def _size(self) -> int | float:
        return self.max_value - self.min_value + 1


class CustomHooks(Object, type_name="automorph.CustomHooks"):
    """What a custom decision does: subclass and implement `random` (at least).

    Hooks are symbolic, so a space with custom decisions serializes. Grammar
    derivations and AutoML-Zero programs are custom decisions.

    Class attributes:
        preferred_algorithm: The registered name of the search algorithm
            made for spaces with this decision (grammar spaces:
            "grammar_bo"), which `algorithms.Auto` chooses for small
            budgets; None if there is none.
    """

    preferred_algorithm: ClassVar[str | None] = None

    def random(self, rng: np.random.Generator) -> Any:
        """A random value."""
        raise NotImplementedError(f"{type(self).__name__} must implement `random`")

    def mutate(self, value: Any, rng: np.random.Generator) -> Any:
        """A value near `value`; by default a fresh random one."""
        return self.random(rng)

    def crossover(self, a: Any, b: Any, rng: np.random.Generator) -> Any:
        """A value combining `a` and `b`; by default one of them."""
        return a if rng.random() < 0.5 else b

    def distance(self, a: Any, b: Any) -> float:
        """How different two values are; by default 0 if equal, else 1."""
        return 0.0 if a == b else 1.0

    def validate(self, value: Any) -> None:
        """Raises if `value` is not a valid value (any error; it is reported)."""

    def size(self) -> int | float:
        """How many values there are; infinite by default."""
        return math.inf

    def values(self) -> Iterator[Any]:
        """Every value, for finite hooks that can list them."""
        raise SearchSpaceError(f"{type(self).__name__} cannot enumerate its values")


class CustomDecisionPoint(DecisionPoint, type_name="automorph.CustomDecisionPoint"):
    """A decision whose value is a structure, decided by `hooks`."""

    hooks: CustomHooks

    def _draw(self, draws: Draws) -> Any:
        return self.hooks.random(draws.rng)

    def check_value(self, decision_id: str, value: Any) -> None:
        try:
            self.hooks.validate(value)
        except Exception as e:
            raise _invalid(decision_id, f"invalid custom value: {e}") from e

    def _check_enumerable(self, prefix: str, float_points: int | None) -> None:
        self.hooks.values()  # raises if the hooks cannot enumerate

    def _enumerate(
        self, prefix: str, float_points: int | None, start: Start = None
    ) -> Iterator[list[tuple[str, Any]]]:
        decision_id = join(prefix, self.location)
        low: Any = start.get(decision_id, MISSING) if start is not None else MISSING
        for value in self.hooks.values():
            if low is MISSING or value == low or not value < low:
                yield [(decision_id, value)]

    def _size(self) -> int | float:
        return self.hooks.size()
