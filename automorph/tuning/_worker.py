"""The one worker loop: an objective evaluated on a search loop's trials.

`am.tune` runs it in the caller's process; every executor's worker (a local
process, a Ray task) runs the same function against the stored study.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from automorph.algorithms import SearchAlgorithm
from automorph.tuning._loop import SearchLoop
from automorph.tuning._options import StudyOptions
from automorph.tuning._trial import Outcome
from automorph.utils import FeedbackError

Catch = type[BaseException] | tuple[type[BaseException], ...]


def run_worker(
    objective: Callable[..., Any],
    space: Any,
    algorithm: SearchAlgorithm | None,
    num_trials: int | None,
    options: StudyOptions,
    catch: Catch = (),
) -> SearchLoop:
    """Evaluates `objective` on the study's trials until the study (or this
    worker's share of it) is done; returns the closed loop, whose
    `num_finished` counts the trials this worker ended.

    Raises:
        FeedbackError: If a one-parameter objective returns None, or an
            `Outcome` with malformed constraints or metrics (the trial is
            failed first).
        BaseException: What the objective raises that `catch` does not name
            (the trial is failed first).
    """
    takes_feedback = takes_feedback_param(objective)
    with SearchLoop(space, algorithm, num_trials, options=options) as loop:
        for example, feedback in loop:
            try:
                if takes_feedback:
                    reward = objective(example, feedback)
                else:
                    reward = objective(example)
            except catch as e:
                if feedback.trial.status == "pending":
                    feedback.fail(e)
                continue
            except BaseException as e:
                if feedback.trial.status == "pending":
                    feedback.fail(e)
                raise
            if isinstance(reward, Outcome):
                try:
                    feedback(reward.reward, metrics=reward.metrics, constraints=reward.constraints)
                except FeedbackError as e:  # malformed constraints or metrics: a bug to fix
                    if feedback.trial.status == "pending":
                        feedback.fail(e)
                    raise
            elif reward is not None:
                feedback(reward)  # an invalid reward fails the trial; the search goes on
            elif not takes_feedback:
                feedback.fail("the objective returned None")
                raise FeedbackError(
                    f"trial {feedback.id}: the objective returned None; it must return a "
                    "reward (a float, or a sequence of floats for a multi-objective search)"
                )
    return loop


def takes_feedback_param(objective: Any) -> bool:
    """Whether `objective` takes the feedback: it has a parameter named
    `feedback`, or at least two positional parameters without defaults."""
    try:
        parameters = inspect.signature(objective).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p for p in parameters if p.kind in positional and p.default is p.empty]
    return any(p.name == "feedback" for p in parameters) or len(required) >= 2
