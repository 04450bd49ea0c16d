"""GP-BO: the contract, the model core's GP and encoding as GP-BO uses them, bounded cost,
search quality, errors."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import automorph as am
from automorph import algorithms
from automorph.algorithms import models
from automorph.algorithms._gp_bo import INACTIVE
from automorph.algorithms.models import _surrogate
from automorph.geno import DNA
from automorph.testing import BitString, check_algorithm, contract_spaces
from automorph.utils import AutomorphError, SearchSpaceError

SMALL: dict[str, Any] = {"num_candidates": 100, "num_local": 50, "restarts": 2}


def _search(
    algorithm: algorithms.SearchAlgorithm,
    spec: am.DNASpec,
    reward: Callable[[DNA], float],
    steps: int,
) -> tuple[list[DNA], list[float]]:
    algorithm.setup(spec)
    proposals: list[DNA] = []
    rewards: list[float] = []
    for _ in range(steps):
        dna = algorithm.propose()
        spec.validate(dna)
        value = reward(dna)
        algorithm.feedback(dna, value)
        proposals.append(dna)
        rewards.append(value)
    return proposals, rewards


def test_gp_bo_passes_the_contract_across_frequent_refits() -> None:
    # Every registered algorithm, with its defaults, runs the whole suite in
    # test_contract.py; this adds refits every 3 rewards, so `recover` must
    # rebuild hyper-parameters fitted at many points of the history.
    spaces = {name: contract_spaces()[name] for name in ("conditional", "numeric")}
    check_algorithm(
        lambda seed: algorithms.GPBO(seed=seed, num_initial=4, refit_every=3, **SMALL), spaces
    )


def test_gp_bo_is_registered() -> None:
    assert "gp_bo" in algorithms.names()
    created = algorithms.create("gp_bo", max_train=50)
    assert isinstance(created, algorithms.GPBO) and created.max_train == 50


# --- the GP ------------------------------------------------------------------------


def test_the_marginal_likelihood_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((25, 4))
    y = np.sin(3 * x[:, 0]) + x[:, 1] ** 2
    y = (y - y.mean()) / y.std()
    kernel = models.Matern52([slice(0, 1), slice(1, 2), slice(2, 4)])
    terms = kernel.fit_terms(x)
    theta = np.array([-0.5, 0.2, -1.0, 0.3, -4.0])
    _, grad = models.neg_log_posterior(theta, terms, y)
    numeric = []
    for i in range(len(theta)):
        step = np.zeros_like(theta)
        step[i] = 1e-6
        up, _ = models.neg_log_posterior(theta + step, terms, y)
        down, _ = models.neg_log_posterior(theta - step, terms, y)
        numeric.append((up - down) / 2e-6)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-6)


def test_the_fitted_gp_interpolates_and_finds_the_irrelevant_input() -> None:
    rng = np.random.default_rng(1)
    x = rng.random((30, 2))
    y = np.sin(6 * x[:, 0])  # the second column does not matter
    y = (y - y.mean()) / y.std()
    kernel = models.Matern52([slice(0, 1), slice(1, 2)])
    theta = models.fit_hyperparameters(kernel, x, y, np.random.default_rng(0))
    assert theta[1] > theta[0] + 1.0, theta  # a longer length scale for the irrelevant input
    mean, std = models.GaussianProcess(kernel, x, y, theta).predict(x[:5])
    np.testing.assert_allclose(mean, y[:5], atol=0.05)
    assert np.all(std < 0.1)


def test_log_expected_improvement_matches_the_closed_form_and_stays_finite_far_below() -> None:
    mean = np.array([0.0, 1.0, -2.0, -40.0])
    std = np.array([1.0, 0.5, 2.0, 1.0])
    got = models.log_expected_improvement(mean, std, best=0.5)
    for m, s, g in zip(mean[:3], std[:3], got[:3], strict=True):
        z = (m - 0.5) / s
        cdf = 0.5 * math.erfc(-z / math.sqrt(2.0))
        pdf = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
        assert g == pytest.approx(math.log(s * (z * cdf + pdf)), rel=1e-9)
    assert np.isfinite(got[3]) and got[3] < got[2]


# --- the encoding ------------------------------------------------------------------


def test_the_encoding_scales_numbers_one_hots_choices_and_marks_inactive_decisions() -> None:
    spec = am.dna_spec(
        am.Dict(
            lr=am.floatv(1e-4, 1e-1, scale="log"),
            block=am.oneof([am.Dict(width=am.intv(2, 6)), am.Dict(kind="pool")]),
        )
    )
    encoding = models.DNAEncoder.for_kernel(spec, custom="skip")
    assert [e.decision_id for e in encoding.entries] == ["lr", "block", "block[=0].width"]
    assert encoding.width == 4
    active = encoding.features(
        encoding.raw(DNA({"lr": 1e-2, "block": 0, "block[=0].width": 3}))[None, :]
    )
    inactive = encoding.features(encoding.raw(DNA({"lr": 1e-4, "block": 1}))[None, :])
    np.testing.assert_allclose(active[0], [2 / 3, 1 / math.sqrt(2), 0.0, 0.25])
    np.testing.assert_allclose(inactive[0], [0.0, 0.0, 1 / math.sqrt(2), INACTIVE])


def test_raw_rows_turn_back_into_the_same_dna() -> None:
    spec = am.dna_spec(
        am.Dict(
            lr=am.floatv(1e-4, 1e-1, scale="log"),
            n=am.intv(-3, 3),
            block=am.oneof([am.Dict(width=am.intv(2, 6)), am.Dict(kind="pool")]),
        )
    )
    encoding = models.DNAEncoder.for_kernel(spec, custom="skip")
    rng = np.random.default_rng(0)
    for _ in range(20):
        dna = spec.random_dna(rng)
        back = encoding.raw_to_dna(encoding.raw(dna), rng)
        assert back.keys() == dna.keys()
        assert back["n"] == dna["n"] and back["block"] == dna["block"]
        assert back["lr"] == pytest.approx(dna["lr"], rel=1e-12)


# --- bounded cost ------------------------------------------------------------------


def test_the_training_set_is_capped_to_the_best_half_and_the_most_recent() -> None:
    rewards = np.array([5.0, 9.0, 1.0, 8.0, 2.0, 7.0, 3.0, 6.0, 4.0, 0.5, 0.1, 0.2, 0.3, 0.4])
    chosen = models.training_indices(rewards, 10)
    assert chosen.tolist() == [0, 1, 3, 5, 7, 9, 10, 11, 12, 13]  # best 5 + 5 most recent


def test_hyperparameters_are_refitted_only_every_refit_every_rewards(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    real = models.fit_hyperparameters

    def counting(kernel: Any, x: Any, y: Any, rng: Any, *options: Any) -> Any:
        calls.append(len(y))
        return real(kernel, x, y, rng, *options)

    monkeypatch.setattr(_surrogate, "fit_hyperparameters", counting)
    spec = am.dna_spec(am.Dict(x=am.floatv(0.0, 1.0)))
    algorithm = algorithms.GPBO(
        seed=0, num_initial=4, refit_every=5, max_train=12, fit_size=8, **SMALL
    )
    _search(algorithm, spec, lambda dna: -abs(dna["x"] - 0.3), 30)
    # refits at 4, 9, 14, 19, 24, 29 rewards, each on at most fit_size observations
    assert calls == [4, 8, 8, 8, 8, 8]


# --- search --------------------------------------------------------------------------


def test_gp_bo_beats_random_search_on_branin() -> None:
    spec = am.dna_spec(am.Dict(x0=am.floatv(-5.0, 10.0), x1=am.floatv(0.0, 15.0)))
    optimum = -0.39788735772973816

    def reward(dna: DNA) -> float:  # minus Branin
        x1, x2 = dna["x0"], dna["x1"]
        b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
        return -((x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10)

    gp, rnd = [], []
    for seed in range(3):
        gp.append(max(_search(algorithms.GPBO(seed=seed, **SMALL), spec, reward, 30)[1]))
        rnd.append(max(_search(algorithms.Random(seed=seed), spec, reward, 30)[1]))
    assert min(gp) > max(rnd), (gp, rnd)
    assert optimum - np.mean(gp) < 0.1, gp


def test_the_half_rank_warp_finds_the_optimum_of_a_steep_objective() -> None:
    """Rewards that fall exponentially with the distance to the optimum: without
    a warp the far, very bad rewards flatten the standardized model near the
    optimum; with "half_rank" every seed ends closer."""
    spec = am.dna_spec(am.Dict(x=am.floatv(0.0, 1.0), y=am.floatv(0.0, 1.0), z=am.floatv(0.0, 1.0)))

    def steep(dna: DNA) -> float:
        distance = math.sqrt((dna["x"] - 0.3) ** 2 + (dna["y"] - 0.6) ** 2 + (dna["z"] - 0.45) ** 2)
        return -math.expm1(12.0 * distance)

    regrets: dict[str, list[float]] = {}
    for warp in ("none", "half_rank"):
        for seed in range(4):
            algorithm = algorithms.GPBO(
                seed=seed, warp=warp, num_initial=8, num_candidates=200, num_local=100
            )
            _, rewards = _search(algorithm, spec, steep, 30)
            regrets.setdefault(warp, []).append(-max(rewards))
    assert all(w < n for w, n in zip(regrets["half_rank"], regrets["none"], strict=True)), regrets
    assert sum(regrets["half_rank"]) < 0.3 * sum(regrets["none"]), regrets


def test_gp_bo_searches_a_mixed_conditional_space() -> None:
    spec = am.dna_spec(
        am.Dict(
            lr=am.floatv(1e-4, 1.0, scale="log"),
            layers=am.intv(1, 8),
            block=am.oneof(
                [am.Dict(width=am.intv(1, 16)), am.Dict(rate=am.floatv(0.0, 1.0)), am.Dict()]
            ),
        )
    )

    def reward(dna: DNA) -> float:
        value = -abs(math.log10(dna["lr"]) + 2.0) - 0.2 * abs(dna["layers"] - 3)
        if dna["block"] == 1:
            return value - abs(dna["block[=1].rate"] - 0.7)
        return value - 1.0

    proposals, rewards = _search(algorithms.GPBO(seed=2, **SMALL), spec, reward, 40)
    late = proposals[-15:]
    assert sum(dna["block"] == 1 for dna in late) >= 10
    assert max(rewards) > -0.3, max(rewards)


def test_gp_bo_does_not_repeat_points_of_a_finite_space() -> None:
    spec = am.dna_spec(am.Dict(a=am.oneof([0, 1, 2, 3]), b=am.oneof([0, 1, 2])))
    proposals, _ = _search(
        algorithms.GPBO(seed=0, num_initial=3, **SMALL),
        spec,
        lambda dna: float(dna["a"] * dna["b"]),
        12,
    )
    late = proposals[3:]
    assert len(set(late)) == len(late)


def test_gp_bo_does_not_propose_pending_points_again() -> None:
    spec = am.dna_spec(am.Dict(a=am.oneof([0, 1, 2]), b=am.oneof([0, 1])))
    algorithm = algorithms.GPBO(seed=0, num_initial=2, **SMALL)
    algorithm.setup(spec)
    rewarded = [spec.random_dna(np.random.default_rng(i)) for i in range(2)]
    for dna in rewarded:
        algorithm.feedback(dna, float(dna["a"]))
    pending = [algorithm.propose() for _ in range(6 - len(set(rewarded)))]
    assert len(set(pending) | set(rewarded)) == 6


def test_gp_bo_takes_infinite_rewards() -> None:
    spec = am.dna_spec(am.Dict(x=am.floatv(0.0, 1.0)))

    def reward(dna: DNA) -> float:
        return -math.inf if dna["x"] > 0.8 else -((dna["x"] - 0.5) ** 2)

    _, rewards = _search(algorithms.GPBO(seed=0, num_initial=3, **SMALL), spec, reward, 12)
    assert max(rewards) > -0.01


def test_custom_decisions_are_drawn_at_random() -> None:
    spec = am.dna_spec(am.Dict(bits=am.custom(BitString(length=3)), k=am.intv(0, 3)))
    proposals, _ = _search(
        algorithms.GPBO(seed=0, num_initial=3, **SMALL), spec, lambda dna: float(dna["k"]), 10
    )
    assert len({dna["bits"] for dna in proposals}) > 1


# --- errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"num_initial": 1}, r"out of bounds \[2, None\] at `num_initial`"),
        ({"num_candidates": 0}, r"out of bounds \[1, None\] at `num_candidates`"),
        ({"num_local": -1}, r"out of bounds \[0, None\] at `num_local`"),
        ({"refit_every": 0}, r"out of bounds \[1, None\] at `refit_every`"),
        ({"restarts": 0}, r"out of bounds \[1, None\] at `restarts`"),
        ({"fit_size": 1}, r"out of bounds \[2, None\] at `fit_size`"),
        ({"xi": -0.1}, r"out of bounds \[0.0, None\] at `xi`"),
        ({"max_train": 5}, r"`max_train` \(5\) must be at least `num_initial` \(10\)"),
        ({"warp": "log"}, r"expected one of \['none', 'half_rank', 'rank'\].*at `warp`"),
    ],
)
def test_gp_bo_refuses_bad_fields(fields: dict[str, float], match: str) -> None:
    with pytest.raises(AutomorphError, match=match):
        algorithms.GPBO(**fields)  # type: ignore[arg-type]


def test_gp_bo_refuses_a_space_without_numbers_or_choices() -> None:
    spec = am.dna_spec(am.Dict(bits=am.custom(BitString(length=3))))
    with pytest.raises(SearchSpaceError, match="GPBO models Float, Int and Choices decisions"):
        algorithms.GPBO(seed=0).setup(spec)
