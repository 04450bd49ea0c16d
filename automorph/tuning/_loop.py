"""The in-memory search loop: `am.sample`, `am.tune` and `Feedback`.

One loop drives one search. It compiles the space once (`Template`), sets
the algorithm up on the space's DNASpec, and for each trial asks the
algorithm for a DNA, materializes it into an example, and hands the user the
example with a `Feedback` to report on it. Completing a trial sends its final
reward to the algorithm; skipping or failing it sends nothing.

A trial the user neither completes nor skips is finished when the loop moves
on: completed with its last measurement if it has one, skipped otherwise.

The loop is sequential and in memory. Keeping studies in a database, and
several workers sharing one study, come with the storage layer.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from automorph.algorithms import Random, Reward, SearchAlgorithm
from automorph.geno import DNA
from automorph.hyper import Template
from automorph.tuning._progress import Progress
from automorph.tuning._result import StudyResult
from automorph.tuning._trial import (
    Measurement,
    Trial,
    TrialStatus,
    check_metrics,
    check_reward,
    check_step,
    json_value,
)
from automorph.utils import (
    FeedbackError,
    FieldTypeError,
    FieldValueError,
    SearchExhaustedError,
    TrialStateError,
)


class Feedback:
    """How the body of a search loop reports on the trial it was given.

    Report measurements with `add_measurement`, then end the trial with
    `done` (its last measurement's reward goes to the algorithm), `skip` or
    `fail`. Calling the feedback, `feedback(reward)`, is `add_measurement`
    followed by `done`. If the loop moves on while the trial is still
    pending, it is completed with its last measurement, or skipped if it has
    none.

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

    __slots__ = ("_loop", "trial")

    def __init__(self, loop: SearchLoop, trial: Trial) -> None:
        self._loop = loop
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
        self.trial.metadata[key] = json_value(value, key)

    def add_measurement(
        self,
        reward: Reward | Sequence[float],
        step: int = 0,
        metrics: Mapping[str, Any] | None = None,
    ) -> None:
        """Records how the trial is doing at `step`.

        Args:
            reward: Higher is better: a float, or a sequence of floats for a
                multi-objective search.
            step: Where in the evaluation this is (an epoch, ...), an int >= 0.
            metrics: Other figures to keep, by name.

        Raises:
            FeedbackError: If the reward does not suit the search (not a
                number, NaN, a sequence for a single-objective algorithm), or
                `step` or `metrics` are malformed.
            TrialStateError: If the trial has already ended.
        """
        trial = self.trial
        if trial.status != "pending":
            raise self._ended_error("a measurement")
        value = check_reward(reward, self._loop.multi_objective, trial.id)
        if type(step) is not int or step < 0:
            step = check_step(step, trial.id)
        checked = check_metrics(metrics, trial.id) if metrics else {}
        trial.measurements.append(Measurement(value, step, checked, time.time() - trial.created))

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
        self, reward: Reward | Sequence[float], *, metrics: Mapping[str, Any] | None = None
    ) -> None:
        """Records `reward` (at the last measurement's step, or 0) and completes the trial.

        Raises:
            FeedbackError: As `add_measurement` and `done` do.
            TrialStateError: If the trial has already ended.
        """
        measurements = self.trial.measurements
        self.add_measurement(reward, measurements[-1].step if measurements else 0, metrics)
        self.done()

    def skip(self, reason: str | None = None) -> None:
        """Ends the trial without a reward (the algorithm hears nothing of it).

        Raises:
            TrialStateError: If the trial has already ended.
        """
        if self.trial.status != "pending":
            raise self._ended_error("`skip()`")
        self._loop._end(self.trial, "skipped", None if reason is None else str(reason))

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
        """Whether to stop evaluating this trial (and `skip` or complete it now).

        Always False for now: early-stopping policies (successive halving,
        ASHA, median stopping) will decide it from the measurements reported
        so far, so write loops that ask after each `add_measurement`.
        """
        return False

    def end_loop(self) -> None:
        """Ends the search after this trial: the loop proposes no more."""
        self._loop._stopping = True

    def _ended_error(self, what: str) -> TrialStateError:
        return TrialStateError(
            f"trial {self.trial.id} is already {self.trial.status}; it cannot take {what}"
        )


