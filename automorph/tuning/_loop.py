"""The search loop: `am.sample` and `SearchLoop`.

One loop drives one search. It compiles the space once (`Template`), and
for each trial asks its study for the next trial, materializes the trial's
DNA into an example, and hands the user the example with a `Feedback` to
report on it. Completing a trial sends its final reward to the algorithm;
skipping or failing it sends nothing.

A trial the user neither completes nor skips is finished when the loop moves
on: completed with its last measurement if it has one, skipped otherwise.

By default the study lives in this loop's memory (`MemoryStudy`). Given a
`storage` (a SQLite file path, a PostgreSQL URL, or a `Storage`) and a
`name`, the study lives in the store (`StoredStudy`): every process that
opens the same study cooperates on it, and reopening it resumes it. The loop
is the same for both; `automorph.tuning._worker.run_worker` drives it with
an objective for `am.tune` and for every executor's workers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from automorph.algorithms import Constraints, SearchAlgorithm
from automorph.geno import DNASpec
from automorph.hyper import Template
from automorph.storage import Storage, open_storage
from automorph.symbolic import sym_eq
from automorph.tuning import _direction, _fidelity
from automorph.tuning._backend import MemoryStudy, StudyBackend
from automorph.tuning._checks import check_count, check_decisions
from automorph.tuning._direction import MAXIMIZE, Directions
from automorph.tuning._feedback import Feedback
from automorph.tuning._options import (
    DEFAULT_HEARTBEAT_S,
    DEFAULT_RETRY_LIMIT,
    DEFAULT_TIMEOUT_S,
    StudyOptions,
)
from automorph.tuning._plan import check_algorithm, search_algorithm
from automorph.tuning._progress import Progress
from automorph.tuning._result import StudyResult
from automorph.tuning._stored import StoredStudy
from automorph.tuning._trial import Measurement, Trial, TrialStatus
from automorph.utils import FeedbackError, FieldValueError

if TYPE_CHECKING:
    from automorph.early_stopping import EarlyStoppingPolicy

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
        early_stopping: The policy `feedback.should_stop_early()` asks: the
            one given, else a multi-fidelity algorithm's own, else None.
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
        options: StudyOptions | None = None,
        **keywords: Any,
    ) -> None:
        check_count(num_examples, "num_examples")
        options = options if options is not None else StudyOptions.make(**keywords)
        check_algorithm(algorithm)
        self.template = template = Template(space)
        check_decisions(template)
        self._study: StudyBackend
        if options.storage is not None:
            if not options.name:
                raise FieldValueError("a study in a `storage` needs a `name`")
            storage = options.storage
            store = open_storage(storage)
            try:
                algorithm = search_algorithm(algorithm, num_examples, options, store)
                _direction.check_for(options.directions or MAXIMIZE, algorithm.multi_objective)
            except BaseException:
                if not isinstance(storage, Storage):
                    store.close()
                raise
            self._study = StoredStudy(
                store, template, algorithm, options, owns_storage=not isinstance(storage, Storage)
            )
        else:
            algorithm = search_algorithm(algorithm, num_examples, options)
            _direction.check_for(options.directions or MAXIMIZE, algorithm.multi_objective)
            _set_up(algorithm, template.spec)
            self._study = MemoryStudy(template, algorithm, options.directions or MAXIMIZE)
        self.options = options
        self.directions: Directions = self._study.directions
        self.algorithm = self._study.algorithm
        # A multi-fidelity algorithm (BOHB) reads the study's curves and brings its policy.
        self.early_stopping = _fidelity.connect(self._study, options.early_stopping)
        self.name = options.name
        self.multi_objective = bool(self.algorithm.multi_objective)
        self._num_examples = num_examples
        self._current: Feedback | None = None
        self._stopping = False
        self._closed = False
        self._num_finished = 0
        self._best: float | None = None
        self._best_id: int | None = None
        self._best_key: tuple[float, float] | None = None
        self._num_constraints: int | None = None  # per trial, once known
        self._warned_constraints = False
        self._progress = Progress(num_examples, self.name) if options.progress else None

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
        if self._stopping:
            self.close()
            raise StopIteration
        trial = self._study.next_trial(self._num_examples)
        if trial is None:
            self.close()
            raise StopIteration
        try:
            trial.example = self.template.materialize(trial.dna, validate=False)
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
        self._study.close()
        if self._progress is not None:
            self._progress.close(self._num_finished, self._best, self._best_id)

    @property
    def result(self) -> StudyResult:
        """The study so far: this loop's trials, or, for a stored study, every
        trial in the store (read when asked)."""
        return StudyResult(
            self._study.trials(),
            self.template.spec,
            self.multi_objective,
            self.name,
            self.directions,
        )

    @property
    def num_finished(self) -> int:
        """How many trials this loop has ended (completed, skipped or failed)."""
        return self._num_finished

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
        self._study.finish(trial, "completed", final.reward, None)
        trial.final_measurement = final
        trial.status = "completed"
        trial.completed = time.time()
        self._num_finished += 1
        reward = final.reward
        if isinstance(reward, float):
            key = _direction.rank_key(reward, trial.violation, self.directions)
            if self._best_key is None or key < self._best_key:
                self._best, self._best_id, self._best_key = reward, trial.id, key
        if self._progress is not None:
            self._progress.update(self._num_finished, self._best, self._best_id)

    def _check_constraint_count(self, trial: Trial, values: Constraints) -> None:
        """Raises FeedbackError, naming `trial`, if it reports another number
        of constraint values than the study's other trials; warns once if
        a feedback-driven algorithm ignores them."""
        expected = self._num_constraints
        if expected is None:
            expected = self.algorithm.num_constraints
        if expected is None:
            expected = next(
                (len(c) for t in self._study.trials() if (c := t.constraints) is not None), None
            )
        if expected is not None and len(values) != expected:
            raise FeedbackError(
                f"trial {trial.id}: {len(values)} constraint values ({list(values)!r}), but "
                f"the study's trials report {expected}; every trial reports the same constraints"
            )
        self._num_constraints = len(values)
        algorithm = self.algorithm
        if algorithm.needs_feedback and not algorithm.uses_constraints:
            self._warn_ignored_constraints()

    def _warn_ignored_constraints(self) -> None:
        if not self._warned_constraints:
            self._warned_constraints = True
            logger.warning(
                "%s does not steer by constraints: trials that break them are marked "
                "infeasible and results prefer feasible ones, but the search does not avoid "
                "them (TPE, evolution and NSGA-II do)",
                type(self.algorithm).__name__,
            )

    def _end(self, trial: Trial, status: TrialStatus, error: str | None) -> None:
        self._study.finish(trial, status, None, error)
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
    heartbeat_s: float = DEFAULT_HEARTBEAT_S,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    retry_limit: int = DEFAULT_RETRY_LIMIT,
    minimize: bool | None = None,
    direction: str | Sequence[str] | None = None,
) -> SearchLoop:
    """Searches `space`: yields `(example, feedback)` for each trial.

    Args:
        space: A symbolic value with hyper-values (or a define-by-run space).
        algorithm: The search algorithm. Left out: `am.algorithms.Auto()`,
            which chooses one from the space and `num_examples` (see its
            docstring; for a stored study that exists, the study's own
            algorithm). It is set up on the space's DNASpec (an algorithm
            already set up on this space goes on where it left off). Before
            that it is told the budget and the number of objectives
            (`SearchAlgorithm.planned`): an `Auto` whose `budget` is None
            is searched as a copy with `budget=num_examples` (read the
            copy, and what it chose, from the loop's `algorithm`).
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
            `feedback.should_stop_early()`. Left out, a multi-fidelity
            algorithm (`algorithms.BOHB`) runs with its own (Hyperband), and
            other algorithms with none.
        heartbeat_s: Seconds between heartbeats of a stored study's trial.
        timeout_s: A stored trial whose heartbeats stop for this long goes
            back to the queue for another worker.
        retry_limit: How many times a trial goes back to the queue at most;
            then it fails.
        minimize: True to minimize the reward (the same as
            `direction="minimize"`).
        direction: "maximize" (the default) or "minimize", or for a
            multi-objective search a list with one direction per objective
            (then `Auto` searches with NSGA-II).
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
    return SearchLoop(space, algorithm, num_examples, options=options)


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
