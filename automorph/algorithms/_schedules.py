"""Schedules: values that change with the step of a search.

An operator field that takes a number (a selector's size, how often `*` or
`**` repeats an operator) also takes a schedule, a callable of the step (the
number of proposals made so far when reproducing, the number of rewards
received when updating the population). A schedule is a symbolic object, so
an algorithm that uses one still prints and serializes; a plain function
works too, but then the algorithm cannot be written to JSON.

    Top(StepWise([(100, 10), (100, 5)], default=2))

keeps the best 10 for the first 100 steps, the best 5 for the next 100, and
the best 2 after that.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from automorph.symbolic import Bounds, Object
from automorph.utils import FieldValueError


class Schedule(Object, type_name="automorph.algorithms.Schedule"):
    """Base class of schedules: `schedule(step) -> value`.

    Subclasses implement `__call__`.

    >>> Linear(10, 2, num_steps=8, integer=True)(4)
    6
    """

    def __call__(self, step: int) -> Any:
        """The value at `step` (0, 1, 2, ...)."""
        raise NotImplementedError(f"{type(self).__name__} must implement `__call__`")


class StepWise(Schedule, type_name="automorph.algorithms.StepWise"):
    """A value per phase: `phases` is a list of (number of steps, value).

    Attributes:
        phases: The phases in order; each holds its value for its number of
            steps.
        default: The value after the last phase (None: the last phase's).

    >>> schedule = StepWise([(2, 10), (3, 5)])
    >>> [schedule(step) for step in range(7)]
    [10, 10, 5, 5, 5, 5, 5]
    """

    phases: list[tuple[Annotated[int, Bounds(1, None)], Any]]
    default: Any = None

    def _on_bound(self) -> None:
        if not self.phases:
            raise FieldValueError("`phases` must hold at least one (steps, value) phase")
        self._ends: list[int] = []
        end = 0
        for length, _ in self.phases:
            end += length
            self._ends.append(end)

    def __call__(self, step: int) -> Any:
        for end, (_, value) in zip(self._ends, self.phases, strict=True):
            if step < end:
                return value
        return self.phases[-1][1] if self.default is None else self.default


class Linear(Schedule, type_name="automorph.algorithms.Linear"):
    """From `start` at step 0 to `end` at step `num_steps`, in a straight line.

    Attributes:
        start: The value at step 0.
        end: The value at `num_steps` and after.
        num_steps: How many steps the change takes.
        integer: Round the value to the nearest int (for sizes and counts).

    >>> [Linear(1.0, 0.0, num_steps=4)(s) for s in (0, 2, 4, 9)]
    [1.0, 0.5, 0.0, 0.0]
    """

    start: float
    end: float
    num_steps: Annotated[int, Bounds(1, None)]
    integer: bool = False

    def __call__(self, step: int) -> float | int:
        fraction = min(max(step, 0), self.num_steps) / self.num_steps
        value = self.start + (self.end - self.start) * fraction
        return math.floor(value + 0.5) if self.integer else value


def scalar_at(value: Any, step: int) -> Any:
    """`value(step)` for a schedule (any callable), else `value` itself.

    >>> scalar_at(3, 7), scalar_at(StepWise([(5, 1)], default=2), 7)
    (3, 2)
    """
    if callable(value):
        return value(step)
    return value
