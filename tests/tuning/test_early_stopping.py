"""`feedback.should_stop_early()` asks the loop's policy, in memory and for stored studies."""

from __future__ import annotations

from typing import Any

import pytest

import automorph as am
from automorph import algorithms, early_stopping
from automorph.storage import MemoryStorage
from automorph.tuning import Feedback

SPACE = am.Dict(quality=am.floatv(0.0, 1.0))


def train(example: Any, feedback: Feedback) -> None:
    """A learning curve that rises towards the trial's quality, stopped when told."""
    for step in range(1, 28):
        feedback.add_measurement(example["quality"] * (1 - 0.5 / step), step=step)
        if feedback.should_stop_early():
            feedback.set_metadata("stopped_at", step)
            break
    feedback.done()


@pytest.mark.parametrize("stored", [False, True])
def test_successive_halving_stops_weak_trials_early(stored: bool) -> None:
    options: dict[str, Any] = {"name": "asha", "storage": MemoryStorage()} if stored else {}
    result = am.tune(
        train,
        SPACE,
        algorithms.Random(seed=0),
        30,
        early_stopping=early_stopping.SuccessiveHalving(),
        **options,
    )
    stopped = [t for t in result.trials if "stopped_at" in t.metadata]
    finished = [t for t in result.trials if "stopped_at" not in t.metadata]
    assert len(stopped) >= 10
    best = max(result.trials, key=lambda t: t.dna["quality"])
    assert best in finished  # the best trial runs to the end
    mean = sum(t.dna["quality"] for t in stopped) / len(stopped)
    assert mean < sum(t.dna["quality"] for t in finished) / len(finished)


def test_no_policy_never_stops_and_bad_policies_are_refused() -> None:
    for _, feedback in am.sample(SPACE, algorithms.Random(seed=1), 2):
        feedback.add_measurement(0.1, step=1)
        assert not feedback.should_stop_early()
        feedback.done()
    with pytest.raises(am.FieldTypeError, match="must be a policy"):
        am.sample(SPACE, algorithms.Random(), 2, early_stopping="asha")  # type: ignore[arg-type]
