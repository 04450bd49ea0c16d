"""Constrained studies: reporting constraints, validation, results, stores,
the command line and the plots."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import pytest

import automorph as am
from automorph import algorithms
from automorph.cli import main
from automorph.storage import MemoryStorage
from automorph.tuning import Measurement, Outcome, StudyResult, Trial
from automorph.tuning._direction import for_algorithm
from automorph.utils import FeedbackError, FieldValueError, TrialStateError

SPACE = am.Dict(x=am.floatv(-2.0, 2.0), y=am.floatv(-2.0, 2.0))


def objective(example: Any) -> Outcome:
    """Minimize x^2 + y^2 subject to x + y >= 1 (optimum 0.5 at (0.5, 0.5))."""
    x, y = example["x"], example["y"]
    return Outcome(x * x + y * y, constraints=[1.0 - x - y])


def test_tune_with_tpe_ends_on_the_feasible_optimum() -> None:
    result = am.tune(objective, SPACE, algorithms.TPE(seed=0), 60, minimize=True)
    best = result.best_trial
    assert best.feasible and best.constraints is not None
    assert best.reward < 0.62, best
    # the unconstrained best (near the origin) is infeasible, and not picked
    lowest = min(result.completed_trials, key=lambda t: t.reward)
    assert lowest.reward < best.reward and not lowest.feasible
    assert set(result.feasible_trials) < set(result.completed_trials)
    assert "constraints: " in result.summary() and "feasible" in result.summary()


def test_tune_with_nsga2_ends_on_the_feasible_optimum() -> None:
    def two(example: Any) -> Outcome:
        x, y = example["x"], example["y"]
        return Outcome((x * x + y * y, (x - 1) ** 2 + y * y), constraints=[1.0 - x - y])

    result = am.tune(two, SPACE, algorithms.nsga2(population_size=12, seed=1), 200,
                     direction="minimize")  # fmt: skip
    front = result.pareto_front
    assert front and all(t.feasible for t in front)
    assert min(t.reward[0] for t in front) < 0.6  # type: ignore[index]
    # the reference is an upper bound of minimized objectives
    volume = result.hypervolume([4.0, 4.0])
    assert volume > 0.0
    all_front = am.algorithms.hypervolume(
        [(-a, -b) for a, b in (t.reward for t in result.completed_trials)],  # type: ignore[misc]
        (-4.0, -4.0),
    )
    assert volume < all_front  # infeasible trials would dominate more


def test_set_constraints_in_a_loop_and_feedback_call() -> None:
    loop = am.sample(am.Dict(x=am.intv(0, 5)), algorithms.Grid())
    for example, feedback in loop:
        if example["x"] % 2:
            feedback.set_constraints([example["x"] - 2.0, -1.0])
            feedback.set_constraints([example["x"] - 3.0, -1.0])  # replaces
            assert feedback.constraints == (example["x"] - 3.0, -1.0)
            feedback(float(example["x"]))
        else:
            feedback(float(example["x"]), constraints=[example["x"] - 3.0, 0.0])
    result = loop.result
    assert [t.constraints[0] for t in result.trials] == [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0]  # type: ignore[index]
    assert [t.feasible for t in result.trials] == [True] * 4 + [False] * 2
    assert result.trials[4].violation == 1.0
    assert result.best_trial.id == 4  # x = 3, the best feasible; x = 5 is higher


def test_no_feasible_trial_gives_the_least_violating() -> None:
    result = am.tune(
        lambda e: Outcome(float(e["x"]), constraints=[10.0 - e["x"]]),
        am.Dict(x=am.intv(0, 4)),
        algorithms.Grid(),
    )
    assert not result.feasible_trials
    best = result.best_trial
    assert best.id == 5 and best.violation == 6.0
    assert "infeasible, violation 6" in result.summary()


def _result(rewards: list[Any], constraints: list[Any], directions: Any) -> StudyResult:
    trials = []
    for i, (reward, given) in enumerate(zip(rewards, constraints, strict=True), start=1):
        final = Measurement(reward)
        metadata = {} if given is None else {"constraints": given}
        trials.append(Trial(i, am.DNA({"k": i}), status="completed", measurements=[final],
                            final_measurement=final, metadata=metadata))  # fmt: skip
    return StudyResult(trials, am.dna_spec(am.Dict(k=am.intv(0, 9))), True, None, directions)


def test_pareto_front_and_hypervolume_by_hand() -> None:
    points = [(1.0, 3.0), (3.0, 1.0), (2.0, 2.0), (4.0, 4.0)]
    result = _result(points, [[-1.0], [-1.0], None, [1.0]], ("maximize",))
    # (4, 4) dominates every other point but is infeasible; no constraints is feasible
    assert [t.id for t in result.pareto_front] == [1, 2, 3]
    # the union of the boxes [0, p]: 1 * 3 + (2 - 1) * 2 + (3 - 2) * 1 = 6
    assert result.hypervolume([0.0, 0.0]) == pytest.approx(6.0)
    with pytest.raises(FieldValueError, match="one value per objective"):
        result.hypervolume([0.0])
    # minimized: the reference bounds from above, rewards are as reported;
    # the union of the boxes [p, (4, 4)], swept along x: 1 * 1 + 1 * 2 + 1 * 3 = 6
    low = _result(points[:3], [None] * 3, ("minimize",))
    assert low.hypervolume([4.0, 4.0]) == pytest.approx(6.0)
    # mixed directions: objective 0 maximized (above 0), objective 1 minimized (below 4)
    mixed = _result(points[:3], [None] * 3, ("maximize", "minimize"))
    assert [t.id for t in mixed.pareto_front] == [2]  # (3, 1) is best on both
    assert mixed.hypervolume([0.0, 4.0]) == pytest.approx(3.0 * 3.0)
    # none feasible: the front of the least violating trials
    none = _result(points, [[2.0], [1.0], [1.0], [3.0]], ("maximize",))
    assert [t.id for t in none.pareto_front] == [2, 3]
    assert none.hypervolume([0.0, 0.0]) == 0.0


def test_single_objective_hypervolume() -> None:
    result = am.tune(lambda e: float(e["x"]), am.Dict(x=am.intv(0, 3)), algorithms.Grid())
    assert result.hypervolume(1.0) == 2.0
    assert result.hypervolume([5.0]) == 0.0


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("constraints", "match"),
    [
        ([math.nan], "trial 1: constraints must be finite"),
        ([0.0, math.inf], "trial 1: constraints must be finite"),
        ("x", "trial 1: constraints must be a list"),
        ([], "trial 1: constraints must hold at least one value"),
    ],
)
def test_malformed_constraints_name_the_trial(constraints: Any, match: str) -> None:
    loop = am.sample(am.Dict(x=am.intv(0, 1)), algorithms.Random(seed=0))
    _, feedback = next(loop)
    with pytest.raises(FeedbackError, match=match):
        feedback.set_constraints(constraints)
    assert feedback.constraints is None
    feedback(1.0)


def test_constraints_of_another_length_name_the_trial() -> None:
    loop = am.sample(am.Dict(x=am.intv(0, 3)), algorithms.TPE(seed=0))
    _, feedback = next(loop)
    feedback(1.0, constraints=[0.0, 1.0])
    _, feedback = next(loop)
    with pytest.raises(FeedbackError, match=r"trial 2: 1 constraint values .* report 2"):
        feedback.set_constraints([0.0])
    feedback.skip()
    loop.close()


def test_constraints_after_the_end_and_the_reserved_key() -> None:
    loop = am.sample(am.Dict(x=am.intv(0, 3)), algorithms.Random(seed=0))
    _, feedback = next(loop)
    with pytest.raises(FieldValueError, match="set_constraints"):
        feedback.set_metadata("constraints", [0.0])
    feedback(1.0)
    with pytest.raises(TrialStateError, match="trial 1 is already completed"):
        feedback.set_constraints([0.0])
    loop.close()


def test_tune_fails_the_trial_and_raises_on_bad_constraints() -> None:
    store = MemoryStorage()
    with pytest.raises(FeedbackError, match="trial 1: constraints must be finite"):
        am.tune(lambda e: Outcome(1.0, constraints=[math.nan]), SPACE,
                algorithms.Random(seed=0), 3, name="bad", storage=store)  # fmt: skip
    trial = am.load_study("bad", store).trials[0]
    assert trial.status == "failed" and "finite" in (trial.error or "")


def test_an_algorithm_that_ignores_constraints_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    algorithm = algorithms.create("reinforce", seed=0)
    with caplog.at_level(logging.WARNING, logger="automorph.tuning"):
        am.tune(lambda e: Outcome(float(e["k"]), constraints=[e["k"] - 1.0]),
                am.Dict(k=am.oneof([0, 1, 2])), algorithm, 4)  # fmt: skip
        am.tune(objective, SPACE, algorithms.TPE(seed=0), 3)
    warnings = [r for r in caplog.records if "does not steer by constraints" in r.message]
    assert len(warnings) == 1 and "REINFORCE" in warnings[0].message


# --- stores, recover, the command line and the plots ------------------------------------


def _recover_matches(trials: list[am.Trial], seed: int, directions: tuple[str, ...]) -> None:
    """A live TPE fed the stored trials as a study's events (proposal, then
    result with constraints) and one rebuilt by `recover` propose the same;
    one told nothing of the constraints proposes otherwise."""
    spec = am.dna_spec(SPACE)
    history = [
        (t.dna, for_algorithm(t.reward, directions), t.constraints)  # type: ignore[arg-type]
        for t in trials
    ]
    live = algorithms.TPE(seed=seed, num_initial=5)
    live.setup(spec)
    for dna, reward, constraints in history:
        live.replay_proposal(dna)
        live.feedback(dna, reward, constraints)
    revived = algorithms.TPE(seed=seed, num_initial=5)
    revived.setup(spec)
    revived.recover(history)
    blind = algorithms.TPE(seed=seed, num_initial=5)
    blind.setup(spec)
    blind.recover([(dna, reward) for dna, reward, _ in history])
    expected = [live.propose() for _ in range(5)]
    assert [revived.propose() for _ in range(5)] == expected
    assert [blind.propose() for _ in range(5)] != expected


def test_sqlite_round_trip_and_recover(tmp_path: Path) -> None:
    url = str(tmp_path / "study.db")
    memory = am.tune(objective, SPACE, algorithms.TPE(seed=3, num_initial=5), 25, minimize=True)
    stored = am.tune(objective, SPACE, algorithms.TPE(seed=3, num_initial=5), 25, minimize=True,
                     name="c", storage=url)  # fmt: skip
    study = am.load_study("c", url)
    try:
        trials = study.trials
        assert all(t.constraints is not None and len(t.constraints) == 1 for t in trials)
        for trial in trials:
            x, y = trial.example["x"], trial.example["y"]
            assert trial.constraints == (pytest.approx(1.0 - x - y),)
        assert [t.constraints for t in stored.trials] == [t.constraints for t in trials]
        assert study.best_trial.feasible and study.best_trial.id == stored.best_trial.id
        _recover_matches(trials, seed=3, directions=("minimize",))
        # the same search in memory recorded the same kind of data
        assert all(t.constraints is not None for t in memory.trials)
    finally:
        study.close()


def test_cli_and_report_mark_infeasible_trials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = MemoryStorage()
    am.tune(
        lambda e: Outcome(float(e["x"]), constraints=[e["x"] - 2.0]),
        am.Dict(x=am.intv(0, 4)),
        algorithms.Grid(),
        name="c",
        storage=store,
    )
    main(["show", "c"], storage=store)
    out = capsys.readouterr().out
    assert "Feasible:   3 of 5 completed" in out and "Best trial: 3 (reward 2)" in out
    main(["trials", "c", "--sort", "reward"], storage=store)
    lines = capsys.readouterr().out.splitlines()
    assert "feasible" in lines[0]
    assert [line.split()[0] for line in lines[2:]] == ["3", "2", "1", "4", "5"]
    assert lines[-1].split()[3:5] == ["no", "(2)"]
    main(["best", "c"], storage=store)
    assert "constraints: [0.0] (feasible)" in capsys.readouterr().out
    pytest.importorskip("matplotlib")
    main(["plot", "c", "-o", str(tmp_path / "c")], storage=store)
    page = (tmp_path / "c.html").read_text()
    assert "3 of 5 completed trials feasible" in page and "no (2)" in page
    assert "the best of the feasible trials" in page


def test_plot_table_reads_feasibility_from_stored_records() -> None:
    from automorph.storage import TrialRecord
    from automorph.viz._data import collect

    records = [
        TrialRecord("s", 1, {"x": 1}, "completed", reward=5.0, metadata={"constraints": [1.0]}),
        TrialRecord("s", 2, {"x": 2}, "completed", reward=2.0, metadata={"constraints": [0.0]}),
        TrialRecord("s", 3, {"x": 3}, "completed", reward=3.0, metadata={"constraints": [-1.0]}),
        TrialRecord("s", 4, {"x": 4}, "failed"),
    ]
    table = collect(records)
    assert table.constrained and table.feasible.tolist() == [False, True, True, True]
    assert table.leading().tolist() == [False, True, True, False]
    assert table.best_index() == 2  # trial 3: trial 1 is higher but infeasible
    assert collect(records[:1]).best_index() == 0  # none feasible: the least violating
    plain = collect([TrialRecord("s", 1, {"x": 1}, "completed", reward=1.0)])
    assert not plain.constrained and plain.violations is None
