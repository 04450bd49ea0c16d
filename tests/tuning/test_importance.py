"""Tests of `am.importance`: fANOVA over a random forest of the completed trials."""

from __future__ import annotations

import itertools
import sys
from typing import Any

import numpy as np
import pytest
from sklearn.tree import DecisionTreeRegressor

import automorph as am
from automorph.storage import MemoryStorage
from automorph.tuning import Importances, Measurement, Trial
from automorph.tuning._importance import Column, tree_fractions
from automorph.utils import AutomorphError, FieldValueError, StudyNotFoundError

TWO = am.Dict(x1=am.floatv(0.0, 1.0), x2=am.floatv(0.0, 1.0))


def linear(example: Any) -> float:
    return 10 * example["x1"] + 0.1 * example["x2"]


def random_search(objective: Any, space: Any, n: int, seed: int = 0, **kwargs: Any) -> Any:
    return am.tune(objective, space, am.algorithms.Random(seed=seed), n, **kwargs)


def test_the_dominant_decision_ranks_first() -> None:
    imp = am.importance(random_search(linear, TWO, 60))
    assert isinstance(imp, Importances)
    assert list(imp) == ["x1", "x2"]
    assert imp["x1"] > 0.8 and 0.0 <= imp["x2"] < 0.05
    assert sum(imp.values()) <= 1.0 + 1e-9
    assert imp.num_trials == 60 and imp.objective == 0
    assert set(imp.std) == {"x1", "x2"} and all(s >= 0 for s in imp.std.values())


def test_a_choice_with_a_large_effect_ranks_first_in_either_direction() -> None:
    space = am.Dict(
        op=am.oneof(["conv", "pool", "skip"]),
        lr=am.floatv(1e-4, 1e-1, scale="log"),
        units=am.intv(8, 64),
    )

    def objective(e: Any) -> float:
        return {"conv": 0.0, "pool": 5.0, "skip": 10.0}[e["op"]] + 0.01 * e["units"] / 64

    high = am.importance(random_search(objective, space, 50))
    low = am.importance(random_search(objective, space, 50, minimize=True))
    assert next(iter(high)) == "op" and high["op"] > 0.8
    assert high["lr"] < 0.05
    assert dict(high) == dict(low)  # the direction does not change importance


def test_a_log_scale_float_is_rated_on_its_scale() -> None:
    space = am.Dict(lr=am.floatv(1e-5, 1.0, scale="log"), other=am.floatv(0.0, 1.0))
    # A step at lr = 1e-3, the middle of the log range: half the domain on
    # each side on the log scale (on a linear one, almost all of it above).
    imp = am.importance(
        random_search(lambda e: float(e["lr"] > 1e-3) + 0.01 * e["other"], space, 60)
    )
    assert next(iter(imp)) == "lr" and imp["lr"] > 0.9


CONDITIONAL = am.Dict(
    x=am.floatv(0.0, 1.0),
    branch=am.oneof([am.Dict(u=am.floatv(0.0, 1.0)), "none"]),
)


def conditional(example: Any) -> float:
    branch = example["branch"]
    return 5.0 * branch["u"] if isinstance(branch, dict) else 0.0


def test_conditional_decisions_are_rated_where_they_are_active() -> None:
    imp = am.importance(random_search(conditional, CONDITIONAL, 80))
    assert set(imp) == {"x", "branch", "branch[=0].u"}
    # Uniform branch and u: the branch explains 0.6 of the variance, u alone
    # 0.2 (its effect averaged over both branches), x nothing, and 0.2 is
    # the interaction of the branch and u.
    assert list(imp) == ["branch", "branch[=0].u", "x"]
    assert 0.5 < imp["branch"] < 0.7 and 0.15 < imp["branch[=0].u"] < 0.25
    assert imp["x"] < 0.02
    assert 0.12 < imp.interactions < 0.3


def test_a_stored_study_by_name_or_loaded() -> None:
    store = MemoryStorage()
    random_search(linear, TWO, 30, name="lin", storage=store)
    by_name = am.importance("lin", storage=store, seed=3)
    loaded = am.importance(am.load_study("lin", store), seed=3)
    assert dict(by_name) == dict(loaded) and by_name.study == "lin"
    assert next(iter(by_name)) == "x1"
    data = by_name.to_json()
    assert data["study"] == "lin" and data["num_trials"] == 30
    assert [d["id"] for d in data["decisions"]] == ["x1", "x2"]


def test_the_same_seed_gives_the_same_importances() -> None:
    result = random_search(conditional, CONDITIONAL, 40)
    first = am.importance(result, seed=7, num_trees=16)
    again = am.importance(result, seed=7, num_trees=16)
    other = am.importance(result, seed=8, num_trees=16)
    assert dict(first) == dict(again) and first.std == again.std
    assert dict(first) != dict(other)


