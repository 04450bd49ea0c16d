"""`Feedback`: how the body of a search loop reports on its trial.

The loop (`automorph.tuning._loop`) hands one to the body with each example;
it records measurements, metadata and the trial's end, and asks the loop's
early-stopping policy.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from automorph.algorithms import Constraints, Reward
from automorph.geno import DNA
from automorph.storage import CONSTRAINTS_KEY
from automorph.tuning import _direction
from automorph.tuning._trial import (
    Measurement,
    Trial,
    TrialStatus,
    check_constraints,
    check_metrics,
    check_reward,
    check_step,
    json_value,
)

if TYPE_CHECKING:
    from automorph.tuning._loop import SearchLoop

from automorph.utils import (
    FeedbackError,
    FieldTypeError,
    FieldValueError,
    TrialStateError,
)

logger = logging.getLogger("automorph.tuning")

SkipOn = type[BaseException]

STOPPED_EARLY_KEY = "stopped_early"
"""Where a trial's metadata keeps the step at which early stopping first said to stop."""


def _skip_rules(
    exceptions: SkipOn | Sequence[SkipOn | tuple[type[BaseException], str]],
) -> list[tuple[type[BaseException], str | None]]:
    """`skip_on_exceptions`' argument as (type, pattern or None) pairs."""
    items = [exceptions] if isinstance(exceptions, type) else list(exceptions)
    rules: list[tuple[type[BaseException], str | None]] = []
    for item in items:
        if isinstance(item, type) and issubclass(item, BaseException):
            rules.append((item, None))
        elif (
            isinstance(item, tuple)
            and len(item) == 2
            and isinstance(item[0], type)
            and issubclass(item[0], BaseException)
            and isinstance(item[1], str)
        ):
            rules.append((item[0], item[1]))
        else:
            raise FieldTypeError(
                f"`skip_on_exceptions` takes exception types or (type, message pattern) "
                f"pairs, got {item!r}"
            )
    return rules


def _matches(pattern: str | None, error: BaseException) -> bool:
    return pattern is None or re.search(pattern, str(error)) is not None


