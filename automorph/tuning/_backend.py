"""Where a search loop's study lives: one interface, two implementations.

`SearchLoop` asks its study for the next trial, reports measurements and
ends, and reads the trials back; it does not know whether the study is in
its own memory (`MemoryStudy`, below) or in a store shared with other
workers (`automorph.tuning._stored.StoredStudy`).
"""

from __future__ import annotations

import abc
import time

from automorph.algorithms import SearchAlgorithm
from automorph.hyper import Template
from automorph.tuning._direction import Directions, for_algorithm
from automorph.tuning._trial import Measurement, Trial, TrialStatus
from automorph.utils import SearchExhaustedError

Curves = dict[int, list[tuple[int, float]]]


class StudyBackend(abc.ABC):
    """A study as a search loop uses it.

    Attributes:
        template: The compiled search space.
        algorithm: The search algorithm, set up on the space.
        directions: "maximize" or "minimize" per objective.
    """

    template: Template
    algorithm: SearchAlgorithm
    directions: Directions

    @abc.abstractmethod
    def next_trial(self, budget: int | None) -> Trial | None:
        """The next trial to evaluate (its `example` not yet materialized),
        or None when the study has nothing more for this worker: `budget`
        trials proposed (None: no limit) or the algorithm exhausted."""

    def measured(  # noqa: B027
        self, trial: Trial, measurement: Measurement, final: bool = False
    ) -> None:
        """Keeps a measurement the loop has added to `trial` (`final`: the
        trial ends with it next, so a store may keep it with the end)."""

    @abc.abstractmethod
    def finish(self, trial: Trial, status: TrialStatus, reward: object, error: str | None) -> None:
        """Records the end of `trial` (its metadata, constraint values
        included): the algorithm learns a completed trial's reward and
        constraints."""

    @abc.abstractmethod
    def curves(self, trial_id: int, sign: float) -> Curves:
        """The other trials' (step, sign * reward) curves, for early stopping."""

    @abc.abstractmethod
    def trials(self) -> list[Trial]:
        """Every trial of the study so far."""

    def close(self) -> None:  # noqa: B027
        """Releases what the study holds (threads, connections)."""


class MemoryStudy(StudyBackend):
    """A study in this loop's memory: the algorithm proposes on demand."""

    def __init__(self, template: Template, algorithm: SearchAlgorithm, directions: Directions):
        self.template = template
        self.algorithm = algorithm
        self.directions = directions
        self._trials: list[Trial] = []

    def next_trial(self, budget: int | None) -> Trial | None:
        if budget is not None and len(self._trials) >= budget:
            return None
        try:
            dna = self.algorithm.propose()
        except SearchExhaustedError:
            return None
        trial = Trial(len(self._trials) + 1, dna, created=time.time())
        self._trials.append(trial)
        return trial

    def finish(self, trial: Trial, status: TrialStatus, reward: object, error: str | None) -> None:
        if status == "completed":
            value = for_algorithm(reward, self.directions, trial.id)  # type: ignore[arg-type]
            self.algorithm.feedback(trial.dna, value, trial.constraints)
        else:
            self.algorithm.discard(trial.dna)

    def curves(self, trial_id: int, sign: float) -> Curves:
        return {
            t.id: [(m.step, sign * m.reward) for m in t.measurements]  # type: ignore[operator]
            for t in self._trials
            if t.id != trial_id and t.measurements
        }

    def trials(self) -> list[Trial]:
        return self._trials
