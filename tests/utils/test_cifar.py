"""The projected CIFAR-10 builder: the recipe, the official format, the safe unpickler."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

import automorph as am
from automorph.cli._data import main as data_main
from automorph.utils import (
    PROJECTION_SHA256,
    build_cifar10_projected,
    cifar10_projection,
    load_data,
    read_cifar10_python,
)

LABELS = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _batch(rng: np.random.Generator, n: int, name: str) -> dict[bytes, object]:
    """A batch as the official release pickles it: bytes keys, uint8 (n, 3072), a label list."""
    return {
        b"batch_label": name.encode(),
        b"labels": [int(v) for v in rng.integers(0, 10, n)],
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        b"filenames": [f"img_{i}.png".encode() for i in range(n)],
    }


def _tarball(path: Path, members: dict[str, object]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, value in members.items():
            raw = value if isinstance(value, bytes) else pickle.dumps(value, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
    return path


def _release(path: Path, seed: int = 0) -> tuple[Path, dict[str, dict[bytes, object]]]:
    rng = np.random.default_rng(seed)
    batches = {
        f"data_batch_{i}": _batch(rng, 2 + i % 2, f"training batch {i} of 5") for i in range(1, 6)
    }
    batches["test_batch"] = _batch(rng, 3, "testing batch 1 of 1")
    meta = {b"label_names": [name.encode() for name in LABELS], b"num_vis": 3072}
    return _tarball(path, {**batches, "batches.meta": meta}), batches


def _recipe(pixels: np.ndarray, d: int) -> np.ndarray:
    """The README's recipe, written out independently of the builder."""
    projection = np.random.default_rng(seed=0).standard_normal((3072, d)) / np.sqrt(3072)
    return ((pixels.astype(np.float64) / 255.0) @ projection).astype(np.float32)


def test_the_builder_follows_the_recipe_on_a_tarball_in_the_official_format(
    tmp_path: Path,
) -> None:
    source, batches = _release(tmp_path / "cifar-10-python.tar.gz")
    target = build_cifar10_projected(source, tmp_path / "out")
    assert target == tmp_path / "out" / "cifar10_projected.npz"
    train = [batches[f"data_batch_{i}"] for i in range(1, 6)]
    x_train = np.concatenate([b[b"data"] for b in train])  # type: ignore[misc]
    y_train = np.concatenate([b[b"labels"] for b in train])  # type: ignore[misc]
    test = batches["test_batch"]
    with np.load(target) as built:
        assert sorted(built.files) == sorted(
            ["x16_train", "x16_test", "x64_train", "x64_test", "y_train", "y_test",
             "proj16", "proj64", "label_names"]
        )  # fmt: skip
        for d in (16, 64):
            assert built[f"x{d}_train"].dtype == np.float32
            assert np.array_equal(built[f"x{d}_train"], _recipe(x_train, d))
            assert np.array_equal(built[f"x{d}_test"], _recipe(test[b"data"], d))  # type: ignore[arg-type]
        assert built["y_train"].dtype == np.uint8 and built["y_train"].tolist() == y_train.tolist()
        assert built["y_test"].tolist() == test[b"labels"]
        assert built["label_names"].tolist() == LABELS and built["label_names"].dtype == "<U10"
    assert load_data("cifar10_projected", tmp_path / "out")["x16_test"].shape == (3, 16)


def test_the_projections_have_the_reference_sha256() -> None:
    for d in (16, 64):
        stored = cifar10_projection(d).astype(np.float32)
        assert hashlib.sha256(stored.tobytes()).hexdigest() == PROJECTION_SHA256[d]
    # A fresh generator per size: proj16 is not the first 16 columns of proj64.
    assert not np.array_equal(cifar10_projection(16), cifar10_projection(64)[:, :16])


def test_the_projections_equal_those_of_the_copy_the_tests_use(cifar10_path: Path) -> None:
    with np.load(cifar10_path) as reference:
        for d in (16, 64):
            digest = hashlib.sha256(np.ascontiguousarray(reference[f"proj{d}"]).tobytes())
            assert digest.hexdigest() == PROJECTION_SHA256[d]
            built = cifar10_projection(d).astype(np.float32)
            assert hashlib.sha256(built.tobytes()).hexdigest() == digest.hexdigest()


