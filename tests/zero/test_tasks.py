"""Task generation: seeds, teachers, projected image tasks and their errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import automorph as am
from automorph.cli._zero import main as zero_main
from automorph.utils import DataNotFoundError
from automorph.zero import HELD_OUT_PAIRS, ConfigError, TaskDataError, TaskSpec, load_images


def test_default_seeds_follow_the_original() -> None:
    data, params = TaskSpec(num_tasks=10).seeds()
    assert params[:8] == [1001, 1012, 1010, 1000, 1006, 1008, 1007, 1003]
    assert params[8:] == [1004, 1005] and data[0] == 11001 and data[9] == 11005
    assert TaskSpec(num_tasks=3, data_seeds=[5]).seeds()[0] == [5, 6, 7]


def test_linear_tasks_are_deterministic_and_linear() -> None:
    a = TaskSpec(num_tasks=2, num_epochs=3).build()
    b = TaskSpec(num_tasks=2, num_epochs=3).build()
    assert np.array_equal(a.x, b.x) and np.array_equal(a.order, b.order)
    assert list(a.order[0, 0]) == list(range(100))  # epoch 1 in natural order
    assert sorted(a.order[0, 1]) == list(range(100)) and list(a.order[0, 1]) != list(range(100))
    w, *_ = np.linalg.lstsq(a.x[0], a.y[0], rcond=None)
    assert np.allclose(a.x_valid[0] @ w, a.y_valid[0])


def test_nonlinear_teacher_ignores_zeroed_units() -> None:
    tasks = TaskSpec("nonlinear", features=8, num_tasks=1).build()
    assert tasks.y.std() > 0 and not tasks.accuracy


def test_image_tasks_errors() -> None:
    with pytest.raises(
        DataNotFoundError, match=r"no cifar10_projected data .*looked in: /nowhere/x\.npz \(given\)"
    ):
        TaskSpec("cifar10", features=16, data_path="/nowhere/x.npz").build()
    with pytest.raises(ConfigError, match=r"TaskSpec.kind must be one of"):
        TaskSpec("mnist")
    with pytest.raises(ConfigError, match=r"TaskSpec.pairs: \[3, 3\]"):
        TaskSpec("cifar10", pairs=[[3, 3]])
    with pytest.raises(ConfigError, match=r"TaskSpec.num_train must be >= 1, got 0"):
        TaskSpec(num_train=0)


def test_wrong_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    np.savez(bad, other=np.zeros(3))
    with pytest.raises(TaskDataError, match="has no array 'x16_train'"):
        load_images("cifar10", str(bad))
    with pytest.raises(ConfigError, match=r"image data is one of \['cifar10', 'fashion_mnist'\]"):
        load_images("mnist")
    assert issubclass(TaskDataError, am.AutomorphError)


def test_missing_image_data_lists_the_places_and_the_recipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOMORPH_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(DataNotFoundError) as info:
        load_images("cifar10")
    message = str(info.value)
    assert f"{tmp_path}/env/cifar10_projected.npz ($AUTOMORPH_DATA)" in message
    assert f"{tmp_path}/cache/automorph/cifar10_projected.npz (user data folder)" in message
    assert "automorph data build-cifar10 --source" in message
    assert "default_rng(0).standard_normal((3072, d)) / sqrt(3072)" in message


def test_zero_run_takes_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = zero_main(["run", "--config", "cifar10-binary", "--data", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert f"looked in: {tmp_path}/cifar10_projected.npz (given)" in err


def test_cifar_binary_tasks_from_a_data_folder(
    cifar10_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUTOMORPH_DATA")
    spec = TaskSpec("cifar10", features=16, num_train=50, num_valid=10, num_tasks=1,
                    pairs=[[0, 1]], data_path=str(cifar10_path.parent))  # fmt: skip
    assert spec.build().x.shape == (1, 50, 16)


def test_fashion_mnist_tasks(fashion_mnist_path: Path) -> None:
    spec = TaskSpec("fashion_mnist", features=8, num_train=100, num_valid=20, num_tasks=2)
    tasks = spec.build()
    assert tasks.accuracy and tasks.x.shape == (2, 100, 8)
    assert set(np.unique(tasks.y)) == {0.0, 1.0}


@pytest.mark.usefixtures("cifar10_path")
def test_cifar_binary_tasks() -> None:
    spec = TaskSpec("cifar10", features=16, num_train=500, num_valid=100, num_tasks=2,
                    pairs=[[0, 1]])  # fmt: skip
    tasks = spec.build()
    assert tasks.accuracy and tasks.x.shape == (2, 500, 16)
    assert set(np.unique(tasks.y)) == {0.0, 1.0}
    assert np.allclose(tasks.x[0].mean(axis=0), 0.0, atol=1e-9)
    held = TaskSpec("cifar10", features=16, num_train=50, num_valid=10, held_out=True)
    assert held.build().num_tasks == 10 and (4, 6) in HELD_OUT_PAIRS
    with pytest.raises(ConfigError, match="projected to 16 or 64 features; features=8"):
        TaskSpec("cifar10", features=8, num_tasks=1).build()


@pytest.mark.usefixtures("cifar10_path")
def test_hand_written_baselines_on_held_out_pairs() -> None:
    # The paper's reference accuracies on these tasks: logistic regression 0.702, NN 0.729.
    from automorph.zero import Memory, evaluate_program, linear_program, neural_net_program

    spec = TaskSpec("cifar10", features=16, num_train=8000, num_valid=1000, num_tasks=9,
                    pairs=[list(p) for p in HELD_OUT_PAIRS])  # fmt: skip
    tasks = spec.build()
    linear, _ = evaluate_program(linear_program(), tasks, Memory(5, 9, 2))
    network, _ = evaluate_program(neural_net_program(), tasks, Memory(5, 9, 2))
    assert 0.68 < linear < 0.72 and 0.71 < network < 0.75 and network > linear
