"""The image-data resolver: the order of places, the IDX reader and the errors."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np
import pytest

import automorph as am
from automorph.utils import (
    DATA_ENV,
    DataNotFoundError,
    _data,
    data_locations,
    find_data,
    load_data,
    read_idx,
    user_data_dir,
)

IDX = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _fashion(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 5, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 3, dtype=np.uint8),
    }


def _write_idx(folder: Path, arrays: dict[str, np.ndarray], *, gz: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for key, stem in IDX.items():
        raw = _idx_bytes(arrays[key])
        if gz:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / stem).write_bytes(raw)
    return folder


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Empty environment folder, user cache and Debian folder, all under tmp_path."""
    folders = {
        "env": tmp_path / "env",
        "cache": tmp_path / "cache",
        "debian": tmp_path / "debian" / "fashion-mnist",
    }
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv(DATA_ENV, str(folders["env"]))
    monkeypatch.setenv("XDG_CACHE_HOME", str(folders["cache"]))
    monkeypatch.setattr(_data, "DEBIAN_FASHION_MNIST", folders["debian"])
    return folders


def test_places_are_looked_in_order(places: dict[str, Path], tmp_path: Path) -> None:
    debian = _write_idx(places["debian"], _fashion(0))
    assert find_data("fashion_mnist") == debian
    assert np.array_equal(load_data("fashion_mnist")["x_test"], _fashion(0)["x_test"])
    cache = places["cache"] / "automorph"
    cache.mkdir(parents=True)
    np.savez(cache / "fashion_mnist.npz", **_fashion(1))
    assert find_data("fashion_mnist") == cache / "fashion_mnist.npz"
    places["env"].mkdir()
    np.savez(places["env"] / "fashion_mnist.npz", **_fashion(2))
    assert find_data("fashion_mnist") == places["env"] / "fashion_mnist.npz"
    given = tmp_path / "given"
    given.mkdir()
    np.savez(given / "mine.npz", **_fashion(3))
    assert find_data("fashion_mnist", given / "mine.npz") == given / "mine.npz"
    np.savez(given / "fashion_mnist.npz", **_fashion(3))
    assert find_data("fashion_mnist", given) == given / "fashion_mnist.npz"
    arrays = load_data("fashion_mnist", str(given))
    assert np.array_equal(arrays["y_train"], _fashion(3)["y_train"])
    assert arrays["label_names"][0] == "T-shirt/top"
    assert [why for _, why in data_locations("fashion_mnist")] == [
        "$AUTOMORPH_DATA",
        "user data folder",
        "Debian's dataset-fashion-mnist",
    ]


def test_a_folder_of_idx_files_is_fashion_mnist(places: dict[str, Path], tmp_path: Path) -> None:
    folder = _write_idx(tmp_path / "raw", _fashion(4), gz=False)
    assert find_data("fashion_mnist", folder) == folder
    arrays = load_data("fashion_mnist", folder)
    for key, value in _fashion(4).items():
        assert arrays[key].dtype == np.uint8 and np.array_equal(arrays[key], value)
    _write_idx(places["env"], _fashion(5))  # IDX files in the $AUTOMORPH_DATA folder
    assert find_data("fashion_mnist") == places["env"]


def test_a_path_given_is_the_only_place_looked(places: dict[str, Path], tmp_path: Path) -> None:
    _write_idx(places["debian"], _fashion(0))
    with pytest.raises(DataNotFoundError, match=r"looked in: .*nope\.npz \(given\)\. Pass"):
        find_data("fashion_mnist", tmp_path / "nope.npz")


def test_missing_data_lists_every_place_and_how_to_get_it(places: dict[str, Path]) -> None:
    with pytest.raises(DataNotFoundError) as info:
        find_data("fashion_mnist")
    message = str(info.value)
    assert f"{places['env']}/fashion_mnist.npz ($AUTOMORPH_DATA)" in message
    assert f"{places['cache']}/automorph/fashion_mnist.npz (user data folder)" in message
    assert f"{places['debian']} (Debian's dataset-fashion-mnist)" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, am.AutomorphError)
    with pytest.raises(DataNotFoundError, match=r"automorph data build-cifar10 .*sqrt\(3072\)"):
        find_data("cifar10_projected")


def test_without_the_variable_the_message_says_it_is_unset(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DATA_ENV)
    with pytest.raises(DataNotFoundError, match=r"\(\$AUTOMORPH_DATA is not set\)"):
        find_data("cifar10_projected")


def test_unknown_data_set_and_missing_arrays(places: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(am.BenchmarkDataError, match=r"unknown data set 'mnist'; known: \["):
        find_data("mnist")
    np.savez(tmp_path / "cifar.npz", y_train=np.zeros(3))
    with pytest.raises(am.BenchmarkDataError, match=r"has no array 'x16_train' \(is it the"):
        load_data("cifar10_projected", tmp_path / "cifar.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(am.BenchmarkDataError, match=r"cannot read fashion_mnist data from"):
        load_data("fashion_mnist", tmp_path / "junk.npz")


def test_user_data_dir_per_platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert user_data_dir() == tmp_path / ".cache" / "automorph"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert user_data_dir() == tmp_path / ".cache" / "automorph"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_data_dir() == tmp_path / "xdg" / "automorph"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert user_data_dir() == tmp_path / "Library" / "Caches" / "automorph"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "Local"))
    assert user_data_dir() == tmp_path / "Local" / "automorph" / "Cache"


def test_read_idx_checks_the_header_and_the_size(tmp_path: Path) -> None:
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a").write_bytes(_idx_bytes(array))
    assert np.array_equal(read_idx(tmp_path / "a"), array)
    wide = np.arange(6, dtype=">i4").reshape(2, 3)
    header = bytes([0, 0, 0x0C, 2]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
    (tmp_path / "b.gz").write_bytes(gzip.compress(header + wide.tobytes()))
    read = read_idx(tmp_path / "b.gz")
    assert read.dtype == np.int32 and read.tolist() == [[0, 1, 2], [3, 4, 5]]
    (tmp_path / "c").write_bytes(b"PK\x03\x04junk")
    with pytest.raises(am.BenchmarkDataError, match=r"is not an IDX file: its first bytes '504b"):
        read_idx(tmp_path / "c")
    (tmp_path / "d").write_bytes(_idx_bytes(array)[:-1])
    with pytest.raises(am.BenchmarkDataError, match=r"shape \(2, 3, 4\) has 40 bytes, this one 39"):
        read_idx(tmp_path / "d")
    with pytest.raises(am.BenchmarkDataError, match=r"cannot read IDX file"):
        read_idx(tmp_path / "missing.gz")


def test_debian_files_equal_the_npz_copy(fashion_mnist_path: Path) -> None:
    debian = _data.DEBIAN_FASHION_MNIST
    if not (debian / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"no Debian dataset-fashion-mnist files in {debian}")
    if fashion_mnist_path.is_dir():
        pytest.skip("the resolver found no fashion_mnist.npz to compare with")
    from_idx = load_data("fashion_mnist", debian)
    from_npz = load_data("fashion_mnist", fashion_mnist_path)
    for key in ("x_train", "y_train", "x_test", "y_test", "label_names"):
        assert from_idx[key].dtype == from_npz[key].dtype and np.array_equal(
            from_idx[key], from_npz[key]
        ), key