def test_several_objectives_one_at_a_time() -> None:
    result = am.tune(
        lambda e: (10 * e["x1"], 10 * e["x2"] + 0.1 * e["x1"]), TWO, am.algorithms.nsga2(seed=0), 50
    )
    assert result.multi_objective
    assert next(iter(am.importance(result, objective=0))) == "x1"
    assert next(iter(am.importance(result, objective=1))) == "x2"
    with pytest.raises(FieldValueError, match="has 2 objectives"):
        am.importance(result, objective=2)


def test_equal_rewards_explain_nothing() -> None:
    imp = am.importance(random_search(lambda e: 1.0, TWO, 10))
    assert dict(imp) == {"x1": 0.0, "x2": 0.0} and imp.interactions == 1.0


def test_without_a_dna_spec_columns_come_from_the_values() -> None:
    # A study that stored no DNASpec: strings are categories, ints and floats
    # numbers over the range the trials cover.
    rng = np.random.default_rng(0)
    trials = []
    for i in range(40):
        act, x = ["relu", "tanh", "gelu"][i % 3], float(rng.uniform())
        reward = {"relu": 0.0, "tanh": 3.0, "gelu": 6.0}[act] + 3.0 * x
        dna = am.DNA({"act": act, "x": x, "k": int(rng.integers(4))})
        trials.append(Trial(i + 1, dna, status="completed", final_measurement=Measurement(reward)))
    imp = am.importance(am.StudyResult(trials, am.DNASpec(elements=[])))
    # act explains 6 / 6.75 of the variance, x 0.75 / 6.75.
    assert list(imp) == ["act", "x", "k"]
    assert 0.8 < imp["act"] < 0.95 and 0.05 < imp["x"] < 0.2 and imp["k"] < 0.02


def test_clear_errors() -> None:
    store = MemoryStorage()
    random_search(linear, TWO, 4, name="short", storage=store)
    with pytest.raises(AutomorphError, match=r"study 'short' has 4 completed .* at least 5"):
        am.importance("short", storage=store)
    with pytest.raises(StudyNotFoundError, match="nope"):
        am.importance("nope", storage=store)
    with pytest.raises(FieldValueError, match="needs `storage=`"):
        am.importance("short")
    result = random_search(linear, TWO, 8)
    with pytest.raises(FieldValueError, match="has one objective"):
        am.importance(result, objective=1)
    with pytest.raises(FieldValueError, match="objective"):
        am.importance(result, objective=-1)
    with pytest.raises(FieldValueError, match="num_trees"):
        am.importance(result, num_trees=0)
    with pytest.raises(am.FieldTypeError, match="must be a Study"):
        am.importance(result.trials)  # type: ignore[arg-type]


def test_without_scikit_learn_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    result = random_search(linear, TWO, 8)
    monkeypatch.setitem(sys.modules, "sklearn.ensemble", None)  # import raises ImportError
    with pytest.raises(ImportError, match=r"automorph\[importance\]"):
        am.importance(result)


def test_tree_fractions_match_a_brute_force_decomposition() -> None:
    rng = np.random.default_rng(1)
    columns = [
        Column("c", "choice", True, 0.0, 3.0, float),
        Column("f", "float", False, 0.0, 1.0, float),
        Column("i", "int", True, 2.0, 6.0, float),
    ]
    n = 80
    x = np.stack([rng.integers(0, 4, n), rng.uniform(0, 1, n), rng.integers(2, 7, n)], 1)
    y = np.sin(3 * x[:, 1]) + 1.5 * (x[:, 0] == 2) + 0.3 * x[:, 2] * x[:, 1]
    tree = DecisionTreeRegressor(random_state=0).fit(x, y)
    fractions = tree_fractions(tree.tree_, columns)
    assert fractions is not None
    # The tree is constant between its cuts of the float: one point per cell,
    # weighted by the cell's width, gives exact means and variances.
    splits = tree.tree_.feature == 1
    cuts = np.unique(np.concatenate([[0.0, 1.0], tree.tree_.threshold[splits]]))
    middles, widths = (cuts[:-1] + cuts[1:]) / 2, np.diff(cuts)
    grid = np.array(list(itertools.product(range(4), middles, range(2, 7))), dtype=float)
    table = tree.predict(grid).reshape(4, len(middles), 5)
    weights = np.einsum("a,b,c->abc", np.full(4, 0.25), widths, np.full(5, 0.2))
    mean = float((weights * table).sum())
    total = float((weights * (table - mean) ** 2).sum())
    expected = []
    for axis in range(3):
        others = tuple(a for a in range(3) if a != axis)
        share = weights.sum(axis=others)
        effect = (weights * table).sum(axis=others) / share
        expected.append(float((share * (effect - mean) ** 2).sum()) / total)
    assert np.allclose(fractions, expected, atol=1e-9)
    assert sum(expected) <= 1.0 + 1e-12
