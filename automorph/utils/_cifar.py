"""Builds `cifar10_projected.npz` from the official CIFAR-10 python release.

The release (`cifar-10-python.tar.gz`, https://www.cs.toronto.edu/~kriz/cifar.html)
holds pickled batches `data_batch_1` .. `data_batch_5`, `test_batch` and
`batches.meta`. They are read with a restricted unpickler that builds only
numpy arrays, dicts, lists, strings and numbers: a pickle that asks for any
other global (which could run code) is refused.

The projections follow `automorph.utils._data.CIFAR10_RECIPE`. What has been
verified: the projection matrices `proj16` and `proj64` this module draws
have the sha256 of those in the reference copy the tests use
(`PROJECTION_SHA256`), and the arrays built from a small tarball in the
official format equal the recipe's. The reference copy itself was made from
JPEG re-encodings of CIFAR-10 (the official release could not be fetched
where it was made), so its `x16_*`/`x64_*` arrays differ from the ones built
here from the official pixels (median relative difference about 6%); labels,
order and projection matrices are the same.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import pickle
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from automorph.utils._errors import BenchmarkDataError

__all__ = [
    "CIFAR10_DIMS",
    "PROJECTION_SHA256",
    "build_cifar10_projected",
    "cifar10_projection",
    "read_cifar10_python",
]

CIFAR10_DIMS = (16, 64)
"""The projected sizes stored in `cifar10_projected.npz`."""

PROJECTION_SHA256 = {
    16: "be2c5f3886b7b89f7da4324fc7a1e5a1633176298b17e2f40a1c7abd719741fc",
    64: "7f49ff7b4f01f9ee207965d641aa7e2acb9a9e754f4f8facdb3178be2c41e7bf",
}
"""sha256 of the float32 bytes (C order) of `proj16` and `proj64` in the reference copy."""

_PIXELS = 3072
_FOLDER = "cifar-10-batches-py"
_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_TEST = "test_batch"
_META = "batches.meta"


def cifar10_projection(d: int) -> NDArray[np.float64]:
    """The (3072, d) projection: a fresh `default_rng(0)` normal draw over sqrt(3072).

    >>> cifar10_projection(16).shape
    (3072, 16)
    """
    rng = np.random.default_rng(0)
    return np.asarray(rng.standard_normal((_PIXELS, d)) / np.sqrt(_PIXELS), dtype=np.float64)


def _allowed_globals() -> dict[tuple[str, str], Any]:
    reconstruct = np.zeros(1).__reduce__()[0]
    scalar = np.float64(0).__reduce__()[0]
    allowed: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): codecs.encode,
    }
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "_reconstruct")] = reconstruct
        allowed[(module, "scalar")] = scalar
    return allowed


class _BatchUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and plain data only; any other global is refused."""

    def __init__(self, file: io.BufferedIOBase, source: str) -> None:
        super().__init__(file, encoding="bytes")
        self._source = source
        self._allowed = _allowed_globals()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise BenchmarkDataError(
                f"{self._source}: the pickle asks for `{module}.{name}`, which a CIFAR-10 "
                "batch never holds; refusing to load it (only numpy arrays and plain data "
                "are allowed)"
            ) from None


def _unpickle(raw: bytes, source: str) -> dict[str, Any]:
    try:
        value = _BatchUnpickler(io.BytesIO(raw), source).load()
    except BenchmarkDataError:
        raise
    except Exception as error:
        raise BenchmarkDataError(f"{source}: not a CIFAR-10 batch ({error!r})") from error
    if not isinstance(value, dict):
        raise BenchmarkDataError(f"{source}: expected a dict, got {type(value).__name__}")
    return {_text(key): item for key, item in value.items()}


