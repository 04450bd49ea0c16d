"""REINFORCE and PPO controllers: contract, exact recovery, exact probabilities, learning."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

import automorph as am
from automorph import algorithms
from automorph.algorithms._controllers import _Controller
from automorph.algorithms._policies import Encoding, _pick_mask
from automorph.algorithms.models import num_options, zero_grads
from automorph.geno import Choices, Float, Int
from automorph.testing import check_algorithm, contract_spaces, run
from automorph.utils import AutomorphError, FieldValueError

Make = Callable[[int], _Controller]

VARIANTS: dict[str, Make] = {
    "reinforce-autoregressive": lambda s: algorithms.REINFORCE(
        seed=s, policy="autoregressive", hidden_size=8, batch_size=2
    ),
    "ppo-autoregressive": lambda s: algorithms.PPO(
        seed=s, policy="autoregressive", hidden_size=8, batch_size=4, epochs=2
    ),
    "ppo-independent": lambda s: algorithms.PPO(seed=s, batch_size=3),
    "reinforce-memory": lambda s: algorithms.REINFORCE(
        seed=s, policy="autoregressive", hidden_size=8, batch_size=2, memory_size=6, memory_batch=3
    ),
    "reinforce-std-no-dedup": lambda s: algorithms.REINFORCE(
        seed=s, reward_normalization="std", dedup=False, entropy_weight=0.01
    ),
}


def _nested_space() -> am.DNASpec:
    """Choices only, with conditional sub-decisions and picks of several."""
    return am.dna_spec(
        am.Dict(
            block=am.oneof([am.Dict(k=am.oneof([1, 2, 3])), "pool", am.Dict(d=am.intv(0, 2))]),
            ops=am.manyof(2, ["a", "b", "c", "d"], distinct=True, sorted=True),
            order=am.manyof(2, [0, 1, 2], distinct=False),
            perm=am.manyof(2, ["x", "y", "z"], distinct=True),
        )
    )


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_variant_passes_the_contract(variant: str) -> None:
    check_algorithm(VARIANTS[variant])


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_recover_rebuilds_the_weights_bit_for_bit(variant: str) -> None:
    spec = contract_spaces()["conditional"]
    live = VARIANTS[variant](4)
    live.setup(spec)
    history = run(live, spec, 25, lag=2)
    revived = VARIANTS[variant](4)
    revived.setup(spec)
    revived.recover(history)
    assert live.num_updates > 0
    assert revived.num_updates == live.num_updates
    assert revived.baseline == live.baseline
    for name, value in live.weights.items():
        assert revived.weights[name].tobytes() == value.tobytes(), name
    assert live.weights["logits" if live.policy == "independent" else "lstm.w"].any()


@pytest.mark.parametrize("policy", ["independent", "autoregressive"])
def test_probabilities_of_all_dna_sum_to_one(policy: str) -> None:
    spec = _nested_space()
    search = algorithms.REINFORCE(seed=1, policy=policy, hidden_size=6, learning_rate=0.3)
    search.setup(spec)
    run(search, spec, 15)  # trained, so not uniform
    probs = [math.exp(search.log_prob(dna)) for dna in spec.iter_dna()]
    assert sum(probs) == pytest.approx(1.0, abs=1e-9)
    assert max(probs) > 2.0 * min(probs)


def test_sampling_frequencies_follow_the_policy() -> None:
    spec = am.dna_spec(am.Dict(a=am.oneof([0, 1, 2]), b=am.manyof(2, [0, 1, 2], sorted=True)))
    search = algorithms.REINFORCE(seed=2, policy="autoregressive", hidden_size=6, dedup=False)
    search.setup(spec)
    run(search, spec, 20)
    counts: dict[am.DNA, int] = {}
    n = 3000
    for _ in range(n):
        dna = search.propose()
        counts[dna] = counts.get(dna, 0) + 1
    for dna in spec.iter_dna():
        p = math.exp(search.log_prob(dna))
        assert abs(counts.get(dna, 0) / n - p) < 4 * math.sqrt(p * (1 - p) / n) + 1e-3


def test_pick_masks_keep_sorted_and_distinct_picks_possible() -> None:
    sorted_distinct = Choices(candidates=[am.DNASpec()] * 5, num_choices=3, sorted=True)
    assert _pick_mask(sorted_distinct, 0, []).tolist() == [True, True, True, False, False]
    assert _pick_mask(sorted_distinct, 1, [1]).tolist() == [False, False, True, True, False]
    sorted_repeat = Choices(
        candidates=[am.DNASpec()] * 3, num_choices=2, sorted=True, distinct=False
    )
    assert _pick_mask(sorted_repeat, 1, [1]).tolist() == [False, True, True]
    unsorted = Choices(candidates=[am.DNASpec()] * 3, num_choices=2)
    assert _pick_mask(unsorted, 1, [2]).tolist() == [True, True, False]


def test_numbers_are_discretised_into_bins_that_round_trip() -> None:
    spec = am.dna_spec(
        am.Dict(
            x=am.floatv(1e-4, 1.0, scale="log"),
            y=am.floatv(-1.0, 1.0),
            n=am.intv(0, 100),
            m=am.intv(3, 5),
        )
    )
    encoding = Encoding(spec, num_bins=8)
    points = {p.location: p for p in spec.decision_points()}
    assert encoding.sizes == [8, 8, 8, 3]
    rng = np.random.default_rng(0)
    for point in points.values():
        assert isinstance(point, (Float, Int))
        for option in range(num_options(point, 8)):
            for _ in range(5):
                value = encoding.value_of(point, option, rng)
                assert point.min_value <= value <= point.max_value
                assert encoding.option_of(point, value) == option
    # every value of a wide int falls in some bin, and every bin holds values
    wide = points["n"]
    assert sorted({encoding.option_of(wide, v) for v in range(101)}) == list(range(8))


@pytest.mark.parametrize("cls", [algorithms.REINFORCE, algorithms.PPO])
@pytest.mark.parametrize("policy", ["independent", "autoregressive"])
def test_controllers_learn_to_prefer_high_rewards(cls: type[_Controller], policy: str) -> None:
    spec = am.dna_spec(am.List([am.oneof(range(4)) for _ in range(4)]))
    search = cls(seed=0, policy=policy, hidden_size=16, dedup=False)
    search.setup(spec)
    best = am.DNA({f"[{i}]": 3 for i in range(4)})
    before = search.log_prob(best)
    for _ in range(120):
        dna = search.propose()
        search.feedback(dna, float(sum(dna.to_numbers())))
    assert search.log_prob(best) > before + 1.0
    assert before == pytest.approx(4 * math.log(0.25), abs=0.2)


def test_rank_normalisation_makes_the_search_invariant_to_the_reward_scale() -> None:
    spec = contract_spaces()["choices"]

    def proposals(scale: float) -> list[am.DNA]:
        search = algorithms.PPO(seed=3, batch_size=4)
        search.setup(spec)
        out = []
        for _ in range(30):
            dna = search.propose()
            search.feedback(dna, scale * sum(dna.to_numbers()) + 7.0)
            out.append(dna)
        return out

    assert proposals(1.0) == proposals(1000.0)


def test_dedup_avoids_repeating_proposals() -> None:
    spec = am.dna_spec(am.List([am.oneof(range(3)) for _ in range(3)]))

    def distinct(dedup: bool) -> int:
        search = algorithms.REINFORCE(seed=0, learning_rate=0.3, dedup=dedup)
        search.setup(spec)
        seen = []
        for _ in range(27):
            dna = search.propose()
            search.feedback(dna, float(dna.to_numbers()[0]))
            seen.append(dna)
        return len(set(seen))

    assert distinct(True) >= distinct(False) + 5


def test_memory_gradient_matches_numerical_gradient() -> None:
    spec = _nested_space()
    search = algorithms.REINFORCE(
        seed=5, policy="autoregressive", hidden_size=4, memory_size=3, memory_batch=3
    )
    search.setup(spec)
    run(search, spec, 3)
    params = search._params
    grads = zero_grads(params)
    search._memory_grads(grads)

    def loss() -> float:
        total = 0.0
        for steps in search._memory:
            policy = search._policy
            episode = policy.run(params, steps)
            h = policy.final_state(params, episode)  # type: ignore[attr-defined]
            full, _ = search._decoder.forward(params, h)
            for step in steps:
                enc = search._encoding
                part = full[enc.offsets[step.slot] : enc.offsets[step.slot + 1]]
                log_p = np.log(np.exp(part - part.max()) / np.exp(part - part.max()).sum())
                total -= log_p[step.option] if step.mask is None else _masked(part, step)
        return total / 3

    eps = 1e-6
    for name in ("decoder.w", "lstm.w", "tokens.w"):
        value = params[name]
        for index in list(np.ndindex(value.shape))[:: max(1, value.size // 12)]:
            saved = value[index]
            value[index] = saved + eps
            up = loss()
            value[index] = saved - eps
            down = loss()
            value[index] = saved
            assert grads[name][index] == pytest.approx((up - down) / (2 * eps), abs=1e-6), name
    assert np.abs(grads["lstm.w"]).sum() > 0.0


def _masked(part: np.ndarray, step: object) -> float:
    mask = step.mask  # type: ignore[attr-defined]
    kept = np.where(mask, part, -np.inf)
    log_p = kept - kept.max() - np.log(np.exp(kept - kept.max()).sum())
    return float(log_p[step.option])  # type: ignore[attr-defined]


def test_memory_training_makes_the_hidden_state_reconstructible() -> None:
    spec = am.dna_spec(am.List([am.oneof(range(3)) for _ in range(4)]))

    def accuracy(memory_size: int) -> float:
        search = algorithms.REINFORCE(
            seed=0,
            policy="autoregressive",
            hidden_size=12,
            memory_size=memory_size,
            memory_batch=16,
            memory_weight=3.0,
        )
        search.setup(spec)
        run(search, spec, 60)
        if not memory_size:
            return 0.0
        hits = 0
        for dna in spec.iter_dna():
            full, _ = search._decoder.forward(search._params, search.hidden_state(dna))
            guess = [int(np.argmax(full[3 * i : 3 * i + 3])) for i in range(4)]
            hits += guess == dna.to_numbers()
        return hits / 81

    assert accuracy(30) > 0.3  # chance: 1/81


def test_hidden_state_is_a_vector_of_the_hidden_size() -> None:
    spec = contract_spaces()["conditional"]
    search = algorithms.PPO(seed=0, policy="autoregressive", hidden_size=5)
    search.setup(spec)
    dna = search.propose()
    assert search.hidden_state(dna).shape == (5,)
    independent = algorithms.PPO(seed=0)
    independent.setup(spec)
    with pytest.raises(AutomorphError, match="hidden_state needs policy='autoregressive'"):
        independent.hidden_state(dna)


def test_registered_by_name_and_serializable() -> None:
    search = algorithms.create("ppo", seed=1, policy="autoregressive", clip=0.3)
    assert isinstance(search, algorithms.PPO)
    assert am.from_json(search.to_json()) == search
    assert isinstance(algorithms.create("reinforce"), algorithms.REINFORCE)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: algorithms.REINFORCE(learning_rate=0.0), r"`learning_rate` \(0.0\) must be"),
        (lambda: algorithms.REINFORCE(baseline_decay=1.0), r"`baseline_decay` \(1.0\) must be"),
        (lambda: algorithms.PPO(clip=0.0), r"`clip` \(0.0\) must be in \(0, 1\)"),
        (lambda: algorithms.REINFORCE(memory_size=5), r"`memory_size` \(5\) needs policy="),
        (lambda: algorithms.PPO(batch_size=0), "batch_size"),
        (lambda: algorithms.REINFORCE(num_bins=1), "num_bins"),
        (lambda: algorithms.REINFORCE(policy="lstm"), "policy"),  # type: ignore[arg-type]
        (lambda: algorithms.PPO(reward_normalization="z"), "reward_normalization"),  # type: ignore[arg-type]
    ],
)
def test_bad_hyper_parameters_are_refused(make: Callable[[], object], match: str) -> None:
    with pytest.raises((FieldValueError, ValueError, TypeError), match=match):
        make()
