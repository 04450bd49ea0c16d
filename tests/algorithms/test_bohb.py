"""BOHB: TPE on the largest budget with enough observations, Hyperband stopping,
one object for the user, in memory, in a stored study and across worker processes."""

from __future__ import annotations

import math
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import automorph as am
from automorph import algorithms, early_stopping
from automorph.storage import open_storage
from automorph.tuning import Feedback
from tests.tuning.test_workers import wait_for_the_other_worker

SPACE = am.Dict(a=am.floatv(0.0, 1.0), b=am.floatv(0.0, 1.0), c=am.floatv(0.0, 1.0))
MAX_STEP = 27


def quality(example: Any) -> float:
    """What a configuration reaches at the full budget (1 at the optimum)."""
    a, b, c = float(example["a"]), float(example["b"]), float(example["c"])
    return 1.0 - 1.5 * ((a - 0.7) ** 2 + (b - 0.2) ** 2 + 0.5 * (c - 0.4) ** 2)


def learning_curve(example: Any, step: int) -> float:
    """A curve rising towards `quality`, with noise of sd 0.2 / step (the
    same for the same configuration and step, whatever the run)."""
    key = zlib.crc32(repr((example["a"], example["b"], example["c"], step)).encode())
    noise = np.random.default_rng(key).normal(0.0, 0.2 / step)
    return quality(example) * (1.0 - 0.5 * math.exp(-step / 5)) + noise


def search(algorithm: algorithms.SearchAlgorithm, budget: int) -> tuple[float, int, int, int]:
    """Runs `algorithm` until `budget` steps are used in all (a trial runs
    `MAX_STEP` steps unless told to stop); returns the regret of the best
    full-budget trial, the trials, the full-budget trials and the steps used."""
    used, full = 0, []
    loop = am.sample(SPACE, algorithm)
    for example, feedback in loop:
        for step in range(1, MAX_STEP + 1):
            feedback.add_measurement(learning_curve(example, step), step=step)
            used += 1
            if step == MAX_STEP:
                full.append((learning_curve(example, step), quality(example)))
            if used >= budget or feedback.should_stop_early():
                break
        feedback.done()
        if used >= budget:
            feedback.end_loop()
    best = max(full)[1] if full else -math.inf
    return 1.0 - best, len(loop.result.trials), len(full), used


def test_bohb_beats_random_search_at_an_equal_step_budget() -> None:
    budget = 40 * MAX_STEP  # what 40 full trials use
    bohb, random = [], []
    for seed in range(5):
        regret, trials, full, used = search(algorithms.BOHB(max_step=MAX_STEP, seed=seed), budget)
        assert used == budget
        assert trials > 2 * full  # most trials stop early ...
        assert used < trials * MAX_STEP  # ... so they use fewer steps than full runs
        assert full >= 10  # and the promising ones run to the end
        bohb.append(regret)
        random.append(search(algorithms.Random(seed=seed), budget)[0])
    assert np.mean(bohb) < 0.6 * np.mean(random), (bohb, random)


@pytest.mark.slow
def test_bohb_beats_hyperband_with_random_proposals() -> None:
    """The model matters, not only the early stopping (10 seeds)."""
    budget = 40 * MAX_STEP
    bohb, hyperband = [], []
    for seed in range(10):
        bohb.append(search(algorithms.BOHB(max_step=MAX_STEP, seed=seed), budget)[0])
        # Random search under BOHB's policy: BOHB with every proposal random.
        hyperband.append(
            search(algorithms.BOHB(max_step=MAX_STEP, random_fraction=1.0, seed=seed), budget)[0]
        )
    assert np.mean(bohb) < 0.7 * np.mean(hyperband), (bohb, hyperband)


def train(example: Any, feedback: Feedback) -> None:
    """`learning_curve` over 9 steps, stopped when the policy says so."""
    for step in range(1, 10):
        feedback.add_measurement(learning_curve(example, step), step=step)
        if feedback.should_stop_early():
            break
    feedback.done()


def steps_of(result: am.StudyResult) -> list[tuple[Any, int]]:
    return [(t.dna, t.measurements[-1].step) for t in result.trials]


def test_a_seeded_search_repeats_itself_in_memory_and_in_a_resumed_stored_study(
    tmp_path: Path,
) -> None:
    runs = [am.tune(train, SPACE, algorithms.BOHB(max_step=9, seed=3), 30) for _ in range(2)]
    path = str(tmp_path / "study.db")
    half = am.tune(train, SPACE, algorithms.BOHB(max_step=9, seed=3), 15, name="s", storage=path)
    assert steps_of(half) == steps_of(runs[0])[:15]
    stored = am.tune(train, SPACE, algorithms.BOHB(max_step=9, seed=3), 30, name="s", storage=path)
    assert steps_of(runs[0]) == steps_of(runs[1]) == steps_of(stored)  # resumed as if never stopped
    steps = [step for _, step in steps_of(stored)]
    assert 9 in steps and set(steps) - {9} <= {1, 3}  # stopped at Hyperband's rungs only
    assert steps.count(9) < 20


