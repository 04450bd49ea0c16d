"""`feedback.skip_on_exceptions`: a trial whose body raises a named error is
skipped with the error as its reason, and the search goes on (issue 20)."""

from __future__ import annotations

import pytest

import automorph as am


def test_a_named_error_skips_the_trial_and_the_loop_goes_on() -> None:
    loop = am.sample(am.Dict(x=am.intv(0, 3)), am.algorithms.Grid())
    seen = []
    for example, feedback in loop:
        seen.append(example["x"])
        with feedback.skip_on_exceptions((ValueError, ZeroDivisionError)):
            if example["x"] == 2:
                raise ValueError("x=2 is not allowed")
            feedback(1 / example["x"])
    assert seen == [0, 1, 2, 3]
    trials = loop.result.trials
    assert [t.status for t in trials] == ["skipped", "completed", "skipped", "completed"]
    assert trials[0].error == "ZeroDivisionError: division by zero"
    assert trials[2].error == "ValueError: x=2 is not allowed"
    assert loop.algorithm.num_feedback == 2  # skipped trials send nothing


def test_other_errors_and_unmatched_messages_propagate() -> None:
    loop = am.sample(am.Dict(x=am.intv(0, 3)), am.algorithms.Grid())
    _, feedback = next(loop)
    with pytest.raises(KeyError), feedback.skip_on_exceptions((ValueError,)):
        raise KeyError("k")
    _, feedback = next(loop)
    with feedback.skip_on_exceptions([(ValueError, "bad value for .*"), TypeError]):
        raise ValueError("bad value for lr")
    assert feedback.status == "skipped"
    _, feedback = next(loop)
    with pytest.raises(ValueError, match="out of range"):
        with feedback.skip_on_exceptions([(ValueError, "^bad value")]):
            raise ValueError("out of range")


def test_a_single_type_is_accepted_and_bad_rules_are_refused() -> None:
    loop = am.sample(am.Dict(x=am.intv(0, 3)), am.algorithms.Grid())
    _, feedback = next(loop)
    with feedback.skip_on_exceptions(RuntimeError):
        raise RuntimeError
    assert (feedback.status, feedback.trial.error) == ("skipped", "RuntimeError")
    _, feedback = next(loop)
    with pytest.raises(TypeError, match="takes exception types or"):
        with feedback.skip_on_exceptions(["ValueError"]):  # type: ignore[list-item]
            pass
