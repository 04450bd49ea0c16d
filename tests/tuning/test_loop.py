"""Tests of the search loop: `am.sample`, `Feedback`, `am.tune`."""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

import numpy as np
import pytest

import automorph as am
from automorph import algorithms
from automorph.geno import DNA
from automorph.tuning import Feedback, SearchLoop, StudyResult
from automorph.tuning._worker import takes_feedback_param as _takes_feedback
from automorph.utils import TrialStateError


class Recorder(algorithms.Random, type_name="tests.tuning.Recorder"):
    """Random search that remembers every reward it is given."""

    def _setup(self) -> None:
        super()._setup()
        self._received: list[tuple[DNA, Any]] = []

    def _feedback(self, dna: DNA, reward: Any) -> None:
        self._received.append((dna, reward))


class TwoObjectives(Recorder, type_name="tests.tuning.TwoObjectives"):
    """A multi-objective random search."""

    multi_objective = True


class Layer(am.Object):
    units: int
    activation: str = "relu"


SPACE = am.Dict(x=am.intv(0, 9), op=am.oneof(["a", "b", "c"]))


def received(algorithm: Recorder) -> list[tuple[DNA, Any]]:
    return algorithm._received


# --- the loop --------------------------------------------------------------------------


def test_random_loop_runs_num_examples_trials() -> None:
    algorithm = Recorder(seed=3)
    loop = am.sample(SPACE, algorithm, 8)
    seen = []
    for example, feedback in loop:
        assert feedback.trial.example is example
        assert example == am.materialize(SPACE, feedback.dna)
        seen.append(feedback.id)
        feedback(float(example["x"]))
    trials = loop.result.trials
    assert seen == [1, 2, 3, 4, 5, 6, 7, 8] == [t.id for t in trials]
    assert all(t.status == "completed" for t in trials)
    assert received(algorithm) == [(t.dna, t.reward) for t in trials]
    assert algorithm.num_proposed == algorithm.num_feedback == 8


def test_examples_are_materialized_programs() -> None:
    space = am.List([Layer(am.intv(8, 64), am.oneof(["relu", "gelu"])) for _ in range(2)])
    for example, feedback in am.sample(space, algorithms.Random(seed=0), 3):
        assert isinstance(example[0], Layer)
        assert example[1].activation in ("relu", "gelu")
        assert DNA(feedback.dna) == feedback.dna
        feedback(1.0)


def test_grid_loop_ends_when_the_grid_is_exhausted() -> None:
    space = am.Dict(a=am.oneof([1, 2, 3]), b=am.oneof(["x", "y"]))
    loop = am.sample(space, algorithms.Grid())
    examples = []
    for example, feedback in loop:
        examples.append((example["a"], example["b"]))
        feedback(1.0)
    assert examples == [(a, b) for a in (1, 2, 3) for b in "xy"]
    assert len(loop.result.trials) == 6
    assert next(loop, None) is None


def test_num_examples_larger_than_the_grid_stops_at_the_grid() -> None:
    loop = am.sample(am.Dict(a=am.oneof([1, 2])), algorithms.Grid(), 10)
    assert len([fb(1.0) for _, fb in loop]) == 2


def test_dedup_random_search_ends_by_exhaustion() -> None:
    loop = am.sample(am.Dict(a=am.oneof([1, 2, 3])), algorithms.Random(seed=0, dedup=True))
    assert sorted(example["a"] for example, _ in loop) == [1, 2, 3]


def test_zero_examples() -> None:
    loop = am.sample(SPACE, num_examples=0)
    assert list(loop) == []
    assert loop.result.trials == []


def test_default_algorithm_is_auto_told_the_budget() -> None:
    loop = am.sample(SPACE, num_examples=2)
    assert type(loop.algorithm) is algorithms.Auto
    assert loop.algorithm.budget == 2  # num_examples
    assert type(loop.algorithm.chosen) is algorithms.Random  # 2 trials: no model would fit
    assert loop.algorithm.seed is not None  # picked by setup, so the study can be replayed
    assert len(list(loop)) == 2