class SearchLoop(Iterator[tuple[Any, Feedback]]):
    """The iterator `am.sample` returns: `(example, feedback)` per trial.

    It ends after `num_examples` trials, after a trial whose feedback called
    `end_loop()`, or when the algorithm has nothing left to propose. Its
    `result` is the study so far, live. Leaving the loop with `break` leaves
    the current trial pending (it can still be completed); `close()`, or
    using the loop as a context manager, finishes it as moving on would.

    Trials are evaluated one at a time, in one thread: the loop proposes the
    next trial only when the body asks for it, after finishing the last.

    Attributes:
        algorithm: The search algorithm (set up on the space's DNASpec).
        template: The compiled search space.
        multi_objective: Whether rewards are tuples (the algorithm's).
        result: The `StudyResult`, updated as the loop runs.

    >>> import automorph as am
    >>> space = am.Dict(lr=am.floatv(1e-3, 1e-1, scale="log"), depth=am.intv(1, 4))
    >>> with am.sample(space, am.algorithms.Random(seed=1), 5) as loop:
    ...     for model, feedback in loop:
    ...         feedback(model["depth"] - model["lr"])
    >>> loop.result.num_completed, loop.result.best_trial.id
    (5, 5)
    """

    def __init__(
        self,
        space: Any,
        algorithm: SearchAlgorithm | None = None,
        num_examples: int | None = None,
        *,
        name: str | None = None,
        progress: bool = False,
    ) -> None:
        if num_examples is not None and (type(num_examples) is not int or num_examples < 0):
            raise FieldValueError(
                f"`num_examples` must be an int >= 0 or None, got {num_examples!r}"
            )
        if algorithm is None:
            algorithm = Random()
        elif not isinstance(algorithm, SearchAlgorithm):
            raise FieldTypeError(
                "`algorithm` must be a search algorithm (for example "
                f"`am.algorithms.Random()`), got {type(algorithm).__name__}"
            )
        self.template = Template(space)
        algorithm.setup(self.template.spec)
        self.algorithm = algorithm
        self.multi_objective = bool(algorithm.multi_objective)
        self._trials: list[Trial] = []
        self.result = StudyResult(self._trials, self.template.spec, self.multi_objective, name)
        self._num_examples = num_examples
        self._current: Feedback | None = None
        self._stopping = False
        self._closed = False
        self._num_finished = 0
        self._best: float | None = None
        self._best_id: int | None = None
        self._progress = Progress(num_examples, name) if progress else None

    def __iter__(self) -> SearchLoop:
        return self

    def __next__(self) -> tuple[Any, Feedback]:
        current = self._current
        if current is not None:
            self._current = None
            if current.trial.status == "pending":
                self._finish_pending(current.trial)
        if self._closed:
            raise StopIteration
        trials = self._trials
        if self._stopping or (self._num_examples is not None and len(trials) >= self._num_examples):
            self.close()
            raise StopIteration
        try:
            dna = self.algorithm.propose()
        except SearchExhaustedError:
            self.close()
            raise StopIteration from None
        trial = Trial(len(trials) + 1, dna, created=time.time())
        trials.append(trial)
        try:
            trial.example = self.template.materialize(dna, validate=False)
        except BaseException as e:
            self._end(trial, "failed", f"{type(e).__name__}: {e}")
            raise
        feedback = Feedback(self, trial)
        self._current = feedback
        return trial.example, feedback

    def close(self) -> None:
        """Ends the loop: finishes a pending current trial (completed with its
        last measurement, else skipped) and writes the last progress line."""
        if self._closed:
            return
        current = self._current
        self._current = None
        self._closed = True
        if current is not None and current.trial.status == "pending":
            self._finish_pending(current.trial)
        if self._progress is not None:
            self._progress.close(self._num_finished, self._best, self._best_id)

    def __enter__(self) -> SearchLoop:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- what Feedback calls -----------------------------------------------------

    def _finish_pending(self, trial: Trial) -> None:
        if trial.measurements:
            self._complete(trial, trial.measurements[-1])
        else:
            self._end(trial, "skipped", None)

    def _complete(self, trial: Trial, final: Measurement) -> None:
        self.algorithm.feedback(trial.dna, final.reward)
        trial.final_measurement = final
        trial.status = "completed"
        trial.completed = time.time()
        self._num_finished += 1
        reward = final.reward
        if isinstance(reward, float) and (self._best is None or reward > self._best):
            self._best = reward
            self._best_id = trial.id
        if self._progress is not None:
            self._progress.update(self._num_finished, self._best, self._best_id)

    def _end(self, trial: Trial, status: TrialStatus, error: str | None) -> None:
        trial.status = status
        trial.error = error
        trial.completed = time.time()
        self._num_finished += 1
        if self._progress is not None:
            self._progress.update(self._num_finished, self._best, self._best_id)


