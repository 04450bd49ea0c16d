"""Tests of the early-stopping policies: median stopping, ASHA, Hyperband."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import automorph as am
from automorph import early_stopping as es
from automorph.utils import AutomorphError, FeedbackError, FieldValueError, RegistrationError

ROOT = Path(__file__).resolve().parents[2]

Curves = dict[int, list[tuple[int, float]]]


def curve(*rewards: float, start: int = 1) -> list[tuple[int, float]]:
    """Measurements at consecutive steps from `start`."""
    return [(start + i, float(r)) for i, r in enumerate(rewards)]


def first_stop(
    policy: es.EarlyStoppingPolicy, trial_id: int, full: Sequence[tuple[int, float]], others: Curves
) -> int | None:
    """The step at which the policy first stops the trial, asked after each measurement."""
    for k in range(1, len(full) + 1):
        if policy.should_stop(trial_id, full[:k], others):
            return full[k - 1][0]
    return None


ALL_POLICIES = [
    es.NoStopping(),
    es.MedianStopping(min_trials=1),
    es.SuccessiveHalving(reduction_factor=2),
    es.Hyperband(max_resource=8, reduction_factor=2),
]


# --- the base contract ------------------------------------------------------------


@pytest.mark.parametrize("policy", ALL_POLICIES, ids=lambda p: type(p).__name__)
def test_a_trial_without_measurements_never_stops(policy: es.EarlyStoppingPolicy) -> None:
    others = {i: curve(1.0, 1.0, 1.0) for i in range(1, 10)}
    assert policy.should_stop(0, [], others) is False


@pytest.mark.parametrize("policy", ALL_POLICIES[1:], ids=lambda p: type(p).__name__)
def test_the_trials_own_entry_in_others_is_ignored(policy: es.EarlyStoppingPolicy) -> None:
    # If trial 0's own (better) curve counted as another trial, it would stop.
    own = curve(0.5, 0.5, 0.5, 0.5)
    for k in range(1, 5):
        assert policy.should_stop(0, own[:k], {0: curve(9.0, 9.0, 9.0, 9.0)}) is False


@pytest.mark.parametrize("policy", ALL_POLICIES, ids=lambda p: type(p).__name__)
def test_policies_are_stateless(policy: es.EarlyStoppingPolicy) -> None:
    rng = np.random.default_rng(1)
    others = {i: curve(*rng.uniform(0, 1, 8)) for i in range(1, 30)}
    own = curve(*rng.uniform(0, 0.5, 8))
    first = [policy.should_stop(0, own[:k], others) for k in range(1, 9)]
    again = [policy.should_stop(0, own[:k], others) for k in reversed(range(1, 9))][::-1]
    assert first == again
    fresh = es.create(_name(policy), **policy.sym_init_args)
    assert [fresh.should_stop(0, own[:k], others) for k in range(1, 9)] == first


def _name(policy: es.EarlyStoppingPolicy) -> str:
    return {
        es.NoStopping: "none",
        es.MedianStopping: "median",
        es.SuccessiveHalving: "successive_halving",
        es.Hyperband: "hyperband",
    }[type(policy)]


@pytest.mark.parametrize(
    ("trial_id", "own", "others", "match"),
    [
        (0, [(-1, 0.5)], {}, r"measurement 0 of trial 0 has the step -1; steps are integers >= 0"),
        (0, [(1.5, 0.5)], {}, r"has the step 1.5"),
        (0, [(True, 0.5)], {}, r"has the step True"),
        (0, [(1, "high")], {}, r"has the reward 'high'; a reward must be a number"),
        (0, [(1, (0.5, 0.2))], {}, r"single-objective \(multi-objective studies do not stop"),
        (0, [(1, 0.5, 3)], {}, r"measurement 0 of trial 0 must be a \(step, reward\) pair"),
        (0, "1,0.5", {}, r"curve of trial 0 must be a sequence"),
        ("a", [(1, 0.5)], {}, r"trial ids are integers, got str"),
        (0, [(1, 0.5)], [(1, 0.5)], r"`others` must map trial ids to curves, got list"),
        (0, [(1, 0.5)], {3: [(1, None)]}, r"measurement 0 of trial 3 has the reward None"),
        (0, [(1, 0.5)], {"x": [(1, 0.5)]}, r"trial ids are integers, got str"),
    ],
)
def test_bad_measurements_raise_feedback_errors(
    trial_id: Any, own: Any, others: Any, match: str
) -> None:
    policy = es.MedianStopping(min_trials=1)
    with pytest.raises(FeedbackError, match=match):
        policy.should_stop(trial_id, own, others)


def test_numpy_numbers_and_lists_are_accepted() -> None:
    policy = es.SuccessiveHalving(reduction_factor=2)
    own = [[np.int64(1), np.float32(0.1)]]
    assert policy.should_stop(np.int64(0), own, {1: [(1, 0.9)]}) is True  # type: ignore[arg-type]


def test_nan_counts_as_the_worst_reward() -> None:
    policy = es.SuccessiveHalving(reduction_factor=2)
    assert policy.should_stop(0, [(1, math.nan)], {1: [(1, -1e300)]}) is True
    assert policy.should_stop(0, [(1, -1e300)], {1: [(1, math.nan)]}) is False
    median = es.MedianStopping(min_trials=1)
    assert median.should_stop(0, [(1, math.nan)], {1: [(1, -1e300)]}) is True


def test_a_policy_holding_hyper_values_cannot_judge() -> None:
    space = es.SuccessiveHalving(reduction_factor=am.oneof([2, 3]))
    with pytest.raises(AutomorphError, match="holds hyper-values; materialize it"):
        space.should_stop(0, [(1, 0.5)], {})
    assert am.materialize(space, am.DNA({"reduction_factor": 1})) == es.SuccessiveHalving()


def test_no_stopping_never_stops() -> None:
    others = {i: curve(1.0, 1.0, 1.0, 1.0) for i in range(1, 50)}
    assert first_stop(es.NoStopping(), 0, curve(0.0, 0.0, 0.0, 0.0), others) is None


# --- MedianStopping -------------------------------------------------------------------

GOOD = {i: curve(*(0.5 + 0.04 * s + 0.01 * i for s in range(10))) for i in range(1, 6)}


def test_median_stops_a_clearly_bad_trial_at_the_first_step() -> None:
    policy = es.MedianStopping()  # 5 others at every step
    assert first_stop(policy, 0, curve(*[0.1] * 10), GOOD) == 1


def test_median_never_stops_a_good_trial() -> None:
    policy = es.MedianStopping()
    assert first_stop(policy, 0, curve(*(0.6 + 0.05 * s for s in range(10))), GOOD) is None


def test_median_respects_warmup_steps() -> None:
    policy = es.MedianStopping(warmup_steps=4)
    assert first_stop(policy, 0, curve(*[0.1] * 10), GOOD) == 4
    late = curve(*[0.1] * 10)
    assert policy.should_stop(0, late[:3], GOOD) is False


def test_median_stops_a_trial_that_falls_behind_at_the_right_step() -> None:
    # Others' running averages at step s: mean of 0.5 + 0.04 t + 0.01 i over t < s.
    # The median (trial 3) at step 6 is 0.5 + 0.03 + 0.04 * 2.5 = 0.63.
    policy = es.MedianStopping()
    flat = curve(0.55, 0.6, 0.62, 0.62, 0.62, 0.62, 0.62)
    assert first_stop(policy, 0, flat, GOOD) == 6


def test_median_compares_the_best_with_running_averages() -> None:
    # Every other trial has 1.0 at step 2, but averaged 0.5 over steps 1-2.
    others = {i: curve(0.0, 1.0) for i in range(1, 6)}
    policy = es.MedianStopping()
    assert policy.should_stop(0, curve(0.6, 0.2), others) is False  # best 0.6 >= 0.5
    assert policy.should_stop(0, curve(0.4, 0.3), others) is True
    assert policy.should_stop(0, curve(0.5, 0.5), others) is False  # not strictly worse


def test_median_respects_min_trials() -> None:
    four = {i: GOOD[i] for i in range(1, 5)}
    bad = curve(*[0.1] * 10)
    assert first_stop(es.MedianStopping(), 0, bad, four) is None
    assert first_stop(es.MedianStopping(min_trials=4), 0, bad, four) == 1


def test_median_counts_only_others_that_reached_the_step() -> None:
    short = {i: c[:5] for i, c in GOOD.items()}  # steps 1-5
    policy = es.MedianStopping()
    assert policy.should_stop(0, [(5, 0.1)], short) is True
    assert policy.should_stop(0, [(6, 0.1)], short) is False
    # A sparse reporter reaches step 4 with its measurement at step 6.
    sparse = {i: [(2, 0.9), (6, 0.9)] for i in range(1, 6)}
    assert policy.should_stop(0, [(4, 0.1)], sparse) is True


def test_median_judges_only_on_reaching_a_pruning_step() -> None:
    policy = es.MedianStopping(interval_steps=3, warmup_steps=1)  # steps 1, 4, 7, ...
    bad = curve(*[0.1] * 10)
    decisions = [policy.should_stop(0, bad[:k], GOOD) for k in range(1, 8)]
    assert "".join("S" if d else "." for d in decisions) == "S..S..S"  # S: stop
    # A jump from step 2 to step 5 passes pruning step 4: judged.
    assert policy.should_stop(0, [(2, 0.1), (5, 0.1)], GOOD) is True
    assert policy.should_stop(0, [(5, 0.1), (6, 0.1)], GOOD) is False


# --- SuccessiveHalving (ASHA) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, [1, 3, 9, 27, 81]),
        ({"min_early_stopping_rate": 1}, [3, 9, 27, 81]),
        ({"min_early_stopping_rate": 2, "min_resource": 2}, [18, 54]),
        ({"min_resource": 2}, [2, 6, 18, 54]),
        ({"max_resource": 27}, [1, 3, 9]),
        ({"max_resource": 28}, [1, 3, 9, 27]),
        ({"reduction_factor": 2}, [1, 2, 4, 8, 16, 32, 64]),
        (
            {"reduction_factor": 2, "min_resource": 3, "min_early_stopping_rate": 1},
            [6, 12, 24, 48, 96],
        ),
    ],
)
def test_asha_rungs(options: dict[str, int], expected: list[int]) -> None:
    assert es.SuccessiveHalving(**options).rungs(100) == expected


def test_asha_keeps_the_top_third_at_a_rung() -> None:
    policy = es.SuccessiveHalving()  # eta = 3
    others = {i: [(1, v)] for i, v in enumerate([0.1, 0.2, 0.3, 0.4, 0.5], start=1)}
    # Six values at rung 1 -> the top two continue.
    assert policy.should_stop(0, [(1, 0.45)], others) is False
    assert policy.should_stop(0, [(1, 0.4)], others) is False  # a tie with second place
    assert policy.should_stop(0, [(1, 0.35)], others) is True
    # Five values -> only the best continues.
    four = {i: others[i] for i in range(1, 5)}
    assert policy.should_stop(0, [(1, 0.45)], four) is False
    assert policy.should_stop(0, [(1, 0.35)], four) is True


def test_asha_keeps_the_top_half_with_eta_2() -> None:
    policy = es.SuccessiveHalving(reduction_factor=2)
    others = {1: [(1, 0.3), (2, 0.3)], 2: [(1, 0.6), (2, 0.7)], 3: [(1, 0.2), (2, 0.9)]}
    # Rung 2 holds 0.3, 0.7, 0.9 and the trial's own value: the top two continue.
    assert policy.should_stop(0, [(1, 0.5), (2, 0.8)], others) is False
    assert policy.should_stop(0, [(1, 0.5), (2, 0.6)], others) is True


@pytest.mark.parametrize("eta", [2, 3, 4])
def test_asha_stops_nobody_while_fewer_than_eta_trials_reached_the_rung(eta: int) -> None:
    policy = es.SuccessiveHalving(reduction_factor=eta)
    others = {i: [(1, 1.0 + i)] for i in range(1, eta - 1)}  # eta - 2 others
    assert policy.should_stop(0, [(1, 0.0)], others) is False
    others[eta - 1] = [(1, 5.0)]
    assert policy.should_stop(0, [(1, 0.0)], others) is True


def test_asha_judges_only_when_a_rung_is_reached() -> None:
    policy = es.SuccessiveHalving()  # rungs 1, 3, 9
    others = {i: curve(*[1.0] * 9) for i in range(1, 4)}
    bad = curve(*[0.0] * 9)
    decisions = [policy.should_stop(0, bad[:k], others) for k in range(1, 10)]
    assert "".join("S" if d else "." for d in decisions) == "S.S.....S"  # S: stop


def test_asha_judges_every_rung_a_jump_passes() -> None:
    policy = es.SuccessiveHalving()
    # Good at rung 3, bad at rung 9: a jump from step 1 to step 10 is judged at both.
    others = {i: [(3, 0.1 * i), (9, 1.0)] for i in range(1, 4)}
    assert policy.should_stop(0, [(1, 0.5)], others) is False  # the best at rung 1
    assert policy.should_stop(0, [(1, 0.5), (10, 0.5)], others) is True
    assert policy.should_stop(0, [(1, 0.5), (4, 0.5)], others) is False  # rung 3 only


def test_asha_value_at_a_rung_is_the_best_when_the_trial_reached_it() -> None:
    policy = es.SuccessiveHalving()
    # Trial 1 peaked at step 1; its value at rung 3 is 0.9. Trial 2 reached rung 3
    # with its measurement at step 5 (0.8); trial 3 has not reached rung 3.
    others = {1: curve(0.9, 0.1, 0.1, 0.1), 2: [(1, 0.2), (5, 0.8)], 3: curve(1.0, 1.0)}
    assert policy.should_stop(0, curve(0.5, 0.5, 0.85), others) is True
    assert policy.should_stop(0, curve(0.5, 0.5, 0.95), others) is False


def test_asha_bad_trial_stops_at_the_right_rung() -> None:
    policy = es.SuccessiveHalving(reduction_factor=2)  # rungs 1, 2, 4, 8
    others = {i: curve(*(0.5 + 0.01 * i + 0.05 * s for s in range(8))) for i in range(1, 8)}
    # Eight trials at each rung: the top four continue. The others' values at
    # rungs 1, 2, 4, 8 are 0.51-0.57, 0.56-0.62, 0.66-0.72 and 0.86-0.92.
    slows_down = curve(0.6, 0.63, 0.64, 0.65, 0.66, 0.67, 0.68, 0.69)
    assert first_stop(policy, 0, slows_down, others) == 4
    falls_behind = curve(0.6, 0.63, 0.64, 0.7, 0.7, 0.7, 0.7, 0.75)
    assert first_stop(policy, 0, falls_behind, others) == 8
    assert first_stop(policy, 0, curve(*(1.0 + 0.1 * s for s in range(8))), others) is None
    # Its best so far counts: an early peak carries it through rung 4.
    peaked = curve(0.6, 0.63, 0.695, 0.1, 0.1, 0.1, 0.1, 0.1)
    assert first_stop(policy, 0, peaked, others) == 8


def test_asha_does_not_judge_at_max_resource() -> None:
    policy = es.SuccessiveHalving(max_resource=9)
    others = {i: curve(*[1.0] * 9) for i in range(1, 4)}
    assert policy.should_stop(0, curve(*[1.0] * 8, 0.0), others) is False
    assert policy.should_stop(0, curve(0.0, 0.0, 0.0), others) is True


# --- Hyperband ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "count", "weights"),
    [
        ({}, 5, [81, 34, 15, 8, 5]),
        ({"max_resource": 80}, 4, [27, 12, 6, 4]),
        ({"max_resource": 8, "reduction_factor": 2}, 4, [8, 6, 4, 4]),
        ({"min_resource": 5, "max_resource": 5}, 1, [1]),
        ({"min_resource": 2, "max_resource": 18}, 3, [9, 5, 3]),
    ],
)
def test_hyperband_brackets(options: dict[str, int], count: int, weights: list[int]) -> None:
    hyperband = es.Hyperband(**options)
    assert hyperband.num_brackets == count
    assert hyperband.bracket_weights() == weights
    brackets = hyperband.brackets()
    assert [b.min_early_stopping_rate for b in brackets] == list(range(count))
    assert all(b.max_resource == hyperband.max_resource for b in brackets)


def test_hyperband_bracket_rungs_stay_below_max_resource() -> None:
    rungs = [b.rungs(1000) for b in es.Hyperband(max_resource=81).brackets()]
    assert rungs == [[1, 3, 9, 27], [3, 9, 27], [9, 27], [27], []]


def test_hyperband_assignment_is_deterministic_and_covers_every_bracket() -> None:
    hyperband = es.Hyperband()
    ids = range(5000)
    assignment = [hyperband.bracket(i) for i in ids]
    assert assignment == [es.Hyperband().bracket(i) for i in ids]
    counts = Counter(assignment)
    assert sorted(counts) == [0, 1, 2, 3, 4]
    weights = hyperband.bracket_weights()
    for s, weight in enumerate(weights):
        expected = len(ids) * weight / sum(weights)
        assert abs(counts[s] - expected) < 0.2 * expected + 10, (s, counts[s], expected)
    # Consecutive ids are spread, not blocked.
    assert len(set(assignment[:20])) >= 3
    assert all(0 <= hyperband.bracket(i) < 5 for i in (-1, -(2**70), 2**70))
    with pytest.raises(FeedbackError, match="trial ids are integers, got str"):
        hyperband.bracket("7")  # type: ignore[arg-type]


def test_hyperband_assignment_is_the_same_in_another_process() -> None:
    code = (
        "from automorph import early_stopping as es;"
        "print([es.Hyperband().bracket(i) for i in range(40)])"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=ROOT
    ).stdout
    assert out.strip() == str([es.Hyperband().bracket(i) for i in range(40)])


def _ids_by_bracket(hyperband: es.Hyperband, count: int) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {s: [] for s in range(hyperband.num_brackets)}
    i = 0
    while any(len(v) < count for v in found.values()):
        s = hyperband.bracket(i)
        if len(found[s]) < count:
            found[s].append(i)
        i += 1
    return found


def test_hyperband_judges_within_a_bracket_only() -> None:
    hyperband = es.Hyperband(max_resource=27)  # brackets 0-3; bracket 0 has rungs 1, 3, 9
    ids = _ids_by_bracket(hyperband, 4)
    trial, mates = ids[0][0], ids[0][1:]
    strangers = {i: curve(1.0) for s in (1, 2, 3) for i in ids[s]}
    # Nine better trials in other brackets: trial is alone at its rung 1.
    assert hyperband.should_stop(trial, curve(0.0), strangers) is False
    # One better trial in its bracket: two at the rung, still fewer than eta.
    assert hyperband.should_stop(trial, curve(0.0), {**strangers, mates[0]: curve(1.0)}) is False
    # Two better trials in its bracket: bottom of three.
    two = {**strangers, mates[0]: curve(1.0), mates[1]: curve(1.0)}
    assert hyperband.should_stop(trial, curve(0.0), two) is True
    # Worse trials elsewhere do not save it either.
    worse = {i: curve(-1.0) for s in (1, 2, 3) for i in ids[s]}
    two_and_worse = {**worse, mates[0]: curve(1.0), mates[1]: curve(1.0)}
    assert hyperband.should_stop(trial, curve(0.0), two_and_worse) is True


def test_hyperband_brackets_judge_like_their_successive_halving() -> None:
    hyperband = es.Hyperband(max_resource=27)
    rng = np.random.default_rng(0)
    others = {i: curve(*rng.uniform(0, 1, int(rng.integers(1, 27)))) for i in range(1, 200)}
    brackets = hyperband.brackets()
    decisions: Counter[bool] = Counter()
    for trial in range(200, 260):
        own = curve(*rng.uniform(0, 1, 26))
        s = hyperband.bracket(trial)
        mates = {i: c for i, c in others.items() if hyperband.bracket(i) == s}
        for k in (1, 3, 9, 10):
            decision = hyperband.should_stop(trial, own[:k], others)
            assert decision == brackets[s].should_stop(trial, own[:k], mates)
            decisions[decision] += 1
    assert decisions[True] > 5 and decisions[False] > 5


def test_hyperband_last_bracket_never_stops_when_max_resource_is_a_rung() -> None:
    hyperband = es.Hyperband(max_resource=9)  # brackets 0, 1, 2; bracket 2 starts at 9
    ids = _ids_by_bracket(hyperband, 5)[2]
    others = {i: curve(*[1.0] * 12) for i in ids[1:]}
    assert first_stop(hyperband, ids[0], curve(*[0.0] * 12), others) is None


# --- a simulated study ----------------------------------------------------------------


def simulate(
    policy: es.EarlyStoppingPolicy, seed: int, n: int = 60, steps: int = 81, workers: int = 6
) -> tuple[np.ndarray, dict[int, int], Curves]:
    """Trials run `workers` at a time, one step per tick each, asking the policy
    after every measurement. Trial `t`'s curve rises towards its final quality
    `q[t]` ~ U(0, 1): `q * (1 - exp(-step / tau) / 2) + noise`, tau ~ U(8, 12),
    noise ~ N(0, 0.01). Returns the qualities, the step each stopped trial
    stopped at, and the curves."""
    rng = np.random.default_rng(seed)
    quality = rng.uniform(0, 1, n)
    tau = rng.uniform(8, 12, n)
    noise = rng.normal(0, 0.01, (n, steps))
    curves: Curves = {}
    stopped: dict[int, int] = {}
    pending, running = list(range(n)), list[int]()
    while pending or running:
        while pending and len(running) < workers:
            trial = pending.pop(0)
            curves[trial] = []
            running.append(trial)
        for trial in list(running):
            step = len(curves[trial]) + 1
            mean = quality[trial] * (1 - 0.5 * math.exp(-step / tau[trial]))
            curves[trial].append((step, float(mean + noise[trial, step - 1])))
            if policy.should_stop(trial, curves[trial], curves):
                stopped[trial] = step
                running.remove(trial)
            elif step == steps:
                running.remove(trial)
    return quality, stopped, curves


def test_asha_simulation_stops_mostly_bad_trials_and_never_the_best() -> None:
    quality, stopped, curves = simulate(es.SuccessiveHalving(max_resource=81), seed=0)
    median = float(np.median(quality))
    below = [t for t in stopped if quality[t] < median]
    assert len(stopped) > 40  # eta = 3 over rungs 1, 3, 9, 27: most trials stop
    assert len(below) > len(stopped) / 2
    assert int(np.argmax(quality)) not in stopped
    assert all(stopped[t] == 1 for t in below)  # bad trials stop at the first rung
    budget = sum(len(c) for c in curves.values())
    assert budget < 0.2 * 60 * 81


def test_median_simulation_stops_mostly_bad_trials_and_never_the_best() -> None:
    quality, stopped, _ = simulate(es.MedianStopping(), seed=0)
    median = float(np.median(quality))
    below = [t for t in stopped if quality[t] < median]
    assert len(below) > 0.6 * len(stopped)
    assert int(np.argmax(quality)) not in stopped
    top_sixth = np.argsort(quality)[-10:]
    assert not set(top_sixth.tolist()) & set(stopped)


# --- symbolic: JSON, validation, registry -----------------------------------------------

SERIALIZED = [
    es.NoStopping(),
    es.MedianStopping(),
    es.MedianStopping(min_trials=3, warmup_steps=10, interval_steps=5),
    es.SuccessiveHalving(),
    es.SuccessiveHalving(min_resource=2, reduction_factor=4, min_early_stopping_rate=1),
    es.SuccessiveHalving(max_resource=100),
    es.Hyperband(),
    es.Hyperband(min_resource=3, max_resource=300, reduction_factor=2),
]


@pytest.mark.parametrize("policy", SERIALIZED, ids=repr)
def test_json_round_trip(policy: es.EarlyStoppingPolicy) -> None:
    back = am.from_json(policy.to_json())
    assert back == policy and type(back) is type(policy)
    assert am.from_json_str(am.to_json_str(policy)) == policy
    assert policy.to_json()["_type"] == f"automorph.early_stopping.{type(policy).__name__}"


SH, HB, MS = es.SuccessiveHalving, es.Hyperband, es.MedianStopping
OUT_OF_BOUNDS = r"value {} is out of bounds \[{},"
TOO_SMALL = r"{}: `max_resource` \({}\) must be at least `min_resource` \({}\)"


@pytest.mark.parametrize(
    ("cls", "options", "match", "path"),
    [
        (SH, {"reduction_factor": 1}, OUT_OF_BOUNDS.format(1, 2), "reduction_factor"),
        (SH, {"min_resource": 0}, OUT_OF_BOUNDS.format(0, 1), "min_resource"),
        (
            SH,
            {"min_early_stopping_rate": -1},
            OUT_OF_BOUNDS.format(-1, 0),
            "min_early_stopping_rate",
        ),
        (SH, {"max_resource": 0}, OUT_OF_BOUNDS.format(0, 1), "max_resource"),
        (
            SH,
            {"min_resource": 5, "max_resource": 4},
            TOO_SMALL.format("SuccessiveHalving", 4, 5),
            "max_resource",
        ),
        (HB, {"reduction_factor": 1}, OUT_OF_BOUNDS.format(1, 2), "reduction_factor"),
        (HB, {"min_resource": 0}, OUT_OF_BOUNDS.format(0, 1), "min_resource"),
        (
            HB,
            {"min_resource": 10, "max_resource": 9},
            TOO_SMALL.format("Hyperband", 9, 10),
            "max_resource",
        ),
        (MS, {"warmup_steps": -1}, OUT_OF_BOUNDS.format(-1, 0), "warmup_steps"),
        (MS, {"min_trials": 0}, OUT_OF_BOUNDS.format(0, 1), "min_trials"),
        (MS, {"interval_steps": 0}, OUT_OF_BOUNDS.format(0, 1), "interval_steps"),
    ],
)
def test_bad_parameters_raise_field_value_errors(
    cls: type[es.EarlyStoppingPolicy], options: dict[str, int], match: str, path: str
) -> None:
    with pytest.raises(FieldValueError, match=match) as info:
        cls(**options)
    assert info.value.path == path
    assert isinstance(info.value, ValueError)


def test_bad_rebinds_name_the_path() -> None:
    tree = am.Dict(policy=es.Hyperband())
    with pytest.raises(FieldValueError, match="out of bounds") as info:
        tree.rebind({"policy.reduction_factor": 1})
    assert info.value.path == "policy.reduction_factor"
    with pytest.raises(FieldValueError, match="must be at least `min_resource`") as info:
        tree.rebind({"policy.min_resource": 100})
    assert info.value.path == "policy.max_resource"


def test_fields_are_keyword_only() -> None:
    with pytest.raises(TypeError, match="positional"):
        es.SuccessiveHalving(1)  # type: ignore[call-arg]


def test_registry() -> None:
    assert es.names() == ["hyperband", "median", "none", "successive_halving"]
    assert es.create("hyperband", max_resource=27) == es.Hyperband(max_resource=27)
    assert es.create("none") == es.NoStopping()
    with pytest.raises(
        RegistrationError,
        match=r"no early-stopping policy named 'asha'; registered: hyperband, median",
    ):
        es.create("asha")

    def other() -> es.EarlyStoppingPolicy:
        return es.NoStopping()

    with pytest.raises(RegistrationError, match="'median' is already registered"):
        es.register("median")(other)
    assert es.register("median")(es.MedianStopping) is es.MedianStopping  # idempotent
    assert es.create("median") == es.MedianStopping()