def test_a_given_auto_is_searched_as_a_planned_copy() -> None:
    auto = algorithms.Auto(seed=0)
    loop = am.sample(SPACE, auto, 20)
    assert loop.algorithm is not auto and loop.algorithm.budget == 20
    assert auto.budget is None and not auto.is_set_up  # the caller's object is unchanged
    assert type(loop.algorithm.chosen) is algorithms.GPBO  # 20 trials, half the decisions ints
    planned = algorithms.Auto(seed=0, budget=20)
    assert am.sample(SPACE, planned, 5).algorithm is planned  # its own budget: used as it is
    assert planned.budget == 20


def test_the_algorithm_is_set_up_on_the_space() -> None:
    algorithm = algorithms.Random(seed=1)
    loop = am.sample(SPACE, algorithm, 1)
    assert algorithm.dna_spec is loop.template.spec is loop.result.dna_spec


@pytest.mark.parametrize("num_examples", [-1, 2.0, "3", True])
def test_bad_num_examples(num_examples: Any) -> None:
    with pytest.raises(am.FieldValueError, match="`num_examples` must be an int >= 0 or None"):
        am.sample(SPACE, num_examples=num_examples)


def test_bad_algorithm() -> None:
    with pytest.raises(am.FieldTypeError, match="`algorithm` must be a search algorithm"):
        am.sample(SPACE, "random")  # type: ignore[arg-type]


def test_the_loop_is_its_own_iterator() -> None:
    loop = am.sample(SPACE, num_examples=1)
    assert iter(loop) is loop
    assert isinstance(loop, SearchLoop)


# --- feedback paths -------------------------------------------------------------------------


def test_done_sends_the_last_measurement_to_the_algorithm() -> None:
    algorithm = Recorder(seed=1)
    loop = am.sample(SPACE, algorithm, 1)
    _, feedback = next(loop)
    feedback.add_measurement(0.1, step=1, metrics={"loss": 2.0})
    feedback.add_measurement(0.3, step=2, metrics={"loss": 1.0})
    assert received(algorithm) == []
    feedback.done()
    trial = feedback.trial
    assert trial.status == "completed" and trial.completed is not None
    assert trial.completed >= trial.created
    assert trial.final_measurement is trial.measurements[-1]
    assert (trial.reward, trial.final_measurement.step) == (0.3, 2)
    assert trial.final_measurement.metrics == {"loss": 1.0}
    assert 0.0 <= trial.measurements[0].elapsed <= trial.measurements[1].elapsed
    assert received(algorithm) == [(trial.dna, 0.3)]
    assert list(loop) == []


def test_calling_the_feedback_records_and_completes() -> None:
    loop = am.sample(SPACE, num_examples=2)
    _, feedback = next(loop)
    feedback(0.5, metrics={"acc": 0.9})
    assert feedback.trial.measurements[0].step == 0
    assert feedback.trial.final_measurement.metrics == {"acc": 0.9}  # type: ignore[union-attr]
    _, feedback = next(loop)
    feedback.add_measurement(0.1, step=5)
    feedback(0.2)
    assert [m.step for m in feedback.trial.measurements] == [5, 5]
    assert feedback.trial.reward == 0.2


def test_skip_sends_nothing_and_records_the_reason() -> None:
    algorithm = Recorder(seed=1)
    loop = am.sample(SPACE, algorithm, 2)
    _, feedback = next(loop)
    feedback.add_measurement(0.4)
    feedback.skip("diverged")
    _, second = next(loop)
    second.skip()
    first, last = loop.result.trials
    assert (first.status, first.error, first.reward) == ("skipped", "diverged", None)
    assert (last.status, last.error) == ("skipped", None)
    assert first.completed is not None
    assert received(algorithm) == []


def test_fail_records_the_error() -> None:
    algorithm = Recorder(seed=1)
    loop = am.sample(SPACE, algorithm, 2)
    _, feedback = next(loop)
    feedback.fail(ValueError("out of memory"))
    _, second = next(loop)
    second.fail("the job was preempted")
    first, last = loop.result.trials
    assert (first.status, first.error) == ("failed", "ValueError: out of memory")
    assert (last.status, last.error) == ("failed", "the job was preempted")
    assert received(algorithm) == []


def test_moving_on_completes_with_the_last_measurement() -> None:
    algorithm = Recorder(seed=1)
    loop = am.sample(SPACE, algorithm, 2)
    for _, feedback in loop:
        feedback.add_measurement(0.2, step=1)
        feedback.add_measurement(0.6, step=2)
    assert [(t.status, t.reward) for t in loop.result.trials] == [("completed", 0.6)] * 2
    assert [r for _, r in received(algorithm)] == [0.6, 0.6]