def sample(
    space: Any,
    algorithm: SearchAlgorithm | None = None,
    num_examples: int | None = None,
    *,
    name: str | None = None,
    progress: bool = False,
) -> SearchLoop:
    """Searches `space`: yields `(example, feedback)` for each trial.

    Args:
        space: A symbolic value with hyper-values (or a define-by-run space).
        algorithm: The search algorithm; `am.algorithms.Random()` by default.
            It is set up (and reset) on the space's DNASpec.
        num_examples: How many trials at most; None for as many as the
            algorithm proposes (forever, for random search).
        name: The study's name (shown in progress and summaries).
        progress: Write a one-line progress report to stderr.

    Returns:
        A `SearchLoop`: iterate it, then read the study from its `result`.
        Unlike a generator it does its setup at once: the space is compiled
        and the algorithm set up when `sample` is called, so a bad space or
        algorithm is reported here, not at the first iteration.

    Raises:
        FieldValueError: If `num_examples` is not an int >= 0 or None.
        FieldTypeError: If `algorithm` is not a `SearchAlgorithm`.

    >>> import automorph as am
    >>> loop = am.sample(am.Dict(x=am.oneof([1, 2, 3])), am.algorithms.Grid())
    >>> for example, feedback in loop:
    ...     feedback(-abs(example["x"] - 2))
    >>> loop.result.best_example
    {'x': 2}
    """
    return SearchLoop(space, algorithm, num_examples, name=name, progress=progress)


class Objective(Protocol):
    """An objective of one parameter: `objective(example) -> reward`."""

    def __call__(self, example: Any, /) -> float | Sequence[float] | None: ...


class FeedbackObjective(Protocol):
    """An objective that reports itself: `objective(example, feedback)`; it
    may call `feedback.add_measurement` and return None."""

    def __call__(self, example: Any, feedback: Feedback, /) -> float | Sequence[float] | None: ...


def tune(
    objective: Objective | FeedbackObjective,
    space: Any,
    algorithm: SearchAlgorithm | None = None,
    num_trials: int | None = None,
    *,
    name: str | None = None,
    progress: bool = False,
    catch: type[BaseException] | tuple[type[BaseException], ...] = (),
) -> StudyResult:
    """Searches `space` for the example that maximizes `objective`.

    If `objective` has two positional parameters it is called as
    `objective(example, feedback)`: it may report measurements (and skip,
    fail or stop the search) through `feedback`, and return a final reward
    or None. Otherwise it is called as `objective(example)` and returns the
    reward: a float, or a sequence of floats for a multi-objective search.

    Args:
        objective: What to maximize.
        space: A symbolic value with hyper-values.
        algorithm: The search algorithm; `am.algorithms.Random()` by default.
        num_trials: How many trials at most; None for as many as the
            algorithm proposes (forever, for random search).
        name: The study's name.
        progress: Write a one-line progress report to stderr.
        catch: Exception types that fail the trial and let the search go on;
            any other exception fails the trial and propagates.

    Returns:
        The study's trials and best results.

    Raises:
        FeedbackError: If a one-parameter objective returns None, or a reward
            does not suit the algorithm (the trial is marked failed first).
        BaseException: Whatever the objective raises that `catch` does not
            name (the trial is marked failed first). The study is then lost
            with the call; to keep it, drive the search with `am.sample` and
            read `SearchLoop.result`.

    >>> import automorph as am
    >>> space = am.Dict(x=am.floatv(-1.0, 1.0), y=am.oneof([0.0, 0.5]))
    >>> result = am.tune(lambda p: -p["x"] ** 2 + p["y"], space, am.algorithms.Random(seed=0), 20)
    >>> result.num_completed, round(result.best_reward, 3)
    (20, 0.482)
    """
    takes_feedback = _takes_feedback(objective)
    with SearchLoop(space, algorithm, num_trials, name=name, progress=progress) as loop:
        for example, feedback in loop:
            try:
                if takes_feedback:
                    reward = objective(example, feedback)  # type: ignore[call-arg]
                else:
                    reward = objective(example)  # type: ignore[call-arg]
            except catch as e:
                if feedback.trial.status == "pending":
                    feedback.fail(e)
                continue
            except BaseException as e:
                if feedback.trial.status == "pending":
                    feedback.fail(e)
                raise
            if reward is not None:
                try:
                    feedback(reward)
                except FeedbackError as e:
                    if feedback.trial.status == "pending":
                        feedback.fail(e)
                    raise
            elif not takes_feedback:
                feedback.fail("the objective returned None")
                raise FeedbackError(
                    f"trial {feedback.id}: the objective returned None; it must return a "
                    "reward (a float, or a sequence of floats for a multi-objective search)"
                )
    return loop.result


def _takes_feedback(objective: Any) -> bool:
    """Whether `objective` takes the feedback: it has a parameter named
    `feedback`, or at least two positional parameters without defaults."""
    try:
        parameters = inspect.signature(objective).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p for p in parameters if p.kind in positional and p.default is p.empty]
    return any(p.name == "feedback" for p in parameters) or len(required) >= 2