def test_an_extracted_folder_works_too(tmp_path: Path) -> None:
    source, batches = _release(tmp_path / "c.tar.gz", seed=1)
    with tarfile.open(source) as archive:
        archive.extractall(tmp_path / "x", filter="data")
    raw = read_cifar10_python(tmp_path / "x")
    assert np.array_equal(raw["x_test"], batches["test_batch"][b"data"])  # type: ignore[arg-type]
    assert raw["x_train"].shape == (13, 3072)  # 3 + 2 + 3 + 2 + 3 images


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch pwned",))


def test_a_pickle_that_asks_for_code_is_refused(tmp_path: Path) -> None:
    _, batches = _release(tmp_path / "ok.tar.gz")
    evil = dict(batches["data_batch_1"])
    evil[b"labels"] = _Evil()
    source = _tarball(tmp_path / "evil.tar.gz", {**batches, "data_batch_1": evil})
    with pytest.raises(
        am.BenchmarkDataError, match=r"data_batch_1: the pickle asks for `(posix|nt)\.system`"
    ):
        read_cifar10_python(source)
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_malformed_releases_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(am.BenchmarkDataError, match=r"no CIFAR-10 release at .*nope\.tar\.gz"):
        read_cifar10_python(tmp_path / "nope.tar.gz")
    (tmp_path / "junk.tar.gz").write_bytes(b"junk")
    with pytest.raises(am.BenchmarkDataError, match=r"cannot open .*junk\.tar\.gz' as a tar file"):
        read_cifar10_python(tmp_path / "junk.tar.gz")
    _, batches = _release(tmp_path / "ok.tar.gz")
    partial = _tarball(tmp_path / "partial.tar.gz", {"data_batch_1": batches["data_batch_1"]})
    with pytest.raises(am.BenchmarkDataError, match=r"no cifar-10-batches-py/data_batch_2"):
        read_cifar10_python(partial)
    bad = dict(batches["data_batch_3"])
    bad[b"data"] = np.zeros((2, 100), np.uint8)
    with pytest.raises(am.BenchmarkDataError, match=r"'data' must be a uint8 array \(N, 3072\)"):
        read_cifar10_python(_tarball(tmp_path / "bad.tar.gz", {**batches, "data_batch_3": bad}))
    bad[b"data"], bad[b"labels"] = batches["data_batch_3"][b"data"], [0, 12, 1]
    with pytest.raises(am.BenchmarkDataError, match=r"'labels' must be 3 classes in 0\.\.9"):
        read_cifar10_python(_tarball(tmp_path / "bad2.tar.gz", {**batches, "data_batch_3": bad}))
    text = _tarball(tmp_path / "text.tar.gz", {**batches, "test_batch": b"not a pickle"})
    with pytest.raises(am.BenchmarkDataError, match=r"test_batch: not a CIFAR-10 batch"):
        read_cifar10_python(text)


def test_the_build_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, _ = _release(tmp_path / "cifar-10-python.tar.gz")
    out = tmp_path / "data"
    assert data_main(["build-cifar10", "--source", str(source), "--output", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out / 'cifar10_projected.npz'}\n"
    assert data_main(["where", "--data", str(out)]) == 1  # no Fashion-MNIST there
    where = capsys.readouterr().out
    assert f"cifar10_projected: {out / 'cifar10_projected.npz'}\n" in where
    assert f"fashion_mnist: not found; looked in:\n    {out / 'fashion_mnist.npz'} (given)" in where
    assert data_main(["build-cifar10", "--source", str(tmp_path / "none.tgz")]) == 1
    assert "automorph data: error: no CIFAR-10 release at" in capsys.readouterr().err
    assert data_main(["where", "--data", str(tmp_path / "empty")]) == 1
    assert "not found; looked in:" in capsys.readouterr().out