def test_moving_on_without_measurement_skips() -> None:
    algorithm = Recorder(seed=1)
    loop = am.sample(SPACE, algorithm, 3)
    for _ in loop:
        pass
    assert [t.status for t in loop.result.trials] == ["skipped"] * 3
    assert received(algorithm) == []


def test_end_loop_stops_after_the_current_trial() -> None:
    loop = am.sample(SPACE, num_examples=100)
    for _, feedback in loop:
        feedback.add_measurement(1.0)
        if feedback.id == 3:
            feedback.end_loop()
    assert [t.status for t in loop.result.trials] == ["completed"] * 3


def test_end_loop_after_done() -> None:
    loop = am.sample(SPACE)  # no limit: only end_loop stops it
    for _, feedback in loop:
        feedback(1.0)
        feedback.end_loop()
    assert len(loop.result.trials) == 1


@pytest.mark.parametrize(
    ("finish", "status"),
    [
        (lambda fb: fb.done(), "completed"),
        (lambda fb: fb.skip(), "skipped"),
        (lambda fb: fb.fail("x"), "failed"),
    ],
)
@pytest.mark.parametrize(
    ("again", "what"),
    [
        (lambda fb: fb.done(), r"`done\(\)`"),
        (lambda fb: fb.add_measurement(0.5), "a measurement"),
        (lambda fb: fb(0.5), "a measurement"),
        (lambda fb: fb.skip("late"), r"`skip\(\)`"),
        (lambda fb: fb.fail("late"), r"`fail\(\)`"),
    ],
)
def test_an_ended_trial_takes_no_more_feedback(
    finish: Any, status: str, again: Any, what: str
) -> None:
    algorithm = Recorder(seed=1)
    loop = am.sample(SPACE, algorithm, 1)
    _, feedback = next(loop)
    feedback.add_measurement(0.25)
    finish(feedback)
    with pytest.raises(
        TrialStateError, match=f"trial 1 is already {status}; it cannot take {what}"
    ):
        again(feedback)
    assert feedback.trial.status == status
    assert len(feedback.trial.measurements) == 1
    assert len(received(algorithm)) == (1 if status == "completed" else 0)


def test_state_errors_are_feedback_errors() -> None:
    assert issubclass(TrialStateError, am.FeedbackError)
    assert issubclass(TrialStateError, am.AutomorphError)


def test_done_without_measurement() -> None:
    _, feedback = next(am.sample(SPACE, num_examples=1))
    with pytest.raises(am.FeedbackError, match="trial 1 has no measurement to complete with"):
        feedback.done()
    assert feedback.trial.status == "pending"


def test_a_trial_auto_completed_by_moving_on_takes_no_done() -> None:
    loop = am.sample(SPACE, num_examples=2)
    _, first = next(loop)
    first.add_measurement(1.0)
    next(loop)
    with pytest.raises(TrialStateError, match="trial 1 is already completed"):
        first.done()


@pytest.mark.parametrize(
    ("reward", "match"),
    [
        ("good", "a reward must be a number, got str"),
        (float("nan"), "must not be NaN"),
        (float("inf"), "must be finite, got inf"),
        (float("-inf"), "must be finite, got -inf"),
        ((0.1, 0.2), "single-objective"),
        (None, "got NoneType"),
    ],
)
def test_bad_rewards_fail_the_trial_where_they_are_given(
    reward: Any, match: str, caplog: pytest.LogCaptureFixture
) -> None:
    loop = am.sample(SPACE, num_examples=2)
    _, feedback = next(loop)
    with caplog.at_level(logging.WARNING, logger="automorph.tuning"):
        feedback.add_measurement(reward)  # no exception: the trial fails, the loop goes on
    trial = feedback.trial
    assert trial.measurements == [] and trial.status == "failed"
    assert trial.error is not None and trial.error.startswith("invalid reward: ")
    assert re.search(match, trial.error)
    assert re.search(match, caplog.text)
    with pytest.raises(TrialStateError, match="trial 1 is already failed"):
        feedback.add_measurement(1.0)
    with pytest.raises(TrialStateError, match="trial 1 is already failed"):
        feedback(1.0)
    _, second = next(loop)
    second(1.0)
    assert [t.status for t in loop.result.trials] == ["failed", "completed"]


