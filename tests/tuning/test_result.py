"""Tests of `StudyResult`: best trial, Pareto front, records, data frame, summary."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import automorph as am
from automorph import algorithms
from automorph.tuning import Measurement, StudyResult, Trial


def make_trial(
    trial_id: int, reward: Any = None, status: str = "completed", **fields: Any
) -> Trial:
    final = None if reward is None else Measurement(reward, metrics=fields.pop("metrics", {}))
    return Trial(
        trial_id,
        fields.pop("dna", am.DNA({"x": trial_id})),
        example={"x": trial_id},
        status=status,  # type: ignore[arg-type]
        measurements=[] if final is None else [final],
        final_measurement=final if status == "completed" else None,
        **fields,
    )


def make_result(
    trials: list[Trial], multi_objective: bool = False, name: str | None = None
) -> StudyResult:
    return StudyResult(trials, am.dna_spec(am.Dict(x=am.intv(0, 100))), multi_objective, name)


def test_best_trial_is_the_highest_completed_reward_first_on_ties() -> None:
    result = make_result(
        [
            make_trial(1, 0.5),
            make_trial(2, 0.9),
            make_trial(3, 5.0, status="skipped"),
            make_trial(4, None, status="failed"),
            make_trial(5, 0.9),
            make_trial(6, None, status="pending"),
        ]
    )
    assert result.best_trial.id == 2
    assert result.best_reward == 0.9
    assert result.best_example == {"x": 2}
    assert result.num_completed == 3
    assert [t.id for t in result.completed_trials] == [1, 2, 5]
    assert [t.id for t in result.pareto_front] == [2, 5]  # single objective: the ties for best


def test_negative_rewards() -> None:
    result = make_result([make_trial(1, -3.0), make_trial(2, -1.0), make_trial(3, -2.0)])
    assert result.best_trial.id == 2


def test_no_completed_trial_has_no_best() -> None:
    result = make_result(
        [make_trial(1, None, status="skipped"), make_trial(2, None, status="failed")]
    )
    with pytest.raises(
        am.AutomorphError, match=r"no trial has completed yet \(2 trials: 1 skipped, 1 failed\)"
    ):
        result.best_trial  # noqa: B018
    with pytest.raises(am.AutomorphError, match="no trial has completed"):
        result.best_reward  # noqa: B018
    assert result.pareto_front == []
    assert "no trial has completed" in result.summary()


def test_pareto_front() -> None:
    rewards = [(1.0, 5.0), (2.0, 4.0), (1.5, 3.0), (2.0, 4.0), (3.0, 1.0), (0.5, 0.5), (3.0, 0.5)]
    result = make_result(
        [make_trial(i + 1, r) for i, r in enumerate(rewards)], multi_objective=True
    )
    # (1.5, 3) is beaten by (2, 4); (0.5, 0.5) by everything; (3, 0.5) by (3, 1). Equal points stay.
    assert [t.id for t in result.pareto_front] == [1, 2, 4, 5]
    with pytest.raises(am.AutomorphError, match="use `pareto_front`"):
        result.best_trial  # noqa: B018


def _dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(x >= y for x, y in zip(a, b, strict=True)) and a != b


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 5)), max_size=30))
def test_pareto_front_is_exactly_the_non_dominated_trials(points: list[tuple[int, ...]]) -> None:
    rewards = [tuple(float(v) for v in p) for p in points]
    result = make_result(
        [make_trial(i + 1, r) for i, r in enumerate(rewards)], multi_objective=True
    )
    front = {t.id for t in result.pareto_front}
    for i, r in enumerate(rewards):
        dominated = any(_dominates(other, r) for other in rewards)
        assert (i + 1 in front) == (not dominated)


def test_records_are_flat_and_uniform() -> None:
    space = am.Dict(
        block=am.oneof([am.Dict(kind="conv", width=am.intv(1, 4)), am.Dict(kind="pool")]),
        lr=am.floatv(0.1, 1.0),
    )
    loop = am.sample(space, algorithms.Grid(float_points=2))
    for example, feedback in loop:
        feedback.set_metadata("kind", example["block"]["kind"])
        if feedback.id == 2:
            feedback.fail("boom")
            continue
        feedback.add_measurement(example["lr"], step=3, metrics={"loss": 1 - example["lr"]})
        feedback.done()
    records = loop.result.to_records()
    assert len(records) == 10
    assert all(list(r) == list(records[0]) for r in records)
    assert list(records[0]) == [
        "id",
        "status",
        "reward",
        "step",
        "elapsed",
        "error",
        "dna.block",
        "dna.block[=0].width",
        "dna.lr",
        "metrics.loss",
        "metadata.kind",
    ]
    first, failed, pool = records[0], records[1], records[-1]
    assert first["id"] == 1 and first["status"] == "completed" and first["reward"] == 0.1
    assert first["step"] == 3 and first["elapsed"] >= 0.0
    assert first["dna.block"] == 0 and first["dna.block[=0].width"] == 1 and first["dna.lr"] == 0.1
    assert first["metrics.loss"] == pytest.approx(0.9) and first["metadata.kind"] == "conv"
    assert failed["status"] == "failed" and failed["error"] == "boom"
    assert failed["reward"] is None and failed["metrics.loss"] is None
    assert pool["dna.block"] == 1 and pool["dna.block[=0].width"] is None


def test_multi_objective_records_have_one_column_per_objective() -> None:
    result = make_result(
        [make_trial(1, (1.0, 2.0)), make_trial(2, None, status="skipped")], multi_objective=True
    )
    records = result.to_records()
    assert (records[0]["reward.0"], records[0]["reward.1"]) == (1.0, 2.0)
    assert (records[1]["reward.0"], records[1]["reward.1"]) == (None, None)
    assert "reward" not in records[0]


def test_records_of_an_empty_study() -> None:
    assert make_result([]).to_records() == []


def test_to_dataframe_without_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        make_result([make_trial(1, 1.0)]).to_dataframe()


def test_to_dataframe() -> None:
    pytest.importorskip("pandas")
    frame = make_result([make_trial(1, 1.0), make_trial(2, 2.0)]).to_dataframe()
    assert list(frame["id"]) == [1, 2]
    assert list(frame["reward"]) == [1.0, 2.0]


def test_summary_single_objective() -> None:
    result = make_result(
        [make_trial(1, 0.25), make_trial(2, 0.75), make_trial(3, None, status="failed")],
        name="mnist",
    )
    text = result.summary()
    assert text.splitlines() == [
        "Study 'mnist': 3 trials (2 completed, 1 failed)",
        "best: trial 2, reward 0.75",
        "  dna: DNA({'x': 2})",
        "  example: {'x': 2}",
    ]
    assert repr(result) == "StudyResult(name='mnist', trials=3, completed=2)"


def test_summary_multi_objective_lists_at_most_ten() -> None:
    trials = [make_trial(i, (float(i), float(-i))) for i in range(1, 13)]
    text = make_result(trials, multi_objective=True).summary()
    lines = text.splitlines()
    assert lines[0] == "Study: 12 trials (12 completed)"
    assert lines[1] == "Pareto front: 12 trials"
    assert lines[2] == "  trial 1: reward (1.0, -1.0), dna DNA({'x': 1})"
    assert lines[-1] == "  ... and 2 more"


def test_the_result_of_a_loop_is_live() -> None:
    loop = am.sample(am.Dict(x=am.intv(0, 3)), algorithms.Grid())
    result = loop.result
    for example, feedback in loop:
        assert len(result.trials) == feedback.id
        feedback(float(example["x"]))
        assert result.num_completed == feedback.id
    assert result.best_reward == 3.0