def test_the_algorithm_brings_its_policy_and_reads_the_loops_curves() -> None:
    bohb = algorithms.BOHB(max_step=9, min_step=3, eta=2, seed=0)
    loop = am.sample(SPACE, bohb, 12, minimize=True)
    assert loop.early_stopping == early_stopping.Hyperband(
        min_resource=3, max_resource=9, reduction_factor=2
    )
    assert bohb.reads_curves
    for example, feedback in loop:
        for step in (3, 6, 9):  # a loss, minimized, that falls with the steps
            feedback.add_measurement(2.0 - quality(example) + 1.0 / step, step=step)
        feedback.done()
    assert bohb.budgets() == [3, 6, 9]
    budget, points = bohb.observations()
    assert budget == 9 and len(points) == 12  # the largest budget with d + 2 = 5 observations
    worst = max(float(t.measurements[-1].reward) for t in loop.result.trials)  # type: ignore[arg-type]
    assert min(value for _, value in points) == -worst  # the algorithm maximizes -loss
    given = early_stopping.MedianStopping()
    assert am.sample(SPACE, algorithms.BOHB(), early_stopping=given).early_stopping is given
    assert am.sample(SPACE, algorithms.TPE()).early_stopping is None


LINE = am.Dict(x=am.floatv(0.0, 1.0))


def curves() -> list[tuple[am.DNA, list[tuple[int, float]]]]:
    """12 trials on [0, 1]: at step 1 a low `x` looks better; every other one
    goes on to step 9, where a high `x` is better."""
    spec = am.dna_spec(LINE)
    out = []
    for i in range(12):
        x = i / 11
        curve = [(1, -x)]
        if i % 2 == 0:
            curve += [(3, -x), (9, x)]
        out.append((spec.dna_from_numbers([x]), curve))
    return out


@pytest.mark.parametrize(("min_points", "budget"), [(None, 9), (6, 9), (7, 1)])
def test_the_model_fits_the_largest_budget_with_enough_observations(
    min_points: int | None, budget: int
) -> None:
    proposals = []
    for seed in range(10):
        bohb = algorithms.BOHB(max_step=9, random_fraction=0.0, min_points=min_points, seed=seed)
        bohb.setup(am.dna_spec(LINE))
        bohb.use_curves(curves)
        fitted, points = bohb.observations()
        assert fitted == budget  # by default (1 decision) a budget needs 3 observations
        assert len(points) == (6 if budget == 9 else 12)
        proposals.append(bohb.propose()["x"])
    mean = np.mean(proposals)
    assert mean > 0.6 if budget == 9 else mean < 0.4, proposals


def test_without_curves_it_is_tpe_with_a_random_fraction_over_final_rewards() -> None:
    bohb = algorithms.BOHB(seed=0)
    bohb.setup(am.dna_spec(LINE))
    assert bohb.observations() == (None, [])
    for _ in range(40):
        dna = bohb.propose()
        bohb.feedback(dna, -((dna["x"] - 0.3) ** 2))
    budget, points = bohb.observations()
    assert budget == 81 and points == bohb.history
    best = max(bohb.history, key=lambda pair: pair[1])[0]
    assert abs(best["x"] - 0.3) < 0.03
    # Trials that report only a final reward (step 0) reach no budget: the same.
    bohb.use_curves(lambda: [(dna, [(0, reward)]) for dna, reward in bohb.history])
    assert bohb.observations() == (81, bohb.history)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(am.FieldValueError, match="max_step"):
        algorithms.BOHB(min_step=10, max_step=9)
    with pytest.raises(am.FieldValueError):
        algorithms.BOHB(random_fraction=1.5)
    with pytest.raises(TypeError, match="use_curves"):
        algorithms.BOHB().use_curves([])  # type: ignore[arg-type]


def train_together(example: Any, feedback: Feedback) -> None:
    """`train`; each worker's first trial waits (a minute at most) until the
    other worker has started one, so both take part."""
    wait_for_the_other_worker()
    train(example, feedback)


def test_two_worker_processes_share_a_sqlite_study(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "workers").mkdir()
    monkeypatch.setenv("AUTOMORPH_TEST_MARK", str(tmp_path / "workers"))
    path = str(tmp_path / "study.db")
    result = am.tune(train_together, SPACE, algorithms.BOHB(max_step=9, seed=0), 30,
                     name="bohb", storage=path, executor="process", num_workers=2)  # fmt: skip
    assert result.num_completed == 30
    records = open_storage(path).get_trials("bohb")
    assert len({r.worker for r in records}) == 2
    steps = [r.measurements[-1]["step"] for r in records]
    assert 9 in steps and set(steps) - {9} <= {1, 3} and steps.count(9) < 25
    # Every worker's measurements are in the study, where BOHB reads them.
    assert sum(len(r.measurements) for r in records) == sum(steps)
