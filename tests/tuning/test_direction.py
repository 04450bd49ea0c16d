"""Minimizing, invalid rewards, spaces without decisions, and the checks of
`am.tune`'s and `am.sample`'s parameters."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import pytest

import automorph as am
from automorph import algorithms
from automorph.geno import DNA
from automorph.storage import MemoryStorage
from automorph.tuning import StudyResult, Trial
from automorph.tuning._trial import Measurement

SPACE = am.Dict(x=am.intv(0, 5))
FLOAT_SPACE = am.Dict(x=am.floatv(-2.0, 2.0), k=am.oneof([1, 2, 3]))


def square(example: Any) -> float:
    return float((example["x"] - 0.5) ** 2 * example["k"])


# --- minimizing -------------------------------------------------------------------------


def test_minimize_finds_the_lowest_and_keeps_the_users_values() -> None:
    result = am.tune(lambda e: float(e["x"]) + 1, SPACE, algorithms.Grid(), minimize=True)
    assert result.directions == ("minimize",)
    assert result.best_trial.id == 1 and result.best_reward == 1.0
    assert result.best_example == {"x": 0}
    assert [t.reward for t in result.trials] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]  # as returned
    assert "best: trial 1, reward 1 (minimized)" in result.summary()
    same = am.tune(lambda e: float(e["x"]) + 1, SPACE, algorithms.Grid(), direction="minimize")
    assert same.best_trial.id == 1


def test_the_algorithm_is_given_the_negated_reward() -> None:
    # Minimizing f proposes exactly what maximizing -f does: the algorithm sees -f.
    def run(minimize: bool) -> list[DNA]:
        sign = 1.0 if minimize else -1.0
        result = am.tune(
            lambda e: sign * square(e),
            FLOAT_SPACE,
            algorithms.regularized_evolution(population_size=6, tournament_size=3, seed=3),
            30,
            minimize=minimize,
        )
        return [t.dna for t in result.trials]

    low, high = run(True), run(False)
    assert low == high
    assert len(set(map(repr, low))) > 10  # evolution did move


def test_sample_minimizes_and_the_best_so_far_follows() -> None:
    loop = am.sample(SPACE, algorithms.Grid(), minimize=True)
    for example, feedback in loop:
        feedback(abs(example["x"] - 3))
    assert loop.result.best_example == {"x": 3}
    assert loop._best == 0 and loop._best_id == 4


def test_several_directions_for_several_objectives() -> None:
    trials = [
        Trial(i, DNA({"x": i}), status="completed", final_measurement=Measurement(reward))
        for i, reward in enumerate([(1.0, 1.0), (2.0, 2.0), (2.0, 0.5), (0.5, 0.5)], start=1)
    ]
    spec = am.dna_spec(SPACE)
    maximized = StudyResult(trials, spec, multi_objective=True)
    assert [t.id for t in maximized.pareto_front] == [2]
    mixed = StudyResult(trials, spec, True, directions=("maximize", "minimize"))
    assert [t.id for t in mixed.pareto_front] == [3] and mixed.best_trials == mixed.pareto_front
    low = StudyResult(trials, spec, True, directions=("minimize",))
    assert [t.id for t in low.pareto_front] == [4]


def test_several_directions_in_a_multi_objective_search() -> None:
    result = am.tune(
        lambda e: (float(e["x"]), float(e["x"] * e["k"])),
        FLOAT_SPACE,
        algorithms.nsga2(population_size=8, seed=1),
        16,
        direction=["maximize", "minimize"],
    )
    assert result.directions == ("maximize", "minimize")
    assert all(isinstance(t.reward, tuple) for t in result.trials)
    loop = am.sample(FLOAT_SPACE, algorithms.nsga2(seed=1), direction=["maximize", "minimize"])
    _, feedback = next(loop)
    feedback.add_measurement((1.0, 2.0, 3.0))
    assert feedback.trial.status == "failed"
    assert feedback.trial.error == (
        "invalid reward: the reward has 3 objectives but the study has 2 directions "
        "(maximize, minimize)"
    )


def test_direction_errors_name_the_parameter() -> None:
    with pytest.raises(am.FieldTypeError, match="`minimize` must be True or False, got 'yes'"):
        am.tune(square, FLOAT_SPACE, num_trials=1, minimize="yes")  # type: ignore[arg-type]
    with pytest.raises(am.FieldValueError, match="`direction` must be 'maximize' or 'minimize'"):
        am.sample(FLOAT_SPACE, direction="down")
    with pytest.raises(am.FieldTypeError, match="`direction` must be"):
        am.sample(FLOAT_SPACE, direction=[])
    with pytest.raises(am.FieldValueError, match="disagree; give one of them"):
        am.sample(FLOAT_SPACE, minimize=True, direction="maximize")
    with pytest.raises(am.FieldValueError, match="2 directions, but the algorithm is single"):
        am.sample(FLOAT_SPACE, algorithms.Random(), direction=["minimize", "maximize"])


def test_several_directions_make_the_default_search_multi_objective() -> None:
    loop = am.sample(FLOAT_SPACE, num_examples=20, direction=["minimize", "maximize"])
    assert loop.multi_objective and loop.algorithm.multi_objective
    assert type(loop.algorithm).__name__ == "Auto"
    assert type(loop.algorithm.chosen).__name__ == "ParEGO"  # a small budget
    for example, feedback in loop:
        feedback((square(example), example["x"]))
    assert loop.result.num_completed == 20 and loop.result.pareto_front


def test_the_direction_is_stored_and_checked_when_reopened(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    am.tune(
        square, FLOAT_SPACE, algorithms.Random(seed=1), 3, name="s", storage=path, minimize=True
    )
    assert am.load_study("s", path).directions == ("minimize",)
    with pytest.raises(am.StorageError, match="created to minimize its reward, not to maximize"):
        am.tune(square, FLOAT_SPACE, algorithms.Random(seed=1), 5, name="s", storage=path,
                direction="maximize")  # fmt: skip
    # Left out, the direction is the study's.
    result = am.tune(square, FLOAT_SPACE, algorithms.Random(seed=1), 5, name="s", storage=path)
    assert result.directions == ("minimize",) and len(result.trials) == 5
    assert result.best_reward == min(t.reward for t in result.trials)  # type: ignore[type-var]
    loop = am.sample(FLOAT_SPACE, algorithms.Random(seed=1), 5, name="s", storage=path)
    assert loop.directions == ("minimize",)
    loop.close()


# --- invalid rewards ----------------------------------------------------------------------


def bad_on_odd(example: Any) -> Any:
    x = example["x"]
    return [math.nan, math.inf, "n/a", -math.inf, 1.0][x // 2 % 5] if x % 2 else float(x)


def test_invalid_rewards_fail_their_trials_and_the_search_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="automorph.tuning"):
        result = am.tune(bad_on_odd, am.Dict(x=am.intv(0, 7)), algorithms.Grid())
    assert [t.status for t in result.trials] == ["completed", "failed"] * 4
    errors = [t.error for t in result.trials if t.status == "failed"]
    assert errors == [
        "invalid reward: a reward must not be NaN",
        "invalid reward: a reward must be finite, got inf",
        "invalid reward: a reward must be a number, got str ('n/a')",
        "invalid reward: a reward must be finite, got -inf",
    ]
    assert result.best_reward == 6.0
    assert "must not be NaN; the trial fails and the search goes on" in caplog.text


def test_a_reward_of_the_wrong_shape_fails_the_trial() -> None:
    with pytest.raises(
        am.TrialsFailedError,
        match=r"every trial failed \(2 trials\): invalid reward: the search is single-objective",
    ):
        am.tune(lambda e: [1.0, 2.0], SPACE, num_trials=2)


def test_when_every_trial_fails_tune_lists_the_reasons() -> None:
    with pytest.raises(
        am.TrialsFailedError,
        match=r"every trial failed \(4 trials\): invalid reward: a reward must not be NaN; "
        r"invalid reward: a reward must be finite, got inf$",
    ):
        am.tune(lambda e: [math.nan, math.inf][e["x"] % 2], am.Dict(x=am.intv(0, 3)),
                algorithms.Grid())  # fmt: skip

    def broken(example: Any) -> float:
        raise ValueError(f"broken {example['x'] % 5}")

    with pytest.raises(am.TrialsFailedError, match=r"ValueError: broken 0; .*\(5 reasons in all\)"):
        am.tune(broken, am.Dict(x=am.intv(0, 9)), algorithms.Grid(), catch=ValueError)


def test_every_trial_failing_in_a_stored_study(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    with pytest.raises(am.TrialsFailedError, match="every trial failed"):
        am.tune(lambda e: math.nan, SPACE, algorithms.Grid(), 3, name="nan", storage=path)
    assert [t.status for t in am.load_study("nan", path).trials] == ["failed"] * 3


# --- spaces without decisions ------------------------------------------------------------


@pytest.mark.parametrize("space", [am.Dict(x=1), {"x": 1}, [1, 2], 3])
def test_a_space_without_decisions_is_refused(space: Any) -> None:
    with pytest.raises(am.SearchSpaceError, match="the search space has no decision to search"):
        am.sample(space)
    with pytest.raises(am.SearchSpaceError, match="holds no hyper-value"):
        am.tune(lambda e: 1.0, space, num_trials=3)


# --- parameters -------------------------------------------------------------------------------


def test_tune_errors_name_the_parameters_the_user_passed() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"num_trials": -1}, "`num_trials` must be an int >= 0 or None, got -1"),
        ({"num_trials": 2.5}, "`num_trials` must be"),
        ({"heartbeat_s": 0}, "`heartbeat_s` must be a number of seconds > 0"),
        ({"timeout_s": "1"}, "`timeout_s` must be"),
        ({"retry_limit": -1}, "`retry_limit` must be an int >= 0"),
        ({"num_workers": 0}, "`num_workers` must be an int >= 1"),
        ({"num_workers": 2}, "`num_workers=2` needs executor='process' or 'ray'"),
        ({"executor": "procss"}, "unknown `executor` 'procss'; the executors are 'local', "),
        ({"catch": ValueError("x")}, "`catch` must be an exception class"),
        ({"progress": "yes"}, "`progress` must be True or False"),
        ({"name": 3}, "`name` must be a string"),
        ({"worker": 1}, "`worker` must be a string"),
    ]
    for kwargs, match in cases:
        with pytest.raises((am.FieldValueError, am.FieldTypeError), match=match):
            am.tune(square, FLOAT_SPACE, **kwargs)
    with pytest.raises(am.FieldValueError, match="`num_trials` must be"):
        am.tune(square, FLOAT_SPACE, num_trials=-1, executor="process", name="n", storage="x.db")
    with pytest.raises(am.FieldTypeError, match="`objective` must be a function"):
        am.tune(3, FLOAT_SPACE)  # type: ignore[arg-type]


def test_sample_errors_name_its_parameters() -> None:
    with pytest.raises(am.FieldValueError, match="`num_examples` must be an int >= 0"):
        am.sample(FLOAT_SPACE, num_examples=-1)
    with pytest.raises(am.FieldValueError, match="`timeout_s` must be a number of seconds"):
        am.sample(FLOAT_SPACE, timeout_s=-1.0)
    with pytest.raises(am.FieldTypeError, match="`name` must be a string"):
        am.sample(FLOAT_SPACE, name=["x"])  # type: ignore[arg-type]


def test_unpicklable_objectives_are_refused_before_any_worker_starts(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    offset = 1.0

    def closure(example: Any) -> float:
        return square(example) + offset

    for objective, what in ((lambda e: 1.0, "<lambda>"), (closure, "closure")):
        with pytest.raises(
            am.FieldValueError,
            match=rf"executor='process' runs `objective` \(.*{what}\) in other processes, but it "
            r"cannot be pickled .*define it at module level",
        ):
            am.tune(objective, FLOAT_SPACE, num_trials=2, name="p", storage=path,
                    executor="process", num_workers=2)  # fmt: skip
    assert not Path(path).exists() or _no_study(path, "p")


def _no_study(path: str, name: str) -> bool:
    from automorph.storage import open_storage

    store = open_storage(path)
    try:
        return name not in [s.name for s in store.list_studies()]
    finally:
        store.close()


def test_memory_storage_keeps_directions() -> None:
    store = MemoryStorage()
    am.tune(square, FLOAT_SPACE, algorithms.Random(seed=2), 4, name="m", storage=store,
            minimize=True)  # fmt: skip
    assert store.get_study("m").metadata["directions"] == ["minimize"]


def test_an_unknown_executor_is_reported_with_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(
        am.FieldValueError,
        match=r"unknown `executor` 'threads'; the executors are 'local', 'process', 'ray'",
    ):
        am.tune(square, FLOAT_SPACE, num_trials=2, name="t", storage=str(tmp_path / "s.db"),
                executor="threads", num_workers=2)  # fmt: skip
    assert not (tmp_path / "s.db").exists()  # refused before anything started


@pytest.mark.parametrize("stored", [False, True])
def test_early_stopping_judges_a_minimized_loss_as_lower_is_better(stored: bool) -> None:
    # Losses: trial x reports x at step 1; with the median rule, high losses stop.
    kwargs: dict[str, Any] = {"name": "es", "storage": MemoryStorage()} if stored else {}
    loop = am.sample(
        am.Dict(x=am.oneof([0.1, 0.2, 0.9, 0.05])),
        algorithms.Grid(),
        minimize=True,
        early_stopping=am.early_stopping.MedianStopping(min_trials=2),
        **kwargs,
    )
    stopped = {}
    for example, feedback in loop:
        feedback.add_measurement(example["x"], step=1)
        stopped[example["x"]] = feedback.should_stop_early()
        feedback.done()
    assert stopped == {0.1: False, 0.2: False, 0.9: True, 0.05: False}
