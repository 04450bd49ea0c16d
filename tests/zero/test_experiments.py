"""The paper's experiments as named configs: each loads and runs a tiny version,
and the task generators say what the experiments need."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from automorph.symbolic import KeyPath
from automorph.zero import (
    CONFIG_NAMES,
    HELD_OUT_PAIRS,
    SearchConfig,
    TaskSpec,
    evaluate_program,
    get_config,
    linear_program,
    neural_net_program,
    run_search,
)

IMAGE_CONFIGS = ("cifar10-binary", "few-examples", "fast-training")
PAPER_CONFIGS = ("linear-demo", "nonlinear", *IMAGE_CONFIGS)


def _smoke(config: SearchConfig) -> SearchConfig:
    """`config` at a size that runs in a second: 2 small tasks, 10 programs."""
    small = {"num_tasks": 2, "num_train": 20, "num_valid": 10, "num_epochs": 2}
    changes: dict[str | KeyPath, Any] = {
        "population_size": 10,
        "tournament_size": 3,
        "fec_train": 5,
        "fec_valid": 5,
        "hurdle_tasks": min(config.hurdle_tasks, 1),
        "max_train_steps": 4000,
        "max_experiments": 1,
        "progress_every": 0,
    }
    for name in ("search_tasks", "select_tasks"):
        changes.update({f"{name}.{k}": v for k, v in small.items()})
    if config.final_tasks is not None:
        changes.update({f"final_tasks.{k}": v for k, v in small.items()})
    return config.rebind(changes)


def test_every_paper_experiment_has_a_config() -> None:
    assert set(PAPER_CONFIGS) <= set(CONFIG_NAMES)
    for name in CONFIG_NAMES:
        assert isinstance(get_config(name), SearchConfig)


@pytest.mark.parametrize("name", ["linear-demo", "nonlinear"])
def test_regression_configs_run_a_tiny_search(name: str) -> None:
    result = run_search(_smoke(get_config(name)), seed=3, out=None)
    assert result.counters["programs"] > 10 and result.experiments == 1
    assert np.isfinite(result.select_fitness) and 0.0 <= result.select_fitness <= 1.0


@pytest.mark.usefixtures("cifar10_path")
@pytest.mark.parametrize("name", IMAGE_CONFIGS)
def test_image_configs_run_a_tiny_search(name: str) -> None:
    config = get_config(name)
    assert config.hurdle_tasks == 2 and config.hurdle_percentile == 75.0  # the paper's hurdle
    assert config.initial_population == "neural_net" and config.select_tasks.held_out
    result = run_search(_smoke(config), seed=3, out=None)
    assert result.counters["programs"] > 10 and result.experiments == 1
    assert 0.0 <= result.select_fitness <= 1.0


def test_nonlinear_teacher_tasks_come_from_a_two_layer_relu_network() -> None:
    spec = TaskSpec("nonlinear", features=8, num_train=200, num_valid=50, num_tasks=2)
    tasks = spec.build()
    data_seeds, param_seeds = spec.seeds()
    for t in range(2):
        rng = np.random.default_rng(param_seeds[t])
        hidden = rng.standard_normal((8, 8))
        out = rng.standard_normal(8)
        hidden[[0, 2]] = 0.0  # the original's teacher zeroes hidden units 0 and 2
        out[[0, 2]] = 0.0
        x = np.concatenate([tasks.x[t], tasks.x_valid[t]])
        expected = np.maximum(x @ hidden.T, 0.0) @ out
        assert np.allclose(np.concatenate([tasks.y[t], tasks.y_valid[t]]), expected)
        assert np.allclose(x, np.random.default_rng(data_seeds[t]).standard_normal((250, 8)))
        # ... and a linear model cannot fit them
        w, *_ = np.linalg.lstsq(tasks.x[t], tasks.y[t], rcond=None)
        assert np.std(tasks.y[t] - tasks.x[t] @ w) > 0.3 * np.std(tasks.y[t])


def test_a_two_layer_network_trained_by_sgd_beats_linear_regression_on_the_teacher() -> None:
    config = get_config("nonlinear")
    tasks = config.search_tasks.clone(deep=True).rebind({"num_tasks": 3}).build()
    network, _ = evaluate_program(neural_net_program(), tasks, config.memory)
    linear, _ = evaluate_program(linear_program(), tasks, config.memory)
    assert network > linear


@pytest.mark.usefixtures("cifar10_path")
@pytest.mark.parametrize(
    ("name", "examples", "epochs"), [("few-examples", 80, 100), ("fast-training", 800, 10)]
)
def test_adaptation_tasks_have_the_stated_counts(name: str, examples: int, epochs: int) -> None:
    config = get_config(name)
    search = config.search_tasks.clone(deep=True).rebind({"num_tasks": 2}).build()
    assert search.x.shape == (2, examples, 16) and search.y.shape == (2, examples)
    assert search.order.shape == (2, epochs, examples)
    for epoch in search.order[0]:
        assert sorted(epoch) == list(range(examples))  # every example once per epoch
    assert search.x_valid.shape == (2, 200, 16)
    assert set(np.unique(search.y)) == {0.0, 1.0}
    select = config.select_tasks
    assert (select.num_train, select.num_epochs, select.num_tasks) == (examples, epochs, 9)
    assert [tuple(p) for p in select.pairs] == list(HELD_OUT_PAIRS)
    assert (config.memory.num_scalars, config.memory.num_vectors) == (10, 16)
