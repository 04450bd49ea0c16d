"""NAS-Bench-201's `paper` protocol: what the search sees, what is reported, the budget, seeds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import automorph as am
from automorph import algorithms, benchmarks
from automorph.benchmarks import (
    NB201_PAPER_BUDGET,
    NB201Cell,
    NB201PaperBenchmark,
    NB201Table,
)
from automorph.benchmarks._harness import AlgorithmChoice, run_experiment
from automorph.benchmarks._suite import preset
from automorph.geno import DNA
from automorph.hyper import Template
from automorph.storage import open_storage

REA = "regularized_evolution:population_size=10:tournament_size=3"
REPORTED = ("cifar10_test_200ep", "cifar100_test_200ep", "imagenet16_test_200ep")
TRIALS, SEEDS = 30, 3


def _run(out: Path, seeds: int = SEEDS) -> dict[str, Any]:
    run_experiment("nb201-paper", [REA, "random"], TRIALS, seeds, 1, out, log=lambda *_: None)
    return dict(json.loads((out / "results.json").read_text()))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("paper")
    return out, _run(out)


def test_the_search_sees_cifar10_valid_12ep_and_reports_three_test_columns(
    run: tuple[Path, dict[str, Any]],
) -> None:
    out, data = run
    table = NB201Table.load()
    valid = table.column("cifar10_valid_12ep")
    template = Template(benchmarks.nb201_space())
    store = open_storage(str(out / "runs.db"))
    try:
        for label in (REA, "random"):
            for seed in range(SEEDS):
                trials = store.get_trials(f"{label}/seed-{seed}")
                # The budget: exactly TRIALS queries, every one evaluated.
                assert len(trials) == TRIALS
                assert all(t.status == "completed" for t in trials)
                cells = [template.materialize(DNA.from_json(t.dna)).to_arch_str() for t in trials]
                # The search saw CIFAR-10's 12-epoch validation accuracy of each cell.
                assert [t.reward for t in trials] == [valid[c] for c in cells]
                # The incumbent: the best of them (the first on ties), reported on the
                # 200-epoch test column of each data set.
                found = cells[int(np.argmax([valid[c] for c in cells]))]
                expected = {name: table.get(found, name) for name in REPORTED}
                assert data["reports"][label][seed][str(TRIALS)] == expected
                assert data["curves"][label][seed][-1] == expected["cifar10_test_200ep"]
    finally:
        store.close()


def test_the_table_is_the_mean_and_std_over_the_runs(run: tuple[Path, dict[str, Any]]) -> None:
    out, data = run
    for label in (REA, "random"):
        figures = data["summary"][label]["report"][str(TRIALS)]
        assert list(figures) == list(REPORTED)
        for name in REPORTED:
            values = np.array([r[str(TRIALS)][name] for r in data["reports"][label]])
            assert figures[name]["mean"] == pytest.approx(values.mean())
            assert figures[name]["std"] == pytest.approx(values.std(ddof=1))
    text = (out / "results.md").read_text()
    assert "mean ± standard deviation over 3 runs" in text
    assert "| algorithm | queries | " + " | ".join(REPORTED) + " |" in text
    mean = data["summary"]["random"]["report"][str(TRIALS)]["cifar100_test_200ep"]
    assert f"{mean['mean']:.2f} ± {mean['std']:.2f}" in text


def test_the_runs_reproduce_from_their_seeds(
    run: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    _, data = run
    again = _run(tmp_path / "again")
    assert again["curves"] == data["curves"] and again["reports"] == data["reports"]
    # The seeds matter: the runs of one algorithm do not all find the same cell.
    for label in (REA, "random"):
        assert len({json.dumps(r, sort_keys=True) for r in data["reports"][label]}) > 1


def test_the_preset_runs_the_papers_settings() -> None:
    suite = preset("nb201-paper")
    assert suite.benchmarks == ("nb201-paper",)
    assert suite.seeds == 500 and suite.trials == NB201_PAPER_BUDGET == 100
    assert suite.algorithms == (REA, "random")
    evolution = AlgorithmChoice.parse(REA).create(0)
    assert isinstance(evolution, algorithms.Evolution)
    assert evolution.population_init_size == 10  # a random population of 10, then mutations
    assert evolution.population_update == algorithms.Last(10)  # the oldest dies
    assert evolution.reproduction == (
        algorithms.Sample(3) >> algorithms.Top(1) >> algorithms.Mutate()  # a tournament of 3
    )


def test_the_benchmark_reports_the_transfer_of_a_cifar10_searched_cell() -> None:
    bench = benchmarks.create("nb201-paper")
    assert isinstance(bench, NB201PaperBenchmark) and bench.name == "nb201-paper"
    table = bench.table
    best_valid, valid = table.best("cifar10_valid_12ep")
    cell = NB201Cell.from_arch_str(best_valid)
    assert bench.reward(cell) == valid == bench.reward(best_valid)
    assert bench.test_score(cell) == table.get(best_valid, "cifar10_test_200ep")
    assert bench.report(cell) == {name: table.get(best_valid, name) for name in REPORTED}
    # The paper's "optimal" row: the best test accuracy of the table on each data set.
    assert bench.optima == pytest.approx(
        {"cifar10_test_200ep": 94.3733, "cifar100_test_200ep": 73.5133,
         "imagenet16_test_200ep": 47.3111}, abs=1e-4,
    )  # fmt: skip
    assert bench.optimum == bench.optima["cifar10_test_200ep"]
    # Not a search on CIFAR-100: its reward is CIFAR-10's signal whatever is reported.
    assert bench.reward(cell) != table.get(best_valid, "cifar100_valid_12ep")


def test_a_table_without_a_reported_column_is_a_clear_error() -> None:
    cell = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    columns = {"cifar10_valid_12ep": 1.0, "cifar10_test_200ep": 2.0, "cifar100_test_200ep": 3.0}
    with pytest.raises(am.BenchmarkDataError, match=r"no column 'imagenet16_test_200ep'"):
        NB201PaperBenchmark(table=NB201Table({cell: columns}))
    bench = NB201PaperBenchmark(table=NB201Table({cell: {**columns, REPORTED[2]: 4.0}}))
    with pytest.raises(am.BenchmarkDataError, match=r"cell '.*skip_connect.*' is not in the table"):
        bench.report("|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|")
