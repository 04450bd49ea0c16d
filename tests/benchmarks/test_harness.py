"""The experiment harness: runs, resumes, summarizes, and fails clearly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import automorph as am
import automorph.benchmarks
from automorph.benchmarks import BENCHMARKS, Benchmark
from automorph.benchmarks.__main__ import main
from automorph.benchmarks._harness import run_experiment, summarize


@BENCHMARKS.register("test-ones")
class Ones(Benchmark):
    """Count the ones among 12 bits (test score: the same count, out of 12)."""

    name = "test-ones"
    optimum = 12.0

    def __init__(self, path: str | None = None) -> None:
        self.path = path

    def space(self) -> Any:
        return am.List([am.oneof([0, 1]) for _ in range(12)])

    def reward(self, example: Any) -> float:
        return float(sum(example))


def test_an_experiment_writes_its_table_plot_and_json(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_experiment(
        "test-ones",
        ["random", "regularized_evolution:population_size=10:tournament_size=3"],
        60,
        4,
        1,
        out,
        log=lambda *_: None,
    )
    table = result["table"]
    assert "| random |" in table and "50 queries" in table and "60 queries" in table
    assert "reported figures" not in table  # one figure per example: no second table
    data = json.loads((out / "results.json").read_text())
    assert len(data["curves"]["random"]) == 4 and len(data["curves"]["random"][0]) == 60
    curve = data["curves"]["random"][0]
    assert curve == sorted(curve)  # the incumbent never gets worse on a noiseless benchmark
    assert (out / "regret.png").stat().st_size > 10_000
    evo = data["summary"]["regularized_evolution:population_size=10:tournament_size=3"]
    assert evo["at"]["60"]["mean"] > data["summary"]["random"]["at"]["60"]["mean"]
    again = run_experiment("test-ones", ["random"], 60, 4, 1, out, log=lambda *_: None)
    assert again["summary"]["random"]["at"] == data["summary"]["random"]["at"]  # resumed


def test_ranks_share_ties() -> None:
    summary = summarize({"a": [[1.0, 2.0]], "b": [[1.0, 2.0]], "c": [[0.0, 1.0]]}, 2, 2.0)
    assert [summary[k]["mean_rank"] for k in "abc"] == [1.5, 1.5, 3.0]


def test_bad_names_are_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["run", "--benchmark", "nope", "--algorithms", "random", "--output", str(tmp_path)])
        == 1
    )
    assert "no benchmark named 'nope'" in capsys.readouterr().err
    assert (
        main(
            [
                "run",
                "--benchmark",
                "test-ones",
                "--algorithms",
                "random,simulated_annealing",
                "--output",
                str(tmp_path),
            ]
        )
        == 1
    )
    assert "no algorithm named 'simulated_annealing'" in capsys.readouterr().err
    assert (
        main(
            [
                "run",
                "--benchmark",
                "test-ones",
                "--algorithms",
                "random:population",
                "--output",
                str(tmp_path),
            ]
        )
        == 1
    )
    assert "use key=value" in capsys.readouterr().err


def test_the_harness_runs_nasbench201_with_workers(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "nb201"  # the table shipped with automorph
    args = [
        "run",
        "--benchmark",
        "nb201-cifar10",
        "--algorithms",
        "random,regularized_evolution:population_size=10:tournament_size=3",
        "--trials",
        "60",
        "--seeds",
        "2",
        "--workers",
        "2",
        "--output",
        str(out),
    ]
    assert main(args) == 0
    first = (out / "results.md").read_text()
    assert "| random |" in first and "50 queries" in first
    assert main(args) == 0  # resumed from the store: the same table
    assert (out / "results.md").read_text() == first


def test_the_runs_give_the_same_results_on_every_executor(tmp_path: Path) -> None:
    results = {}
    for executor, workers in (("local", 1), ("process", 2)):
        out = tmp_path / executor
        args = ["run", "--benchmark", "nb201-cifar10", "--algorithms", "random,tpe",
                "--trials", "12", "--seeds", "2", "--workers", str(workers),
                "--executor", executor, "--output", str(out)]  # fmt: skip
        assert main(args) == 0
        results[executor] = json.loads((out / "results.json").read_text())["curves"]
    assert results["process"] == results["local"]
    with pytest.raises(am.FieldValueError, match="got 'mpi'"):
        run_experiment("test-ones", ["random"], 5, 1, 1, tmp_path / "x", executor="mpi")
