"""Searches over one space: ENAS, DARTS and independent training."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import automorph as am
from automorph import algorithms

torch = pytest.importorskip("torch")
from automorph import nn as amnn  # noqa: E402


def _zero_or_conv() -> Any:
    # One edge: Zero gives chance accuracy, the convolution can learn the task.
    return amnn.cell_space(
        4, nodes=1, num_classes=2, input_shape=(1, 8, 8), ops=[amnn.Zero(), amnn.ConvBNReLU(4, 3)]
    )


def test_enas_with_any_algorithm_finds_the_useful_candidate(images: Any) -> None:
    train, valid = images
    for algorithm in (
        algorithms.Random(seed=0),
        algorithms.regularized_evolution(4, 2, seed=0),
        algorithms.create("reinforce", seed=0),  # the RL controller: rewards from the supernet
    ):
        result = amnn.enas_search(_zero_or_conv(), train, valid, algorithm, steps=30, batch_size=32)
        assert result.dna == am.DNA({"cell.edges[0]": 1})
        assert result.score > 0.8
        assert len(result.history) == 30 and algorithm.num_feedback == 30
        assert isinstance(result.model, torch.nn.Module) and result.supernet is not None


def test_darts_moves_architecture_weight_to_the_useful_candidate(images: Any) -> None:
    train, valid = images
    result = amnn.darts_search(_zero_or_conv(), train, valid, steps=40, batch_size=32, arch_lr=0.05)
    assert result.dna == am.DNA({"cell.edges[0]": 1})
    assert result.supernet is not None
    zero, conv = result.supernet.alphas()["cell.edges[0]"]
    assert conv > zero


def test_searches_are_reproducible_from_the_seed(images: Any) -> None:
    train, valid = images
    space = amnn.cell_space(4, nodes=2, num_classes=2, input_shape=(1, 8, 8))
    runs = [
        amnn.enas_search(space, train, valid, algorithms.Random(seed=3), steps=6, seed=3)
        for _ in range(2)
    ]
    assert runs[0].history == runs[1].history and runs[0].dna == runs[1].dna
    darts = [amnn.darts_search(space, train, valid, steps=4, seed=1) for _ in range(2)]
    assert darts[0].supernet is not None and darts[1].supernet is not None
    assert darts[0].supernet.alphas() == darts[1].supernet.alphas()


def test_one_argument_switches_weight_sharing_and_independent_training(images: Any) -> None:
    train, valid = images
    space = _zero_or_conv()
    found = {
        method: amnn.search(
            space, train, valid, algorithms.Random(seed=0), method=method, budget=60
        )
        for method in ("enas", "darts", "independent")
    }
    assert all(result.dna == am.DNA({"cell.edges[0]": 1}) for result in found.values())
    assert len(found["independent"].history) == 1  # budget // 50 models trained from scratch
    assert found["independent"].supernet is None
    with pytest.raises(ValueError, match="`method` must be 'enas', 'darts' or 'independent'"):
        amnn.search(space, train, valid, method="bayes")  # type: ignore[arg-type]


def test_independent_search_takes_any_hyper_value(images: Any) -> None:
    train, valid = images
    space = amnn.Network(
        am.oneof([amnn.Pool("max"), amnn.Identity()]), am.oneof([2, 4]), 2, (1, 8, 8)
    )
    with pytest.raises(am.SearchSpaceError, match=r"candidate 0 is int \(2\) at `channels`"):
        amnn.Supernet(space)  # widths cannot share weights ...
    result = amnn.independent_search(space, train, valid, algorithms.Grid(), trials=2, steps=3)
    assert [dna for dna, _ in result.history] == [  # ... but train independently
        am.DNA({"cell": 0, "channels": 0}),
        am.DNA({"cell": 0, "channels": 1}),
    ]
    assert result.model.stem[0].out_channels in (2, 4)
    with pytest.raises(am.SearchSpaceError, match="no decision to search"):
        amnn.independent_search(amnn.Identity(), train, valid)


def test_bad_budgets_and_data_are_named(images: Any) -> None:
    train, valid = images
    space = _zero_or_conv()
    with pytest.raises(ValueError, match=r"`steps` \(0\) must be at least 1"):
        amnn.enas_search(space, train, valid, steps=0)
    wrong = amnn.ImageData(torch.zeros(4, 1, 28, 28), torch.zeros(4, dtype=torch.long))
    with pytest.raises(
        amnn.DataShapeError, match=r"images must have shape \(1, 8, 8\).*got \(1, 28, 28\)"
    ):
        amnn.fit(am.materialize(space, am.DNA({"cell.edges[0]": 1})), wrong, steps=1)
    with pytest.raises(
        amnn.DataShapeError, match=r"of shape \(N, C, H, W\), got torch.float32 of shape \(4, 8\)"
    ):
        amnn.ImageData(torch.zeros(4, 8), torch.zeros(4, dtype=torch.long))
    with pytest.raises(
        amnn.DataShapeError, match=r"labels must be an integer tensor of shape \(4,\)"
    ):
        amnn.ImageData(torch.zeros(4, 1, 8, 8), torch.zeros(3, dtype=torch.long))
    with pytest.raises(amnn.DataShapeError, match="must be torch tensors, got ndarray"):
        amnn.ImageData(np.zeros((4, 1, 8, 8)), torch.zeros(4))  # type: ignore[arg-type]


@pytest.mark.parametrize("split", ["train", "valid"])
@pytest.mark.parametrize("method", ["enas", "darts", "independent"])
def test_search_checks_the_data_shape_before_it_trains(
    images: Any, method: str, split: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    train, valid = images
    wrong = amnn.ImageData(torch.zeros(128, 3, 8, 8), torch.zeros(128, dtype=torch.long))
    data = {"train": train, "valid": valid, split: wrong}

    def no_training(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a training step ran before the data were checked")

    monkeypatch.setattr(torch.optim.SGD, "step", no_training)
    with pytest.raises(
        amnn.DataShapeError,
        match=rf"images must have shape \(1, 8, 8\).*got \(3, 8, 8\) at `{split}.x`",
    ):
        amnn.search(
            _zero_or_conv(),
            data["train"],
            data["valid"],
            method=method,  # type: ignore[arg-type]
            budget=50,
        )


def test_fashion_mnist_loads_by_path_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(
        am.BenchmarkDataError, match=r"no fashion_mnist data .*missing\.npz \(given\)"
    ):
        amnn.load_fashion_mnist(tmp_path / "missing.npz")
    np.savez(tmp_path / "bad.npz", x_train=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(am.BenchmarkDataError, match="no array 'y_train'"):
        amnn.load_fashion_mnist(tmp_path / "bad.npz")
    with pytest.raises(FileNotFoundError, match=r"looked in: .*fashion_mnist\.npz \(given\)"):
        amnn.load_fashion_mnist(tmp_path)  # neither the .npz nor the IDX files
    good = {
        "x_train": np.full((3, 28, 28), 255, np.uint8),
        "y_train": np.array([0, 1, 2], np.uint8),
        "x_test": np.zeros((2, 28, 28), np.uint8),
        "y_test": np.array([3, 4], np.uint8),
    }
    np.savez(tmp_path / "good.npz", **good)
    train, test = amnn.load_fashion_mnist(tmp_path / "good.npz")
    assert train.shape == (1, 28, 28) and len(test) == 2
    assert float(train.x.max()) == 1.0 and train.y.tolist() == [0, 1, 2]
    idx = tmp_path / "idx"
    idx.mkdir()
    for key, stem in [
        ("x_train", "train-images-idx3-ubyte"),
        ("y_train", "train-labels-idx1-ubyte"),
        ("x_test", "t10k-images-idx3-ubyte"),
        ("y_test", "t10k-labels-idx1-ubyte"),
    ]:
        array = good[key]
        header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
        (idx / stem).write_bytes(header + array.tobytes())
    train2, test2 = amnn.load_fashion_mnist(idx)
    assert torch.equal(train2.x, train.x) and torch.equal(test2.y, test.y)


def test_data_smaller_than_a_batch_is_trained_on_whole() -> None:
    from automorph.nn._train import batches

    data = amnn.ImageData(torch.zeros(3, 1, 4, 4), torch.tensor([0, 1, 2]))
    stream = batches(data, 64, torch.Generator().manual_seed(0))
    for _ in range(3):  # endless, each batch all three examples (it looped forever before)
        x, y = next(stream)
        assert x.shape[0] == 3 and sorted(y.tolist()) == [0, 1, 2]
    empty = amnn.ImageData(torch.zeros(0, 1, 4, 4), torch.zeros(0, dtype=torch.long))
    with pytest.raises(am.FieldValueError, match="no examples to train on"):
        next(batches(empty, 8, torch.Generator()))