def _text(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _reader(source: Path) -> Callable[[str], bytes]:
    """A function from a member name (`data_batch_1`) to its bytes, for a tarball or a folder."""
    if source.is_dir():
        folder = source / _FOLDER if (source / _FOLDER).is_dir() else source

        def from_folder(name: str) -> bytes:
            path = folder / name
            if not path.is_file():
                raise BenchmarkDataError(f"{folder}: no {name} (is it {_FOLDER}?)")
            return path.read_bytes()

        return from_folder
    try:
        archive = tarfile.open(source, "r:*")
    except (OSError, tarfile.TarError) as error:
        raise BenchmarkDataError(f"cannot open {str(source)!r} as a tar file: {error}") from error
    members = {Path(m.name).name: m for m in archive.getmembers() if m.isfile()}

    def from_tar(name: str) -> bytes:
        member = members.get(name)
        handle = archive.extractfile(member) if member is not None else None
        if handle is None:
            raise BenchmarkDataError(
                f"{source}: no {_FOLDER}/{name} in the archive (is it cifar-10-python.tar.gz?)"
            )
        with handle:
            return handle.read()

    return from_tar


def _batch(read: Callable[[str], bytes], name: str, source: Path) -> tuple[NDArray[Any], ...]:
    where = f"{source}:{name}"
    batch = _unpickle(read(name), where)
    if "data" not in batch or "labels" not in batch:
        raise BenchmarkDataError(f"{where}: no 'data' or 'labels' (keys: {sorted(batch)})")
    pixels, labels = batch["data"], np.asarray(batch["labels"])
    if (
        not isinstance(pixels, np.ndarray)
        or pixels.dtype != np.uint8
        or pixels.ndim != 2
        or pixels.shape[1] != _PIXELS
    ):
        raise BenchmarkDataError(
            f"{where}: 'data' must be a uint8 array (N, {_PIXELS}), got "
            f"{getattr(pixels, 'dtype', type(pixels).__name__)} {getattr(pixels, 'shape', '')}"
        )
    if labels.shape != (len(pixels),) or not np.isin(labels, np.arange(10)).all():
        raise BenchmarkDataError(f"{where}: 'labels' must be {len(pixels)} classes in 0..9")
    return pixels, labels.astype(np.uint8)


def read_cifar10_python(
    source: str | os.PathLike[str],
) -> dict[str, NDArray[Any]]:
    """The pixels and labels of the CIFAR-10 python release, in canonical order.

    Args:
        source: `cifar-10-python.tar.gz` (any compression `tarfile` reads), or
            its extracted `cifar-10-batches-py` folder (or the folder above it).

    Returns:
        `x_train` (N, 3072) and `x_test` uint8 in CIFAR-10's channel-major
        layout, `y_train` and `y_test` uint8, `label_names` (str).

    Raises:
        BenchmarkDataError: If a batch is missing or malformed, or a pickle
            asks for anything but numpy arrays and plain data.
    """
    path = Path(source).expanduser()
    if not path.exists():
        raise BenchmarkDataError(
            f"no CIFAR-10 release at {str(path)!r}: download cifar-10-python.tar.gz from "
            "https://www.cs.toronto.edu/~kriz/cifar.html and pass its path"
        )
    read = _reader(path)
    train = [_batch(read, name, path) for name in _TRAIN]
    test_x, test_y = _batch(read, _TEST, path)
    meta = _unpickle(read(_META), f"{path}:{_META}")
    names = [_text(name) for name in meta.get("label_names", [])]
    if len(names) != 10:
        raise BenchmarkDataError(f"{path}:{_META}: expected 10 'label_names', got {names}")
    return {
        "x_train": np.concatenate([x for x, _ in train]),
        "y_train": np.concatenate([y for _, y in train]),
        "x_test": test_x,
        "y_test": test_y,
        "label_names": np.array(names, dtype="<U10"),
    }


def _project(pixels: NDArray[np.uint8], projection: NDArray[np.float64]) -> NDArray[np.float32]:
    """`(pixels / 255.0) @ projection` in float64, as float32, 10,000 images at a time."""
    parts = [
        ((pixels[start : start + 10_000].astype(np.float64) / 255.0) @ projection).astype(
            np.float32
        )
        for start in range(0, len(pixels), 10_000)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, projection.shape[1]), np.float32)


def build_cifar10_projected(source: str | os.PathLike[str], output: str | os.PathLike[str]) -> Path:
    """Writes `cifar10_projected.npz` from the official CIFAR-10 python release.

    Each image is flattened in CIFAR-10's layout (3 channels x 32 x 32,
    channel-major), scaled by `/ 255.0` in float64 and projected with
    `cifar10_projection(d)` for d in (16, 64) in float64; the projections are
    stored as float32 (`x16_train`, `x16_test`, `x64_train`, `x64_test`), with
    `proj16`, `proj64` (float32), `y_train`, `y_test` (uint8) and `label_names`.

    Args:
        source: The release tarball or its extracted folder (`read_cifar10_python`).
        output: A folder (the file is `cifar10_projected.npz` in it, made if
            needed) or the path of the `.npz` file.

    Returns:
        The file written.

    Raises:
        BenchmarkDataError: If the release cannot be read, or this numpy draws
            projection matrices other than the reference ones (then the arrays
            would not match other copies).
    """
    raw = read_cifar10_python(source)
    arrays: dict[str, NDArray[Any]] = {}
    for d in CIFAR10_DIMS:
        projection = cifar10_projection(d)
        stored = projection.astype(np.float32)
        digest = hashlib.sha256(stored.tobytes()).hexdigest()
        if digest != PROJECTION_SHA256[d]:
            raise BenchmarkDataError(
                f"numpy {np.__version__} draws a different proj{d} (sha256 {digest}, expected "
                f"{PROJECTION_SHA256[d]}); the projections would not match other copies"
            )
        for split in ("train", "test"):
            arrays[f"x{d}_{split}"] = _project(raw[f"x_{split}"], projection)
        arrays[f"proj{d}"] = stored
    arrays.update(y_train=raw["y_train"], y_test=raw["y_test"], label_names=raw["label_names"])
    target = Path(output).expanduser()
    if target.suffix != ".npz":
        target.mkdir(parents=True, exist_ok=True)
        target = target / "cifar10_projected.npz"
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
    np.savez(target, **arrays)  # type: ignore[arg-type]
    return target
