"""The search loop: `sample()`, `tune()`, trials and study results.

`am.sample(space, algorithm, num_examples)` iterates `(example, feedback)`
pairs; the body evaluates the example and reports through `feedback`.
`am.tune(objective, space, algorithm, num_trials)` is the function-style
wrapper. Both keep the study in memory as a `StudyResult` of `Trial`s, plain
data that a storage layer can persist.

>>> import automorph as am
>>> space = am.Dict(width=am.oneof([16, 32, 64]), depth=am.intv(1, 3))
>>> loop = am.sample(space, am.algorithms.Grid(), name="demo")
>>> for model, feedback in loop:
...     feedback.add_measurement(model["width"] / 64 - model["depth"] / 10)
...     feedback.done()
>>> loop.result.best_example, loop.result.num_completed
({'width': 64, 'depth': 1}, 9)

For the layers above (internal, not in `__all__`): `run_tasks` and `Actors`
run work on the same executors as a study's workers ("local", "process",
"ray"), with the same stops and the same handling of dead workers;
`trial_violation` reads the total constraint violation of a trial or a
stored record, for the command line and the plots.
"""

from __future__ import annotations

from automorph.tuning._actors import Actors as Actors
from automorph.tuning._checks import TrialsFailedError
from automorph.tuning._direction import trial_violation as trial_violation
from automorph.tuning._feedback import STOPPED_EARLY_KEY, Feedback
from automorph.tuning._importance import Importances, importance
from automorph.tuning._loop import SearchLoop, sample
from automorph.tuning._options import StudyOptions
from automorph.tuning._pool import TaskResult as TaskResult
from automorph.tuning._pool import WorkerDiedError as WorkerDiedError
from automorph.tuning._pool import WorkerStop as WorkerStop
from automorph.tuning._pool import run_tasks as run_tasks
from automorph.tuning._progress import Progress
from automorph.tuning._result import StudyResult
from automorph.tuning._study import Study, load_study
from automorph.tuning._trial import Measurement, Outcome, Trial, TrialStatus
from automorph.tuning._tune import FeedbackObjective, Objective, tune

__all__ = [
    "STOPPED_EARLY_KEY",
    "Feedback",
    "FeedbackObjective",
    "Importances",
    "Measurement",
    "Objective",
    "Outcome",
    "Progress",
    "SearchLoop",
    "Study",
    "StudyOptions",
    "StudyResult",
    "Trial",
    "TrialStatus",
    "TrialsFailedError",
    "importance",
    "load_study",
    "sample",
    "tune",
]
