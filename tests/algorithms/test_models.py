"""The model core: acquisition functions, the GP's two kernels and its O(n^2) update,
the surrogate's refits and liars, the DNA encoder both ways, and `Unseen`."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats  # type: ignore[import-untyped]

import automorph as am
from automorph.algorithms import models
from automorph.geno import DNA
from automorph.testing import BitString
from automorph.utils import SearchSpaceError

# --- acquisition -----------------------------------------------------------------


def test_expected_improvement_matches_the_normal_integral() -> None:
    mean = np.array([0.0, 1.0, -2.0, 3.0])
    std = np.array([1.0, 0.5, 2.0, 0.1])
    got = models.expected_improvement(mean, std, 0.5)
    z = (mean - 0.5) / std
    expected = (mean - 0.5) * stats.norm.cdf(z) + std * stats.norm.pdf(z)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(np.exp(models.log_expected_improvement(mean, std, 0.5)), got)


def test_expected_improvement_of_a_certain_prediction_is_the_improvement() -> None:
    ei = models.expected_improvement(np.array([0.0, 1.0, 2.0]), np.array([1e-9, 1.0, 1e-9]), 1.0)
    assert ei[0] == pytest.approx(0.0, abs=1e-6) and ei[2] == pytest.approx(1.0)
    assert ei[1] == pytest.approx(1 / np.sqrt(2 * np.pi))


def test_log_expected_improvement_stays_finite_and_ordered_far_below() -> None:
    mean = -np.array([1.0, 5.0, 30.0, 1e3, 1e5, 1e7, 1e9])
    log_ei = models.log_expected_improvement(mean, np.ones_like(mean), 0.0)
    assert np.all(np.isfinite(log_ei))
    assert np.all(np.diff(log_ei) < 0)
    # The asymptote log phi(z) - 2 log|z| where the improvement itself underflows.
    z = mean[3]
    assert log_ei[3] == pytest.approx(-0.5 * z * z - 0.5 * math.log(2 * math.pi) - 2 * math.log(-z))
    assert models.expected_improvement(mean[3:4], np.ones(1), 0.0)[0] == 0.0


def test_upper_confidence_bound() -> None:
    ucb = models.upper_confidence_bound(np.array([1.0, 0.0]), np.array([0.5, 2.0]), kappa=1.0)
    assert ucb.tolist() == [1.5, 2.0]


# --- the GP ----------------------------------------------------------------------


def _matern_data() -> tuple[models.Matern52, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.random((20, 3))
    y, _, _ = models.standardize(np.sin(4 * x[:, 0]) + x[:, 2])
    return models.Matern52([slice(0, 1), slice(1, 3)]), x, y


def test_adding_a_point_in_quadratic_time_equals_refitting_the_posterior() -> None:
    kernel, x, y = _matern_data()
    theta = models.fit_hyperparameters(kernel, x[:15], y[:15], np.random.default_rng(0))
    grown = models.GaussianProcess(kernel, x[:15], y[:15], theta)
    for i in range(15, 20):
        grown.add(x[i], float(y[i]))
    full = models.GaussianProcess(kernel, x, y, theta)
    probe = np.random.default_rng(4).random((7, 3))
    for a, b in zip(grown.predict(probe), full.predict(probe), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


def test_a_precomputed_kernel_gives_the_posterior_of_the_same_feature_kernel() -> None:
    kernel, x, y = _matern_data()
    theta = models.fit_hyperparameters(kernel, x, y, np.random.default_rng(0))
    lengths, unit = theta[:2], np.array([0.0])  # the signal is applied by the GP
    precomputed = models.Precomputed(
        lambda a, b: kernel.matrix(lengths, 1.0, x[a], x[b]), lambda a: np.ones(len(a))
    )
    gp = models.GaussianProcess(precomputed, list(range(15)), y[:15], np.append(unit, theta[2:]))
    gp.add(15, float(y[15]))
    reference = models.GaussianProcess(kernel, x[:16], y[:16], theta)
    for a, b in zip(gp.predict([16, 17]), reference.predict(x[16:18]), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-7)


def test_the_fit_is_seeded_and_stays_in_bounds() -> None:
    kernel, x, y = _matern_data()
    first = models.fit_hyperparameters(kernel, x, y, np.random.default_rng(7), restarts=4)
    again = models.fit_hyperparameters(kernel, x, y, np.random.default_rng(7), restarts=4)
    assert np.array_equal(first, again)
    assert first.shape == (4,)
    assert math.log(0.01) <= first[:2].min() and first[:2].max() <= math.log(20.0)
    assert math.log(1e-6) <= first[-1] <= 0.0


# --- the surrogate -----------------------------------------------------------------


def test_the_surrogate_refits_only_at_refit_points_and_lies_at_the_worst_reward() -> None:
    surrogate = models.Surrogate(
        models.Matern52([slice(0, 1)]), width=1, seed=0, first_fit=3, refit_every=4
    )
    with pytest.raises(ValueError, match="fits from 3"):
        surrogate.fit()
    thetas = []
    for i, x in enumerate(np.linspace(0.0, 1.0, 9)):
        surrogate.add(np.array([x]), math.sin(5 * x))
        if i >= 2:
            thetas.append(surrogate.hyperparameters())
    # refit points 3 and 7: the same fit from 3 to 6 observations, a new one at 7
    assert all(np.array_equal(thetas[0], t) for t in thetas[:4])
    assert not np.array_equal(thetas[0], thetas[4])
    plain = surrogate.fit()
    lied = surrogate.fit(liars=np.array([[0.5]]))
    assert plain.lie == min(models.standardize(surrogate.rewards)[0])
    assert lied.gp.predict(np.array([[0.5]]))[0][0] < plain.gp.predict(np.array([[0.5]]))[0][0]


def test_reward_warps_keep_the_order_and_bound_the_worse_rewards() -> None:
    rewards = np.array([-1e6, -3.0, 0.0, 1.0, 2.0, 2.0, 5.0, -50.0])
    for kind in ("half_rank", "rank"):
        warped, warp = models.warp_rewards(rewards, kind)
        order = np.argsort(rewards, kind="stable")
        assert np.all(np.diff(warped[order]) >= 0.0)  # monotone
        assert warped[4] == warped[5]  # ties share a value
        assert warped.min() > -10.0 * np.std(warped[rewards >= np.median(rewards)])
        np.testing.assert_allclose(warp(rewards), warped)  # the map repeats the fit
    half, _ = models.warp_rewards(rewards, "half_rank")
    better = rewards >= np.median(rewards)
    np.testing.assert_array_equal(half[better], rewards[better])  # kept as they are
    assert np.all(half[~better] < rewards[better].min())
    full, _ = models.warp_rewards(rewards, "rank")
    # normal quantiles of the ranks: symmetric about 0
    assert abs(float(np.sort(full)[0] + np.sort(full)[-1])) < 1e-12
    same, _ = models.warp_rewards(rewards, "none")
    assert same is rewards
    with pytest.raises(ValueError, match="unknown reward warp 'log'"):
        models.warp_rewards(rewards, "log")
    with pytest.raises(ValueError, match="unknown reward warp 'log'"):
        models.Surrogate(models.Matern52([slice(0, 1)]), width=1, seed=0, warp="log")


def test_a_warped_surrogate_standardizes_any_reward_as_it_did_its_training_rewards() -> None:
    surrogate = models.Surrogate(
        models.Matern52([slice(0, 1)]), width=1, seed=0, first_fit=3, warp="half_rank"
    )
    for x in np.linspace(0.0, 1.0, 12):
        surrogate.add(np.array([x]), -math.expm1(8.0 * abs(x - 0.4)))
    fit = surrogate.fit()
    rewards = surrogate.rewards
    assert fit.top == pytest.approx(float(fit.standardized(rewards.max(keepdims=True))[0]))
    assert fit.lie == pytest.approx(float(fit.standardized(rewards.min(keepdims=True))[0]))
    # the worst reward is about -2980 but sits within a few spreads of the rest
    assert fit.lie > -4.0


def test_observations_predict_in_reward_units_and_list_the_best() -> None:
    spec = am.dna_spec(am.Dict(op=am.oneof(["a", "b", "c"]), x=am.floatv(0.0, 1.0)))
    encoder = models.DNAEncoder.for_kernel(spec)
    for predictor in ("gp", "linear"):
        obs = models.Observations(encoder.width, predictor, seed=0)  # type: ignore[arg-type]
        assert obs.model() is None
        rng = np.random.default_rng(0)
        for _ in range(12):
            dna = spec.random_dna(rng)
            obs.add(dna, 100.0 + 10.0 * dna["op"], encoder.encode(dna))
        model = obs.model()
        assert model is not None and model is obs.model()  # cached until the next reward
        mean, _ = model.predict(encoder.encode_all(obs.dnas))
        if predictor == "gp":  # interpolates
            np.testing.assert_allclose(mean, obs.rewards, atol=0.5)
        else:  # the ridge shrinks towards the mean
            assert np.corrcoef(mean, obs.rewards)[0, 1] > 0.95
        assert model.best == max(obs.rewards)
        assert obs.top(1)[0]["op"] == 2


# --- the encoder -------------------------------------------------------------------

MIXED = am.dna_spec(
    am.Dict(
        lr=am.floatv(1e-4, 1e-1, scale="log"),
        n=am.intv(0, 3),
        wide=am.intv(0, 100),
        ops=am.manyof(2, ["a", "b", "c"], distinct=True),
        block=am.oneof([am.Dict(width=am.intv(2, 6)), am.Dict(kind="pool")]),
    )
)


def test_the_layout_has_one_entry_per_decision_and_describes_its_columns() -> None:
    encoder = models.DNAEncoder(MIXED, one_hot_ints=4)
    ids = [e.decision_id for e in encoder.entries]
    assert ids == ["lr", "n", "wide", "ops[0]", "ops[1]", "block", "block[=0].width"]
    assert encoder.column_kinds == (
        ["float"] + ["one_hot"] * 4 + ["int"] + ["one_hot"] * 6 + ["one_hot"] * 2 + ["int"]
    )
    assert len(encoder.column_kinds) == encoder.width == 15
    low, high = encoder.bounds()
    assert low.tolist() == [0.0] * 15 and high.tolist() == [1.0] * 15
    assert encoder.entries[3].group == "ops" and encoder.entries[5].group == ""


def test_encoding_and_decoding_round_trip_and_decode_any_vector() -> None:
    encoder = models.DNAEncoder(MIXED, one_hot_ints=4)
    rng = np.random.default_rng(0)
    for _ in range(30):
        dna = MIXED.random_dna(rng)
        back = encoder.decode(encoder.encode(dna))
        assert back.keys() == dna.keys()
        assert all(back[k] == pytest.approx(dna[k], rel=1e-9) for k in dna)
        mask = encoder.active_mask(dna)
        assert (mask[encoder.entries[-1].columns] == 1.0).all() == ("block[=0].width" in dna)
    for _ in range(30):  # any point of the cube (and beyond) decodes to a valid DNA
        vector = rng.normal(0.5, 1.0, encoder.width)
        dna = encoder.decode(vector, rng)
        MIXED.validate(dna)
        assert dna["ops[0]"] != dna["ops[1]"]  # a distinct pick skips the taken candidate


def test_raw_rows_candidates_and_their_dna() -> None:
    encoder = models.DNAEncoder.for_kernel(MIXED)
    rng = np.random.default_rng(1)
    raw = encoder.random_raw(rng, 50)
    moved = encoder.perturb(raw, np.full(50, 0.1), rng)
    # one entry at least is changed or redrawn (a redrawn choice may come back the same)
    assert (moved != raw).any(axis=1).sum() >= 40
    for row in moved:
        MIXED.validate(encoder.raw_to_dna(row, rng))
    dna = MIXED.random_dna(rng)
    assert np.allclose(encoder.features(encoder.raw(dna)[None, :])[0], encoder.encode(dna))
    low, high = encoder.raw_bounds()
    assert high.tolist() == [1.0, 1.0, 1.0, 3.0, 3.0, 2.0, 1.0]
    assert [e.kind for e in encoder.entries] == ["float", "int", "int"] + ["choice"] * 3 + ["int"]
    for _ in range(20):  # any point of the box, its edges and beyond included
        MIXED.validate(encoder.raw_to_dna(rng.uniform(low - 0.5, high + 0.5), rng))


def test_custom_decisions_are_refused_or_skipped() -> None:
    spec = am.dna_spec(am.Dict(bits=am.custom(BitString(length=3)), k=am.intv(0, 3)))
    with pytest.raises(SearchSpaceError, match=r"NASX .* custom decision 'bits'"):
        models.DNAEncoder(spec, who="NASX")
    encoder = models.DNAEncoder(spec, custom="skip")
    assert [e.decision_id for e in encoder.entries] == ["k"]
    dna = encoder.decode(np.array([1.0]), np.random.default_rng(0))
    assert dna["k"] == 3 and "bits" in dna


def test_number_decisions_map_to_the_unit_interval_and_to_bins() -> None:
    log = am.geno.Float(min_value=1e-3, max_value=1e3, scale="log")
    assert models.to_unit(log, 1.0) == pytest.approx(0.5)
    assert models.from_unit(log, 0.0) == 1e-3 and models.from_unit(log, 2.0) == 1e3
    assert models.from_unit(log, math.nan) == pytest.approx(1.0)
    wide = am.geno.Int(min_value=0, max_value=99)
    assert models.num_options(wide, 10) == 10
    rng = np.random.default_rng(0)
    for option in range(10):
        value = models.value_of(wide, option, 10, rng)
        assert models.option_of(wide, value, 10) == option


# --- Unseen ------------------------------------------------------------------------


def test_unseen_draws_until_new_and_says_when_it_found_none() -> None:
    spec = am.dna_spec(am.Dict(x=am.oneof([0, 1, 2])))
    seen = models.Unseen()
    rng = np.random.default_rng(0)
    for _ in range(3):
        dna, new = seen.draw(lambda: spec.random_dna(rng), 100)
        assert new
        seen.add(dna)
    dna, new = seen.draw(lambda: spec.random_dna(rng), 5)
    assert not new and dna in seen
    assert seen.fresh([DNA({"x": 0}), DNA({"x": 0})]) == []


# --- the linear-quadratic surrogate of lq-CMA-ES -------------------------------------------


def test_the_quadratic_model_grows_its_form_with_the_data_and_finds_a_quadratic_minimum() -> None:
    rng = np.random.default_rng(0)
    hessian = np.array([[4.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
    optimum = np.array([0.2, -0.4, 0.7])

    def f(x: np.ndarray) -> float:
        return float((x - optimum) @ hessian @ (x - optimum)) + 3.0

    model = models.QuadraticModel(3)
    kinds = []
    for x in rng.uniform(-1.0, 1.0, (40, 3)):
        model.add(x, f(x))
        kinds.append(model.kind)
    # 4, 7 and 10 parameters, each used from 1.1 * parameters / 0.75 data
    assert kinds.index("diagonal") + 1 == 11 and kinds.index("full") + 1 == 15, kinds
    assert np.allclose(model.minimizer(), optimum, atol=1e-8)
    test = rng.uniform(-1.0, 1.0, (5, 3))
    assert np.allclose(model.predict(test), [f(x) for x in test])
    assert model.kendall_tau(20) == pytest.approx(1.0)
    # no minimum: a saddle, and a linear model
    saddle = models.QuadraticModel(2)
    for x in rng.uniform(-1.0, 1.0, (20, 2)):
        saddle.add(x, float(x[0] ** 2 - x[1] ** 2))
    assert saddle.kind == "full" and saddle.minimizer() is None
    linear = models.QuadraticModel(3)
    for x in rng.uniform(-1.0, 1.0, (4, 3)):
        linear.add(x, float(x.sum()))
    assert linear.kind == "linear" and linear.minimizer() is None
    # a plane in a box: the corner down its slope once the form is quadratic
    plane = models.QuadraticModel(3)
    for x in rng.uniform(-1.0, 1.0, (30, 3)):
        plane.add(x, float(2.0 * x[0] - x[1] + 0.5 * x[2]))
    low, high = np.zeros(3), np.ones(3)
    assert plane.kind == "full" and plane.minimizer() is None
    assert plane.minimizer(low, high).tolist() == [0.0, 1.0, 0.0]
    assert saddle.minimizer(np.zeros(2), np.ones(2)) is None  # curved: no corner


def test_the_quadratic_model_keeps_the_latest_data_and_refuses_bad_ones() -> None:
    model = models.QuadraticModel(2, min_size=5)
    assert model.max_size == 12  # twice the 6 parameters of the full form
    for i in range(30):
        model.add(np.array([i, -i], dtype=float), float(i))
    assert len(model) == 12
    assert model.predict(np.zeros((2, 2))).shape == (2,)
    with pytest.raises(ValueError, match="shape"):
        model.add(np.zeros(3), 1.0)
    with pytest.raises(ValueError, match="not finite"):
        model.add(np.zeros(2), float("nan"))
    with pytest.raises(ValueError, match="dim"):
        models.QuadraticModel(0)
    model.reset()
    assert len(model) == 0 and model.minimizer() is None
    assert model.predict(np.zeros((1, 2))).tolist() == [0.0]
