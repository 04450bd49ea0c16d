"""Tests of `Trial` and `Measurement` (plain data) and of the checks on what users report."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import automorph as am
from automorph.tuning import Measurement, Trial
from automorph.tuning._trial import check_metrics, check_reward, check_step, json_value


def test_a_new_trial_is_pending_without_reward() -> None:
    trial = Trial(3, am.DNA({"x": 1}), example={"x": 1}, created=5.0)
    assert trial.status == "pending"
    assert not trial.is_finished
    assert trial.reward is None
    assert trial.measurements == [] and trial.metadata == {}
    assert trial.completed is None and trial.error is None
    assert repr(trial) == "Trial(id=3, status='pending', reward=None, dna=DNA({'x': 1}))"


def test_trials_do_not_share_mutable_defaults() -> None:
    a, b = Trial(1, am.DNA()), Trial(2, am.DNA())
    a.metadata["k"] = 1
    a.measurements.append(Measurement(1.0))
    assert b.metadata == {} and b.measurements == []


def test_reward_is_the_final_measurements() -> None:
    final = Measurement(0.75, step=2)
    trial = Trial(1, am.DNA(), measurements=[Measurement(0.5), final], final_measurement=final)
    trial.status = "completed"
    assert trial.reward == 0.75
    assert trial.is_finished


def test_trial_json_round_trip_through_json_text() -> None:
    final = Measurement((0.5, -1.0), step=4, metrics={"loss": 0.25}, elapsed=2.5)
    trial = Trial(
        7,
        am.DNA({"op": 1, "op[=1].lr": 0.01}),
        example="not persisted",
        status="completed",
        measurements=[Measurement((0.1, -2.0), step=1), final],
        final_measurement=final,
        metadata={"note": ["a", 1]},
        created=10.0,
        completed=12.5,
    )
    data = json.loads(json.dumps(trial.to_json()))
    assert "example" not in data
    back = Trial.from_json(data, example="again")
    assert back.to_json() == trial.to_json()
    assert back.example == "again"
    assert back.reward == (0.5, -1.0)
    assert back.measurements[0].reward == (0.1, -2.0)


def test_failed_trial_json_keeps_the_error() -> None:
    trial = Trial(2, am.DNA({"x": 0}), status="failed", error="ValueError: boom", completed=1.0)
    back = Trial.from_json(json.loads(json.dumps(trial.to_json())))
    assert (back.status, back.error, back.final_measurement) == ("failed", "ValueError: boom", None)


@pytest.mark.parametrize(
    "data",
    [None, [], {"id": 1}, {"id": 1, "status": "running", "dna": {}}, {"status": "pending"}],
)
def test_trial_from_json_rejects_malformed_data(data: object) -> None:
    with pytest.raises(am.SerializationError, match="not a trial's JSON"):
        Trial.from_json(data)  # type: ignore[arg-type]


def test_measurement_from_json_rejects_malformed_data() -> None:
    with pytest.raises(am.SerializationError, match="not a measurement's JSON"):
        Measurement.from_json({"step": 1})
    with pytest.raises(am.SerializationError, match="not a measurement's JSON"):
        Measurement.from_json({"reward": "high"})


def test_measurement_from_json_reads_integers_as_floats() -> None:
    m = Measurement.from_json({"reward": 1, "metrics": {"n": 3}})
    assert type(m.reward) is float and m.metrics == {"n": 3.0} and type(m.metrics["n"]) is float


def test_measurement_is_immutable() -> None:
    m = Measurement(1.0)
    with pytest.raises(AttributeError):
        m.reward = 2.0  # type: ignore[misc]


# --- checks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reward", "multi", "expected"),
    [
        (0.5, False, 0.5),
        (2, False, 2.0),
        (np.float32(0.25), False, 0.25),
        (np.float64(0.75), False, 0.75),
        (0.5, True, (0.5,)),
        ([1, 2.5], True, (1.0, 2.5)),
        (np.array([1.0, 2.0]), True, (1.0, 2.0)),
    ],
)
def test_check_reward_normalizes(reward: object, multi: bool, expected: object) -> None:
    value = check_reward(reward, multi, 1)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("reward", "multi", "match"),
    [
        ("high", False, r"trial 4: a reward must be a number, got str \('high'\)"),
        (True, False, "a reward must be a number, got bool"),
        (None, False, "a reward must be a number, got NoneType"),
        (math.nan, False, "trial 4: a reward must not be NaN"),
        (math.inf, False, "trial 4: a reward must be finite, got inf"),
        ((1.0, -math.inf), True, "trial 4: a reward must be finite"),
        ((1.0, 2.0), False, "single-objective; it cannot take the multi-objective reward"),
        ((), True, "needs at least one objective"),
        ((1.0, math.nan), True, "must not be NaN"),
        ([1.0, "x"], True, "must be a number, got str"),
    ],
)
def test_check_reward_rejects(reward: object, multi: bool, match: str) -> None:
    with pytest.raises(am.FeedbackError, match=match):
        check_reward(reward, multi, 4)


def test_check_step() -> None:
    assert check_step(np.int64(3), 1) == 3
    with pytest.raises(am.FeedbackError, match=r"`step` must be an int, got float \(1.5\)"):
        check_step(1.5, 1)
    with pytest.raises(am.FeedbackError, match="`step` must be an int, got bool"):
        check_step(True, 1)
    with pytest.raises(am.FeedbackError, match="`step` must be >= 0, got -1"):
        check_step(-1, 1)


def test_check_metrics() -> None:
    metrics = {"loss": np.float64(0.5), "n": 3, "nan": math.nan}
    checked = check_metrics(metrics, 1)
    assert checked == {"loss": 0.5, "n": 3.0, "nan": checked["nan"]} and math.isnan(checked["nan"])
    assert checked is not metrics
    with pytest.raises(am.FeedbackError, match="metric names must be str, got 1"):
        check_metrics({1: 0.5}, 1)
    with pytest.raises(am.FeedbackError, match=r"metric 'acc' must be a number, got str"):
        check_metrics({"acc": "high"}, 1)
    with pytest.raises(am.FeedbackError, match="`metrics` must be a dict of str to float"):
        check_metrics([("acc", 1.0)], 1)  # type: ignore[arg-type]


def test_json_value_copies_and_converts() -> None:
    value = {"a": (1, np.float32(0.5)), "b": [np.bool_(True), None, "s"], "c": np.int64(3)}
    out = json_value(value, "m")
    assert out == {"a": [1, 0.5], "b": [True, None, "s"], "c": 3}
    assert type(out["c"]) is int and type(out["b"][0]) is bool
    assert json.loads(json.dumps(out)) == out


def test_json_value_rejects_what_json_cannot_hold() -> None:
    with pytest.raises(am.SerializationError, match=r"got set .* at `m.a\[1\]`"):
        json_value({"a": [1, {2}]}, "m")
    with pytest.raises(am.SerializationError, match="metadata keys must be str, got 1"):
        json_value({1: "x"}, "m")
    with pytest.raises(am.SerializationError, match="got ndarray"):
        json_value(np.zeros(2), "m")
