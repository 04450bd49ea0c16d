"""The algorithm a search runs with: the default one, told the search's plan.

`am.tune` and `am.sample` search with `algorithms.Auto()` when no algorithm
is given. Before `setup`, the algorithm is told the search's budget (its
`num_trials`) and whether it has several objectives through
`SearchAlgorithm.planned`, which leaves the caller's object unchanged (an
algorithm that plans returns a filled-in copy). A stored study that exists
already is searched with the plan it was created with, read from its
stored algorithm, so every worker and every resumption makes the same
choice whatever `num_trials` it is given.
"""

from __future__ import annotations

from typing import Any

from automorph.algorithms import Auto, SearchAlgorithm
from automorph.storage import Storage
from automorph.symbolic import from_json_str
from automorph.tuning._direction import MAXIMIZE
from automorph.tuning._options import StudyOptions
from automorph.utils import AutomorphError, FieldTypeError, StudyNotFoundError


def check_algorithm(algorithm: Any) -> None:
    """Raises FieldTypeError if `algorithm` is neither None nor a `SearchAlgorithm`."""
    if algorithm is not None and not isinstance(algorithm, SearchAlgorithm):
        raise FieldTypeError(
            "`algorithm` must be a search algorithm (for example "
            f"`am.algorithms.Auto()` or `am.algorithms.Random()`), got {type(algorithm).__name__}"
        )


def search_algorithm(
    algorithm: Any,
    num_trials: int | None,
    options: StudyOptions,
    store: Storage | None = None,
) -> SearchAlgorithm:
    """The algorithm to search with: `algorithm.planned(...)` with this
    search's `num_trials` and number of directions. For a stored study that
    exists already (in `store`, named `options.name`): left out (None), the
    study's own algorithm; given, and of the study's algorithm's type,
    planned with that algorithm's `budget` field (None if it has none) and
    the study's objectives. Left out otherwise: `Auto()`.

    Raises:
        FieldTypeError: If `algorithm` is neither None nor a `SearchAlgorithm`.
    """
    check_algorithm(algorithm)
    if store is not None and options.name:
        theirs, multi_objective = _stored(store, options.name)
        if theirs is not None and algorithm is None:
            return theirs
        if theirs is not None and type(theirs) is type(algorithm):
            given: SearchAlgorithm = algorithm
            return given.planned(getattr(theirs, "budget", None), multi_objective)
    chosen: SearchAlgorithm = Auto() if algorithm is None else algorithm
    directions = options.directions or MAXIMIZE
    return chosen.planned(num_trials, len(directions) > 1)


def _stored(store: Storage, name: str) -> tuple[SearchAlgorithm | None, bool]:
    """The stored study's algorithm (None if there is no study, or its
    algorithm does not read: the study itself reports that) and whether it
    has several objectives."""
    try:
        info = store.get_study(name)
    except StudyNotFoundError:
        return None, False
    if info.algorithm is None:
        return None, info.multi_objective
    try:
        theirs = from_json_str(info.algorithm)
    except AutomorphError:
        return None, info.multi_objective
    if not isinstance(theirs, SearchAlgorithm):
        return None, info.multi_objective
    return theirs, info.multi_objective
