"""`am.tune` with several workers (executor="process" or "ray"): the checks
made before any worker starts, the study created once (so every worker
shares its algorithm and seed), then `run_workers`, then the study's result."""

from __future__ import annotations

from typing import Any

from automorph.algorithms import SearchAlgorithm
from automorph.hyper import Template
from automorph.storage import open_storage
from automorph.tuning import _direction
from automorph.tuning._checks import check_decisions, check_not_all_failed, check_picklable
from automorph.tuning._direction import MAXIMIZE
from automorph.tuning._options import StudyOptions
from automorph.tuning._plan import check_algorithm, search_algorithm
from automorph.tuning._progress import Progress
from automorph.tuning._result import StudyResult
from automorph.tuning._stored import StoredStudy, trial_from_record
from automorph.utils import FieldValueError


def tune_with_workers(
    objective: Any,
    space: Any,
    algorithm: SearchAlgorithm | None,
    num_trials: int | None,
    options: StudyOptions,
    catch: Any,
    executor: str,
    num_workers: int,
    ray_address: str | None,
) -> StudyResult:
    """Runs `am.tune` on `num_workers` workers of `executor` against the stored
    study `options.name` (see `am.tune`), after checking what would make the
    workers fail; returns the study's result. The caller's objects are not
    changed (the workers get copies)."""
    from automorph.tuning._executors import check_shared_storage, run_workers

    name, storage = options.name, options.storage
    if not name or storage is None:
        raise FieldValueError(
            f"executor={executor!r} needs a stored study: give `name` and `storage`"
        )
    check_algorithm(algorithm)
    template = Template(space)
    check_decisions(template)
    check_shared_storage(storage)
    store = open_storage(storage)
    try:  # the study's plan: every worker gets the algorithm planned the same way
        algorithm = search_algorithm(algorithm, num_trials, options, store)
    finally:
        store.close()
    _direction.check_for(options.directions or MAXIMIZE, bool(algorithm.multi_objective))
    task_options = options.but(progress=False)
    payload = {
        "objective": objective,
        "space": space,
        "algorithm": algorithm,
        "num_trials": num_trials,
        "options": task_options,
        "catch": catch,
    }
    if executor == "process":
        check_picklable({**payload, "early_stopping": options.early_stopping})
    _prepare(template, algorithm, options)
    meter = Progress(num_trials, name) if options.progress else None
    run_workers(executor, num_workers, payload, ray_address, meter)
    store = open_storage(storage)
    try:
        trials = [trial_from_record(r) for r in store.get_trials(name)]
        directions = tuple(store.get_study(name).directions)
    finally:
        store.close()
    if meter is not None:
        finished = [t for t in trials if t.status != "pending"]
        best = _direction.best_of(finished, directions)
        meter.close(len(finished), best.reward if best else None, best.id if best else None)
    result = StudyResult(trials, template.spec, bool(algorithm.multi_objective), name, directions)
    check_not_all_failed(result)
    return result


def _prepare(template: Template, algorithm: SearchAlgorithm, options: StudyOptions) -> None:
    """Creates (or joins and checks) the study before the workers start: it is
    stored with its directions and one seeded algorithm that every worker
    adopts; a mismatch (space, algorithm, direction) is raised here."""
    from automorph.tuning._executors import check_shared_storage

    check_shared_storage(options.storage)
    store = open_storage(options.storage)
    try:
        StoredStudy(store, template, algorithm, options).close()
    finally:
        store.close()