def test_bad_step_and_metrics() -> None:
    _, feedback = next(am.sample(SPACE, num_examples=1))
    with pytest.raises(am.FeedbackError, match="`step` must be >= 0"):
        feedback.add_measurement(1.0, step=-2)
    with pytest.raises(am.FeedbackError, match="metric 'acc' must be a number"):
        feedback.add_measurement(1.0, metrics={"acc": [1]})
    feedback.add_measurement(1.0, step=np.int32(4))  # type: ignore[arg-type]
    assert feedback.trial.measurements[0].step == 4


def test_metadata() -> None:
    loop = am.sample(SPACE, num_examples=1)
    _, feedback = next(loop)
    feedback.set_metadata("params", np.int64(1200))
    feedback.set_metadata("tags", ("small", "fast"))
    feedback.metadata["direct"] = {"ok": True}
    assert feedback.metadata is feedback.trial.metadata
    assert feedback.trial.metadata == {
        "params": 1200,
        "tags": ["small", "fast"],
        "direct": {"ok": True},
    }
    with pytest.raises(am.SerializationError, match=r"metadata values must be JSON .* at `model`"):
        feedback.set_metadata("model", object())
    with pytest.raises(am.FieldTypeError, match="metadata keys must be str, got 3"):
        feedback.set_metadata(3, "x")  # type: ignore[arg-type]
    assert "model" not in feedback.metadata


def test_feedback_accessors() -> None:
    loop = am.sample(SPACE, algorithms.Random(seed=2), 1)
    _, feedback = next(loop)
    assert isinstance(feedback, Feedback)
    assert feedback.id == feedback.trial.id == 1
    assert feedback.dna is feedback.trial.dna
    assert feedback.status == "pending"
    assert feedback.should_stop_early() is False
    assert repr(feedback) == "Feedback(trial=1, status='pending')"


def test_break_leaves_the_trial_pending_until_close() -> None:
    algorithm = Recorder(seed=1)
    loop = am.sample(SPACE, algorithm, 10)
    for _, feedback in loop:
        feedback.add_measurement(0.7)
        break
    assert loop.result.trials[0].status == "pending"
    loop.close()
    assert loop.result.trials[0].status == "completed"
    assert received(algorithm) == [(loop.result.trials[0].dna, 0.7)]
    loop.close()  # idempotent
    assert next(loop, None) is None
    assert len(loop.result.trials) == 1


def test_a_trial_left_pending_by_break_can_still_be_completed() -> None:
    loop = am.sample(SPACE, num_examples=10)
    _, feedback = next(loop)
    feedback(0.5)
    loop.close()
    assert loop.result.trials[0].reward == 0.5


def test_context_manager_closes() -> None:
    with am.sample(SPACE, num_examples=10) as loop:
        for _, _feedback in loop:
            break
    assert loop.result.trials[0].status == "skipped"


# --- multi-objective -----------------------------------------------------------------------


def test_multi_objective_loop() -> None:
    algorithm = TwoObjectives(seed=0)
    loop = am.sample(SPACE, algorithm, 12)
    for example, feedback in loop:
        feedback.add_measurement([example["x"], -example["x"]], step=0)
        feedback.done()
    trials = loop.result.trials
    assert all(t.reward == (float(t.example["x"]), -float(t.example["x"])) for t in trials)
    assert received(algorithm) == [(t.dna, t.reward) for t in trials]
    assert loop.result.multi_objective
    # Every trial trades one objective against the other: none dominates another.
    assert loop.result.pareto_front == trials
    with pytest.raises(am.AutomorphError, match="multi-objective study has no single best"):
        loop.result.best_trial  # noqa: B018


def test_multi_objective_takes_a_single_number_as_one_objective() -> None:
    _, feedback = next(am.sample(SPACE, TwoObjectives(seed=0), 1))
    feedback(3)
    assert feedback.trial.reward == (3.0,)


def test_nsga2_if_present() -> None:
    if "nsga2" not in algorithms.names():
        pytest.skip("no NSGA-II registered yet")
    algorithm = algorithms.create("nsga2", seed=1)
    assert algorithm.multi_objective
    result = am.tune(lambda ex: (float(ex["x"]), float(-ex["x"])), SPACE, algorithm, 20)
    assert result.num_completed == 20 and result.pareto_front


