"""`am.tune` with several workers (executor="process" or "ray"): the checks
made before any worker starts, then `run_workers`, then the study's result."""

from __future__ import annotations

import secrets
from typing import Any

from automorph.algorithms import Random, SearchAlgorithm
from automorph.hyper import Template
from automorph.storage import open_storage
from automorph.tuning import _direction
from automorph.tuning._checks import (
    check_decisions,
    check_not_all_failed,
    check_options,
    check_picklable,
)
from automorph.tuning._direction import MAXIMIZE, Directions
from automorph.tuning._progress import Progress
from automorph.tuning._result import StudyResult
from automorph.tuning._shared import SharedStudy, trial_from_record
from automorph.utils import FieldTypeError, FieldValueError, StorageError, StudyNotFoundError


def tune_with_workers(
    objective: Any,
    space: Any,
    algorithm: SearchAlgorithm | None,
    num_trials: int | None,
    *,
    name: str | None,
    progress: bool,
    catch: Any,
    storage: Any,
    worker: str | None,
    early_stopping: Any,
    heartbeat_s: float,
    timeout_s: float,
    retry_limit: int,
    executor: str,
    num_workers: int,
    ray_address: str | None,
    directions: Directions | None,
) -> StudyResult:
    """Runs `am.tune` on `num_workers` workers of `executor` against the stored
    study `name` (see `am.tune`), after checking what would make the workers
    fail; returns the study's result."""
    from automorph.tuning._executors import run_workers

    if not name or storage is None:
        raise FieldValueError(
            f"executor={executor!r} needs a stored study: give `name` and `storage`"
        )
    check_options(name, heartbeat_s, timeout_s, retry_limit, worker)
    algorithm = algorithm if algorithm is not None else Random()
    if not isinstance(algorithm, SearchAlgorithm):
        raise FieldTypeError(
            "`algorithm` must be a search algorithm (for example "
            f"`am.algorithms.Random()`), got {type(algorithm).__name__}"
        )
    template = Template(space)
    check_decisions(template)
    _direction.check_for(directions or MAXIMIZE, bool(algorithm.multi_objective))
    if directions is not None:
        # Checked against a stored study here, before any worker starts.
        _check_stored_directions(storage, name, directions)
    payload = {
        "objective": objective,
        "space": space,
        "algorithm": algorithm,
        "num_trials": num_trials,
        "name": name,
        "storage": storage,
        "worker": worker,
        "catch": catch,
        "early_stopping": early_stopping,
        "heartbeat_s": heartbeat_s,
        "timeout_s": timeout_s,
        "retry_limit": retry_limit,
    }
    if executor == "process":
        check_picklable(payload)
    meter = Progress(num_trials, name) if progress else None
    if directions is not None:
        _create_with_directions(storage, name, template, algorithm, directions)
    run_workers(executor, num_workers, payload, ray_address, meter)
    store = open_storage(storage)
    try:
        trials = [trial_from_record(r) for r in store.get_trials(name)]
        stored = tuple(store.get_study(name).directions)
    finally:
        store.close()
    if meter is not None:
        finished = [t for t in trials if t.status != "pending"]
        best = _direction.best_of(finished, stored)
        meter.close(len(finished), best.reward if best else None, best.id if best else None)
    result = StudyResult(trials, template.spec, bool(algorithm.multi_objective), name, stored)
    check_not_all_failed(result)
    return result


def _check_stored_directions(storage: Any, name: str, directions: Directions) -> None:
    store = open_storage(storage)
    try:
        try:
            info = store.get_study(name)
        except StudyNotFoundError:
            return
        if tuple(info.directions) != tuple(directions):
            raise StorageError(
                f"study {name!r} was created to {' and '.join(info.directions)} its reward, "
                f"not to {' and '.join(directions)}; leave out `minimize`/`direction` to "
                "search it as it was created, or use another name"
            )
    finally:
        store.close()


def _create_with_directions(
    storage: Any, name: str, template: Template, algorithm: SearchAlgorithm, directions: Directions
) -> None:
    """Creates the study with its directions before the workers join it (they
    take the study's directions, as a reopened study's)."""
    if algorithm.seed is None:  # every worker of the study must share one seed
        algorithm.rebind(seed=secrets.randbelow(2**31))
    store = open_storage(storage)
    try:
        shared = SharedStudy(store, name, template, algorithm, directions=directions)
        shared.close()
    finally:
        store.close()
