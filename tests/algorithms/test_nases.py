"""NASES: the contract, pre-training (accuracy, determinism, cache), search, errors."""

from __future__ import annotations

import numpy as np
import pytest

import automorph as am
from automorph import algorithms
from automorph.algorithms.models import pretrained
from automorph.geno import DNA
from automorph.testing import check_algorithm, contract_spaces
from automorph.utils import FieldValueError, SearchSpaceError

# The shape of the NAS-Bench-201 cell space: six edges, five operations each.
CELLS = am.dna_spec(am.List([am.oneof(["a", "b", "c", "d", "e"]) for _ in range(6)]))
# The settings of test_pretraining_reconstructs_cells, so the tests share one pre-training.
PRETRAINED = {
    "latent_dim": 8,
    "hidden": 64,
    "pretrain_samples": 2048,
    "pretrain_steps": 1500,
    "pretrain_seed": 0,
}
SMALL = {"latent_dim": 4, "hidden": 32, "pretrain_samples": 256, "pretrain_steps": 300}


def _spaces() -> dict[str, am.DNASpec]:
    spaces = contract_spaces()
    del spaces["custom"]  # refused: see test_nases_refuses_custom_decisions
    return spaces


@pytest.mark.parametrize("policy", ["bo", "rl"])
def test_nases_passes_the_contract(policy: str) -> None:
    check_algorithm(
        lambda seed: algorithms.NASES(
            seed=seed,
            policy=policy,  # type: ignore[arg-type]
            num_initial=4,
            num_candidates=40,
            pretrain_seed=0,
            **SMALL,  # type: ignore[arg-type]
        ),
        _spaces(),
    )


def test_nases_registered_by_name() -> None:
    assert isinstance(algorithms.create("nases", policy="rl"), algorithms.NASES)


def test_pretraining_reconstructs_cells() -> None:
    model = pretrained(CELLS, 0, latent_dim=8, hidden=64, samples=2048, steps=1500)
    assert model.reconstruction_accuracy(samples=500, seed=3) >= 0.95
    codes = model.encode([CELLS.random_dna(np.random.default_rng(0))])
    assert codes.shape == (1, 8) and np.all(np.abs(codes) <= 1.0)


def test_pretraining_is_deterministic_and_cached() -> None:
    a = algorithms.DNAAutoencoder(CELLS, latent_dim=4, seed=5)
    b = algorithms.DNAAutoencoder(CELLS, latent_dim=4, seed=5)
    c = algorithms.DNAAutoencoder(CELLS, latent_dim=4, seed=6)
    for model in (a, b, c):
        model.pretrain(samples=128, steps=50)
    assert a.params.keys() == b.params.keys()
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert not np.array_equal(a.params["enc1.w"], c.params["enc1.w"])
    first = pretrained(CELLS, 9, 4, 16, 64, 20)
    assert pretrained(CELLS, 9, 4, 16, 64, 20) is first
    assert pretrained(CELLS, 10, 4, 16, 64, 20) is not first


def test_nases_decodes_every_proposal_into_a_new_valid_dna() -> None:
    spec = am.dna_spec(am.List([am.oneof([0, 1, 2]) for _ in range(4)]))  # 81 DNA
    for policy in ("bo", "rl"):
        search = algorithms.NASES(seed=1, policy=policy, num_initial=5, **SMALL)  # type: ignore[arg-type]
        search.setup(spec)
        seen = set()
        for _ in range(60):
            dna = search.propose()
            spec.validate(dna)
            seen.add(dna)
            search.feedback(dna, float(sum(dna.values())))
        assert len(seen) == 60, policy


def _additive(dna: DNA) -> float:
    weights = np.array([[0.0, 1.0, 3.0, 2.0, 0.5]] * 6) * np.arange(1, 7)[:, None]
    return float(sum(weights[i, dna[f"[{i}]"]] for i in range(6)))


@pytest.mark.parametrize("policy", ["bo", "rl"])
def test_nases_beats_random_search_on_an_additive_space(policy: str) -> None:
    def best(search: algorithms.SearchAlgorithm) -> float:
        search.setup(CELLS)
        top = -np.inf
        for _ in range(50):
            dna = search.propose()
            value = _additive(dna)
            search.feedback(dna, value)
            top = max(top, value)
        return float(top)

    nases = [best(algorithms.NASES(seed=s, policy=policy, **PRETRAINED)) for s in range(4)]  # type: ignore[arg-type]
    rnd = [best(algorithms.Random(seed=s)) for s in range(4)]
    assert np.mean(nases) > np.mean(rnd), (nases, rnd)


def test_nases_rl_policy_moves_towards_rewarded_codes() -> None:
    target = DNA({f"[{i}]": 2 for i in range(6)})
    closer, early, late = [], [], []
    for seed in range(3):
        search = algorithms.NASES(seed=seed, policy="rl", num_initial=1, **PRETRAINED)  # type: ignore[arg-type]
        search.setup(CELLS)
        goal = search.autoencoder.encode([target])[0]
        start = np.linalg.norm(search.policy_mean - goal)
        misses = []
        for _ in range(40):
            dna = search.propose()
            misses.append(sum(dna[k] != target[k] for k in dna))
            search.feedback(dna, -float(misses[-1]))
        closer.append(np.linalg.norm(search.policy_mean - goal) < start)
        early.append(np.mean(misses[:10]))
        late.append(np.mean(misses[-10:]))
    assert all(closer)
    assert np.mean(late) < np.mean(early) - 0.5, (early, late)


def test_nases_refuses_custom_decisions() -> None:
    search = algorithms.NASES(seed=0, **SMALL)  # type: ignore[arg-type]
    with pytest.raises(SearchSpaceError, match=r"NASES .* custom decision 'bits'"):
        search.setup(contract_spaces()["custom"])


def test_nases_refuses_bad_settings() -> None:
    with pytest.raises(FieldValueError, match="step_size"):
        algorithms.NASES(step_size=0.0)
    with pytest.raises(FieldValueError, match="policy"):
        algorithms.NASES(policy="evolve")  # type: ignore[arg-type]
    with pytest.raises(FieldValueError, match="latent_dim"):
        algorithms.NASES(latent_dim=0)
