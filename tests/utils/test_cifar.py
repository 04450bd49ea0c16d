"""The projected CIFAR-10 builder: the recipe, the official format, the safe unpickler."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest

import automorph as am
from automorph.cli import main as cli_main
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


def _s(text: bytes) -> bytes:
    """A Python 2 `str` in a pickle: SHORT_BINSTRING or BINSTRING."""
    if len(text) < 256:
        return b"U" + bytes([len(text)]) + text
    return b"T" + struct.pack("<i", len(text)) + text


def _i(value: int) -> bytes:
    """An int in a pickle: BININT1 or BININT."""
    return b"K" + bytes([value]) if 0 <= value < 256 else b"J" + struct.pack("<i", value)


def py2_pickle(batch: dict[bytes, object]) -> bytes:
    """The bytes Python 2's cPickle (protocol 2) writes for a CIFAR-10 batch, as in the release.

    Strings are Python 2 `str` (read back as bytes), and a uint8 array is
    `numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), 'b')` with the state
    `(1, shape, numpy.dtype('u1', 0, 1) + its state, False, raw bytes)`.
    """
    out = [b"\x80\x02}("]
    for key, value in batch.items():
        out.append(_s(key))
        if isinstance(value, np.ndarray):
            dtype = (
                b"cnumpy\ndtype\n" + _s(b"u1") + _i(0) + _i(1) + b"\x87R"
                + b"(" + _i(3) + _s(b"|") + b"NNN" + _i(-1) + _i(-1) + _i(0) + b"tb"
            )  # fmt: skip
            out.append(
                b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
                + _i(0) + b"\x85" + _s(b"b") + b"\x87R"
                + b"(" + _i(1) + _i(value.shape[0]) + _i(value.shape[1]) + b"\x86"
                + dtype + b"\x89" + _s(value.tobytes()) + b"tb"
            )  # fmt: skip
        elif isinstance(value, list):
            items = (_i(v) if isinstance(v, int) else _s(v) for v in value)
            out.append(b"](" + b"".join(items) + b"e")
        elif isinstance(value, bytes):
            out.append(_s(value))
        else:
            assert isinstance(value, int)
            out.append(_i(value))
    return b"".join([*out, b"u."])


def _tarball(path: Path, members: dict[str, object], *, py2: bool = True) -> Path:
    """A tar.gz of `cifar-10-batches-py/NAME` members; dicts pickled as Python 2 did."""
    with tarfile.open(path, "w:gz") as archive:
        for name, value in members.items():
            if isinstance(value, bytes):
                raw = value
            elif py2:
                raw = py2_pickle(value)  # type: ignore[arg-type]
            else:
                raw = pickle.dumps(value, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
    return path


def test_the_python2_writer_gives_what_numpy_reads() -> None:
    batch = _batch(np.random.default_rng(5), 2, "b")
    read = pickle.loads(py2_pickle(batch), encoding="bytes")
    assert np.array_equal(read[b"data"], batch[b"data"]) and read[b"labels"] == batch[b"labels"]


def _release(
    path: Path, seed: int = 0, *, py2: bool = True
) -> tuple[Path, dict[str, dict[bytes, object]]]:
    rng = np.random.default_rng(seed)
    batches = {
        f"data_batch_{i}": _batch(rng, 2 + i % 2, f"training batch {i} of 5") for i in range(1, 6)
    }
    batches["test_batch"] = _batch(rng, 3, "testing batch 1 of 1")
    meta = {b"label_names": [name.encode() for name in LABELS], b"num_vis": 3072}
    return _tarball(path, {**batches, "batches.meta": meta}, py2=py2), batches


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


def test_an_extracted_folder_and_python3_pickles_work_too(tmp_path: Path) -> None:
    source, batches = _release(tmp_path / "c.tar.gz", seed=1, py2=False)
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
    source = _tarball(tmp_path / "evil.tar.gz", {**batches, "data_batch_1": evil}, py2=False)
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
    assert cli_main(["data", "where", "--data", str(out)]) == 1  # no Fashion-MNIST there
    where = capsys.readouterr().out
    assert f"cifar10_projected: {out / 'cifar10_projected.npz'}\n" in where
    assert f"fashion_mnist: not found; looked in:\n    {out / 'fashion_mnist.npz'} (given)" in where
    assert data_main(["build-cifar10", "--source", str(tmp_path / "none.tgz")]) == 1
    assert "automorph data: error: no CIFAR-10 release at" in capsys.readouterr().err
    assert data_main(["where", "--data", str(tmp_path / "empty")]) == 1
    assert "not found; looked in:" in capsys.readouterr().out