# --- tune -----------------------------------------------------------------------------------


def test_tune_with_a_one_parameter_objective() -> None:
    space = am.Dict(x=am.oneof([3, 1, 4, 1, 5]))
    result = am.tune(lambda ex: float(ex["x"]), space, algorithms.Grid(), name="grid")
    assert isinstance(result, StudyResult)
    assert result.name == "grid"
    assert result.num_completed == 5
    assert result.best_example == {"x": 5} and result.best_reward == 5.0
    assert result.best_trial.id == 5


def test_tune_with_a_two_parameter_objective() -> None:
    def objective(example: Any, feedback: Feedback) -> None:
        for epoch in range(3):
            feedback.add_measurement(example["x"] * (epoch + 1), step=epoch)

    result = am.tune(objective, SPACE, algorithms.Random(seed=1), 4)
    for trial in result.trials:
        assert [m.step for m in trial.measurements] == [0, 1, 2]
        assert trial.reward == 3.0 * trial.example["x"]
        assert trial.status == "completed"


def test_two_parameter_objective_may_return_the_final_reward() -> None:
    def objective(example: Any, feedback: Feedback) -> float:
        feedback.add_measurement(0.0, step=7)
        feedback.set_metadata("seen", True)
        return 1.5

    result = am.tune(objective, SPACE, num_trials=2)
    trial = result.trials[0]
    assert [(m.reward, m.step) for m in trial.measurements] == [(0.0, 7), (1.5, 7)]
    assert trial.reward == 1.5 and trial.metadata == {"seen": True}


def test_two_parameter_objective_skips_fails_and_ends() -> None:
    def objective(example: Any, feedback: Feedback) -> float | None:
        if feedback.id == 1:
            feedback.skip("no")
            return None
        if feedback.id == 2:
            feedback.fail("bad")
            return None
        if feedback.id == 3:
            return None  # nothing reported: skipped
        feedback.end_loop()
        return 2.0

    result = am.tune(objective, SPACE, num_trials=10)
    assert [t.status for t in result.trials] == ["skipped", "failed", "skipped", "completed"]


def test_two_parameter_objective_that_completes_and_returns() -> None:
    def objective(example: Any, feedback: Feedback) -> float:
        feedback(1.0)
        return 2.0

    with pytest.raises(TrialStateError, match="trial 1 is already completed"):
        am.tune(objective, SPACE, num_trials=2)


def test_one_parameter_objective_returning_none() -> None:
    with pytest.raises(am.FeedbackError, match="trial 1: the objective returned None"):
        am.tune(lambda ex: None, SPACE, num_trials=3)


def test_tune_multi_objective() -> None:
    result = am.tune(
        lambda ex: (float(ex["x"]), 0.0 if ex["op"] == "a" else 1.0),
        SPACE,
        TwoObjectives(seed=5),
        30,
    )
    front = result.pareto_front
    assert front
    best_x = max(t.example["x"] for t in result.trials)
    assert any(t.example["x"] == best_x for t in front)
    assert all(t.reward[1] == 1.0 or t.example["x"] == best_x for t in front)  # type: ignore[index]


def test_tune_refuses_a_reward_the_algorithm_cannot_take() -> None:
    with pytest.raises(am.FeedbackError, match="single-objective"):
        am.tune(lambda ex: (1.0, 2.0), SPACE, num_trials=1)


def test_caught_exceptions_fail_the_trial_and_the_search_goes_on() -> None:
    def objective(example: Any) -> float:
        if example["x"] % 2:
            raise ArithmeticError(f"odd {example['x']}")
        return float(example["x"])

    space = am.Dict(x=am.intv(0, 5))
    result = am.tune(objective, space, algorithms.Grid(), catch=ArithmeticError)
    assert [t.status for t in result.trials] == ["completed", "failed"] * 3
    assert result.trials[1].error == "ArithmeticError: odd 1"
    assert result.best_reward == 4.0

    with pytest.raises(ArithmeticError, match="odd 1"):  # a subclass in `catch` is not enough
        am.tune(objective, space, algorithms.Grid(), catch=(KeyError, ZeroDivisionError))


