"""Trials and measurements: the plain data a search records.

A `Trial` is one proposal of a search: its DNA, the program materialized
from it, the measurements reported while it was evaluated, and how it ended.
Everything except the materialized example is plain data (numbers, strings,
lists, dicts, and DNA, which writes itself as JSON), so a storage layer can
persist it with `Trial.to_json` and read it back with `Trial.from_json`; the
example is re-materialized from the DNA where needed.

A trial of a constrained search keeps its constraint values (each `<= 0`
when met) in its metadata under `"constraints"` (`CONSTRAINTS_KEY`): they
are written with the trial's end, as the rest of its metadata is, so the
memory, SQLite and PostgreSQL stores all keep them with no column of their
own, and `Trial.constraints` / `Trial.feasible` read them back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from automorph import algorithms
from automorph.algorithms import Constraints, Reward
from automorph.geno import DNA
from automorph.storage import CONSTRAINTS_KEY
from automorph.utils import FeedbackError, SerializationError

TrialStatus = Literal["pending", "completed", "skipped", "failed"]
"""How a trial stands: being evaluated, or how it ended."""

STATUSES: tuple[TrialStatus, ...] = ("pending", "completed", "skipped", "failed")


@dataclass(frozen=True, slots=True)
class Measurement:
    """One report of how a trial is doing.

    Attributes:
        reward: The objective (higher is better): a float, or a tuple of
            floats when the search is multi-objective.
        step: Where in the evaluation the report was made (an epoch, a
            number of examples seen); 0 for a single final report.
        metrics: Other figures worth keeping (`{"loss": 0.31}`); they do not
            steer the search.
        elapsed: Seconds from the trial's creation to this report.

    >>> m = Measurement(0.91, step=3, metrics={"loss": 0.2}, elapsed=1.5)
    >>> m.reward, m.step
    (0.91, 3)
    >>> Measurement.from_json(m.to_json()) == m
    True
    """

    reward: Reward
    step: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    elapsed: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """A JSON-compatible dict (a multi-objective reward as a list)."""
        reward = list(self.reward) if isinstance(self.reward, tuple) else self.reward
        return {
            "reward": reward,
            "step": self.step,
            "metrics": dict(self.metrics),
            "elapsed": self.elapsed,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Measurement:
        """Reads what `to_json` wrote.

        Raises:
            SerializationError: If `data` is not a measurement's JSON.
        """
        try:
            reward = data["reward"]
            return cls(
                reward=tuple(float(r) for r in reward)
                if isinstance(reward, list)
                else float(reward),
                step=int(data.get("step", 0)),
                metrics={str(k): float(v) for k, v in data.get("metrics", {}).items()},
                elapsed=float(data.get("elapsed", 0.0)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise SerializationError(f"not a measurement's JSON ({e}): {data!r}") from None


@dataclass(slots=True, eq=False)
class Trial:
    """One proposal of a search and what became of it.

    Attributes:
        id: The trial's number in its study, from 1.
        dna: The proposal.
        example: The program materialized from `dna` (not persisted).
        status: 'pending' while it is evaluated, then 'completed' (it has a
            final measurement, whose reward went to the algorithm),
            'skipped' (no reward; the search goes on) or 'failed' (the
            evaluation raised).
        measurements: Every report, in the order they were made.
        final_measurement: The measurement the trial completed with (the
            last one reported), or None unless completed.
        metadata: Free-form notes with JSON values.
        created: When the trial was proposed (`time.time()`).
        completed: When it ended, or None while pending.
        error: Why a failed trial failed (`"ValueError: ..."`), or the reason
            given for skipping a trial; None otherwise.

    >>> import automorph as am
    >>> trial = Trial(1, am.DNA({"x": 2}), example={"x": 2}, created=100.0)
    >>> trial.status, trial.reward
    ('pending', None)
    >>> trial
    Trial(id=1, status='pending', reward=None, dna=DNA({'x': 2}))
    """

    id: int
    dna: DNA
    example: Any = None
    status: TrialStatus = "pending"
    measurements: list[Measurement] = field(default_factory=list)
    final_measurement: Measurement | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    created: float = 0.0
    completed: float | None = None
    error: str | None = None

    @property
    def reward(self) -> Reward | None:
        """The final measurement's reward; None unless the trial completed."""
        final = self.final_measurement
        return None if final is None else final.reward

    @property
    def constraints(self) -> Constraints | None:
        """The constraint values the trial reported (each `<= 0` when met),
        or None if it reported none."""
        return stored_constraints(self.metadata)

    @property
    def violation(self) -> float:
        """The total constraint violation, `sum(max(c, 0))`: 0.0 when feasible."""
        return algorithms.violation(self.constraints)

    @property
    def feasible(self) -> bool:
        """Whether every constraint is met (True for a trial without constraints).

        >>> import automorph as am
        >>> trial = Trial(1, am.DNA({"x": 2}), metadata={"constraints": [0.5, -1.0]})
        >>> trial.constraints, trial.feasible, trial.violation
        ((0.5, -1.0), False, 0.5)
        """
        return self.violation == 0.0

    @property
    def is_finished(self) -> bool:
        """Whether the trial has ended (completed, skipped or failed)."""
        return self.status != "pending"

    def __repr__(self) -> str:
        return (
            f"Trial(id={self.id}, status={self.status!r}, reward={self.reward!r}, dna={self.dna!r})"
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-compatible dict of everything but the example."""
        final = self.final_measurement
        return {
            "id": self.id,
            "dna": self.dna.to_json(),
            "status": self.status,
            "measurements": [m.to_json() for m in self.measurements],
            "final_measurement": None if final is None else final.to_json(),
            "metadata": self.metadata,
            "created": self.created,
            "completed": self.completed,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], example: Any = None) -> Trial:
        """Reads what `to_json` wrote (with `example` as the materialized program).

        Raises:
            SerializationError: If `data` is not a trial's JSON.
        """
        if not isinstance(data, Mapping) or data.get("status") not in STATUSES:
            raise SerializationError(f"not a trial's JSON (no valid status): {data!r}")
        try:
            final = data.get("final_measurement")
            completed = data.get("completed")
            return cls(
                id=int(data["id"]),
                dna=DNA.from_json(data["dna"]),
                example=example,
                status=data["status"],
                measurements=[Measurement.from_json(m) for m in data.get("measurements", [])],
                final_measurement=None if final is None else Measurement.from_json(final),
                metadata=dict(data.get("metadata", {})),
                created=float(data.get("created", 0.0)),
                completed=None if completed is None else float(completed),
                error=data.get("error"),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise SerializationError(f"not a trial's JSON ({e}): {data!r}") from None


@dataclass(frozen=True)
class Outcome:
    """What an objective of `am.tune` may return instead of a bare reward:
    the reward with the trial's constraint values (and metrics).

    Attributes:
        reward: The objective's value (a float, or a sequence of floats for
            a multi-objective search), as a bare return value would be.
        constraints: The constraint values, each `<= 0` when met (None: no
            constraints). They are recorded as `feedback.set_constraints`
            records them.
        metrics: Other figures of the final measurement, by name.

    >>> import automorph as am
    >>> def objective(p):
    ...     return am.tuning.Outcome(-(p["x"] ** 2), constraints=[1.0 - p["x"]])
    >>> result = am.tune(objective, am.Dict(x=am.floatv(0.0, 2.0)), am.algorithms.TPE(seed=1), 30)
    >>> best = result.best_trial
    >>> best.feasible, 1.0 <= best.example["x"] < 1.2
    (True, True)
    """

    reward: Reward | Sequence[float]
    constraints: Sequence[float] | None = None
    metrics: Mapping[str, Any] | None = None


# --- checks of what users report ------------------------------------------------


def check_reward(reward: Any, multi_objective: bool, trial_id: int) -> Reward:
    """`reward` as the algorithm will take it (see `algorithms.check_reward`),
    checked where the user reports it, so the error names the trial. An
    infinity is refused too: it would swamp every comparison of a search.

    Raises:
        FeedbackError: If the reward does not suit the search.
    """
    try:
        value = algorithms.check_reward(reward, multi_objective)
    except FeedbackError as e:
        raise FeedbackError(f"trial {trial_id}: {e.message}") from None
    values = value if isinstance(value, tuple) else (value,)
    if not all(math.isfinite(v) for v in values):
        raise FeedbackError(f"trial {trial_id}: a reward must be finite, got {reward!r}")
    return value


def stored_constraints(metadata: Mapping[str, Any] | None) -> Constraints | None:
    """The constraint values kept in a trial's (or a stored record's)
    metadata, or None if it has none (or what is there is not a list of
    numbers: a store edited by hand is read, not refused).

    >>> stored_constraints({"constraints": [0.5, -1]}), stored_constraints({"note": 1})
    ((0.5, -1.0), None)
    """
    stored = metadata.get(CONSTRAINTS_KEY) if isinstance(metadata, Mapping) else None
    if not isinstance(stored, list) or not stored:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in stored):
        return None
    return tuple(float(v) for v in stored)


def check_constraints(constraints: Any, trial_id: int) -> Constraints:
    """`constraints` as a non-empty tuple of finite floats, checked where the
    user reports them, so the error names the trial.

    Raises:
        FeedbackError: If they are not a non-empty sequence of finite numbers.
    """
    return algorithms.check_constraints(constraints, f"trial {trial_id}: constraints")


def check_step(step: Any, trial_id: int) -> int:
    """`step` if it is an int >= 0.

    Raises:
        FeedbackError: Otherwise.
    """
    if type(step) is not int:
        if isinstance(step, (int, np.integer)) and not isinstance(step, bool):
            step = int(step)
        else:
            raise FeedbackError(
                f"trial {trial_id}: `step` must be an int, got {type(step).__name__} ({step!r})"
            )
    if step < 0:
        raise FeedbackError(f"trial {trial_id}: `step` must be >= 0, got {step}")
    return int(step)


def check_metrics(metrics: Mapping[str, Any], trial_id: int) -> dict[str, float]:
    """A copy of `metrics` with float values.

    Raises:
        FeedbackError: If a key is not a string or a value is not a number.
    """
    if not isinstance(metrics, Mapping):
        raise FeedbackError(
            f"trial {trial_id}: `metrics` must be a dict of str to float, "
            f"got {type(metrics).__name__}"
        )
    out: dict[str, float] = {}
    for key, value in metrics.items():
        if type(key) is not str:
            raise FeedbackError(f"trial {trial_id}: metric names must be str, got {key!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise FeedbackError(
                f"trial {trial_id}: metric {key!r} must be a number, got "
                f"{type(value).__name__} ({value!r})"
            )
        out[key] = float(value)
    return out


def json_value(value: Any, path: str) -> Any:
    """A JSON-compatible copy of `value` (numpy scalars become Python numbers,
    tuples lists).

    Raises:
        SerializationError: Naming `path`, if `value` holds something JSON
            cannot represent.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic) and isinstance(value, (np.number, np.bool_)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [json_value(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise SerializationError(f"metadata keys must be str, got {key!r}", path=path)
            out[key] = json_value(item, f"{path}.{key}" if path else key)
        return out
    raise SerializationError(
        f"metadata values must be JSON (None, bool, int, float, str, list, dict), got "
        f"{type(value).__name__} ({value!r})",
        path=path,
    )
