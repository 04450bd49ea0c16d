"""The in-memory search loop: `am.sample`, `am.tune` and `Feedback`.

One loop drives one search. It compiles the space once (`Template`), sets
the algorithm up on the space's DNASpec, and for each trial asks the
algorithm for a DNA, materializes it into an example, and hands the user the
example with a `Feedback` to report on it. Completing a trial sends its final
reward to the algorithm; skipping or failing it sends nothing.

A trial the user neither completes nor skips is finished when the loop moves
on: completed with its last measurement if it has one, skipped otherwise.

By default the study lives in this loop's memory. Given a `storage` (a
SQLite file path, a PostgreSQL URL, or a `Storage`) and a `name`, the study
lives in the store: every process that opens the same study cooperates on it
(see `automorph.tuning._shared`), and reopening it resumes it.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from automorph.algorithms import Random, SearchAlgorithm
from automorph.geno import DNASpec
from automorph.hyper import Template
from automorph.storage import Storage, open_storage
from automorph.symbolic import sym_eq
from automorph.tuning import _direction
from automorph.tuning._checks import (
    check_count,
    check_decisions,
    check_not_all_failed,
    check_options,
    check_tune_options,
)
from automorph.tuning._direction import MAXIMIZE, Directions
from automorph.tuning._distributed import tune_with_workers
from automorph.tuning._feedback import Feedback
from automorph.tuning._progress import Progress
from automorph.tuning._result import StudyResult
from automorph.tuning._shared import SharedStudy, trial_from_record
from automorph.tuning._trial import (
    Measurement,
    Trial,
    TrialStatus,
)

if TYPE_CHECKING:
    from automorph.early_stopping import EarlyStoppingPolicy

from automorph.utils import (
    FeedbackError,
    FieldTypeError,
    FieldValueError,
    SearchExhaustedError,
)

logger = logging.getLogger("automorph.tuning")


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
        directions: "maximize" or "minimize" per objective (one entry
            applies to every objective); for a stored study, the study's.
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
        storage: Storage | str | None = None,
        worker: str | None = None,
        early_stopping: EarlyStoppingPolicy | None = None,
        heartbeat_s: float = 10.0,
        timeout_s: float = 60.0,
        retry_limit: int = 2,
        minimize: bool | None = None,
        direction: str | Sequence[str] | None = None,
    ) -> None:
        check_count(num_examples, "num_examples")
        check_options(name, heartbeat_s, timeout_s, retry_limit, worker)
        wanted = _direction.resolve(minimize, direction)
        if algorithm is None:
            algorithm = Random()
        elif not isinstance(algorithm, SearchAlgorithm):
            raise FieldTypeError(
                "`algorithm` must be a search algorithm (for example "
                f"`am.algorithms.Random()`), got {type(algorithm).__name__}"
            )
        if early_stopping is not None and not _is_policy(early_stopping):
            raise FieldTypeError(
                "`early_stopping` must be a policy (for example "
                f"`am.early_stopping.SuccessiveHalving()`), got {type(early_stopping).__name__}"
            )
        self.template = Template(space)
        check_decisions(self.template)
        _direction.check_for(wanted or MAXIMIZE, bool(algorithm.multi_objective))
        _set_up(algorithm, self.template.spec)
        self._shared: SharedStudy | None = None
        if storage is not None:
            if not name:
                raise FieldValueError("a study in a `storage` needs a `name`")
            self._shared = SharedStudy(
                open_storage(storage),
                name,
                self.template,
                algorithm,
                worker=worker,
                heartbeat_s=heartbeat_s,
                timeout_s=timeout_s,
                retry_limit=retry_limit,
                owns_storage=not isinstance(storage, Storage),
                directions=wanted,
            )
            algorithm = self._shared.algorithm
            wanted = self._shared.directions
        self.directions: Directions = wanted or MAXIMIZE
        self.algorithm = algorithm
        self.early_stopping = early_stopping
        self.name = name
        self.multi_objective = bool(algorithm.multi_objective)
        self._trials: list[Trial] = []
        self._result = StudyResult(
            self._trials, self.template.spec, self.multi_objective, name, self.directions
        )
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
        if self._stopping or (
            self._shared is None
            and self._num_examples is not None
            and len(trials) >= self._num_examples
        ):
            self.close()
            raise StopIteration
        if self._shared is not None:
            claimed = self._shared.next_trial(self._num_examples)
            if claimed is None:
                self.close()
                raise StopIteration
            trial, dna = claimed[0], claimed[0].dna
        else:
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
        if self._shared is not None:
            self._shared.close()
        if self._progress is not None:
            self._progress.close(self._num_finished, self._best, self._best_id)

    @property
    def result(self) -> StudyResult:
        """The study so far: this loop's trials, or, for a stored study, every
        trial in the store (read when asked)."""
        if self._shared is None:
            return self._result
        records = self._shared.storage.get_trials(self._shared.name)
        trials = [trial_from_record(r) for r in records]
        return StudyResult(
            trials, self.template.spec, self.multi_objective, self.name, self.directions
        )

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
        if self._shared is not None:
            # The algorithm hears of it, in study order, at its next proposal.
            self._shared.finish(trial, "completed", final.reward, None)
        else:
            self.algorithm.feedback(
                trial.dna, _direction.for_algorithm(final.reward, self.directions, trial.id)
            )
        trial.final_measurement = final
        trial.status = "completed"
        trial.completed = time.time()
        self._num_finished += 1
        reward = final.reward
        if isinstance(reward, float) and _direction.better(reward, self._best, self.directions):
            self._best = reward
            self._best_id = trial.id
        if self._progress is not None:
            self._progress.update(self._num_finished, self._best, self._best_id)

    def _end(self, trial: Trial, status: TrialStatus, error: str | None) -> None:
        if self._shared is not None:
            self._shared.finish(trial, status, None, error)
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
    storage: Storage | str | None = None,
    worker: str | None = None,
    early_stopping: EarlyStoppingPolicy | None = None,
    heartbeat_s: float = 10.0,
    timeout_s: float = 60.0,
    retry_limit: int = 2,
    minimize: bool | None = None,
    direction: str | Sequence[str] | None = None,
) -> SearchLoop:
    """Searches `space`: yields `(example, feedback)` for each trial.

    Args:
        space: A symbolic value with hyper-values (or a define-by-run space).
        algorithm: The search algorithm; `am.algorithms.Random()` by default.
            It is set up (and reset) on the space's DNASpec.
        num_examples: How many trials at most; None for as many as the
            algorithm proposes (forever, for random search). For a stored
            study, the study's total, shared by all its workers.
        name: The study's name (shown in progress and summaries; the key of
            a stored study).
        progress: Write a one-line progress report to stderr.
        storage: Keep the study in a store: a SQLite file path (the embedded
            default, `"automorph.db"`), a URL (`"postgresql+psycopg://..."`),
            or a `Storage`. Every process that samples the same `name` in the
            same store cooperates: trials are claimed atomically, none runs
            twice, and each worker's algorithm follows the study's history.
            Reopening a study resumes it. Requires `name`.
        worker: This worker's id in the study (default: host, pid, random).
        early_stopping: A policy from `automorph.early_stopping`, asked by
            `feedback.should_stop_early()`.
        heartbeat_s: Seconds between heartbeats of a stored study's trial.
        timeout_s: A stored trial whose heartbeats stop for this long goes
            back to the queue for another worker,
        retry_limit: at most this many times; then it fails.
        minimize: True to minimize the reward (the same as
            `direction="minimize"`).
        direction: "maximize" (the default) or "minimize", or for a
            multi-objective search a list with one direction per objective.
            Rewards are reported, stored and shown as the objective gives
            them; the algorithm, which always maximizes, is given minimized
            objectives negated. A stored study keeps its directions: left
            out, they are the study's; given, they must match them.

    Returns:
        A `SearchLoop`: iterate it, then read the study from its `result`.
        Unlike a generator it does its setup at once: the space is compiled
        and the algorithm set up when `sample` is called, so a bad space or
        algorithm is reported here, not at the first iteration.

    A reward that is not a finite number fails its trial (the reason in
    `trial.error`, a warning logged) and the loop goes on: see
    `Feedback.add_measurement`.

    Raises:
        FieldValueError: If `num_examples` is not an int >= 0 or None, or
            another parameter breaks its rule (the message names it).
        FieldTypeError: If `algorithm` is not a `SearchAlgorithm`.
        SearchSpaceError: If `space` has no decision to search.
        StorageError: If a stored study of that name was created with
            another space, algorithm or direction.

    >>> import automorph as am
    >>> loop = am.sample(am.Dict(x=am.oneof([1, 2, 3])), am.algorithms.Grid())
    >>> for example, feedback in loop:
    ...     feedback(-abs(example["x"] - 2))
    >>> loop.result.best_example
    {'x': 2}
    """
    return SearchLoop(
        space,
        algorithm,
        num_examples,
        name=name,
        progress=progress,
        storage=storage,
        worker=worker,
        early_stopping=early_stopping,
        heartbeat_s=heartbeat_s,
        timeout_s=timeout_s,
        retry_limit=retry_limit,
        minimize=minimize,
        direction=direction,
    )


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
    storage: Storage | str | None = None,
    worker: str | None = None,
    early_stopping: EarlyStoppingPolicy | None = None,
    heartbeat_s: float = 10.0,
    timeout_s: float = 60.0,
    retry_limit: int = 2,
    executor: str = "local",
    num_workers: int = 1,
    ray_address: str | None = None,
    minimize: bool | None = None,
    direction: str | Sequence[str] | None = None,
) -> StudyResult:
    """Searches `space` for the example that maximizes (or, with
    `minimize=True`, minimizes) `objective`.

    If `objective` has two positional parameters it is called as
    `objective(example, feedback)`: it may report measurements (and skip,
    fail or stop the search) through `feedback`, and return a final reward
    or None. Otherwise it is called as `objective(example)` and returns the
    reward: a float, or a sequence of floats for a multi-objective search.

    A reward that is not a finite number (NaN, an infinity, a value that
    does not convert to float) fails its trial, with the reason in
    `trial.error`, and the search goes on, as Optuna does. Only when every
    trial fails does `tune` raise, listing the reasons.

    Args:
        objective: What to maximize (or minimize).
        space: A symbolic value with hyper-values.
        algorithm: The search algorithm; `am.algorithms.Random()` by default.
        num_trials: How many trials at most; None for as many as the
            algorithm proposes (forever, for random search).
        name: The study's name.
        progress: Write a one-line progress report to stderr.
        catch: Exception types that fail the trial and let the search go on;
            any other exception fails the trial and propagates.
        storage, worker, early_stopping, heartbeat_s, timeout_s, retry_limit:
            As for `am.sample`.
        executor: Where trials run: "local" (this process), "process" (a
            pool of `num_workers` local processes) or "ray" (`num_workers`
            Ray tasks, on a local Ray instance or the cluster at
            `ray_address` / RAY_ADDRESS). With "process" and "ray" the
            study must be in a shared store (`storage` as a SQLite path or a
            PostgreSQL URL, and a `name`), and `objective` must pickle (a
            module-level function).
            Stops are clean: SIGINT or SIGTERM to this process stops every
            worker within seconds, the trials they were running are stored
            as failed ("interrupted by SIGINT"), and then the signal acts as
            usual (a `KeyboardInterrupt` for SIGINT). If this process is
            killed outright, its worker processes exit within a second and
            their trials go back to the queue after `timeout_s`. Calling
            again resumes the study.
        num_workers: How many workers run trials (with "process" or "ray").
        ray_address: The Ray cluster to use ("ray://host:10001"); a local
            instance if None and RAY_ADDRESS is unset.
        minimize, direction: As for `am.sample`: rewards are stored and
            shown as the objective returns them, the best is the lowest for
            a minimized objective, and the algorithm is given the negated
            value.

    Returns:
        The study's trials and best results.

    Raises:
        FieldValueError: If a parameter breaks its rule (the message names
            it: an unknown `executor`, `num_trials` < 0, ...), or, with
            executor="process", `objective` cannot be sent to another
            process (a lambda, a closure): define it at module level.
        TrialsFailedError: If every trial of the search failed (a
            `FeedbackError`; the message lists the reasons).
        FeedbackError: If a one-parameter objective returns None (the trial
            is marked failed first).
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
    check_count(num_trials, "num_trials")
    check_tune_options(objective, catch, executor, num_workers, progress)
    if executor != "local":
        return tune_with_workers(
            objective,
            space,
            algorithm,
            num_trials,
            name=name,
            progress=progress,
            catch=catch,
            storage=storage,
            worker=worker,
            early_stopping=early_stopping,
            heartbeat_s=heartbeat_s,
            timeout_s=timeout_s,
            retry_limit=retry_limit,
            executor=executor,
            num_workers=num_workers,
            ray_address=ray_address,
            directions=_direction.resolve(minimize, direction),
        )
    takes_feedback = _takes_feedback(objective)
    with SearchLoop(
        space,
        algorithm,
        num_trials,
        name=name,
        progress=progress,
        storage=storage,
        worker=worker,
        early_stopping=early_stopping,
        heartbeat_s=heartbeat_s,
        timeout_s=timeout_s,
        retry_limit=retry_limit,
        minimize=minimize,
        direction=direction,
    ) as loop:
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
                feedback(reward)  # an invalid reward fails the trial; the search goes on
            elif not takes_feedback:
                feedback.fail("the objective returned None")
                raise FeedbackError(
                    f"trial {feedback.id}: the objective returned None; it must return a "
                    "reward (a float, or a sequence of floats for a multi-objective search)"
                )
    result = loop.result
    if loop._num_finished:
        check_not_all_failed(result)
    return result


def _set_up(algorithm: SearchAlgorithm, spec: DNASpec) -> None:
    """Sets `algorithm` up on `spec`, or lets it go on where an earlier loop
    on the same space left it (as PyGlove's `pg.sample` does).

    Raises:
        FieldValueError: If it was set up on another space.
    """
    if not algorithm.is_set_up:
        algorithm.setup(spec)
    elif algorithm.dna_spec is not spec and not sym_eq(algorithm.dna_spec, spec):
        raise FieldValueError(
            f"`algorithm` ({type(algorithm).__name__}) was set up on another search space; "
            "give this search a new algorithm (for example `algorithm.clone()`), or search "
            "the same space to continue where the last search left it"
        )


def _is_policy(value: Any) -> bool:
    from automorph.early_stopping import EarlyStoppingPolicy

    return isinstance(value, EarlyStoppingPolicy)


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
