"""The PyTorch examples run at small sizes on Fashion-MNIST (skipped without torch or data)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from automorph.utils import DataNotFoundError, find_data
from tests.examples.test_examples import _load

torch = pytest.importorskip("torch")

try:  # as the examples find it: $AUTOMORPH_DATA (set by tests/conftest.py), the user folder...
    DATA: Path | None = find_data("fashion_mnist")
    WHY = ""
except DataNotFoundError as error:
    DATA, WHY = None, error.message[:200]
needs_data = pytest.mark.skipif(DATA is None, reason=f"no Fashion-MNIST: {WHY}")


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@needs_data
def test_nas_demo_compares_found_cells_with_random_ones(capsys: pytest.CaptureFixture[str]) -> None:
    results = _load("nas_fashion_mnist").main(
        [
            "--data",
            str(DATA),
            "--train-size",
            "2000",
            "--valid-size",
            "500",
            "--test-size",
            "500",
            "--darts-steps",
            "6",
            "--enas-steps",
            "12",
            "--retrain-steps",
            "40",
            "--random-archs",
            "1",
            "--channels",
            "4",
        ]
    )
    assert set(results) == {"darts", "enas", "random"}
    assert all(0.0 <= results[m]["test_accuracy"] <= 1.0 for m in ("darts", "enas"))
    assert max(results["darts"]["test_accuracy"], results["enas"]["test_accuracy"]) > 0.2
    out = capsys.readouterr().out
    assert "[darts] step 6/6" in out and "[enas] step 12/12" in out  # the progress display
    assert "random cells: test accuracy" in out


@needs_data
@pytest.mark.parametrize("method", ["enas", "darts", "independent"])
def test_switching_the_search_method_is_one_argument(
    method: str, capsys: pytest.CaptureFixture[str]
) -> None:
    budget = "50" if method == "independent" else "15"
    accuracy = _load("nn_switch_search").main(
        [
            "--data",
            str(DATA),
            "--method",
            method,
            "--budget",
            budget,
            "--train",
            "2000",
            "--retrain-steps",
            "40",
        ]
    )
    assert accuracy > 0.2  # ten classes: chance is 0.1
    assert capsys.readouterr().out.startswith(f"{method}: found {{'cell.edges[0]'")


@needs_data
def test_joint_architecture_and_hyperparameter_search(capsys: pytest.CaptureFixture[str]) -> None:
    # No --data: the example finds the data as users' setups do ($AUTOMORPH_DATA here).
    result = _load("nn_joint_search").main(["--trials", "3", "--steps", "15"])
    assert result.num_completed == 3
    assert {"lr", "batch_size", "model.cell.edges[2]"} <= set(result.best_trial.dna.to_dict())
    assert "best: lr" in capsys.readouterr().out


@needs_data
def test_multi_objective_search_keeps_a_pareto_front(capsys: pytest.CaptureFixture[str]) -> None:
    result = _load("nn_multi_objective").main(
        ["--data", str(DATA), "--trials", "4", "--steps", "10"]
    )
    front = result.pareto_front
    assert front and all(len(t.reward) == 2 for t in front)
    sizes = [-t.reward[1] for t in front]
    accuracies = [t.reward[0] for t in front]
    order = sorted(range(len(front)), key=lambda i: sizes[i])
    # Along the front, a bigger network is never less accurate.
    assert all(accuracies[a] <= accuracies[b] for a, b in itertools.pairwise(order))
    assert capsys.readouterr().out.count("pareto:") == len(front)


@needs_data
def test_architecture_search_inside_a_training_settings_search(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = _load("nn_nested_search").main(
        ["--data", str(DATA), "--outer", "2", "--inner-steps", "8", "--retrain-steps", "10"]
    )
    assert result.num_completed == 2
    out = capsys.readouterr().out
    assert out.count("-> valid accuracy") == 2 and "best setting: lr" in out


def test_instance_aware_search_reports_the_trade_off(capsys: pytest.CaptureFixture[str]) -> None:
    if DATA is None:
        pytest.skip(f"no Fashion-MNIST: {WHY}")
    small = ["--supernet-steps", "20", "--controller-steps", "5", "--latency-repeats", "5"]
    results = _load("nn_instance_aware").main(["--data", str(DATA), *small, "--costs", "0.5"])
    assert set(results) == {
        "fixed: ENAS best",
        "fixed: cheapest",
        "fixed: costliest",
        "per-input, cost weight 0.5",
    }
    assert results["fixed: cheapest"][2] < results["fixed: costliest"][2]  # measured ms
    out = capsys.readouterr().out
    assert out.count("MFLOPs per image") == out.count(" ms per image") == 4
    assert "latency table: batch 1, 1 thread" in out


def test_auto_meta_compares_the_found_cell_with_the_hand_designed_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    results = _load("nn_auto_meta").main(
        ["--trials", "4", "--search-iterations", "3", "--final-iterations", "3"]
    )
    assert results["found"] > 0 and results["hand-designed"] > 0
    out = capsys.readouterr().out
    assert "found cell: ops [" in out and "hand-designed: meta-test MSE" in out