def test_exceptions_not_caught_fail_the_trial_and_propagate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def objective(example: Any) -> float:
        if example["x"] == 2:
            raise RuntimeError("broken")
        return 1.0

    space = am.Dict(x=am.intv(0, 5))
    with pytest.raises(RuntimeError, match="broken"):
        am.tune(objective, space, algorithms.Grid(), catch=(ValueError,), progress=True)
    # The failed trial counts as finished in the last progress line.
    assert capsys.readouterr().err.splitlines()[-1].startswith("search: 3 trials")


def test_exceptions_of_a_two_parameter_objective_after_done_keep_the_trial() -> None:
    def objective(example: Any, feedback: Feedback) -> None:
        feedback(1.0)
        raise ValueError("cleanup failed")

    result = am.tune(objective, SPACE, num_trials=2, catch=ValueError)
    assert [t.status for t in result.trials] == ["completed", "completed"]


def test_takes_feedback() -> None:
    class Callable:
        def __call__(self, example: Any, feedback: Any) -> float:
            return 1.0

    def three(a: Any, b: Any, c: Any = 1) -> float:
        return 1.0

    assert _takes_feedback(lambda ex, fb: 1.0)
    assert _takes_feedback(Callable())
    assert _takes_feedback(functools.partial(three, c=2))
    assert not _takes_feedback(lambda ex: 1.0)
    assert not _takes_feedback(functools.partial(three, 0))  # (b, c=1): one required

    def scaled(example: Any, scale: float = 1.0) -> float:
        return scale

    def named(example: Any, feedback: Any = None) -> float:
        return 1.0

    assert not _takes_feedback(scaled)  # a default is not the feedback
    assert _takes_feedback(named)  # a parameter named `feedback` is
    assert not _takes_feedback(functools.partial(three, 0, 1))
    assert not _takes_feedback(lambda ex, *, fb=None: 1.0)
    assert not _takes_feedback(abs)
    assert not _takes_feedback(max)  # no signature: called with the example only


# --- define-by-run spaces and materialization ------------------------------------------------


def test_define_by_run_space() -> None:
    def build() -> str:
        width = am.intv(8, 32, name="width")
        act = am.oneof(["relu", "gelu"], name="act")
        return f"mlp({width}, {act})"

    result = am.tune(lambda ex: float(len(ex)), am.define_by_run(build), num_trials=3)
    assert all(t.example.startswith("mlp(") for t in result.trials)
    assert result.num_completed == 3


def test_a_failing_materialization_fails_the_trial_and_propagates() -> None:
    calls = []

    def build() -> int:
        x = am.intv(0, 3)
        calls.append(x)
        if len(calls) > 1 and x == 2:
            raise ValueError("no program for x=2")
        return int(x)

    loop = am.sample(am.define_by_run(build), algorithms.Grid())
    with pytest.raises(ValueError, match="no program for x=2"):
        for _, feedback in loop:
            feedback(1.0)
    assert [t.status for t in loop.result.trials] == ["completed", "completed", "failed"]
    assert loop.result.trials[-1].error == "ValueError: no program for x=2"


def test_fail_with_an_exception_without_message() -> None:
    _, feedback = next(am.sample(SPACE, num_examples=1))
    feedback.fail(KeyboardInterrupt())
    assert feedback.trial.error == "KeyboardInterrupt"


def test_a_second_loop_continues_the_algorithm_as_pg_sample_does() -> None:
    space = am.Dict(x=am.floatv(0.0, 1.0), y=am.oneof([1, 2, 3]))
    algo = am.algorithms.regularized_evolution(population_size=4, tournament_size=2, seed=3)
    first = am.tune(lambda p: p["x"], space, algo, 6)
    second = am.tune(lambda p: p["x"], space, algo, 6)
    assert algo.num_proposed == 12 and algo.num_feedback == 12
    # One loop of 12 with a fresh algorithm proposes the same DNA, in the same order.
    whole = am.tune(lambda p: p["x"], space, algo.clone(), 12)
    assert [t.dna for t in first.trials + second.trials] == [t.dna for t in whole.trials]
    with pytest.raises(am.FieldValueError, match=r"`algorithm` \(.*\) was set up on another"):
        am.sample(am.Dict(z=am.intv(0, 3)), algo, 2)