class Feedback:
    """How the body of a search loop reports on the trial it was given.

    Report measurements with `add_measurement`, then end the trial with
    `done` (its last measurement's reward goes to the algorithm), `skip` or
    `fail`. Calling the feedback, `feedback(reward)`, is `add_measurement`
    followed by `done`. If the loop moves on while the trial is still
    pending, it is completed with its last measurement, or skipped if it has
    none. In a constrained search, `set_constraints` (or
    `feedback(reward, constraints=...)`) reports the trial's constraint
    values, which go to the algorithm with its reward.

    >>> import automorph as am
    >>> loop = am.sample(am.Dict(x=am.intv(1, 3)), am.algorithms.Grid())
    >>> for example, feedback in loop:
    ...     feedback.add_measurement(example["x"] / 2, step=1, metrics={"loss": 0.1})
    ...     feedback.set_metadata("note", "ok")
    ...     if example["x"] == 2:
    ...         feedback.skip("too small")
    ...     else:
    ...         feedback.done()
    >>> [(t.id, t.status, t.reward) for t in loop.result.trials]
    [(1, 'completed', 0.5), (2, 'skipped', None), (3, 'completed', 1.5)]
    """

    __slots__ = ("_ending", "_loop", "trial")

    def __init__(self, loop: SearchLoop, trial: Trial) -> None:
        self._loop = loop
        self._ending = False
        self.trial = trial

    def __repr__(self) -> str:
        return f"Feedback(trial={self.trial.id}, status={self.trial.status!r})"

    @property
    def id(self) -> int:
        """The trial's id (from 1)."""
        return self.trial.id

    @property
    def dna(self) -> DNA:
        """The trial's DNA."""
        return self.trial.dna

    @property
    def metadata(self) -> dict[str, Any]:
        """The trial's metadata dict (write JSON values; `set_metadata` checks them)."""
        return self.trial.metadata

    @property
    def status(self) -> TrialStatus:
        """The trial's status."""
        return self.trial.status

    def set_metadata(self, key: str, value: Any) -> None:
        """Records `value` (JSON: None, bool, int, float, str, list, dict) under `key`.

        Raises:
            SerializationError: If `value` is not JSON (numpy scalars are
                taken as Python numbers, tuples as lists).
        """
        if type(key) is not str:
            raise FieldTypeError(f"metadata keys must be str, got {key!r}")
        if key == CONSTRAINTS_KEY:
            raise FieldValueError(
                f"trial {self.trial.id}: metadata key {key!r} holds the trial's constraint "
                "values; report them with `feedback.set_constraints(values)`"
            )
        self.trial.metadata[key] = json_value(value, key)

    def set_constraints(self, constraints: Sequence[float]) -> None:
        """Records the trial's constraint values: each is `<= 0` when its
        constraint is met (write `g(x) <= b` as `g(x) - b`). They go to the
        algorithm with the trial's reward when it completes; algorithms with
        `uses_constraints` (TPE, evolution, NSGA-II) prefer feasible trials,
        and results pick their best among the feasible ones. Setting them
        again replaces them. They are kept in the trial's metadata under
        "constraints" (see `Trial.constraints`), in every store.

        Args:
            constraints: A non-empty sequence of finite numbers, as many as
                the study's other trials report.

        Raises:
            FeedbackError: If `constraints` are not finite numbers, or not as
                many as earlier trials of the study reported (the message
                names the trial).
            TrialStateError: If the trial has already ended.

        >>> import automorph as am
        >>> loop = am.sample(am.Dict(x=am.intv(0, 3)), am.algorithms.Grid())
        >>> for example, feedback in loop:
        ...     feedback.set_constraints([example["x"] - 2])  # x <= 2
        ...     feedback(float(example["x"]))
        >>> [t.feasible for t in loop.result.trials], loop.result.best_trial.id
        ([True, True, True, False], 3)
        """
        trial = self.trial
        if trial.status != "pending":
            raise self._ended_error("constraints")
        values = check_constraints(constraints, trial.id)
        self._loop._check_constraint_count(trial, values)
        trial.metadata[CONSTRAINTS_KEY] = list(values)

    @property
    def constraints(self) -> Constraints | None:
        """The constraint values set so far, or None."""
        return self.trial.constraints

    def add_measurement(
        self,
        reward: Reward | Sequence[float],
        step: int = 0,
        metrics: Mapping[str, Any] | None = None,
    ) -> None:
        """Records how the trial is doing at `step`.

        A reward that is not a finite number (NaN, an infinity, a value that
        does not convert to float, a sequence for a single-objective search)
        fails the trial instead, with the reason in `trial.error` and a
        warning logged; no exception is raised, the search goes on, and the
        algorithm hears nothing of the trial. Calls on the ended trial then
        raise `TrialStateError`, as for any ended trial.

        Args:
            reward: The objective's value as the user sees it: a float, or a
                sequence of floats for a multi-objective search. Higher is
                better unless the search minimizes (`minimize=True`); it is
                stored and shown as given.
            step: Where in the evaluation this is (an epoch, ...), an int >= 0.
            metrics: Other figures to keep, by name.

        Raises:
            FeedbackError: If `step` or `metrics` are malformed.
            TrialStateError: If the trial has already ended.
        """
        trial = self.trial
        if trial.status != "pending":
            raise self._ended_error("a measurement")
        loop = self._loop
        try:
            value = check_reward(reward, loop.multi_objective, trial.id)
            _direction.for_algorithm(value, loop.directions, trial.id)
        except FeedbackError as e:
            logger.warning("%s; the trial fails and the search goes on", e.message)
            reason = e.message.removeprefix(f"trial {trial.id}: ")  # the trial says which
            self.fail(f"invalid reward: {reason}")
            return
        if type(step) is not int or step < 0:
            step = check_step(step, trial.id)
        checked = check_metrics(metrics, trial.id) if metrics else {}
        measurement = Measurement(value, step, checked, time.time() - trial.created)
        trial.measurements.append(measurement)
        self._loop._study.measured(trial, measurement, final=self._ending)

    def done(self) -> None:
        """Completes the trial with its last measurement, whose reward goes to the algorithm.

        Raises:
            FeedbackError: If the trial has no measurement, or the algorithm
                refuses the reward.
            TrialStateError: If the trial has already ended.
        """
        trial = self.trial
        if trial.status != "pending":
            raise self._ended_error("`done()`")
        if not trial.measurements:
            raise FeedbackError(
                f"trial {trial.id} has no measurement to complete with: call "
                "`add_measurement(reward)` first (or `feedback(reward)`), or `skip()`"
            )
        self._loop._complete(trial, trial.measurements[-1])

    def __call__(
        self,
        reward: Reward | Sequence[float],
        *,
        metrics: Mapping[str, Any] | None = None,
        constraints: Sequence[float] | None = None,
    ) -> None:
        """Records `reward` (at the last measurement's step, or 0) and completes
        the trial; `constraints`, if given, first, as `set_constraints` does.

        An invalid reward fails the trial, as `add_measurement` says.

        Raises:
            FeedbackError: As `add_measurement`, `set_constraints` and `done` do.
            TrialStateError: If the trial has already ended.
        """
        if constraints is not None:
            self.set_constraints(constraints)
        measurements = self.trial.measurements
        self._ending = True  # the store may keep this measurement with the trial's end
        try:
            self.add_measurement(reward, measurements[-1].step if measurements else 0, metrics)
        finally:
            self._ending = False
        if self.trial.status == "pending":  # not failed for an invalid reward
            self.done()

    def skip(self, reason: str | None = None) -> None:
        """Ends the trial without a reward (the algorithm hears nothing of it).

        Raises:
            TrialStateError: If the trial has already ended.
        """
        if self.trial.status != "pending":
            raise self._ended_error("`skip()`")
        self._loop._end(self.trial, "skipped", None if reason is None else str(reason))

    @contextlib.contextmanager
    def skip_on_exceptions(
        self, exceptions: SkipOn | Sequence[SkipOn | tuple[type[BaseException], str]]
    ) -> Iterator[None]:
        """A `with` block that skips the trial when its body raises one of
        `exceptions`, recording the error as the reason, and lets the search
        go on (PyGlove's `feedback.skip_on_exceptions`).

        Args:
            exceptions: Exception types; an item may be `(type, pattern)`, which
                matches only errors whose message matches the regular
                expression `pattern` (`re.search`). Other errors propagate.

        Raises:
            FieldTypeError: If an item is neither an exception type nor a
                `(type, pattern)` pair.

        >>> import automorph as am
        >>> loop = am.sample(am.Dict(x=am.intv(0, 2)), am.algorithms.Grid())
        >>> for example, feedback in loop:
        ...     with feedback.skip_on_exceptions((ZeroDivisionError,)):
        ...         feedback(1 / example["x"])
        >>> [(t.status, t.error) for t in loop.result.trials][:2]
        [('skipped', 'ZeroDivisionError: division by zero'), ('completed', None)]
        """
        rules = _skip_rules(exceptions)
        try:
            yield
        except BaseException as e:
            if not any(isinstance(e, kind) and _matches(pattern, e) for kind, pattern in rules):
                raise
            reason = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
            logger.warning("trial %d is skipped on an exception: %s", self.trial.id, reason)
            if self.trial.status == "pending":
                self.skip(reason)

    def fail(self, error: BaseException | str) -> None:
        """Ends the trial as failed, recording `error` (an exception or a message).

        Raises:
            TrialStateError: If the trial has already ended.
        """
        if self.trial.status != "pending":
            raise self._ended_error("`fail()`")
        if isinstance(error, BaseException):
            name = type(error).__name__
            message = f"{name}: {error}" if str(error) else name
        else:
            message = str(error)
        self._loop._end(self.trial, "failed", message)

    def should_stop_early(self) -> bool:
        """Whether the loop's early-stopping policy says to stop this trial now
        (then complete it with what it has, or skip it), judged from the
        measurements of this trial and of the study's other trials. When it
        says to stop, the trial's metadata keeps the step, under
        `"stopped_early"`.

        False without a policy, for a multi-objective search, and before the
        trial's first measurement.
        """
        loop = self._loop
        policy = loop.early_stopping
        trial = self.trial
        if policy is None or loop.multi_objective or not trial.measurements:
            return False
        # Policies take higher as better: a minimized reward is negated for them.
        sign = -1.0 if loop.directions[0] == "minimize" else 1.0
        curve = [(m.step, sign * m.reward) for m in trial.measurements]  # type: ignore[operator]
        others = loop._study.curves(trial.id, sign)
        stop = bool(policy.should_stop(trial.id, curve, others))
        if stop:  # kept with the trial (the dashboard marks it), the first step it was said
            trial.metadata.setdefault(STOPPED_EARLY_KEY, trial.measurements[-1].step)
        return stop

    def end_loop(self) -> None:
        """Ends the search after this trial: the loop proposes no more."""
        self._loop._stopping = True

    def _ended_error(self, what: str) -> TrialStateError:
        return TrialStateError(
            f"trial {self.trial.id} is already {self.trial.status}; it cannot take {what}"
        )
