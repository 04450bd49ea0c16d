"""`algorithms.Auto`: its choice per kind of space and budget, its delegation,
and its use as the default algorithm of `am.tune` and `am.sample`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import automorph as am
from automorph import algorithms, benchmarks
from automorph.geno import DNA, Space
from automorph.grammar import Grammar, grammar_space
from automorph.storage import MemoryStorage
from automorph.symbolic import from_json
from automorph.testing import BitString

GRAMMAR = "S -> Seq(A, A, A, A)\n@level\nA -> conv | id | pool"

SPACES: dict[str, Any] = {
    "floats": am.Dict(x=am.floatv(-1.0, 1.0), y=am.floatv(0.1, 10.0, scale="log")),
    "floats5": am.Dict(**{f"x{i}": am.floatv(-5.0, 5.0) for i in range(5)}),
    "floats20": am.Dict(**{f"x{i}": am.floatv(-5.0, 5.0) for i in range(20)}),
    "half_numbers": am.Dict(
        x=am.floatv(0.0, 1.0), n=am.intv(0, 9), op=am.oneof(list("ab")), act=am.oneof(list("cd"))
    ),
    "choices": am.List([am.oneof(list(range(10))) for _ in range(8)]),
    "small_choices": am.List([am.oneof([0, 1, 2]) for _ in range(3)]),  # 27 DNA
    "conditional": am.Dict(
        model=am.oneof(
            [
                am.Dict(kind="svm", c=am.floatv(0.01, 100.0, scale="log")),
                am.Dict(kind="tree", depth=am.intv(1, 20)),
            ]
        ),
        lr=am.floatv(0.0, 1.0),
    ),
    "manyof": am.Dict(ops=am.manyof(3, list("abcdefgh")), x=am.floatv(0.0, 1.0)),
    "permutation": am.Dict(order=am.permutate(list("abcdefg")), x=am.floatv(0.0, 1.0)),
    "custom": am.Dict(bits=am.custom(BitString(length=12)), x=am.floatv(0.0, 1.0)),
    "grammar": am.Dict(arch=grammar_space(GRAMMAR), lr=am.floatv(0.0, 1.0)),
}

# (space, budget) -> the class Auto delegates to; None is "no budget"
CHOICES = [
    ("floats", 5, "Random"),
    ("floats", 39, "GPBO"),
    ("floats", 40, "CMAES"),  # 20 trials per coordinate: lq-CMA-ES
    ("floats", None, "CMAES"),
    ("floats", 10_000, "CMAES"),
    ("floats5", 99, "GPBO"),
    ("floats5", 100, "CMAES"),
    ("floats5", None, "CMAES"),
    ("floats20", 399, "GPBO"),
    ("floats20", 400, "CMAES"),
    ("floats20", 1500, "CMAES"),
    ("half_numbers", 100, "GPBO"),
    ("half_numbers", 1000, "TPE"),  # numbers are not three quarters: mixed
    ("choices", 50, "TPE"),
    ("choices", None, "TPE"),
    ("choices", 10_000, "Evolution"),
    ("small_choices", 27, "Grid"),
    ("small_choices", 26, "TPE"),
    ("conditional", 50, "TPE"),
    ("conditional", None, "TPE"),
    ("manyof", 100, "Evolution"),
    ("permutation", 100, "Evolution"),
    ("custom", 100, "Evolution"),
    ("grammar", 8, "Random"),
    ("grammar", 100, "GraphBO"),
    ("grammar", 101, "Evolution"),
    ("grammar", None, "Evolution"),
]


def reward_of(dna: DNA) -> float:
    """A deterministic reward of any DNA of `SPACES` (derivations included)."""
    total = 0.0
    for i, value in enumerate(dna.to_numbers()):
        if isinstance(value, tuple):
            value = sum(value)
        elif not isinstance(value, int | float):
            value = repr(value).count("rule=0")
        total += math.sin(1.7 * i + float(value))
    return total


def run(auto: algorithms.SearchAlgorithm, spec: Space, steps: int, lag: int = 0) -> list[Any]:
    """`steps` proposals, each rewarded `lag` proposals later: the history."""
    history: list[Any] = []
    for _ in range(steps):
        history.append([auto.propose(), None])
        if len(history) > lag:
            done = history[-1 - lag]
            done[1] = reward_of(done[0])
            auto.feedback(done[0], done[1])
    return [tuple(item) for item in history]


def chosen(space: str, **fields: Any) -> algorithms.SearchAlgorithm:
    auto = algorithms.Auto(seed=0, **fields)
    auto.setup(am.dna_spec(SPACES[space]))
    assert auto.chosen is not None and auto.reason
    return auto.chosen


@pytest.mark.parametrize(("space", "budget", "expected"), CHOICES)
def test_the_choice_per_space_and_budget(space: str, budget: int | None, expected: str) -> None:
    assert type(chosen(space, budget=budget)).__name__ == expected


def test_several_objectives_choose_parego_for_small_budgets_else_nsga2() -> None:
    for space in ("floats", "choices"):
        delegate = chosen(space, budget=50, multi_objective=True)
        assert type(delegate) is algorithms.ParEGO and delegate.multi_objective
        delegate = chosen(space, budget=500, multi_objective=True)
        assert type(delegate) is algorithms.MultiObjectiveEvolution and delegate.multi_objective
    delegate = chosen("grammar", budget=50, multi_objective=True)  # custom decisions
    assert type(delegate) is algorithms.MultiObjectiveEvolution


def test_the_thresholds_are_fields() -> None:
    assert chosen("floats", budget=40).surrogate == "lq"
    assert chosen("floats", budget=40, cmaes_surrogate=None).surrogate is None
    assert type(chosen("floats5", budget=100, cmaes_trials_per_coordinate=21)) is algorithms.GPBO
    # below CMA-ES's threshold and above GP-BO's limit: GP-BO, then lq-CMA-ES
    assert type(chosen("floats20", budget=400, cmaes_trials_per_coordinate=21)) is algorithms.GPBO
    after = chosen(
        "floats20", budget=400, cmaes_trials_per_coordinate=21, gp_numeric_max_trials=399
    )
    assert type(after) is algorithms.GPBOThenCMAES and after.surrogate == "lq"
    assert after.gp_trials == 200  # 20 per coordinate, at most `gp_max_trials`
    few = {"cmaes_min_coordinates": 3}  # 2 coordinates: too few for CMA-ES alone
    assert type(chosen("floats", budget=100, **few)) is algorithms.GPBO  # 50 per coordinate
    assert type(chosen("floats", budget=101, **few)) is algorithms.GPBOThenCMAES
    assert chosen("floats", budget=500, gp_phase_per_coordinate=30, **few).gp_trials == 60
    assert chosen("floats", budget=5000, gp_phase_per_coordinate=300, **few).gp_trials == 200
    gp_only = {"gp_numeric_max_trials": 500, "gp_trials_per_coordinate": 250}
    late = chosen("floats", budget=500, cmaes_trials_per_coordinate=251, **gp_only)
    assert type(late) is algorithms.GPBO
    assert type(chosen("half_numbers", budget=201)) is algorithms.TPE  # not mostly numbers
    assert type(chosen("grammar", budget=300, preferred_max_trials=300)).__name__ == "GraphBO"
    assert type(chosen("floats", budget=20, random_max_trials=20)) is algorithms.Random
    assert type(chosen("choices", budget=500, evolution_min_trials=500)).__name__ == "Evolution"
    # 2 numbers and 2 choices of 2: 6 coordinates
    assert type(chosen("half_numbers", budget=119, cmaes_numeric_share=0.5)) is algorithms.GPBO
    assert type(chosen("half_numbers", budget=120, cmaes_numeric_share=0.5)) is algorithms.CMAES


def test_the_gp_bo_it_chooses_warps_rewards_as_gp_warp_says() -> None:
    gp = chosen("floats", budget=30)
    assert type(gp) is algorithms.GPBO and gp.warp == "half_rank"
    assert chosen("floats", budget=30, gp_warp="none").warp == "none"
    assert chosen("half_numbers", budget=100, gp_warp="rank").warp == "rank"
    # GP-BO-then-CMA-ES's GP phase keeps GP-BO's default (unwarped)
    assert chosen("floats", budget=500, cmaes_min_coordinates=3).gp_bo.warp == "none"


def test_evolution_is_sized_to_the_budget() -> None:
    small = chosen("custom", budget=200)
    assert small.population_init_size == 20 and repr(small.reproduction).startswith(
        "Pipeline(operators=[Sample(k=5)"
    )
    assert chosen("custom", budget=50).population_init_size == 10
    assert chosen("custom").population_init_size == 100  # no budget


def test_the_delegate_seed_comes_from_autos_seed() -> None:
    first, again, other = (chosen("floats", budget=50), chosen("floats", budget=50),
                           algorithms.Auto(seed=1, budget=50))  # fmt: skip
    other.setup(am.dna_spec(SPACES["floats"]))
    assert first.seed == again.seed != other.chosen.seed  # type: ignore[union-attr]
    assert algorithms.Auto().choose(am.dna_spec(SPACES["floats"])).seed is None


def test_chosen_and_reason_before_and_after_setup() -> None:
    auto = algorithms.Auto(budget=50, seed=3)
    assert auto.chosen is None and auto.reason is None
    assert auto.needs_feedback and not auto.uses_constraints
    auto.setup(am.dna_spec(SPACES["conditional"]))
    assert type(auto.chosen) is algorithms.TPE and auto.reason == "a conditional space"
    assert auto.uses_constraints  # TPE's
    auto = algorithms.Auto(budget=5, seed=3)
    auto.setup(am.dna_spec(SPACES["conditional"]))
    assert not auto.needs_feedback  # Random's


def test_planned_fills_only_what_is_unset_on_a_copy() -> None:
    auto = algorithms.Auto(seed=1)
    copy = auto.planned(40, True)
    assert copy is not auto and (copy.budget, copy.multi_objective) == (40, True)
    assert auto.budget is None and not auto.multi_objective
    mine = algorithms.Auto(budget=7)
    assert mine.planned(40, False) is mine and mine.planned(None, False) is mine
    auto.setup(am.dna_spec(SPACES["floats"]))
    assert auto.planned(40, False) is auto  # set up: its choice is made


# --- delegation: recover, JSON, batches, discard, constraints --------------------------


@pytest.mark.parametrize(
    ("space", "budget"),
    [("floats", 30), ("grammar", 60), ("conditional", 60), ("floats5", None)],  # last: CMA-ES
)
def test_recover_and_a_json_copy_continue_exactly(space: str, budget: int | None) -> None:
    spec = am.dna_spec(SPACES[space])
    live = algorithms.Auto(seed=4, budget=budget)
    live.setup(spec)
    history = run(live, spec, 20, lag=3)
    copy = from_json(live.to_json())
    copy.setup(spec)
    copy.recover(history)
    assert type(copy.chosen) is type(live.chosen) and copy.reason == live.reason
    assert copy.num_proposed == live.num_proposed and copy.num_feedback == live.num_feedback
    assert [copy.propose() for _ in range(4)] == [live.propose() for _ in range(4)]


def test_propose_batch_goes_to_the_delegate_and_counts() -> None:
    spec = am.dna_spec(SPACES["floats"])
    auto = algorithms.Auto(seed=2, budget=60)
    auto.setup(spec)
    run(auto, spec, 12)
    batch = auto.propose_batch(4)
    assert len(batch) == len(set(batch)) == 4  # GP-BO spreads a batch
    assert auto.num_proposed == auto.chosen.num_proposed == 16  # type: ignore[union-attr]


def test_discard_and_constraints_reach_the_delegate() -> None:
    spec = am.dna_spec(SPACES["conditional"])
    auto = algorithms.Auto(seed=2, budget=60)
    auto.setup(spec)
    tpe = auto.chosen
    assert isinstance(tpe, algorithms.TPE)
    dna = auto.propose()
    assert tpe._pending[dna] == 1
    auto.discard(dna)
    assert tpe._pending[dna] == 0
    dna = auto.propose()
    auto.feedback(dna, 1.0, constraints=[0.5])
    assert tpe.num_constraints == 1 and tpe._violations == [0.5]


def test_exhaustion_ends_the_search() -> None:
    auto = algorithms.Auto(seed=0, budget=100)
    auto.setup(am.dna_spec(SPACES["small_choices"]))
    assert len(auto.propose_batch(100)) == 27  # the grid, once
    with pytest.raises(am.SearchExhaustedError):
        auto.propose()


# --- end to end, as the default of am.tune and am.sample -------------------------------


def test_the_default_beats_random_on_branin_at_a_small_budget() -> None:
    bench = benchmarks.create("branin")

    def value(example: Any) -> float:
        return float(bench.function(np.array([example[key] for key in bench.keys])))

    for seed in range(3):
        auto = am.tune(value, bench.space(), algorithms.Auto(seed=seed), 30, minimize=True)
        rand = am.tune(value, bench.space(), algorithms.Random(seed=seed), 30, minimize=True)
        assert auto.best_reward < rand.best_reward, seed
    assert auto.best_reward < 0.5  # the minimum is 0.398
    loop = am.sample(bench.space(), num_examples=30)
    assert type(loop.algorithm.chosen) is algorithms.GPBO


MODELS = am.Dict(
    model=am.oneof([
        am.Dict(kind="svm", c=am.floatv(0.01, 100.0, scale="log")),
        am.Dict(kind="tree", depth=am.intv(1, 20), leaf=am.oneof([1, 2, 4, 8, 16])),
        am.Dict(kind="knn", k=am.intv(1, 30)),
    ]),
    scale=am.oneof(["none", "std", "minmax"]),
)  # fmt: skip


def model_loss(e: Any) -> float:
    m, scale = e["model"], {"none": 0.3, "std": 0.0, "minmax": 0.1}[e["scale"]]
    if m["kind"] == "svm":
        return scale + 0.3 + 0.1 * (math.log10(m["c"]) - 0.5) ** 2
    if m["kind"] == "tree":
        return scale + 0.05 * abs(m["depth"] - 13) + 0.05 * abs(m["leaf"] - 4)
    return scale + 0.4 + 0.01 * abs(m["k"] - 5)


def test_the_default_searches_a_conditional_space_with_tpe() -> None:
    auto, rand = [], []
    for seed in range(6):
        loop = am.sample(MODELS, algorithms.Auto(seed=seed), 40, minimize=True)
        assert type(loop.algorithm.chosen) is algorithms.TPE
        for example, feedback in loop:
            feedback(model_loss(example))
        auto.append(loop.result.best_reward)
        rand.append(am.tune(model_loss, MODELS, algorithms.Random(seed=seed), 40,
                            minimize=True).best_reward)  # fmt: skip
    assert np.mean(auto) < np.mean(rand)


def test_the_default_searches_several_objectives_with_parego() -> None:
    space = am.Dict(x=am.floatv(0.0, 1.0), k=am.oneof([0, 1, 2]))
    loop = am.sample(space, num_examples=40, direction=["minimize", "minimize"])
    assert type(loop.algorithm.chosen) is algorithms.ParEGO
    for example, feedback in loop:
        feedback((example["x"] + example["k"], (1.0 - example["x"]) + example["k"]))
    front = loop.result.pareto_front
    assert front and all(t.example["k"] == 0 for t in front)


def test_the_default_searches_a_grammar_space_with_grammar_bo() -> None:
    grammar = Grammar.parse(GRAMMAR)
    space = grammar_space(GRAMMAR)
    for seed in range(2):
        loop = am.sample(space, algorithms.Auto(seed=seed), 25)
        assert type(loop.algorithm.chosen).__name__ == "GraphBO"
        for example, feedback in loop:
            feedback(float(grammar.to_string(example).count("conv")))
        assert loop.result.best_reward == 4.0  # four conv: found among 81 in 25 trials


# --- stored studies keep their plan ----------------------------------------------------


def test_a_resumed_study_keeps_the_budget_it_was_created_with(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    space = SPACES["floats"]

    def value(example: Any) -> float:
        return -((example["x"] - 0.3) ** 2)

    first = am.tune(value, space, algorithms.Auto(seed=1), 6, name="s", storage=path)
    assert first.num_completed == 6
    # With the same seed and another num_trials: no "searched by another algorithm" error,
    # and the plan (budget 6: random search) is the study's.
    loop = am.sample(space, algorithms.Auto(seed=1), 12, name="s", storage=path)
    assert loop.algorithm.budget == 6 and type(loop.algorithm.chosen) is algorithms.Random
    for example, feedback in loop:
        feedback(value(example))
    assert loop.result.num_completed == 12
    # Left out, the algorithm is the study's own.
    assert am.sample(space, None, 12, name="s", storage=path).algorithm.budget == 6


def test_a_study_made_with_another_algorithm_resumes_with_it_by_default() -> None:
    store = MemoryStorage()
    space = SPACES["floats"]
    am.tune(lambda e: e["x"], space, algorithms.Random(seed=2), 3, name="r", storage=store)
    loop = am.sample(space, num_examples=5, name="r", storage=store)
    assert type(loop.algorithm) is algorithms.Random and loop.algorithm.seed == 2
    with pytest.raises(am.StorageError, match="searched by Random, not Auto"):
        am.sample(space, algorithms.Auto(), 5, name="r", storage=store)


def parabola(example: Any) -> float:
    """A module-level objective, for worker processes."""
    return float(-((example["x"] - 0.3) ** 2))


def test_worker_processes_share_the_default_plan(tmp_path: Path) -> None:
    path = str(tmp_path / "w.db")
    space = SPACES["floats"]
    result = am.tune(parabola, space, num_trials=16, name="w", storage=path,
                     executor="process", num_workers=2)  # fmt: skip
    assert result.num_completed == 16
    study = am.load_study("w", path)
    stored = am.from_json_str(study.info.algorithm)  # the plan every worker adopted
    assert type(stored) is algorithms.Auto and stored.budget == 16
    assert stored.seed is not None
    assert type(stored.choose(study.dna_spec)) is algorithms.GPBO
