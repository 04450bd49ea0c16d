"""`am.tune`: search for the example that maximizes (or minimizes) an objective.

In this process (`executor="local"`), `tune` runs the worker loop
(`automorph.tuning._worker.run_worker`) once; with `executor="process"` or
`"ray"` it starts that many workers of the same loop against the stored
study (`automorph.tuning._distributed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from automorph.algorithms import SearchAlgorithm
from automorph.storage import Storage
from automorph.tuning._checks import check_count, check_not_all_failed, check_tune_options
from automorph.tuning._distributed import tune_with_workers
from automorph.tuning._feedback import Feedback
from automorph.tuning._options import (
    DEFAULT_HEARTBEAT_S,
    DEFAULT_RETRY_LIMIT,
    DEFAULT_TIMEOUT_S,
    StudyOptions,
)
from automorph.tuning._result import StudyResult
from automorph.tuning._trial import Outcome
from automorph.tuning._worker import run_worker

if TYPE_CHECKING:
    from automorph.early_stopping import EarlyStoppingPolicy


class Objective(Protocol):
    """An objective of one parameter: `objective(example) -> reward`."""

    def __call__(self, example: Any, /) -> float | Sequence[float] | Outcome | None: ...


class FeedbackObjective(Protocol):
    """An objective that reports itself: `objective(example, feedback)`; it
    may call `feedback.add_measurement` and return None."""

    def __call__(
        self, example: Any, feedback: Feedback, /
    ) -> float | Sequence[float] | Outcome | None: ...


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
    heartbeat_s: float = DEFAULT_HEARTBEAT_S,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    retry_limit: int = DEFAULT_RETRY_LIMIT,
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
    Either kind may return an `automorph.tuning.Outcome` instead: the reward
    with the trial's constraint values (each `<= 0` when met) and metrics.

    A reward that is not a finite number (NaN, an infinity, a value that
    does not convert to float) fails its trial, with the reason in
    `trial.error`, and the search goes on, as Optuna does. Only when every
    trial fails does `tune` raise, listing the reasons.

    Args:
        objective: What to maximize (or minimize).
        space: A symbolic value with hyper-values.
        algorithm: The search algorithm. Left out: `am.algorithms.Auto()`,
            which chooses one from the space and `num_trials` (GP-BO for
            up to 200 trials of a numeric space, TPE for choices and
            conditional spaces, NSGA-II for several objectives, ...: see
            its docstring); for a stored study that exists, the study's own.
            As for `am.sample`, an `Auto` without a `budget` searches as a
            copy told `num_trials`; the given object is not changed.
        num_trials: How many trials at most; None for as many as the
            algorithm proposes (forever, for random search).
        name: The study's name.
        progress: Write a one-line progress report to stderr.
        catch: Exception types that fail the trial and let the search go on;
            any other exception fails the trial and propagates.
        storage: Where the study is kept, as for `am.sample`.
        worker: This worker's id in the study, as for `am.sample`.
        early_stopping: The early-stopping policy, as for `am.sample`.
        heartbeat_s: Seconds between a stored trial's heartbeats, as for
            `am.sample`.
        timeout_s: How long a stored trial may go without a heartbeat, as
            for `am.sample`.
        retry_limit: How many times a trial may go back to the queue, as for
            `am.sample`.
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
        minimize: True to minimize the reward, as for `am.sample`: rewards
            are stored and shown as the objective returns them, the best is
            the lowest for a minimized objective, and the algorithm is given
            the negated value.
        direction: "maximize", "minimize", or one of them per objective, as
            for `am.sample`.

    Returns:
        The study's trials and best results.

    Raises:
        FieldValueError: If a parameter breaks its rule (the message names
            it: an unknown `executor`, `num_trials` < 0, ...), or, with
            executor="process", `objective` cannot be sent to another
            process (a lambda, a closure): define it at module level.
        TrialsFailedError: If every trial of the search failed (a
            `FeedbackError`; the message lists the reasons).
        FeedbackError: If a one-parameter objective returns None, or
            constraints are malformed (not finite numbers, or not as many
            as the other trials'); the trial is marked failed first.
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
    options = StudyOptions.make(
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
    if executor != "local":
        return tune_with_workers(
            objective, space, algorithm, num_trials, options, catch, executor, num_workers,
            ray_address,
        )  # fmt: skip
    loop = run_worker(objective, space, algorithm, num_trials, options, catch)
    result = loop.result
    if loop.num_finished:
        check_not_all_failed(result)
    return result
